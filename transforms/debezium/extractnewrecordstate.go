package debezium

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/lru"
	"github.com/kconnect/kconnect/transforms"
)

// Delete and tombstone handling modes of delete.tombstone.handling.mode.
const (
	modeDrop                 = "drop"
	modeTombstone            = "tombstone"
	modeRewrite              = "rewrite"
	modeRewriteWithTombstone = "rewrite-with-tombstone"
	modeDeleteToTombstone    = "delete-to-tombstone"
)

const deletedField = "__deleted"

var extractNewRecordStateConfigDef = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: "delete.tombstone.handling.mode", Type: connect.ConfigString, Default: modeTombstone, Width: connect.WidthMedium,
		Validator: connect.OneOf(modeDrop, modeTombstone, modeRewrite, modeRewriteWithTombstone, modeDeleteToTombstone),
		Doc: "How to handle delete events and tombstones: drop removes both; tombstone (default) keeps a delete as a record with a null value and drops the tombstone; " +
			"rewrite turns a delete into its before row with __deleted=true (and adds __deleted=false to other rows) and drops the tombstone; " +
			"rewrite-with-tombstone does the same but keeps the tombstone; delete-to-tombstone turns a delete into a tombstone and drops the original tombstone."}).
	Define(connect.ConfigKey{Name: "drop.tombstones", Type: connect.ConfigBoolean, Default: "true", Importance: connect.Low,
		Doc: "Deprecated (Debezium 2.x); used with delete.handling.mode when delete.tombstone.handling.mode is not set: whether tombstones are dropped."}).
	Define(connect.ConfigKey{Name: "delete.handling.mode", Type: connect.ConfigString, Default: "drop", Importance: connect.Low,
		Validator: connect.OneOf("none", "drop", "rewrite"),
		Doc:       "Deprecated (Debezium 2.x); used when delete.tombstone.handling.mode is not set: drop (default) removes delete events, none keeps a delete as a record with a null value, rewrite writes its before row with __deleted=true."}).
	Define(connect.ConfigKey{Name: "route.by.field", Type: connect.ConfigString, Default: "", Width: connect.WidthLong, Importance: connect.Low,
		Doc: "A column whose value becomes the record's topic."}).
	Define(connect.ConfigKey{Name: "add.fields.prefix", Type: connect.ConfigString, Default: "__", Width: connect.WidthShort, Importance: connect.Low,
		Doc: "Prefix of the fields add.fields adds."}).
	Define(connect.ConfigKey{Name: "add.fields", Type: connect.ConfigList, Default: "", Width: connect.WidthLong, Importance: connect.Low,
		Doc: "Envelope fields to add to the row, e.g. op,table,source.ts_ms (added as __op, __table, __source_ts_ms), or renamed as field:NAME."}).
	Define(connect.ConfigKey{Name: "add.headers.prefix", Type: connect.ConfigString, Default: "__", Width: connect.WidthShort, Importance: connect.Low,
		Doc: "Prefix of the headers add.headers adds."}).
	Define(connect.ConfigKey{Name: "add.headers", Type: connect.ConfigList, Default: "", Width: connect.WidthLong, Importance: connect.Low,
		Doc: "Envelope fields to add as headers, named as for add.fields."}).
	Define(connect.ConfigKey{Name: "replace.null.with.default", Type: connect.ConfigBoolean, Default: "true", Width: connect.WidthShort, Importance: connect.Low,
		Doc: "Whether null values of columns with a default become the default when the row is rewritten."}).
	Define(connect.ConfigKey{Name: "drop.fields.header.name", Type: connect.ConfigString, Width: connect.WidthShort, Importance: connect.Low,
		Doc: "A header holding a list of field names to remove from the row."}).
	Define(connect.ConfigKey{Name: "drop.fields.from.key", Type: connect.ConfigBoolean, Default: "false", Width: connect.WidthShort, Importance: connect.Low,
		Doc: "Whether the fields named by drop.fields.header.name are removed from the key too."}).
	Define(connect.ConfigKey{Name: "drop.fields.keep.schema.compatible", Type: connect.ConfigBoolean, Default: "true", Width: connect.WidthShort, Importance: connect.Low,
		Doc: "true removes only optional fields, keeping schemas compatible; false removes every named field."})

