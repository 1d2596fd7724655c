package jsonconverter

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters/internal/golden"
)

func TestConfigureRejectsBadValues(t *testing.T) {
	for _, tc := range []struct {
		props map[string]string
		want  string
	}{
		{map[string]string{DecimalFormatConfig: "HEX"}, DecimalFormatConfig},
		{map[string]string{SchemasEnableConfig: "yes"}, SchemasEnableConfig},
		{map[string]string{SchemasCacheSizeConfig: "-1"}, SchemasCacheSizeConfig},
		{map[string]string{SchemaContentConfig: `{"type":"nope"}`}, SchemaContentConfig},
	} {
		err := New().Configure(tc.props, false)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Configure(%v) = %v, want an error naming %s", tc.props, err, tc.want)
		}
	}
	c := configured(t, map[string]string{DecimalFormatConfig: "numeric"})
	if !c.cfg.decimalNumeric {
		t.Error("decimal.format is case-insensitive upstream; numeric was not taken as NUMERIC")
	}
}

func TestParsedSchemasAreCached(t *testing.T) {
	c := configured(t, cfgDefault)
	msg := []byte(`{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"a"}],"optional":false},"payload":{"a":1}}`)
	s1, _, err := c.ToConnectData("t", msg)
	if err != nil {
		t.Fatal(err)
	}
	s2, v2, err := c.ToConnectData("t", append([]byte(nil), msg...))
	if err != nil {
		t.Fatal(err)
	}
	if s1 != s2 {
		t.Error("the same schema JSON was parsed twice instead of coming from the cache")
	}
	if v2.(*connect.Struct).Schema() != s1 {
		t.Error("decoded struct does not carry the cached schema")
	}
	if n := c.parseCache.Len(); n != 1 {
		t.Errorf("parse cache holds %d schemas, want 1", n)
	}
}

// A message repeating the last schema takes the one-pass path; it must decode exactly as the
// general path does, and any message that deviates from the usual shape must still get the
// general path's result or error.
func TestRepeatedSchemaDecodesLikeTheGeneralPath(t *testing.T) {
	schema := `{"type":"struct","fields":[{"type":"int32","optional":false,"field":"a"},{"type":"string","optional":true,"field":"b"}],"optional":false}`
	for _, tc := range []struct{ name, in, want string }{
		{"same shape", `{"schema":` + schema + `,"payload":{"a":2,"b":"x"}}`, `struct{a=i32:2, b=str:"x"}`},
		{"whitespace", " {\n \"schema\" : " + schema + " ,\t\"payload\":{\"a\":3} } ", `struct{a=i32:3, b=null}`},
		{"payload first", `{"payload":{"a":4},"schema":` + schema + `}`, `struct{a=i32:4, b=null}`},
		{"repeated payload: the last wins", `{"schema":` + schema + `,"payload":{"a":5},"payload":{"a":6}}`, `struct{a=i32:6, b=null}`},
		{"extra member", `{"schema":` + schema + `,"payload":{"a":7},"x":1}`, ErrNoEnvelope.Error()},
		{"bad payload", `{"schema":` + schema + `,"payload":{"a":"7"}}`, "error: convert JSON to Connect data: field a: a int32 value must be a number, found a string"},
		{"truncated", `{"schema":` + schema + `,"payload":{"a":7}`, "unexpected end of input"},
		{"trailing data", `{"schema":` + schema + `,"payload":{"a":7}} 1`, "unexpected data after the JSON value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := configured(t, cfgDefault)
			warm := `{"schema":` + schema + `,"payload":{"a":1}}`
			if _, _, err := c.ToConnectData("t", []byte(warm)); err != nil {
				t.Fatal(err)
			}
			if c.lastSchema.Load() == nil {
				t.Fatal("the first message did not remember its schema")
			}
			decode := func(c *Converter) string {
				_, v, err := c.ToConnectData("t", []byte(tc.in))
				if err != nil {
					return "error: " + err.Error()
				}
				return golden.RenderValue(v)
			}
			got := decode(c)
			if !strings.Contains(got, tc.want) {
				t.Errorf("got %s, want %s", got, tc.want)
			}
			if general := decode(configured(t, cfgDefault)); got != general {
				t.Errorf("after a repeated schema: %s\nfirst message of a converter: %s", got, general)
			}
		})
	}
}

