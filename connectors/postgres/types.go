package postgres

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/kconnect/kconnect/connect"
)

// Built-in type OIDs (pg_type.dat); they are fixed across PostgreSQL versions.
const (
	oidBool        = 16
	oidBytea       = 17
	oidChar        = 18
	oidName        = 19
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidText        = 25
	oidOID         = 26
	oidJSON        = 114
	oidXML         = 142
	oidCIDR        = 650
	oidFloat4      = 700
	oidFloat8      = 701
	oidMacaddr8    = 774
	oidMoney       = 790
	oidMacaddr     = 829
	oidInet        = 869
	oidBpchar      = 1042
	oidVarchar     = 1043
	oidDate        = 1082
	oidTime        = 1083
	oidTimestamp   = 1114
	oidTimestamptz = 1184
	oidInterval    = 1186
	oidTimetz      = 1266
	oidBit         = 1560
	oidVarbit      = 1562
	oidNumeric     = 1700
	oidUUID        = 2950
	oidJSONB       = 3802
	oidInt4range   = 3904
	oidNumrange    = 3906
	oidTsrange     = 3908
	oidTstzrange   = 3910
	oidDaterange   = 3912
	oidInt8range   = 3926
)

// Debezium's semantic type names.
const (
	nameDate          = "io.debezium.time.Date"
	nameTime          = "io.debezium.time.Time"
	nameMicroTime     = "io.debezium.time.MicroTime"
	nameTimestamp     = "io.debezium.time.Timestamp"
	nameMicroTs       = "io.debezium.time.MicroTimestamp"
	nameZonedTs       = "io.debezium.time.ZonedTimestamp"
	nameZonedTime     = "io.debezium.time.ZonedTime"
	nameMicroDuration = "io.debezium.time.MicroDuration"
	nameInterval      = "io.debezium.time.Interval"
	nameVarDecimal    = "io.debezium.data.VariableScaleDecimal"
	nameUUID          = "io.debezium.data.Uuid"
	nameJSON          = "io.debezium.data.Json"
	nameXML           = "io.debezium.data.Xml"
	nameEnum          = "io.debezium.data.Enum"
	nameBits          = "io.debezium.data.Bits"
	nameLtree         = "io.debezium.data.Ltree"
	precisionParam    = "connect.decimal.precision"
)

// Timestamps PostgreSQL stores as +/-infinity become the values PgJDBC uses, as Debezium documents.
const (
	infinityMicros    = 9223372036825200000
	negInfinityMicros = -9223372036832400000
)

// pgType is what the catalog says about a type (pg_type), enough to map it.
type pgType struct {
	oid        uint32
	name       string
	typtype    byte // b base, e enum, d domain, c composite, r range, m multirange, p pseudo
	category   byte // A for arrays
	elem       uint32
	base       uint32
	baseTypmod int32
	enumLabels []string
}

// decodeFunc turns the text representation PostgreSQL sends (pgoutput and text result format alike)
// into a Connect value.
type decodeFunc func([]byte) (any, error)

// colType is a column's mapped schema and decoder.
type colType struct {
	schema      *connect.Schema
	decode      decodeFunc
	decodeBin   decodeFunc // decoder of the binary send format; nil when the column is read as text
	zero        any        // value of a required field PostgreSQL sent no value for (key-only old tuples)
	placeholder any        // value of an unchanged TOASTed column; nil when the type cannot be toasted
}

// typeMapper maps column types to Debezium's representation under the configured modes.
type typeMapper struct {
	cfg   *config
	types func(oid uint32) (*pgType, error)
}

var errUnmapped = errors.New("type has no mapping")

// typmodPrecision returns the fractional-second precision of a time type modifier (6 when unset).
func typmodPrecision(typmod int32) int {
	if typmod < 0 {
		return 6
	}
	return int(typmod)
}

// column maps a column of type oid/typmod; optional says whether the column is nullable.
func (m *typeMapper) column(oid uint32, typmod int32, optional bool) (colType, error) {
	return m.scalarOrArray(oid, typmod, optional, 0)
}

func withOptional(b *connect.SchemaBuilder, optional bool) *connect.Schema {
	if optional {
		b.Optional()
	}
	return b.MustBuild()
}

