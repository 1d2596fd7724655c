package debezium

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/lru"
	"github.com/kconnect/kconnect/transforms"
)

// Where table.fields.additional.placement puts a column.
const (
	placeHeader    = "header"
	placeEnvelope  = "envelope"
	placePartition = "partition"
)

var eventRouterConfigDef = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: "table.op.invalid.behavior", Type: connect.ConfigString, Default: "warn", Width: connect.WidthMedium,
		Validator: connect.OneOf("warn", "error", "fatal"),
		Doc:       "What an update of an outbox row does (only inserts are events; deletes are skipped): warn or error logs and skips it, fatal fails the task."}).
	Define(connect.ConfigKey{Name: "table.field.event.id", Type: connect.ConfigString, Default: "id", Width: connect.WidthMedium, Importance: connect.Low,
		Doc: "The column holding the event id, sent as the id header."}).
	Define(connect.ConfigKey{Name: "table.field.event.key", Type: connect.ConfigString, Default: "aggregateid", Width: connect.WidthMedium, Importance: connect.Low,
		Doc: "The column holding the event key, which becomes the record key."}).
	Define(connect.ConfigKey{Name: "table.field.event.type", Type: connect.ConfigString, Default: "type", Width: connect.WidthMedium, Importance: connect.Low,
		Doc: "The column holding the event type (place it with table.fields.additional.placement to pass it on)."}).
	Define(connect.ConfigKey{Name: "table.field.event.timestamp", Type: connect.ConfigString, Width: connect.WidthMedium,
		Doc: "A column (Timestamp, MicroTimestamp or NanoTimestamp) whose value becomes the record timestamp instead of the event's ts_ms."}).
	Define(connect.ConfigKey{Name: "table.field.event.payload", Type: connect.ConfigString, Default: "payload", Width: connect.WidthMedium, Importance: connect.Low,
		Doc: "The column holding the event payload, which becomes the record value."}).
	Define(connect.ConfigKey{Name: "table.fields.additional.placement", Type: connect.ConfigList, Width: connect.WidthMedium, Importance: connect.High,
		Validator: connect.ValidatorFunc("column:placement[:alias] list", func(name string, v any) error {
			_, err := parsePlacements(v.([]string))
			return err
		}),
		Doc: "Further columns to pass on, as column:placement[:alias] with placement header, envelope or partition, e.g. type:header:eventType."}).
	Define(connect.ConfigKey{Name: "table.field.additional.missing", Type: connect.ConfigString, Default: "error", Width: connect.WidthMedium,
		Validator: connect.OneOf("error", "ignore"),
		Doc:       "What a column named in table.fields.additional.placement that the row lacks does: error fails the record, ignore skips the column."}).
	Define(connect.ConfigKey{Name: "table.field.event.schema.version", Type: connect.ConfigString, Width: connect.WidthMedium, Importance: connect.Low,
		Doc: "A column holding the version of the value schema."}).
	Define(connect.ConfigKey{Name: "route.by.field", Type: connect.ConfigString, Default: "aggregatetype", Width: connect.WidthMedium, Importance: connect.High,
		Doc: "The column whose value names the topic, through route.topic.regex and route.topic.replacement."}).
	Define(connect.ConfigKey{Name: "route.topic.regex", Type: connect.ConfigString, Default: "(?<routedByValue>.*)", Width: connect.WidthMedium, Importance: connect.Low,
		Doc: "Regular expression applied to the route.by.field value."}).
	Define(connect.ConfigKey{Name: "route.topic.replacement", Type: connect.ConfigString, Default: "outbox.event.${routedByValue}", Width: connect.WidthMedium, Importance: connect.High,
		Doc: "The topic name, where ${routedByValue} is the route.by.field value."}).
	Define(connect.ConfigKey{Name: "route.tombstone.on.empty.payload", Type: connect.ConfigBoolean, Default: "false", Width: connect.WidthMedium, Importance: connect.High,
		Doc: "Whether an event with a null or empty payload becomes a tombstone."}).
	Define(connect.ConfigKey{Name: "table.expand.json.payload", Type: connect.ConfigBoolean, Default: "false", Width: connect.WidthMedium,
		Doc: "Whether a JSON text payload is expanded into a struct whose schema is inferred from the JSON."}).
	Define(connect.ConfigKey{Name: "table.json.payload.null.behavior", Type: connect.ConfigString, Default: "ignore", Width: connect.WidthMedium,
		Validator: connect.OneOf("ignore", "optional_bytes"),
		Doc:       "How an expanded JSON payload treats null members: ignore leaves them out, optional_bytes keeps them as optional bytes."}).
	Define(connect.ConfigKey{Name: "tracing.span.context.field", Type: connect.ConfigString, Default: "tracingspancontext", Importance: connect.Low,
		Doc: "Accepted for compatibility: kconnect has no OpenTelemetry tracing, as Debezium without OpenTelemetry on its class path."}).
	Define(connect.ConfigKey{Name: "tracing.operation.name", Type: connect.ConfigString, Default: "debezium-read", Importance: connect.Low,
		Doc: "Accepted for compatibility; see tracing.span.context.field."}).
	Define(connect.ConfigKey{Name: "tracing.with.context.field.only", Type: connect.ConfigBoolean, Default: "false", Importance: connect.Low,
		Doc: "Accepted for compatibility; see tracing.span.context.field."})

