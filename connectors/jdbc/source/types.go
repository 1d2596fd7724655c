package source

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"

	"github.com/kconnect/kconnect/connect"
)

// kind is a database column type reduced to what decides its Connect schema; each dialect maps
// its own catalog types onto kinds (see TYPES.md).
type kind uint8

const (
	kindBool kind = iota + 1
	kindInt
	kindFloat32
	kindFloat64
	kindDecimal
	kindString
	kindBytes
	kindDate
	kindTime
	kindTimestamp   // a wall-clock date-time without zone, read in db.timezone
	kindTimestampTZ // an instant
	kindArray
)

// colType is a column's database type as far as the mapping to Connect cares.
type colType struct {
	kind kind
	// dbType is the database's name for the type, for error messages.
	dbType string
	// bits and unsigned describe integers (8, 16, 24, 32, 64).
	bits     int
	unsigned bool
	// precision and scale describe decimals; scale < 0 means unconstrained.
	precision, scale int
	elem             *colType
}

// rep is how a value is represented in Connect, which decides the conversion from the database value.
type rep uint8

const (
	repBool rep = iota + 1
	repInt8
	repInt16
	repInt32
	repInt64
	repFloat32
	repFloat64
	repDecimal
	repString
	repBytes
	repDate
	repTime
	repTimestamp
	repMicrosLong
	repMicrosString
	repMicrosISO
	repNanosLong
	repNanosString
	repNanosISO
	repArray
)

// target is the Connect side of a column: its schema and how values are converted to it.
type target struct {
	schema *connect.Schema
	rep    rep
	scale  int32
	elem   *target
	// zone and legacy parameterize temporal conversions (db.timezone, date.calendar.system=LEGACY).
	zone   *time.Location
	legacy bool
}

// decimalPrecisionParam is the schema parameter upstream adds to Decimal fields with the column's precision.
const decimalPrecisionParam = "connect.decimal.precision"

// maxIntegerPrecision is the largest decimal precision that fits an int64 in every case.
const maxIntegerPrecision = 18

// targetFor decides a column's Connect schema the way upstream's GenericDatabaseDialect does, with the
// deviations TYPES.md lists.
func targetFor(t colType, optional bool, cfg *config) (*target, error) {
	tg := &target{zone: cfg.zone, legacy: cfg.legacyCalendar}
	var b *connect.SchemaBuilder
	switch t.kind {
	case kindBool:
		tg.rep, b = repBool, connect.NewSchemaBuilder(connect.TypeBoolean)
	case kindInt:
		tg.rep = intRep(t.bits, t.unsigned)
		b = connect.NewSchemaBuilder(repType(tg.rep))
	case kindFloat32:
		tg.rep, b = repFloat32, connect.NewSchemaBuilder(connect.TypeFloat32)
	case kindFloat64:
		tg.rep, b = repFloat64, connect.NewSchemaBuilder(connect.TypeFloat64)
	case kindDecimal:
		tg.rep = decimalRep(t.precision, t.scale, cfg.numeric)
		switch tg.rep {
		case repDecimal:
			tg.scale = int32(t.scale)
			b = connect.DecimalSchema(tg.scale).Param(decimalPrecisionParam, strconv.Itoa(t.precision))
		default:
			b = connect.NewSchemaBuilder(repType(tg.rep))
		}
	case kindString:
		tg.rep, b = repString, connect.NewSchemaBuilder(connect.TypeString)
	case kindBytes:
		tg.rep, b = repBytes, connect.NewSchemaBuilder(connect.TypeBytes)
	case kindDate:
		tg.rep, b = repDate, connect.DateSchema()
	case kindTime:
		tg.rep, b = repTime, connect.TimeSchema()
	case kindTimestamp, kindTimestampTZ:
		tg.rep = granularityRep(cfg.granularity)
		if tg.rep == repTimestamp {
			b = connect.TimestampSchema()
		} else {
			b = connect.NewSchemaBuilder(repType(tg.rep))
		}
	case kindArray:
		elem, err := targetFor(*t.elem, true, cfg)
		if err != nil {
			return nil, err
		}
		tg.rep, tg.elem = repArray, elem
		b = connect.ArrayBuilder(elem.schema)
	default:
		return nil, fmt.Errorf("type %s has no Connect mapping", t.dbType)
	}
	if optional {
		b.Optional()
	}
	s, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("type %s: %w", t.dbType, err)
	}
	tg.schema = s
	return tg, nil
}