func (m *typeMapper) scalarOrArray(oid uint32, typmod int32, optional bool, depth int) (colType, error) {
	if ct, ok := m.builtin(oid, typmod, optional); ok {
		return ct, nil
	}
	t, err := m.types(oid)
	if err != nil {
		return colType{}, err
	}
	if t == nil || depth > 4 {
		return m.unknown(optional)
	}
	switch {
	case t.typtype == 'd':
		if typmod < 0 {
			typmod = t.baseTypmod
		}
		return m.scalarOrArray(t.base, typmod, optional, depth+1)
	case t.typtype == 'e':
		s := withOptional(connect.NewSchemaBuilder(connect.TypeString).Name(nameEnum).Version(1).Param("allowed", strings.Join(t.enumLabels, ",")), optional)
		return colType{schema: s, decode: decodeString, zero: "", placeholder: m.cfg.placeholder}, nil
	case t.category == 'A' && t.elem != 0:
		elem, err := m.scalarOrArray(t.elem, typmod, true, depth+1)
		if err != nil || elem.schema == nil {
			return m.unknown(optional)
		}
		// Debezium declares enum array elements required; every other element type optional.
		es := elem.schema
		if es.Name == nameEnum {
			cp := *es
			cp.Optional = false
			es = &cp
		}
		s := withOptional(connect.ArrayBuilder(es), optional)
		dec := elem.decode
		ct := colType{schema: s, zero: []any{}, decode: func(b []byte) (any, error) { return decodeArray(b, dec) }}
		if es.Type == connect.TypeString {
			ct.placeholder = []any{m.cfg.placeholder}
		}
		return ct, nil
	case t.name == "citext" || t.name == "isbn":
		return colType{schema: stringSchema(optional), decode: decodeString, zero: "", placeholder: m.cfg.placeholder}, nil
	case t.name == "ltree":
		s := withOptional(connect.NewSchemaBuilder(connect.TypeString).Name(nameLtree).Version(1), optional)
		return colType{schema: s, decode: decodeString, zero: "", placeholder: m.cfg.placeholder}, nil
	}
	return m.unknown(optional)
}

func (m *typeMapper) unknown(optional bool) (colType, error) {
	if !m.cfg.includeUnknown {
		return colType{}, errUnmapped
	}
	s := m.binarySchema(optional)
	return colType{schema: s, decode: m.binaryFromText, zero: m.binaryZero(), placeholder: m.binaryPlaceholder()}, nil
}

func stringSchema(optional bool) *connect.Schema {
	if optional {
		return connect.OptionalStringSchema
	}
	return connect.StringSchema
}

func primitive(t connect.Type, optional bool) *connect.Schema {
	return withOptional(connect.NewSchemaBuilder(t), optional)
}

func named(t connect.Type, name string, optional bool) *connect.Schema {
	return withOptional(connect.NewSchemaBuilder(t).Name(name).Version(1), optional)
}

