package avrodata

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters/internal/fieldpath"
)

// Encoder writes Connect values of one Connect schema in the Avro binary encoding of one Avro
// schema: the schema FromConnectSchema made of it, or another whose records have fields of the
// same names (a registered schema, with use.latest.version). It is compiled once per pair of
// schemas and safe for concurrent use.
type Encoder struct {
	root *encNode
}

type encKind uint8

const (
	encNullable encKind = iota
	encUnion
	encInt
	encLong
	encFloat
	encDouble
	encBoolean
	encString
	encEnum
	encBytes
	encFixed
	encDecimal
	encDecimalFixed
	encDate
	encTime
	encTimestamp
	encArray
	encStringMap
	encEntryMap
	encRecord
	encAnything // values without schema, in upstream's Anything record
)

type encNode struct {
	kind   encKind
	schema *connect.Schema

	nullIndex  int64    // encNullable, encUnion: the null branch, -1 if none
	valueIndex int64    // encNullable: the value's branch
	inner      *encNode // encNullable, encArray, encStringMap and encEntryMap values
	key        *encNode // encEntryMap
	fields     []encField
	members    []encMember      // encUnion, one per Connect field
	symbols    map[string]int64 // encEnum
	size       int              // encFixed, encDecimalFixed
	scale      int32            // decimals
	rawFields  bool             // encRecord, encUnion: ignore.default.for.nullables
}

type encField struct {
	index int // of the Connect field; -1 for a field the struct lacks, written as fixed
	node  *encNode
	fixed []byte // the encoded default of a field the struct lacks
}

type encMember struct {
	branch int64
	node   *encNode
}

// Encoder compiles the encoder of values of c into the Avro schema a.
func (d *Data) Encoder(c *connect.Schema, a *Schema) (*Encoder, error) {
	n, err := d.compileEnc(c, a)
	if err != nil {
		return nil, err
	}
	return &Encoder{root: n}, nil
}

func (d *Data) compileEnc(c *connect.Schema, a *Schema) (*encNode, error) {
	if c == nil {
		if !isAnything(a) {
			return nil, fmt.Errorf("values without schema can only be written as %s, not %s", anything.Name, a.Type)
		}
		return &encNode{kind: encAnything}, nil
	}
	if isUnionStruct(c) {
		return d.compileUnion(c, a)
	}
	if a.Type == Union {
		return d.compileNullable(c, a)
	}
	n := &encNode{schema: c}
	mismatch := func() (*encNode, error) {
		return nil, fmt.Errorf("Connect schema %s cannot be written as Avro %s", c, a.Type)
	}
	switch {
	case c.Name == connect.DecimalName:
		scale, err := connect.DecimalScale(c)
		if err != nil {
			return nil, err
		}
		n.scale = scale
		switch a.Type {
		case Bytes:
			n.kind = encDecimal
		case Fixed:
			n.kind, n.size = encDecimalFixed, a.Size
		default:
			return mismatch()
		}
		return n, nil
	case c.Name == connect.DateName || c.Name == connect.TimeName:
		if a.Type != Int {
			return mismatch()
		}
		n.kind = encDate
		if c.Name == connect.TimeName {
			n.kind = encTime
		}
		return n, nil
	case c.Name == connect.TimestampName:
		if a.Type != Long {
			return mismatch()
		}
		n.kind = encTimestamp
		return n, nil
	}
	want := map[connect.Type]struct {
		avro Type
		kind encKind
	}{
		connect.TypeInt8: {Int, encInt}, connect.TypeInt16: {Int, encInt}, connect.TypeInt32: {Int, encInt},
		connect.TypeInt64: {Long, encLong}, connect.TypeFloat32: {Float, encFloat},
		connect.TypeFloat64: {Double, encDouble}, connect.TypeBoolean: {Boolean, encBoolean},
	}
	if w, ok := want[c.Type]; ok {
		if a.Type != w.avro {
			return mismatch()
		}
		n.kind = w.kind
		return n, nil
	}
	switch c.Type {
	case connect.TypeString:
		switch a.Type {
		case String:
			n.kind = encString
		case Enum:
			n.kind, n.symbols = encEnum, make(map[string]int64, len(a.Symbols))
			for i, s := range a.Symbols {
				n.symbols[s] = int64(i)
			}
		default:
			return mismatch()
		}
	case connect.TypeBytes:
		switch a.Type {
		case Bytes:
			n.kind = encBytes
		case Fixed:
			n.kind, n.size = encFixed, a.Size
		default:
			return mismatch()
		}
	case connect.TypeArray:
		if a.Type != Array {
			return mismatch()
		}
		inner, err := d.compileEnc(c.ValSchema, a.Items)
		if err != nil {
			return nil, err
		}
		n.kind, n.inner = encArray, inner
	case connect.TypeMap:
		return d.compileMap(c, a)
	case connect.TypeStruct:
		if a.Type != Record {
			return mismatch()
		}
		n.kind, n.rawFields = encRecord, d.cfg.IgnoreDefaultForNullables
		for _, af := range a.Fields {
			cf := d.connectField(c, af.Name)
			if cf == nil {
				fixed, err := d.defaultBytes(af)
				if err != nil {
					return nil, fmt.Errorf("the Avro record %s has a field %s that struct %s lacks: %w", a.Name, af.Name, c, err)
				}
				n.fields = append(n.fields, encField{index: -1, fixed: fixed})
				continue
			}
			fn, err := d.compileEnc(cf.Schema, af.Type)
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", cf.Name, err)
			}
			n.fields = append(n.fields, encField{index: cf.Index, node: fn})
		}
	default:
		return mismatch()
	}
	return n, nil
}

