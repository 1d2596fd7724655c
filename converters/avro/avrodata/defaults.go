package avrodata

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters/internal/javafmt"
)

func appendJSONString(dst []byte, s string) []byte { return javafmt.AppendJSONString(dst, s) }

func rawString(s string) json.RawMessage { return appendJSONString(nil, s) }

func rawInt(n int64) json.RawMessage { return strconv.AppendInt(nil, n, 10) }

// defaultJSON renders a Connect default value as the JSON upstream writes for it: logical values
// in their Avro form, bytes as a string of ISO-8859-1 characters, maps with string keys as
// objects and others as [key, value] pairs, structs as objects. asField renders it as an Avro
// field default, where Avro's Java library has widened float32 values to double on the way.
func (d *Data) defaultJSON(s *connect.Schema, v any, asField bool) (json.RawMessage, error) {
	out, err := d.appendDefault(nil, s, v, asField)
	if err != nil {
		return nil, fmt.Errorf("default value of schema %s: %w", s, err)
	}
	return out, nil
}

func (d *Data) appendDefault(dst []byte, s *connect.Schema, v any, asField bool) ([]byte, error) {
	if v == nil {
		return append(dst, "null"...), nil
	}
	v, err := logicalToAvro(s, v)
	if err != nil {
		return nil, err
	}
	wrong := func() ([]byte, error) { return nil, fmt.Errorf("invalid %T for a %s default", v, s.Type) }
	switch s.Type {
	case connect.TypeInt8, connect.TypeInt16, connect.TypeInt32, connect.TypeInt64:
		n, ok := connect.IntegerValue(v)
		if !ok {
			return wrong()
		}
		return strconv.AppendInt(dst, n, 10), nil
	case connect.TypeFloat32:
		f, ok := v.(float32)
		if !ok {
			return wrong()
		}
		if asField {
			return appendJSONDouble(dst, float64(f)), nil
		}
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return appendJSONString(dst, string(javafmt.AppendFloat(nil, f))), nil
		}
		return javafmt.AppendFloat(dst, f), nil
	case connect.TypeFloat64:
		f, ok := v.(float64)
		if !ok {
			return wrong()
		}
		return appendJSONDouble(dst, f), nil
	case connect.TypeBoolean:
		b, ok := v.(bool)
		if !ok {
			return wrong()
		}
		return strconv.AppendBool(dst, b), nil
	case connect.TypeString:
		str, ok := v.(string)
		if !ok {
			return wrong()
		}
		return appendJSONString(dst, str), nil
	case connect.TypeBytes:
		b, ok := v.([]byte)
		if !ok {
			return wrong()
		}
		return appendJSONString(dst, latin1(b)), nil
	case connect.TypeArray:
		arr, ok := v.([]any)
		if !ok {
			return wrong()
		}
		dst = append(dst, '[')
		for i, e := range arr {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = d.appendDefault(dst, s.ValSchema, e, asField); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	case connect.TypeMap:
		return d.appendMapDefault(dst, s, v, asField)
	case connect.TypeStruct:
		st, ok := v.(*connect.Struct)
		if !ok {
			return wrong()
		}
		if isUnionStruct(s) {
			// Upstream renders a union's default as its first member's value, set or not.
			return d.appendDefault(dst, s.Fields[0].Schema, st.GetAt(0), asField)
		}
		dst = append(dst, '{')
		for i, f := range s.Fields {
			if i > 0 {
				dst = append(dst, ',')
			}
			name := f.Name
			if d.cfg.ScrubInvalidNames {
				name = scrub(name)
			}
			dst = appendJSONString(dst, name)
			dst = append(dst, ':')
			if dst, err = d.appendDefault(dst, f.Schema, st.GetAt(i), asField); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	}
	return wrong()
}

// appendMapDefault writes map entries in key order, so the schema text is the same every time
// (upstream's follows the iteration order of the Java map).
func (d *Data) appendMapDefault(dst []byte, s *connect.Schema, v any, asField bool) ([]byte, error) {
	entries, ok, err := sortedEntries(v, func(k any) ([]byte, error) { return d.appendDefault(nil, s.KeySchema, k, asField) })
	if !ok {
		return nil, fmt.Errorf("invalid %T for a map default", v)
	}
	if err != nil {
		return nil, err
	}
	object := stringKeyed(s, d.cfg.AllowOptionalMapKeys)
	if object {
		dst = append(dst, '{')
	} else {
		dst = append(dst, '[')
	}
	for i, e := range entries {
		if i > 0 {
			dst = append(dst, ',')
		}
		if object {
			k, ok := e.k.(string)
			if !ok {
				return nil, fmt.Errorf("invalid map key %T for string keys", e.k)
			}
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
		} else {
			dst = append(dst, '[')
			dst = append(dst, e.key...)
			dst = append(dst, ',')
		}
		if dst, err = d.appendDefault(dst, s.ValSchema, e.v, asField); err != nil {
			return nil, err
		}
		if !object {
			dst = append(dst, ']')
		}
	}
	if object {
		return append(dst, '}'), nil
	}
	return append(dst, ']'), nil
}

// appendJSONDouble writes f as Jackson does: Double.toString, and NaN and the infinities quoted.
func appendJSONDouble(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return appendJSONString(dst, string(javafmt.AppendDouble(nil, f)))
	}
	return javafmt.AppendDouble(dst, f)
}

