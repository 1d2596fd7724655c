package avro

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters/avro/avrodata"
	"github.com/kconnect/kconnect/internal/testenv"
)

// These tests run against a real registry that enforces compatibility (Apicurio, Confluent's API)
// and a client nobody here wrote (Python's confluent-kafka); see scripts/schema-registry.sh.

func registryJSON(t *testing.T, base, path string, into any) {
	t.Helper()
	resp, err := http.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatal(err)
	}
}

func TestRealRegistryRegistersJavaTextAndEnforcesCompatibility(t *testing.T) {
	base := testenv.SchemaRegistry(t)
	topic := testenv.Topic(t, "avro")
	subject := topic + "-value"
	props := map[string]string{SchemaRegistryURLConfig: base}
	w := configured(t, props, false)
	data, err := w.FromConnectData(topic, envelopeSchema, envelope(1))
	if err != nil {
		t.Fatal(err)
	}

	// The registry holds exactly the text Confluent's converter would have registered.
	var latest struct {
		Schema  string `json:"schema"`
		Version int    `json:"version"`
	}
	registryJSON(t, base, "/subjects/"+url.PathEscape(subject)+"/versions/latest", &latest)
	a, err := avrodata.New(avrodata.DefaultConfig()).FromConnectSchema(envelopeSchema)
	if err != nil {
		t.Fatal(err)
	}
	if latest.Schema != a.String() || latest.Version != 1 {
		t.Errorf("registered version %d:\n%s\nwant version 1:\n%s", latest.Version, latest.Schema, a)
	}
	schema, value, err := configured(t, props, false).ToConnectData(topic, data)
	if err != nil {
		t.Fatal(err)
	}
	if got := value.(*connect.Struct).Get("after").(*connect.Struct).Get("customer"); got != "ann" || schema.Name != envelopeSchema.Name {
		t.Errorf("read back %v of %s", value, schema)
	}

	// A CDC table gaining an optional column registers a new version.
	evolvedRow := connect.StructBuilder().Name(rowSchema.Name).Optional()
	for _, f := range rowSchema.Fields {
		evolvedRow.Field(f.Name, f.Schema)
	}
	evolvedRow.Field("note", connect.OptionalStringSchema)
	row2 := evolvedRow.MustBuild()
	evolved := connect.StructBuilder().Name(envelopeSchema.Name).Version(2).
		Field("before", row2).Field("after", row2).Field("op", connect.StringSchema).
		Field("ts_ms", connect.OptionalInt64Schema).MustBuild()
	after := connect.NewStruct(row2).Set("id", int32(2)).Set("customer", "bob").
		Set("placed", time.UnixMilli(0).UTC()).Set("note", "new column")
	data2, err := w.FromConnectData(topic, evolved, connect.NewStruct(evolved).Set("after", after).Set("op", "u"))
	if err != nil {
		t.Fatalf("adding an optional column: %v", err)
	}
	var versions []int
	registryJSON(t, base, "/subjects/"+url.PathEscape(subject)+"/versions", &versions)
	if len(versions) != 2 {
		t.Errorf("versions after adding an optional column: %v, want 2 of them", versions)
	}
	schema, value, err = configured(t, props, false).ToConnectData(topic, data2)
	if err != nil {
		t.Fatal(err)
	}
	if schema.Field("after").Schema.Field("note") == nil || value.(*connect.Struct).Get("after").(*connect.Struct).Get("note") != "new column" {
		t.Errorf("evolved record read back as %v", value)
	}

	// An incompatible change is refused by the registry, and the error says where and why.
	broken := connect.StructBuilder().Name(envelopeSchema.Name).Version(2).
		Field("before", row2).Field("after", row2).Field("op", connect.Int32Schema).
		Field("ts_ms", connect.OptionalInt64Schema).MustBuild()
	before := w.RegistryRequests()
	_, err = w.FromConnectData(topic, broken, connect.NewStruct(broken).Set("op", int32(1)))
	var de *connect.DataError
	if err == nil || !errors.As(err, &de) || !strings.Contains(err.Error(), subject) || connect.IsRetriable(err) {
		t.Fatalf("incompatible change: %v, want a non-retriable data error naming %s", err, subject)
	}
	t.Logf("the registry's refusal: %v", err)
	if w.RegistryRequests() == before {
		t.Error("the incompatible schema never reached the registry")
	}

	// Known schemas cost no registry requests.
	before = w.RegistryRequests()
	for i := range 50 {
		if _, err := w.FromConnectData(topic, envelopeSchema, envelope(int32(i))); err != nil {
			t.Fatal(err)
		}
		if _, err := w.FromConnectData(topic, evolved, connect.NewStruct(evolved).Set("after", after).Set("op", "u")); err != nil {
			t.Fatal(err)
		}
	}
	if n := w.RegistryRequests() - before; n != 0 {
		t.Errorf("100 records of two known schemas made %d registry requests", n)
	}
}

