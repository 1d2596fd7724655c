package connect

import (
	"bytes"
	"math/big"
	"testing"
)

// Expected bytes are Java's BigInteger.valueOf(n).toByteArray().
func TestDecimalToBytesMatchesBigIntegerToByteArray(t *testing.T) {
	cases := []struct {
		n    int64
		want []byte
	}{
		{0, []byte{0x00}}, {1, []byte{0x01}}, {127, []byte{0x7f}}, {128, []byte{0x00, 0x80}},
		{255, []byte{0x00, 0xff}}, {256, []byte{0x01, 0x00}}, {-1, []byte{0xff}},
		{-128, []byte{0x80}}, {-129, []byte{0xff, 0x7f}}, {-256, []byte{0xff, 0x00}},
		{-32768, []byte{0x80, 0x00}}, {-32769, []byte{0xff, 0x7f, 0xff}},
	}
	for _, c := range cases {
		got := DecimalToBytes(Decimal{Unscaled: big.NewInt(c.n)})
		if !bytes.Equal(got, c.want) {
			t.Errorf("%d: got % x, want % x", c.n, got, c.want)
		}
		back := DecimalFromBytes(got, 0)
		if back.Unscaled.Int64() != c.n {
			t.Errorf("%d: decoded back as %s", c.n, back.Unscaled)
		}
	}
}

// Expected unscaled values and scales are what new BigDecimal(s) yields.
func TestParseDecimalKeepsScaleLikeBigDecimal(t *testing.T) {
	cases := []struct {
		in       string
		unscaled string
		scale    int32
		plain    string
	}{
		{"-12.340", "-12340", 3, "-12.340"},
		{"1.5e-3", "15", 4, "0.0015"},
		{"1E+3", "1", -3, "1000"},
		{"0.00", "0", 2, "0.00"},
		{"123", "123", 0, "123"},
		{"+7.0", "70", 1, "7.0"},
	}
	for _, c := range cases {
		d, err := ParseDecimal(c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if d.Unscaled.String() != c.unscaled || d.Scale != c.scale || d.String() != c.plain {
			t.Errorf("%s: got unscaled %s scale %d plain %s", c.in, d.Unscaled, d.Scale, d)
		}
	}
	for _, bad := range []string{"", "-", "1.2.3", "abc", "1e", ".e1"} {
		if _, err := ParseDecimal(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}
