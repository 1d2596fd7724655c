package debezium

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/lru"
	"github.com/kconnect/kconnect/transforms/internal/javaregex"
	"github.com/kconnect/kconnect/transforms/internal/validators"
)

var byLogicalTableRouterConfigDef = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: "topic.regex", Type: connect.ConfigString, Required: true, Width: connect.WidthLong, Importance: connect.Low,
		Validator: validators.Regex(), Doc: "Regular expression matched against the whole topic name to find the logical table."}).
	Define(connect.ConfigKey{Name: "topic.replacement", Type: connect.ConfigString, Required: true, Width: connect.WidthLong, Importance: connect.Low,
		Doc: "The new topic name, with $1 or ${name} for the regex's groups."}).
	Define(connect.ConfigKey{Name: "key.enforce.uniqueness", Type: connect.ConfigBoolean, Default: "true", Width: connect.WidthShort, Importance: connect.Low,
		Doc: "Whether a field naming the physical table is added to the key, since tables sharing a topic may repeat keys."}).
	Define(connect.ConfigKey{Name: "key.field.regex", Type: connect.ConfigString, Width: connect.WidthLong, Importance: connect.Low,
		Validator: connect.ValidatorFunc("valid regex", func(name string, v any) error {
			if s, _ := v.(string); strings.TrimSpace(s) == "" {
				return nil
			}
			return validators.Regex().Validate(name, v)
		}),
		Doc: "Regular expression matched against the original topic to derive the physical table identifier added to the key (the whole topic without it)."}).
	Define(connect.ConfigKey{Name: "key.field.name", Type: connect.ConfigString, Default: "__dbz__physicalTableIdentifier", Width: connect.WidthLong, Importance: connect.Low,
		Doc: "The key field naming the physical table."}).
	Define(connect.ConfigKey{Name: "key.field.replacement", Type: connect.ConfigString, Width: connect.WidthLong, Importance: connect.Low,
		Doc: "The physical table identifier, with groups of key.field.regex; required with key.field.regex."}).
	Define(connect.ConfigKey{Name: "schema.name.adjustment.mode", Type: connect.ConfigString, Default: "none", Width: connect.WidthMedium, Importance: connect.Low,
		Validator: connect.OneOf("none", "avro", "avro_unicode"),
		Doc:       "How the key and value schema names derived from the new topic are made valid: none, avro (invalid characters become _) or avro_unicode (_uXXXX)."}).
	Define(connect.ConfigKey{Name: "logical.table.cache.size", Type: connect.ConfigInt, Default: "16", Width: connect.WidthLong, Importance: connect.Low,
		Validator: connect.AtLeast(0), Doc: "Entries kept in each of the caches of derived schemas, topics and key identifiers."})

// ByLogicalTableRouter sends the change events of several physical tables (shards, partitions)
// to one topic for their logical table (io.debezium.transforms.ByLogicalTableRouter), renaming the
// key and envelope schemas after the new topic and adding a key field that tells the physical
// tables apart.
type ByLogicalTableRouter struct {
	topicRegex     *javaregex.Pattern
	topicRepl      javaregex.Replacement
	keyRegex       *javaregex.Pattern // nil without key.field.regex
	keyRepl        javaregex.Replacement
	enforceUnique  bool
	keyField       string
	adjust         func(string) string
	keySchemas     *lru.Cache[*connect.Schema, *connect.Schema]
	envelopes      *lru.Cache[*connect.Schema, *connect.Schema]
	topics, keyIDs *lru.Cache[string, string]
}

// ConfigDef returns the transform's configuration keys.
func (*ByLogicalTableRouter) ConfigDef() *connect.ConfigDef { return byLogicalTableRouterConfigDef }

