package postgres

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"time"

	"github.com/google/uuid"

	"github.com/kconnect/kconnect/connect"
)

// Decoders of PostgreSQL's binary send format (the typsend functions), used by the snapshot for the
// types whose text output is costly to produce on the server and to parse here. Each yields exactly
// what the text decoder of the same type yields for the same value.

// pgEpochMicros is 2000-01-01T00:00:00Z, PostgreSQL's binary epoch, in Unix microseconds.
const (
	pgEpochMicros = 946_684_800_000_000
	pgEpochDays   = 10_957
)

func wantLen(b []byte, n int, typ string) error {
	if len(b) != n {
		return fmt.Errorf("binary %s value has %d bytes, want %d", typ, len(b), n)
	}
	return nil
}

func binBool(b []byte) (any, error) {
	if err := wantLen(b, 1, "boolean"); err != nil {
		return nil, err
	}
	return b[0] != 0, nil
}

func binInt16(b []byte) (any, error) {
	if err := wantLen(b, 2, "smallint"); err != nil {
		return nil, err
	}
	return int16(binary.BigEndian.Uint16(b)), nil
}

func binInt32(b []byte) (any, error) {
	if err := wantLen(b, 4, "integer"); err != nil {
		return nil, err
	}
	return int32(binary.BigEndian.Uint32(b)), nil
}