func (m *typeMapper) builtin(oid uint32, typmod int32, opt bool) (colType, bool) {
	ph := m.cfg.placeholder
	switch oid {
	case oidBool:
		return colType{schema: primitive(connect.TypeBoolean, opt), decode: decodeBool, decodeBin: binBool, zero: false}, true
	case oidInt2:
		return colType{schema: primitive(connect.TypeInt16, opt), decode: decodeInt16, decodeBin: binInt16, zero: int16(0)}, true
	case oidInt4:
		return colType{schema: primitive(connect.TypeInt32, opt), decode: decodeInt32, decodeBin: binInt32, zero: int32(0)}, true
	case oidInt8:
		return colType{schema: primitive(connect.TypeInt64, opt), decode: decodeInt64, decodeBin: binInt64, zero: int64(0)}, true
	case oidOID:
		return colType{schema: primitive(connect.TypeInt64, opt), decode: decodeInt64, decodeBin: binOID, zero: int64(0)}, true
	case oidFloat4:
		return colType{schema: primitive(connect.TypeFloat32, opt), decode: decodeFloat32, decodeBin: binFloat32, zero: float32(0)}, true
	case oidFloat8:
		return colType{schema: primitive(connect.TypeFloat64, opt), decode: decodeFloat64, decodeBin: binFloat64, zero: float64(0)}, true
	case oidText, oidVarchar, oidBpchar, oidChar, oidName, oidInet, oidCIDR, oidMacaddr, oidMacaddr8,
		oidInt4range, oidInt8range, oidNumrange, oidTsrange, oidTstzrange, oidDaterange:
		return colType{schema: stringSchema(opt), decode: decodeString, zero: "", placeholder: ph}, true
	case oidJSON, oidJSONB:
		return colType{schema: named(connect.TypeString, nameJSON, opt), decode: decodeString, zero: "{}", placeholder: ph}, true
	case oidXML:
		return colType{schema: named(connect.TypeString, nameXML, opt), decode: decodeString, zero: "", placeholder: ph}, true
	case oidUUID:
		return colType{schema: named(connect.TypeString, nameUUID, opt), decode: decodeString, decodeBin: binUUID, zero: "", placeholder: ph}, true
	case oidBytea:
		return colType{schema: m.binarySchema(opt), decode: m.decodeBytea, decodeBin: m.binBytea, zero: m.binaryZero(), placeholder: m.binaryPlaceholder()}, true
	case oidNumeric:
		return m.numeric(typmod, opt), true
	case oidMoney:
		return m.money(opt), true
	case oidDate:
		if m.cfg.timePrecision == "connect" {
			return colType{schema: withOptional(connect.DateSchema(), opt), decode: decodeDateConnect, decodeBin: binDateConnect, zero: connect.DaysToDate(0)}, true
		}
		return colType{schema: named(connect.TypeInt32, nameDate, opt), decode: decodeDateDays, decodeBin: binDateDays, zero: int32(0)}, true
	case oidTime:
		p := typmodPrecision(typmod)
		switch {
		case m.cfg.timePrecision == "connect":
			return colType{schema: withOptional(connect.TimeSchema(), opt), decode: decodeTimeConnect, decodeBin: binTimeConnect, zero: connect.MillisToTime(0)}, true
		case m.cfg.timePrecision == "adaptive" && p <= 3:
			return colType{schema: named(connect.TypeInt32, nameTime, opt), decode: decodeTimeMillis, decodeBin: binTimeMillis, zero: int32(0)}, true
		}
		return colType{schema: named(connect.TypeInt64, nameMicroTime, opt), decode: decodeTimeMicros, decodeBin: binTimeMicros, zero: int64(0)}, true
	case oidTimestamp:
		p := typmodPrecision(typmod)
		switch {
		case m.cfg.timePrecision == "connect":
			return colType{schema: withOptional(connect.TimestampSchema(), opt), decode: decodeTimestampConnect, decodeBin: binTimestampConnect, zero: time.UnixMilli(0).UTC()}, true
		case m.cfg.timePrecision != "microseconds" && p <= 3:
			return colType{schema: named(connect.TypeInt64, nameTimestamp, opt), decode: decodeTimestampMillis, decodeBin: binTimestampMillis, zero: int64(0)}, true
		}
		return colType{schema: named(connect.TypeInt64, nameMicroTs, opt), decode: decodeTimestampMicros, decodeBin: binTimestampMicros, zero: int64(0)}, true
	case oidTimestamptz:
		p := typmodPrecision(typmod)
		dec := func(b []byte) (any, error) { return decodeTimestamptz(b, p) }
		bin := func(b []byte) (any, error) { return binTimestamptz(b, p) }
		return colType{schema: named(connect.TypeString, nameZonedTs, opt), decode: dec, decodeBin: bin, zero: "1970-01-01T00:00:00Z"}, true
	case oidTimetz:
		return colType{schema: named(connect.TypeString, nameZonedTime, opt), decode: decodeTimetz, zero: "00:00:00Z"}, true
	case oidInterval:
		if m.cfg.intervalString {
			return colType{schema: named(connect.TypeString, nameInterval, opt), decode: decodeIntervalISO, zero: "P0Y0M0DT0H0M0S"}, true
		}
		return colType{schema: named(connect.TypeInt64, nameMicroDuration, opt), decode: decodeIntervalMicros, zero: int64(0)}, true
	case oidBit, oidVarbit:
		length := int(typmod)
		if typmod < 0 {
			length = math.MaxInt32
			if oid == oidBit {
				length = 1
			}
		}
		if length == 1 {
			return colType{schema: primitive(connect.TypeBoolean, opt), decode: decodeBit1, zero: false}, true
		}
		s := withOptional(connect.NewSchemaBuilder(connect.TypeBytes).Name(nameBits).Version(1).Param("length", strconv.Itoa(length)), opt)
		return colType{schema: s, decode: decodeBits, zero: []byte{}}, true
	}
	return colType{}, false
}

