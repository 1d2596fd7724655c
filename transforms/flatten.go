package transforms

import (
	"fmt"

	"github.com/kconnect/kconnect/connect"
)

const flattenPurpose = "flattening"

var flattenConfigDef = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: "delimiter", Type: connect.ConfigString, Default: ".", Importance: connect.Medium,
		Doc: "Delimiter placed between the field names of each level when naming the flattened fields."})

// Flatten turns nested structs (or maps) into one level, joining the field names of each level
// with a delimiter; arrays are left as they are (org.apache.kafka.connect.transforms.Flatten$Key /
// $Value). A flattened field is optional when it or any enclosing struct is, and takes the
// nearest enclosing default.
type Flatten struct {
	side      side
	delimiter string
	schemas   *schemaCache
}

// ConfigDef returns Flatten's configuration keys.
func (*Flatten) ConfigDef() *connect.ConfigDef { return flattenConfigDef }

// Configure reads the delimiter.
func (t *Flatten) Configure(props map[string]string) error {
	cfg, err := flattenConfigDef.Parse(props)
	if err != nil {
		return err
	}
	t.delimiter = cfg.String("delimiter")
	t.schemas = newSchemaCache()
	return nil
}

// Apply flattens the key or value; null passes unchanged.
func (t *Flatten) Apply(rec *connect.Record) (*connect.Record, error) {
	value := t.side.value(rec)
	if value == nil {
		return rec, nil
	}
	schema := t.side.schema(rec)
	if schema == nil {
		m, err := requireMap(value, flattenPurpose)
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(m))
		if err := t.flattenMap(m, "", out); err != nil {
			return nil, err
		}
		return t.side.with(rec, nil, out), nil
	}
	st, err := requireStructOrNil(value, flattenPurpose)
	if err != nil {
		return nil, err
	}
	updated, ok := t.schemas.Get(schema)
	if !ok {
		b := CopySchemaBasics(schema, connect.StructBuilder())
		def, _ := schema.Default.(*connect.Struct)
		if err := t.flattenSchema(schema, "", b, schema.Optional, def); err != nil {
			return nil, err
		}
		if updated, err = b.Build(); err != nil {
			return nil, fmt.Errorf("flatten schema %s: %w", schema, err)
		}
		t.schemas.Put(schema, updated)
	}
	out := connect.NewStruct(updated)
	if err := t.flattenStruct(st, "", out); err != nil {
		return nil, err
	}
	return t.side.with(rec, updated, out), nil
}

func (t *Flatten) name(prefix, field string) string {
	if prefix == "" {
		return field
	}
	return prefix + t.delimiter + field
}

func (t *Flatten) flattenMap(m map[string]any, prefix string, out map[string]any) error {
	for k, v := range m {
		name := t.name(prefix, k)
		if v == nil {
			out[name] = nil
			continue
		}
		switch typ := schemalessType(v); typ {
		case 0:
			return dataErr("Flatten transformation was passed a value of type class %s which is not supported by Connect's data API", className(v))
		case connect.TypeMap:
			nested, err := requireMap(v, flattenPurpose)
			if err != nil {
				return err
			}
			if err := t.flattenMap(nested, name, out); err != nil {
				return err
			}
		case connect.TypeStruct:
			return dataErr("Flatten transformation does not support class %s for record without schemas (for field %s).", className(v), name)
		default:
			out[name] = v
		}
	}
	return nil
}

func (t *Flatten) flattenSchema(s *connect.Schema, prefix string, b *connect.SchemaBuilder, optional bool, parentDefault *connect.Struct) error {
	for _, f := range s.Fields {
		name := t.name(prefix, f.Name)
		fieldOptional := optional || f.Schema.Optional
		def := f.Schema.Default
		if def == nil && parentDefault != nil {
			def = parentDefault.GetAt(f.Index)
		}
		switch f.Schema.Type {
		case connect.TypeStruct:
			nested, _ := def.(*connect.Struct)
			if err := t.flattenSchema(f.Schema, name, b, fieldOptional, nested); err != nil {
				return err
			}
		case connect.TypeMap:
			return dataErr("Flatten transformation does not support MAP for record with schemas (for field %s).", name)
		default:
			fb := CopySchemaBasics(f.Schema, nil)
			if fieldOptional {
				fb.Optional()
			}
			if def != nil {
				fb.Default(def)
			}
			fs, err := fb.Build()
			if err != nil {
				return fmt.Errorf("flatten field %s: %w", name, err)
			}
			b.Field(name, fs)
		}
	}
	return nil
}

func (t *Flatten) flattenStruct(st *connect.Struct, prefix string, out *connect.Struct) error {
	if st == nil {
		return nil
	}
	for i, f := range st.Schema().Fields {
		name := t.name(prefix, f.Name)
		switch f.Schema.Type {
		case connect.TypeStruct:
			nested, err := requireStructOrNil(st.GetAt(i), flattenPurpose)
			if err != nil {
				return err
			}
			if err := t.flattenStruct(nested, name, out); err != nil {
				return err
			}
		case connect.TypeMap:
			return dataErr("Flatten transformation does not support MAP for record with schemas (for field %s).", name)
		default:
			if err := out.Put(name, st.GetAt(i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Close releases nothing.
func (*Flatten) Close() error { return nil }