// defaultBytes encodes the default of an Avro field, for writing records of a registered schema
// (use.latest.version) that has fields the Connect struct lacks.
func (d *Data) defaultBytes(af *Field) ([]byte, error) {
	if af.Default == nil {
		return nil, fmt.Errorf("the field has no default")
	}
	c, err := d.ToConnectSchema(af.Type, 0)
	if err != nil {
		return nil, err
	}
	v, err := d.defaultFromAvro(c, af.Type, af.Default, true)
	if err != nil {
		return nil, fmt.Errorf("default %s: %w", af.Default, err)
	}
	enc, err := d.Encoder(c, af.Type)
	if err != nil {
		return nil, err
	}
	return enc.Append(nil, v)
}

// connectField finds the Connect field written as the Avro field name (names are scrubbed on the
// way to Avro when scrub.invalid.names is set).
func (d *Data) connectField(c *connect.Schema, avroName string) *connect.Field {
	if f := c.Field(avroName); f != nil && (!d.cfg.ScrubInvalidNames || scrub(f.Name) == avroName) {
		return f
	}
	if d.cfg.ScrubInvalidNames {
		for i := range c.Fields {
			if scrub(c.Fields[i].Name) == avroName {
				return &c.Fields[i]
			}
		}
	}
	return nil
}

