package transforms

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kconnect/kconnect/connect"
)

const castPurpose = "cast types"

// Types Cast reads and writes, in upstream's order (its messages list them).
var (
	castInputs  = []connect.Type{connect.TypeInt8, connect.TypeInt16, connect.TypeInt32, connect.TypeInt64, connect.TypeFloat32, connect.TypeFloat64, connect.TypeBoolean, connect.TypeString, connect.TypeBytes}
	castOutputs = castInputs[:len(castInputs)-1]
)

var castConfigDef = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: "spec", Type: connect.ConfigList, Required: true, Importance: connect.High,
		Validator: connect.ValidatorFunc("list of colon-delimited pairs, e.g. foo:bar,abc:xyz", func(_ string, v any) error {
			_, _, err := parseCastSpec(v.([]string))
			return err
		}),
		Doc: "Fields and the types to cast them to, as field1:type,field2:type, or a single type to cast the whole key or value. " +
			"Types: int8, int16, int32, int64, float32, float64, boolean, string; bytes cast only to string."}).
	Define(replaceNullKey)

// Cast casts fields, or the whole key or value, to another primitive type
// (org.apache.kafka.connect.transforms.Cast$Key / $Value).
type Cast struct {
	side        side
	casts       map[string]connect.Type
	whole       connect.Type // 0 unless the spec casts the whole key or value
	withDefault bool
	schemas     *derivedCache
}

// ConfigDef returns Cast's configuration keys.
func (*Cast) ConfigDef() *connect.ConfigDef { return castConfigDef }

// Configure parses spec.
func (t *Cast) Configure(props map[string]string) error {
	cfg, err := castConfigDef.Parse(props)
	if err != nil {
		return err
	}
	if t.casts, t.whole, err = parseCastSpec(cfg.List("spec")); err != nil {
		return err
	}
	t.withDefault = cfg.Bool("replace.null.with.default")
	t.schemas = newDerivedCache()
	return nil
}

func parseCastSpec(spec []string) (map[string]connect.Type, connect.Type, error) {
	if len(spec) == 0 {
		return nil, 0, &connect.FieldError{Name: "spec", Msg: "Must specify at least one field to cast."}
	}
	casts := map[string]connect.Type{}
	var whole connect.Type
	for _, mapping := range spec {
		parts := strings.Split(mapping, ":")
		for len(parts) > 1 && parts[len(parts)-1] == "" { // Java's split drops trailing empty strings
			parts = parts[:len(parts)-1]
		}
		if len(parts) > 2 {
			return nil, 0, &connect.FieldError{Name: "spec", Msg: fmt.Sprintf("Invalid value %s for configuration spec: Invalid cast mapping: %s", strings.Join(spec, ","), mapping)}
		}
		typ, err := castOutputType(parts[len(parts)-1])
		if err != nil {
			return nil, 0, err
		}
		if len(parts) == 1 {
			whole = typ
		} else {
			casts[strings.TrimSpace(parts[0])] = typ
		}
	}
	if whole != 0 && len(spec) > 1 {
		return nil, 0, &connect.FieldError{Name: "spec", Msg: "Cast transformations that specify a type to cast the entire value to may only specify a single cast in their spec"}
	}
	return casts, whole, nil
}

func castOutputType(name string) (connect.Type, error) {
	name = strings.TrimSpace(name)
	t, err := connect.ParseType(name)
	if err != nil {
		// Upstream's message, garbled as it is, so it reads the same on both.
		return 0, &connect.FieldError{Name: "spec", Msg: fmt.Sprintf("Invalid value java.lang.IllegalArgumentException: No enum constant org.apache.kafka.connect.data.Schema.Type.%s for configuration Invalid type found in casting spec: %s", strings.ToUpper(name), name)}
	}
	for _, ok := range castOutputs {
		if t == ok {
			return t, nil
		}
	}
	return 0, &connect.FieldError{Name: "spec", Msg: fmt.Sprintf("Cast transformation does not support casting to %s; supported types are %s", upperType(t), typeList(castOutputs))}
}

func upperType(t connect.Type) string { return strings.ToUpper(t.String()) }

func typeList(ts []connect.Type) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = upperType(t)
	}
	return "[" + strings.Join(names, ", ") + "]"
}

