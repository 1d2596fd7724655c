package connect

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ConfigType is the type of a configuration value, named as upstream's ConfigDef.Type.
type ConfigType string

// Configuration value types.
const (
	ConfigBoolean  ConfigType = "BOOLEAN"
	ConfigString   ConfigType = "STRING"
	ConfigInt      ConfigType = "INT"
	ConfigShort    ConfigType = "SHORT"
	ConfigLong     ConfigType = "LONG"
	ConfigDouble   ConfigType = "DOUBLE"
	ConfigList     ConfigType = "LIST"
	ConfigClass    ConfigType = "CLASS"
	ConfigPassword ConfigType = "PASSWORD"
)

// Importance ranks configuration keys for documentation, as upstream.
type Importance string

// Importance levels.
const (
	High   Importance = "HIGH"
	Medium Importance = "MEDIUM"
	Low    Importance = "LOW"
)

// Width is a UI hint for the size of an input field.
type Width string

// Widths.
const (
	WidthNone   Width = "NONE"
	WidthShort  Width = "SHORT"
	WidthMedium Width = "MEDIUM"
	WidthLong   Width = "LONG"
)

// Validator checks a parsed configuration value.
type Validator interface {
	Validate(name string, value any) error
}

// Recommender is optionally implemented by validators that know the valid values, which the
// validate endpoint reports as recommended_values.
type Recommender interface {
	Recommended() []string
}

// ConfigKey declares one configuration key.
type ConfigKey struct {
	Name string
	Type ConfigType
	// Default is the default value in its string form (as it would appear in a properties file);
	// nil means the default is null. Ignored when Required is set.
	Default any
	// Required keys have no default: a missing value is an error.
	Required     bool
	Validator    Validator
	Importance   Importance
	Doc          string
	Group        string
	OrderInGroup int
	Width        Width
	DisplayName  string
	Dependents   []string
}

// ConfigDef is an ordered set of configuration keys; build it with Define.
type ConfigDef struct {
	keys  []ConfigKey
	index map[string]int
}

// NewConfigDef returns an empty definition.
func NewConfigDef() *ConfigDef { return &ConfigDef{index: map[string]int{}} }

// Define adds or replaces a key. It panics when the key's default does not parse, which is a
// programming error caught by the plugin's tests.
func (d *ConfigDef) Define(k ConfigKey) *ConfigDef {
	if !k.Required && k.Default != nil {
		v, err := parseConfigValue(k.Type, k.Default)
		if err != nil {
			panic(fmt.Sprintf("config key %s: invalid default: %v", k.Name, err))
		}
		k.Default = v
	}
	if k.Width == "" {
		k.Width = WidthNone
	}
	if k.Importance == "" {
		k.Importance = Medium
	}
	if i, ok := d.index[k.Name]; ok {
		d.keys[i] = k
		return d
	}
	d.index[k.Name] = len(d.keys)
	d.keys = append(d.keys, k)
	return d
}

// Merge adds every key of other (replacing keys of the same name) and returns d.
func (d *ConfigDef) Merge(other *ConfigDef) *ConfigDef {
	for _, k := range other.keys {
		d.Define(k)
	}
	return d
}

// Keys returns the keys in definition order.
func (d *ConfigDef) Keys() []ConfigKey { return d.keys }

// Key returns the key called name.
func (d *ConfigDef) Key(name string) (ConfigKey, bool) {
	i, ok := d.index[name]
	if !ok {
		return ConfigKey{}, false
	}
	return d.keys[i], true
}

// Groups returns the group names in order of first appearance.
func (d *ConfigDef) Groups() []string {
	var groups []string
	seen := map[string]bool{}
	for _, k := range d.keys {
		if k.Group != "" && !seen[k.Group] {
			seen[k.Group] = true
			groups = append(groups, k.Group)
		}
	}
	return groups
}

// ConfigValue is the validation result of one key, shaped like upstream's ConfigValue, plus
// warnings: likely mistakes that do not make the configuration invalid (an include list naming no
// existing table), which the runtime logs and shows without counting them as errors.
type ConfigValue struct {
	Name              string
	Value             any
	RecommendedValues []string
	Errors            []string
	Warnings          []string
	Visible           bool
}

// Validate checks every defined key of props and returns one result per key, in definition order.
func (d *ConfigDef) Validate(props map[string]string) []ConfigValue {
	out := make([]ConfigValue, 0, len(d.keys))
	for _, k := range d.keys {
		cv := ConfigValue{Name: k.Name, Visible: true}
		if r, ok := k.Validator.(Recommender); ok {
			cv.RecommendedValues = r.Recommended()
		}
		v, err := d.parseKey(k, props)
		cv.Value = v
		if raw, ok := props[k.Name]; ok {
			cv.Value = raw
		}
		if err != nil {
			cv.Errors = append(cv.Errors, err.Error())
		}
		out = append(out, cv)
	}
	return out
}

