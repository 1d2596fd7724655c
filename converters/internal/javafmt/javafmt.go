// Package javafmt prints numbers and JSON strings the way Java does, so converters write the same
// bytes as Kafka Connect's and Confluent's: Double.toString and Float.toString (as Jackson uses them
// for JSON numbers), BigDecimal.toString, and strings as Jackson escapes them in JSON.
package javafmt

import (
	"math"
	"math/big"
	"strconv"
)

// AppendDouble appends f as Java's Double.toString prints it on JDK 19 and newer: the shortest
// decimal that reads back as f, in plain notation for magnitudes in [10^-3, 10^7) and computerized
// scientific notation (1.0E10, 1.0E-5) otherwise, always with at least one fractional digit.
func AppendDouble(dst []byte, f float64) []byte { return appendJava(dst, f, 64) }

// AppendFloat appends f as Java's Float.toString prints it (the float32 analogue of AppendDouble).
func AppendFloat(dst []byte, f float32) []byte { return appendJava(dst, float64(f), 32) }

func appendJava(dst []byte, f float64, bitSize int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	var scratch [40]byte
	digits, exp := shortest(scratch[:0], f, bitSize)
	if len(digits) == 1 {
		// Java never prints a single significant digit: among the two-digit decimals that read
		// back as f it picks the closest one (4.9E-324, not 5.0E-324).
		var two [40]byte
		if d2, e2 := rounded(two[:0], f, bitSize, 1); d2[1] != '0' && readsBack(d2, e2, f, bitSize) {
			digits, exp = append(digits[:0], d2...), e2
		}
	}
	if f < 0 {
		dst = append(dst, '-')
	}
	if exp >= -3 && exp < 7 {
		return appendPlain(dst, digits, exp)
	}
	dst = append(dst, digits[0], '.')
	if len(digits) == 1 {
		return strconv.AppendInt(append(dst, '0', 'E'), int64(exp), 10)
	}
	dst = append(dst, digits[1:]...)
	dst = append(dst, 'E')
	return strconv.AppendInt(dst, int64(exp), 10)
}

// shortest returns the shortest significant digits of |f| and the decimal exponent of the first
// one (f = d.ddd × 10^exp).
func shortest(buf []byte, f float64, bitSize int) ([]byte, int) {
	return rounded(buf, f, bitSize, -1)
}

func rounded(buf []byte, f float64, bitSize, prec int) ([]byte, int) {
	b := strconv.AppendFloat(buf, math.Abs(f), 'e', prec, bitSize)
	// b is d[.ddd]e±xx
	e := len(b) - 1
	for b[e] != 'e' {
		e--
	}
	exp := 0
	for _, c := range b[e+2:] {
		exp = exp*10 + int(c-'0')
	}
	if b[e+1] == '-' {
		exp = -exp
	}
	digits := b[:1]
	if e > 1 {
		digits = append(digits, b[2:e]...)
	}
	return digits, exp
}

func readsBack(digits []byte, exp int, f float64, bitSize int) bool {
	var buf [48]byte
	s := append(buf[:0], digits[0])
	s = append(s, '.')
	s = append(s, digits[1:]...)
	s = append(s, 'e')
	s = strconv.AppendInt(s, int64(exp), 10)
	g, err := strconv.ParseFloat(string(s), bitSize)
	return err == nil && g == math.Abs(f)
}

func appendPlain(dst, digits []byte, exp int) []byte {
	if exp < 0 {
		dst = append(dst, '0', '.')
		for i := -1; i > exp; i-- {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	intDigits := exp + 1
	if len(digits) <= intDigits {
		dst = append(dst, digits...)
		for i := len(digits); i < intDigits; i++ {
			dst = append(dst, '0')
		}
		return append(dst, '.', '0')
	}
	dst = append(dst, digits[:intDigits]...)
	dst = append(dst, '.')
	return append(dst, digits[intDigits:]...)
}

// AppendBigDecimal appends unscaled × 10^-scale as Java's BigDecimal.toString prints it: plain
// notation when scale ≥ 0 and the adjusted exponent is at least -6, otherwise scientific notation
// with an explicit exponent sign (1.23E-8, 5E+3). A nil unscaled value is zero.
func AppendBigDecimal(dst []byte, unscaled *big.Int, scale int32) []byte {
	var scratch [24]byte
	var coeff []byte
	neg := false
	switch {
	case unscaled == nil:
		coeff = append(scratch[:0], '0')
	case unscaled.IsInt64():
		v := unscaled.Int64()
		neg = v < 0
		if neg {
			coeff = strconv.AppendUint(scratch[:0], uint64(-(v+1))+1, 10)
		} else {
			coeff = strconv.AppendUint(scratch[:0], uint64(v), 10)
		}
	default:
		neg = unscaled.Sign() < 0
		coeff = new(big.Int).Abs(unscaled).Append(scratch[:0], 10)
	}
	if neg {
		dst = append(dst, '-')
	}
	adjusted := -int64(scale) + int64(len(coeff)-1)
	if scale >= 0 && adjusted >= -6 {
		switch {
		case scale == 0:
			return append(dst, coeff...)
		case len(coeff) > int(scale):
			cut := len(coeff) - int(scale)
			dst = append(dst, coeff[:cut]...)
			dst = append(dst, '.')
			return append(dst, coeff[cut:]...)
		default:
			dst = append(dst, '0', '.')
			for i := len(coeff); i < int(scale); i++ {
				dst = append(dst, '0')
			}
			return append(dst, coeff...)
		}
	}
	dst = append(dst, coeff[0])
	if len(coeff) > 1 {
		dst = append(dst, '.')
		dst = append(dst, coeff[1:]...)
	}
	if adjusted != 0 {
		dst = append(dst, 'E')
		if adjusted > 0 {
			dst = append(dst, '+')
		}
		dst = strconv.AppendInt(dst, adjusted, 10)
	}
	return dst
}

// ParseNonFinite reads the strings Jackson writes for the floats JSON numbers cannot express:
// NaN, Infinity and -Infinity.
func ParseNonFinite(s string) (float64, bool) {
	switch s {
	case "NaN":
		return math.NaN(), true
	case "Infinity":
		return math.Inf(1), true
	case "-Infinity":
		return math.Inf(-1), true
	}
	return 0, false
}