// placement is one entry of table.fields.additional.placement.
type placement struct {
	field, where, alias string
}

func parsePlacements(specs []string) ([]placement, error) {
	var out []placement
	for _, spec := range specs {
		parts := strings.Split(spec, ":")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, fmt.Errorf("Invalid value %s for configuration table.fields.additional.placement: expected column:placement or column:placement:alias", spec)
		}
		p := placement{field: strings.TrimSpace(parts[0]), where: strings.ToLower(strings.TrimSpace(parts[1]))}
		p.alias = p.field
		if len(parts) == 3 {
			p.alias = strings.TrimSpace(parts[2])
		}
		if p.where != placeHeader && p.where != placeEnvelope && p.where != placePartition {
			return nil, fmt.Errorf("Invalid value %s for configuration table.fields.additional.placement: placement must be header, envelope or partition", spec)
		}
		out = append(out, p)
	}
	return out, nil
}

// EventRouter implements the outbox pattern (io.debezium.transforms.outbox.EventRouter): each row
// inserted into an outbox table becomes an event on a topic named after one of its columns, keyed
// by another, with the payload column as its value and the event id as a header.
type EventRouter struct {
	invalidOp                                         string
	fieldID, fieldKey, fieldPayload, fieldTS, routeBy string
	fieldVersion                                      string
	placements                                        []placement
	ignoreMissing                                     bool
	onlyHeaders                                       bool
	tombstoneOnEmpty                                  bool
	expand                                            *jsonExpander // nil unless table.expand.json.payload
	router                                            connect.Transformation
	after                                             connect.Transformation
	valueSchemas                                      *lru.Cache[*connect.Schema, *connect.Schema]
	versioned                                         map[int32]*connect.Schema
}

// ConfigDef returns the transform's configuration keys.
func (*EventRouter) ConfigDef() *connect.ConfigDef { return eventRouterConfigDef }

// Configure reads the configuration.
func (t *EventRouter) Configure(props map[string]string) error {
	cfg, err := eventRouterConfigDef.Parse(props)
	if err != nil {
		return err
	}
	t.invalidOp = strings.ToLower(cfg.String("table.op.invalid.behavior"))
	t.fieldID, t.fieldKey = cfg.String("table.field.event.id"), cfg.String("table.field.event.key")
	t.fieldPayload, t.fieldTS = cfg.String("table.field.event.payload"), cfg.String("table.field.event.timestamp")
	t.fieldVersion, t.routeBy = cfg.String("table.field.event.schema.version"), cfg.String("route.by.field")
	if t.placements, err = parsePlacements(cfg.List("table.fields.additional.placement")); err != nil {
		return &connect.FieldError{Name: "table.fields.additional.placement", Msg: err.Error()}
	}
	t.ignoreMissing = strings.EqualFold(cfg.String("table.field.additional.missing"), "ignore")
	t.onlyHeaders = true
	for _, p := range t.placements {
		if p.where == placeEnvelope {
			t.onlyHeaders = false
		}
	}
	t.tombstoneOnEmpty = cfg.Bool("route.tombstone.on.empty.payload")
	if cfg.Bool("table.expand.json.payload") {
		t.expand = &jsonExpander{keepNulls: strings.EqualFold(cfg.String("table.json.payload.null.behavior"), "optional_bytes")}
	}
	t.router, err = transforms.Configured("RegexRouter", map[string]string{
		"regex": cfg.String("route.topic.regex"), "replacement": cfg.String("route.topic.replacement")})
	if err != nil {
		return &connect.FieldError{Name: "route.topic.regex", Msg: err.Error()}
	}
	if t.after, err = transforms.Configured("ExtractField$Value", map[string]string{"field": fieldAfter}); err != nil {
		return err
	}
	t.valueSchemas = lru.New[*connect.Schema, *connect.Schema](10000)
	t.versioned = map[int32]*connect.Schema{}
	return nil
}

