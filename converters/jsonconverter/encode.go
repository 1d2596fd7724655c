package jsonconverter

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters/internal/fieldpath"
	"github.com/kconnect/kconnect/converters/internal/javafmt"
)

// encoder writes JSON by hand into buf. Encoders are pooled together with their scratch space for
// sorting map keys, so converting a record allocates little more than the returned slice.
type encoder struct {
	c       *Converter
	buf     []byte
	strKeys [][]string
	anyKeys [][]mapEntry
	// hashMapOrder writes string-keyed maps in java.util.HashMap's order; see AppendHashMapOrdered.
	hashMapOrder bool
}

type mapEntry struct {
	k, v any
	enc  []byte // the key's JSON, for ordering keys that have no natural order
}

var encoderPool = sync.Pool{New: func() any { return &encoder{buf: make([]byte, 0, 2048)} }}

// maxPooledBuffer keeps one huge record from pinning its buffer in the pool forever.
const maxPooledBuffer = 1 << 20

func getEncoder(c *Converter) *encoder {
	e := encoderPool.Get().(*encoder)
	e.c = c
	e.buf = e.buf[:0]
	return e
}

func putEncoder(e *encoder) {
	if cap(e.buf) > maxPooledBuffer {
		e.buf = make([]byte, 0, 2048)
	}
	e.c = nil
	e.hashMapOrder = false
	encoderPool.Put(e)
}

func (e *encoder) null() { e.buf = append(e.buf, "null"...) }

// value writes v as its schema s says, or by its Go type when s is nil (schemaless).
func (e *encoder) value(s *connect.Schema, v any) error {
	if v == nil {
		switch {
		case s == nil:
			e.null()
			return nil
		case s.Default != nil && e.c.cfg.replaceNull:
			return e.value(s, s.Default)
		case s.Optional:
			e.null()
			return nil
		}
		return dataErr("null value for a required %s field that has no default value", s.Type)
	}
	if s == nil {
		return e.schemaless(v)
	}
	switch s.Name {
	case connect.DecimalName:
		return e.decimal(s, v)
	case connect.DateName, connect.TimeName, connect.TimestampName:
		return e.temporal(s, v)
	}
	ok := true
	switch s.Type {
	case connect.TypeInt8:
		var x int8
		if x, ok = v.(int8); ok {
			e.buf = strconv.AppendInt(e.buf, int64(x), 10)
		}
	case connect.TypeInt16:
		var x int16
		if x, ok = v.(int16); ok {
			e.buf = strconv.AppendInt(e.buf, int64(x), 10)
		}
	case connect.TypeInt32:
		var x int32
		if x, ok = v.(int32); ok {
			e.buf = strconv.AppendInt(e.buf, int64(x), 10)
		}
	case connect.TypeInt64:
		var x int64
		if x, ok = v.(int64); ok {
			e.buf = strconv.AppendInt(e.buf, x, 10)
		}
	case connect.TypeFloat32:
		var x float32
		if x, ok = v.(float32); ok {
			e.float32(x)
		}
	case connect.TypeFloat64:
		var x float64
		if x, ok = v.(float64); ok {
			e.float64(x)
		}
	case connect.TypeBoolean:
		var x bool
		if x, ok = v.(bool); ok {
			e.buf = strconv.AppendBool(e.buf, x)
		}
	case connect.TypeString:
		var x string
		if x, ok = v.(string); ok {
			e.buf = javafmt.AppendJSONString(e.buf, x)
		}
	case connect.TypeBytes:
		var x []byte
		if x, ok = v.([]byte); ok {
			e.bytes(x)
		}
	case connect.TypeArray:
		var x []any
		if x, ok = v.([]any); ok {
			return e.array(s.ValSchema, x)
		}
	case connect.TypeMap:
		return e.mapValue(s, v)
	case connect.TypeStruct:
		var st *connect.Struct
		if st, ok = v.(*connect.Struct); ok {
			if st.Schema() != s && !st.Schema().Equal(s) {
				return dataErr("struct schema %s does not match the schema %s it is written with", st.Schema(), s)
			}
			return e.structValue(st)
		}
	default:
		return dataErr("unsupported schema type %s", s.Type)
	}
	if !ok {
		return dataErr("invalid value of Go type %T for a %s schema", v, s.Type)
	}
	return nil
}

