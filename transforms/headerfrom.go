package transforms

import (
	"fmt"
	"slices"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/transforms/internal/validators"
)

var headerFromConfigDef = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: "fields", Type: connect.ConfigList, Required: true, Validator: validators.NonEmptyList(), Importance: connect.High,
		Doc: "Fields whose values are copied or moved to headers."}).
	Define(connect.ConfigKey{Name: "headers", Type: connect.ConfigList, Required: true, Validator: validators.NonEmptyList(), Importance: connect.High,
		Doc: "Header names, one for each field in the same order."}).
	Define(connect.ConfigKey{Name: "operation", Type: connect.ConfigString, Required: true, Validator: validators.ValidString("move", "copy"), Importance: connect.High,
		Doc: "move removes the fields from the key or value; copy keeps them."}).
	Define(replaceNullKey)

// HeaderFrom copies or moves fields of the key or value into headers
// (org.apache.kafka.connect.transforms.HeaderFrom$Key / $Value).
type HeaderFrom struct {
	side        side
	fields      []string
	headers     []string
	move        bool
	withDefault bool
	schemas     *derivedCache
}

// ConfigDef returns HeaderFrom's configuration keys.
func (*HeaderFrom) ConfigDef() *connect.ConfigDef { return headerFromConfigDef }

// Configure reads the fields, headers and operation.
func (t *HeaderFrom) Configure(props map[string]string) error {
	cfg, err := headerFromConfigDef.Parse(props)
	if err != nil {
		return err
	}
	t.fields, t.headers = cfg.List("fields"), cfg.List("headers")
	if len(t.fields) != len(t.headers) {
		return &connect.FieldError{Name: "headers", Msg: "'fields' config must have the same number of elements as 'headers' config."}
	}
	t.move = cfg.String("operation") == "move"
	t.withDefault = cfg.Bool("replace.null.with.default")
	t.schemas = newDerivedCache()
	return nil
}

func (t *HeaderFrom) purpose() string {
	if t.move {
		return "header move"
	}
	return "header copy"
}

// Apply adds the headers and, for move, removes the fields.
func (t *HeaderFrom) Apply(rec *connect.Record) (*connect.Record, error) {
	schema, value := t.side.schema(rec), t.side.value(rec)
	headers := slices.Clip(rec.Headers)
	if schema == nil {
		m, err := requireMap(value, t.purpose())
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(m))
		for k, v := range m {
			out[k] = v
		}
		for i, f := range t.fields {
			if t.move {
				delete(out, f)
			}
			headers = append(headers, connect.Header{Key: t.headers[i], Value: m[f]})
		}
		r := t.side.with(rec, nil, out)
		r.Headers = headers
		return r, nil
	}
	st, err := requireStruct(value, t.purpose())
	if err != nil {
		return nil, err
	}
	outSchema, outValue := schema, st
	if t.move {
		d, err := t.moveSchema(schema, st.Schema())
		if err != nil {
			return nil, err
		}
		outSchema, outValue = d.schema, d.copyFrom(st, t.withDefault)
	}
	for i, name := range t.fields {
		f := schema.Field(name)
		if f == nil {
			return nil, dataErr("%s is not a field of %s", name, schema)
		}
		var v any
		if sf := st.Schema().Field(name); sf != nil {
			v = fieldValue(st, sf.Index, t.withDefault)
		}
		headers = append(headers, connect.Header{Key: t.headers[i], Schema: f.Schema, Value: v})
	}
	r := t.side.with(rec, outSchema, outValue)
	r.Headers = headers
	return r, nil
}

func (t *HeaderFrom) moveSchema(schema, valueSchema *connect.Schema) (*derived, error) {
	if d, ok := t.schemas.Get(schema); ok {
		return d, nil
	}
	b := CopySchemaBasics(schema, connect.StructBuilder())
	for _, f := range schema.Fields {
		if !slices.Contains(t.fields, f.Name) {
			b.Field(f.Name, f.Schema)
		}
	}
	s, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("header move schema: %w", err)
	}
	d := newDerived(valueSchema, s, nil)
	t.schemas.Put(schema, d)
	return d, nil
}

// Close releases nothing.
func (*HeaderFrom) Close() error { return nil }
