package transforms

import (
	"fmt"

	"github.com/kconnect/kconnect/connect"
)

var hoistFieldConfigDef = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: "field", Type: connect.ConfigString, Required: true, Importance: connect.Medium,
		Doc: "Name of the single field of the struct or map that wraps the key or value."})

// HoistField wraps the key or value in a struct (or, schemaless, a map) of one field
// (org.apache.kafka.connect.transforms.HoistField$Key / $Value).
type HoistField struct {
	side    side
	field   string
	schemas *schemaCache
}

// ConfigDef returns HoistField's configuration keys.
func (*HoistField) ConfigDef() *connect.ConfigDef { return hoistFieldConfigDef }

// Configure reads the field name.
func (t *HoistField) Configure(props map[string]string) error {
	cfg, err := hoistFieldConfigDef.Parse(props)
	if err != nil {
		return err
	}
	t.field = cfg.String("field")
	t.schemas = newSchemaCache()
	return nil
}

// Apply wraps the key or value.
func (t *HoistField) Apply(rec *connect.Record) (*connect.Record, error) {
	schema, value := t.side.schema(rec), t.side.value(rec)
	if schema == nil {
		return t.side.with(rec, nil, map[string]any{t.field: value}), nil
	}
	updated, ok := t.schemas.Get(schema)
	if !ok {
		var err error
		if updated, err = connect.StructBuilder().Field(t.field, schema).Build(); err != nil {
			return nil, fmt.Errorf("hoist schema: %w", err)
		}
		t.schemas.Put(schema, updated)
	}
	out := connect.NewStruct(updated)
	if err := out.PutAt(0, value); err != nil {
		return nil, err
	}
	return t.side.with(rec, updated, out), nil
}

// Close releases nothing.
func (*HoistField) Close() error { return nil }
