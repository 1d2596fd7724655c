package converters

import (
	"testing"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters/internal/golden"
)

// FuzzSimpleHeaderConverter reads arbitrary header bytes: it must never panic, and a value it
// reads must be written as text that reads back the same (except bytes, which are written in
// base64 and read back as that string, as upstream does).
func FuzzSimpleHeaderConverter(f *testing.F) {
	for _, seed := range []string{
		"", "null", "true", "1", "-1.5e3", "2024-01-02", "12:34:56.789Z", "2024-01-02T12:34:56.789Z",
		`[1,2.5]`, `{"a":[1,2],"b":[3]}`, `["x\"y","z\\"]`, `{1:"a"}`, `[[],[null]]`, "[1,", "\xff",
	} {
		f.Add([]byte(seed))
	}
	h := NewSimpleHeaderConverter()
	f.Fuzz(func(t *testing.T, data []byte) {
		s, v, err := h.ToConnectHeader("t", "k", data)
		if err != nil || v == nil || s == connect.BytesSchema {
			return
		}
		text, err := h.FromConnectHeader("t", "k", s, v)
		if err != nil {
			t.Fatalf("read %q as %s %s but cannot write it: %v", data, golden.Render(s), golden.RenderValue(v), err)
		}
		s2, v2, err := h.ToConnectHeader("t", "k", text)
		if err != nil {
			t.Fatal(err)
		}
		if golden.Render(s) != golden.Render(s2) || golden.RenderValue(v) != golden.RenderValue(v2) {
			t.Fatalf("%q read as %s %s, written as %q, read back as %s %s", data,
				golden.Render(s), golden.RenderValue(v), text, golden.Render(s2), golden.RenderValue(v2))
		}
	})
}
