package javafmt

import (
	"math/rand/v2"
	"testing"
)

// needsEscape8 must agree with the byte-by-byte rule for every byte value in every lane.
func TestNeedsEscape8MatchesByteRule(t *testing.T) {
	plain := func(c byte) bool { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\' }
	for lane := 0; lane < 8; lane++ {
		for c := 0; c < 256; c++ {
			word := []byte("abcdefgh")
			word[lane] = byte(c)
			x := load64(string(word))
			if got, want := needsEscape8(x), !plain(byte(c)); got != want {
				t.Fatalf("byte %#x in lane %d: needsEscape8 = %v, want %v", c, lane, got, want)
			}
		}
	}
}

// Words mixing several escapable and non-ASCII bytes must agree with the byte rule too: carries
// out of non-ASCII lanes must never make a word look plain.
func TestNeedsEscapeRandomWords(t *testing.T) {
	plain := func(c byte) bool { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\' }
	interesting := []byte{0x00, 0x1f, 0x20, 0x21, '"', 0x23, 0x5b, '\\', 0x5d, 0x7e, 0x7f, 0x80, 0x9f, 0xa0, 0xdf, 0xe0, 0xff}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		word := make([]byte, 32)
		for i := range word {
			if rng.IntN(4) == 0 {
				word[i] = interesting[rng.IntN(len(interesting))]
			} else {
				word[i] = byte(rng.IntN(256))
			}
			if rng.IntN(3) > 0 {
				word[i] = 'a' + byte(rng.IntN(26))
			}
		}
		want := false
		for i, c := range word {
			want = want || !plain(c)
			if i == 7 {
				if got := needsEscape8(load64(string(word))); got != want {
					t.Fatalf("% x: needsEscape8 = %v, want %v", word[:8], got, want)
				}
			}
		}
		if got := needsEscape32(string(word)); got != want {
			t.Fatalf("% x: needsEscape32 = %v, want %v", word, got, want)
		}
	}
}

func TestPlainByteMatchesByteRule(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := c >= 0x20 && c < 0x80 && c != '"' && c != '\\'
		if plainByte[c] != want {
			t.Errorf("plainByte[%#x] = %v, want %v", c, plainByte[c], want)
		}
	}
}
