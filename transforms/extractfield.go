package transforms

import (
	"fmt"

	"github.com/kconnect/kconnect/connect"
)

const extractPurpose = "field extraction"

var extractFieldConfigDef = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: "field", Type: connect.ConfigString, Required: true, Importance: connect.Medium,
		Doc: "Name (or, with field.syntax.version=V2, path) of the field to extract."}).
	Define(replaceNullKey).
	Define(fieldSyntaxKey)

// ExtractField replaces the key or value with one of its fields
// (org.apache.kafka.connect.transforms.ExtractField$Key / $Value). Null passes through.
type ExtractField struct {
	side        side
	original    string
	path        fieldPath
	withDefault bool
}

// ConfigDef returns ExtractField's configuration keys.
func (*ExtractField) ConfigDef() *connect.ConfigDef { return extractFieldConfigDef }

// Configure reads the field path.
func (t *ExtractField) Configure(props map[string]string) error {
	cfg, err := extractFieldConfigDef.Parse(props)
	if err != nil {
		return err
	}
	t.original = cfg.String("field")
	if t.path, err = newFieldPath(t.original, cfg.String("field.syntax.version")); err != nil {
		return &connect.FieldError{Name: "field", Msg: err.Error()}
	}
	t.withDefault = cfg.Bool("replace.null.with.default")
	return nil
}

// Apply extracts the field.
func (t *ExtractField) Apply(rec *connect.Record) (*connect.Record, error) {
	schema, value := t.side.schema(rec), t.side.value(rec)
	if schema == nil {
		if value == nil {
			return t.side.with(rec, nil, nil), nil
		}
		m, err := requireMap(value, extractPurpose)
		if err != nil {
			return nil, err
		}
		v, err := t.path.mapValue(m)
		if err != nil {
			return nil, err
		}
		return t.side.with(rec, nil, v), nil
	}
	st, err := requireStructOrNil(value, extractPurpose)
	if err != nil {
		return nil, err
	}
	f := t.path.field(schema)
	if f == nil {
		return nil, fmt.Errorf("Unknown field: %s", t.original)
	}
	var v any
	if st != nil {
		if v, err = t.path.structValue(st, t.withDefault); err != nil {
			return nil, err
		}
	}
	return t.side.with(rec, f.Schema, v), nil
}

// Close releases nothing.
func (*ExtractField) Close() error { return nil }
