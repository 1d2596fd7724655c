package configstore

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/kafkalog"
	"github.com/kconnect/kconnect/runtime/kafkalog/kafkalogtest"
)

func open(t *testing.T, brokers string, topic kafkalog.Topic, onUpdate func(Update)) *TopicStore {
	return kafkalogtest.Open(t, func(ctx context.Context) (*TopicStore, error) {
		return OpenTopic(ctx, Options{Client: kafkalogtest.Client(brokers), Topic: topic, OnUpdate: onUpdate})
	})
}

// updates collects what a store reports, for a test to wait on.
type updates struct {
	mu  sync.Mutex
	got []Update
}

func (u *updates) add(x Update) {
	u.mu.Lock()
	u.got = append(u.got, x)
	u.mu.Unlock()
}

func (u *updates) waitFor(t *testing.T, kind UpdateKind) Update {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		u.mu.Lock()
		for i, x := range u.got {
			if x.Kind == kind {
				u.got = append(u.got[:i], u.got[i+1:]...)
				u.mu.Unlock()
				return x
			}
		}
		u.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no update of kind %d reported", kind)
	return Update{}
}

func TestTopicStoreRoundTripBetweenWorkers(t *testing.T) {
	brokers := testenv.Kafka(t)
	topic := kafkalogtest.Topic(t, kafkalog.ConfigTopic)
	leader := open(t, brokers, topic, nil)
	var seen updates
	follower := open(t, brokers, topic, seen.add)
	ctx := context.Background()

	cfg := map[string]string{"connector.class": "FileStreamSource", "tasks.max": "2", "file": "/tmp/in"}
	if err := leader.PutConnectorConfig(ctx, "files", cfg, herder.TargetPaused); err != nil {
		t.Fatal(err)
	}
	if u := seen.waitFor(t, ConnectorConfigUpdated); u.Connector != "files" {
		t.Fatalf("update = %+v", u)
	}
	if err := leader.PutTaskConfigs(ctx, "files", []map[string]string{{"task": "0"}, {"task": "1"}}); err != nil {
		t.Fatal(err)
	}
	if u := seen.waitFor(t, TaskConfigsUpdated); len(u.Tasks) != 2 {
		t.Fatalf("update = %+v", u)
	}
	if err := follower.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	s := follower.Snapshot()
	if s.Connectors["files"]["file"] != "/tmp/in" || s.TargetStates["files"] != herder.TargetPaused {
		t.Fatalf("follower snapshot = %+v", s)
	}
	if tasks := s.Tasks("files"); len(tasks) != 2 || tasks[1]["task"] != "1" {
		t.Fatalf("follower tasks = %v", tasks)
	}
	if !follower.Contains("files") || follower.Contains("other") {
		t.Fatal("Contains disagrees with the snapshot")
	}

	if err := follower.PutTargetState(ctx, "files", herder.TargetStopped); err != nil {
		t.Fatal(err)
	}
	seen.waitFor(t, TargetStateChanged)
	if err := follower.PutRestartRequest(ctx, RestartRequest{Connector: "files", OnlyFailed: true, IncludeTasks: true}); err != nil {
		t.Fatal(err)
	}
	if u := seen.waitFor(t, RestartRequested); u.Restart != (RestartRequest{Connector: "files", OnlyFailed: true, IncludeTasks: true}) {
		t.Fatalf("restart = %+v", u.Restart)
	}
	created := time.UnixMilli(1700000000123)
	if err := leader.PutSessionKey(ctx, SessionKey{Key: []byte{0, 1, 2, 255}, Algorithm: "HmacSHA256", Created: created}); err != nil {
		t.Fatal(err)
	}
	seen.waitFor(t, SessionKeyUpdated)

	// A worker started later reads the same state from the topic.
	fresh := open(t, brokers, topic, nil).Snapshot()
	if fresh.TargetStates["files"] != herder.TargetStopped || len(fresh.Tasks("files")) != 2 ||
		fresh.SessionKey == nil || !fresh.SessionKey.Created.Equal(created) || string(fresh.SessionKey.Key) != "\x00\x01\x02\xff" {
		t.Fatalf("reloaded snapshot = %+v", fresh)
	}

	if err := leader.RemoveConnectorConfig(ctx, "files"); err != nil {
		t.Fatal(err)
	}
	seen.waitFor(t, ConnectorRemoved)
	if gone := open(t, brokers, topic, nil).Snapshot(); len(gone.Connectors) != 0 || len(gone.TaskConfigs) != 0 {
		t.Fatalf("after removal: %+v", gone)
	}

	// Every record is Kafka Connect's: its key, its JSON (schemas disabled), tombstones.
	want := []string{
		`target-state-files {"state":"PAUSED","state.v2":"PAUSED"}`,
		`connector-files {"properties":{"connector.class":"FileStreamSource","file":"/tmp/in","tasks.max":"2"}}`,
		`task-files-0 {"properties":{"task":"0"}}`,
		`task-files-1 {"properties":{"task":"1"}}`,
		`commit-files {"tasks":2}`,
		`target-state-files {"state":"PAUSED","state.v2":"STOPPED"}`,
		`restart-connector-files {"include-tasks":true,"only-failed":true}`,
		`session-key {"key":"AAEC/w==","algorithm":"HmacSHA256","creation-timestamp":1700000000123}`,
		`connector-files <null>`,
		`target-state-files <null>`,
	}
	var got []string
	for _, r := range kafkalogtest.Records(t, brokers, topic.Name) {
		v := string(r.Value)
		if r.Value == nil {
			v = "<null>"
		}
		got = append(got, string(r.Key)+" "+v)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("config topic records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestTopicStoreRefusesConfigTopicWithSeveralPartitions(t *testing.T) {
	brokers := testenv.Kafka(t)
	topic := kafkalogtest.Topic(t, kafkalog.ConfigTopic)
	name := topic.Name
	kafkalogtest.CreateTopic(t, brokers, name, 2, "compact")
	_, err := OpenTopic(context.Background(), Options{Client: kafkalogtest.Client(brokers), Topic: topic})
	if err == nil {
		t.Fatal("a config topic with 2 partitions must be refused")
	}
	for _, want := range []string{name, "config.storage.topic", "single partition", "found 2 partitions"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestTopicStoreRefusesConfigTopicThatIsNotCompacted(t *testing.T) {
	brokers := testenv.Kafka(t)
	topic := kafkalogtest.Topic(t, kafkalog.ConfigTopic)
	name := topic.Name
	kafkalogtest.CreateTopic(t, brokers, name, 1, "compact,delete")
	_, err := OpenTopic(context.Background(), Options{Client: kafkalogtest.Client(brokers), Topic: topic})
	if err == nil {
		t.Fatal("a config topic with cleanup.policy=compact,delete must be refused")
	}
	for _, want := range []string{name, "config.storage.topic", "cleanup.policy=compact", "cleanup.policy=compact,delete"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestTopicStoreCreatesOnePartitionCompactedTopic(t *testing.T) {
	brokers := testenv.Kafka(t)
	topic := kafkalogtest.Topic(t, kafkalog.ConfigTopic)
	topic.Partitions = 7 // ignored: the config topic always has one partition
	open(t, brokers, topic, nil)
	if n := kafkalogtest.Partitions(t, brokers, topic.Name); n != 1 {
		t.Fatalf("config topic created with %d partitions", n)
	}
}
