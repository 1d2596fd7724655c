package format

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"time"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"

	"github.com/kconnect/kconnect/connect"
)

// parquetRowGroupBytes bounds the (estimated, uncompressed) data a Parquet file buffers before
// it writes a row group, which is what bounds a Parquet writer's memory.
const parquetRowGroupBytes = 32 << 20

// decimalPrecisionParam is the schema parameter AvroData reads a decimal's precision from; its
// default precision is 64.
const decimalPrecisionParam = "connect.decimal.precision"

// parquetFormat writes Parquet files with the column types parquet-avro gives the Avro schema
// Confluent's AvroData makes of the value schema: int8 and int16 as INT32, strings as UTF8 byte
// arrays, Decimal as DECIMAL byte arrays, Date as DATE, Time as TIME_MILLIS and Timestamp as
// TIMESTAMP_MILLIS, structs as groups, arrays as LIST and maps with string keys as MAP (of
// primitives). Columns of a group are ordered by name, as parquet-go orders them.
type parquetFormat struct {
	codec compress.Codec
	ext   string
}

func newParquet(o Options) (Format, error) {
	f := &parquetFormat{ext: ".parquet"}
	var suffix string
	switch o.ParquetCodec {
	case "none", "":
		f.codec = &parquet.Uncompressed
	case "snappy":
		f.codec, suffix = &parquet.Snappy, ".snappy"
	case "gzip":
		f.codec, suffix = &parquet.Gzip, ".gz"
	case "zstd":
		f.codec, suffix = &parquet.Zstd, ".zstd"
	case "lz4":
		f.codec, suffix = &parquet.Lz4Raw, ".lz4"
	default:
		return nil, fmt.Errorf("parquet codec %q is not one of none, snappy, gzip, zstd, lz4", o.ParquetCodec)
	}
	if o.S3Names {
		f.ext = suffix + ".parquet"
	}
	return f, nil
}

func (f *parquetFormat) Extension() string { return f.ext }
func (*parquetFormat) NeedsSchema() bool   { return true }

// leafKind says how a Connect value becomes a Parquet value.
type leafKind uint8

const (
	leafInt32 leafKind = iota
	leafInt64
	leafFloat
	leafDouble
	leafBool
	leafString
	leafBytes
	leafDecimal
	leafDate
	leafTime
	leafTimestamp
)

// step is one struct field on the way from the record value to a leaf column, or the repetition
// of an array's elements or a map's keys or values (at most one per path).
type step struct {
	index    int // struct field index
	optional bool
	name     string
	repeat   repeatKind
}

type repeatKind uint8

const (
	notRepeated repeatKind = iota
	arrayElements
	mapKeys
	mapValues
)

type leaf struct {
	path []step
	kind leafKind
}

func (f *parquetFormat) NewWriter(w io.Writer, schema *connect.Schema) (RecordWriter, error) {
	if schema == nil || schema.Type != connect.TypeStruct {
		return nil, fmt.Errorf("parquet files hold struct values, not %s", schemaName(schema))
	}
	p := &parquetWriter{}
	root, err := p.group(schema, nil)
	if err != nil {
		return nil, err
	}
	p.columns, p.marks = make([][]parquet.Value, len(p.leaves)), make([]int, len(p.leaves))
	p.w = parquet.NewGenericWriter[any](w, parquet.NewSchema(recordName(schema), root), parquet.Compression(f.codec),
		parquet.CreatedBy("kconnect", "", ""))
	return p, nil
}

func schemaName(s *connect.Schema) string {
	if s == nil {
		return "values without schema"
	}
	return s.Type.String()
}

// recordName is the message name parquet-avro gives the file schema: the Avro record name.
func recordName(s *connect.Schema) string {
	if s.Name == "" {
		return "ConnectDefault"
	}
	return s.Name
}

