package connect

import (
	"bytes"
	"fmt"
	"math/big"
	"time"
)

// Go representations of Connect values:
//
//	int8, int16, int32, int64, float32, float64, bool, string, []byte  primitives
//	[]any                                                               array
//	map[string]any (string keys) or map[any]any                         map
//	*Struct                                                             struct
//	Decimal                                                             Decimal logical type
//	time.Time                                                           Date, Time, Timestamp logical types
//
// Values without a schema (schemaless JSON) use the same representations; JSON numbers become
// int64 when integral and float64 otherwise, as Kafka's JsonConverter does.

// Validate checks that value conforms to schema, as ConnectSchema.validateValue does. A nil value
// is valid for an optional schema or one with a default.
func Validate(s *Schema, value any) error {
	return validate(s, value, "")
}

func validate(s *Schema, value any, path string) error {
	if s == nil {
		return nil
	}
	if value == nil {
		if s.Optional || s.Default != nil {
			return nil
		}
		return fieldErr(path, "null value for required %s field", s)
	}
	switch s.Name {
	case DecimalName:
		d, ok := value.(Decimal)
		if !ok {
			return fieldErr(path, "decimal value must be connect.Decimal, got %T", value)
		}
		if scale, err := DecimalScale(s); err == nil && scale != d.Scale {
			return fieldErr(path, "Decimal value has mismatching scale for given Decimal schema. Schema has scale %d, value has scale %d.", scale, d.Scale)
		}
		return nil
	case DateName, TimeName, TimestampName:
		if _, ok := value.(time.Time); ok {
			return nil
		}
		return fieldErr(path, "%s value must be time.Time, got %T", s.Name, value)
	}
	ok := false
	switch s.Type {
	case TypeInt8:
		_, ok = value.(int8)
	case TypeInt16:
		_, ok = value.(int16)
	case TypeInt32:
		_, ok = value.(int32)
	case TypeInt64:
		_, ok = value.(int64)
	case TypeFloat32:
		_, ok = value.(float32)
	case TypeFloat64:
		_, ok = value.(float64)
	case TypeBoolean:
		_, ok = value.(bool)
	case TypeString:
		_, ok = value.(string)
	case TypeBytes:
		_, ok = value.([]byte)
	case TypeArray:
		arr, isArr := value.([]any)
		if !isArr {
			break
		}
		for i, e := range arr {
			if err := validate(s.ValSchema, e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	case TypeMap:
		switch m := value.(type) {
		case map[string]any:
			if s.KeySchema.Type != TypeString {
				break
			}
			for k, v := range m {
				if err := validate(s.ValSchema, v, path+"["+k+"]"); err != nil {
					return err
				}
			}
			return nil
		case map[any]any:
			for k, v := range m {
				if err := validate(s.KeySchema, k, path+"{key}"); err != nil {
					return err
				}
				if err := validate(s.ValSchema, v, fmt.Sprintf("%s[%v]", path, k)); err != nil {
					return err
				}
			}
			return nil
		}
	case TypeStruct:
		st, isStruct := value.(*Struct)
		if !isStruct {
			break
		}
		if st.schema != s && !st.schema.Equal(s) {
			return fieldErr(path, "struct schema %s does not match %s", st.schema, s)
		}
		return nil
	}
	if !ok {
		return fieldErr(path, "invalid value of Go type %T for %s schema", value, s)
	}
	return nil
}

func fieldErr(path, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = "field " + path + ": " + msg
	}
	return &DataError{Msg: msg}
}

// DataError reports a value that does not conform to its schema (upstream's DataException).
type DataError struct{ Msg string }

func (e *DataError) Error() string { return e.Msg }

func valuesEqual(a, b any) bool {
	switch av := a.(type) {
	case nil:
		return b == nil
	case []byte:
		bv, ok := b.([]byte)
		return ok && bytes.Equal(av, bv)
	case Decimal:
		bv, ok := b.(Decimal)
		return ok && av.Scale == bv.Scale && av.unscaled().Cmp(bv.unscaled()) == 0
	case time.Time:
		bv, ok := b.(time.Time)
		return ok && av.Equal(bv)
	case *big.Int:
		bv, ok := b.(*big.Int)
		return ok && av.Cmp(bv) == 0
	case *Struct:
		bv, ok := b.(*Struct)
		return ok && av.Equal(bv)
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			return false
		}
		for i := range av {
			if !valuesEqual(av[i], bv[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		bv, ok := b.(map[string]any)
		return ok && mapsEqual(av, bv)
	case map[any]any:
		bv, ok := b.(map[any]any)
		return ok && mapsEqual(av, bv)
	default:
		return a == b
	}
}

func mapsEqual[K comparable](a, b map[K]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !valuesEqual(v, w) {
			return false
		}
	}
	return true
}

// ValuesEqual reports whether two Connect values are equal, comparing bytes, decimals, times,
// arrays, maps and structs by content.
func ValuesEqual(a, b any) bool { return valuesEqual(a, b) }

// IntegerValue returns an int8, int16, int32 or int64 value widened to int64; ok is false for
// any other value.
func IntegerValue(v any) (n int64, ok bool) {
	switch x := v.(type) {
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	}
	return 0, false
}