// Configure reads the configuration.
func (t *ByLogicalTableRouter) Configure(props map[string]string) error {
	cfg, err := byLogicalTableRouterConfigDef.Parse(props)
	if err != nil {
		return err
	}
	if t.topicRegex, err = javaregex.Compile(cfg.String("topic.regex")); err != nil {
		return &connect.FieldError{Name: "topic.regex", Msg: err.Error()}
	}
	if t.topicRepl, err = t.topicRegex.ParseReplacement(cfg.String("topic.replacement")); err != nil {
		return &connect.FieldError{Name: "topic.replacement", Msg: err.Error()}
	}
	if re := strings.TrimSpace(cfg.String("key.field.regex")); re != "" {
		repl := strings.TrimSpace(cfg.String("key.field.replacement"))
		if repl == "" {
			return &connect.FieldError{Name: "key.field.replacement", Msg: "key.field.replacement must be non-empty if key.field.regex is set."}
		}
		if t.keyRegex, err = javaregex.Compile(re); err != nil {
			return &connect.FieldError{Name: "key.field.regex", Msg: err.Error()}
		}
		if t.keyRepl, err = t.keyRegex.ParseReplacement(cfg.String("key.field.replacement")); err != nil {
			return &connect.FieldError{Name: "key.field.replacement", Msg: err.Error()}
		}
	}
	t.enforceUnique, t.keyField = cfg.Bool("key.enforce.uniqueness"), cfg.String("key.field.name")
	t.adjust = schemaNameAdjuster(strings.ToLower(cfg.String("schema.name.adjustment.mode")))
	size := cfg.Int("logical.table.cache.size")
	t.keySchemas = lru.New[*connect.Schema, *connect.Schema](size)
	t.envelopes = lru.New[*connect.Schema, *connect.Schema](size)
	t.topics, t.keyIDs = lru.New[string, string](size), lru.New[string, string](size)
	return nil
}

// Apply reroutes a record whose topic matches.
func (t *ByLogicalTableRouter) Apply(rec *connect.Record) (*connect.Record, error) {
	newTopic, ok := t.topics.Get(rec.Topic)
	if !ok {
		if !t.topicRegex.Matches(rec.Topic) {
			return rec, nil
		}
		newTopic = t.topicRegex.ReplaceFirst(rec.Topic, t.topicRepl)
		t.topics.Put(rec.Topic, newTopic)
	}
	if newTopic == "" {
		slog.Warn("routing regex returned an empty topic name, propagating original record", "topic", rec.Topic)
		return rec, nil
	}
	out := *rec
	out.Topic = newTopic
	out.KeySchema, out.Key = nil, nil
	if rec.Key != nil {
		oldKey, err := requireStruct(rec.Key, "Updating schema")
		if err != nil {
			return nil, err
		}
		if out.KeySchema, err = t.keySchema(oldKey.Schema(), newTopic); err != nil {
			return nil, err
		}
		key := connect.NewStruct(out.KeySchema)
		for i := range oldKey.Schema().Fields {
			key.SetAt(i, oldKey.Raw(i))
		}
		if t.enforceUnique {
			key.SetAt(len(oldKey.Schema().Fields), t.physicalTable(rec.Topic))
		}
		out.Key = key
	}
	if rec.Value == nil || !isEnvelope(rec) {
		return &out, nil
	}
	oldEnv, err := requireStruct(rec.Value, "Updating schema")
	if err != nil {
		return nil, err
	}
	envSchema, err := t.envelopeSchema(oldEnv.Schema(), newTopic)
	if err != nil {
		return nil, err
	}
	env := connect.NewStruct(envSchema)
	rowSchema := envSchema.Field(fieldBefore).Schema
	for i, f := range oldEnv.Schema().Fields {
		v := oldEnv.GetAt(i)
		if row, ok := v.(*connect.Struct); ok && (f.Name == fieldBefore || f.Name == fieldAfter) {
			nr := connect.NewStruct(rowSchema)
			for j := range row.Schema().Fields {
				nr.SetAt(j, row.Raw(j))
			}
			v = nr
		}
		env.SetAt(i, v)
	}
	out.ValueSchema, out.Value = envSchema, env
	return &out, nil
}

