package transforms

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/transforms/internal/simpledate"
	"github.com/kconnect/kconnect/transforms/internal/validators"
)

const tsPurpose = "converting timestamp formats"

// Timestamp representations TimestampConverter converts between.
const (
	tsString    = "string"
	tsUnix      = "unix"
	tsDate      = "Date"
	tsTime      = "Time"
	tsTimestamp = "Timestamp"
)

var timestampConverterConfigDef = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: "field", Type: connect.ConfigString, Default: "", Importance: connect.High,
		Doc: "The field holding the timestamp, or empty when the whole key or value is the timestamp."}).
	Define(connect.ConfigKey{Name: "target.type", Type: connect.ConfigString, Required: true, Importance: connect.High,
		Validator: validators.ValidString(tsString, tsUnix, tsDate, tsTime, tsTimestamp),
		Doc:       "The representation to convert to: string, unix, Date, Time or Timestamp."}).
	Define(connect.ConfigKey{Name: "format", Type: connect.ConfigString, Default: "", Importance: connect.Medium,
		Doc: "java.text.SimpleDateFormat pattern (in UTC) to write timestamps with when target.type=string, and to read string timestamps with."}).
	Define(connect.ConfigKey{Name: "unix.precision", Type: connect.ConfigString, Default: "milliseconds", Importance: connect.Low,
		Validator: validators.ValidString("nanoseconds", "microseconds", "milliseconds", "seconds"),
		Doc:       "Unit of unix timestamps, written when target.type=unix and read from int64 values: seconds, milliseconds, microseconds or nanoseconds. Precision below a millisecond is lost."}).
	Define(replaceNullKey)

// TimestampConverter converts timestamps between epoch numbers, formatted strings and Connect's
// Date, Time and Timestamp types, for a field or the whole key or value
// (org.apache.kafka.connect.transforms.TimestampConverter$Key / $Value).
type TimestampConverter struct {
	side        side
	field       string
	target      string
	format      *simpledate.Format // nil without a format
	precision   string
	withDefault bool
	schemas     *schemaCache
}

// ConfigDef returns TimestampConverter's configuration keys.
func (*TimestampConverter) ConfigDef() *connect.ConfigDef { return timestampConverterConfigDef }

// Configure reads the target type, format and precision.
func (t *TimestampConverter) Configure(props map[string]string) error {
	cfg, err := timestampConverterConfigDef.Parse(props)
	if err != nil {
		return err
	}
	t.field, t.target, t.precision = cfg.String("field"), cfg.String("target.type"), cfg.String("unix.precision")
	t.withDefault = cfg.Bool("replace.null.with.default")
	pattern := cfg.String("format")
	if t.target == tsString && strings.TrimSpace(pattern) == "" {
		return &connect.FieldError{Name: "format", Msg: "TimestampConverter requires format option to be specified when using string timestamps"}
	}
	if strings.TrimSpace(pattern) != "" {
		if t.format, err = simpledate.Compile(pattern); err != nil {
			return &connect.FieldError{Name: "format", Msg: fmt.Sprintf("TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: %s (%v)", pattern, err)}
		}
	}
	t.schemas = newSchemaCache()
	return nil
}

// Apply converts the timestamp.
func (t *TimestampConverter) Apply(rec *connect.Record) (*connect.Record, error) {
	schema, value := t.side.schema(rec), t.side.value(rec)
	if schema == nil {
		if value == nil || t.field == "" {
			v, err := t.convert(value, "")
			if err != nil {
				return nil, err
			}
			return t.side.with(rec, nil, v), nil
		}
		m, err := requireMap(value, tsPurpose)
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(m)+1)
		for k, v := range m {
			out[k] = v
		}
		if out[t.field], err = t.convert(m[t.field], ""); err != nil {
			return nil, err
		}
		return t.side.with(rec, nil, out), nil
	}
	if t.field == "" {
		from, err := typeOfSchema(schema)
		if err != nil {
			return nil, err
		}
		v, err := t.convert(value, from)
		if err != nil {
			return nil, err
		}
		return t.side.with(rec, targetSchema(t.target, schema.Optional), v), nil
	}
	st, err := requireStructOrNil(value, tsPurpose)
	if err != nil {
		return nil, err
	}
	updated, err := t.updatedSchema(schema)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return t.side.with(rec, updated, nil), nil
	}
	out := connect.NewStruct(updated)
	for i, f := range st.Schema().Fields {
		v := fieldValue(st, i, t.withDefault)
		if f.Name == t.field {
			from, err := typeOfSchema(f.Schema)
			if err != nil {
				return nil, err
			}
			if v, err = t.convert(v, from); err != nil {
				return nil, err
			}
		}
		if err := out.Put(f.Name, v); err != nil {
			return nil, err
		}
	}
	return t.side.with(rec, updated, out), nil
}

