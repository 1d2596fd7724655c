package source

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/kconnect/kconnect/connect"
)

// Decoders of PostgreSQL's binary wire format for the common types, which the task applies to
// each row's raw bytes: this skips pgx's per-value scan dispatch and, for numeric, its big.Int
// arithmetic, the two largest costs of reading a row.

// pgEpochUnix is 2000-01-01 00:00:00 UTC, the origin of PostgreSQL's dates and timestamps.
const pgEpochUnix = 946684800

// pgEpochDays is the Unix day number of 2000-01-01.
const pgEpochDays = 10957

func (c *pgCol) fastValue() (any, error) {
	raw := c.raw
	if raw == nil {
		return nil, nil
	}
	switch c.how {
	case pgInt:
		return c.tg.fromInt64(pgBinaryInt(raw), c.dbType)
	case pgFloat:
		if len(raw) == 4 {
			return c.tg.fromFloat64(float64(math.Float32frombits(binary.BigEndian.Uint32(raw))), c.dbType)
		}
		return c.tg.fromFloat64(math.Float64frombits(binary.BigEndian.Uint64(raw)), c.dbType)
	case pgBool:
		return raw[0] != 0, nil
	case pgNumeric:
		n, err := decodePgNumeric(raw)
		if err != nil {
			return nil, convErr(c.dbType, "%v", err)
		}
		return n.value(c.tg, c.dbType)
	case pgText:
		return string(raw), nil
	case pgBytes:
		return bytes.Clone(raw), nil
	case pgUUID:
		if len(raw) != 16 {
			return nil, convErr(c.dbType, "has %d bytes, want 16", len(raw))
		}
		return uuid.UUID(raw).String(), nil
	case pgDate:
		days := int32(binary.BigEndian.Uint32(raw))
		if days == math.MaxInt32 || days == math.MinInt32 {
			return nil, convErr(c.dbType, "infinity has no Connect Date representation")
		}
		y, m, d := time.Unix((int64(days)+pgEpochDays)*86400, 0).UTC().Date()
		return c.tg.fromDate(y, m, d), nil
	case pgTime:
		return c.tg.fromTimeOfDay(int64(binary.BigEndian.Uint64(raw)), c.dbType)
	case pgTimestamp, pgTimestampTZ:
		t, err := pgBinaryInstant(c.how, raw, c.tg.zone)
		if err != nil {
			return nil, convErr(c.dbType, "%v has no Connect Timestamp representation", err)
		}
		return c.tg.fromInstant(t), nil
	case pgTimeTZ:
		micros, err := parseTimeTZ(string(raw))
		if err != nil {
			return nil, convErr(c.dbType, "%q: %v", raw, err)
		}
		utc := *c.tg
		utc.zone = time.UTC
		return utc.fromTimeOfDay(micros, c.dbType)
	case pgBit:
		return string(raw) == "1", nil
	}
	return nil, convErr(c.dbType, "cannot be converted")
}

// pgBinaryInt reads an int2, int4 or int8 (or an oid, which is unsigned).
func pgBinaryInt(raw []byte) int64 {
	switch len(raw) {
	case 2:
		return int64(int16(binary.BigEndian.Uint16(raw)))
	case 4:
		return int64(int32(binary.BigEndian.Uint32(raw)))
	}
	return int64(binary.BigEndian.Uint64(raw))
}

// pgBinaryInstant reads a date, timestamp or timestamptz as a point in time; values without zone
// are read in zone.
func pgBinaryInstant(how pgHow, raw []byte, zone *time.Location) (time.Time, error) {
	if how == pgDate {
		days := int32(binary.BigEndian.Uint32(raw))
		if days == math.MaxInt32 || days == math.MinInt32 {
			return time.Time{}, errors.New("infinity")
		}
		t := time.Unix((int64(days)+pgEpochDays)*86400, 0).UTC()
		if zone != time.UTC {
			t = localToInstant(t, zone)
		}
		return t, nil
	}
	micros := int64(binary.BigEndian.Uint64(raw))
	if micros == math.MaxInt64 || micros == math.MinInt64 {
		return time.Time{}, errors.New("infinity")
	}
	sec, frac := micros/1e6, micros%1e6
	if frac < 0 {
		sec, frac = sec-1, frac+1e6
	}
	t := time.Unix(pgEpochUnix+sec, frac*1000).UTC()
	if how == pgTimestamp && zone != time.UTC {
		t = localToInstant(t, zone)
	}
	return t, nil
}

// pgDecimal is a decoded numeric: unscaled × 10^-scale, in small when it fits an int64.
type pgDecimal struct {
	special string // NaN, Infinity or -Infinity
	small   int64
	big     *big.Int // set when small does not hold the value
	scale   int32
}

// Sign words of the numeric wire format.
const (
	numericPos  = 0x0000
	numericNeg  = 0x4000
	numericNaN  = 0xC000
	numericPInf = 0xD000
	numericNInf = 0xF000
)