// schemaless writes a value without schema, choosing the JSON form by Go type as upstream does
// by Java class.
func (e *encoder) schemaless(v any) error {
	switch x := v.(type) {
	case int8:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case int16:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case int32:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case int64:
		e.buf = strconv.AppendInt(e.buf, x, 10)
	case float32:
		e.float32(x)
	case float64:
		e.float64(x)
	case bool:
		e.buf = strconv.AppendBool(e.buf, x)
	case string:
		e.buf = javafmt.AppendJSONString(e.buf, x)
	case []byte:
		e.bytes(x)
	case []any:
		return e.array(nil, x)
	case map[string]any:
		return e.stringMap(nil, x)
	case map[any]any:
		for k := range x {
			if _, isString := k.(string); !isString {
				return e.pairs(nil, nil, x)
			}
		}
		return e.anyStringMap(nil, x)
	case *connect.Struct:
		return dataErr("a struct needs its schema: got struct %s without one", x.Schema())
	default:
		return dataErr("Go type %T has no corresponding Connect schema type", v)
	}
	return nil
}

func (e *encoder) float64(f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		// Jackson quotes the non-finite values (QUOTE_NON_NUMERIC_NUMBERS).
		e.buf = append(e.buf, '"')
		e.buf = javafmt.AppendDouble(e.buf, f)
		e.buf = append(e.buf, '"')
		return
	}
	e.buf = javafmt.AppendDouble(e.buf, f)
}

func (e *encoder) float32(f float32) {
	if f != f || math.IsInf(float64(f), 0) {
		e.buf = append(e.buf, '"')
		e.buf = javafmt.AppendFloat(e.buf, f)
		e.buf = append(e.buf, '"')
		return
	}
	e.buf = javafmt.AppendFloat(e.buf, f)
}

func (e *encoder) bytes(b []byte) {
	e.buf = append(e.buf, '"')
	e.buf = base64.StdEncoding.AppendEncode(e.buf, b)
	e.buf = append(e.buf, '"')
}

func (e *encoder) array(elem *connect.Schema, arr []any) error {
	e.buf = append(e.buf, '[')
	for i, x := range arr {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.value(elem, x); err != nil {
			return fieldpath.AtIndex(i, err)
		}
	}
	e.buf = append(e.buf, ']')
	return nil
}

// mapValue writes a map with schema: a JSON object when keys are strings, otherwise an array of
// [key, value] pairs. Keys are written in sorted order so equal maps give equal bytes (upstream
// follows HashMap order, which no Go program can reproduce).
func (e *encoder) mapValue(s *connect.Schema, v any) error {
	objectMode := s.KeySchema != nil && s.KeySchema.Type == connect.TypeString
	switch m := v.(type) {
	case map[string]any:
		if objectMode {
			return e.stringMap(s.ValSchema, m)
		}
		return dataErr("a map[string]any value needs a string key schema, not %s", s.KeySchema)
	case map[any]any:
		if objectMode {
			return e.anyStringMap(s.ValSchema, m)
		}
		return e.pairs(s.KeySchema, s.ValSchema, m)
	}
	return dataErr("invalid value of Go type %T for a map schema", v)
}

func (e *encoder) stringMap(valSchema *connect.Schema, m map[string]any) error {
	keys := e.pushStrKeys()
	for k := range m {
		keys = append(keys, k)
	}
	return e.sortedMembers(keys, valSchema, func(k string) any { return m[k] })
}

// sortedMembers writes a string-keyed map as a JSON object with its members in key order, and
// gives keys (from pushStrKeys) back.
func (e *encoder) sortedMembers(keys []string, valSchema *connect.Schema, value func(k string) any) error {
	if e.hashMapOrder {
		sortHashMapOrder(keys)
	} else {
		slices.Sort(keys)
	}
	e.buf = append(e.buf, '{')
	var err error
	for i, k := range keys {
		if err = e.member(i, k, valSchema, value(k)); err != nil {
			break
		}
	}
	e.popStrKeys(keys)
	if err != nil {
		return err
	}
	e.buf = append(e.buf, '}')
	return nil
}

func (e *encoder) anyStringMap(valSchema *connect.Schema, m map[any]any) error {
	keys := e.pushStrKeys()
	for k := range m {
		ks, ok := k.(string)
		if !ok {
			e.popStrKeys(keys)
			return dataErr("map key of Go type %T where the key schema is string", k)
		}
		keys = append(keys, ks)
	}
	return e.sortedMembers(keys, valSchema, func(k string) any { return m[k] })
}

