package main_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
)

// A sink with a transform chain: a tombstone is filtered out by a predicate, values are cast to
// int32, and the value the cast rejects goes to the dead-letter queue with the TRANSFORMATION
// stage and the transform's class in its context headers while the others reach the file.
func TestTransformErrorGoesToDeadLetterQueue(t *testing.T) {
	dir := t.TempDir()
	topic, dlq := testenv.Topic(t, "smt"), testenv.Topic(t, "smt-dlq")
	w := workertest.Start(t, dir, workertest.WorkerProps(t, dir))
	cl, err := kgo.NewClient(kgo.SeedBrokers(w.Bootstrap), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, v := range [][]byte{[]byte(`"12"`), nil, []byte(`"twelve"`), []byte(`7`)} {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: v}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cl.Close()
	out := filepath.Join(dir, "out.txt")
	sink := map[string]string{
		"connector.class": "FileStreamSink", "file": out, "topics": topic,
		"transforms":                                      "dropTombstones,toInt",
		"transforms.dropTombstones.type":                  "org.apache.kafka.connect.transforms.Filter",
		"transforms.dropTombstones.predicate":             "isTombstone",
		"transforms.toInt.type":                           "org.apache.kafka.connect.transforms.Cast$Value",
		"transforms.toInt.spec":                           "int32",
		"predicates":                                      "isTombstone",
		"predicates.isTombstone.type":                     "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
		"errors.tolerance":                                "all",
		"errors.deadletterqueue.topic.name":               dlq,
		"errors.deadletterqueue.topic.replication.factor": "1",
		"errors.deadletterqueue.context.headers.enable":   "true",
	}
	if code, body := w.Do("PUT", "/connectors/smt/config", sink); code != 201 {
		t.Fatalf("create sink: %d %s", code, body)
	}
	w.WaitFor(30*time.Second, "the two castable values in the sink file", func() bool {
		return len(readLines(t, out)) == 2
	})
	if got := readLines(t, out); got[0] != "12" || got[1] != "7" {
		t.Fatalf("sink wrote %q, want the values cast to int32 and no tombstone", got)
	}

	dl, err := kgo.NewClient(kgo.SeedBrokers(w.Bootstrap), kgo.ConsumeTopics(dlq), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer dl.Close()
	var recs []*kgo.Record
	for len(recs) == 0 && ctx.Err() == nil {
		recs = append(recs, dl.PollFetches(ctx).Records()...)
	}
	if len(recs) != 1 || string(recs[0].Value) != `"twelve"` {
		t.Fatalf("dead-letter queue holds %d records, want exactly the uncastable one", len(recs))
	}
	headers := map[string]string{}
	for _, h := range recs[0].Headers {
		headers[h.Key] = string(h.Value)
	}
	for k, want := range map[string]string{
		"__connect.errors.stage":      "TRANSFORMATION",
		"__connect.errors.offset":     "2",
		"__connect.errors.class.name": "org.apache.kafka.connect.transforms.Cast$Value",
	} {
		if headers[k] != want {
			t.Errorf("header %s = %q, want %q", k, headers[k], want)
		}
	}
	if msg := headers["__connect.errors.exception.message"]; !strings.Contains(msg, "Value (twelve) was out of range for requested data type") {
		t.Errorf("exception message %q does not carry the transform's reason", msg)
	}
}

// Transform and predicate configuration is validated like the connector's own: the validate
// endpoint reports each problem under the full key, and creating the connector fails with 400.
func TestTransformConfigValidation(t *testing.T) {
	dir := t.TempDir()
	w := workertest.Start(t, dir, workertest.WorkerProps(t, dir))
	r := rest{t: t, w: w}
	base := func(extra map[string]string) map[string]string {
		cfg := map[string]string{"name": "x", "connector.class": "FileStreamSink", "file": filepath.Join(dir, "out.txt"), "topics": "t"}
		for k, v := range extra {
			cfg[k] = v
		}
		return cfg
	}
	for _, c := range []struct {
		name  string
		extra map[string]string
		key   string
		msg   string
	}{
		{"unknown class", map[string]string{"transforms": "x", "transforms.x.type": "org.example.NoSuchTransform"},
			"transforms.x.type", "Failed to find any class that implements Transformation"},
		{"missing type", map[string]string{"transforms": "x"},
			"transforms.x.type", `Missing required configuration "transforms.x.type"`},
		{"missing key", map[string]string{"transforms": "route", "transforms.route.type": "RegexRouter", "transforms.route.regex": "(.*)"},
			"transforms.route.replacement", `Missing required configuration "transforms.route.replacement"`},
		{"bad regex", map[string]string{"transforms": "route", "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
			"transforms.route.regex": "(unclosed", "transforms.route.replacement": "$1"},
			"transforms.route.regex", "Invalid value (unclosed for configuration transforms.route.regex: Invalid regex"},
		{"bad group reference", map[string]string{"transforms": "route", "transforms.route.type": "RegexRouter",
			"transforms.route.regex": "(.*)", "transforms.route.replacement": "$2"},
			"transforms.route.replacement", "No group 2"},
		{"keys that disagree", map[string]string{"transforms": "h", "transforms.h.type": "HeaderFrom$Value",
			"transforms.h.fields": "a,b", "transforms.h.headers": "a", "transforms.h.operation": "copy"},
			"transforms.h.headers", "'fields' config must have the same number of elements as 'headers' config."},
		{"undeclared predicate", map[string]string{"transforms": "f", "transforms.f.type": "Filter", "transforms.f.predicate": "p"},
			"transforms.f.predicate", "Predicate alias 'p' is not declared in 'predicates'"},
		{"negate without predicate", map[string]string{"transforms": "f", "transforms.f.type": "Filter", "transforms.f.negate": "true"},
			"transforms.f.negate", "Config 'transforms.f.negate' was provided but there is no config 'transforms.f.predicate'"},
		{"bad predicate", map[string]string{"predicates": "p", "predicates.p.type": "TopicNameMatches"},
			"predicates.p.pattern", `Missing required configuration "predicates.p.pattern"`},
		{"Debezium mode", map[string]string{"transforms": "unwrap", "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
			"transforms.unwrap.delete.tombstone.handling.mode": "bogus"},
			"transforms.unwrap.delete.tombstone.handling.mode", "String must be one of"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := rest{t: t, w: w}
			var infos struct {
				ErrorCount int `json:"error_count"`
				Configs    []struct {
					Value struct {
						Name   string   `json:"name"`
						Errors []string `json:"errors"`
					} `json:"value"`
				} `json:"configs"`
			}
			r.get("PUT", "/connector-plugins/FileStreamSink/config/validate", base(c.extra), 200, &infos)
			var errs []string
			for _, ci := range infos.Configs {
				if ci.Value.Name == c.key {
					errs = ci.Value.Errors
				}
			}
			if len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), c.msg) {
				body, _ := json.Marshal(infos)
				t.Fatalf("key %s has errors %q, want one containing %q; all: %s", c.key, errs, c.msg, body)
			}
			if infos.ErrorCount != 1 {
				t.Errorf("error_count %d, want 1", infos.ErrorCount)
			}
			r.fail("PUT", "/connectors/x/config", base(c.extra), 400, c.msg)
		})
	}
	// A valid chain passes validation and creates the connector.
	ok := base(map[string]string{"transforms": "route", "transforms.route.type": "RegexRouter",
		"transforms.route.regex": "(.*)", "transforms.route.replacement": "$1-copy"})
	r.call("PUT", "/connectors/x/config", ok, 201)
}