func (m *typeMapper) numeric(typmod int32, opt bool) colType {
	ph := m.cfg.placeholder
	switch m.cfg.decimalMode {
	case "double":
		return colType{schema: primitive(connect.TypeFloat64, opt), decode: decodeFloat64, zero: float64(0)}
	case "string":
		return colType{schema: stringSchema(opt), decode: decodeNumericString, zero: "0", placeholder: ph}
	}
	if typmod < 0 {
		s := withOptional(connect.StructBuilder().Name(nameVarDecimal).Version(1).Doc("Variable scaled decimal").
			Field("scale", connect.Int32Schema).Field("value", connect.BytesSchema), opt)
		wrap := func(parse func([]byte) (connect.Decimal, bool, error)) decodeFunc {
			return func(b []byte) (any, error) {
				d, ok, err := parse(b)
				if err != nil || !ok {
					return nil, err
				}
				return connect.NewStruct(s).Set("scale", d.Scale).Set("value", connect.DecimalToBytes(d)), nil
			}
		}
		zero := connect.NewStruct(s).Set("scale", int32(0)).Set("value", []byte{0})
		return colType{schema: s, decode: wrap(parseNumeric), decodeBin: wrap(binNumeric), zero: zero}
	}
	precision := ((typmod - 4) >> 16) & 0xffff
	scale := (typmod - 4) & 0xffff
	s := withOptional(connect.DecimalSchema(scale).Param(precisionParam, strconv.Itoa(int(precision))), opt)
	wrap := func(parse func([]byte) (connect.Decimal, bool, error)) decodeFunc {
		return func(b []byte) (any, error) {
			d, ok, err := parse(b)
			if err != nil || !ok {
				return nil, err
			}
			return rescale(d, scale), nil
		}
	}
	return colType{schema: s, decode: wrap(parseNumeric), decodeBin: wrap(binNumeric), zero: connect.Decimal{Unscaled: new(big.Int), Scale: scale}}
}

func (m *typeMapper) money(opt bool) colType {
	scale := int32(m.cfg.moneyDigits)
	parse := func(b []byte) (connect.Decimal, error) {
		clean := make([]byte, 0, len(b))
		neg := false
		for _, c := range b {
			switch {
			case c >= '0' && c <= '9' || c == '.':
				clean = append(clean, c)
			case c == '-' || c == '(':
				neg = true
			}
		}
		if neg {
			clean = append([]byte{'-'}, clean...)
		}
		d, err := connect.ParseDecimal(string(clean))
		if err != nil {
			return d, fmt.Errorf("money %q: %w", b, err)
		}
		return rescale(d, scale), nil
	}
	switch m.cfg.decimalMode {
	case "double":
		return colType{schema: primitive(connect.TypeFloat64, opt), zero: float64(0), decode: func(b []byte) (any, error) {
			d, err := parse(b)
			return d.Float64(), err
		}}
	case "string":
		return colType{schema: stringSchema(opt), zero: "0", decode: func(b []byte) (any, error) {
			d, err := parse(b)
			return d.String(), err
		}}
	}
	return colType{schema: withOptional(connect.DecimalSchema(scale), opt), zero: connect.Decimal{Unscaled: new(big.Int), Scale: scale},
		decode: func(b []byte) (any, error) { return parse(b) }}
}

func rescale(d connect.Decimal, scale int32) connect.Decimal {
	if d.Scale == scale {
		return d
	}
	return connect.DecimalFromRat(d.Rat(), scale)
}

// parseNumeric parses numeric text; ok is false for NaN and infinities, which a Decimal cannot hold.
func parseNumeric(b []byte) (connect.Decimal, bool, error) {
	if len(b) > 0 && (b[0] == 'N' || b[0] == 'I' || b[0] == '-' && len(b) > 1 && b[1] == 'I') {
		return connect.Decimal{}, false, nil
	}
	if d, ok := parseShortDecimal(b); ok {
		return d, true, nil
	}
	d, err := connect.ParseDecimal(string(b))
	if err != nil {
		return d, false, err
	}
	return d, true, nil
}

// parseShortDecimal parses [-]digits[.digits] of at most 18 digits without going through a string
// and big.Int's parser; ok is false for anything else, which ParseDecimal then handles.
func parseShortDecimal(b []byte) (connect.Decimal, bool) {
	i := 0
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		i = 1
	}
	var n int64
	digits, frac, point := 0, 0, false
	for ; i < len(b); i++ {
		switch c := b[i]; {
		case c >= '0' && c <= '9':
			n = n*10 + int64(c-'0')
			digits++
			if point {
				frac++
			}
		case c == '.' && !point:
			point = true
		default:
			return connect.Decimal{}, false
		}
	}
	if digits == 0 || digits > 18 {
		return connect.Decimal{}, false
	}
	if neg {
		n = -n
	}
	return connect.Decimal{Unscaled: big.NewInt(n), Scale: int32(frac)}, true
}

func decodeNumericString(b []byte) (any, error) {
	if string(b) == "NaN" {
		return "NAN", nil
	}
	return string(b), nil
}

