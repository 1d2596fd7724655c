package sink

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/kconnect/kconnect/connect"
)

// valueKind says how a column's Connect value is turned into a database value; it is decided once
// per schema so the per-row conversion is a switch, not a schema inspection.
type valueKind uint8

const (
	kindPlain             valueKind = iota // int8…int64, float32/64, bool, string, []byte as they are
	kindDecimal                            // connect.Decimal
	kindDate                               // Connect Date: time.Time at midnight UTC
	kindDbzDate                            // io.debezium.time.Date: int32 days since the epoch
	kindTime                               // Connect Time: time.Time on 1970-01-01 UTC
	kindDbzTime                            // io.debezium.time.Time: int32 milliseconds since midnight
	kindDbzMicroTime                       // io.debezium.time.MicroTime: int64 microseconds since midnight
	kindDbzNanoTime                        // io.debezium.time.NanoTime: int64 nanoseconds since midnight
	kindTimestamp                          // Connect Timestamp: time.Time
	kindDbzTimestamp                       // io.debezium.time.Timestamp: int64 milliseconds since the epoch
	kindDbzMicroTimestamp                  // io.debezium.time.MicroTimestamp: int64 microseconds since the epoch
	kindDbzNanoTimestamp                   // io.debezium.time.NanoTimestamp: int64 nanoseconds since the epoch
	kindZonedTimestamp                     // io.debezium.time.ZonedTimestamp: ISO-8601 string with offset
	kindZonedTime                          // io.debezium.time.ZonedTime: ISO-8601 time string with offset, written as it is
	kindYear                               // io.debezium.time.Year: int32, written as it is
	kindEnum                               // io.debezium.data.Enum: string, its values in the schema's "allowed" parameter
	kindXML                                // io.debezium.data.Xml: an XML document as a string
	kindMicroDuration                      // io.debezium.time.MicroDuration: int64 microseconds
	kindBits                               // io.debezium.data.Bits: bytes of a little-endian bit set, its size in "length"
	kindVarDecimal                         // io.debezium.data.VariableScaleDecimal: struct of scale and unscaled bytes
	kindMap                                // map of primitives (Debezium's class only)
	kindJSON                               // io.debezium.data.Json: a JSON document as a string
	kindUUID                               // io.debezium.data.Uuid: a UUID as a string
	kindArray                              // array of primitives
)

// Debezium semantic type names (schema names) the sink understands.
const (
	dbzDate           = "io.debezium.time.Date"
	dbzTime           = "io.debezium.time.Time"
	dbzMicroTime      = "io.debezium.time.MicroTime"
	dbzNanoTime       = "io.debezium.time.NanoTime"
	dbzTimestamp      = "io.debezium.time.Timestamp"
	dbzMicroTimestamp = "io.debezium.time.MicroTimestamp"
	dbzNanoTimestamp  = "io.debezium.time.NanoTimestamp"
	dbzZonedTimestamp = "io.debezium.time.ZonedTimestamp"
	dbzZonedTime      = "io.debezium.time.ZonedTime"
	dbzYear           = "io.debezium.time.Year"
	dbzEnum           = "io.debezium.data.Enum"
	dbzXML            = "io.debezium.data.Xml"
	dbzMicroDuration  = "io.debezium.time.MicroDuration"
	dbzBits           = "io.debezium.data.Bits"
	dbzVarDecimal     = "io.debezium.data.VariableScaleDecimal"
	dbzJSON           = "io.debezium.data.Json"
	dbzUUID           = "io.debezium.data.Uuid"

	// decimalPrecisionParam is the schema parameter Debezium (and Confluent's Avro converter) use
	// to carry a decimal's precision.
	decimalPrecisionParam = "connect.decimal.precision"
)

