package transforms_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters/jsonconverter"
	"github.com/kconnect/kconnect/transforms"
	"github.com/kconnect/kconnect/transforms/debezium"
	"github.com/kconnect/kconnect/transforms/predicates"
)

// The golden test runs every case of testdata/golden/cases.json through kconnect's transform or
// predicate and compares the result with what Kafka's (or Debezium's) own class produced for the
// same input (testdata/golden/golden.json, written by Gen.java). Records are compared as JSON
// envelopes written by kconnect's JsonConverter, which its own golden test pins to Kafka's byte for
// byte; numbers compare by value and object members regardless of order (schemaless maps are
// unordered on both sides).

// goldenCases is cases.json: records stored once by name, and the cases that use them.
type goldenCases struct {
	Records map[string]goldenRecord `json:"records"`
	Cases   []goldenCase            `json:"cases"`
}

type goldenCase struct {
	Name    string            `json:"name"`
	Class   string            `json:"class"`
	Config  map[string]string `json:"config"`
	Records []string          `json:"records"`
}

type goldenRecord struct {
	Topic     string          `json:"topic"`
	Partition *int32          `json:"partition"`
	Offset    *int64          `json:"offset"`
	Timestamp *int64          `json:"timestamp"`
	Key       json.RawMessage `json:"key"`
	Value     json.RawMessage `json:"value"`
	Headers   []struct {
		Key   string          `json:"key"`
		Value json.RawMessage `json:"value"`
	} `json:"headers"`
}

type goldenError struct {
	Class   string `json:"class"`
	Message string `json:"message"`
}

type goldenResult struct {
	ConfigureError *goldenError      `json:"configure_error"`
	Outputs        []json.RawMessage `json:"outputs"`
}

// divergences are the cases where kconnect deliberately differs from the golden output, and why;
// TestDivergences checks what kconnect does instead.
var divergences = map[string]string{
	// Kafka 4.0 removed the deprecated names; kconnect still honours them so older configs run unchanged.
	"replacefield/blacklist": "deprecated blacklist is honoured",
	"replacefield/whitelist": "deprecated whitelist is honoured",
	// Kafka 4's SetSchemaMetadata asks every schema for its fields, which fails for all but structs.
	"setschemametadata/version": "metadata is set on non-struct schemas too",
}

// messageDivergences are cases where both sides fail but word the error differently, and why.
var messageDivergences = map[string]string{
	"unwrap/bad-mode":                                   "Debezium logs the problem and throws a generic message; kconnect names key and value",
	"router/missing-replacement":                        "Debezium logs the problem and throws a generic message; kconnect names the key",
	"router/missing-regex":                              "Debezium logs the problem and throws a generic message; kconnect names the key",
	"partitionrouting/missing-num":                      "Debezium words a missing required key its own way; kconnect as Kafka does",
	"partitionrouting/after-of-delete":                  "kconnect adds which field was null to Debezium's message",
	"cast/too-many-colons":                              "upstream names the renames key; kconnect names spec",
	"insertfield/static-without-value":                  "upstream prints an object hash; kconnect names the field",
	"regexrouter/bad-regex":                             "Go's and Java's regex engines word syntax errors differently",
	"predicate/topicnamematches-bad":                    "Go's and Java's regex engines word syntax errors differently",
	"timestamprouter/default":                           "upstream prints the whole record; kconnect its topic, partition and offset",
	"maskfield/struct":                                  "kconnect names the field whose decimal scale is wrong",
	"timestampconverter/schemaless-string-to-timestamp": "the JSON converters word the unsupported schemaless Date differently",
}