func TestSchemaCacheIsBounded(t *testing.T) {
	c := configured(t, map[string]string{SchemasCacheSizeConfig: "2"})
	for i := range 5 {
		msg := fmt.Sprintf(`{"schema":{"type":"int32","optional":false,"version":%d},"payload":%d}`, i+1, i)
		if _, _, err := c.ToConnectData("t", []byte(msg)); err != nil {
			t.Fatal(err)
		}
		s := connect.NewSchemaBuilder(connect.TypeInt32).Version(i + 1).MustBuild()
		if _, err := c.FromConnectData("t", s, int32(i)); err != nil {
			t.Fatal(err)
		}
	}
	if n, m := c.parseCache.Len(), c.renderCache.Len(); n != 2 || m != 2 {
		t.Errorf("caches hold %d and %d schemas, want 2 each", n, m)
	}
}

func TestDecodeErrorsNameTheProblem(t *testing.T) {
	structSchema := `{"type":"struct","fields":[{"type":"struct","fields":[{"type":"array","items":{"type":"int8"},"field":"b"}],"field":"a"}]}`
	for _, tc := range []struct {
		name, in string
		schemas  bool
		want     string
	}{
		{"no envelope", `{"a":1}`, true, `requires "schema" and "payload"`},
		{"int8 overflow", `{"schema":{"type":"int8"},"payload":300}`, true, "out of range for int8"},
		{"fraction in int", `{"schema":{"type":"int64"},"payload":1.5}`, true, "not an integer"},
		{"string in int", `{"schema":{"type":"int32"},"payload":"7"}`, true, "int32 value must be a number, found a string"},
		{"number in string", `{"schema":{"type":"string"},"payload":7}`, true, "string value must be a string"},
		{"bad base64", `{"schema":{"type":"bytes"},"payload":"!!"}`, true, "invalid base64"},
		{"nested path", `{"schema":` + structSchema + `,"payload":{"a":{"b":[1,2,999]}}}`, true, "field a.b[2]: "},
		{"required null", `{"schema":{"type":"struct","fields":[{"type":"int32","field":"x"}]},"payload":{}}`, true, "field x: null value for a required int32"},
		{"unknown type", `{"schema":{"type":"uuid"},"payload":1}`, true, `unknown schema type "uuid"`},
		{"decimal without scale", `{"schema":{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal"},"payload":"AA=="}`, true, "scale"},
		{"date not int", `{"schema":{"type":"int32","name":"org.apache.kafka.connect.data.Date"},"payload":1.5}`, true, "Date value must be an int32"},
		{"time out of day", `{"schema":{"type":"int32","name":"org.apache.kafka.connect.data.Time"},"payload":86400001}`, true, "Time value must be"},
		{"map keys not pairs", `{"schema":{"type":"map","keys":{"type":"int32"},"values":{"type":"int32"}},"payload":{"1":2}}`, true, "array of [key, value] pairs"},
		{"pair of three", `{"schema":{"type":"map","keys":{"type":"int32"},"values":{"type":"int32"}},"payload":[[1,2,3]]}`, true, "exactly two elements"},
		{"trailing data", `{"a":1} {"b":2}`, false, "unexpected data after the JSON value"},
		{"invalid utf-8", "\"\xff\"", false, "invalid UTF-8"},
		{"raw control char", "\"a\nb\"", false, "control character"},
		{"truncated", `{"a":[1,2`, false, "unexpected end of input"},
		{"NaN literal", `NaN`, false, "unexpected character"},
		{"leading plus", `+1`, false, "unexpected character"},
		{"too deep", strings.Repeat("[", 1001) + strings.Repeat("]", 1001), false, "nesting deeper than 1000"},
		{"number too long", strings.Repeat("9", 1001), false, "number longer than 1000"},
		{"huge exponent decimal", `{"schema":{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"0"}},"payload":1e99999999999}`, true, "out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := configured(t, map[string]string{SchemasEnableConfig: fmt.Sprint(tc.schemas)})
			_, v, err := c.ToConnectData("t", []byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, %v; want an error containing %q", golden.RenderValue(v), err, tc.want)
			}
		})
	}
	_, _, err := configured(t, cfgDefault).ToConnectData("t", []byte(`[1]`))
	if !errors.Is(err, ErrNoEnvelope) {
		t.Errorf("want ErrNoEnvelope, got %v", err)
	}
}