// ExtractNewRecordState replaces a change event with the row it produced (the after state), so
// sinks that expect plain rows can consume CDC topics (io.debezium.transforms.ExtractNewRecordState).
// Records that are not change events pass unchanged.
//
// Configurations written for Debezium 1.x and 2.x keep their meaning: when
// delete.tombstone.handling.mode is not set but drop.tombstones or delete.handling.mode is, those
// decide, as in Debezium 2 (Debezium 3 ignores them).
type ExtractNewRecordState struct {
	mode        string // delete.tombstone.handling.mode; "" in legacy mode
	legacyMode  string // delete.handling.mode in legacy mode
	legacyDrop  bool   // drop.tombstones in legacy mode
	routeBy     string
	fields      []fieldRef
	headers     []fieldRef
	dropHeader  string
	dropFromKey bool
	dropCompat  bool

	after, before, deleted, kept connect.Transformation
	addedSchemas                 *lru.Cache[opSchema, *connect.Schema]
	refSchemas                   *lru.Cache[*connect.Schema, *refSchemas]
}

// refSchemas are the schemas of what add.headers and add.fields add for one event schema, nil
// where the event lacks the field.
type refSchemas struct {
	headers, fields []*connect.Schema
}

// opSchema keys the schemas add.fields derives: the row schema and the operation, as Debezium's
// cache does.
type opSchema struct {
	schema *connect.Schema
	op     string
}

// ConfigDef returns the transform's configuration keys.
func (*ExtractNewRecordState) ConfigDef() *connect.ConfigDef { return extractNewRecordStateConfigDef }

// Configure reads the configuration.
func (t *ExtractNewRecordState) Configure(props map[string]string) error {
	cfg, err := extractNewRecordStateConfigDef.Parse(props)
	if err != nil {
		return err
	}
	switch {
	case cfg.IsSet("delete.tombstone.handling.mode") || (!cfg.IsSet("drop.tombstones") && !cfg.IsSet("delete.handling.mode")):
		t.mode = strings.ToLower(cfg.String("delete.tombstone.handling.mode"))
	default:
		t.legacyMode = strings.ToLower(cfg.String("delete.handling.mode"))
		t.legacyDrop = cfg.Bool("drop.tombstones")
		slog.Warn(`the configuration keys "drop.tombstones" and "delete.handling.mode" are deprecated; use "delete.tombstone.handling.mode"`)
	}
	t.routeBy = cfg.String("route.by.field")
	if t.fields, err = parseFieldRefs(cfg.String("add.fields.prefix"), cfg.List("add.fields")); err != nil {
		return &connect.FieldError{Name: "add.fields", Msg: err.Error()}
	}
	if t.headers, err = parseFieldRefs(cfg.String("add.headers.prefix"), cfg.List("add.headers")); err != nil {
		return &connect.FieldError{Name: "add.headers", Msg: err.Error()}
	}
	t.dropHeader = cfg.String("drop.fields.header.name")
	t.dropFromKey, t.dropCompat = cfg.Bool("drop.fields.from.key"), cfg.Bool("drop.fields.keep.schema.compatible")
	replaceNull := fmt.Sprint(cfg.Bool("replace.null.with.default"))
	if t.after, err = transforms.Configured("ExtractField$Value", map[string]string{"field": fieldAfter}); err != nil {
		return err
	}
	if t.before, err = transforms.Configured("ExtractField$Value", map[string]string{"field": fieldBefore}); err != nil {
		return err
	}
	insert := func(value string) (connect.Transformation, error) {
		return transforms.Configured("InsertField$Value", map[string]string{
			"static.field": deletedField, "static.value": value, "replace.null.with.default": replaceNull})
	}
	if t.deleted, err = insert("true"); err != nil {
		return err
	}
	if t.kept, err = insert("false"); err != nil {
		return err
	}
	t.addedSchemas = lru.New[opSchema, *connect.Schema](64)
	t.refSchemas = lru.New[*connect.Schema, *refSchemas](64)
	return nil
}

func (t *ExtractNewRecordState) rewrite() bool {
	return t.mode == modeRewrite || t.mode == modeRewriteWithTombstone || t.legacyMode == "rewrite"
}

