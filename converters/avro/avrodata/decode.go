package avrodata

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters/internal/fieldpath"
)

// Decoder reads the Avro binary encoding of one Avro schema into Connect values of the Connect
// schema ToConnectSchema made of it. It is compiled once per schema and safe for concurrent use.
//
// It reads the message in memory with its own bounds-checked reader rather than hamba's streaming
// one, which either caps bytes values at 1 MiB (Kafka records may be larger) or allocates whatever
// length a corrupt message claims; every length and count here is checked against the bytes left.
type Decoder struct {
	root *decNode
}

type decKind uint8

const (
	decUnion       decKind = iota // nullable or single-branch union: the branch's value as is
	decUnionStruct                // any other union: a Connect union struct
	decInt32
	decInt16
	decInt8
	decDate
	decTime
	decLong
	decTimestamp
	decFloat
	decDouble
	decBoolean
	decString
	decEnum
	decBytes
	decFixed
	decDecimal
	decDecimalFixed
	decArray
	decMap
	decEntryMap
	decRecord
	decAnything // upstream's Anything record: a schemaless value
)

type decNode struct {
	kind     decKind
	schema   *connect.Schema
	branches []*decNode // unions: per branch, nil for null
	fieldOf  []int      // decUnionStruct: per branch, the Connect field index (-1 for null)
	inner    *decNode   // array items, map values
	key      *decNode   // decEntryMap
	fields   []*decNode // decRecord: one per Avro field, Connect field i for Avro field i
	symbols  []string
	size     int   // fixed
	scale    int32 // decimals
	minSize  int   // fewest bytes a value takes, to bound counts read from the message
}

// Decoder compiles the decoder of Avro data of schema a into values of c = ToConnectSchema(a).
func (d *Data) Decoder(a *Schema, c *connect.Schema) (*Decoder, error) {
	n, err := d.compileDec(a, c)
	if err != nil {
		return nil, err
	}
	return &Decoder{root: n}, nil
}

func (d *Data) compileDec(a *Schema, c *connect.Schema) (*decNode, error) {
	if c == nil {
		if !isAnything(a) {
			return nil, fmt.Errorf("Avro %s cannot be read without a Connect schema", a.Type)
		}
		return &decNode{kind: decAnything, minSize: anyFields}, nil
	}
	n := &decNode{schema: c, minSize: 1}
	mismatch := func() (*decNode, error) {
		return nil, fmt.Errorf("Avro %s cannot be read as Connect %s", a.Type, c)
	}
	switch a.Type {
	case Union:
		plain := len(a.Branches) == 1 && d.cfg.FlattenSingletonUnions ||
			len(a.Branches) == 2 && a.nullBranch() >= 0 && len(a.Branches[a.nullBranch()].Props) == 0
		if plain {
			n.kind = decUnion
			for _, b := range a.Branches {
				if b.Type == Null {
					n.branches = append(n.branches, nil)
					continue
				}
				bn, err := d.compileDec(b, c)
				if err != nil {
					return nil, err
				}
				n.branches = append(n.branches, bn)
			}
			return n, nil
		}
		if c.Type != connect.TypeStruct {
			return mismatch()
		}
		n.kind = decUnionStruct
		field := 0
		for _, b := range a.Branches {
			if b.Type == Null {
				n.branches, n.fieldOf = append(n.branches, nil), append(n.fieldOf, -1)
				continue
			}
			if field >= len(c.Fields) {
				return mismatch()
			}
			bn, err := d.compileDec(b, c.Fields[field].Schema)
			if err != nil {
				return nil, err
			}
			n.branches, n.fieldOf = append(n.branches, bn), append(n.fieldOf, field)
			field++
		}
	case Int:
		switch {
		case c.Name == connect.DateName:
			n.kind = decDate
		case c.Name == connect.TimeName:
			n.kind = decTime
		case c.Type == connect.TypeInt32:
			n.kind = decInt32
		case c.Type == connect.TypeInt16:
			n.kind = decInt16
		case c.Type == connect.TypeInt8:
			n.kind = decInt8
		default:
			return mismatch()
		}
	case Long:
		switch {
		case c.Name == connect.TimestampName:
			n.kind = decTimestamp
		case c.Type == connect.TypeInt64:
			n.kind = decLong
		default:
			return mismatch()
		}
	case Float:
		n.kind, n.minSize = decFloat, 4
	case Double:
		n.kind, n.minSize = decDouble, 8
	case Boolean:
		n.kind = decBoolean
	case String:
		n.kind = decString
	case Enum:
		n.kind, n.symbols = decEnum, a.Symbols
	case Bytes, Fixed:
		if c.Name == connect.DecimalName {
			scale, err := connect.DecimalScale(c)
			if err != nil {
				return nil, err
			}
			n.kind, n.scale = decDecimal, scale
		} else {
			n.kind = decBytes
		}
		if a.Type == Fixed {
			n.kind++ // decFixed, decDecimalFixed
			n.size, n.minSize = a.Size, a.Size
		}
	case Array:
		if c.Type == connect.TypeMap {
			key, value := a.Items.Field("key"), a.Items.Field("value")
			if key == nil || value == nil || a.Items.Fields[0] != key {
				return mismatch()
			}
			kn, err := d.compileDec(key.Type, c.KeySchema)
			if err != nil {
				return nil, err
			}
			vn, err := d.compileDec(value.Type, c.ValSchema)
			if err != nil {
				return nil, err
			}
			n.kind, n.key, n.inner = decEntryMap, kn, vn
			return n, nil
		}
		if c.Type != connect.TypeArray {
			return mismatch()
		}
		inner, err := d.compileDec(a.Items, c.ValSchema)
		if err != nil {
			return nil, err
		}
		n.kind, n.inner = decArray, inner
	case Map:
		if c.Type != connect.TypeMap {
			return mismatch()
		}
		inner, err := d.compileDec(a.Values, c.ValSchema)
		if err != nil {
			return nil, err
		}
		n.kind, n.inner = decMap, inner
	case Record:
		if c.Type != connect.TypeStruct || len(c.Fields) != len(a.Fields) {
			return mismatch()
		}
		n.kind, n.minSize = decRecord, 0
		for i, f := range a.Fields {
			fn, err := d.compileDec(f.Type, c.Fields[i].Schema)
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", f.Name, err)
			}
			n.fields = append(n.fields, fn)
			n.minSize += fn.minSize
		}
	default:
		return mismatch()
	}
	return n, nil
}

