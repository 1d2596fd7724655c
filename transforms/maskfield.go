package transforms

import (
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/transforms/internal/validators"
)

const maskPurpose = "mask fields"

var maskFieldConfigDef = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: "fields", Type: connect.ConfigList, Required: true, Validator: validators.NonEmptyList(), Importance: connect.High,
		Doc: "Names of the fields to mask."}).
	Define(connect.ConfigKey{Name: "replacement", Type: connect.ConfigString, Validator: validators.NonEmptyString(), Importance: connect.Low,
		Doc: "Replacement for every masked value, converted to the field's type (numbers and strings only); without it a value becomes its type's empty value (0, false, \"\", an empty array or map)."}).
	Define(replaceNullKey)

// MaskField replaces fields with the empty value of their type or a configured replacement
// (org.apache.kafka.connect.transforms.MaskField$Key / $Value).
type MaskField struct {
	side        side
	fields      map[string]bool
	replacement *string
	withDefault bool
}

// ConfigDef returns MaskField's configuration keys.
func (*MaskField) ConfigDef() *connect.ConfigDef { return maskFieldConfigDef }

// Configure reads the fields and the replacement.
func (t *MaskField) Configure(props map[string]string) error {
	cfg, err := maskFieldConfigDef.Parse(props)
	if err != nil {
		return err
	}
	t.fields = map[string]bool{}
	for _, f := range cfg.List("fields") {
		t.fields[f] = true
	}
	if cfg.IsSet("replacement") {
		r := cfg.String("replacement")
		t.replacement = &r
	}
	t.withDefault = cfg.Bool("replace.null.with.default")
	return nil
}

// Apply masks the fields of the key or value.
func (t *MaskField) Apply(rec *connect.Record) (*connect.Record, error) {
	schema, value := t.side.schema(rec), t.side.value(rec)
	if schema == nil {
		m, err := requireMap(value, maskPurpose)
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(m)+len(t.fields))
		for k, v := range m {
			out[k] = v
		}
		for f := range t.fields {
			if out[f], err = t.mask(m[f]); err != nil {
				return nil, err
			}
		}
		return t.side.with(rec, nil, out), nil
	}
	st, err := requireStruct(value, maskPurpose)
	if err != nil {
		return nil, err
	}
	out := connect.NewStruct(st.Schema())
	for i, f := range st.Schema().Fields {
		v := fieldValue(st, i, t.withDefault)
		if !t.fields[f.Name] {
			out.SetAt(i, v)
			continue
		}
		if v, err = t.mask(v); err != nil {
			return nil, err
		}
		if err := out.PutAt(i, v); err != nil {
			return nil, err
		}
	}
	return t.side.with(rec, st.Schema(), out), nil
}

func (t *MaskField) mask(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if t.replacement != nil {
		return maskWith(v, *t.replacement)
	}
	switch v.(type) {
	case bool:
		return false, nil
	case int8:
		return int8(0), nil
	case int16:
		return int16(0), nil
	case int32:
		return int32(0), nil
	case int64:
		return int64(0), nil
	case float32:
		return float32(0), nil
	case float64:
		return float64(0), nil
	case connect.Decimal:
		return connect.Decimal{}, nil
	case time.Time:
		return time.UnixMilli(0).UTC(), nil
	case string:
		return "", nil
	case []any:
		return []any{}, nil
	case map[string]any:
		return map[string]any{}, nil
	case map[any]any:
		return map[any]any{}, nil
	}
	return nil, dataErr("Cannot mask value of type: class %s", className(v))
}

// maskWith converts the replacement to v's type, as Values.convertTo… (and new BigDecimal) do.
func maskWith(v any, replacement string) (any, error) {
	if _, ok := v.(string); ok {
		return replacement, nil
	}
	if !isNumber(v) {
		return nil, dataErr("Cannot mask value of type class %s with custom replacement.", className(v))
	}
	d, err := connect.ParseDecimal(replacement)
	if err != nil {
		return nil, dataErr("Unable to convert %s (class java.lang.String) to a number", replacement)
	}
	switch v.(type) {
	case int8:
		n, _ := javaInt(d)
		return int8(n), nil
	case int16:
		n, _ := javaInt(d)
		return int16(n), nil
	case int32:
		n, _ := javaInt(d)
		return n, nil
	case int64:
		n, _ := javaLong(d)
		return n, nil
	case float32:
		return float32(d.Float64()), nil
	case float64:
		return d.Float64(), nil
	}
	return d, nil
}

// Close releases nothing.
func (*MaskField) Close() error { return nil }
