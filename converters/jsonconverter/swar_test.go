package jsonconverter

import "testing"

// needsEscape8 must agree with the byte-by-byte rule for every byte value in every lane.
func TestNeedsEscape8MatchesByteRule(t *testing.T) {
	plain := func(c byte) bool { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\' }
	for lane := 0; lane < 8; lane++ {
		for c := 0; c < 256; c++ {
			word := []byte("abcdefgh")
			word[lane] = byte(c)
			x := load64(string(word), 0)
			if got, want := needsEscape8(x), !plain(byte(c)); got != want {
				t.Fatalf("byte %#x in lane %d: needsEscape8 = %v, want %v", c, lane, got, want)
			}
		}
	}
}