// Parse parses and validates props, returning every problem at once.
func (d *ConfigDef) Parse(props map[string]string) (*Config, error) {
	c := &Config{values: make(map[string]any, len(d.keys)), originals: props}
	var errs []error
	for _, k := range d.keys {
		v, err := d.parseKey(k, props)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.values[k.Name] = v
	}
	if len(errs) > 0 {
		return nil, &ConfigError{Errs: errs}
	}
	return c, nil
}

func (d *ConfigDef) parseKey(k ConfigKey, props map[string]string) (any, error) {
	raw, ok := props[k.Name]
	if !ok {
		if k.Required {
			return nil, &FieldError{Name: k.Name, Msg: fmt.Sprintf("Missing required configuration %q which has no default value.", k.Name)}
		}
		if k.Validator != nil && k.Default != nil {
			if err := k.Validator.Validate(k.Name, k.Default); err != nil {
				return nil, &FieldError{Name: k.Name, Msg: err.Error()}
			}
		}
		return k.Default, nil
	}
	v, err := parseConfigValue(k.Type, raw)
	if err != nil {
		return nil, &FieldError{Name: k.Name, Msg: fmt.Sprintf("Invalid value %s for configuration %s: %v", shown(k, raw), k.Name, err)}
	}
	if k.Validator != nil {
		if err := k.Validator.Validate(k.Name, v); err != nil {
			return nil, &FieldError{Name: k.Name, Msg: err.Error()}
		}
	}
	return v, nil
}

func shown(k ConfigKey, raw string) string {
	if k.Type == ConfigPassword {
		return "[hidden]"
	}
	return raw
}

// Password is a secret configuration value; it prints as [hidden] so it never lands in logs.
type Password string

// String hides the secret.
func (Password) String() string { return "[hidden]" }

// Value returns the secret itself.
func (p Password) Value() string { return string(p) }

