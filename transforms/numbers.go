package transforms

import (
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/kconnect/kconnect/connect"
)

// These convert Connect numbers as Java's Number.byteValue … doubleValue do: integers narrow by
// truncation, floating point narrows to int or long saturating (NaN is 0) and further by
// truncation, and decimals drop their fraction and keep the low-order bits.

func isNumber(v any) bool {
	switch v.(type) {
	case int8, int16, int32, int64, float32, float64, connect.Decimal:
		return true
	}
	return false
}

// javaLong is Number.longValue; ok is false for a non-number.
func javaLong(v any) (int64, bool) {
	if n, ok := connect.IntegerValue(v); ok {
		return n, true
	}
	switch x := v.(type) {
	case float32:
		return d2l(float64(x)), true
	case float64:
		return d2l(x), true
	case connect.Decimal:
		return lowBits(x), true
	}
	return 0, false
}

// javaInt is Number.intValue.
func javaInt(v any) (int32, bool) {
	switch x := v.(type) {
	case float32:
		return d2i(float64(x)), true
	case float64:
		return d2i(x), true
	}
	l, ok := javaLong(v)
	return int32(l), ok
}

// javaDouble is Number.doubleValue.
func javaDouble(v any) (float64, bool) {
	switch x := v.(type) {
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case float32:
		return float64(x), true
	case float64:
		return x, true
	case connect.Decimal:
		return x.Float64(), true
	}
	return 0, false
}

// javaFloat is Number.floatValue.
func javaFloat(v any) (float32, bool) {
	switch x := v.(type) {
	case int64:
		return float32(x), true
	case connect.Decimal:
		f, _ := x.Rat().Float32()
		return f, true
	}
	d, ok := javaDouble(v)
	return float32(d), ok
}

func d2l(d float64) int64 {
	switch {
	case math.IsNaN(d):
		return 0
	case d >= math.MaxInt64:
		return math.MaxInt64
	case d <= math.MinInt64:
		return math.MinInt64
	}
	return int64(d)
}

func d2i(d float64) int32 {
	switch {
	case math.IsNaN(d):
		return 0
	case d >= math.MaxInt32:
		return math.MaxInt32
	case d <= math.MinInt32:
		return math.MinInt32
	}
	return int32(d)
}

var mask64 = new(big.Int).SetUint64(math.MaxUint64)

// lowBits is BigDecimal.longValue: the integer part's low-order 64 bits.
func lowBits(d connect.Decimal) int64 {
	r := d.Rat()
	q := new(big.Int).Quo(r.Num(), r.Denom())
	return int64(new(big.Int).And(q, mask64).Uint64())
}

// parseJavaFloat parses s as Double.parseDouble (bits 64) or Float.parseFloat (bits 32) do:
// surrounding control characters and spaces trimmed, an optional f/F/d/D suffix, NaN and
// Infinity spelled as Java spells them; a value beyond the range becomes an infinity.
func parseJavaFloat(s string, bits int) (float64, bool) {
	t := strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
	switch strings.TrimPrefix(strings.TrimPrefix(t, "+"), "-") {
	case "NaN":
		return math.NaN(), true
	case "Infinity":
		if strings.HasPrefix(t, "-") {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	}
	if n := len(t); n > 1 && strings.ContainsRune("fFdD", rune(t[n-1])) && !strings.HasPrefix(strings.ToLower(t), "0x") {
		t = t[:n-1]
	}
	lower := strings.ToLower(t)
	if strings.Contains(lower, "inf") || strings.Contains(lower, "nan") || strings.Contains(t, "_") {
		return 0, false
	}
	f, err := strconv.ParseFloat(t, bits)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return f, true
}
