package storage

import (
	"fmt"

	"github.com/kconnect/kconnect/connect"
)

// schemaChange decides, as storage-common's StorageSchemaCompatibility does, whether a record
// whose value schema is rec starts a new file (true) or is projected onto the open file's
// schema cur (false). Only value schemas count.
func schemaChange(compat string, rec, cur *connect.Schema) (bool, error) {
	if rec == nil && cur == nil {
		return false, nil
	}
	if rec == nil || cur == nil {
		return false, fmt.Errorf("switch between schema-based and schema-less data is not supported")
	}
	if compat == "NONE" {
		return rec != cur && !rec.Equal(cur), nil
	}
	if rec.Version == 0 || cur.Version == 0 {
		return false, fmt.Errorf("schema version required for %s compatibility", compat)
	}
	if compat == "FORWARD" {
		return rec.Version < cur.Version, nil
	}
	return rec.Version > cur.Version, nil
}

// project converts value of schema from to schema to as Kafka's SchemaProjector does: struct
// fields by name (a field from lacks takes to's default, or null when optional), integers and
// floats widened, everything else unchanged.
func project(from *connect.Schema, value any, to *connect.Schema) (any, error) {
	if from == to || from.Equal(to) {
		return value, nil
	}
	if value == nil {
		if to.Optional {
			return to.Default, nil
		}
		if to.Default != nil {
			return to.Default, nil
		}
		return nil, fmt.Errorf("null value for required schema %s", to)
	}
	if from.Name != to.Name {
		return nil, fmt.Errorf("schema names differ: %q and %q", from.Name, to.Name)
	}
	if from.Type == connect.TypeStruct && to.Type == connect.TypeStruct {
		st, ok := value.(*connect.Struct)
		if !ok {
			return nil, fmt.Errorf("struct schema with a %T value", value)
		}
		out := connect.NewStruct(to)
		for _, tf := range to.Fields {
			ff := from.Field(tf.Name)
			if ff == nil {
				switch {
				case tf.Schema.Default != nil:
					out.SetAt(tf.Index, tf.Schema.Default)
				case tf.Schema.Optional:
				default:
					return nil, fmt.Errorf("required field %s is missing from the record's schema and has no default", tf.Name)
				}
				continue
			}
			v, err := project(ff.Schema, st.GetAt(ff.Index), tf.Schema)
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", tf.Name, err)
			}
			out.SetAt(tf.Index, v)
		}
		return out, nil
	}
	if from.Type == to.Type {
		return value, nil
	}
	return promote(value, to.Type)
}

// promote widens a number to a wider Connect type, as SchemaProjector allows.
func promote(v any, to connect.Type) (any, error) {
	if n, ok := connect.IntegerValue(v); ok {
		switch to {
		case connect.TypeInt16:
			if _, isInt8 := v.(int8); isInt8 {
				return int16(n), nil
			}
		case connect.TypeInt32:
			switch v.(type) {
			case int8, int16:
				return int32(n), nil
			}
		case connect.TypeInt64:
			return n, nil
		case connect.TypeFloat32:
			return float32(n), nil
		case connect.TypeFloat64:
			return float64(n), nil
		}
	}
	if f, ok := v.(float32); ok && to == connect.TypeFloat64 {
		return float64(f), nil
	}
	return nil, fmt.Errorf("a %T value cannot be projected to %s", v, to)
}
