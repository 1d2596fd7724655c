// Package jsonconverter is kconnect's org.apache.kafka.connect.json.JsonConverter: Connect data to
// JSON and back, writing byte for byte what Kafka's converter writes for the same record.
//
// With schemas.enable (the default) every message is an envelope {"schema":…,"payload":…} whose
// schema part follows upstream's layout field for field; without it the payload alone is written
// and read back as schemaless values (map[string]any, []any, int64, float64, string, bool, nil).
// The compatibility is pinned by golden files written by Kafka's own converter (testdata/golden).
//
// Where upstream silently produces garbage on malformed input (a string in an int32 field becomes
// 0, 300 in an int8 field wraps to 44, trailing bytes after the JSON are ignored), this decoder
// returns an error naming the field instead. Doubles are printed as Java 19+ prints them.
package jsonconverter

import (
	"bytes"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/lru"
)

// Class is the upstream class name this converter is compatible with.
const Class = "org.apache.kafka.connect.json.JsonConverter"

// Configuration keys, as upstream's JsonConverterConfig names them.
const (
	SchemasEnableConfig          = "schemas.enable"
	SchemasCacheSizeConfig       = "schemas.cache.size"
	SchemaContentConfig          = "schema.content"
	DecimalFormatConfig          = "decimal.format"
	ReplaceNullWithDefaultConfig = "replace.null.with.default"
)

// Decimal formats accepted by decimal.format.
const (
	DecimalFormatBase64  = "BASE64"
	DecimalFormatNumeric = "NUMERIC"
)

// Version is reported by GET /connector-plugins for the JSON converter.
const Version = "0.1.0"

var configDef = connect.NewConfigDef().
	Define(connect.ConfigKey{
		Name: SchemasEnableConfig, Type: connect.ConfigBoolean, Default: "true", Importance: connect.High,
		Group: "Schemas", OrderInGroup: 0, Width: connect.WidthMedium, DisplayName: "Enable Schemas",
		Doc: "Whether each message carries its schema in a {\"schema\":…,\"payload\":…} envelope.",
	}).
	Define(connect.ConfigKey{
		Name: SchemasCacheSizeConfig, Type: connect.ConfigInt, Default: "1000", Importance: connect.High,
		Group: "Schemas", OrderInGroup: 1, Width: connect.WidthMedium, DisplayName: "Schema Cache Size",
		Validator: connect.AtLeast(0),
		Doc:       "How many schemas each direction of the converter keeps parsed or rendered.",
	}).
	Define(connect.ConfigKey{
		Name: SchemaContentConfig, Type: connect.ConfigString, Importance: connect.High,
		Group: "Schemas", OrderInGroup: 2, Width: connect.WidthMedium, DisplayName: "Schema Content",
		Doc: "A JSON schema used to read every message (whole message = payload) instead of an envelope; " +
			"only with schemas.enable, only when reading.",
	}).
	Define(connect.ConfigKey{
		Name: DecimalFormatConfig, Type: connect.ConfigString, Default: DecimalFormatBase64,
		Validator:  connect.OneOf(DecimalFormatBase64, DecimalFormatNumeric),
		Importance: connect.Low, Group: "Serialization", OrderInGroup: 0, Width: connect.WidthMedium,
		DisplayName: "Decimal Format",
		Doc:         "How decimals are written: BASE64 (the unscaled value's two's complement bytes) or NUMERIC (a JSON number).",
	}).
	Define(connect.ConfigKey{
		Name: ReplaceNullWithDefaultConfig, Type: connect.ConfigBoolean, Default: "true",
		Importance: connect.Low, Group: "Serialization", OrderInGroup: 1, Width: connect.WidthMedium,
		DisplayName: "Replace null with default",
		Doc:         "Whether a null value whose schema has a default is written and read as that default.",
	})

// ConfigDef returns the converter's configuration keys.
func ConfigDef() *connect.ConfigDef { return configDef }

type settings struct {
	schemasEnable  bool
	decimalNumeric bool
	replaceNull    bool
}

// Converter is the JSON key/value converter. Create it with New; it is safe for concurrent use
// (Configure excepted).
type Converter struct {
	cfg          settings
	fixedSchema  *connect.Schema
	hasFixedSpec bool
	renderCache  *lru.Cache[*connect.Schema, []byte]
	parseCache   *lru.Cache[string, *connect.Schema]
	// lastSchema is the schema parsed most recently, with its JSON. Consecutive messages of a
	// topic nearly always repeat their schema byte for byte, and comparing bytes costs far less
	// than finding where the schema ends and hashing it for parseCache.
	lastSchema atomic.Pointer[rawSchema]
	// lastRendered is the schema rendered most recently, with its JSON, for the same reason: a
	// pointer comparison instead of a locked cache lookup for every record.
	lastRendered atomic.Pointer[rawSchema]
}