func (p *parquetWriter) group(s *connect.Schema, path []step) (parquet.Node, error) {
	fields := make([]connect.Field, len(s.Fields))
	copy(fields, s.Fields)
	sort.Slice(fields, func(i, j int) bool { return fields[i].Name < fields[j].Name })
	g := parquet.Group{}
	for _, fl := range fields {
		fp := append(append([]step(nil), path...), step{index: fl.Index, optional: fl.Schema.Optional, name: fl.Name})
		var node parquet.Node
		switch {
		case fl.Schema.Type == connect.TypeStruct:
			var err error
			if node, err = p.group(fl.Schema, fp); err != nil {
				return nil, err
			}
		case fl.Schema.Type == connect.TypeArray || fl.Schema.Type == connect.TypeMap:
			var err error
			if node, err = p.repeated(fl.Schema, fp); err != nil {
				return nil, fmt.Errorf("field %s: %w", fl.Name, err)
			}
		default:
			n, kind, err := leafNode(fl.Schema)
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", fl.Name, err)
			}
			node = n
			p.leaves = append(p.leaves, leaf{path: fp, kind: kind})
		}
		if fl.Schema.Optional {
			node = parquet.Optional(node)
		}
		g[fl.Name] = node
	}
	return g, nil
}

// repeated maps an array of primitives to a three-level LIST and a map with string keys and
// primitive values to a MAP; nested repetition and structs inside them are not supported.
func (p *parquetWriter) repeated(s *connect.Schema, path []step) (parquet.Node, error) {
	if slices.ContainsFunc(path[:len(path)-1], func(st step) bool { return st.repeat != notRepeated }) {
		return nil, fmt.Errorf("parquet format does not support arrays or maps inside arrays or maps")
	}
	elem := func(es *connect.Schema, rk repeatKind, name string) (parquet.Node, error) {
		n, kind, err := leafNode(es)
		if err != nil {
			return nil, err
		}
		p.leaves = append(p.leaves, leaf{path: append(append([]step(nil), path...), step{repeat: rk, optional: es.Optional, name: name}), kind: kind})
		if es.Optional {
			n = parquet.Optional(n)
		}
		return n, nil
	}
	if s.Type == connect.TypeArray {
		n, err := elem(s.ValSchema, arrayElements, "element")
		if err != nil {
			return nil, err
		}
		return parquet.List(n), nil
	}
	if s.KeySchema.Type != connect.TypeString || s.KeySchema.Optional {
		return nil, fmt.Errorf("parquet format supports maps with required string keys only")
	}
	k, err := elem(s.KeySchema, mapKeys, "key")
	if err != nil {
		return nil, err
	}
	v, err := elem(s.ValSchema, mapValues, "value")
	if err != nil {
		return nil, err
	}
	return parquet.Map(k, v), nil
}

func leafNode(s *connect.Schema) (parquet.Node, leafKind, error) {
	switch s.Name {
	case connect.DecimalName:
		scale, err := connect.DecimalScale(s)
		if err != nil {
			return nil, 0, err
		}
		precision := 64
		if v, ok := s.Parameters.Get(decimalPrecisionParam); ok {
			if precision, err = strconv.Atoi(v); err != nil {
				return nil, 0, fmt.Errorf("decimal precision %q: %w", v, err)
			}
		}
		return parquet.Decimal(int(scale), precision, parquet.ByteArrayType), leafDecimal, nil
	case connect.DateName:
		return parquet.Date(), leafDate, nil
	case connect.TimeName:
		return parquet.Time(parquet.Millisecond), leafTime, nil
	case connect.TimestampName:
		return parquet.Timestamp(parquet.Millisecond), leafTimestamp, nil
	}
	switch s.Type {
	case connect.TypeInt8, connect.TypeInt16, connect.TypeInt32:
		return parquet.Leaf(parquet.Int32Type), leafInt32, nil
	case connect.TypeInt64:
		return parquet.Leaf(parquet.Int64Type), leafInt64, nil
	case connect.TypeFloat32:
		return parquet.Leaf(parquet.FloatType), leafFloat, nil
	case connect.TypeFloat64:
		return parquet.Leaf(parquet.DoubleType), leafDouble, nil
	case connect.TypeBoolean:
		return parquet.Leaf(parquet.BooleanType), leafBool, nil
	case connect.TypeString:
		return parquet.String(), leafString, nil
	case connect.TypeBytes:
		return parquet.Leaf(parquet.ByteArrayType), leafBytes, nil
	}
	return nil, 0, fmt.Errorf("parquet format does not support %s values here", s.Type)
}

