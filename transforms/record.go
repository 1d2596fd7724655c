package transforms

import (
	"fmt"
	"slices"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/lru"
)

// side selects what a $Key or $Value variant operates on.
type side bool

const (
	keySide   side = true
	valueSide side = false
)

func (s side) schema(r *connect.Record) *connect.Schema {
	if s == keySide {
		return r.KeySchema
	}
	return r.ValueSchema
}

func (s side) value(r *connect.Record) any {
	if s == keySide {
		return r.Key
	}
	return r.Value
}

// with returns a copy of r whose key or value is replaced; r itself is left as it was.
func (s side) with(r *connect.Record, schema *connect.Schema, v any) *connect.Record {
	out := *r
	if s == keySide {
		out.KeySchema, out.Key = schema, v
	} else {
		out.ValueSchema, out.Value = schema, v
	}
	return &out
}

// withHeaders returns a copy of r with hs as its headers.
func withHeaders(r *connect.Record, hs connect.Headers) *connect.Record {
	out := *r
	out.Headers = hs
	return &out
}

// addHeader returns hs plus h in new storage, so the original record's headers stay as they were.
func addHeader(hs connect.Headers, h connect.Header) connect.Headers {
	return append(slices.Clip(hs), h)
}

// schemaCache holds the derived schema of each input schema, as upstream's LRU cache of 16.
type schemaCache = lru.Cache[*connect.Schema, *connect.Schema]

func newSchemaCache() *schemaCache { return lru.New[*connect.Schema, *connect.Schema](16) }

// dataErr is upstream's DataException.
func dataErr(format string, args ...any) error {
	return &connect.DataError{Msg: fmt.Sprintf(format, args...)}
}

func requireMap(v any, purpose string) (map[string]any, error) {
	if m, ok := v.(map[string]any); ok {
		return m, nil
	}
	return nil, dataErr("Only Map objects supported in absence of schema for [%s], found: %s", purpose, className(v))
}

func requireStruct(v any, purpose string) (*connect.Struct, error) {
	if st, ok := v.(*connect.Struct); ok {
		return st, nil
	}
	return nil, dataErr("Only Struct objects supported for [%s], found: %s", purpose, className(v))
}

// requireStructOrNil is requireStruct that lets null through.
func requireStructOrNil(v any, purpose string) (*connect.Struct, error) {
	if v == nil {
		return nil, nil
	}
	return requireStruct(v, purpose)
}

func requireSchema(s *connect.Schema, purpose string) error {
	if s == nil {
		return dataErr("Schema required for [%s]", purpose)
	}
	return nil
}

// requireSinkRecord fails for source records, which have no Kafka offset yet.
func requireSinkRecord(r *connect.Record, purpose string) error {
	if r.Offset < 0 {
		return dataErr("Only SinkRecord supported for [%s], found: org.apache.kafka.connect.source.SourceRecord", purpose)
	}
	return nil
}

// className names v's type as the Java class upstream's messages name, so errors read the same.
func className(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "java.lang.String"
	case int8:
		return "java.lang.Byte"
	case int16:
		return "java.lang.Short"
	case int32:
		return "java.lang.Integer"
	case int64:
		return "java.lang.Long"
	case float32:
		return "java.lang.Float"
	case float64:
		return "java.lang.Double"
	case bool:
		return "java.lang.Boolean"
	case []byte:
		return "[B"
	case []any:
		return "java.util.ArrayList"
	case map[string]any, map[any]any:
		return "java.util.HashMap"
	case *connect.Struct:
		return "org.apache.kafka.connect.data.Struct"
	case connect.Decimal:
		return "java.math.BigDecimal"
	case time.Time:
		return "java.util.Date"
	}
	return fmt.Sprintf("%T", v)
}

// fieldValue reads field i of st with or without its schema default, per replace.null.with.default.
func fieldValue(st *connect.Struct, i int, withDefault bool) any {
	if withDefault {
		return st.GetAt(i)
	}
	return st.Raw(i)
}

