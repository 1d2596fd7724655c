package statusstore

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/kafkalog"
	"github.com/kconnect/kconnect/runtime/kafkalog/kafkalogtest"
)

func open(t *testing.T, brokers string, topic kafkalog.Topic) *TopicStore {
	return kafkalogtest.Open(t, func(ctx context.Context) (*TopicStore, error) {
		return OpenTopic(ctx, kafkalogtest.Client(brokers), topic, nil)
	})
}

// share makes everything w wrote visible to r.
func share(t *testing.T, w, r *TopicStore) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestTopicStoreRoundTripBetweenWorkers(t *testing.T) {
	brokers := testenv.Kafka(t)
	topic := kafkalogtest.Topic(t, kafkalog.StatusTopic)
	a, b := open(t, brokers, topic), open(t, brokers, topic)

	a.PutConnector("my-conn", Status{State: herder.Running, WorkerID: "10.0.0.1:8083", Generation: 3, Version: "4.3.1"})
	a.PutTask(herder.TaskID{Connector: "my-conn", Task: 0}, Status{State: herder.Running, WorkerID: "10.0.0.1:8083", Generation: 3})
	a.PutTask(herder.TaskID{Connector: "my-conn", Task: 1}, Status{State: herder.Failed, Trace: "boom\n\tat x", WorkerID: "10.0.0.2:8083", Generation: 3})
	a.PutTopic(TopicStatus{Topic: "out", Connector: "my-conn", Task: 1, DiscoverTimestamp: 1700000000123})
	share(t, a, b)

	if got, ok := b.Connector("my-conn"); !ok || got != (Status{State: herder.Running, WorkerID: "10.0.0.1:8083", Generation: 3, Version: "4.3.1"}) {
		t.Fatalf("connector status = %+v, %v", got, ok)
	}
	tasks := b.Tasks("my-conn")
	if len(tasks) != 2 || tasks[1].State != herder.Failed || tasks[1].Trace != "boom\n\tat x" || tasks[1].WorkerID != "10.0.0.2:8083" {
		t.Fatalf("task statuses = %+v", tasks)
	}
	if got := b.Topics("my-conn"); len(got) != 1 || got[0] != (TopicStatus{Topic: "out", Connector: "my-conn", Task: 1, DiscoverTimestamp: 1700000000123}) {
		t.Fatalf("topics = %+v", got)
	}
	if got := b.Connectors(); !slices.Equal(got, []string{"my-conn"}) {
		t.Fatalf("connectors = %v", got)
	}

	// The records are Kafka Connect's.
	want := []string{
		`status-connector-my-conn {"state":"RUNNING","trace":null,"worker_id":"10.0.0.1:8083","generation":3,"version":"4.3.1"}`,
		`status-task-my-conn-0 {"state":"RUNNING","trace":null,"worker_id":"10.0.0.1:8083","generation":3,"version":null}`,
		`status-task-my-conn-1 {"state":"FAILED","trace":"boom\n\tat x","worker_id":"10.0.0.2:8083","generation":3,"version":null}`,
		`status-topic-out:connector-my-conn {"topic":{"name":"out","connector":"my-conn","task":1,"discoverTimestamp":1700000000123}}`,
	}
	if got := records(t, brokers, topic.Name); !slices.Equal(got, want) {
		t.Fatalf("status topic records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Deleting the connector removes its tasks' statuses too, on every worker, and survives a reload.
	b.DeleteConnector("my-conn", 2)
	b.DeleteTopic("my-conn", "out")
	share(t, b, a)
	if _, ok := a.Connector("my-conn"); ok || len(a.Tasks("my-conn")) != 0 || len(a.Topics("my-conn")) != 0 {
		t.Fatalf("after delete: %+v %+v %+v", a.connectors, a.tasks, a.topics)
	}
	if c := open(t, brokers, topic); len(c.Connectors()) != 0 || len(c.Tasks("my-conn")) != 0 {
		t.Fatalf("after reload: %v %v", c.Connectors(), c.Tasks("my-conn"))
	}
}

// records returns the status topic's records as sorted "key value" lines.
func records(t *testing.T, brokers, topic string) []string {
	var out []string
	for _, r := range kafkalogtest.Records(t, brokers, topic) {
		v := string(r.Value)
		if r.Value == nil {
			v = "<null>"
		}
		out = append(out, string(r.Key)+" "+v)
	}
	slices.Sort(out)
	return out
}

func TestTopicStoreGenerationRules(t *testing.T) {
	brokers := testenv.Kafka(t)
	topic := kafkalogtest.Topic(t, kafkalog.StatusTopic)
	w1, w2 := open(t, brokers, topic), open(t, brokers, topic)
	id := herder.TaskID{Connector: "c", Task: 0}

	// w2 took the task over in generation 5.
	w2.PutTask(id, Status{State: herder.Running, WorkerID: "w2", Generation: 5})
	share(t, w2, w1)
	// w1, which had it in generation 4, must not overwrite that with a safe write...
	w1.PutTaskSafe(id, Status{State: herder.Unassigned, WorkerID: "w1", Generation: 4})
	w1.PutConnectorSafe("c", Status{State: herder.Running, WorkerID: "w1", Generation: 4})
	share(t, w1, w2)
	if got, _ := w2.Task(id); got.WorkerID != "w2" {
		t.Fatalf("a safe write of an older generation by another worker won: %+v", got)
	}
	// ...(with nothing known, a safe write goes through).
	if _, ok := w2.Connector("c"); !ok {
		t.Fatal("a safe write with no status known was skipped")
	}
	// A plain UNASSIGNED write of the same generation is stale when read back: RUNNING stays.
	w1.PutTask(id, Status{State: herder.Unassigned, WorkerID: "w1", Generation: 5})
	share(t, w1, w2)
	if got, _ := w2.Task(id); got.State != herder.Running {
		t.Fatalf("stale UNASSIGNED replaced RUNNING: %+v", got)
	}
	// A newer generation's UNASSIGNED is real.
	w1.PutTask(id, Status{State: herder.Unassigned, WorkerID: "w1", Generation: 6})
	share(t, w1, w2)
	if got, _ := w2.Task(id); got.State != herder.Unassigned || got.Generation != 6 {
		t.Fatalf("UNASSIGNED of a newer generation ignored: %+v", got)
	}
}

func TestTopicStoreCreatesFivePartitionCompactedTopic(t *testing.T) {
	brokers := testenv.Kafka(t)
	topic := kafkalogtest.Topic(t, kafkalog.StatusTopic)
	s := open(t, brokers, topic)
	if n := kafkalogtest.Partitions(t, brokers, topic.Name); n != 5 {
		t.Fatalf("status topic has %d partitions, want upstream's default 5", n)
	}
	// Statuses land where Kafka's Java producer puts their keys.
	s.PutConnector("a", Status{State: herder.Running, WorkerID: "w"})
	s.PutTask(herder.TaskID{Connector: "a", Task: 7}, Status{State: herder.Running, WorkerID: "w"})
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, r := range kafkalogtest.Records(t, brokers, topic.Name) {
		if want := kafkalogtest.JavaPartition(r.Key, 5); r.Partition != want {
			t.Errorf("%s in partition %d, Java's producer uses %d", r.Key, r.Partition, want)
		}
	}
}

func TestKeys(t *testing.T) {
	if c, tp, ok := parseTopicKey(TopicKey("my-conn", "db.public.t-1")); !ok || c != "my-conn" || tp != "db.public.t-1" {
		t.Errorf("topic key round trip: %q %q %v", c, tp, ok)
	}
	for _, bad := range []string{"status-topic-t", "status-topic-:connector-c", "status-topic-t:connector-", "status-topic-t:other-c"} {
		if _, _, ok := parseTopicKey(bad); ok {
			t.Errorf("parseTopicKey(%q) accepted", bad)
		}
	}
}

func TestDecodeRejectsMalformedStatuses(t *testing.T) {
	for _, bad := range []string{`[]`, `{"state":"DESTROYED","worker_id":"w","generation":1}`, `{"state":"RUNNING","generation":1}`,
		`{"state":"RUNNING","worker_id":"w","generation":"1"}`, `{`} {
		if _, err := decodeStatus([]byte(bad)); err == nil {
			t.Errorf("decodeStatus(%s) accepted", bad)
		}
	}
	got, err := decodeStatus([]byte(`{"state":"PAUSED","worker_id":"w","generation":2}`)) // no trace, no version: older workers
	if err != nil || !reflect.DeepEqual(got, Status{State: herder.Paused, WorkerID: "w", Generation: 2}) {
		t.Errorf("older record = %+v, %v", got, err)
	}
}

// A task's progress travels in its status record as kconnect's extra "progress" field, after
// upstream's fields, and reaches the other workers; a status without progress is upstream's
// record exactly.
func TestTopicStoreCarriesProgress(t *testing.T) {
	brokers := testenv.Kafka(t)
	topic := kafkalogtest.Topic(t, kafkalog.StatusTopic)
	a, b := open(t, brokers, topic), open(t, brokers, topic)
	id := herder.TaskID{Connector: "cdc", Task: 0}
	p := &herder.Progress{Phase: "snapshot", TablesDone: 1, TablesTotal: 3, RowsDone: 420, RowsEstimated: 1000}
	a.PutTask(id, Status{State: herder.Running, WorkerID: "w1:8083", Generation: 2, Version: "0.1.0", Progress: p})
	share(t, a, b)
	if got, _ := b.Task(id); got.Progress == nil || *got.Progress != *p || got.Version != "0.1.0" || got.State != herder.Running {
		t.Fatalf("task status read back = %+v (progress %+v)", got, got.Progress)
	}
	want := []string{`status-task-cdc-0 {"state":"RUNNING","trace":null,"worker_id":"w1:8083","generation":2,"version":"0.1.0",` +
		`"progress":{"phase":"snapshot","tables_done":1,"tables_total":3,"rows_done":420,"rows_estimated":1000}}`}
	if got := records(t, brokers, topic.Name); !slices.Equal(got, want) {
		t.Fatalf("status topic records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The snapshot is over: the next status has no progress, and neither has the task then.
	a.PutTask(id, Status{State: herder.Running, WorkerID: "w1:8083", Generation: 2, Version: "0.1.0"})
	share(t, a, b)
	if got, _ := b.Task(id); got.Progress != nil {
		t.Fatalf("progress kept after a status without it: %+v", got.Progress)
	}
}