func TestEncodeErrorsNameTheField(t *testing.T) {
	inner := connect.StructBuilder().Field("n", connect.ArrayBuilder(connect.Int32Schema).MustBuild()).MustBuild()
	outer := connect.StructBuilder().Field("in", inner).MustBuild()
	v := connect.NewStruct(outer).Set("in", connect.NewStruct(inner).Set("n", []any{int32(1), int64(2)}))
	_, err := configured(t, cfgDefault).FromConnectData("t", outer, v)
	if err == nil || !strings.Contains(err.Error(), "field in.n[1]: invalid value of Go type int64 for a int32 schema") {
		t.Fatalf("got %v", err)
	}
	_, err = configured(t, cfgNoSchemas).FromConnectData("t", nil, map[string]any{"k": 5})
	if err == nil || !strings.Contains(err.Error(), `field ["k"]: Go type int has no corresponding Connect schema type`) {
		t.Fatalf("got %v", err)
	}
}

func TestNonFiniteFloatsRoundTrip(t *testing.T) {
	c := configured(t, cfgDefault)
	s := connect.ArrayBuilder(connect.Float64Schema).MustBuild()
	data, err := c.FromConnectData("t", s, []any{math.NaN(), math.Inf(1), math.Inf(-1)})
	if err != nil {
		t.Fatal(err)
	}
	_, v, err := c.ToConnectData("t", data)
	if err != nil {
		t.Fatal(err)
	}
	got := v.([]any)
	if !math.IsNaN(got[0].(float64)) || !math.IsInf(got[1].(float64), 1) || !math.IsInf(got[2].(float64), -1) {
		t.Fatalf("got %v from %s", got, data)
	}
}

func TestSchemaContentReadsPlainPayloads(t *testing.T) {
	c := configured(t, map[string]string{
		SchemaContentConfig: `{"type":"struct","fields":[{"type":"int64","field":"id"},{"type":"string","optional":true,"field":"name"}]}`,
	})
	s, v, err := c.ToConnectData("t", []byte(`{"id":5,"name":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	if s == nil || golden.RenderValue(v) != `struct{id=i64:5, name=str:"x"}` {
		t.Fatalf("got %s %s", golden.Render(s), golden.RenderValue(v))
	}
}

func TestHeaderConverterWritesLikeValues(t *testing.T) {
	h := NewHeaderConverter()
	if err := h.Configure(cfgNoSchemas); err != nil {
		t.Fatal(err)
	}
	data, err := h.FromConnectHeader("t", "k", connect.StringSchema, "v")
	if err != nil || string(data) != `"v"` {
		t.Fatalf("got %s, %v", data, err)
	}
	s, v, err := h.ToConnectHeader("t", "k", data)
	if err != nil || s != nil || v != "v" {
		t.Fatalf("got %v %v %v", s, v, err)
	}
}

func TestConcurrentUse(t *testing.T) {
	s, st, _ := benchRecord()
	c := configured(t, cfgDefault)
	want, err := c.FromConnectData("t", s, st)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				got, err := c.FromConnectData("t", s, st)
				if err != nil || string(got) != string(want) {
					t.Errorf("concurrent encode: %v", err)
					return
				}
				if _, _, err := c.ToConnectData("t", got); err != nil {
					t.Errorf("concurrent decode: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
}
