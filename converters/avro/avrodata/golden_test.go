package avrodata

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kconnect/kconnect/converters/internal/golden"
)

const goldenDir = "testdata/golden"

func newData(t testing.TB, props map[string]string) *Data {
	t.Helper()
	cfg, err := ConfigDef().Parse(props)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return New(c)
}

func readGolden(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(string(b), "\n")
}

// caseNames lists the cases of a golden directory by the files with the given extensions.
func caseNames(t *testing.T, dir string, exts ...string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(goldenDir, dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, f := range files {
		base := filepath.Base(f)
		for _, ext := range exts {
			if name, ok := strings.CutSuffix(base, ext); ok {
				names[name] = ext
			}
		}
	}
	return names
}

// TestGoldenFromConnect checks each case against what Confluent's AvroData made of it: the schema
// text byte for byte, the encoded value byte for byte, and what reading them back gives; or an
// error where AvroData failed.
func TestGoldenFromConnect(t *testing.T) {
	cases := goldenFromConnectCases()
	names := caseNames(t, "fromconnect", ".avsc", ".err")
	for name := range cases {
		if _, ok := names[name]; !ok {
			t.Errorf("case %s has no golden file; run testdata/golden/gen.sh", name)
		}
	}
	for name, ext := range names {
		t.Run(name, func(t *testing.T) {
			tc, ok := cases[name]
			if !ok {
				t.Fatalf("golden case %s has no Go case; add it to golden_cases_test.go", name)
			}
			d := newData(t, tc.config)
			path := filepath.Join(goldenDir, "fromconnect", name)
			a, err := d.FromConnectSchema(tc.schema)
			var enc *Encoder
			var bin []byte
			if err == nil {
				if enc, err = d.Encoder(tc.schema, a); err == nil {
					bin, err = enc.Append(nil, tc.value)
				}
			}
			if ext == ".err" {
				if err == nil {
					t.Fatalf("want an error like upstream's %q, got schema %s", readGolden(t, path+".err"), a)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, want := a.String(), readGolden(t, path+".avsc"); got != want {
				t.Errorf("schema\n got %s\nwant %s", got, want)
			}
			if got, want := hex.EncodeToString(bin), readGolden(t, path+".hex"); got != want {
				t.Errorf("bytes\n got %s\nwant %s", got, want)
			}
			// Read back the way a converter does: from the registered text.
			back := readBack(t, newData(t, tc.config), a.String(), bin)
			if want := readGolden(t, path+".back.txt"); back != want {
				t.Errorf("read back\n got %s\nwant %s", back, want)
			}
		})
	}
}

func readBack(t *testing.T, d *Data, text string, bin []byte) string {
	t.Helper()
	parsed, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.ToConnectSchema(parsed, 0)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := d.Decoder(parsed, c)
	if err != nil {
		t.Fatal(err)
	}
	v, err := dec.Decode(bin)
	if err != nil {
		t.Fatal(err)
	}
	return golden.Render(c) + "\n" + golden.RenderValue(v)
}

// TestGoldenToConnect reads Avro schemas and data as producers other than Connect write them
// and checks the Connect schema and value against what Confluent's AvroData made of them.
func TestGoldenToConnect(t *testing.T) {
	for name, ext := range caseNames(t, "toconnect", ".txt", ".err") {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(goldenDir, "toconnect", name)
			props := parseJavaMap(readGolden(t, path+".config"))
			d := newData(t, props)
			a, err := Parse(readGolden(t, path+".avsc"))
			if err != nil {
				t.Fatal(err)
			}
			bin, err := hex.DecodeString(readGolden(t, path+".hex"))
			if err != nil {
				t.Fatal(err)
			}
			c, err := d.ToConnectSchema(a, 0)
			var v any
			if err == nil {
				var dec *Decoder
				if dec, err = d.Decoder(a, c); err == nil {
					v, err = dec.Decode(bin)
				}
			}
			if ext == ".err" {
				if err == nil {
					t.Fatalf("want an error like upstream's %q, got %s", readGolden(t, path+".err"), golden.Render(c))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := golden.Render(c) + "\n" + golden.RenderValue(v)
			if want := readGolden(t, path+".txt"); got != want {
				t.Errorf("\n got %s\nwant %s", got, want)
			}
		})
	}
}

// parseJavaMap reads a java.util.Map's toString, {a=1, b=2}, as Gen writes the configs.
func parseJavaMap(s string) map[string]string {
	out := map[string]string{}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	if s == "" {
		return out
	}
	for _, kv := range strings.Split(s, ", ") {
		k, v, _ := strings.Cut(kv, "=")
		out[k] = v
	}
	return out
}
