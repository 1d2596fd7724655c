package transforms

import (
	"fmt"
	"strings"

	"github.com/kconnect/kconnect/connect"
)

const insertPurpose = "field insertion"

const optionalityDoc = " Suffix with ! to make it a required field, or ? to keep it optional (the default)."

var insertFieldConfigDef = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: "topic.field", Type: connect.ConfigString, Importance: connect.Medium, Doc: "Field for the Kafka topic." + optionalityDoc}).
	Define(connect.ConfigKey{Name: "partition.field", Type: connect.ConfigString, Importance: connect.Medium, Doc: "Field for the Kafka partition." + optionalityDoc}).
	Define(connect.ConfigKey{Name: "offset.field", Type: connect.ConfigString, Importance: connect.Medium, Doc: "Field for the Kafka offset; sink connectors only." + optionalityDoc}).
	Define(connect.ConfigKey{Name: "timestamp.field", Type: connect.ConfigString, Importance: connect.Medium, Doc: "Field for the record timestamp." + optionalityDoc}).
	Define(connect.ConfigKey{Name: "static.field", Type: connect.ConfigString, Importance: connect.Medium, Doc: "Field for a static value." + optionalityDoc}).
	Define(connect.ConfigKey{Name: "static.value", Type: connect.ConfigString, Importance: connect.Medium, Doc: "The static value, when static.field is set."}).
	Define(replaceNullKey)

// insertion is one field to insert: its name and whether it is optional.
type insertion struct {
	name     string
	optional bool
}

// parseInsertion reads "name", "name?" (optional) or "name!" (required); nil when unset.
func parseInsertion(spec string) *insertion {
	switch {
	case spec == "":
		return nil
	case strings.HasSuffix(spec, "?"):
		return &insertion{spec[:len(spec)-1], true}
	case strings.HasSuffix(spec, "!"):
		return &insertion{spec[:len(spec)-1], false}
	}
	return &insertion{spec, true}
}

// InsertField adds fields holding the record's topic, partition, offset, timestamp or a static
// value (org.apache.kafka.connect.transforms.InsertField$Key / $Value).
type InsertField struct {
	side                                side
	topic, partition, offset, timestamp *insertion
	static                              *insertion
	staticValue                         any // boxed once
	withDefault                         bool
	schemas                             *derivedCache
	// lastTopic is the last topic inserted, boxed once: most records of a task share a topic.
	lastTopic any
}

// ConfigDef returns InsertField's configuration keys.
func (*InsertField) ConfigDef() *connect.ConfigDef { return insertFieldConfigDef }

// Configure reads the fields to insert; at least one is required.
func (t *InsertField) Configure(props map[string]string) error {
	cfg, err := insertFieldConfigDef.Parse(props)
	if err != nil {
		return err
	}
	t.topic = parseInsertion(cfg.String("topic.field"))
	t.partition = parseInsertion(cfg.String("partition.field"))
	t.offset = parseInsertion(cfg.String("offset.field"))
	t.timestamp = parseInsertion(cfg.String("timestamp.field"))
	t.static = parseInsertion(cfg.String("static.field"))
	t.staticValue = cfg.String("static.value")
	t.withDefault = cfg.Bool("replace.null.with.default")
	if t.topic == nil && t.partition == nil && t.offset == nil && t.timestamp == nil && t.static == nil {
		return fmt.Errorf("No field insertion configured")
	}
	if t.static != nil && !cfg.IsSet("static.value") {
		return &connect.FieldError{Name: "static.value", Msg: "Invalid value null for configuration static.value: No value specified for static field: " + t.static.name}
	}
	t.schemas = newDerivedCache()
	return nil
}

// Apply inserts the fields; a null key or value passes unchanged.
func (t *InsertField) Apply(rec *connect.Record) (*connect.Record, error) {
	value := t.side.value(rec)
	if value == nil {
		return rec, nil
	}
	if t.offset != nil {
		if err := requireSinkRecord(rec, insertPurpose); err != nil {
			return nil, err
		}
	}
	schema := t.side.schema(rec)
	if schema == nil {
		m, err := requireMap(value, insertPurpose)
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(m)+5)
		for k, v := range m {
			out[k] = v
		}
		t.insert(rec, func(_ int, name string, v any) error { out[name] = v; return nil }, false)
		return t.side.with(rec, nil, out), nil
	}
	st, err := requireStruct(value, insertPurpose)
	if err != nil {
		return nil, err
	}
	d, ok := t.schemas.Get(st.Schema())
	if !ok {
		updated, err := t.updatedSchema(st.Schema())
		if err != nil {
			return nil, err
		}
		d = newDerived(st.Schema(), updated, nil)
		t.schemas.Put(st.Schema(), d)
	}
	out := d.copyFrom(st, t.withDefault)
	// The inserted fields follow the input's, in the order insert visits them.
	base := len(st.Schema().Fields)
	if err := t.insert(rec, func(i int, _ string, v any) error { return out.PutAt(base+i, v) }, true); err != nil {
		return nil, err
	}
	return t.side.with(rec, d.schema, out), nil
}

// insert calls put for each configured field with its position among the configured fields
// (topic, partition, offset, timestamp, static); the timestamp is a time for struct values and
// epoch milliseconds for maps.
func (t *InsertField) insert(rec *connect.Record, put func(int, string, any) error, typed bool) error {
	pos := 0
	for _, f := range [...]struct {
		in *insertion
		ok bool
	}{{t.topic, true}, {t.partition, rec.Partition >= 0}, {t.offset, true}, {t.timestamp, !rec.Timestamp.IsZero()}, {t.static, true}} {
		if f.in == nil {
			continue
		}
		if f.ok {
			var v any
			switch f.in {
			case t.topic:
				if s, _ := t.lastTopic.(string); s != rec.Topic || t.lastTopic == nil {
					t.lastTopic = rec.Topic
				}
				v = t.lastTopic
			case t.partition:
				v = rec.Partition
			case t.offset:
				v = rec.Offset
			case t.timestamp:
				if typed {
					v = rec.Timestamp.UTC()
				} else {
					v = rec.Timestamp.UnixMilli()
				}
			default:
				v = t.staticValue
			}
			if err := put(pos, f.in.name, v); err != nil {
				return err
			}
		}
		pos++
	}
	return nil
}

func (t *InsertField) updatedSchema(s *connect.Schema) (*connect.Schema, error) {
	b := CopySchemaBasics(s, connect.StructBuilder())
	for _, f := range s.Fields {
		b.Field(f.Name, f.Schema)
	}
	pick := func(in *insertion, optional, required *connect.Schema) {
		if in == nil {
			return
		}
		if in.optional {
			b.Field(in.name, optional)
		} else {
			b.Field(in.name, required)
		}
	}
	pick(t.topic, connect.OptionalStringSchema, connect.StringSchema)
	pick(t.partition, connect.OptionalInt32Schema, connect.Int32Schema)
	pick(t.offset, connect.OptionalInt64Schema, connect.Int64Schema)
	pick(t.timestamp, optionalTimestampSchema, timestampSchema)
	pick(t.static, connect.OptionalStringSchema, connect.StringSchema)
	out, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("insert fields into %s: %w", s, err)
	}
	return out, nil
}

// Close releases nothing.
func (*InsertField) Close() error { return nil }