// errTruncated reports a message that ends before its value does.
var errTruncated = errors.New("the Avro data ends early")

// reader reads Avro's binary encoding from a message in memory.
type reader struct {
	b   []byte
	pos int
	err error
	// empties is how many more values that take no bytes at all (empty records) the message may
	// still claim: counts of them cannot be checked against the bytes left.
	empties int
}

// maxEmpties bounds the values of zero bytes one message may hold.
const maxEmpties = 1 << 14

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *reader) long() int64 {
	u, n := binary.Uvarint(r.b[r.pos:])
	if n <= 0 {
		if n == 0 {
			r.fail(errTruncated)
		} else {
			r.fail(errors.New("an Avro long is longer than 10 bytes"))
		}
		r.pos = len(r.b)
		return 0
	}
	r.pos += n
	return int64(u>>1) ^ -int64(u&1)
}

func (r *reader) int() int32 {
	v := r.long()
	if v != int64(int32(v)) {
		r.fail(fmt.Errorf("Avro int %d out of range", v))
		return 0
	}
	return int32(v)
}

func (r *reader) next(n int) []byte {
	if n < 0 || n > len(r.b)-r.pos {
		r.fail(errTruncated)
		r.pos = len(r.b)
		return nil
	}
	b := r.b[r.pos : r.pos+n]
	r.pos += n
	return b
}

func (r *reader) bytes() []byte {
	n := r.long()
	if n > int64(len(r.b)-r.pos) {
		r.fail(fmt.Errorf("Avro bytes of length %d, but only %d bytes remain", n, len(r.b)-r.pos))
		return nil
	}
	return r.next(int(n))
}

// count reads a block count, checking that the rest of the message can hold that many values.
func (r *reader) count(minSize int) int {
	n := r.long()
	if n < 0 {
		n = -n
		r.long() // the block's size in bytes, which a reader may use to skip it
	}
	left := int64(len(r.b) - r.pos)
	if minSize == 0 {
		if n > int64(r.empties) {
			r.fail(fmt.Errorf("Avro data claims more than %d values that take no bytes", maxEmpties))
			return 0
		}
		r.empties -= int(n)
		return int(n)
	}
	if n > left/int64(minSize) {
		r.fail(fmt.Errorf("Avro block of %d items cannot fit in the %d bytes left", n, left))
		return 0
	}
	return int(n)
}