// Apply turns an outbox insert into its event; deletes and tombstones are dropped.
func (t *EventRouter) Apply(rec *connect.Record) (*connect.Record, error) {
	if rec.Value == nil {
		return nil, nil
	}
	if !isEnvelope(rec) {
		return rec, nil
	}
	event, err := requireStruct(rec.Value, "Detect Debezium Operation")
	if err != nil {
		return nil, err
	}
	op, err := stringField(event, fieldOp)
	if err != nil {
		return nil, err
	}
	switch op {
	case "d":
		return nil, nil
	case "u":
		switch t.invalidOp {
		case "fatal":
			return nil, fmt.Errorf("Unexpected update message received %v, fail.", rec.Key)
		case "error":
			slog.Error("unexpected update of an outbox row ignored", "key", rec.Key)
		default:
			slog.Warn("unexpected update of an outbox row ignored", "key", rec.Key)
		}
		return nil, nil
	}
	afterRec, err := t.after.Apply(rec)
	if err != nil {
		return nil, err
	}
	row, err := requireStruct(afterRec.Value, "Read Outbox Event")
	if err != nil {
		return nil, err
	}
	rowSchema := afterRec.ValueSchema
	payloadField := rowSchema.Field(t.fieldPayload)
	if payloadField == nil {
		return nil, fmt.Errorf("Unable to find payload field %s in event", t.fieldPayload)
	}
	payloadSchema, payload := payloadField.Schema, row.GetAt(payloadField.Index)
	ts, err := t.timestamp(event, row)
	if err != nil {
		return nil, err
	}
	idField := rowSchema.Field(t.fieldID)
	if idField == nil {
		return nil, fmt.Errorf("Unable to find event-id field %s in event", t.fieldID)
	}
	headers := append(connect.Headers(nil), rec.Headers...)
	headers = append(headers, connect.Header{Key: "id", Schema: idField.Schema, Value: row.GetAt(idField.Index)})
	if s, ok := payload.(string); ok && t.expand != nil {
		if es, ev, err := t.expand.expand(t.fieldPayload, s); err != nil {
			slog.Warn("JSON expansion failed", "err", err)
		} else {
			payloadSchema, payload = es, ev
		}
	}
	routed, err := stringField(row, t.routeBy)
	if err != nil {
		return nil, err
	}
	var valueSchema *connect.Schema
	var value *connect.Struct
	if !t.onlyHeaders {
		if valueSchema, err = t.valueSchema(payloadSchema, rowSchema, row, routed); err != nil {
			return nil, err
		}
		value = connect.NewStruct(valueSchema)
		if err := value.Put("payload", payload); err != nil {
			return nil, err
		}
	}
	partition := connect.NoPartition
	for _, p := range t.placements {
		f := rowSchema.Field(p.field)
		if f == nil {
			if t.ignoreMissing {
				continue
			}
			return nil, notAField(p.field)
		}
		v := row.GetAt(f.Index)
		switch p.where {
		case placeEnvelope:
			if err := value.Put(p.alias, v); err != nil {
				return nil, err
			}
		case placeHeader:
			headers = append(headers, connect.Header{Key: p.alias, Schema: f.Schema, Value: v})
		case placePartition:
			n, ok := v.(int32)
			if !ok {
				return nil, fmt.Errorf("partition column %s must be an int32, found %T", p.field, v)
			}
			partition = n
		}
	}
	out := &connect.Record{Topic: routed, Partition: partition, Offset: rec.Offset, Timestamp: ts, Headers: headers}
	switch {
	case t.tombstoneOnEmpty && isEmptyPayload(payload):
	case t.onlyHeaders:
		out.ValueSchema, out.Value = payloadSchema, payload
	default:
		out.ValueSchema, out.Value = valueSchema, value
	}
	out.KeySchema = connect.StringSchema
	if t.fieldKey != "" {
		f := rowSchema.Field(t.fieldKey)
		if f == nil {
			return nil, notAField(t.fieldKey)
		}
		out.KeySchema, out.Key = f.Schema, row.GetAt(f.Index)
	}
	return t.router.Apply(out)
}