// A parquetWriter gathers the values of up to parquetBatchRows rows (and parquetBatchBytes of
// data) column by column and hands each column's values to its parquet-go column writer in one
// call: going through parquet-go's row API once per record cost more than building the values.
// The bytes bound keeps pages near parquet-go's page size, which a page passes by one batch at
// most.
const (
	parquetBatchRows  = 128
	parquetBatchBytes = 64 << 10
)

type parquetWriter struct {
	w      *parquet.GenericWriter[any]
	leaves []leaf
	// columns holds the batched values of each leaf column, reused from batch to batch; marks
	// holds their lengths before the current record, to drop a record that fails halfway.
	columns    [][]parquet.Value
	marks      []int
	batchRows  int
	batchBytes int
	pending    int // estimated bytes of the row group being written
}

func (p *parquetWriter) Write(rec *connect.SinkRecord) error {
	st, ok := rec.Value.(*connect.Struct)
	if !ok {
		return fmt.Errorf("parquet format: %s record at offset %d has a %T value, want a struct", rec.Topic, rec.Offset, rec.Value)
	}
	size := 0
	for col, lf := range p.leaves {
		p.marks[col] = len(p.columns[col])
		vals, err := appendLeaf(p.columns[col], st, lf, col, &size)
		if err != nil {
			for c := range col {
				clear(p.columns[c][p.marks[c]:])
				p.columns[c] = p.columns[c][:p.marks[c]]
			}
			return fmt.Errorf("parquet format: %s record at offset %d: %w", rec.Topic, rec.Offset, err)
		}
		p.columns[col] = vals
	}
	p.batchRows++
	p.batchBytes += size
	p.pending += size
	if p.batchRows < parquetBatchRows && p.batchBytes < parquetBatchBytes {
		return nil
	}
	if err := p.writeBatch(); err != nil {
		return err
	}
	if p.pending >= parquetRowGroupBytes {
		p.pending = 0
		if err := p.w.Flush(); err != nil {
			return fmt.Errorf("write parquet row group: %w", err)
		}
	}
	return nil
}

// writeBatch hands the batched values to the column writers, which copy them into their
// buffers.
func (p *parquetWriter) writeBatch() error {
	if p.batchRows == 0 {
		return nil
	}
	for col, cw := range p.w.ColumnWriters() {
		if _, err := cw.WriteRowValues(p.columns[col]); err != nil {
			return fmt.Errorf("write parquet column %d: %w", col, err)
		}
		// Cleared so that the reused buffers do not keep the records' strings and bytes alive.
		clear(p.columns[col])
		p.columns[col] = p.columns[col][:0]
	}
	p.batchRows, p.batchBytes = 0, 0
	return nil
}

// appendLeaf appends the values of leaf column col of st to vals with their levels, adding their
// estimated size to *size: the definition level counts the optional fields (and, for elements,
// the repetition) present on the path; the repetition level is 1 for the second and later
// elements of an array or map.
func appendLeaf(vals []parquet.Value, st *connect.Struct, lf leaf, col int, size *int) ([]parquet.Value, error) {
	def := 0
	var v any = st
	for i, s := range lf.path {
		if s.repeat != notRepeated {
			return appendRepeated(vals, v, lf, i, def, col, size)
		}
		parent, ok := v.(*connect.Struct)
		if !ok {
			return nil, fmt.Errorf("field %s holds %T, want a struct", s.name, v)
		}
		v = parent.GetAt(s.index)
		if v == nil {
			if !s.optional {
				return nil, fmt.Errorf("required field %s is null", s.name)
			}
			*size++
			return append(vals, parquet.NullValue().Level(0, def, col)), nil
		}
		if s.optional {
			def++
		}
	}
	pv, n, err := leafValue(lf.kind, v)
	if err != nil {
		return nil, fmt.Errorf("field %s: %w", lf.path[len(lf.path)-1].name, err)
	}
	*size += n
	if def == 0 {
		// The levels of a value not under an optional field or a repetition are the zero
		// value's, and a column writer does not read the column index: Level would only cost.
		return append(vals, pv), nil
	}
	return append(vals, pv.Level(0, def, col)), nil
}