// Apply unwraps a change event.
func (t *ExtractNewRecordState) Apply(rec *connect.Record) (*connect.Record, error) {
	tombstone := rec.Value == nil
	envelope := isEnvelope(rec)
	if (envelope || tombstone) && len(t.headers) > 0 {
		hs, err := t.makeHeaders(rec)
		if err != nil {
			return nil, err
		}
		out := *rec
		out.Headers = append(slices.Clip(rec.Headers), hs...)
		rec = &out
	}
	if tombstone {
		return t.tombstone(rec), nil
	}
	if !envelope {
		return rec, nil
	}
	event, err := requireStruct(rec.Value, "source field insertion")
	if err != nil {
		return nil, err
	}
	row, err := t.after.Apply(rec)
	if err != nil {
		return nil, err
	}
	if row.Value != nil {
		return t.createOrUpdate(rec, event, row)
	}
	before, err := t.before.Apply(rec)
	if err != nil {
		return nil, err
	}
	if before.Value == nil {
		return nil, nil // a truncate: no row to give
	}
	return t.delete(rec, event, row, before)
}

func (t *ExtractNewRecordState) tombstone(rec *connect.Record) *connect.Record {
	if t.mode == "" {
		if t.legacyDrop {
			return nil
		}
		return rec
	}
	if t.mode == modeRewriteWithTombstone {
		return rec
	}
	return nil
}

func (t *ExtractNewRecordState) createOrUpdate(rec *connect.Record, event *connect.Struct, row *connect.Record) (*connect.Record, error) {
	var err error
	if t.rewrite() {
		if _, ok := row.Value.(*connect.Struct); ok {
			if row, err = t.kept.Apply(row); err != nil {
				return nil, err
			}
		}
	}
	if row, err = t.route(row, row.Value, "Read record to set topic routing for CREATE / UPDATE"); err != nil {
		return nil, err
	}
	if row, err = t.addFields(event, row); err != nil {
		return nil, err
	}
	return t.dropFields(row)
}

func (t *ExtractNewRecordState) delete(rec *connect.Record, event *connect.Struct, row, before *connect.Record) (*connect.Record, error) {
	var out *connect.Record
	var err error
	switch {
	case t.mode == modeDrop || t.legacyMode == "drop":
		return nil, nil
	case t.mode == modeTombstone || t.legacyMode == "none":
		// A null value that keeps the row's schema, which JDBC sinks read as a flattened delete.
		out = row
	case t.mode == modeDeleteToTombstone:
		out = &connect.Record{}
		*out = *rec
		out.ValueSchema, out.Value = nil, nil
	default: // rewrite, rewrite-with-tombstone
		out = before
		if _, ok := before.Value.(*connect.Struct); ok {
			if out, err = t.deleted.Apply(before); err != nil {
				return nil, err
			}
		}
	}
	if out, err = t.route(out, event.Get(fieldBefore), "Read record to set topic routing for DELETE"); err != nil {
		return nil, err
	}
	if out, err = t.dropFields(out); err != nil {
		return nil, err
	}
	if out.Value != nil {
		return t.addFields(event, out)
	}
	return out, nil
}

// route sends rec to the topic that row's route.by.field column names, when one is configured.
func (t *ExtractNewRecordState) route(rec *connect.Record, row any, purpose string) (*connect.Record, error) {
	if t.routeBy == "" {
		return rec, nil
	}
	st, err := requireStruct(row, purpose)
	if err != nil {
		return nil, err
	}
	topic, err := stringField(st, t.routeBy)
	if err != nil {
		return nil, err
	}
	return withTopic(rec, topic), nil
}

// makeHeaders builds the add.headers headers; a tombstone gets only op, as "d".
func (t *ExtractNewRecordState) makeHeaders(rec *connect.Record) (connect.Headers, error) {
	var hs connect.Headers
	if rec.Value == nil {
		for _, ref := range t.headers {
			if ref.field == fieldOp {
				hs = append(hs, connect.Header{Key: ref.newField, Schema: connect.StringSchema, Value: "d"})
			}
		}
		return hs, nil
	}
	event, err := requireStruct(rec.Value, "source field insertion")
	if err != nil {
		return nil, err
	}
	rs, err := t.refSchemasOf(event.Schema())
	if err != nil {
		return nil, err
	}
	for i, ref := range t.headers {
		if rs.headers[i] != nil {
			hs = append(hs, connect.Header{Key: ref.newField, Schema: rs.headers[i], Value: ref.value(event)})
		}
	}
	return hs, nil
}