// notAField is Struct.get's error for a name the struct lacks.
func notAField(name string) error {
	return &connect.DataError{Msg: name + " is not a valid field name"}
}

func isEmptyPayload(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	}
	return false
}

// timestamp is the event's time: the configured column, or the change event's ts_ms.
func (t *EventRouter) timestamp(event, row *connect.Struct) (time.Time, error) {
	eventTS := func() time.Time {
		ms, _ := event.Get("ts_ms").(int64)
		return time.UnixMilli(ms)
	}
	if t.fieldTS == "" {
		return eventTS(), nil
	}
	f := row.Schema().Field(t.fieldTS)
	if f == nil {
		return time.Time{}, fmt.Errorf("Unable to find timestamp field %s in event", t.fieldTS)
	}
	if f.Schema.Type != connect.TypeInt64 {
		return time.Time{}, &connect.DataError{Msg: fmt.Sprintf("Field '%s' is not of type INT64", t.fieldTS)}
	}
	v := row.GetAt(f.Index)
	if v == nil {
		return eventTS(), nil
	}
	switch f.Schema.Name {
	case connect.TimestampName:
		if tm, ok := v.(time.Time); ok {
			return time.UnixMilli(tm.UnixMilli()), nil
		}
	case "io.debezium.time.MicroTimestamp":
		if n, ok := v.(int64); ok {
			return time.UnixMilli(n / 1000), nil
		}
	case "io.debezium.time.NanoTimestamp":
		if n, ok := v.(int64); ok {
			return time.UnixMilli(n / 1_000_000), nil
		}
	case "":
		return time.Time{}, fmt.Errorf("Unsupported field type INT64 (without logical schema name) for event timestamp")
	default:
		return time.Time{}, fmt.Errorf("Unsupported field type %s for event timestamp", f.Schema.Name)
	}
	return time.Time{}, fmt.Errorf("event timestamp column %s holds %T", t.fieldTS, v)
}

// valueSchema is the schema of the event value: the payload and the envelope columns, named after
// the row schema with the routed value inserted ("ns.routed.Value"). Like Debezium it is cached
// by payload schema (or by version, with table.field.event.schema.version).
func (t *EventRouter) valueSchema(payload, rowSchema *connect.Schema, row *connect.Struct, routed string) (*connect.Schema, error) {
	var version int32
	if t.fieldVersion != "" {
		version, _ = row.Get(t.fieldVersion).(int32)
		if s, ok := t.versioned[version]; ok {
			return s, nil
		}
	} else if s, ok := t.valueSchemas.Get(payload); ok {
		return s, nil
	}
	name := routed
	if n := rowSchema.Name; n != "" {
		if dot := strings.LastIndexByte(n, '.'); dot >= 0 {
			name = n[:dot+1] + routed + "." + n[dot+1:]
		} else {
			name = routed + "." + n
		}
	}
	b := connect.StructBuilder().Name(name).Field("payload", payload)
	for _, p := range t.placements {
		if p.where != placeEnvelope {
			continue
		}
		f := rowSchema.Field(p.field)
		if f == nil {
			if t.ignoreMissing {
				continue
			}
			return nil, fmt.Errorf("Unable to find field %s in event", p.field)
		}
		b.Field(p.alias, f.Schema)
	}
	if t.fieldVersion != "" {
		b.Version(int(version))
	}
	s, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("outbox event schema: %w", err)
	}
	if t.fieldVersion != "" {
		t.versioned[version] = s
	} else {
		t.valueSchemas.Put(payload, s)
	}
	return s, nil
}

// Close closes the transforms it delegates to.
func (t *EventRouter) Close() error {
	for _, d := range []connect.Transformation{t.router, t.after} {
		if d != nil {
			d.Close()
		}
	}
	return nil
}