// intRep widens unsigned types one step, as upstream does from the JDBC types (MEDIUMINT is
// reported as INTEGER, so unsigned MEDIUMINT becomes INT64 like unsigned INT).
func intRep(bits int, unsigned bool) rep {
	switch {
	case bits <= 8 && !unsigned:
		return repInt8
	case bits <= 8 || (bits <= 16 && !unsigned):
		return repInt16
	case bits <= 16 || (bits <= 32 && !unsigned):
		return repInt32
	}
	return repInt64
}

// decimalRep applies numeric.mapping to a NUMERIC/DECIMAL column of the given precision and scale.
func decimalRep(precision, scale int, m numericMapping) rep {
	if scale < 0 {
		// An unconstrained PostgreSQL numeric has no fixed scale, so no Connect Decimal holds every
		// value exactly; its text is exact.
		if m == mapBestFitEagerDouble {
			return repFloat64
		}
		return repString
	}
	byPrecision := func() rep {
		switch {
		case precision > 9:
			return repInt64
		case precision > 4:
			return repInt32
		case precision > 2:
			return repInt16
		}
		return repInt8
	}
	switch m {
	case mapPrecisionOnly:
		if scale == 0 && precision <= maxIntegerPrecision {
			return byPrecision()
		}
	case mapBestFit:
		if precision <= maxIntegerPrecision {
			if scale == 0 {
				return byPrecision()
			}
			return repFloat64
		}
	case mapBestFitEagerDouble:
		if scale == 0 && precision <= maxIntegerPrecision {
			return byPrecision()
		}
		if scale > 0 {
			return repFloat64
		}
	}
	return repDecimal
}

func granularityRep(g string) rep {
	switch g {
	case granMicrosLong:
		return repMicrosLong
	case granMicrosString:
		return repMicrosString
	case granMicrosISOString:
		return repMicrosISO
	case granNanosLong:
		return repNanosLong
	case granNanosString:
		return repNanosString
	case granNanosISOString:
		return repNanosISO
	}
	return repTimestamp
}

func repType(r rep) connect.Type {
	switch r {
	case repBool:
		return connect.TypeBoolean
	case repInt8:
		return connect.TypeInt8
	case repInt16:
		return connect.TypeInt16
	case repInt32:
		return connect.TypeInt32
	case repInt64, repMicrosLong, repNanosLong:
		return connect.TypeInt64
	case repFloat32:
		return connect.TypeFloat32
	case repFloat64:
		return connect.TypeFloat64
	case repBytes:
		return connect.TypeBytes
	}
	return connect.TypeString
}

// String names the Connect representation for error messages.
func (t *target) String() string {
	switch t.rep {
	case repDecimal:
		return fmt.Sprintf("Connect Decimal with scale %d", t.scale)
	case repDate:
		return "Connect Date"
	case repTime:
		return "Connect Time"
	case repTimestamp:
		return "Connect Timestamp"
	case repArray:
		return "Connect array"
	}
	return "Connect " + repType(t.rep).String()
}

// conversionError describes a value that does not fit its column's Connect schema; the task
// wraps it with the table and column.
type conversionError struct {
	dbType string
	msg    string
}

func (e *conversionError) Error() string { return fmt.Sprintf("%s value %s", e.dbType, e.msg) }

func convErr(dbType, format string, args ...any) error {
	return &conversionError{dbType: dbType, msg: fmt.Sprintf(format, args...)}
}

// fromInt64 converts an integer read from the database.
func (t *target) fromInt64(v int64, dbType string) (any, error) {
	switch t.rep {
	case repInt8:
		if v < math.MinInt8 || v > math.MaxInt8 {
			return nil, convErr(dbType, "%d does not fit int8", v)
		}
		return int8(v), nil
	case repInt16:
		if v < math.MinInt16 || v > math.MaxInt16 {
			return nil, convErr(dbType, "%d does not fit int16", v)
		}
		return int16(v), nil
	case repInt32:
		if v < math.MinInt32 || v > math.MaxInt32 {
			return nil, convErr(dbType, "%d does not fit int32", v)
		}
		return int32(v), nil
	case repInt64:
		return v, nil
	case repFloat64:
		return float64(v), nil
	case repBool:
		return v != 0, nil
	case repDecimal:
		u := big.NewInt(v)
		if t.scale > 0 {
			u.Mul(u, pow10(t.scale))
		}
		return connect.Decimal{Unscaled: u, Scale: t.scale}, nil
	case repString:
		return strconv.FormatInt(v, 10), nil
	}
	return nil, convErr(dbType, "%d cannot be represented as %s", v, t)
}

