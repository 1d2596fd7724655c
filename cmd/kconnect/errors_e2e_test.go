package main_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
)

func produce(t *testing.T, bootstrap, topic string, values ...string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, v := range values {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

type status struct {
	Tasks []struct {
		State string `json:"state"`
		Trace string `json:"trace"`
	} `json:"tasks"`
}

func taskStatus(t *testing.T, w *workertest.Worker, name string) status {
	t.Helper()
	code, body := w.Do("GET", "/connectors/"+name+"/status", nil)
	var st status
	if code != 200 || json.Unmarshal(body, &st) != nil {
		t.Fatalf("status of %s: %d %s", name, code, body)
	}
	return st
}

// A record the value converter cannot read fails the task, with the record's position and the
// converter's reason in the task's trace, when errors.tolerance is none (the default).
func TestPoisonRecordFailsTaskWithTrace(t *testing.T) {
	dir := t.TempDir()
	topic := testenv.Topic(t, "poison")
	w := workertest.Start(t, dir, workertest.WorkerProps(t, dir))
	produce(t, w.Bootstrap, topic, `"good 1"`, `{not json`, `"good 2"`)
	sink := map[string]string{"connector.class": "FileStreamSink", "file": filepath.Join(dir, "out.txt"), "topics": topic}
	if code, body := w.Do("PUT", "/connectors/strict/config", sink); code != 201 {
		t.Fatalf("create sink: %d %s", code, body)
	}
	var st status
	w.WaitFor(30*time.Second, "the sink task to fail", func() bool {
		st = taskStatus(t, w, "strict")
		return len(st.Tasks) == 1 && st.Tasks[0].State == "FAILED"
	})
	for _, want := range []string{"VALUE_CONVERTER", "topic " + topic, "offset 1"} {
		if !strings.Contains(st.Tasks[0].Trace, want) {
			t.Errorf("trace lacks %q:\n%s", want, st.Tasks[0].Trace)
		}
	}
}

// With errors.tolerance=all and a dead-letter queue, the bad record goes to the DLQ unchanged
// with the __connect.errors.* headers, and the good records reach the sink.
func TestPoisonRecordGoesToDeadLetterQueue(t *testing.T) {
	dir := t.TempDir()
	topic, dlq := testenv.Topic(t, "poison"), testenv.Topic(t, "dlq")
	w := workertest.Start(t, dir, workertest.WorkerProps(t, dir))
	produce(t, w.Bootstrap, topic, `"good 1"`, `{not json`, `"good 2"`)
	out := filepath.Join(dir, "out.txt")
	sink := map[string]string{
		"connector.class": "FileStreamSink", "file": out, "topics": topic,
		"errors.tolerance": "all", "errors.deadletterqueue.topic.name": dlq,
		"errors.deadletterqueue.topic.replication.factor": "1",
		"errors.deadletterqueue.context.headers.enable":   "true",
	}
	if code, body := w.Do("PUT", "/connectors/tolerant/config", sink); code != 201 {
		t.Fatalf("create sink: %d %s", code, body)
	}
	w.WaitFor(30*time.Second, "both good records in the sink file", func() bool {
		return len(readLines(t, out)) == 2
	})
	if got := readLines(t, out); got[0] != "good 1" || got[1] != "good 2" {
		t.Fatalf("sink wrote %q", got)
	}
	if st := taskStatus(t, w, "tolerant"); st.Tasks[0].State != "RUNNING" {
		t.Fatalf("task state %s, want RUNNING", st.Tasks[0].State)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(w.Bootstrap), kgo.ConsumeTopics(dlq), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) == 0 && ctx.Err() == nil {
		recs = append(recs, cl.PollFetches(ctx).Records()...)
	}
	if len(recs) != 1 || string(recs[0].Value) != `{not json` {
		t.Fatalf("dead-letter queue holds %d records, want exactly the bad one", len(recs))
	}
	headers := map[string]string{}
	for _, h := range recs[0].Headers {
		headers[h.Key] = string(h.Value)
	}
	for k, want := range map[string]string{
		"__connect.errors.topic": topic, "__connect.errors.partition": "0", "__connect.errors.offset": "1",
		"__connect.errors.connector.name": "tolerant", "__connect.errors.task.id": "0", "__connect.errors.stage": "VALUE_CONVERTER",
	} {
		if headers[k] != want {
			t.Errorf("header %s = %q, want %q", k, headers[k], want)
		}
	}
	if headers["__connect.errors.exception.message"] == "" {
		t.Error("missing __connect.errors.exception.message")
	}
}