// refSchemasOf returns the schemas of the added headers and fields for an event schema.
func (t *ExtractNewRecordState) refSchemasOf(event *connect.Schema) (*refSchemas, error) {
	if rs, ok := t.refSchemas.Get(event); ok {
		return rs, nil
	}
	rs := &refSchemas{headers: make([]*connect.Schema, len(t.headers)), fields: make([]*connect.Schema, len(t.fields))}
	for _, set := range []struct {
		refs []fieldRef
		out  []*connect.Schema
	}{{t.headers, rs.headers}, {t.fields, rs.fields}} {
		for i, ref := range set.refs {
			s, err := ref.schema(event)
			if err != nil {
				return nil, err
			}
			set.out[i] = s
		}
	}
	t.refSchemas.Put(event, rs)
	return rs, nil
}

// addFields appends the add.fields values of the event to the row. Like Debezium it rebuilds the
// row schema even when there is nothing to add, so rows have a required (non-optional) schema
// while the envelope's before and after are optional.
func (t *ExtractNewRecordState) addFields(event *connect.Struct, row *connect.Record) (*connect.Record, error) {
	value, err := requireStruct(row.Value, "source field insertion")
	if err != nil {
		return nil, err
	}
	op, _ := event.Get(fieldOp).(string)
	rs, err := t.refSchemasOf(event.Schema())
	if err != nil {
		return nil, err
	}
	schemas := rs.fields
	key := opSchema{value.Schema(), op}
	updated, ok := t.addedSchemas.Get(key)
	if !ok {
		b := transforms.CopySchemaBasics(value.Schema(), connect.StructBuilder())
		for _, f := range value.Schema().Fields {
			b.Field(f.Name, f.Schema)
		}
		for i, ref := range t.fields {
			if schemas[i] != nil {
				b.Field(ref.newField, schemas[i])
			}
		}
		if updated, err = b.Build(); err != nil {
			return nil, fmt.Errorf("add fields to %s: %w", value.Schema().Name, err)
		}
		t.addedSchemas.Put(key, updated)
	}
	out := connect.NewStruct(updated)
	for i := range value.Schema().Fields {
		out.SetAt(i, value.Raw(i))
	}
	for i, ref := range t.fields {
		if schemas[i] != nil {
			if err := out.Put(ref.newField, ref.value(event)); err != nil {
				return nil, err
			}
		}
	}
	res := *row
	res.ValueSchema, res.Value = updated, out
	return &res, nil
}

// dropFields removes the fields the drop.fields.header.name header lists.
func (t *ExtractNewRecordState) dropFields(row *connect.Record) (*connect.Record, error) {
	if strings.TrimSpace(t.dropHeader) == "" {
		return row, nil
	}
	var h *connect.Header
	for i := range row.Headers {
		if row.Headers[i].Key == t.dropHeader {
			h = &row.Headers[i]
			break
		}
	}
	if h == nil || h.Value == nil {
		return row, nil
	}
	list, ok := h.Value.([]any)
	if !ok {
		return nil, &connect.DataError{Msg: fmt.Sprintf("header %s must hold a list of field names", t.dropHeader)}
	}
	names := make([]string, 0, len(list))
	for _, n := range list {
		s, ok := n.(string)
		if !ok {
			return nil, &connect.DataError{Msg: fmt.Sprintf("header %s must hold a list of field names", t.dropHeader)}
		}
		names = append(names, s)
	}
	if len(names) == 0 {
		return row, nil
	}
	var err error
	if t.dropFromKey && row.Key != nil {
		if row, err = t.exclude("ReplaceField$Key", row, row.KeySchema, names); err != nil {
			return nil, err
		}
	}
	return t.exclude("ReplaceField$Value", row, row.ValueSchema, names)
}

func (t *ExtractNewRecordState) exclude(class string, row *connect.Record, schema *connect.Schema, names []string) (*connect.Record, error) {
	drop := names
	if t.dropCompat {
		drop = nil
		if schema != nil {
			for _, f := range schema.Fields {
				if f.Schema.Optional && slices.Contains(names, f.Name) {
					drop = append(drop, f.Name)
				}
			}
		}
	}
	if len(drop) == 0 {
		return row, nil
	}
	rf, err := transforms.Configured(class, map[string]string{"exclude": strings.Join(drop, ",")})
	if err != nil {
		return nil, err
	}
	defer rf.Close()
	return rf.Apply(row)
}

// Close closes the transforms it delegates to.
func (t *ExtractNewRecordState) Close() error {
	for _, d := range []connect.Transformation{t.after, t.before, t.deleted, t.kept} {
		if d != nil {
			d.Close()
		}
	}
	return nil
}