// latin1 maps each byte to the character with that code, as new String(bytes, ISO_8859_1) does.
func latin1(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		sb.WriteRune(rune(c))
	}
	return sb.String()
}

// logicalToAvro converts a logical type's Go value to its Avro representation.
func logicalToAvro(s *connect.Schema, v any) (any, error) {
	switch s.Name {
	case connect.DecimalName:
		dec, ok := v.(connect.Decimal)
		if !ok {
			return nil, fmt.Errorf("decimal value must be connect.Decimal, got %T", v)
		}
		scale, err := connect.DecimalScale(s)
		if err != nil {
			return nil, err
		}
		if dec.Scale != scale {
			return nil, fmt.Errorf("decimal value has scale %d, its schema %d", dec.Scale, scale)
		}
		return connect.DecimalToBytes(dec), nil
	case connect.DateName:
		t, ok := v.(time.Time)
		if !ok {
			return nil, fmt.Errorf("date value must be time.Time, got %T", v)
		}
		return connect.DateToDays(t)
	case connect.TimeName:
		t, ok := v.(time.Time)
		if !ok {
			return nil, fmt.Errorf("time value must be time.Time, got %T", v)
		}
		return connect.TimeToMillis(t)
	case connect.TimestampName:
		t, ok := v.(time.Time)
		if !ok {
			return nil, fmt.Errorf("timestamp value must be time.Time, got %T", v)
		}
		return t.UnixMilli(), nil
	}
	return v, nil
}

// validDefault reports whether raw is a valid default for a field of type a, by Avro's rules: a
// union's default matches its first branch, a record's names its fields (or they have defaults).
func validDefault(a *Schema, raw json.RawMessage) bool {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return false
	}
	return validDefaultValue(a, v)
}

func validDefaultValue(a *Schema, v any) bool {
	switch a.Type {
	case String, Bytes, Enum, Fixed:
		_, ok := v.(string)
		return ok
	case Int, Long:
		n, ok := v.(json.Number)
		if !ok || strings.ContainsAny(string(n), ".eE") {
			return false
		}
		bits := 64
		if a.Type == Int {
			bits = 32
		}
		_, err := strconv.ParseInt(string(n), 10, bits)
		return err == nil
	case Float, Double:
		switch x := v.(type) {
		case json.Number:
			return true
		case string: // NaN and the infinities, which Jackson quotes
			_, ok := javafmt.ParseNonFinite(x)
			return ok
		}
		return false
	case Boolean:
		_, ok := v.(bool)
		return ok
	case Null:
		return v == nil
	case Array:
		arr, ok := v.([]any)
		if !ok {
			return false
		}
		for _, e := range arr {
			if !validDefaultValue(a.Items, e) {
				return false
			}
		}
		return true
	case Map:
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		for _, e := range m {
			if !validDefaultValue(a.Values, e) {
				return false
			}
		}
		return true
	case Union:
		return len(a.Branches) > 0 && validDefaultValue(a.Branches[0], v)
	case Record:
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		for _, f := range a.Fields {
			fv, has := m[f.Name]
			if !has {
				if f.Default == nil {
					return false
				}
				if !validDefault(f.Type, f.Default) {
					return false
				}
				continue
			}
			if !validDefaultValue(f.Type, fv) {
				return false
			}
		}
		return true
	}
	return false
}