// CopySchemaBasics fills b (a new builder of s's type when nil) with s's name, version, doc and
// parameters, as upstream's SchemaUtil.copySchemaBasics; optionality and defaults are not copied.
func CopySchemaBasics(s *connect.Schema, b *connect.SchemaBuilder) *connect.SchemaBuilder {
	if b == nil {
		switch s.Type {
		case connect.TypeArray:
			b = connect.ArrayBuilder(s.ValSchema)
		case connect.TypeMap:
			b = connect.MapBuilder(s.KeySchema, s.ValSchema)
		default:
			b = connect.NewSchemaBuilder(s.Type)
		}
	}
	b.Name(s.Name).Version(s.Version).Doc(s.Doc)
	for _, p := range s.Parameters {
		b.Param(p.Key, p.Value)
	}
	return b
}

// derived is a schema a transform derived from an input schema, with the input field each of its
// fields copies (-1 for a field the transform fills itself), so records are copied by index
// rather than by name.
type derived struct {
	schema *connect.Schema
	from   []int
	prefix int // leading fields copied from the same index, copied in bulk
}

// newDerived pairs out's fields with in's; source maps an output field name to its input name.
func newDerived(in, out *connect.Schema, source func(string) string) *derived {
	d := &derived{schema: out, from: make([]int, len(out.Fields))}
	for i, f := range out.Fields {
		d.from[i] = -1
		name := f.Name
		if source != nil {
			name = source(name)
		}
		if src := in.Field(name); src != nil {
			d.from[i] = src.Index
		}
		if d.from[i] == i && d.prefix == i {
			d.prefix++
		}
	}
	return d
}

// derivedCache holds the derived schema of each input schema, as upstream's LRU cache of 16, in
// front of which it remembers the last one: records of a stream mostly share one schema. Like the
// transform that owns it, it serves one goroutine.
type derivedCache struct {
	last        *connect.Schema
	lastDerived *derived
	all         *lru.Cache[*connect.Schema, *derived]
}

func newDerivedCache() *derivedCache {
	return &derivedCache{all: lru.New[*connect.Schema, *derived](16)}
}

// Get returns what was derived from in.
func (c *derivedCache) Get(in *connect.Schema) (*derived, bool) {
	if in == c.last {
		return c.lastDerived, true
	}
	d, ok := c.all.Get(in)
	if ok {
		c.last, c.lastDerived = in, d
	}
	return d, ok
}

// Put stores what was derived from in.
func (c *derivedCache) Put(in *connect.Schema, d *derived) {
	c.all.Put(in, d)
	c.last, c.lastDerived = in, d
}

// copyFrom returns a struct of the derived schema with st's values in the copied fields. They need
// no validation: each was valid under the same field schema.
func (d *derived) copyFrom(st *connect.Struct, withDefault bool) *connect.Struct {
	out, vals := connect.NewStructSlots(d.schema)
	copyValues(vals[:d.prefix], st, withDefault)
	for i := d.prefix; i < len(d.from); i++ {
		if src := d.from[i]; src >= 0 {
			vals[i] = fieldValue(st, src, withDefault)
		}
	}
	return out
}

// copyValues copies st's leading len(dst) values, with their defaults where null if withDefault.
func copyValues(dst []any, st *connect.Struct, withDefault bool) {
	copy(dst, st.RawValues())
	if withDefault {
		fields := st.Schema().Fields
		for i, v := range dst {
			if v == nil {
				dst[i] = fields[i].Schema.Default
			}
		}
	}
}

// Connect's logical schemas, built once.
var (
	timestampSchema         = connect.TimestampSchema().MustBuild()
	optionalTimestampSchema = connect.TimestampSchema().Optional().MustBuild()
	dateSchema              = connect.DateSchema().MustBuild()
	optionalDateSchema      = connect.DateSchema().Optional().MustBuild()
	timeSchema              = connect.TimeSchema().MustBuild()
	optionalTimeSchema      = connect.TimeSchema().Optional().MustBuild()
)

// javaSchemaString renders a schema as ConnectSchema.toString does: Schema{name:TYPE}.
func javaSchemaString(s *connect.Schema) string {
	if s.Name != "" {
		return "Schema{" + s.Name + ":" + upperType(s.Type) + "}"
	}
	return "Schema{" + upperType(s.Type) + "}"
}