// On a source, a record a transform rejects fails the task under errors.tolerance=none (the
// default) with the stage in the trace, and is skipped under errors.tolerance=all.
func TestSourceTransformErrorsFollowTolerance(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "in.txt")
	if err := os.WriteFile(input, []byte("1\nx\n3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	strict, tolerant := testenv.Topic(t, "strict"), testenv.Topic(t, "tolerant")
	w := workertest.Start(t, dir, workertest.WorkerProps(t, dir))
	source := func(topic string, extra ...string) map[string]string {
		cfg := map[string]string{"connector.class": "FileStreamSource", "file": input, "topic": topic,
			"transforms": "toInt", "transforms.toInt.type": "Cast$Value", "transforms.toInt.spec": "int32"}
		for i := 0; i+1 < len(extra); i += 2 {
			cfg[extra[i]] = extra[i+1]
		}
		return cfg
	}
	if code, body := w.Do("PUT", "/connectors/strict/config", source(strict)); code != 201 {
		t.Fatalf("create strict source: %d %s", code, body)
	}
	if code, body := w.Do("PUT", "/connectors/tolerant/config", source(tolerant, "errors.tolerance", "all")); code != 201 {
		t.Fatalf("create tolerant source: %d %s", code, body)
	}
	var st status
	w.WaitFor(30*time.Second, "the strict source task to fail", func() bool {
		st = taskStatus(t, w, "strict")
		return len(st.Tasks) == 1 && st.Tasks[0].State == "FAILED"
	})
	for _, want := range []string{"TRANSFORMATION", "transform toInt", "Value (x) was out of range"} {
		if !strings.Contains(st.Tasks[0].Trace, want) {
			t.Errorf("trace lacks %q:\n%s", want, st.Tasks[0].Trace)
		}
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(w.Bootstrap), kgo.ConsumeTopics(tolerant), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var values []string
	for len(values) < 2 && ctx.Err() == nil {
		for _, r := range cl.PollFetches(ctx).Records() {
			values = append(values, string(r.Value))
		}
	}
	if strings.Join(values, ",") != "1,3" {
		t.Errorf("tolerant source wrote %q, want the castable lines 1 and 3 only", values)
	}
	if st := taskStatus(t, w, "tolerant"); st.Tasks[0].State != "RUNNING" {
		t.Errorf("tolerant task state %s, want RUNNING", st.Tasks[0].State)
	}
}