func (m *typeMapper) binarySchema(opt bool) *connect.Schema {
	if m.cfg.binaryMode == "bytes" {
		return primitive(connect.TypeBytes, opt)
	}
	return stringSchema(opt)
}

func (m *typeMapper) binaryZero() any {
	if m.cfg.binaryMode == "bytes" {
		return []byte{}
	}
	return ""
}

func (m *typeMapper) binaryPlaceholder() any {
	if m.cfg.binaryMode == "bytes" {
		return []byte(m.cfg.placeholder)
	}
	return m.cfg.placeholder
}

func (m *typeMapper) encodeBinary(raw []byte) any {
	switch m.cfg.binaryMode {
	case "base64":
		return base64.StdEncoding.EncodeToString(raw)
	case "base64-url-safe":
		return base64.URLEncoding.EncodeToString(raw)
	case "hex":
		return hex.EncodeToString(raw)
	}
	return raw
}

func (m *typeMapper) binaryFromText(b []byte) (any, error) {
	return m.encodeBinary(append([]byte(nil), b...)), nil
}

// decodeBytea decodes bytea's hex output format (bytea_output=hex, which the connections set).
func (m *typeMapper) decodeBytea(b []byte) (any, error) {
	if len(b) < 2 || b[0] != '\\' || b[1] != 'x' {
		return nil, fmt.Errorf("bytea value is not in hex format (bytea_output must be hex)")
	}
	raw := make([]byte, hex.DecodedLen(len(b)-2))
	if _, err := hex.Decode(raw, b[2:]); err != nil {
		return nil, fmt.Errorf("bytea value: %w", err)
	}
	return m.encodeBinary(raw), nil
}

func decodeString(b []byte) (any, error) { return string(b), nil }

func decodeBool(b []byte) (any, error) {
	if len(b) == 1 {
		switch b[0] {
		case 't':
			return true, nil
		case 'f':
			return false, nil
		}
	}
	return nil, fmt.Errorf("boolean value %q", b)
}

// parseInt parses a decimal integer without allocating.
func parseInt(b []byte) (int64, error) {
	if len(b) == 0 {
		return 0, errors.New("empty integer")
	}
	neg := b[0] == '-'
	i := 0
	if neg || b[0] == '+' {
		i = 1
	}
	if i == len(b) || len(b)-i > 19 {
		return strconv.ParseInt(string(b), 10, 64)
	}
	var n uint64
	for ; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("invalid integer %q", b)
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		if n > 1<<63 {
			return 0, fmt.Errorf("integer %q out of range", b)
		}
		return -int64(n), nil
	}
	if n > math.MaxInt64 {
		return 0, fmt.Errorf("integer %q out of range", b)
	}
	return int64(n), nil
}

func decodeInt16(b []byte) (any, error) {
	n, err := parseInt(b)
	return int16(n), err
}

func decodeInt32(b []byte) (any, error) {
	n, err := parseInt(b)
	return int32(n), err
}

func decodeInt64(b []byte) (any, error) { return parseInt(b) }

func decodeFloat32(b []byte) (any, error) {
	f, err := strconv.ParseFloat(string(b), 32)
	return float32(f), err
}

func decodeFloat64(b []byte) (any, error) { return strconv.ParseFloat(string(b), 64) }

func decodeBit1(b []byte) (any, error) {
	for _, c := range b {
		if c == '1' {
			return true, nil
		}
	}
	return false, nil
}

// decodeBits returns the bits little-endian, the rightmost bit of the text being bit 0, trimmed to
// the bytes up to the highest set bit, as Debezium does.
func decodeBits(b []byte) (any, error) {
	n := len(b)
	high := -1
	for i := 0; i < n; i++ {
		if b[i] == '1' {
			high = n - 1 - i
			break
		}
	}
	out := make([]byte, (high+8)/8)
	for i := 0; i < n; i++ {
		if b[i] == '1' {
			bit := n - 1 - i
			out[bit/8] |= 1 << (bit % 8)
		}
	}
	return out, nil
}

// civil holds a parsed date-time; the zone offset is in seconds east of UTC.
type civil struct {
	year, month, day        int
	hour, min, sec, micros  int
	offset                  int
	hasDate, hasTime, hasTZ bool
	infinity                int // +1 or -1 for ±infinity
}

func digits(b []byte, i, n int) (int, int, error) {
	if i+n > len(b) {
		return 0, i, fmt.Errorf("truncated date/time %q", b)
	}
	v := 0
	for k := 0; k < n; k++ {
		c := b[i+k]
		if c < '0' || c > '9' {
			return 0, i, fmt.Errorf("invalid date/time %q", b)
		}
		v = v*10 + int(c-'0')
	}
	return v, i + n, nil
}

