package transforms

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/kconnect/kconnect/connect"
)

const replacePurpose = "field replacement"

var replaceFieldConfigDef = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: "exclude", Type: connect.ConfigList, Default: "", Importance: connect.Medium,
		Doc: "Fields to drop; this wins over include."}).
	Define(connect.ConfigKey{Name: "blacklist", Type: connect.ConfigList, Importance: connect.Low,
		Doc: "Deprecated. Use exclude instead."}).
	Define(connect.ConfigKey{Name: "include", Type: connect.ConfigList, Default: "", Importance: connect.Medium,
		Doc: "Fields to keep; when set, only these are kept."}).
	Define(connect.ConfigKey{Name: "whitelist", Type: connect.ConfigList, Importance: connect.Low,
		Doc: "Deprecated. Use include instead."}).
	Define(connect.ConfigKey{Name: "renames", Type: connect.ConfigList, Default: "", Importance: connect.Medium,
		Validator: connect.ValidatorFunc("list of colon-delimited pairs, e.g. foo:bar,abc:xyz", func(_ string, v any) error {
			_, err := parseRenames(v.([]string))
			return err
		}),
		Doc: "Field renames as old:new pairs."}).
	Define(replaceNullKey)

// ReplaceField keeps, drops and renames fields of the key or value
// (org.apache.kafka.connect.transforms.ReplaceField$Key / $Value). The deprecated names
// whitelist and blacklist are read when include and exclude are not set, as upstream did before
// removing them in Kafka 4.0.
type ReplaceField struct {
	side             side
	include, exclude map[string]bool
	renames, reverse map[string]string
	withDefault      bool
	schemas          *derivedCache
}

// ConfigDef returns ReplaceField's configuration keys.
func (*ReplaceField) ConfigDef() *connect.ConfigDef { return replaceFieldConfigDef }

// Configure reads the field lists and renames.
func (t *ReplaceField) Configure(props map[string]string) error {
	cfg, err := replaceFieldConfigDef.Parse(props)
	if err != nil {
		return err
	}
	list := func(key, deprecated string) []string {
		if !cfg.IsSet(key) && cfg.IsSet(deprecated) {
			slog.Warn("configuration key is deprecated", "key", deprecated, "use", key)
			return cfg.List(deprecated)
		}
		return cfg.List(key)
	}
	t.include, t.exclude = set(list("include", "whitelist")), set(list("exclude", "blacklist"))
	if t.renames, err = parseRenames(cfg.List("renames")); err != nil {
		return err
	}
	t.reverse = make(map[string]string, len(t.renames))
	for from, to := range t.renames {
		t.reverse[to] = from
	}
	t.withDefault = cfg.Bool("replace.null.with.default")
	t.schemas = newDerivedCache()
	return nil
}

func set(items []string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, it := range items {
		m[it] = true
	}
	return m
}

func parseRenames(mappings []string) (map[string]string, error) {
	m := make(map[string]string, len(mappings))
	for _, mapping := range mappings {
		parts := strings.Split(mapping, ":")
		for len(parts) > 1 && parts[len(parts)-1] == "" { // Java's split drops trailing empty strings
			parts = parts[:len(parts)-1]
		}
		if len(parts) != 2 {
			return nil, &connect.FieldError{Name: "renames", Msg: fmt.Sprintf("Invalid value %s for configuration renames: Invalid rename mapping: %s", javaList(mappings), mapping)}
		}
		m[parts[0]] = parts[1]
	}
	return m, nil
}

func (t *ReplaceField) keep(field string) bool {
	return !t.exclude[field] && (len(t.include) == 0 || t.include[field])
}

func (t *ReplaceField) renamed(field string) string {
	if to, ok := t.renames[field]; ok {
		return to
	}
	return field
}

// Apply filters and renames; a null key or value passes unchanged.
func (t *ReplaceField) Apply(rec *connect.Record) (*connect.Record, error) {
	value := t.side.value(rec)
	if value == nil {
		return rec, nil
	}
	schema := t.side.schema(rec)
	if schema == nil {
		m, err := requireMap(value, replacePurpose)
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(m))
		for k, v := range m {
			if t.keep(k) {
				out[t.renamed(k)] = v
			}
		}
		return t.side.with(rec, nil, out), nil
	}
	st, err := requireStruct(value, replacePurpose)
	if err != nil {
		return nil, err
	}
	in := st.Schema()
	d, ok := t.schemas.Get(in)
	if !ok {
		b := CopySchemaBasics(in, connect.StructBuilder())
		for _, f := range in.Fields {
			if t.keep(f.Name) {
				b.Field(t.renamed(f.Name), f.Schema)
			}
		}
		updated, err := b.Build()
		if err != nil {
			return nil, fmt.Errorf("replace fields of %s: %w", in, err)
		}
		d = newDerived(in, updated, func(name string) string {
			if from, ok := t.reverse[name]; ok {
				return from
			}
			return name
		})
		t.schemas.Put(in, d)
	}
	return t.side.with(rec, d.schema, d.copyFrom(st, t.withDefault)), nil
}

// Close releases nothing.
func (*ReplaceField) Close() error { return nil }