// kindOf classifies a field schema, rejecting shapes no SQL column can hold. Maps of primitives
// have columns only for Debezium's class, as in Debezium's sink; Confluent's sink rejects them.
func kindOf(s *connect.Schema, debezium bool) (valueKind, error) {
	switch s.Name {
	case connect.DecimalName:
		if _, err := connect.DecimalScale(s); err != nil {
			return 0, err
		}
		return kindDecimal, nil
	case connect.DateName:
		return kindDate, nil
	case connect.TimeName:
		return kindTime, nil
	case connect.TimestampName:
		return kindTimestamp, nil
	case dbzVarDecimal:
		if s.Type == connect.TypeStruct && s.Field("scale") != nil && s.Field("scale").Schema.Type == connect.TypeInt32 &&
			s.Field("value") != nil && s.Field("value").Schema.Type == connect.TypeBytes {
			return kindVarDecimal, nil
		}
	}
	named := map[string]struct {
		t    connect.Type
		kind valueKind
	}{
		dbzDate:           {connect.TypeInt32, kindDbzDate},
		dbzTime:           {connect.TypeInt32, kindDbzTime},
		dbzMicroTime:      {connect.TypeInt64, kindDbzMicroTime},
		dbzNanoTime:       {connect.TypeInt64, kindDbzNanoTime},
		dbzTimestamp:      {connect.TypeInt64, kindDbzTimestamp},
		dbzMicroTimestamp: {connect.TypeInt64, kindDbzMicroTimestamp},
		dbzNanoTimestamp:  {connect.TypeInt64, kindDbzNanoTimestamp},
		dbzZonedTimestamp: {connect.TypeString, kindZonedTimestamp},
		dbzZonedTime:      {connect.TypeString, kindZonedTime},
		dbzYear:           {connect.TypeInt32, kindYear},
		dbzEnum:           {connect.TypeString, kindEnum},
		dbzXML:            {connect.TypeString, kindXML},
		dbzMicroDuration:  {connect.TypeInt64, kindMicroDuration},
		dbzBits:           {connect.TypeBytes, kindBits},
		dbzJSON:           {connect.TypeString, kindJSON},
		dbzUUID:           {connect.TypeString, kindUUID},
	}
	if n, ok := named[s.Name]; ok && n.t == s.Type {
		return n.kind, nil
	}
	switch s.Type {
	case connect.TypeArray:
		if s.ValSchema == nil || !s.ValSchema.Type.IsPrimitive() || s.ValSchema.Name != "" {
			return 0, fmt.Errorf("arrays are supported only of unnamed primitive elements, not %s", s.ValSchema)
		}
		return kindArray, nil
	case connect.TypeMap:
		if debezium && s.KeySchema.Type.IsPrimitive() && s.ValSchema.Type.IsPrimitive() {
			return kindMap, nil
		}
		return 0, fmt.Errorf("%s values cannot be written to a column; flatten the record first (for example with the Flatten transform)", s.Type)
	case connect.TypeStruct:
		return 0, fmt.Errorf("%s values cannot be written to a column; flatten the record first (for example with the Flatten transform)", s.Type)
	}
	return kindPlain, nil
}

// isDateKind, isTimeKind and isTimestampKind group the temporal kinds by the column type they need.
func isDateKind(k valueKind) bool { return k == kindDate || k == kindDbzDate }

func isTimeKind(k valueKind) bool {
	return k == kindTime || k == kindDbzTime || k == kindDbzMicroTime || k == kindDbzNanoTime
}

func isTimestampKind(k valueKind) bool {
	return k == kindTimestamp || k == kindDbzTimestamp || k == kindDbzMicroTimestamp || k == kindDbzNanoTimestamp
}

// timeFraction is the fractional-second digits a temporal kind carries.
func timeFraction(k valueKind) int {
	switch k {
	case kindTime, kindTimestamp, kindDbzTime, kindDbzTimestamp:
		return 3
	}
	return 6
}

// asDate returns a date kind's value as midnight UTC of that day.
func asDate(k valueKind, v any) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		if k == kindDate {
			return x.UTC(), nil
		}
	case int32:
		if k == kindDbzDate {
			return connect.DaysToDate(x), nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid date value of Go type %T", v)
}