// rawSchema is a parsed schema and the JSON it was parsed from.
type rawSchema struct {
	raw    []byte
	schema *connect.Schema
}

// New returns a converter with the default configuration, as a value converter.
func New() *Converter {
	c := &Converter{}
	if err := c.Configure(map[string]string{}, false); err != nil {
		panic(err) // the defaults are valid; a failure here is a programming error
	}
	return c
}

// Version returns the plugin version.
func (c *Converter) Version() string { return Version }

// ConfigDef returns the converter's configuration keys.
func (c *Converter) ConfigDef() *connect.ConfigDef { return configDef }

// Configure applies props (schemas.enable, decimal.format, …). Keys and values convert alike, so
// isKey changes nothing.
func (c *Converter) Configure(props map[string]string, isKey bool) error {
	cfg, err := configDef.Parse(props)
	if err != nil {
		return fmt.Errorf("configure %s: %w", Class, err)
	}
	c.cfg = settings{
		schemasEnable:  cfg.Bool(SchemasEnableConfig),
		decimalNumeric: strings.EqualFold(cfg.String(DecimalFormatConfig), DecimalFormatNumeric),
		replaceNull:    cfg.Bool(ReplaceNullWithDefaultConfig),
	}
	size := cfg.Int(SchemasCacheSizeConfig)
	c.renderCache = lru.New[*connect.Schema, []byte](size)
	c.parseCache = lru.New[string, *connect.Schema](size)
	c.fixedSchema, c.hasFixedSpec = nil, false
	if spec := cfg.String(SchemaContentConfig); spec != "" {
		s, err := c.parseSchema([]byte(spec))
		if err != nil {
			return fmt.Errorf("configure %s: %s: %w", Class, SchemaContentConfig, err)
		}
		c.fixedSchema, c.hasFixedSpec = s, true
	}
	return nil
}

// FromConnectData serializes value with its schema; a nil schema with a nil value is a null message.
func (c *Converter) FromConnectData(topic string, schema *connect.Schema, value any) ([]byte, error) {
	if schema == nil && value == nil {
		return nil, nil
	}
	e := getEncoder(c)
	defer putEncoder(e)
	if err := c.encode(e, schema, value); err != nil {
		return nil, err
	}
	// Clone rather than make+copy: append-based cloning skips zeroing memory about to be overwritten.
	return bytes.Clone(e.buf), nil
}

// AppendFromConnectData is FromConnectData writing into dst, for callers that recycle buffers.
func (c *Converter) AppendFromConnectData(dst []byte, topic string, schema *connect.Schema, value any) ([]byte, error) {
	if schema == nil && value == nil {
		return nil, nil
	}
	return c.appendTo(dst, schema, value, false)
}