func runInterop(t *testing.T, stdin string, args ...string) []string {
	t.Helper()
	python := testenv.AvroPython(t)
	cmd := exec.Command(python, append([]string{filepath.Join("testdata", "interop.py")}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("interop.py %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// allTypes covers every Connect type and logical type the converter writes.
var allTypes = connect.StructBuilder().Name("kconnect.interop.AllTypes").
	Field("i8", connect.Int8Schema).
	Field("i16", connect.Int16Schema).
	Field("i32", connect.Int32Schema).
	Field("i64", connect.Int64Schema).
	Field("f32", connect.Float32Schema).
	Field("f64", connect.Float64Schema).
	Field("flag", connect.BooleanSchema).
	Field("text", connect.StringSchema).
	Field("raw", connect.BytesSchema).
	Field("price", connect.DecimalSchema(2).Param("connect.decimal.precision", "10").MustBuild()).
	Field("day", connect.DateSchema().MustBuild()).
	Field("clock", connect.TimeSchema().MustBuild()).
	Field("at", connect.TimestampSchema().MustBuild()).
	Field("maybe", connect.OptionalStringSchema).
	Field("missing", connect.OptionalInt64Schema).
	Field("list", connect.ArrayBuilder(connect.Int32Schema).MustBuild()).
	Field("byName", connect.MapBuilder(connect.StringSchema, connect.Float64Schema).MustBuild()).
	Field("byId", connect.MapBuilder(connect.Int64Schema, connect.StringSchema).MustBuild()).
	Field("nested", connect.StructBuilder().Name("kconnect.interop.Nested").Optional().
		Field("x", connect.Int32Schema).MustBuild()).
	MustBuild()

func allTypesValue(i int) *connect.Struct {
	nested := connect.NewStruct(allTypes.Field("nested").Schema).Set("x", int32(i))
	return connect.NewStruct(allTypes).
		Set("i8", int8(-8)).Set("i16", int16(-1600)).Set("i32", int32(i)).Set("i64", int64(1)<<40).
		Set("f32", float32(1.5)).Set("f64", -2.25).Set("flag", true).Set("text", "h\u00e9llo \U0001F600").
		Set("raw", []byte{0, 1, 0xff}).Set("price", dec("-12345678.90")).
		Set("day", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)).
		Set("clock", time.UnixMilli(45296789).UTC()).
		Set("at", time.UnixMilli(1700000000123).UTC()).
		Set("maybe", "yes").
		Set("list", []any{int32(1), int32(2)}).
		Set("byName", map[string]any{"pi": 3.25}).
		Set("byId", map[any]any{int64(7): "seven"}).
		Set("nested", nested)
}

func TestPythonReadsWhatKconnectWrites(t *testing.T) {
	base := testenv.SchemaRegistry(t)
	topic := testenv.Topic(t, "avro")
	w := configured(t, map[string]string{SchemaRegistryURLConfig: base}, false)
	var lines []string
	for i := range 3 {
		data, err := w.FromConnectData(topic, allTypes, allTypesValue(i))
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, hex.EncodeToString(data))
	}
	out := runInterop(t, strings.Join(lines, "\n")+"\n", "read", base, topic)
	if len(out) != 3 {
		t.Fatalf("Python read %d values, want 3: %q", len(out), out)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out[2]), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"i8": -8.0, "i16": -1600.0, "i32": 2.0, "i64": float64(int64(1) << 40), "f32": 1.5, "f64": -2.25,
		"flag": true, "text": "h\u00e9llo \U0001F600", "raw": "0001ff", "price": "-12345678.90",
		"day": "2024-02-29", "clock": "12:34:56.789000", "at": "2023-11-14T22:13:20.123000+00:00",
		"maybe": "yes", "missing": nil, "list": []any{1.0, 2.0}, "byName": map[string]any{"pi": 3.25},
		"byId":   []any{map[string]any{"key": 7.0, "value": "seven"}},
		"nested": map[string]any{"x": 2.0},
	}
	for k, v := range want {
		if g, _ := json.Marshal(got[k]); string(g) != mustJSON(v) {
			t.Errorf("Python read %s = %s, want %s", k, g, mustJSON(v))
		}
	}
	if len(got) != len(want) {
		t.Errorf("Python read fields %v, want %d of them", got, len(want))
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// pythonSchema is what a Python or Java producer writes: plain Avro, no connect.* properties.
const pythonSchema = `{"type":"record","name":"Order","namespace":"com.example.shop","doc":"an order",
 "fields":[
  {"name":"id","type":"long"},
  {"name":"customer","type":"string"},
  {"name":"email","type":["null","string"],"default":null},
  {"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}},
  {"name":"placed","type":{"type":"long","logicalType":"timestamp-millis"}},
  {"name":"due","type":{"type":"int","logicalType":"date"}},
  {"name":"ref","type":{"type":"string","logicalType":"uuid"}},
  {"name":"status","type":{"type":"enum","name":"Status","symbols":["NEW","PAID","SHIPPED"]}},
  {"name":"lines","type":{"type":"array","items":{"type":"record","name":"Line","fields":[
    {"name":"sku","type":"string"},{"name":"qty","type":"int"}]}}},
  {"name":"attrs","type":{"type":"map","values":"string"}},
  {"name":"blob","type":"bytes"},
  {"name":"rating","type":["null","double"],"default":null}]}`

func TestKconnectReadsWhatPythonWrites(t *testing.T) {
	base := testenv.SchemaRegistry(t)
	topic := testenv.Topic(t, "avro")
	schemaFile := filepath.Join(t.TempDir(), "order.avsc")
	if err := os.WriteFile(schemaFile, []byte(pythonSchema), 0o600); err != nil {
		t.Fatal(err)
	}
	record := `{"id": 42, "customer": "ann", "email": null, "amount": {"$decimal": "1234.50"},
		"placed": {"$timestamp": "2023-11-14T22:13:20.123+00:00"}, "due": {"$date": "2024-02-29"},
		"ref": "f81d4fae-7dec-11d0-a765-00a0c91e6bf6", "status": "PAID",
		"lines": [{"sku": "A-1", "qty": 2}], "attrs": {"gift": "yes"}, "blob": {"$bytes": "00ff"}, "rating": 4.5}`
	out := runInterop(t, strings.ReplaceAll(record, "\n", " ")+"\n", "write", base, topic, schemaFile)
	data, err := hex.DecodeString(out[0])
	if err != nil {
		t.Fatal(err)
	}
	schema, value, err := configured(t, map[string]string{SchemaRegistryURLConfig: base}, false).ToConnectData(topic, data)
	if err != nil {
		t.Fatal(err)
	}
	if schema.Name != "com.example.shop.Order" || schema.Version != 1 {
		t.Errorf("schema %s v%d, want com.example.shop.Order v1", schema.Name, schema.Version)
	}
	st := value.(*connect.Struct)
	line := st.Get("lines").([]any)[0].(*connect.Struct)
	for _, c := range []struct {
		field     string
		got, want any
	}{
		{"id", st.Get("id"), int64(42)},
		{"customer", st.Get("customer"), "ann"},
		{"email", st.Get("email"), nil},
		{"amount", st.Get("amount"), dec("1234.50")},
		{"placed", st.Get("placed"), time.UnixMilli(1700000000123).UTC()},
		{"due", st.Get("due"), time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"ref", st.Get("ref"), "f81d4fae-7dec-11d0-a765-00a0c91e6bf6"},
		{"status", st.Get("status"), "PAID"},
		{"lines.sku", line.Get("sku"), "A-1"},
		{"lines.qty", line.Get("qty"), int32(2)},
		{"attrs", st.Get("attrs"), map[string]any{"gift": "yes"}},
		{"blob", st.Get("blob"), []byte{0, 0xff}},
		{"rating", st.Get("rating"), 4.5},
	} {
		if !connect.ValuesEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.field, c.got, c.want)
		}
	}
	if p, _ := schema.Field("amount").Schema.Parameters.Get("connect.decimal.precision"); p != "12" {
		t.Errorf("amount precision parameter %q, want 12", p)
	}
}