func parseConfigValue(t ConfigType, v any) (any, error) {
	s, isString := v.(string)
	if !isString {
		return v, nil
	}
	trimmed := strings.TrimSpace(s)
	switch t {
	case ConfigBoolean:
		switch strings.ToLower(trimmed) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, errors.New("Expected value to be either true or false")
	case ConfigString, ConfigClass:
		return trimmed, nil
	case ConfigPassword:
		return Password(s), nil
	case ConfigInt, ConfigShort, ConfigLong:
		bits := map[ConfigType]int{ConfigInt: 32, ConfigShort: 16, ConfigLong: 64}[t]
		n, err := strconv.ParseInt(trimmed, 10, bits)
		if err != nil {
			return nil, fmt.Errorf("Not a number of type %s", t)
		}
		switch t {
		case ConfigInt:
			return int(n), nil
		case ConfigShort:
			return int16(n), nil
		}
		return n, nil
	case ConfigDouble:
		f, err := strconv.ParseFloat(trimmed, 64)
		if err != nil {
			return nil, fmt.Errorf("Not a number of type %s", t)
		}
		return f, nil
	case ConfigList:
		if trimmed == "" {
			return []string{}, nil
		}
		parts := strings.Split(trimmed, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		return parts, nil
	}
	return nil, fmt.Errorf("unknown config type %q", t)
}

// FieldError is a problem with one configuration key.
type FieldError struct {
	Name string
	Msg  string
}

func (e *FieldError) Error() string { return e.Msg }

// ConfigError collects every FieldError of a configuration.
type ConfigError struct{ Errs []error }

func (e *ConfigError) Error() string {
	msgs := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap returns the individual errors.
func (e *ConfigError) Unwrap() []error { return e.Errs }

// Config is a parsed configuration. Getters panic only when asked for a key the ConfigDef does not
// declare or with the wrong type, which is a programming error.
type Config struct {
	values    map[string]any
	originals map[string]string
}

func (c *Config) get(name string) any {
	v, ok := c.values[name]
	if !ok {
		panic(fmt.Sprintf("config key %q is not defined", name))
	}
	return v
}

// String returns a STRING or CLASS value ("" when null).
func (c *Config) String(name string) string {
	v, _ := c.get(name).(string)
	return v
}

// Int returns an INT value.
func (c *Config) Int(name string) int { return c.get(name).(int) }

// Long returns a LONG value.
func (c *Config) Long(name string) int64 { return c.get(name).(int64) }

// Short returns a SHORT value.
func (c *Config) Short(name string) int16 { return c.get(name).(int16) }

// Double returns a DOUBLE value.
func (c *Config) Double(name string) float64 { return c.get(name).(float64) }

// Bool returns a BOOLEAN value.
func (c *Config) Bool(name string) bool { return c.get(name).(bool) }

// List returns a LIST value (nil when null).
func (c *Config) List(name string) []string {
	v, _ := c.get(name).([]string)
	return v
}

// Password returns a PASSWORD value ("" when null).
func (c *Config) Password(name string) Password {
	v, _ := c.get(name).(Password)
	return v
}

// Millis returns an INT or LONG value holding milliseconds as a duration.
func (c *Config) Millis(name string) time.Duration {
	switch v := c.get(name).(type) {
	case int:
		return time.Duration(v) * time.Millisecond
	case int64:
		return time.Duration(v) * time.Millisecond
	}
	panic(fmt.Sprintf("config key %q is not a number", name))
}

// IsSet reports whether the key was given explicitly rather than defaulted.
func (c *Config) IsSet(name string) bool {
	_, ok := c.originals[name]
	return ok
}

// Originals returns the raw properties the config was parsed from, including undeclared keys.
func (c *Config) Originals() map[string]string { return c.originals }

// WithPrefix returns the original properties starting with prefix, with the prefix removed.
func (c *Config) WithPrefix(prefix string) map[string]string { return WithPrefix(c.originals, prefix) }

// WithPrefix returns the entries of props whose key starts with prefix, with the prefix removed.
func WithPrefix(props map[string]string, prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range props {
		if strings.HasPrefix(k, prefix) {
			out[k[len(prefix):]] = v
		}
	}
	return out
}

type validatorFunc struct {
	fn   func(name string, v any) error
	desc string
	recs []string
}

func (f validatorFunc) Validate(name string, v any) error { return f.fn(name, v) }
func (f validatorFunc) String() string                    { return f.desc }
func (f validatorFunc) Recommended() []string             { return f.recs }

// ValidatorFunc adapts a function to a Validator; desc documents it (e.g. "[1,...]").
func ValidatorFunc(desc string, fn func(name string, value any) error) Validator {
	return validatorFunc{fn: fn, desc: desc}
}

// OneOf accepts a string (or every element of a list) equal to one of the values, ignoring case,
// like upstream's CaseInsensitiveValidString; a null value is accepted.
func OneOf(values ...string) Validator {
	return validatorFunc{
		desc: "[" + strings.Join(values, ", ") + "]",
		recs: values,
		fn: func(name string, v any) error {
			var items []string
			switch x := v.(type) {
			case nil:
				return nil
			case string:
				items = []string{x}
			case []string:
				items = x
			}
			for _, it := range items {
				ok := false
				for _, allowed := range values {
					if strings.EqualFold(it, allowed) {
						ok = true
						break
					}
				}
				if !ok {
					return fmt.Errorf("Invalid value %s for configuration %s: String must be one of: %s", it, name, strings.Join(values, ", "))
				}
			}
			return nil
		},
	}
}

// Between accepts numbers in [lo, hi]; use math.Inf for an open end.
func Between(lo, hi float64) Validator {
	desc := fmt.Sprintf("[%v,...,%v]", lo, hi)
	switch {
	case math.IsInf(hi, 1):
		desc = fmt.Sprintf("[%v,...]", lo)
	case math.IsInf(lo, -1):
		desc = fmt.Sprintf("[...,%v]", hi)
	}
	return ValidatorFunc(desc, func(name string, v any) error {
		var f float64
		switch x := v.(type) {
		case nil:
			return nil
		case int:
			f = float64(x)
		case int16:
			f = float64(x)
		case int64:
			f = float64(x)
		case float64:
			f = x
		default:
			return fmt.Errorf("Invalid value %v for configuration %s: not a number", v, name)
		}
		if f < lo {
			return fmt.Errorf("Invalid value %v for configuration %s: Value must be at least %v", v, name, lo)
		}
		if f > hi {
			return fmt.Errorf("Invalid value %v for configuration %s: Value must be no more than %v", v, name, hi)
		}
		return nil
	})
}

// AtLeast accepts numbers ≥ lo.
func AtLeast(lo float64) Validator { return Between(lo, math.Inf(1)) }

// NonEmptyString rejects a null or blank string.
func NonEmptyString() Validator {
	return ValidatorFunc("non-empty string", func(name string, v any) error {
		if s, _ := v.(string); strings.TrimSpace(s) == "" {
			return fmt.Errorf("Invalid value for configuration %s: String may not be empty", name)
		}
		return nil
	})
}

// SortedKeys returns the keys of m in lexical order, for deterministic output.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