func binInt64(b []byte) (any, error) {
	if err := wantLen(b, 8, "bigint"); err != nil {
		return nil, err
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// binOID decodes oid, which is unsigned 32-bit.
func binOID(b []byte) (any, error) {
	if err := wantLen(b, 4, "oid"); err != nil {
		return nil, err
	}
	return int64(binary.BigEndian.Uint32(b)), nil
}

func binFloat32(b []byte) (any, error) {
	if err := wantLen(b, 4, "real"); err != nil {
		return nil, err
	}
	return math.Float32frombits(binary.BigEndian.Uint32(b)), nil
}

func binFloat64(b []byte) (any, error) {
	if err := wantLen(b, 8, "double precision"); err != nil {
		return nil, err
	}
	return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
}

func binUUID(b []byte) (any, error) {
	if err := wantLen(b, 16, "uuid"); err != nil {
		return nil, err
	}
	return uuid.UUID(b).String(), nil
}

// binBytea copies the raw bytes: the row buffer they point into is reused for the next row.
func (m *typeMapper) binBytea(b []byte) (any, error) {
	return m.encodeBinary(append(make([]byte, 0, len(b)), b...)), nil
}

// binDays returns a date as days since 1970-01-01, with ±infinity as the extreme int32 values, as
// the text decoder does.
func binDays(b []byte) (int32, error) {
	if err := wantLen(b, 4, "date"); err != nil {
		return 0, err
	}
	d := int32(binary.BigEndian.Uint32(b))
	if d == math.MaxInt32 || d == math.MinInt32 {
		return d, nil
	}
	return d + pgEpochDays, nil
}

func binDateDays(b []byte) (any, error) { return binDays(b) }

func binDateConnect(b []byte) (any, error) {
	d, err := binDays(b)
	if err != nil {
		return nil, err
	}
	return connect.DaysToDate(d), nil
}

func binTimeMicros(b []byte) (any, error) {
	if err := wantLen(b, 8, "time"); err != nil {
		return nil, err
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

func binTimeMillis(b []byte) (any, error) {
	v, err := binTimeMicros(b)
	if err != nil {
		return nil, err
	}
	return int32(v.(int64) / 1000), nil
}

func binTimeConnect(b []byte) (any, error) {
	v, err := binTimeMicros(b)
	if err != nil {
		return nil, err
	}
	return connect.MillisToTime(int32((v.(int64) / 1000) % 86_400_000)), nil
}

// binTimestamp returns Unix microseconds; infinity reports ±1 in inf instead.
func binTimestamp(b []byte) (us int64, inf int, err error) {
	if err := wantLen(b, 8, "timestamp"); err != nil {
		return 0, 0, err
	}
	v := int64(binary.BigEndian.Uint64(b))
	switch v {
	case math.MaxInt64:
		return 0, 1, nil
	case math.MinInt64:
		return 0, -1, nil
	}
	return v + pgEpochMicros, 0, nil
}

func binTimestampMicrosOf(b []byte) (int64, error) {
	us, inf, err := binTimestamp(b)
	switch inf {
	case 1:
		return infinityMicros, nil
	case -1:
		return negInfinityMicros, nil
	}
	return us, err
}

func binTimestampMicros(b []byte) (any, error) { return binTimestampMicrosOf(b) }

func binTimestampMillis(b []byte) (any, error) {
	us, err := binTimestampMicrosOf(b)
	if err != nil {
		return nil, err
	}
	return floorDiv(us, 1000), nil
}

func binTimestampConnect(b []byte) (any, error) {
	us, err := binTimestampMicrosOf(b)
	if err != nil {
		return nil, err
	}
	return time.UnixMilli(floorDiv(us, 1000)).UTC(), nil
}

func binTimestamptz(b []byte, precision int) (any, error) {
	us, inf, err := binTimestamp(b)
	switch {
	case err != nil:
		return nil, err
	case inf > 0:
		return "infinity", nil
	case inf < 0:
		return "-infinity", nil
	}
	return formatZoned(us, precision), nil
}

// Sign words of the binary numeric format (numeric.c).
const (
	numericPos    = 0x0000
	numericNeg    = 0x4000
	numericNaN    = 0xC000
	numericPInf   = 0xD000
	numericNInf   = 0xF000
	numericHeader = 8
)

// binNumeric decodes numeric_send's format: int16 ndigits, int16 weight (of the first base-10000
// digit), uint16 sign, int16 dscale (decimal digits after the point, which the text output
// prints), then ndigits base-10000 digits. ok is false for NaN and infinities.
func binNumeric(b []byte) (d connect.Decimal, ok bool, err error) {
	if len(b) < numericHeader {
		return d, false, fmt.Errorf("binary numeric value has %d bytes", len(b))
	}
	ndigits := int(int16(binary.BigEndian.Uint16(b[0:])))
	weight := int(int16(binary.BigEndian.Uint16(b[2:])))
	sign := binary.BigEndian.Uint16(b[4:])
	dscale := int(int16(binary.BigEndian.Uint16(b[6:])))
	switch sign {
	case numericNaN, numericPInf, numericNInf:
		return d, false, nil
	case numericPos, numericNeg:
	default:
		return d, false, fmt.Errorf("binary numeric value has sign word %#x", sign)
	}
	if ndigits < 0 || dscale < 0 || len(b) != numericHeader+2*ndigits {
		return d, false, fmt.Errorf("binary numeric value of %d bytes with %d digits", len(b), ndigits)
	}
	// The digits form an integer times 10000^(weight-ndigits+1); unscaled = that value * 10^dscale.
	exp10 := 4*(weight-ndigits+1) + dscale
	var small uint64
	var acc *big.Int
	for i := 0; i < ndigits; i++ {
		digit := uint64(binary.BigEndian.Uint16(b[numericHeader+2*i:]))
		if digit >= 10000 {
			return d, false, fmt.Errorf("binary numeric value has digit %d", digit)
		}
		if acc == nil && small < math.MaxUint64/10000-1 {
			small = small*10000 + digit
			continue
		}
		if acc == nil {
			acc = new(big.Int).SetUint64(small)
		}
		acc.Mul(acc, bigTenThousand).Add(acc, new(big.Int).SetUint64(digit))
	}
	if acc == nil {
		switch {
		case exp10 < 0 && -exp10 < len(pow10):
			small /= pow10[-exp10]
			exp10 = 0
		case exp10 >= 0 && exp10 < len(pow10) && small <= math.MaxUint64/pow10[exp10]:
			small *= pow10[exp10]
			exp10 = 0
		}
		acc = new(big.Int).SetUint64(small)
	}
	switch {
	case exp10 > 0:
		acc.Mul(acc, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(exp10)), nil))
	case exp10 < 0:
		// Digits past dscale are zero in a stored numeric, so the division is exact.
		acc.Quo(acc, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-exp10)), nil))
	}
	if sign == numericNeg {
		acc.Neg(acc)
	}
	return connect.Decimal{Unscaled: acc, Scale: int32(dscale)}, true, nil
}

var (
	bigTenThousand = big.NewInt(10000)
	pow10          = [...]uint64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}
)
