package transforms

import (
	"fmt"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/transforms/internal/validators"
)

const valueToKeyPurpose = "copying fields from value to key"

var valueToKeyConfigDef = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: "fields", Type: connect.ConfigList, Required: true, Validator: validators.NonEmptyList(), Importance: connect.High,
		Doc: "Fields of the value that form the new key."}).
	Define(replaceNullKey)

// ValueToKey replaces the key with a struct (or map) of fields taken from the value
// (org.apache.kafka.connect.transforms.ValueToKey).
type ValueToKey struct {
	fields      []string
	withDefault bool
	schemas     *derivedCache
}

// ConfigDef returns ValueToKey's configuration keys.
func (*ValueToKey) ConfigDef() *connect.ConfigDef { return valueToKeyConfigDef }

// Configure reads the fields.
func (t *ValueToKey) Configure(props map[string]string) error {
	cfg, err := valueToKeyConfigDef.Parse(props)
	if err != nil {
		return err
	}
	t.fields = cfg.List("fields")
	t.withDefault = cfg.Bool("replace.null.with.default")
	t.schemas = newDerivedCache()
	return nil
}

// Apply sets the new key.
func (t *ValueToKey) Apply(rec *connect.Record) (*connect.Record, error) {
	if rec.ValueSchema == nil {
		m, err := requireMap(rec.Value, valueToKeyPurpose)
		if err != nil {
			return nil, err
		}
		key := make(map[string]any, len(t.fields))
		for _, f := range t.fields {
			key[f] = m[f]
		}
		return keySide.with(rec, nil, key), nil
	}
	st, err := requireStruct(rec.Value, valueToKeyPurpose)
	if err != nil {
		return nil, err
	}
	d, ok := t.schemas.Get(st.Schema())
	if !ok {
		b := connect.StructBuilder()
		for _, name := range t.fields {
			f := st.Schema().Field(name)
			if f == nil {
				return nil, dataErr("Field does not exist: %s", name)
			}
			b.Field(name, f.Schema)
		}
		keySchema, err := b.Build()
		if err != nil {
			return nil, fmt.Errorf("key schema: %w", err)
		}
		d = newDerived(st.Schema(), keySchema, nil)
		t.schemas.Put(st.Schema(), d)
	}
	key, vals := connect.NewStructSlots(d.schema)
	for i, src := range d.from {
		v := fieldValue(st, src, t.withDefault)
		if err := connect.Validate(d.schema.Fields[i].Schema, v); err != nil {
			return nil, err
		}
		vals[i] = v
	}
	out := keySide.with(rec, d.schema, key)
	out.ValueSchema = st.Schema()
	return out, nil
}

// Close releases nothing.
func (*ValueToKey) Close() error { return nil }
