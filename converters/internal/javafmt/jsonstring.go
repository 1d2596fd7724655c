package javafmt

import "unicode/utf8"

const hexDigits = "0123456789ABCDEF"

// plainBits has the high bit set in each of the eight bytes of x that AppendJSONString can copy as
// is: ASCII from 0x20 up, neither a quote nor a backslash. Each test adds a constant that carries
// into the high bit of an ASCII lane exactly when the byte passes, and never out of it. A
// non-ASCII lane may carry into its neighbour, but ^x clears that lane's own bit, so a word is
// reported all plain only when it truly is.
func plainBits(x uint64) uint64 {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	notControl := x + lo*(0x80-0x20)
	notQuote := (x ^ lo*'"') + lo*0x7F
	notBackslash := (x ^ lo*'\\') + lo*0x7F
	return notControl & notQuote & notBackslash & ^x & hi
}

// allPlain is what plainBits returns for eight plain bytes.
const allPlain = 0x8080808080808080

// needsEscape8 reports whether any of the eight bytes in x needs escaping.
func needsEscape8(x uint64) bool { return plainBits(x) != allPlain }

// needsEscape32 reports whether any of the first 32 bytes of s needs escaping. Testing four
// words with one branch scans long plain strings faster than word by word.
func needsEscape32(s string) bool {
	_ = s[31]
	return plainBits(load64(s))&plainBits(load64(s[8:]))&
		plainBits(load64(s[16:]))&plainBits(load64(s[24:])) != allPlain
}

// load64 reads the first eight bytes of s little-endian. Indexing a fresh slice with constants
// lets the compiler drop the per-byte bounds checks and emit one load.
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// AppendJSONString writes s as a JSON string the way Jackson does: '"' and '\' escaped, control
// characters as \b \t \n \f \r or \u00XX, characters outside the Basic Multilingual Plane as
// escaped UTF-16 surrogate pairs, everything else (including '/', DEL and U+2028) as raw UTF-8.
// Bytes that are not UTF-8 become U+FFFD, since a Java string cannot hold them.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Skip plain bytes 32, then eight at a time: most strings need no escaping at all.
		for i+32 <= len(s) && !needsEscape32(s[i:]) {
			i += 32
		}
		for i+8 <= len(s) && !needsEscape8(load64(s[i:])) {
			i += 8
		}
		// Then byte by byte, in a loop of its own: short strings (names, codes) and the tails of
		// long ones are mostly plain, and going back to the word loops for every byte cost more
		// than the bytes.
		for i < len(s) && plainByte[s[i]] {
			i++
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\r':
				dst = append(dst, '\\', 'r')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\uFFFD"...)
		case r >= 0x10000:
			dst = append(dst, s[start:i]...)
			r -= 0x10000
			dst = appendEscapedUnit(dst, 0xD800+(r>>10))
			dst = appendEscapedUnit(dst, 0xDC00+(r&0x3FF))
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// plainByte marks the bytes AppendJSONString copies as they are: ASCII from 0x20, except '"' and '\\'.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func appendEscapedUnit(dst []byte, u rune) []byte {
	return append(dst, '\\', 'u', hexDigits[u>>12&0xF], hexDigits[u>>8&0xF], hexDigits[u>>4&0xF], hexDigits[u&0xF])
}