// appendRepeated appends the elements of the array or map container (the value of the field
// before path[at]), def being the definition level of the container itself.
func appendRepeated(vals []parquet.Value, container any, lf leaf, at, def, col int, size *int) ([]parquet.Value, error) {
	s := lf.path[at]
	var elems []any
	switch c := container.(type) {
	case []any:
		if s.repeat != arrayElements {
			return nil, fmt.Errorf("field %s holds an array, want a map", lf.path[at-1].name)
		}
		elems = c
	case map[string]any:
		keys := make([]string, 0, len(c))
		for k := range c {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if s.repeat == mapKeys {
				elems = append(elems, k)
			} else {
				elems = append(elems, c[k])
			}
		}
	default:
		return nil, fmt.Errorf("field %s holds %T, want an array or a map with string keys", lf.path[at-1].name, container)
	}
	if len(elems) == 0 {
		*size++
		return append(vals, parquet.NullValue().Level(0, def, col)), nil
	}
	for j, e := range elems {
		rep := min(j, 1)
		if e == nil {
			if !s.optional {
				return nil, fmt.Errorf("field %s: null %s in a required position", lf.path[at-1].name, s.name)
			}
			*size++
			vals = append(vals, parquet.NullValue().Level(rep, def+1, col))
			continue
		}
		d := def + 1
		if s.optional {
			d++
		}
		pv, n, err := leafValue(lf.kind, e)
		if err != nil {
			return nil, fmt.Errorf("field %s %s: %w", lf.path[at-1].name, s.name, err)
		}
		*size += n
		vals = append(vals, pv.Level(rep, d, col))
	}
	return vals, nil
}

func leafValue(kind leafKind, v any) (parquet.Value, int, error) {
	switch kind {
	case leafInt32:
		switch n := v.(type) {
		case int8:
			return parquet.Int32Value(int32(n)), 4, nil
		case int16:
			return parquet.Int32Value(int32(n)), 4, nil
		case int32:
			return parquet.Int32Value(n), 4, nil
		}
	case leafInt64:
		if n, ok := v.(int64); ok {
			return parquet.Int64Value(n), 8, nil
		}
	case leafFloat:
		if n, ok := v.(float32); ok {
			return parquet.FloatValue(n), 4, nil
		}
	case leafDouble:
		if n, ok := v.(float64); ok {
			return parquet.DoubleValue(n), 8, nil
		}
	case leafBool:
		if b, ok := v.(bool); ok {
			return parquet.BooleanValue(b), 1, nil
		}
	case leafString:
		if s, ok := v.(string); ok {
			// Not copied: parquet-go copies the bytes into its column buffer and never
			// changes them.
			return parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(s), len(s))), len(s), nil
		}
	case leafBytes:
		if b, ok := v.([]byte); ok {
			return parquet.ByteArrayValue(b), len(b), nil
		}
	case leafDecimal:
		if d, ok := v.(connect.Decimal); ok {
			b := connect.DecimalToBytes(d)
			return parquet.ByteArrayValue(b), len(b), nil
		}
	case leafDate:
		if t, ok := v.(time.Time); ok {
			days, err := connect.DateToDays(t)
			return parquet.Int32Value(days), 4, err
		}
	case leafTime:
		if t, ok := v.(time.Time); ok {
			ms, err := connect.TimeToMillis(t)
			return parquet.Int32Value(ms), 4, err
		}
	case leafTimestamp:
		if t, ok := v.(time.Time); ok {
			return parquet.Int64Value(t.UnixMilli()), 8, nil
		}
	}
	return parquet.Value{}, 0, fmt.Errorf("unexpected value of Go type %T", v)
}

func (p *parquetWriter) Close() error {
	if err := p.writeBatch(); err != nil {
		return err
	}
	if err := p.w.Close(); err != nil {
		return fmt.Errorf("finish parquet file: %w", err)
	}
	return nil
}