// fromUint64 converts an unsigned integer that may exceed int64.
func (t *target) fromUint64(v uint64, dbType string) (any, error) {
	if v > math.MaxInt64 {
		return nil, convErr(dbType, "%d does not fit int64", v)
	}
	return t.fromInt64(int64(v), dbType)
}

// fromFloat64 converts a floating-point value.
func (t *target) fromFloat64(v float64, dbType string) (any, error) {
	switch t.rep {
	case repFloat64:
		return v, nil
	case repFloat32:
		return float32(v), nil
	case repString:
		return strconv.FormatFloat(v, 'g', -1, 64), nil
	}
	return nil, convErr(dbType, "%v cannot be represented as %s", v, t)
}

var bigPow10 [40]*big.Int

func init() {
	p := big.NewInt(1)
	for i := range bigPow10 {
		bigPow10[i] = new(big.Int).Set(p)
		p.Mul(p, big.NewInt(10))
	}
}

func pow10(n int32) *big.Int {
	if int(n) < len(bigPow10) {
		return bigPow10[n]
	}
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}

// fromDecimal converts unscaled × 10^exp. It takes ownership of unscaled.
func (t *target) fromDecimal(unscaled *big.Int, exp int32, dbType string) (any, error) {
	switch t.rep {
	case repDecimal:
		u, ok := rescale(unscaled, exp, t.scale)
		if !ok {
			return nil, convErr(dbType, "%s has more than %d fraction digits", decimalText(unscaled, exp), t.scale)
		}
		return connect.Decimal{Unscaled: u, Scale: t.scale}, nil
	case repInt8, repInt16, repInt32, repInt64:
		u, ok := rescale(unscaled, exp, 0)
		if !ok || !u.IsInt64() {
			return nil, convErr(dbType, "%s is not an integer that fits %s", decimalText(unscaled, exp), t)
		}
		return t.fromInt64(u.Int64(), dbType)
	case repFloat64:
		f, _ := decimalRat(unscaled, exp).Float64()
		return f, nil
	case repString:
		return decimalText(unscaled, exp), nil
	}
	return nil, convErr(dbType, "%s cannot be represented as %s", decimalText(unscaled, exp), t)
}

// rescale returns unscaled × 10^exp as an unscaled value of the given scale, or false when that
// would drop non-zero digits.
func rescale(unscaled *big.Int, exp, scale int32) (*big.Int, bool) {
	shift := exp + scale
	switch {
	case shift == 0:
		return unscaled, true
	case shift > 0:
		return unscaled.Mul(unscaled, pow10(shift)), true
	}
	q, r := new(big.Int).QuoRem(unscaled, pow10(-shift), new(big.Int))
	if r.Sign() != 0 {
		return nil, false
	}
	return q, true
}

func decimalRat(unscaled *big.Int, exp int32) *big.Rat {
	if exp >= 0 {
		return new(big.Rat).SetInt(new(big.Int).Mul(unscaled, pow10(exp)))
	}
	return new(big.Rat).SetFrac(unscaled, pow10(-exp))
}

// decimalText renders unscaled × 10^exp in plain notation, keeping trailing zeros of the scale.
func decimalText(unscaled *big.Int, exp int32) string {
	if exp >= 0 {
		return new(big.Int).Mul(unscaled, pow10(exp)).String()
	}
	return connect.Decimal{Unscaled: unscaled, Scale: -exp}.String()
}

