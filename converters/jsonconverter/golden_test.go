package jsonconverter

import (
	"bytes"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters/internal/golden"
	"github.com/kconnect/kconnect/converters/internal/javafmt"
)

const goldenDir = "testdata/golden"

func configured(t testing.TB, cfg map[string]string) *Converter {
	t.Helper()
	c := New()
	if err := c.Configure(cfg, false); err != nil {
		t.Fatalf("Configure(%v): %v", cfg, err)
	}
	return c
}

// TestGoldenEncode checks that every case writes exactly the bytes Kafka's JsonConverter wrote,
// or fails where it failed.
func TestGoldenEncode(t *testing.T) {
	cases := goldenEncodeCases()
	files, err := filepath.Glob(filepath.Join(goldenDir, "encode", "*"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, path := range files {
		base := filepath.Base(path)
		ext := filepath.Ext(base)
		if ext != ".json" && ext != ".err" {
			continue
		}
		name := strings.TrimSuffix(base, ext)
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			tc, ok := cases[name]
			if !ok {
				t.Fatalf("golden file %s has no Go case; add it to golden_cases_test.go", base)
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := configured(t, tc.config).FromConnectData("topic", tc.schema, tc.value)
			if ext == ".err" {
				if err == nil {
					t.Fatalf("want an error like upstream's %q, got %s", strings.TrimSpace(string(want)), got)
				}
				return
			}
			if err != nil {
				t.Fatalf("FromConnectData: %v", err)
			}
			if len(want) == 0 {
				want = nil // Gen writes an empty file for a null message
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("bytes differ from Kafka's JsonConverter\n got: %s\nwant: %s\nfirst difference at byte %d",
					got, want, firstDiff(got, want))
			}
		})
	}
	for name := range cases {
		if !seen[name] {
			t.Errorf("Go case %s has no golden file; add it to Gen.java and regenerate", name)
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestGoldenDecode reads back every golden message: with schemas the original schema and value
// come back; without them the value equals what an independent JSON decoder (connect.DecodeJSON,
// built on encoding/json) makes of the same bytes.
func TestGoldenDecode(t *testing.T) {
	for name, tc := range goldenEncodeCases() {
		data, err := os.ReadFile(filepath.Join(goldenDir, "encode", name+".json"))
		if os.IsNotExist(err) || len(data) == 0 {
			continue
		}
		t.Run(name, func(t *testing.T) {
			c := configured(t, tc.config)
			s, v, err := c.ToConnectData("topic", data)
			if err != nil {
				t.Fatalf("ToConnectData(%s): %v", data, err)
			}
			if !c.cfg.schemasEnable || tc.schema == nil {
				want, err := connect.DecodeJSON(data)
				if err != nil {
					t.Fatal(err)
				}
				if c.cfg.schemasEnable {
					want = want.(map[string]any)["payload"]
				}
				if s != nil || !sameValue(want, v) {
					t.Fatalf("got %s %s, want no schema and %s", golden.Render(s), golden.RenderValue(v), golden.RenderValue(want))
				}
				return
			}
			if !s.Equal(tc.schema) {
				t.Fatalf("schema\n got %s\nwant %s", golden.Render(s), golden.Render(tc.schema))
			}
			want := tc.value
			if want == nil && c.cfg.replaceNull {
				want = tc.schema.Default
			}
			if !sameValue(want, v) {
				t.Fatalf("value\n got %s\nwant %s", golden.RenderValue(v), golden.RenderValue(want))
			}
		})
	}
}

// sameValue compares Connect values like connect.ValuesEqual, except that NaN equals NaN and a
// struct field left null reads as its default (as Struct.GetAt does).
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && (x == y || math.IsNaN(x) && math.IsNaN(y))
	case float32:
		y, ok := b.(float32)
		return ok && (x == y || x != x && y != y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameValue(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if w, ok := y[k]; !ok || !sameValue(v, w) {
				return false
			}
		}
		return true
	case *connect.Struct:
		y, ok := b.(*connect.Struct)
		if !ok || !x.Schema().Equal(y.Schema()) {
			return false
		}
		for i := range x.Schema().Fields {
			if !sameValue(x.GetAt(i), y.GetAt(i)) {
				return false
			}
		}
		return true
	}
	return connect.ValuesEqual(a, b)
}

// TestGoldenDecodeUpstream decodes inputs that Kafka's converter decoded and compares the result in
// Gen.java's rendering.
func TestGoldenDecodeUpstream(t *testing.T) {
	ins, err := filepath.Glob(filepath.Join(goldenDir, "decode", "*.in.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) == 0 {
		t.Fatal("no decode golden files")
	}
	for _, in := range ins {
		name := strings.TrimSuffix(filepath.Base(in), ".in.json")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			outBytes, err := os.ReadFile(filepath.Join(goldenDir, "decode", name+".out.txt"))
			if err != nil {
				t.Fatal(err)
			}
			header, want, _ := strings.Cut(string(outBytes), "\n")
			c := configured(t, parseJavaMap(t, strings.TrimPrefix(header, "config: ")))
			s, v, err := c.ToConnectData("topic", data)
			var got string
			if err != nil {
				got = "error\n"
			} else {
				got = "schema: " + golden.Render(s) + "\nvalue: " + golden.RenderValue(v) + "\n"
			}
			if got != want {
				t.Fatalf("decoding %s (error: %v)\n got: %q\nwant: %q", data, err, got, want)
			}
		})
	}
}

// parseJavaMap parses a TreeMap's toString, {a=b, c=d}, with no commas or '=' in values.
func parseJavaMap(t *testing.T, s string) map[string]string {
	t.Helper()
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	m := map[string]string{}
	if s == "" {
		return m
	}
	for _, kv := range strings.Split(s, ", ") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("bad config %q", s)
		}
		m[k] = v
	}
	return m
}

// TestJavaNumberPrinting checks javafmt against Double.toString, Float.toString and
// BigDecimal.toString of thousands of pseudo-random values printed by Gen.java on Java 21.
func TestJavaNumberPrinting(t *testing.T) {
	read := func(name string) [][]string {
		data, err := os.ReadFile(filepath.Join(goldenDir, "javafmt", name))
		if err != nil {
			t.Fatal(err)
		}
		var rows [][]string
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			rows = append(rows, strings.Fields(line))
		}
		return rows
	}
	failures := 0
	check := func(kind, input, got, want string) {
		if got != want && failures < 20 {
			failures++
			t.Errorf("%s %s: got %s, want %s", kind, input, got, want)
		}
	}
	for _, row := range read("doubles.txt") {
		bits, err := strconv.ParseUint(row[0], 16, 64)
		if err != nil {
			t.Fatal(err)
		}
		check("double", row[0], string(javafmt.AppendDouble(nil, math.Float64frombits(bits))), row[1])
	}
	for _, row := range read("floats.txt") {
		bits, err := strconv.ParseUint(row[0], 16, 32)
		if err != nil {
			t.Fatal(err)
		}
		check("float", row[0], string(javafmt.AppendFloat(nil, math.Float32frombits(uint32(bits)))), row[1])
	}
	for _, row := range read("bigdecimals.txt") {
		u, ok := new(big.Int).SetString(row[0], 10)
		scale, err := strconv.Atoi(row[1])
		if !ok || err != nil {
			t.Fatalf("bad row %v", row)
		}
		check("BigDecimal", row[0]+" "+row[1], string(javafmt.AppendBigDecimal(nil, u, int32(scale))), row[2])
	}
}