// Apply casts the record's key or value; a null one passes unchanged.
func (t *Cast) Apply(rec *connect.Record) (*connect.Record, error) {
	value := t.side.value(rec)
	if value == nil {
		return rec, nil
	}
	schema := t.side.schema(rec)
	if schema == nil {
		return t.applySchemaless(rec, value)
	}
	d, err := t.updatedSchema(schema)
	if err != nil {
		return nil, err
	}
	if t.whole != 0 {
		v, err := castValue(schema, value, t.whole)
		if err != nil {
			return nil, err
		}
		return t.side.with(rec, d.schema, v), nil
	}
	st, err := requireStruct(value, castPurpose)
	if err != nil {
		return nil, err
	}
	// The updated schema has the input's fields in the input's order; d.from holds, per field,
	// the type to cast it to (0 for none).
	out, vals := connect.NewStructSlots(d.schema)
	copyValues(vals, st, t.withDefault)
	fields := st.Schema().Fields
	for i, target := range d.from {
		if target == 0 {
			continue
		}
		v, err := castValue(fields[i].Schema, vals[i], connect.Type(target))
		if err != nil {
			return nil, err
		}
		if err := connect.Validate(d.schema.Fields[i].Schema, v); err != nil {
			return nil, err
		}
		vals[i] = v
	}
	return t.side.with(rec, d.schema, out), nil
}

func (t *Cast) applySchemaless(rec *connect.Record, value any) (*connect.Record, error) {
	if t.whole != 0 {
		v, err := castValue(nil, value, t.whole)
		if err != nil {
			return nil, err
		}
		return t.side.with(rec, nil, v), nil
	}
	m, err := requireMap(value, castPurpose)
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(m)+len(t.casts))
	for k, v := range m {
		out[k] = v
	}
	for field, target := range t.casts {
		if out[field], err = castValue(nil, m[field], target); err != nil {
			return nil, err
		}
	}
	return t.side.with(rec, nil, out), nil
}

// updatedSchema returns the cast schema; its from holds each field's target type rather than a
// source index.
func (t *Cast) updatedSchema(schema *connect.Schema) (*derived, error) {
	if d, ok := t.schemas.Get(schema); ok {
		return d, nil
	}
	var b *connect.SchemaBuilder
	if t.whole != 0 {
		b = CopySchemaBasics(schema, connect.NewSchemaBuilder(t.whole))
	} else {
		b = CopySchemaBasics(schema, connect.StructBuilder())
		for _, f := range schema.Fields {
			target, ok := t.casts[f.Name]
			if !ok {
				b.Field(f.Name, f.Schema)
				continue
			}
			fb := connect.NewSchemaBuilder(target)
			if f.Schema.Optional {
				fb.Optional()
			}
			if f.Schema.Default != nil {
				d, err := castValue(f.Schema, f.Schema.Default, target)
				if err != nil {
					return nil, err
				}
				fb.Default(d)
			}
			fs, err := fb.Build()
			if err != nil {
				return nil, fmt.Errorf("cast field %s: %w", f.Name, err)
			}
			b.Field(f.Name, fs)
		}
	}
	if schema.Optional {
		b.Optional()
	}
	if schema.Default != nil {
		target := t.whole
		if target == 0 {
			target = connect.TypeStruct
		}
		d, err := castValue(schema, schema.Default, target)
		if err != nil {
			return nil, err
		}
		b.Default(d)
	}
	s, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("cast schema %s: %w", schema, err)
	}
	d := &derived{schema: s, from: make([]int, len(schema.Fields))}
	for i, f := range schema.Fields {
		d.from[i] = int(t.casts[f.Name])
	}
	t.schemas.Put(schema, d)
	return d, nil
}