// fromInstant converts a point in time read from a timestamp or timestamptz column; t carries
// the full precision the database stored.
func (t *target) fromInstant(ts time.Time) any {
	switch t.rep {
	case repTimestamp:
		ts = ts.Truncate(time.Millisecond)
		if t.legacy {
			ts = legacyShift(ts, t.zone)
		}
		return ts.UTC()
	case repMicrosLong:
		return ts.UnixMicro()
	case repMicrosString:
		return strconv.FormatInt(ts.UnixMicro(), 10)
	case repMicrosISO:
		return ts.In(t.zone).Format("2006-01-02T15:04:05.000000")
	case repNanosLong:
		return ts.UnixNano()
	case repNanosString:
		return strconv.FormatInt(ts.UnixNano(), 10)
	case repNanosISO:
		return ts.In(t.zone).Format("2006-01-02T15:04:05.000000000")
	case repString:
		return ts.Format(time.RFC3339Nano)
	}
	return ts
}

// fromDate converts a calendar date (proleptic Gregorian, as both databases store it).
func (t *target) fromDate(y int, m time.Month, d int) any {
	days := gregorianJDN(y, int(m), d)
	if t.legacy && beforeCutover(y, m, d) {
		days = julianJDN(y, int(m), d)
	}
	return connect.DaysToDate(int32(days - unixEpochJDN))
}

// fromTimeOfDay converts a time of day in microseconds since midnight, read in db.timezone as
// upstream does (on the epoch day), to Connect's milliseconds since midnight UTC.
func (t *target) fromTimeOfDay(micros int64, dbType string) (any, error) {
	if micros < 0 || micros >= 24*int64(time.Hour/time.Microsecond) {
		return nil, convErr(dbType, "%s is not a time of day", time.Duration(micros)*time.Microsecond)
	}
	local := time.Date(1970, 1, 1, 0, 0, 0, 0, t.zone).Add(time.Duration(micros) * time.Microsecond)
	ms := local.UnixMilli() % msPerDay
	if ms < 0 {
		ms += msPerDay
	}
	return connect.MillisToTime(int32(ms)), nil
}

const msPerDay = 24 * 60 * 60 * 1000

// localToInstant reads a wall-clock date-time (stored without zone) in the given zone.
func localToInstant(wall time.Time, zone *time.Location) time.Time {
	y, mo, d := wall.Date()
	h, mi, s := wall.Clock()
	return time.Date(y, mo, d, h, mi, s, wall.Nanosecond(), zone)
}

// instantToLocal renders an instant as the wall clock of zone, labelled UTC, which is how both
// drivers send a date-time without zone.
func instantToLocal(t time.Time, zone *time.Location) time.Time {
	l := t.In(zone)
	y, mo, d := l.Date()
	h, mi, s := l.Clock()
	return time.Date(y, mo, d, h, mi, s, l.Nanosecond(), time.UTC)
}

// Julian day numbers of the proleptic Gregorian and the Julian calendars; java.sql.Date, which
// upstream's LEGACY calendar uses, reads dates before 1582-10-15 as Julian.
const unixEpochJDN = 2440588

func gregorianJDN(y, m, d int) int {
	a := (14 - m) / 12
	yy, mm := y+4800-a, m+12*a-3
	return d + (153*mm+2)/5 + 365*yy + floorDiv(yy, 4) - floorDiv(yy, 100) + floorDiv(yy, 400) - 32045
}

func julianJDN(y, m, d int) int {
	a := (14 - m) / 12
	yy, mm := y+4800-a, m+12*a-3
	return d + (153*mm+2)/5 + 365*yy + floorDiv(yy, 4) - 32083
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func beforeCutover(y int, m time.Month, d int) bool {
	return y < 1582 || (y == 1582 && (m < time.October || (m == time.October && d < 15)))
}

// legacyShift moves a timestamp before the Gregorian cutover by the difference between reading its
// date (in zone) as Julian and as Gregorian.
func legacyShift(ts time.Time, zone *time.Location) time.Time {
	y, m, d := ts.In(zone).Date()
	if !beforeCutover(y, m, d) {
		return ts
	}
	diff := julianJDN(y, int(m), d) - gregorianJDN(y, int(m), d)
	return ts.AddDate(0, 0, diff)
}

// convertArray converts the elements of a database array with conv.
func (t *target) convertArray(n int, conv func(i int, elem *target) (any, error)) (any, error) {
	out := make([]any, n)
	for i := range out {
		v, err := conv(i, t.elem)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}