func goldenPlugins(t testing.TB) *connect.Registry {
	t.Helper()
	reg, err := connect.NewRegistry(slices.Concat(transforms.Plugins(), predicates.Plugins(), debezium.Plugins())...)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func TestGolden(t *testing.T) {
	dir := filepath.Join("testdata", "golden")
	var cases goldenCases
	readJSON(t, filepath.Join(dir, "cases.json"), &cases)
	golden := map[string]json.RawMessage{}
	readJSON(t, filepath.Join(dir, "golden.json"), &golden)
	// Debezium 3 ignores the deprecated delete handling keys; kconnect keeps Debezium 2's meaning
	// for them, so those cases compare with Debezium 2.7's output.
	legacy := map[string]json.RawMessage{}
	readJSON(t, filepath.Join(dir, "golden-debezium2.json"), &legacy)
	for name, out := range legacy {
		if !strings.HasPrefix(name, "_") {
			golden[name] = out
		}
	}
	reg := goldenPlugins(t)
	conv := jsonconverter.New()
	if err := conv.Configure(map[string]string{"schemas.enable": "true"}, false); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range cases.Cases {
		seen[c.Name] = true
		if _, ok := divergences[c.Name]; ok {
			continue // TestDivergences checks kconnect's behaviour for these
		}
		t.Run(c.Name, func(t *testing.T) {
			raw, ok := golden[c.Name]
			if !ok {
				t.Fatal("no golden output: regenerate golden.json with Gen.java")
			}
			var want goldenResult
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			runGoldenCase(t, reg, conv, cases.Records, c, want)
		})
	}
	for name := range golden {
		if !seen[name] && !strings.HasPrefix(name, "_") {
			t.Errorf("golden.json has case %s that cases.json lacks", name)
		}
	}
}

func runGoldenCase(t *testing.T, reg *connect.Registry, conv *jsonconverter.Converter, records map[string]goldenRecord, c goldenCase, want goldenResult) {
	p, err := reg.Lookup(c.Class, connect.PluginTransformation, connect.PluginPredicate)
	if err != nil {
		t.Fatal(err)
	}
	plugin := p.New()
	props := c.Config
	if props == nil {
		props = map[string]string{}
	}
	switch x := plugin.(type) {
	case connect.Transformation:
		err = x.Configure(props)
	case connect.Predicate:
		err = x.Configure(props)
	}
	if want.ConfigureError != nil {
		if err == nil {
			t.Fatalf("configured without error; upstream failed with %s: %s", want.ConfigureError.Class, want.ConfigureError.Message)
		}
		checkMessage(t, c.Name, err, want.ConfigureError)
		return
	}
	if err != nil {
		t.Fatalf("configure: %v", err)
	}
	if len(want.Outputs) != len(c.Records) {
		t.Fatalf("golden has %d outputs for %d records", len(want.Outputs), len(c.Records))
	}
	for i, name := range c.Records {
		gr, ok := records[name]
		if !ok {
			t.Fatalf("record %s is not in cases.json", name)
		}
		rec := toRecord(t, conv, gr)
		before := fmt.Sprintf("%+v", *rec)
		var got any
		switch x := plugin.(type) {
		case connect.Predicate:
			got = x.Test(rec)
		case connect.Transformation:
			out, err := x.Apply(rec)
			if err == nil && out != nil {
				// Like Gen, a record the converter cannot write counts as a failure of the case.
				got, err = fromRecord(conv, out)
			}
			switch {
			case err != nil:
				var wantErr struct{ Error *goldenError }
				if json.Unmarshal(want.Outputs[i], &wantErr) != nil || wantErr.Error == nil {
					t.Fatalf("record %d: %v; upstream succeeded with %s", i, err, want.Outputs[i])
				}
				checkMessage(t, c.Name, err, wantErr.Error)
				continue
			case out == nil:
				got = map[string]any{"dropped": true}
			}
		}
		if after := fmt.Sprintf("%+v", *rec); after != before {
			t.Errorf("record %d: the transform changed its input record", i)
		}
		gotJSON, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		if !jsonEqual(t, gotJSON, want.Outputs[i]) {
			t.Errorf("record %d:\n got  %s\n want %s", i, gotJSON, compact(want.Outputs[i]))
		}
	}
}

func checkMessage(t *testing.T, name string, err error, want *goldenError) {
	t.Helper()
	if _, ok := messageDivergences[name]; ok {
		return
	}
	msg := err.Error()
	var ce *connect.ConfigError
	if errors.As(err, &ce) && len(ce.Errs) == 1 {
		msg = ce.Errs[0].Error()
	}
	if msg != want.Message {
		t.Errorf("error %q, upstream %q (%s)", msg, want.Message, want.Class)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func readEnvelope(t *testing.T, conv *jsonconverter.Converter, topic string, raw json.RawMessage) (*connect.Schema, any) {
	t.Helper()
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	s, v, err := conv.ToConnectData(topic, raw)
	if err != nil {
		t.Fatalf("read %s: %v", raw, err)
	}
	return s, v
}

func toRecord(t *testing.T, conv *jsonconverter.Converter, gr goldenRecord) *connect.Record {
	rec := &connect.Record{Topic: gr.Topic, Partition: connect.NoPartition, Offset: -1}
	if gr.Partition != nil {
		rec.Partition = *gr.Partition
	} else if gr.Offset != nil {
		rec.Partition = 0
	}
	if gr.Offset != nil {
		rec.Offset = *gr.Offset
	}
	if gr.Timestamp != nil {
		rec.Timestamp = time.UnixMilli(*gr.Timestamp)
	}
	rec.KeySchema, rec.Key = readEnvelope(t, conv, gr.Topic, gr.Key)
	rec.ValueSchema, rec.Value = readEnvelope(t, conv, gr.Topic, gr.Value)
	for _, h := range gr.Headers {
		s, v := readEnvelope(t, conv, gr.Topic, h.Value)
		rec.Headers = append(rec.Headers, connect.Header{Key: h.Key, Schema: s, Value: v})
	}
	return rec
}

func envelope(conv *jsonconverter.Converter, topic string, s *connect.Schema, v any) (json.RawMessage, error) {
	b, err := conv.FromConnectData(topic, s, v)
	if b == nil && err == nil {
		return json.RawMessage("null"), nil
	}
	return b, err
}

func fromRecord(conv *jsonconverter.Converter, r *connect.Record) (map[string]any, error) {
	out := map[string]any{"topic": r.Topic, "partition": nil, "timestamp": nil}
	if r.Partition >= 0 {
		out["partition"] = r.Partition
	}
	if !r.Timestamp.IsZero() {
		out["timestamp"] = r.Timestamp.UnixMilli()
	}
	var err error
	if out["key"], err = envelope(conv, r.Topic, r.KeySchema, r.Key); err != nil {
		return nil, err
	}
	if out["value"], err = envelope(conv, r.Topic, r.ValueSchema, r.Value); err != nil {
		return nil, err
	}
	headers := []any{}
	for _, h := range r.Headers {
		v, err := envelope(conv, r.Topic, h.Schema, h.Value)
		if err != nil {
			return nil, err
		}
		headers = append(headers, map[string]any{"key": h.Key, "value": v})
	}
	out["headers"] = headers
	return out, nil
}

// jsonEqual compares two JSON documents by value: numbers numerically, objects by member.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	return reflect.DeepEqual(decodeNumbers(t, a), decodeNumbers(t, b))
}

func decodeNumbers(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return normalize(v)
}

func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		if err != nil || math.IsInf(f, 0) {
			return x.String()
		}
		return f
	case []any:
		for i := range x {
			x[i] = normalize(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = normalize(x[k])
		}
	}
	return v
}

func compact(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}