// parseClock parses HH:MM:SS[.ffffff] from b[i:].
func parseClock(b []byte, i int, c *civil) (int, error) {
	var err error
	if c.hour, i, err = digits(b, i, 2); err != nil {
		return i, err
	}
	if i >= len(b) || b[i] != ':' {
		return i, fmt.Errorf("invalid time %q", b)
	}
	if c.min, i, err = digits(b, i+1, 2); err != nil {
		return i, err
	}
	if i >= len(b) || b[i] != ':' {
		return i, fmt.Errorf("invalid time %q", b)
	}
	if c.sec, i, err = digits(b, i+1, 2); err != nil {
		return i, err
	}
	if i < len(b) && b[i] == '.' {
		i++
		scale := 100000
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			c.micros += int(b[i]-'0') * scale
			scale /= 10
			i++
		}
	}
	c.hasTime = true
	return i, nil
}

func parseZone(b []byte, i int, c *civil) (int, error) {
	if i >= len(b) || (b[i] != '+' && b[i] != '-') {
		return i, nil
	}
	sign := 1
	if b[i] == '-' {
		sign = -1
	}
	h, j, err := digits(b, i+1, 2)
	if err != nil {
		return i, err
	}
	secs := h * 3600
	if j < len(b) && b[j] == ':' {
		var mm int
		if mm, j, err = digits(b, j+1, 2); err != nil {
			return i, err
		}
		secs += mm * 60
		if j < len(b) && b[j] == ':' {
			var ss int
			if ss, j, err = digits(b, j+1, 2); err != nil {
				return i, err
			}
			secs += ss
		}
	}
	c.offset = sign * secs
	c.hasTZ = true
	return j, nil
}

// parseDateTime parses PostgreSQL's ISO DateStyle output of date, timestamp and timestamptz.
func parseDateTime(b []byte) (civil, error) {
	var c civil
	switch string(b) {
	case "infinity":
		c.infinity = 1
		return c, nil
	case "-infinity":
		c.infinity = -1
		return c, nil
	}
	i := 0
	var err error
	start := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i-start < 4 {
		return c, fmt.Errorf("invalid date %q", b)
	}
	c.year, _, _ = digits(b, start, i-start)
	if i >= len(b) || b[i] != '-' {
		return c, fmt.Errorf("invalid date %q", b)
	}
	if c.month, i, err = digits(b, i+1, 2); err != nil {
		return c, err
	}
	if i >= len(b) || b[i] != '-' {
		return c, fmt.Errorf("invalid date %q", b)
	}
	if c.day, i, err = digits(b, i+1, 2); err != nil {
		return c, err
	}
	c.hasDate = true
	if i < len(b) && b[i] == ' ' && i+1 < len(b) && b[i+1] >= '0' && b[i+1] <= '9' {
		if i, err = parseClock(b, i+1, &c); err != nil {
			return c, err
		}
		if i, err = parseZone(b, i, &c); err != nil {
			return c, err
		}
	}
	if i+3 <= len(b) && string(b[i:i+3]) == " BC" {
		c.year = 1 - c.year
		i += 3
	}
	if i != len(b) {
		return c, fmt.Errorf("invalid date/time %q", b)
	}
	return c, nil
}

