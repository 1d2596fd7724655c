package avro

import (
	"fmt"

	"github.com/kconnect/kconnect/connect"
)

// project converts a value read with the writer's Connect schema to the reader's (the latest
// version of the subject, with use.latest.version), as Avro's schema resolution would: struct
// fields by name, fields the writer lacks set to the reader's default, integers and floats widened
// (int → long → float → double), strings and bytes interchangeable.
func project(v any, from, to *connect.Schema) (any, error) {
	if v == nil || from == to {
		if v == nil && !to.Optional && to.Default == nil {
			return nil, fmt.Errorf("null value for required %s", to)
		}
		return v, nil
	}
	if from.Name != to.Name && (isLogical(from) || isLogical(to)) {
		return nil, fmt.Errorf("%s values cannot be read as %s", from, to)
	}
	switch to.Type {
	case connect.TypeStruct:
		st, ok := v.(*connect.Struct)
		if !ok || from.Type != connect.TypeStruct {
			return nil, fmt.Errorf("%s values cannot be read as %s", from, to)
		}
		out := connect.NewStruct(to)
		for i, tf := range to.Fields {
			ff := from.Field(tf.Name)
			if ff == nil {
				if !tf.Schema.Optional && tf.Schema.Default == nil {
					return nil, fmt.Errorf("field %s of %s is missing from the data and has no default", tf.Name, to)
				}
				continue
			}
			pv, err := project(st.Raw(ff.Index), ff.Schema, tf.Schema)
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", tf.Name, err)
			}
			out.SetAt(i, pv)
		}
		return out, nil
	case connect.TypeArray:
		arr, ok := v.([]any)
		if !ok || from.Type != connect.TypeArray {
			return nil, fmt.Errorf("%s values cannot be read as %s", from, to)
		}
		out := make([]any, len(arr))
		for i, e := range arr {
			var err error
			if out[i], err = project(e, from.ValSchema, to.ValSchema); err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
		}
		return out, nil
	case connect.TypeMap:
		if from.Type != connect.TypeMap {
			return nil, fmt.Errorf("%s values cannot be read as %s", from, to)
		}
		return projectMap(v, from, to)
	}
	return widen(v, to)
}

func isLogical(s *connect.Schema) bool {
	switch s.Name {
	case connect.DecimalName, connect.DateName, connect.TimeName, connect.TimestampName:
		return true
	}
	return false
}

func projectMap(v any, from, to *connect.Schema) (any, error) {
	switch m := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(m))
		for k, e := range m {
			pv, err := project(e, from.ValSchema, to.ValSchema)
			if err != nil {
				return nil, fmt.Errorf("[%q]: %w", k, err)
			}
			out[k] = pv
		}
		return out, nil
	case map[any]any:
		out := make(map[any]any, len(m))
		for k, e := range m {
			pk, err := project(k, from.KeySchema, to.KeySchema)
			if err != nil {
				return nil, fmt.Errorf("key %v: %w", k, err)
			}
			pv, err := project(e, from.ValSchema, to.ValSchema)
			if err != nil {
				return nil, fmt.Errorf("[%v]: %w", k, err)
			}
			out[pk] = pv
		}
		return out, nil
	}
	return nil, fmt.Errorf("%T is not a map", v)
}

// widen converts a primitive to the reader's type where Avro's promotions allow it.
func widen(v any, to *connect.Schema) (any, error) {
	if isLogical(to) {
		return v, nil
	}
	i, isInt := connect.IntegerValue(v)
	switch to.Type {
	case connect.TypeInt8, connect.TypeInt16, connect.TypeInt32, connect.TypeInt64:
		// Avro never narrows; a value that does not fit is refused rather than wrapped.
		switch {
		case !isInt:
		case to.Type == connect.TypeInt8 && i == int64(int8(i)):
			return int8(i), nil
		case to.Type == connect.TypeInt16 && i == int64(int16(i)):
			return int16(i), nil
		case to.Type == connect.TypeInt32 && i == int64(int32(i)):
			return int32(i), nil
		case to.Type == connect.TypeInt64:
			return i, nil
		}
	case connect.TypeFloat32:
		if isInt {
			return float32(i), nil
		}
		if f, ok := v.(float32); ok {
			return f, nil
		}
	case connect.TypeFloat64:
		switch x := v.(type) {
		case float32:
			return float64(x), nil
		case float64:
			return x, nil
		}
		if isInt {
			return float64(i), nil
		}
	case connect.TypeString:
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		}
	case connect.TypeBytes:
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
	case connect.TypeBoolean:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	}
	return nil, fmt.Errorf("a %T cannot be read as %s", v, to)
}
