package runtime_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/plugins"
	"github.com/kconnect/kconnect/runtime"
	"github.com/kconnect/kconnect/runtime/offsets"
)

// TestValidateReportsTopicCreationKeys checks that a source connector's topic.creation.* keys
// are declared and validated in the validate response, each error on its own key, and that a
// worker with topic.creation.enable=false ignores them as upstream does.
func TestValidateReportsTopicCreationKeys(t *testing.T) {
	reg, err := plugins.Registry()
	if err != nil {
		t.Fatal(err)
	}
	props := map[string]string{"name": "src", "connector.class": "FileStreamSource", "topic": "t", "file": "/dev/null",
		"topic.creation.groups":                     "compacted",
		"topic.creation.default.partitions":         "0",
		"topic.creation.compacted.include":          "a(",
		"topic.creation.compacted.cleanup.policy":   "compact",
		"topic.creation.default.replication.factor": "1"}
	for enabled, want := range map[string]map[string]bool{
		"true":  {"topic.creation.default.partitions": true, "topic.creation.compacted.include": true, "topic.creation.default.replication.factor": false, "topic.creation.compacted.partitions": false},
		"false": {},
	} {
		store, err := offsets.OpenFile(filepath.Join(t.TempDir(), "offsets"))
		if err != nil {
			t.Fatal(err)
		}
		w, err := runtime.NewWorker("w", map[string]string{"bootstrap.servers": "127.0.0.1:1", "topic.creation.enable": enabled,
			"key.converter": "org.apache.kafka.connect.storage.StringConverter", "value.converter": "org.apache.kafka.connect.storage.StringConverter"},
			reg, store, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		infos, err := w.Validate(context.Background(), "FileStreamSource", props)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, c := range infos.Configs {
			if strings.HasPrefix(c.Definition.Name, "topic.creation.") && c.Definition.Name != "topic.creation.groups" {
				got[c.Definition.Name] = len(c.Value.Errors) > 0
			}
		}
		for key, hasErr := range want {
			if e, ok := got[key]; !ok || e != hasErr {
				t.Errorf("topic.creation.enable=%s: %s declared %v with errors %v; want declared with errors %v", enabled, key, ok, e, hasErr)
			}
		}
		if len(want) == 0 && len(got) > 0 {
			t.Errorf("topic.creation.enable=false: topic creation keys %v declared; want none", got)
		}
		wantErrs := 0
		for _, hasErr := range want {
			if hasErr {
				wantErrs++
			}
		}
		if infos.ErrorCount != wantErrs {
			t.Errorf("topic.creation.enable=%s: error_count %d, want %d", enabled, infos.ErrorCount, wantErrs)
		}
	}
}

// TestSourceCreatesItsTopicBeforeTheFirstRecord runs a file source whose topic.creation settings
// ask for three partitions and a retention.ms: the topic must have them, which the broker's
// auto-creation (one partition, the broker's retention) would not give it.
func TestSourceCreatesItsTopicBeforeTheFirstRecord(t *testing.T) {
	bootstrap := testenv.Kafka(t)
	w := startWorker(t, bootstrap)
	topic := testenv.Topic(t, "created")
	in := filepath.Join(t.TempDir(), "in.txt")
	appendLines(t, in, "k1", "k2")
	w.create("src", map[string]string{"connector.class": "FileStreamSource", "file": in, "topic": topic,
		"topic.creation.default.replication.factor": "-1", "topic.creation.default.partitions": "3",
		"topic.creation.default.retention.ms": "123456789"})
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...), kgo.ConsumeTopics(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var values []string
	for len(values) < 2 && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { values = append(values, string(r.Value)) })
	}
	if len(values) != 2 {
		t.Fatalf("records %v, want k1 and k2", values)
	}
	details, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(details[topic].Partitions); n != 3 {
		t.Errorf("%s has %d partitions, want 3", topic, n)
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On(topic, nil)
	if err != nil {
		t.Fatal(err)
	}
	retention := ""
	for _, c := range rc.Configs {
		if c.Key == "retention.ms" && c.Value != nil {
			retention = *c.Value
		}
	}
	if retention != "123456789" {
		t.Errorf("%s retention.ms %q, want 123456789", topic, retention)
	}
}
