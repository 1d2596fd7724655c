package javafmt

import (
	"strings"
	"testing"
)

// BenchmarkAppendPlainString measures the escape scan over a 1 KB string that needs no escaping,
// the common case for text columns and generated payloads.
func BenchmarkAppendPlainString(b *testing.B) {
	s := strings.Repeat("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 17)[:1024]
	buf := make([]byte, 0, 2048)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		buf = AppendJSONString(buf[:0], s)
	}
}