// epochDays returns days since 1970-01-01 in the proleptic Gregorian calendar.
func epochDays(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

func (c civil) epochMicros() int64 {
	days := epochDays(c.year, c.month, c.day)
	secs := days*86400 + int64(c.hour*3600+c.min*60+c.sec) - int64(c.offset)
	return secs*1_000_000 + int64(c.micros)
}

func decodeDateDays(b []byte) (any, error) {
	c, err := parseDateTime(b)
	if err != nil {
		return nil, err
	}
	switch c.infinity {
	case 1:
		return int32(math.MaxInt32), nil
	case -1:
		return int32(math.MinInt32), nil
	}
	return int32(epochDays(c.year, c.month, c.day)), nil
}

func decodeDateConnect(b []byte) (any, error) {
	v, err := decodeDateDays(b)
	if err != nil {
		return nil, err
	}
	return connect.DaysToDate(v.(int32)), nil
}

func timeMicros(b []byte) (int64, error) {
	var c civil
	i, err := parseClock(b, 0, &c)
	if err != nil {
		return 0, err
	}
	if i != len(b) {
		return 0, fmt.Errorf("invalid time %q", b)
	}
	return int64(c.hour*3600+c.min*60+c.sec)*1_000_000 + int64(c.micros), nil
}

func decodeTimeMicros(b []byte) (any, error) { return timeMicros(b) }

func decodeTimeMillis(b []byte) (any, error) {
	us, err := timeMicros(b)
	return int32(us / 1000), err
}

func decodeTimeConnect(b []byte) (any, error) {
	us, err := timeMicros(b)
	if err != nil {
		return nil, err
	}
	// Connect's Time is milliseconds within one day; 24:00:00 does not fit and wraps like Java's LocalTime.
	return connect.MillisToTime(int32((us / 1000) % 86_400_000)), nil
}

func timestampMicros(b []byte) (int64, error) {
	c, err := parseDateTime(b)
	if err != nil {
		return 0, err
	}
	switch c.infinity {
	case 1:
		return infinityMicros, nil
	case -1:
		return negInfinityMicros, nil
	}
	return c.epochMicros(), nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func decodeTimestampMicros(b []byte) (any, error) { return timestampMicros(b) }

func decodeTimestampMillis(b []byte) (any, error) {
	us, err := timestampMicros(b)
	if err != nil {
		return nil, err
	}
	return floorDiv(us, 1000), nil
}

func decodeTimestampConnect(b []byte) (any, error) {
	us, err := timestampMicros(b)
	if err != nil {
		return nil, err
	}
	return time.UnixMilli(floorDiv(us, 1000)).UTC(), nil
}

// decodeTimestamptz renders the instant in UTC as ISO-8601 with exactly precision fractional digits
// (none at precision 0), which is what Debezium's ZonedTimestamp produces for PostgreSQL.
func decodeTimestamptz(b []byte, precision int) (any, error) {
	c, err := parseDateTime(b)
	if err != nil {
		return nil, err
	}
	if c.infinity != 0 {
		return string(b), nil
	}
	return formatZoned(c.epochMicros(), precision), nil
}

// formatZoned renders Unix microseconds in UTC as ISO-8601 with precision fractional digits.
func formatZoned(us int64, precision int) string {
	secs := floorDiv(us, 1_000_000)
	frac := int(us - secs*1_000_000)
	t := time.Unix(secs, 0).UTC()
	year, month, day := t.Date()
	hour, minute, second := t.Clock()
	var arr [40]byte
	buf := appendYear(arr[:0], year)
	buf = append(buf, '-')
	buf = append2(buf, int(month))
	buf = append(buf, '-')
	buf = append2(buf, day)
	buf = append(buf, 'T')
	buf = append2(buf, hour)
	buf = append(buf, ':')
	buf = append2(buf, minute)
	buf = append(buf, ':')
	buf = append2(buf, second)
	buf = appendFraction(buf, frac, precision)
	buf = append(buf, 'Z')
	return string(buf)
}

func appendYear(buf []byte, y int) []byte {
	switch {
	case y > 9999:
		return strconv.AppendInt(append(buf, '+'), int64(y), 10)
	case y < 0:
		buf = append(buf, '-')
		y = -y
	}
	if y > 9999 {
		return strconv.AppendInt(buf, int64(y), 10)
	}
	return append(buf, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10))
}

func append2(buf []byte, v int) []byte { return append(buf, byte('0'+v/10), byte('0'+v%10)) }

// appendFraction writes micros as exactly precision digits; precision 0 means Java's ISO formatter,
// which prints only the significant digits and nothing for zero.
func appendFraction(buf []byte, micros, precision int) []byte {
	var d [6]byte
	for i := 5; i >= 0; i-- {
		d[i] = byte('0' + micros%10)
		micros /= 10
	}
	if precision <= 0 {
		n := 6
		for n > 0 && d[n-1] == '0' {
			n--
		}
		if n == 0 {
			return buf
		}
		return append(append(buf, '.'), d[:n]...)
	}
	buf = append(append(buf, '.'), d[:min(precision, 6)]...)
	for i := 6; i < precision; i++ {
		buf = append(buf, '0')
	}
	return buf
}

// decodeTimetz shifts the time to UTC and renders it as Java's ISO_OFFSET_TIME does.
func decodeTimetz(b []byte) (any, error) {
	var c civil
	i, err := parseClock(b, 0, &c)
	if err != nil {
		return nil, err
	}
	if _, err = parseZone(b, i, &c); err != nil {
		return nil, err
	}
	secs := int64(c.hour*3600+c.min*60+c.sec-c.offset) % 86400
	if secs < 0 {
		secs += 86400
	}
	buf := make([]byte, 0, 20)
	buf = append2(buf, int(secs/3600))
	buf = append(buf, ':')
	buf = append2(buf, int(secs/60%60))
	buf = append(buf, ':')
	buf = append2(buf, int(secs%60))
	buf = appendFraction(buf, c.micros, 0)
	return string(append(buf, 'Z')), nil
}

// interval is a parsed INTERVAL in IntervalStyle postgres ("1 year 2 mons -3 days 04:05:06.5").
type interval struct {
	years, months, days, hours, minutes int
	seconds                             float64
}

func parseInterval(b []byte) (interval, error) {
	var iv interval
	fields := strings.Fields(string(b))
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if strings.Contains(f, ":") {
			neg := strings.HasPrefix(f, "-")
			f = strings.TrimLeft(f, "+-")
			parts := strings.Split(f, ":")
			if len(parts) < 2 || len(parts) > 3 {
				return iv, fmt.Errorf("invalid interval %q", b)
			}
			h, err1 := strconv.Atoi(parts[0])
			m, err2 := strconv.Atoi(parts[1])
			var s float64
			var err3 error
			if len(parts) == 3 {
				s, err3 = strconv.ParseFloat(parts[2], 64)
			}
			if err := errors.Join(err1, err2, err3); err != nil {
				return iv, fmt.Errorf("invalid interval %q: %w", b, err)
			}
			if neg {
				h, m, s = -h, -m, -s
			}
			iv.hours, iv.minutes, iv.seconds = h, m, s
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || i+1 >= len(fields) {
			return iv, fmt.Errorf("invalid interval %q", b)
		}
		i++
		switch unit := fields[i]; {
		case strings.HasPrefix(unit, "year"):
			iv.years = n
		case strings.HasPrefix(unit, "mon"):
			iv.months = n
		case strings.HasPrefix(unit, "day"):
			iv.days = n
		default:
			return iv, fmt.Errorf("invalid interval unit %q in %q", unit, b)
		}
	}
	return iv, nil
}

// decodeIntervalMicros approximates the interval in microseconds with a month of 365.25/12 days,
// evaluated in the same floating-point steps as Debezium's MicroDuration.
func decodeIntervalMicros(b []byte) (any, error) {
	iv, err := parseInterval(b)
	if err != nil {
		return nil, err
	}
	const daysPerMonth = 365.25 / 12.0
	days := float64(iv.years*12+iv.months)*daysPerMonth + float64(iv.days)
	secs := ((days*24+float64(iv.hours))*60+float64(iv.minutes))*60 + iv.seconds
	return int64(secs * 1e6), nil
}

// decodeIntervalISO renders the interval as Debezium's Interval string, PnYnMnDTnHnMnS.
func decodeIntervalISO(b []byte) (any, error) {
	iv, err := parseInterval(b)
	if err != nil {
		return nil, err
	}
	sec := strconv.FormatFloat(iv.seconds, 'f', -1, 64)
	return fmt.Sprintf("P%dY%dM%dDT%dH%dM%sS", iv.years, iv.months, iv.days, iv.hours, iv.minutes, sec), nil
}

// decodeArray parses a one-dimensional array literal ({a,"b c",NULL}) and decodes each element.
func decodeArray(b []byte, elem decodeFunc) (any, error) {
	if len(b) > 0 && b[0] == '[' {
		// Arrays with non-default lower bounds are prefixed with their dimensions: [0:2]={...}.
		eq := strings.IndexByte(string(b), '=')
		if eq < 0 {
			return nil, fmt.Errorf("invalid array %q", b)
		}
		b = b[eq+1:]
	}
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return nil, fmt.Errorf("invalid array %q", b)
	}
	body := b[1 : len(b)-1]
	out := []any{}
	if len(body) == 0 {
		return out, nil
	}
	if body[0] == '{' {
		return nil, fmt.Errorf("multi-dimensional arrays are not supported: %q", b)
	}
	var item []byte
	for i := 0; i <= len(body); {
		item = item[:0]
		quoted := false
		if i < len(body) && body[i] == '"' {
			quoted = true
			i++
			for i < len(body) && body[i] != '"' {
				if body[i] == '\\' && i+1 < len(body) {
					i++
				}
				item = append(item, body[i])
				i++
			}
			i++ // closing quote
		} else {
			for i < len(body) && body[i] != ',' {
				item = append(item, body[i])
				i++
			}
		}
		if !quoted && string(item) == "NULL" {
			out = append(out, nil)
		} else {
			v, err := elem(item)
			if err != nil {
				return nil, fmt.Errorf("array element: %w", err)
			}
			out = append(out, v)
		}
		if i >= len(body) {
			break
		}
		i++ // comma
	}
	return out, nil
}