// asTimeOfDay returns a time kind's value as microseconds since midnight.
func asTimeOfDay(k valueKind, v any) (int64, error) {
	var us int64
	switch x := v.(type) {
	case time.Time:
		if k != kindTime {
			return 0, fmt.Errorf("invalid time value of Go type %T", v)
		}
		ms, err := connect.TimeToMillis(x)
		if err != nil {
			return 0, err
		}
		us = int64(ms) * 1000
	case int32:
		if k != kindDbzTime {
			return 0, fmt.Errorf("invalid time value of Go type %T", v)
		}
		us = int64(x) * 1000
	case int64:
		switch k {
		case kindDbzMicroTime:
			us = x
		case kindDbzNanoTime:
			us = x / 1000
		default:
			return 0, fmt.Errorf("invalid time value of Go type %T", v)
		}
	default:
		return 0, fmt.Errorf("invalid time value of Go type %T", v)
	}
	if us < 0 || us > 24*3600*1_000_000 {
		return 0, fmt.Errorf("time of day %dµs is out of range", us)
	}
	return us, nil
}

// asInstant returns a timestamp kind's value as a point in time.
func asInstant(k valueKind, v any) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		if k == kindTimestamp {
			return x, nil
		}
	case int64:
		switch k {
		case kindDbzTimestamp:
			return time.UnixMilli(x).UTC(), nil
		case kindDbzMicroTimestamp:
			return time.UnixMicro(x).UTC(), nil
		case kindDbzNanoTimestamp:
			return time.Unix(0, x).UTC(), nil
		}
	case string:
		if k == kindZonedTimestamp {
			t, err := time.Parse(time.RFC3339Nano, x)
			if err != nil {
				return time.Time{}, fmt.Errorf("invalid ZonedTimestamp %q: %w", x, err)
			}
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid timestamp value of Go type %T", v)
}

// decimalPrecision returns the precision a Decimal schema declares, or 0 when it declares none.
func decimalPrecision(s *connect.Schema) int {
	p, ok := s.Parameters.Get(decimalPrecisionParam)
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(p)
	if err != nil || n <= 0 || n > math.MaxInt16 {
		return 0
	}
	return n
}

// debeziumDecimalPrecision is the precision Debezium's JDBC sink gives a decimal column: the
// declared one, else 38, widened to the scale.
func debeziumDecimalPrecision(s *connect.Schema) int {
	p := decimalPrecision(s)
	if p == 0 {
		p = 38
	}
	if scale, _ := connect.DecimalScale(s); int(scale) > p {
		p = int(scale)
	}
	return p
}

// decimalScale renders a Decimal schema's scale, which kindOf has validated.
func decimalScale(s *connect.Schema) string {
	scale, _ := connect.DecimalScale(s)
	return strconv.Itoa(int(scale))
}

// bitsLength is the bit count an io.debezium.data.Bits schema declares, 0 when it declares none.
func bitsLength(s *connect.Schema) int {
	v, ok := s.Parameters.Get("length")
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// bitAt reports bit i of a little-endian bit set (Java's BitSet.toByteArray, as Debezium writes
// io.debezium.data.Bits).
func bitAt(b []byte, i int) bool {
	return i/8 < len(b) && b[i/8]>>(i%8)&1 == 1
}

// asVarDecimal returns the number a VariableScaleDecimal struct holds.
func asVarDecimal(v any) (connect.Decimal, error) {
	st, ok := v.(*connect.Struct)
	if !ok {
		return connect.Decimal{}, fmt.Errorf("VariableScaleDecimal value must be a struct, got %T", v)
	}
	scale, ok1 := st.Get("scale").(int32)
	unscaled, ok2 := st.Get("value").([]byte)
	if !ok1 || !ok2 {
		return connect.Decimal{}, fmt.Errorf("VariableScaleDecimal needs its scale and value, got %v", st)
	}
	return connect.DecimalFromBytes(unscaled, scale), nil
}

// stringKeyed returns a map value with its keys as text, as both Debezium's JSON and hstore
// columns key it.
func stringKeyed(v any) (map[string]any, error) {
	switch m := v.(type) {
	case map[string]any:
		return m, nil
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, val := range m {
			out[fmt.Sprint(k)] = val
		}
		return out, nil
	}
	return nil, fmt.Errorf("map value must be a Go map, got %T", v)
}
