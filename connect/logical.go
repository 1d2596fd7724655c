package connect

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Names of Connect's built-in logical types.
const (
	DecimalName   = "org.apache.kafka.connect.data.Decimal"
	DateName      = "org.apache.kafka.connect.data.Date"
	TimeName      = "org.apache.kafka.connect.data.Time"
	TimestampName = "org.apache.kafka.connect.data.Timestamp"
	// DecimalScaleParam is the schema parameter holding a Decimal's scale.
	DecimalScaleParam = "scale"
)

// Decimal is an arbitrary-precision decimal number: Unscaled × 10^-Scale, like Java's BigDecimal.
type Decimal struct {
	Unscaled *big.Int
	Scale    int32
}

// ParseDecimal parses a decimal literal such as "-12.340", "1.5e-3" or "1E+3" keeping its scale
// (3, 4 and -3 here) exactly as Java's BigDecimal string constructor does.
func ParseDecimal(s string) (Decimal, error) {
	mantissa, exp := s, int64(0)
	if e := strings.IndexAny(s, "eE"); e >= 0 {
		var err error
		if exp, err = strconv.ParseInt(s[e+1:], 10, 32); err != nil {
			return Decimal{}, fmt.Errorf("invalid decimal %q", s)
		}
		mantissa = s[:e]
	}
	digits, frac := mantissa, 0
	if i := strings.IndexByte(mantissa, '.'); i >= 0 {
		digits, frac = mantissa[:i]+mantissa[i+1:], len(mantissa)-i-1
	}
	u, ok := new(big.Int).SetString(digits, 10)
	if !ok || digits == "" || digits == "+" || digits == "-" {
		return Decimal{}, fmt.Errorf("invalid decimal %q", s)
	}
	scale := int64(frac) - exp
	if scale != int64(int32(scale)) {
		return Decimal{}, fmt.Errorf("decimal %q: scale out of range", s)
	}
	return Decimal{Unscaled: u, Scale: int32(scale)}, nil
}

// DecimalFromRat rounds r half-up to scale digits.
func DecimalFromRat(r *big.Rat, scale int32) Decimal {
	m := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)
	num := new(big.Int).Mul(r.Num(), m)
	q, rem := new(big.Int).QuoRem(num, r.Denom(), new(big.Int))
	if rem.Sign() != 0 {
		twice := new(big.Int).Mul(new(big.Int).Abs(rem), big.NewInt(2))
		if twice.Cmp(r.Denom()) >= 0 {
			q.Add(q, big.NewInt(int64(num.Sign())))
		}
	}
	return Decimal{Unscaled: q, Scale: scale}
}

// Rat returns d as an exact rational.
func (d Decimal) Rat() *big.Rat {
	r := new(big.Rat).SetInt(d.unscaled())
	m := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs32(d.Scale))), nil)
	if d.Scale >= 0 {
		return r.Quo(r, new(big.Rat).SetInt(m))
	}
	return r.Mul(r, new(big.Rat).SetInt(m))
}

// String renders d in plain notation with exactly Scale fractional digits (BigDecimal.toPlainString).
func (d Decimal) String() string {
	u := d.unscaled()
	if d.Scale <= 0 {
		s := u.String()
		if u.Sign() != 0 {
			for i := int32(0); i < -d.Scale; i++ {
				s += "0"
			}
		}
		return s
	}
	digits := new(big.Int).Abs(u).String()
	for int32(len(digits)) <= d.Scale {
		digits = "0" + digits
	}
	cut := len(digits) - int(d.Scale)
	out := digits[:cut] + "." + digits[cut:]
	if u.Sign() < 0 {
		out = "-" + out
	}
	return out
}

// Float64 returns the nearest float64.
func (d Decimal) Float64() float64 {
	f, _ := d.Rat().Float64()
	return f
}

func (d Decimal) unscaled() *big.Int {
	if d.Unscaled == nil {
		return new(big.Int)
	}
	return d.Unscaled
}

// DecimalSchema returns the Connect Decimal logical schema with the given scale.
func DecimalSchema(scale int32) *SchemaBuilder {
	return NewSchemaBuilder(TypeBytes).Name(DecimalName).Version(1).Param(DecimalScaleParam, strconv.Itoa(int(scale)))
}

// DecimalScale returns the scale declared by a Decimal schema.
func DecimalScale(s *Schema) (int32, error) {
	v, ok := s.Parameters.Get(DecimalScaleParam)
	if !ok {
		return 0, fmt.Errorf("decimal schema %s has no %q parameter", s, DecimalScaleParam)
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("decimal schema %s: invalid scale %q", s, v)
	}
	return int32(n), nil
}

// DecimalToBytes encodes the unscaled value as big-endian two's complement in the fewest bytes,
// as org.apache.kafka.connect.data.Decimal.fromLogical (BigInteger.toByteArray) does.
func DecimalToBytes(d Decimal) []byte {
	u := d.unscaled()
	if u.Sign() >= 0 {
		// One extra bit for the sign: 128 needs two bytes (00 80).
		b := make([]byte, u.BitLen()/8+1)
		return u.FillBytes(b)
	}
	// For negative u, the two's complement bytes are the inverted bytes of |u|-1 = ^u, in a width
	// that leaves room for the sign bit: -128 is 80, -129 is ff 7f.
	inv := new(big.Int).Not(u)
	b := make([]byte, inv.BitLen()/8+1)
	inv.FillBytes(b)
	for i := range b {
		b[i] = ^b[i]
	}
	return b
}

// DecimalFromBytes decodes big-endian two's complement bytes with the given scale.
func DecimalFromBytes(b []byte, scale int32) Decimal {
	u := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		u.Sub(u, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return Decimal{Unscaled: u, Scale: scale}
}

// DateSchema is the Connect Date logical type: days since the Unix epoch as int32.
func DateSchema() *SchemaBuilder { return NewSchemaBuilder(TypeInt32).Name(DateName).Version(1) }

// TimeSchema is the Connect Time logical type: milliseconds since midnight as int32.
func TimeSchema() *SchemaBuilder { return NewSchemaBuilder(TypeInt32).Name(TimeName).Version(1) }

// TimestampSchema is the Connect Timestamp logical type: milliseconds since the Unix epoch as int64.
func TimestampSchema() *SchemaBuilder {
	return NewSchemaBuilder(TypeInt64).Name(TimestampName).Version(1)
}

const msPerDay = 24 * 60 * 60 * 1000

// DateToDays converts a Date value to days since the epoch; t must be midnight UTC, as upstream requires.
func DateToDays(t time.Time) (int32, error) {
	ms := t.UnixMilli()
	if ms%msPerDay != 0 {
		return 0, fmt.Errorf("date %s has a time component", t.UTC().Format(time.RFC3339Nano))
	}
	return int32(ms / msPerDay), nil
}

// DaysToDate converts days since the epoch to a Date value.
func DaysToDate(days int32) time.Time { return time.UnixMilli(int64(days) * msPerDay).UTC() }

// TimeToMillis converts a Time value (a time on 1970-01-01 UTC) to milliseconds since midnight.
func TimeToMillis(t time.Time) (int32, error) {
	ms := t.UnixMilli()
	if ms < 0 || ms >= msPerDay {
		return 0, fmt.Errorf("time %s is not on the epoch day", t.UTC().Format(time.RFC3339Nano))
	}
	return int32(ms), nil
}

// MillisToTime converts milliseconds since midnight to a Time value.
func MillisToTime(ms int32) time.Time { return time.UnixMilli(int64(ms)).UTC() }

func abs32(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}