// member writes the i-th member "k":v of an object.
func (e *encoder) member(i int, k string, valSchema *connect.Schema, v any) error {
	if i > 0 {
		e.buf = append(e.buf, ',')
	}
	e.buf = javafmt.AppendJSONString(e.buf, k)
	e.buf = append(e.buf, ':')
	if err := e.value(valSchema, v); err != nil {
		return fieldpath.AtKey(k, err)
	}
	return nil
}

func (e *encoder) pairs(keySchema, valSchema *connect.Schema, m map[any]any) error {
	entries := e.pushAnyKeys()
	for k, v := range m {
		me := mapEntry{k: k, v: v}
		if keyRank(k) == rankOther {
			sub := getEncoder(e.c)
			if sub.value(keySchema, k) == nil {
				me.enc = bytes.Clone(sub.buf)
			}
			putEncoder(sub)
		}
		entries = append(entries, me)
	}
	slices.SortFunc(entries, compareEntries)
	e.buf = append(e.buf, '[')
	var err error
	for i, me := range entries {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = append(e.buf, '[')
		if err = e.value(keySchema, me.k); err != nil {
			err = fieldpath.AtKey(fmt.Sprint(me.k), err)
			break
		}
		e.buf = append(e.buf, ',')
		if err = e.value(valSchema, me.v); err != nil {
			err = fieldpath.AtKey(fmt.Sprint(me.k), err)
			break
		}
		e.buf = append(e.buf, ']')
	}
	e.popAnyKeys(entries)
	if err != nil {
		return err
	}
	e.buf = append(e.buf, ']')
	return nil
}

// The key scratch slices form stacks because maps nest.

func (e *encoder) pushStrKeys() []string {
	n := len(e.strKeys)
	if n < cap(e.strKeys) {
		e.strKeys = e.strKeys[:n+1]
	} else {
		e.strKeys = append(e.strKeys, nil)
	}
	return e.strKeys[n][:0]
}

func (e *encoder) popStrKeys(keys []string) {
	clear(keys)
	n := len(e.strKeys) - 1
	e.strKeys[n] = keys[:0]
	e.strKeys = e.strKeys[:n]
}

func (e *encoder) pushAnyKeys() []mapEntry {
	n := len(e.anyKeys)
	if n < cap(e.anyKeys) {
		e.anyKeys = e.anyKeys[:n+1]
	} else {
		e.anyKeys = append(e.anyKeys, nil)
	}
	return e.anyKeys[n][:0]
}

func (e *encoder) popAnyKeys(entries []mapEntry) {
	clear(entries)
	n := len(e.anyKeys) - 1
	e.anyKeys[n] = entries[:0]
	e.anyKeys = e.anyKeys[:n]
}

const (
	rankBool = iota
	rankInt
	rankFloat
	rankString
	rankTime
	rankDecimal
	rankOther
)

func keyRank(k any) int {
	switch k.(type) {
	case bool:
		return rankBool
	case int8, int16, int32, int64:
		return rankInt
	case float32, float64:
		return rankFloat
	case string:
		return rankString
	case time.Time:
		return rankTime
	case connect.Decimal:
		return rankDecimal
	}
	return rankOther
}

func compareEntries(a, b mapEntry) int {
	if c := compareKeys(a, b); c != 0 {
		return c
	}
	// Distinct keys that compare equal (-0 and 0, 1 as int32 and as int64, structs with equal
	// content, NaN) are ordered by how Go prints them and then by value, so the output does not
	// depend on map iteration order.
	if c := strings.Compare(fmt.Sprintf("%T:%v", a.k, a.k), fmt.Sprintf("%T:%v", b.k, b.k)); c != 0 {
		return c
	}
	return strings.Compare(fmt.Sprint(a.v), fmt.Sprint(b.v))
}

func compareKeys(a, b mapEntry) int {
	ra, rb := keyRank(a.k), keyRank(b.k)
	if ra != rb {
		return ra - rb
	}
	switch ra {
	case rankBool:
		x, y := a.k.(bool), b.k.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case rankInt:
		ai, _ := connect.IntegerValue(a.k)
		bi, _ := connect.IntegerValue(b.k)
		return cmp.Compare(ai, bi)
	case rankFloat:
		return cmp.Compare(asFloat64(a.k), asFloat64(b.k))
	case rankString:
		return strings.Compare(a.k.(string), b.k.(string))
	case rankTime:
		return a.k.(time.Time).Compare(b.k.(time.Time))
	case rankDecimal:
		return a.k.(connect.Decimal).Rat().Cmp(b.k.(connect.Decimal).Rat())
	}
	return bytes.Compare(a.enc, b.enc)
}

