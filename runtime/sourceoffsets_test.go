package runtime_test

import (
	"context"
	"log/slog"
	"maps"
	"strconv"
	"strings"
	"testing"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/runtime"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/offsets"
)

// A standalone worker with the offsets file cannot honour offsets.storage.topic (upstream's
// standalone mode ignores it): validation rejects the key by name, and a task whose config
// carries it anyway does not start. An empty value is rejected as upstream's NonEmptyString
// rejects it, whatever the worker.
func TestOffsetsStorageTopicRejectedWithTheOffsetsFile(t *testing.T) {
	reg, file := registryAndStore(t)
	w, err := runtime.NewWorker("w", map[string]string{"bootstrap.servers": "127.0.0.1:1",
		"key.converter": "org.apache.kafka.connect.storage.StringConverter", "value.converter": "org.apache.kafka.connect.storage.StringConverter"}, reg, file, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	errorsOf := func(props map[string]string) map[string][]string {
		t.Helper()
		conn := map[string]string{"name": "c", "connector.class": "FileStreamSource", "topic": "t", "file": "/tmp/x"}
		maps.Copy(conn, props)
		infos, err := w.Validate(context.Background(), "FileStreamSource", conn)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]string{}
		for _, c := range infos.Configs {
			if len(c.Value.Errors) > 0 {
				out[c.Value.Name] = c.Value.Errors
			}
		}
		return out
	}
	if errs := errorsOf(nil); len(errs) > 0 {
		t.Fatalf("errors without offsets.storage.topic: %v", errs)
	}
	errs := errorsOf(map[string]string{runtime.OffsetsStorageTopic: "mine"})
	if len(errs) != 1 || len(errs[runtime.OffsetsStorageTopic]) != 1 {
		t.Fatalf("errors = %v, want one on %s", errs, runtime.OffsetsStorageTopic)
	}
	for _, want := range []string{"Invalid value mine for configuration offsets.storage.topic", "offset.storage.file.filename", "exactly.once.source.support=enabled"} {
		if msg := errs[runtime.OffsetsStorageTopic][0]; !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	errs = errorsOf(map[string]string{runtime.OffsetsStorageTopic: " "})
	if got := errs[runtime.OffsetsStorageTopic]; len(errs) != 1 || len(got) != 1 || got[0] != "Invalid value  for configuration offsets.storage.topic: String must be non-empty" {
		t.Fatalf("errors of a blank topic = %v, want upstream's non-empty string error alone", errs)
	}

	conn := map[string]string{"name": "c", "connector.class": "FileStreamSource", "topic": "t", "file": "/tmp/x", runtime.OffsetsStorageTopic: "mine"}
	if task, err := w.StartSourceTask(herder.TaskID{Connector: "c"}, conn, conn, nil); err == nil || !strings.Contains(err.Error(), runtime.OffsetsStorageTopic) {
		if task != nil {
			ctx, cancel := stopContext(w)
			defer cancel()
			_ = task.Stop(ctx)
		}
		t.Fatalf("start with %s on a file-store worker = %v, want an error naming the key", runtime.OffsetsStorageTopic, err)
	}
}

// A standalone worker with exactly-once on keeps its offsets in a topic, so it honours
// offsets.storage.topic: the task resumes from the offset the worker's topic holds (the
// connector had no topic of its own before), commits its offsets to its own topic in its
// transactions, and the worker's topic gets upstream's copy; what a read_committed reader sees is
// every number from the resumed one up to the committed offset, once.
func TestExactlyOnceStandaloneHonoursOffsetsStorageTopic(t *testing.T) {
	bootstrap := testenv.Kafka(t)
	topic := testenv.Topic(t, "eos-own-data")
	props := eosProps(bootstrap, "eos-"+topic, testenv.Topic(t, "eos-worker-offsets"))
	ownProps := maps.Clone(props)
	ownProps["offset.storage.topic"] = testenv.Topic(t, "eos-own-offsets")
	const resumed = 7
	if err := openEOSStore(t, props).Put(context.Background(), "seq", []connect.SourceOffset{{Partition: seqPartition, Offset: map[string]any{"next": int64(resumed)}}}); err != nil {
		t.Fatal(err)
	}
	w, _ := newEOSWorker(t, props, connect.Plugin{Class: "SeqSource", Type: connect.PluginSource, New: func() any { return &seqSource{n: &instances{}} }})
	conn := map[string]string{"name": "seq", "connector.class": "SeqSource", "topic": topic, runtime.OffsetsStorageTopic: ownProps["offset.storage.topic"]}
	infos, err := w.Validate(context.Background(), "SeqSource", conn)
	if err != nil || infos.ErrorCount != 0 {
		t.Fatalf("validate = %d errors, %v; want none", infos.ErrorCount, err)
	}
	task, err := w.StartSourceTask(herder.TaskID{Connector: "seq"}, conn, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitCommitted(t, ownProps, "seq", 2000)
	ctx, cancel := stopContext(w)
	defer cancel()
	if err := task.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	next := committedNext(t, ownProps, "seq")
	if copied := committedNext(t, props, "seq"); copied != next {
		t.Errorf("worker's offsets topic holds next=%d, want the copy of the connector's topic's %d", copied, next)
	}
	values := readTopic(t, bootstrap, topic, true)
	if int64(len(values)) != next-resumed {
		t.Errorf("read %d committed records, want %d: from %d up to the committed %d", len(values), next-resumed, resumed, next)
	}
	for i, v := range values {
		if v != strconv.Itoa(resumed+i) {
			t.Fatalf("committed record %d is %q, want %d: a duplicate or a gap", i, v, resumed+i)
		}
	}
}

// The store a source connector gets is upstream's pick: the worker's alone without
// offsets.storage.topic or when it names the worker's topic on the worker's cluster (bootstrap
// servers compared as a set), else a store of the named topic over the worker's.
func TestSourceOffsetsPicksTheStoreAsUpstream(t *testing.T) {
	bootstrap := testenv.Kafka(t)
	props := eosProps(bootstrap, "pick", testenv.Topic(t, "pick-offsets"))
	w, _ := newEOSWorker(t, props)
	other := testenv.Topic(t, "pick-own")
	for _, tc := range []struct {
		conn map[string]string
		own  string // "" for the worker's store alone
	}{
		{map[string]string{}, ""},
		{map[string]string{runtime.OffsetsStorageTopic: props["offset.storage.topic"]}, ""},
		{map[string]string{runtime.OffsetsStorageTopic: props["offset.storage.topic"], "producer.override.bootstrap.servers": " " + bootstrap + "," + bootstrap}, ""},
		{map[string]string{runtime.OffsetsStorageTopic: other}, other},
	} {
		l, err := w.SourceOffsets(tc.conn, nil)
		if err != nil {
			t.Fatalf("%v: %v", tc.conn, err)
		}
		switch own, _ := l.Connector.(*offsets.TopicStore); {
		case tc.own == "" && l.Connector != nil:
			t.Errorf("%v: a store of its own (%T), want the worker's alone", tc.conn, l.Connector)
		case tc.own != "" && (own == nil || own.Topic() != tc.own):
			t.Errorf("%v: connector store %v, want one of topic %s", tc.conn, l.Connector, tc.own)
		}
		_ = l.Close()
	}
}