func (t *TimestampConverter) updatedSchema(schema *connect.Schema) (*connect.Schema, error) {
	if s, ok := t.schemas.Get(schema); ok {
		return s, nil
	}
	b := CopySchemaBasics(schema, connect.StructBuilder())
	for _, f := range schema.Fields {
		if f.Name == t.field {
			b.Field(f.Name, targetSchema(t.target, f.Schema.Optional))
		} else {
			b.Field(f.Name, f.Schema)
		}
	}
	if schema.Optional {
		b.Optional()
	}
	s, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("timestamp converter schema: %w", err)
	}
	t.schemas.Put(schema, s)
	return s, nil
}

func targetSchema(target string, optional bool) *connect.Schema {
	pick := func(opt, req *connect.Schema) *connect.Schema {
		if optional {
			return opt
		}
		return req
	}
	switch target {
	case tsString:
		return pick(connect.OptionalStringSchema, connect.StringSchema)
	case tsUnix:
		return pick(connect.OptionalInt64Schema, connect.Int64Schema)
	case tsDate:
		return pick(optionalDateSchema, dateSchema)
	case tsTime:
		return pick(optionalTimeSchema, timeSchema)
	}
	return pick(optionalTimestampSchema, timestampSchema)
}

// typeOfSchema tells the representation of a timestamp from its schema.
func typeOfSchema(s *connect.Schema) (string, error) {
	switch {
	case s.Name == connect.TimestampName:
		return tsTimestamp, nil
	case s.Name == connect.DateName:
		return tsDate, nil
	case s.Name == connect.TimeName:
		return tsTime, nil
	case s.Type == connect.TypeString:
		return tsString, nil
	case s.Type == connect.TypeInt64:
		return tsUnix, nil
	}
	return "", fmt.Errorf("Schema %s does not correspond to a known timestamp type format", javaSchemaString(s))
}

// convert converts ts from representation from ("" to infer it from the Go type) to the target.
func (t *TimestampConverter) convert(ts any, from string) (any, error) {
	if ts == nil {
		return nil, nil
	}
	if from == "" {
		switch ts.(type) {
		case time.Time:
			from = tsTimestamp
		case int64:
			from = tsUnix
		case string:
			from = tsString
		default:
			return nil, dataErr("TimestampConverter does not support class %s objects as timestamps", className(ts))
		}
	}
	raw, err := t.toTime(ts, from)
	if err != nil {
		return nil, err
	}
	return t.fromTime(raw), nil
}

func (t *TimestampConverter) toTime(ts any, from string) (time.Time, error) {
	switch from {
	case tsString:
		s, ok := ts.(string)
		if !ok {
			return time.Time{}, dataErr("Expected string timestamp to be a String, but found class %s", className(ts))
		}
		if t.format == nil {
			return time.Time{}, &connect.FieldError{Name: "format", Msg: "TimestampConverter requires format option to be specified when using string timestamps"}
		}
		parsed, err := t.format.Parse(s)
		if err != nil {
			return time.Time{}, dataErr("Could not parse timestamp: value (%s) does not match pattern (%s)", s, t.format.Pattern())
		}
		return parsed, nil
	case tsUnix:
		n, ok := ts.(int64)
		if !ok {
			return time.Time{}, dataErr("Expected Unix timestamp to be a Long, but found class %s", className(ts))
		}
		switch t.precision {
		case "seconds":
			n = saturatingMul(n, 1000)
		case "microseconds":
			n /= 1000
		case "nanoseconds":
			n /= 1_000_000
		}
		return time.UnixMilli(n).UTC(), nil
	}
	tm, ok := ts.(time.Time)
	if !ok {
		return time.Time{}, dataErr("Expected %s to be a java.util.Date, but found class %s", from, className(ts))
	}
	return tm, nil
}

func (t *TimestampConverter) fromTime(tm time.Time) any {
	tm = time.UnixMilli(tm.UnixMilli()).UTC() // java.util.Date holds milliseconds
	switch t.target {
	case tsString:
		return t.format.Format(tm)
	case tsUnix:
		ms := tm.UnixMilli()
		switch t.precision {
		case "seconds":
			return ms / 1000
		case "microseconds":
			return saturatingMul(ms, 1000)
		case "nanoseconds":
			return saturatingMul(ms, 1_000_000)
		}
		return ms
	case tsDate:
		return time.Date(tm.Year(), tm.Month(), tm.Day(), 0, 0, 0, 0, time.UTC)
	case tsTime:
		return time.Date(1970, 1, 1, tm.Hour(), tm.Minute(), tm.Second(), tm.Nanosecond(), time.UTC)
	}
	return tm
}

// saturatingMul multiplies as TimeUnit conversions do, clamping instead of overflowing.
func saturatingMul(n, m int64) int64 {
	switch {
	case n > math.MaxInt64/m:
		return math.MaxInt64
	case n < math.MinInt64/m:
		return math.MinInt64
	}
	return n * m
}

// Close releases nothing.
func (*TimestampConverter) Close() error { return nil }
