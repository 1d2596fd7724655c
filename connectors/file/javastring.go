package file

import (
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kconnect/kconnect/connect"
)

// javaDateLayout is java.util.Date.toString's "EEE MMM dd HH:mm:ss zzz yyyy".
const javaDateLayout = "Mon Jan 02 15:04:05 MST 2006"

// appendJava appends v as Java's String.valueOf prints the Connect value upstream's sink receives,
// so files written by either worker are alike. Bytes are the exception: Java prints an array's
// identity ("[B@1b6d3586"), which is useless, so they are written as they are.
func appendJava(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return append(b, x...)
	case []byte:
		return append(b, x...)
	case bool:
		return strconv.AppendBool(b, x)
	case int8:
		return strconv.AppendInt(b, int64(x), 10)
	case int16:
		return strconv.AppendInt(b, int64(x), 10)
	case int32:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case float32:
		return appendJavaFloat(b, float64(x), 32)
	case float64:
		return appendJavaFloat(b, x, 64)
	case connect.Decimal:
		return appendBigDecimal(b, x)
	case time.Time:
		return x.Local().AppendFormat(b, javaDateLayout)
	case *connect.Struct:
		return appendStruct(b, x)
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendJava(b, e)
		}
		return append(b, ']')
	case map[string]any:
		b = append(b, '{')
		for i, k := range connect.SortedKeys(x) {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = append(b, k...)
			b = append(b, '=')
			b = appendJava(b, x[k])
		}
		return append(b, '}')
	case map[any]any:
		return appendAnyMap(b, x)
	}
	return fmt.Append(b, v)
}

// appendStruct follows Connect's Struct.toString: Struct{name=value,...} over the non-null fields.
func appendStruct(b []byte, st *connect.Struct) []byte {
	b = append(b, "Struct{"...)
	first := true
	for i, f := range st.Schema().Fields {
		v := st.Raw(i)
		if v == nil {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, f.Name...)
		b = append(b, '=')
		b = appendJava(b, v)
	}
	return append(b, '}')
}

// appendAnyMap prints a map with non-string keys; Java's HashMap order is unspecified, so entries
// are sorted by their printed key to keep the output stable.
func appendAnyMap(b []byte, m map[any]any) []byte {
	type entry struct {
		key string
		val any
	}
	entries := make([]entry, 0, len(m))
	for k, v := range m {
		entries = append(entries, entry{string(appendJava(nil, k)), v})
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	b = append(b, '{')
	for i, e := range entries {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, e.key...)
		b = append(b, '=')
		b = appendJava(b, e.val)
	}
	return append(b, '}')
}

// appendJavaFloat follows Double.toString and Float.toString: the shortest digits that identify
// the value, in plain notation with at least one fractional digit when 10^-3 <= |f| < 10^7 and in
// computerized scientific notation (1.0E10, 1.5E-4) otherwise.
func appendJavaFloat(b []byte, f float64, bitSize int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(b, "-0.0"...)
		}
		return append(b, "0.0"...)
	}
	// 'e' with the shortest precision gives d.ddde±xx: the digits and the decimal exponent.
	var tmp [32]byte
	s := strconv.AppendFloat(tmp[:0], f, 'e', -1, bitSize)
	if s[0] == '-' {
		b = append(b, '-')
		s = s[1:]
	}
	e := slices.Index(s, 'e')
	exp := 0
	for _, c := range s[e+2:] {
		exp = exp*10 + int(c-'0')
	}
	if s[e+1] == '-' {
		exp = -exp
	}
	var dbuf [24]byte
	digits := append(dbuf[:0], s[0])
	if e > 1 {
		digits = append(digits, s[2:e]...)
	}
	if abs := math.Abs(f); abs >= 1e-3 && abs < 1e7 {
		if exp < 0 {
			b = append(b, "0."...)
			for i := 0; i < -exp-1; i++ {
				b = append(b, '0')
			}
			return append(b, digits...)
		}
		for i := 0; i <= exp; i++ {
			if i < len(digits) {
				b = append(b, digits[i])
			} else {
				b = append(b, '0')
			}
		}
		b = append(b, '.')
		if exp+1 < len(digits) {
			return append(b, digits[exp+1:]...)
		}
		return append(b, '0')
	}
	b = append(b, digits[0], '.')
	if len(digits) > 1 {
		b = append(b, digits[1:]...)
	} else {
		b = append(b, '0')
	}
	b = append(b, 'E')
	return strconv.AppendInt(b, int64(exp), 10)
}

// appendBigDecimal follows BigDecimal.toString: plain notation unless the scale is negative or the
// adjusted exponent is below -6, where it switches to scientific notation (1.23E-8, 1E+3).
func appendBigDecimal(b []byte, d connect.Decimal) []byte {
	u := d.Unscaled
	if u == nil {
		u = new(big.Int)
	}
	digits := new(big.Int).Abs(u).String()
	adjusted := -int64(d.Scale) + int64(len(digits)-1)
	if d.Scale >= 0 && adjusted >= -6 {
		return append(b, d.String()...)
	}
	if u.Sign() < 0 {
		b = append(b, '-')
	}
	b = append(b, digits[0])
	if len(digits) > 1 {
		b = append(b, '.')
		b = append(b, digits[1:]...)
	}
	b = append(b, 'E')
	if adjusted > 0 {
		b = append(b, '+')
	}
	return strconv.AppendInt(b, adjusted, 10)
}