// decodePgNumeric reads the binary numeric format: digit count, weight (of the first base-10000
// digit), sign, display scale, then the base-10000 digits.
func decodePgNumeric(raw []byte) (pgDecimal, error) {
	if len(raw) < 8 {
		return pgDecimal{}, fmt.Errorf("numeric of %d bytes", len(raw))
	}
	ndigits := int(binary.BigEndian.Uint16(raw[0:]))
	weight := int(int16(binary.BigEndian.Uint16(raw[2:])))
	sign := binary.BigEndian.Uint16(raw[4:])
	dscale := int32(binary.BigEndian.Uint16(raw[6:]))
	switch sign {
	case numericNaN:
		return pgDecimal{special: "NaN"}, nil
	case numericPInf:
		return pgDecimal{special: "Infinity"}, nil
	case numericNInf:
		return pgDecimal{special: "-Infinity"}, nil
	case numericPos, numericNeg:
	default:
		return pgDecimal{}, fmt.Errorf("numeric sign %#x", sign)
	}
	if len(raw) != 8+2*ndigits {
		return pgDecimal{}, fmt.Errorf("numeric of %d bytes for %d digits", len(raw), ndigits)
	}
	n := pgDecimal{scale: dscale}
	// The digits hold value = digits × 10^(4·(weight-ndigits+1)); the unscaled value is that times
	// 10^dscale. Trailing digit groups past dscale are zero, so a negative exponent divides exactly.
	exp := 4*(weight-ndigits+1) + int(dscale)
	var acc uint64
	overflow := false
	for i := range ndigits {
		d := uint64(binary.BigEndian.Uint16(raw[8+2*i:]))
		hi, lo := bits.Mul64(acc, 10000)
		lo, carry := bits.Add64(lo, d, 0)
		if hi != 0 || carry != 0 {
			overflow = true
			break
		}
		acc = lo
	}
	if !overflow {
		for ; exp > 0; exp-- {
			hi, lo := bits.Mul64(acc, 10)
			if hi != 0 {
				overflow = true
				break
			}
			acc = lo
		}
	}
	if !overflow && exp < 0 {
		acc /= uint64(math.Pow10(-exp))
	}
	if !overflow && acc <= math.MaxInt64 {
		n.small = int64(acc)
		if sign == numericNeg {
			n.small = -n.small
		}
		return n, nil
	}
	u := new(big.Int)
	for i := range ndigits {
		u.Mul(u, big.NewInt(10000))
		u.Add(u, big.NewInt(int64(binary.BigEndian.Uint16(raw[8+2*i:]))))
	}
	exp = 4*(weight-ndigits+1) + int(dscale)
	if exp > 0 {
		u.Mul(u, pow10(int32(exp)))
	} else if exp < 0 {
		u.Quo(u, pow10(int32(-exp)))
	}
	if sign == numericNeg {
		u.Neg(u)
	}
	n.big = u
	return n, nil
}

func (n pgDecimal) bigInt() *big.Int {
	if n.big != nil {
		return new(big.Int).Set(n.big)
	}
	return big.NewInt(n.small)
}

// int64 returns the value when it is an integer that fits an int64.
func (n pgDecimal) int64() (int64, bool) {
	if n.special != "" || n.big != nil {
		return 0, false
	}
	if n.scale == 0 {
		return n.small, true
	}
	p := int64(math.Pow10(int(min(n.scale, 18))))
	if n.scale > 18 || n.small%p != 0 {
		return 0, false
	}
	return n.small / p, true
}

func (n pgDecimal) text() string {
	if n.special != "" {
		return n.special
	}
	return decimalText(n.bigInt(), -n.scale)
}

var float64Pow10 = func() (p [23]float64) {
	for i := range p {
		p[i] = math.Pow10(i)
	}
	return p
}()

// value converts to the column's Connect representation.
func (n pgDecimal) value(tg *target, db string) (any, error) {
	if n.special != "" {
		switch tg.rep {
		case repString:
			return n.special, nil
		case repFloat64:
			switch n.special {
			case "Infinity":
				return math.Inf(1), nil
			case "-Infinity":
				return math.Inf(-1), nil
			}
			return math.NaN(), nil
		}
		return nil, convErr(db, "%s cannot be represented as %s", n.special, tg)
	}
	if n.big == nil {
		switch tg.rep {
		case repDecimal:
			if n.scale == tg.scale {
				return connect.Decimal{Unscaled: big.NewInt(n.small), Scale: tg.scale}, nil
			}
		case repFloat64:
			// Both operands are exact doubles, so the quotient is correctly rounded.
			if n.small > -1<<53 && n.small < 1<<53 && n.scale < int32(len(float64Pow10)) {
				return float64(n.small) / float64Pow10[n.scale], nil
			}
		case repInt8, repInt16, repInt32, repInt64:
			if v, ok := n.int64(); ok {
				return tg.fromInt64(v, db)
			}
		case repString:
			if n.scale == 0 {
				return strconv.FormatInt(n.small, 10), nil
			}
		}
	}
	return tg.fromDecimal(n.bigInt(), -n.scale, db)
}