// physicalTable is the key field's value: the original topic, or what key.field.regex makes of it.
func (t *ByLogicalTableRouter) physicalTable(topic string) string {
	if t.keyRegex == nil {
		return topic
	}
	if id, ok := t.keyIDs.Get(topic); ok {
		return id
	}
	if !t.keyRegex.Matches(topic) {
		return topic
	}
	id := t.keyRegex.ReplaceFirst(topic, t.keyRepl)
	t.keyIDs.Put(topic, id)
	return id
}

func (t *ByLogicalTableRouter) keySchema(old *connect.Schema, topic string) (*connect.Schema, error) {
	if s, ok := t.keySchemas.Get(old); ok {
		return s, nil
	}
	b := copyExceptName(old, true).Name(t.adjust(topic + ".Key"))
	if t.enforceUnique {
		b.Field(t.keyField, connect.StringSchema)
	}
	s, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("key schema for %s: %w", topic, err)
	}
	t.keySchemas.Put(old, s)
	return s, nil
}

func (t *ByLogicalTableRouter) envelopeSchema(old *connect.Schema, topic string) (*connect.Schema, error) {
	if s, ok := t.envelopes.Get(old); ok {
		return s, nil
	}
	before := old.Field(fieldBefore)
	if before == nil {
		return nil, notAField(fieldBefore)
	}
	row, err := copyExceptName(before.Schema, true).Name(t.adjust(topic + ".Value")).Build()
	if err != nil {
		return nil, fmt.Errorf("value schema for %s: %w", topic, err)
	}
	b := copyExceptName(old, false)
	for _, f := range old.Fields {
		fs := f.Schema
		if f.Name == fieldBefore || f.Name == fieldAfter {
			fs = row
		}
		b.Field(f.Name, fs)
	}
	s, err := b.Name(t.adjust(topic + ".Envelope")).Build()
	if err != nil {
		return nil, fmt.Errorf("envelope schema for %s: %w", topic, err)
	}
	t.envelopes.Put(old, s)
	return s, nil
}

// copyExceptName starts a struct builder with s's version, doc, parameters and optionality and,
// when fields is set, its fields.
func copyExceptName(s *connect.Schema, fields bool) *connect.SchemaBuilder {
	b := connect.StructBuilder().Version(s.Version).Doc(s.Doc)
	for _, p := range s.Parameters {
		b.Param(p.Key, p.Value)
	}
	if s.Optional {
		b.Optional()
	}
	if fields {
		for _, f := range s.Fields {
			b.Field(f.Name, f.Schema)
		}
	}
	return b
}

// schemaNameAdjuster returns Debezium's schema name adjustment: none keeps the name; avro
// replaces characters Avro does not allow in a full name with _ (keeping a leading digit after
// it); avro_unicode replaces them with _uXXXX.
func schemaNameAdjuster(mode string) func(string) string {
	letter := func(c rune) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	digit := func(c rune) bool { return c >= '0' && c <= '9' }
	switch mode {
	case "avro":
		return func(name string) string {
			var b strings.Builder
			for i, c := range utf16Units(name) {
				switch {
				case letter(c) || c == '_' || i > 0 && (c == '.' || digit(c)):
					b.WriteRune(c)
				case i == 0 && digit(c):
					b.WriteRune('_')
					b.WriteRune(c)
				default:
					b.WriteRune('_')
				}
			}
			return b.String()
		}
	case "avro_unicode":
		return func(name string) string {
			var b strings.Builder
			for i, c := range utf16Units(name) {
				if letter(c) || i > 0 && (c == '_' || c == '.' || digit(c)) {
					b.WriteRune(c)
					continue
				}
				hex := fmt.Sprintf("%x", c)
				if len(hex) <= 2 {
					hex = "00" + hex
				}
				b.WriteString("_u" + hex)
			}
			return b.String()
		}
	}
	return func(name string) string { return name }
}

// utf16Units splits s into UTF-16 code units, the chars Java's adjusters look at.
func utf16Units(s string) []rune {
	var out []rune
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			out = append(out, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
			continue
		}
		out = append(out, r)
	}
	return out
}

// Close releases nothing.
func (*ByLogicalTableRouter) Close() error { return nil }