func (d *Data) compileNullable(c *connect.Schema, a *Schema) (*encNode, error) {
	n := &encNode{kind: encNullable, schema: c, nullIndex: int64(a.nullBranch()), valueIndex: -1}
	var firstErr error
	for i, b := range a.Branches {
		if b.Type == Null || !branchFits(c, b, d.cfg.ScrubInvalidNames) {
			continue
		}
		// The Connect schema stays optional: struct values carry it, and the union handles null.
		inner, err := d.compileEnc(c, b)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		n.valueIndex, n.inner = int64(i), inner
		return n, nil
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return nil, fmt.Errorf("no branch of Avro union %s fits Connect schema %s", a, c)
}

// branchFits tells which branch of a union a Connect schema's values go to: the branch with its
// (scrubbed) name, or of its Avro type.
func branchFits(c *connect.Schema, b *Schema, scrubbed bool) bool {
	if b.Type.named() && c.Name != "" {
		ns, short := splitName(c.Name, scrubbed)
		if b.Name == joinName(ns, short) {
			return true
		}
	}
	if b.Type.named() && c.Name == "" && strings.HasPrefix(b.Name, namespaceConnect+"."+defaultRecordName) {
		return true
	}
	switch c.Type {
	case connect.TypeInt8, connect.TypeInt16, connect.TypeInt32:
		return b.Type == Int
	case connect.TypeInt64:
		return b.Type == Long
	case connect.TypeFloat32:
		return b.Type == Float
	case connect.TypeFloat64:
		return b.Type == Double
	case connect.TypeBoolean:
		return b.Type == Boolean
	case connect.TypeString:
		return b.Type == String || b.Type == Enum
	case connect.TypeBytes:
		return b.Type == Bytes || b.Type == Fixed
	case connect.TypeArray:
		return b.Type == Array
	case connect.TypeMap:
		return b.Type == Map || b.Type == Array
	case connect.TypeStruct:
		return b.Type == Record
	}
	return false
}

func (d *Data) compileUnion(c *connect.Schema, a *Schema) (*encNode, error) {
	n := &encNode{kind: encUnion, schema: c, nullIndex: int64(a.nullBranch()), rawFields: d.cfg.IgnoreDefaultForNullables}
	if a.Type != Union {
		return nil, fmt.Errorf("Connect union %s needs an Avro union, not %s", c, a.Type)
	}
	for _, f := range c.Fields {
		fs := required(f.Schema)
		found := false
		for i, b := range a.Branches {
			if b.Type == Null || !branchFits(fs, b, d.cfg.ScrubInvalidNames) {
				continue
			}
			inner, err := d.compileEnc(f.Schema, b)
			if err != nil {
				continue
			}
			n.members = append(n.members, encMember{branch: int64(i), node: inner})
			found = true
			break
		}
		if !found {
			return nil, fmt.Errorf("union member %s of %s has no branch in Avro union %s", f.Name, c, a)
		}
	}
	return n, nil
}

func (d *Data) compileMap(c *connect.Schema, a *Schema) (*encNode, error) {
	switch {
	case a.Type == Map && c.KeySchema.Type == connect.TypeString:
		inner, err := d.compileEnc(c.ValSchema, a.Values)
		if err != nil {
			return nil, err
		}
		return &encNode{kind: encStringMap, schema: c, inner: inner}, nil
	case a.Type == Array && a.Items.Type == Record && a.Items.Field("key") != nil && a.Items.Field("value") != nil &&
		len(a.Items.Fields) == 2:
		key, err := d.compileEnc(c.KeySchema, a.Items.Field("key").Type)
		if err != nil {
			return nil, fmt.Errorf("map key: %w", err)
		}
		value, err := d.compileEnc(c.ValSchema, a.Items.Field("value").Type)
		if err != nil {
			return nil, fmt.Errorf("map value: %w", err)
		}
		n := &encNode{kind: encEntryMap, schema: c, key: key, inner: value}
		if a.Items.Fields[0].Name != "key" {
			return nil, fmt.Errorf("map entry record %s must have key before value", a.Items.Name)
		}
		return n, nil
	}
	return nil, fmt.Errorf("Connect schema %s cannot be written as Avro %s", c, a.Type)
}

var writerPool = sync.Pool{New: func() any { return avro.NewWriter(nil, 512) }}

// Append appends the Avro binary encoding of v to dst.
func (e *Encoder) Append(dst []byte, v any) ([]byte, error) {
	w := writerPool.Get().(*avro.Writer)
	w.Reset(nil)
	err := e.root.write(w, v)
	if err == nil {
		dst = append(dst, w.Buffer()...)
	}
	if cap(w.Buffer()) <= 1<<20 { // one huge record must not pin its buffer in the pool
		writerPool.Put(w)
	}
	if err != nil {
		return nil, err
	}
	return dst, nil
}

func (n *encNode) typeErr(v any) error {
	return &connect.DataError{Msg: fmt.Sprintf("invalid value of Go type %T for %s schema", v, n.schema)}
}

func (n *encNode) write(w *avro.Writer, v any) error {
	switch n.kind {
	case encNullable:
		if v == nil {
			if n.nullIndex < 0 {
				return &connect.DataError{Msg: fmt.Sprintf("null value for a %s whose Avro union has no null", n.schema)}
			}
			w.WriteLong(n.nullIndex)
			return nil
		}
		w.WriteLong(n.valueIndex)
		return n.inner.write(w, v)
	case encUnion:
		return n.writeUnion(w, v)
	case encAnything:
		return writeAnything(w, v)
	}
	if v == nil {
		return &connect.DataError{Msg: fmt.Sprintf("null value for required %s", n.schema)}
	}
	switch n.kind {
	case encInt:
		switch x := v.(type) {
		case int32:
			w.WriteInt(x)
		case int16:
			w.WriteInt(int32(x))
		case int8:
			w.WriteInt(int32(x))
		default:
			return n.typeErr(v)
		}
	case encLong:
		x, ok := v.(int64)
		if !ok {
			return n.typeErr(v)
		}
		w.WriteLong(x)
	case encFloat:
		x, ok := v.(float32)
		if !ok {
			return n.typeErr(v)
		}
		w.WriteFloat(x)
	case encDouble:
		x, ok := v.(float64)
		if !ok {
			return n.typeErr(v)
		}
		w.WriteDouble(x)
	case encBoolean:
		x, ok := v.(bool)
		if !ok {
			return n.typeErr(v)
		}
		w.WriteBool(x)
	case encString:
		x, ok := v.(string)
		if !ok {
			return n.typeErr(v)
		}
		w.WriteString(x)
	case encEnum:
		x, ok := v.(string)
		if !ok {
			return n.typeErr(v)
		}
		i, ok := n.symbols[x]
		if !ok {
			return &connect.DataError{Msg: fmt.Sprintf("%q is not a symbol of enum %s", x, n.schema)}
		}
		w.WriteLong(i)
	case encBytes:
		x, ok := v.([]byte)
		if !ok {
			return n.typeErr(v)
		}
		w.WriteBytes(x)
	case encFixed:
		x, ok := v.([]byte)
		if !ok {
			return n.typeErr(v)
		}
		if len(x) != n.size {
			return &connect.DataError{Msg: fmt.Sprintf("%d bytes for fixed(%d) %s", len(x), n.size, n.schema)}
		}
		_, _ = w.Write(x)
	case encDecimal, encDecimalFixed:
		return n.writeDecimal(w, v)
	case encDate, encTime:
		t, ok := v.(time.Time)
		if !ok {
			return n.typeErr(v)
		}
		var x int32
		var err error
		if n.kind == encDate {
			x, err = connect.DateToDays(t)
		} else {
			x, err = connect.TimeToMillis(t)
		}
		if err != nil {
			return &connect.DataError{Msg: err.Error()}
		}
		w.WriteInt(x)
	case encTimestamp:
		t, ok := v.(time.Time)
		if !ok {
			return n.typeErr(v)
		}
		w.WriteLong(t.UnixMilli())
	case encArray:
		arr, ok := v.([]any)
		if !ok {
			return n.typeErr(v)
		}
		if len(arr) > 0 {
			w.WriteLong(int64(len(arr)))
			for i, e := range arr {
				if err := n.inner.write(w, e); err != nil {
					return fieldpath.AtIndex(i, err)
				}
			}
		}
		w.WriteLong(0)
	case encStringMap:
		return n.writeStringMap(w, v)
	case encEntryMap:
		return n.writeEntryMap(w, v)
	case encRecord:
		st, ok := v.(*connect.Struct)
		if !ok {
			return n.typeErr(v)
		}
		if st.Schema() != n.schema && !st.Schema().Equal(n.schema) {
			return &connect.DataError{Msg: fmt.Sprintf("struct of schema %s where %s was expected", st.Schema(), n.schema)}
		}
		for _, f := range n.fields {
			if f.index < 0 {
				_, _ = w.Write(f.fixed)
				continue
			}
			fv := st.GetAt(f.index)
			if n.rawFields {
				fv = st.Raw(f.index)
			}
			if err := f.node.write(w, fv); err != nil {
				return fieldpath.InField(n.schema.Fields[f.index].Name, err)
			}
		}
	}
	return nil
}

func (n *encNode) writeUnion(w *avro.Writer, v any) error {
	if v == nil {
		if n.nullIndex < 0 {
			return &connect.DataError{Msg: fmt.Sprintf("null value for required union %s", n.schema)}
		}
		w.WriteLong(n.nullIndex)
		return nil
	}
	st, ok := v.(*connect.Struct)
	if !ok {
		return n.typeErr(v)
	}
	for i, m := range n.members {
		fv := st.GetAt(i)
		if n.rawFields {
			fv = st.Raw(i)
		}
		if fv != nil {
			w.WriteLong(m.branch)
			return m.node.write(w, fv)
		}
	}
	return n.writeUnion(w, nil)
}

func (n *encNode) writeDecimal(w *avro.Writer, v any) error {
	dec, ok := v.(connect.Decimal)
	if !ok {
		return n.typeErr(v)
	}
	if dec.Scale != n.scale {
		return &connect.DataError{Msg: fmt.Sprintf("decimal %s has scale %d, its schema %s scale %d", dec, dec.Scale, n.schema, n.scale)}
	}
	b := connect.DecimalToBytes(dec)
	if n.kind == encDecimal {
		w.WriteBytes(b)
		return nil
	}
	if len(b) > n.size {
		return &connect.DataError{Msg: fmt.Sprintf("decimal %s needs %d bytes, more than fixed(%d)", dec, len(b), n.size)}
	}
	// Sign-extend to the fixed size (upstream 7.x wrote too few bytes here, which later versions fixed).
	pad := byte(0)
	if len(b) > 0 && b[0]&0x80 != 0 {
		pad = 0xFF
	}
	for range n.size - len(b) {
		_, _ = w.Write([]byte{pad})
	}
	_, _ = w.Write(b)
	return nil
}

// writeStringMap writes the entries in key order, so equal maps always encode to equal bytes.
func (n *encNode) writeStringMap(w *avro.Writer, v any) error {
	var keys []string
	var get func(string) any
	switch m := v.(type) {
	case map[string]any:
		keys = make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		get = func(k string) any { return m[k] }
	case map[any]any:
		keys = make([]string, 0, len(m))
		for k := range m {
			ks, ok := k.(string)
			if !ok {
				return &connect.DataError{Msg: fmt.Sprintf("map key of Go type %T for %s", k, n.schema)}
			}
			keys = append(keys, ks)
		}
		get = func(k string) any { return m[k] }
	default:
		return n.typeErr(v)
	}
	slices.Sort(keys)
	if len(keys) > 0 {
		w.WriteLong(int64(len(keys)))
		for _, k := range keys {
			w.WriteString(k)
			if err := n.inner.write(w, get(k)); err != nil {
				return fieldpath.AtKey(k, err)
			}
		}
	}
	w.WriteLong(0)
	return nil
}

// writeEntryMap writes a map as an array of key/value records, ordered by the keys' encodings.
func (n *encNode) writeEntryMap(w *avro.Writer, v any) error {
	entries, ok, err := sortedEntries(v, avroKey(n.key.write))
	if !ok {
		return n.typeErr(v)
	}
	if err != nil {
		return err
	}
	return writeEntries(w, entries, func(w *avro.Writer, e mapEntry) error {
		if err := n.inner.write(w, e.v); err != nil {
			return fieldpath.AtKey(fmt.Sprint(e.k), err)
		}
		return nil
	})
}

// mapEntry is an entry of a Connect map value with its key's encoding.
type mapEntry struct {
	key  []byte
	k, v any
}

// sortedEntries returns the entries of m, a map[string]any or map[any]any, ordered by the
// encodings encodeKey gives their keys, so that equal maps always encode to equal bytes. ok is
// false when m is no such map; err is encodeKey's first error.
func sortedEntries(m any, encodeKey func(k any) ([]byte, error)) (entries []mapEntry, ok bool, err error) {
	add := func(k, v any) error {
		key, err := encodeKey(k)
		entries = append(entries, mapEntry{key, k, v})
		return err
	}
	switch x := m.(type) {
	case map[string]any:
		entries = make([]mapEntry, 0, len(x))
		for k, v := range x {
			if err := add(k, v); err != nil {
				return nil, true, err
			}
		}
	case map[any]any:
		entries = make([]mapEntry, 0, len(x))
		for k, v := range x {
			if err := add(k, v); err != nil {
				return nil, true, err
			}
		}
	default:
		return nil, false, nil
	}
	slices.SortFunc(entries, func(a, b mapEntry) int { return bytes.Compare(a.key, b.key) })
	return entries, true, nil
}

// avroKey encodes map keys in Avro with write, for sortedEntries.
func avroKey(write func(*avro.Writer, any) error) func(k any) ([]byte, error) {
	return func(k any) ([]byte, error) {
		kw := avro.NewWriter(nil, 16)
		if err := write(kw, k); err != nil {
			return nil, fieldpath.InField("key", err)
		}
		return kw.Buffer(), nil
	}
}

// writeEntries writes sorted entries as an Avro array of key/value records: each entry's key
// encoding, then its value written by value.
func writeEntries(w *avro.Writer, entries []mapEntry, value func(*avro.Writer, mapEntry) error) error {
	if len(entries) > 0 {
		w.WriteLong(int64(len(entries)))
		for _, e := range entries {
			_, _ = w.Write(e.key)
			if err := value(w, e); err != nil {
				return err
			}
		}
	}
	w.WriteLong(0)
	return nil
}