func asFloat64(v any) float64 {
	if x, ok := v.(float32); ok {
		return float64(x)
	}
	return v.(float64)
}

func (e *encoder) structValue(st *connect.Struct) error {
	s := st.Schema()
	e.buf = append(e.buf, '{')
	for i := range s.Fields {
		f := &s.Fields[i]
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = javafmt.AppendJSONString(e.buf, f.Name)
		e.buf = append(e.buf, ':')
		if err := e.value(f.Schema, st.Raw(i)); err != nil {
			return fieldpath.InField(f.Name, err)
		}
	}
	e.buf = append(e.buf, '}')
	return nil
}

// errDecimalScale marks a decimal whose scale differs from its schema's; BASE64 cannot carry it.
var errDecimalScale = &connect.DataError{Msg: "decimal value has a scale that differs from its schema's"}

func (e *encoder) decimal(s *connect.Schema, v any) error {
	d, ok := v.(connect.Decimal)
	if !ok {
		return dataErr("invalid value of Go type %T for Decimal, want connect.Decimal", v)
	}
	if e.c.cfg.decimalNumeric {
		e.buf = javafmt.AppendBigDecimal(e.buf, d.Unscaled, d.Scale)
		return nil
	}
	scale, err := connect.DecimalScale(s)
	if err != nil {
		return &connect.DataError{Msg: err.Error()}
	}
	if d.Scale != scale {
		return fmt.Errorf("%w: schema has scale %d, value has scale %d", errDecimalScale, scale, d.Scale)
	}
	var scratch [24]byte
	raw := appendTwosComplement(scratch[:0], d.Unscaled)
	e.bytes(raw)
	return nil
}

// appendTwosComplement appends u as big-endian two's complement in the fewest bytes that keep the
// sign bit, as Java's BigInteger.toByteArray does (-128 is one byte, 0x80).
func appendTwosComplement(dst []byte, u *big.Int) []byte {
	if u == nil {
		return append(dst, 0)
	}
	if u.IsInt64() {
		v := u.Int64()
		n := bits.Len64(uint64(v^(v>>63)))/8 + 1
		for i := n - 1; i >= 0; i-- {
			dst = append(dst, byte(v>>(8*i)))
		}
		return dst
	}
	// For negative u, ^u = -u-1 is non-negative and its bytes inverted are u's two's complement.
	m, negative := u, u.Sign() < 0
	if negative {
		m = new(big.Int).Not(u)
	}
	n := m.BitLen()/8 + 1
	start := len(dst)
	dst = append(dst, make([]byte, n)...)
	m.FillBytes(dst[start:])
	if negative {
		for i := start; i < len(dst); i++ {
			dst[i] = ^dst[i]
		}
	}
	return dst
}

const msPerDay = 24 * 60 * 60 * 1000

func (e *encoder) temporal(s *connect.Schema, v any) error {
	t, ok := v.(time.Time)
	if !ok {
		return dataErr("invalid value of Go type %T for %s, want time.Time", v, shortLogicalName(s.Name))
	}
	ms := t.UnixMilli()
	switch s.Name {
	case connect.DateName:
		if ms%msPerDay != 0 {
			return dataErr("Date value %s has a time of day; a Connect Date must be midnight UTC", t.UTC().Format(time.RFC3339Nano))
		}
		days := ms / msPerDay
		if days < math.MinInt32 || days > math.MaxInt32 {
			return dataErr("Date value %s is out of range", t.UTC().Format(time.RFC3339))
		}
		e.buf = strconv.AppendInt(e.buf, days, 10)
	case connect.TimeName:
		// Upstream accepts 0 through 86400000 inclusive (a time of 24:00).
		if ms < 0 || ms > msPerDay {
			return dataErr("Time value %s is not on 1970-01-01 UTC", t.UTC().Format(time.RFC3339Nano))
		}
		e.buf = strconv.AppendInt(e.buf, ms, 10)
	default:
		e.buf = strconv.AppendInt(e.buf, ms, 10)
	}
	return nil
}

func shortLogicalName(name string) string { return name[strings.LastIndexByte(name, '.')+1:] }