// appendTo encodes value into dst with a pooled encoder; hashMapOrder as AppendHashMapOrdered.
func (c *Converter) appendTo(dst []byte, schema *connect.Schema, value any, hashMapOrder bool) ([]byte, error) {
	e := getEncoder(c)
	pooled := e.buf
	e.buf = dst
	e.hashMapOrder = hashMapOrder
	err := c.encode(e, schema, value)
	out := e.buf
	e.buf = pooled
	putEncoder(e)
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (c *Converter) encode(e *encoder, schema *connect.Schema, value any) error {
	if c.cfg.schemasEnable {
		e.buf = append(e.buf, `{"schema":`...)
		if schema == nil {
			e.buf = append(e.buf, "null"...)
		} else if err := e.schema(schema); err != nil {
			return fmt.Errorf("convert schema to JSON: %w", err)
		}
		e.buf = append(e.buf, `,"payload":`...)
	}
	if err := e.value(schema, value); err != nil {
		return fmt.Errorf("convert value to JSON: %w", err)
	}
	if c.cfg.schemasEnable {
		e.buf = append(e.buf, '}')
	}
	return nil
}

// ErrNoEnvelope is returned when schemas.enable is on and a message is not a schema/payload envelope.
var ErrNoEnvelope = &connect.DataError{Msg: `JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.`}

// ToConnectData deserializes a message; nil data (a tombstone) is a null value without schema.
func (c *Converter) ToConnectData(topic string, data []byte) (*connect.Schema, any, error) {
	if data == nil {
		return nil, nil, nil
	}
	d := decoder{c: c, data: data}
	d.skipBOM()
	s, v, err := d.message()
	if err != nil {
		return nil, nil, fmt.Errorf("convert JSON to Connect data: %w", err)
	}
	return s, v, nil
}

func (d *decoder) message() (*connect.Schema, any, error) {
	d.skipWS()
	if d.pos == len(d.data) {
		// Jackson reads empty input as a missing node: null without schemas, no envelope with.
		if d.c.cfg.schemasEnable && !d.c.hasFixedSpec {
			return nil, nil, ErrNoEnvelope
		}
		if !d.c.cfg.schemasEnable {
			return nil, nil, nil
		}
		v, err := d.c.nullValue(d.c.fixedSchema)
		return d.c.fixedSchema, v, err
	}
	switch {
	case !d.c.cfg.schemasEnable:
		v, err := d.schemaless()
		if err != nil {
			return nil, nil, err
		}
		return nil, v, d.end()
	case d.c.hasFixedSpec:
		v, err := d.value(d.c.fixedSchema)
		if err != nil {
			return nil, nil, err
		}
		return d.c.fixedSchema, v, d.end()
	}
	start := d.pos
	if s, v, ok := d.repeatedEnvelope(); ok {
		return s, v, nil
	}
	*d = decoder{c: d.c, data: d.data, pos: start, scratch: d.scratch}
	schemaRaw, payloadStart, payloadEnd, err := d.envelope()
	if err != nil {
		return nil, nil, err
	}
	if err := d.end(); err != nil {
		return nil, nil, err
	}
	var schema *connect.Schema
	if !isNullLiteral(schemaRaw) {
		if schema, err = d.c.parseSchema(schemaRaw); err != nil {
			return nil, nil, fmt.Errorf("schema: %w", err)
		}
	}
	p := decoder{c: d.c, data: d.data[:payloadEnd], pos: payloadStart}
	v, err := p.value(schema)
	if err != nil {
		return nil, nil, err
	}
	return schema, v, nil
}

// repeatedEnvelope decodes the usual envelope, {"schema":…,"payload":…} in that order, in one
// pass when its schema is the one parsed last. ok is false for any other shape, for another
// schema and for any error; the caller then decodes the message the general way, which also words
// the error. Matching the cached schema's bytes as a prefix is exact: a schema is a JSON object,
// and an object ends where its bytes say it does.
func (d *decoder) repeatedEnvelope() (s *connect.Schema, v any, ok bool) {
	last := d.c.lastSchema.Load()
	if last == nil || !d.token("{") {
		return nil, nil, false
	}
	d.depth++
	if !d.token(`"schema"`) || !d.token(":") {
		return nil, nil, false
	}
	d.skipWS()
	if !bytes.HasPrefix(d.data[d.pos:], last.raw) {
		return nil, nil, false
	}
	d.pos += len(last.raw)
	if !d.token(",") || !d.token(`"payload"`) || !d.token(":") {
		return nil, nil, false
	}
	v, err := d.value(last.schema)
	if err != nil || !d.token("}") || d.end() != nil {
		return nil, nil, false
	}
	return last.schema, v, true
}

// token consumes lit after optional whitespace and reports whether it was there.
func (d *decoder) token(lit string) bool {
	d.skipWS()
	if !bytes.HasPrefix(d.data[d.pos:], []byte(lit)) {
		return false
	}
	d.pos += len(lit)
	return true
}

// HeaderConverter is the JSON converter used for headers (header.converter=JsonConverter). It is a
// separate type because connect.Converter and connect.HeaderConverter both declare Configure.
type HeaderConverter struct{ c *Converter }

// NewHeaderConverter returns a JSON header converter with the default configuration.
func NewHeaderConverter() *HeaderConverter { return &HeaderConverter{c: New()} }

// Version returns the plugin version.
func (h *HeaderConverter) Version() string { return Version }

// ConfigDef returns the converter's configuration keys.
func (h *HeaderConverter) ConfigDef() *connect.ConfigDef { return configDef }

// Configure applies props as for values.
func (h *HeaderConverter) Configure(props map[string]string) error {
	return h.c.Configure(props, false)
}

// FromConnectHeader serializes one header value exactly as a record value.
func (h *HeaderConverter) FromConnectHeader(topic, key string, schema *connect.Schema, value any) ([]byte, error) {
	return h.c.FromConnectData(topic, schema, value)
}

// ToConnectHeader deserializes one header value exactly as a record value.
func (h *HeaderConverter) ToConnectHeader(topic, key string, data []byte) (*connect.Schema, any, error) {
	return h.c.ToConnectData(topic, data)
}
