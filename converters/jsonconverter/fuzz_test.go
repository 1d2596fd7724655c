package jsonconverter

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"testing"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters/internal/golden"
)

// FuzzToConnectData feeds arbitrary bytes to the decoder in both schemas.enable modes. It must
// never panic, and whatever it accepts must convert back to JSON that decodes to the same schema
// and value and re-encodes to the same bytes. Seeds: testdata/fuzz/FuzzToConnectData.
func FuzzToConnectData(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, schemas bool) {
		c := New()
		if err := c.Configure(map[string]string{SchemasEnableConfig: strconv.FormatBool(schemas)}, false); err != nil {
			t.Fatal(err)
		}
		s, v, err := c.ToConnectData("topic", data)
		if err != nil {
			return
		}
		b1, err := c.FromConnectData("topic", s, v)
		if err != nil {
			// A NUMERIC decimal whose scale differs from its schema's cannot be written as BASE64,
			// upstream included.
			if errors.Is(err, errDecimalScale) {
				return
			}
			t.Fatalf("accepted %q as %s %s but cannot write it back: %v", data, golden.Render(s), golden.RenderValue(v), err)
		}
		if b1 == nil {
			if s != nil || v != nil {
				t.Fatalf("%s %s written as a null message", golden.Render(s), golden.RenderValue(v))
			}
			return
		}
		s2, v2, err := c.ToConnectData("topic", b1)
		if err != nil {
			t.Fatalf("cannot read back %q (from %q): %v", b1, data, err)
		}
		b2, err := c.FromConnectData("topic", s2, v2)
		if err != nil {
			t.Fatalf("cannot write %q again: %v", b1, err)
		}
		if !bytes.Equal(b1, b2) {
			t.Fatalf("not stable: %q → %q → %q", data, b1, b2)
		}
		if golden.Render(s) != golden.Render(s2) {
			t.Fatalf("schema changed: %s → %s (input %q)", golden.Render(s), golden.Render(s2), data)
		}
		// Schemaless infinities come back as the strings Jackson writes for them.
		if !(s == nil && hasNonFinite(v)) && golden.RenderValue(v) != golden.RenderValue(v2) {
			t.Fatalf("value changed: %s → %s (input %q)", golden.RenderValue(v), golden.RenderValue(v2), data)
		}
	})
}

func hasNonFinite(v any) bool {
	switch x := v.(type) {
	case float64:
		return math.IsNaN(x) || math.IsInf(x, 0)
	case []any:
		for _, e := range x {
			if hasNonFinite(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if hasNonFinite(e) {
				return true
			}
		}
	case *connect.Struct:
		for i := range x.Schema().Fields {
			if hasNonFinite(x.GetAt(i)) {
				return true
			}
		}
	}
	return false
}