// castValue casts one value; schema, when known, gives its type, otherwise its Go type does.
func castValue(schema *connect.Schema, v any, target connect.Type) (any, error) {
	if v == nil {
		return nil, nil
	}
	var from connect.Type
	if schema != nil {
		from = schema.Type
	} else if from = schemalessType(v); from == 0 {
		return nil, dataErr("Cast transformation was passed a value of type class %s which is not supported by Connect's data API", className(v))
	}
	if !castable(from) {
		return nil, dataErr("Cast transformation does not support casting from %s; supported types are %s", upperType(from), typeList(castInputs))
	}
	if schema != nil && schema.Name != "" && target != connect.TypeString {
		v = logicalToInternal(schema, v)
	}
	if target == connect.TypeString {
		return javaString(v)
	}
	if b, ok := v.(bool); ok {
		one := map[bool]int64{true: 1, false: 0}[b]
		return castNumber(one, target)
	}
	if s, ok := v.(string); ok {
		return castString(s, target)
	}
	if !isNumber(v) {
		return nil, dataErr("Unexpected type in Cast transformation: class %s", className(v))
	}
	return castNumber(v, target)
}

func castable(t connect.Type) bool {
	for _, ok := range castInputs {
		if t == ok {
			return true
		}
	}
	return false
}

// schemalessType is ConnectSchema.schemaType: the schema type of a value's Java class, 0 if none.
func schemalessType(v any) connect.Type {
	switch v.(type) {
	case int8:
		return connect.TypeInt8
	case int16:
		return connect.TypeInt16
	case int32:
		return connect.TypeInt32
	case int64:
		return connect.TypeInt64
	case float32:
		return connect.TypeFloat32
	case float64:
		return connect.TypeFloat64
	case bool:
		return connect.TypeBoolean
	case string:
		return connect.TypeString
	case []byte:
		return connect.TypeBytes
	case []any:
		return connect.TypeArray
	case map[string]any, map[any]any:
		return connect.TypeMap
	case *connect.Struct:
		return connect.TypeStruct
	}
	return 0
}

// logicalToInternal turns Date, Time and Timestamp values into their int32/int64 encodings.
func logicalToInternal(schema *connect.Schema, v any) any {
	tm, ok := v.(time.Time)
	if !ok {
		return v
	}
	switch schema.Name {
	case connect.DateName:
		return int32(tm.UnixMilli() / (24 * 60 * 60 * 1000))
	case connect.TimeName:
		return int32(tm.UnixMilli())
	case connect.TimestampName:
		return tm.UnixMilli()
	}
	return v
}

// castNumber narrows or widens a number (or a boolean's 0/1) as Java's Number methods do.
func castNumber(v any, target connect.Type) (any, error) {
	switch target {
	case connect.TypeInt8:
		n, _ := javaInt(v) // (byte) of the int value, as byteValue is for every Number
		return int8(n), nil
	case connect.TypeInt16:
		n, _ := javaInt(v)
		return int16(n), nil
	case connect.TypeInt32:
		n, _ := javaInt(v)
		return n, nil
	case connect.TypeInt64:
		n, _ := javaLong(v)
		return n, nil
	case connect.TypeFloat32:
		f, _ := javaFloat(v)
		return f, nil
	case connect.TypeFloat64:
		f, _ := javaDouble(v)
		return f, nil
	case connect.TypeBoolean:
		n, _ := javaLong(v)
		return n != 0, nil
	}
	return nil, dataErr("%s is not supported in the Cast transformation.", upperType(target))
}

// castString parses a string as Byte.parseByte … Boolean.parseBoolean do.
func castString(s string, target connect.Type) (any, error) {
	outOfRange := dataErr("Value (%s) was out of range for requested data type", s)
	parseInt := func(bits int) (int64, error) {
		n, err := strconv.ParseInt(s, 10, bits)
		if err != nil {
			return 0, outOfRange
		}
		return n, nil
	}
	switch target {
	case connect.TypeInt8:
		n, err := parseInt(8)
		return int8(n), err
	case connect.TypeInt16:
		n, err := parseInt(16)
		return int16(n), err
	case connect.TypeInt32:
		n, err := parseInt(32)
		return int32(n), err
	case connect.TypeInt64:
		return parseInt(64)
	case connect.TypeFloat32:
		f, ok := parseJavaFloat(s, 32)
		if !ok {
			return nil, outOfRange
		}
		return float32(f), nil
	case connect.TypeFloat64:
		f, ok := parseJavaFloat(s, 64)
		if !ok {
			return nil, outOfRange
		}
		return f, nil
	case connect.TypeBoolean:
		return strings.EqualFold(s, "true"), nil
	}
	return nil, dataErr("%s is not supported in the Cast transformation.", upperType(target))
}

// Close releases nothing.
func (*Cast) Close() error { return nil }