// Decode reads one value that takes all of data. Trailing bytes are an error: they mean the data
// was not written with this schema (upstream's reader ignores them by default).
func (dec *Decoder) Decode(data []byte) (any, error) {
	r := reader{b: data, empties: maxEmpties}
	v, err := dec.root.read(&r)
	if err == nil {
		err = r.err
	}
	if err == nil && r.pos != len(data) {
		err = fmt.Errorf("%d bytes follow the Avro value", len(data)-r.pos)
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

func (n *decNode) read(r *reader) (any, error) {
	switch n.kind {
	case decUnion, decUnionStruct:
		i := r.long()
		if r.err != nil {
			return nil, r.err
		}
		if i < 0 || i >= int64(len(n.branches)) {
			return nil, fmt.Errorf("union branch %d of %d", i, len(n.branches))
		}
		b := n.branches[i]
		if b == nil {
			return nil, nil
		}
		v, err := b.read(r)
		if err != nil || n.kind == decUnion {
			return v, err
		}
		st := connect.NewStruct(n.schema)
		st.SetAt(n.fieldOf[i], v)
		return st, nil
	case decInt32:
		return r.int(), nil
	case decInt16:
		v := r.int()
		if v != int32(int16(v)) {
			return nil, fmt.Errorf("%d is out of range for int16", v)
		}
		return int16(v), nil
	case decInt8:
		v := r.int()
		if v != int32(int8(v)) {
			return nil, fmt.Errorf("%d is out of range for int8", v)
		}
		return int8(v), nil
	case decDate:
		return connect.DaysToDate(r.int()), nil
	case decTime:
		return connect.MillisToTime(r.int()), nil
	case decLong:
		return r.long(), nil
	case decTimestamp:
		return timestamp(r.long()), nil
	case decFloat:
		b := r.next(4)
		if b == nil {
			return nil, r.err
		}
		return math.Float32frombits(binary.LittleEndian.Uint32(b)), nil
	case decDouble:
		b := r.next(8)
		if b == nil {
			return nil, r.err
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(b)), nil
	case decBoolean:
		b := r.next(1)
		if b == nil {
			return nil, r.err
		}
		if b[0] > 1 {
			return nil, fmt.Errorf("invalid Avro boolean %d", b[0])
		}
		return b[0] == 1, nil
	case decString:
		return string(r.bytes()), nil
	case decEnum:
		i := r.long()
		if i < 0 || i >= int64(len(n.symbols)) {
			if r.err != nil {
				return nil, r.err
			}
			return nil, fmt.Errorf("enum symbol %d of %d", i, len(n.symbols))
		}
		return n.symbols[i], nil
	case decBytes:
		return append([]byte{}, r.bytes()...), nil
	case decFixed:
		return append([]byte{}, r.next(n.size)...), nil
	case decDecimal:
		return connect.DecimalFromBytes(r.bytes(), n.scale), nil
	case decDecimalFixed:
		return connect.DecimalFromBytes(r.next(n.size), n.scale), nil
	case decArray:
		return n.readArray(r)
	case decMap:
		return n.readMap(r)
	case decEntryMap:
		return n.readEntries(r)
	case decAnything:
		return readAnything(r)
	case decRecord:
		st := connect.NewStruct(n.schema)
		for i, f := range n.fields {
			v, err := f.read(r)
			if err != nil {
				return nil, fieldpath.InField(n.schema.Fields[i].Name, err)
			}
			st.SetAt(i, v)
		}
		return st, nil
	}
	return nil, fmt.Errorf("unknown decoder kind %d", n.kind)
}

func (n *decNode) readArray(r *reader) (any, error) {
	out := []any{}
	for {
		c := r.count(n.inner.minSize)
		if r.err != nil || c == 0 {
			return out, r.err
		}
		out = slices.Grow(out, c)
		for range c {
			v, err := n.inner.read(r)
			if err != nil {
				return nil, fieldpath.AtIndex(len(out), err)
			}
			out = append(out, v)
		}
	}
}

func (n *decNode) readMap(r *reader) (any, error) {
	out := map[string]any{}
	for {
		c := r.count(1 + n.inner.minSize)
		if r.err != nil || c == 0 {
			return out, r.err
		}
		for range c {
			k := string(r.bytes())
			v, err := n.inner.read(r)
			if err != nil {
				return nil, fieldpath.AtKey(k, err)
			}
			out[k] = v
		}
	}
}

func (n *decNode) readEntries(r *reader) (any, error) {
	if n.schema.KeySchema.Type == connect.TypeString && !n.schema.KeySchema.Optional {
		out := map[string]any{}
		err := n.eachEntry(r, func(k, v any) error {
			out[k.(string)] = v
			return nil
		})
		return out, err
	}
	out := map[any]any{}
	err := n.eachEntry(r, func(k, v any) error {
		if _, ok := k.([]byte); ok {
			return fmt.Errorf("map keys of type bytes cannot be Go map keys")
		}
		out[k] = v
		return nil
	})
	return out, err
}

func (n *decNode) eachEntry(r *reader, put func(k, v any) error) error {
	for {
		c := r.count(n.key.minSize + n.inner.minSize)
		if r.err != nil || c == 0 {
			return r.err
		}
		for range c {
			k, err := n.key.read(r)
			if err != nil {
				return fieldpath.InField("key", err)
			}
			v, err := n.inner.read(r)
			if err != nil {
				return fieldpath.AtKey(fmt.Sprint(k), err)
			}
			if err := put(k, v); err != nil {
				return err
			}
		}
	}
}

func timestamp(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
