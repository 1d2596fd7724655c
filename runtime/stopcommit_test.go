package runtime_test

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/runtime"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/offsets"
)

// handLease is a membership lease the test moves by hand.
type handLease struct{ until atomic.Int64 }

func (l *handLease) Until() time.Time { return time.Unix(0, l.until.Load()) }
func (l *handLease) set(t time.Time)  { l.until.Store(t.UnixNano()) }

// failedProduces counts the produce requests a client could not write.
type failedProduces struct{ n atomic.Int64 }

func (h *failedProduces) OnBrokerWrite(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	if err != nil && key == kmsg.Produce.Int16() {
		h.n.Add(1)
	}
}

// TestStopEndsWhileAnOffsetsWriteIsUnanswered stops a source task whose offset commit sent its
// write to the offsets topic and never gets an answer, as when the broker is killed with the write
// in flight, or the worker's lease holds the resent write back (here the offsets client's own
// lease, lapsed). The idempotent producer keeps that write whatever its context says, yet the stop
// gives up on it and the instance finishes in time, not abandoned, so the task starts again on
// the worker at once. The worker's lease lapses during the stop's final commit, which therefore
// gives up without failing the task: its next owner commits those offsets.
func TestStopEndsWhileAnOffsetsWriteIsUnanswered(t *testing.T) {
	bootstrap := testenv.Kafka(t)
	props := map[string]string{
		"bootstrap.servers":                 bootstrap,
		"offset.storage.topic":              testenv.Topic(t, "held-offsets"),
		"offset.storage.replication.factor": "1",
		"offset.storage.partitions":         "1",
		"offset.flush.interval.ms":          "100",
		"offset.flush.timeout.ms":           "1000",
		"task.shutdown.graceful.timeout.ms": "3000",
		"key.converter":                     "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":                   "org.apache.kafka.connect.storage.StringConverter",
	}
	lease := &handLease{}
	lease.set(time.Now().Add(time.Hour))
	member := &handLease{}
	member.set(time.Now().Add(time.Hour))
	opts, err := runtime.LeasedClientOpts(props, lease)
	if err != nil {
		t.Fatal(err)
	}
	held := &failedProduces{}
	topic, err := runtime.OffsetTopicSettings(props, "")
	if err != nil {
		t.Fatal(err)
	}
	openCtx, cancelOpen := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancelOpen()
	store, err := offsets.OpenTopic(openCtx, append(opts, kgo.WithHooks(held)), topic, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()

	n := &instances{}
	reg, _ := registryAndStore(t, connect.Plugin{Class: "SeqSource", Type: connect.PluginSource, New: func() any { return &seqSource{n: n} }})
	buf := &syncBuffer{}
	w, err := runtime.NewWorker("held-offsets-worker", props, reg, store, slog.New(slog.NewTextHandler(buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	w.SetLease(member)
	defer func() {
		lease.set(time.Now().Add(time.Hour))
		w.Close()
		if t.Failed() {
			t.Logf("worker log:\n%s", buf)
		}
	}()
	conn := map[string]string{"name": "held", "connector.class": "SeqSource", "topic": testenv.Topic(t, "held-records")}
	id := herder.TaskID{Connector: "held", Task: 0}
	running := make(chan struct{})
	states := &stateLog{}
	if _, err := w.StartTask(context.Background(), id, conn, conn, func(id herder.TaskID, s herder.State, err error) {
		states.listener(id, s, err)
		onRunning(running)(id, s, err)
	}); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, running, "the task RUNNING")
	deadline := time.Now().Add(60 * time.Second)
	for {
		off, err := store.Get("held", seqPartition)
		if err != nil {
			t.Fatal(err)
		}
		if off != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no offset committed within 60s")
		}
		time.Sleep(50 * time.Millisecond)
	}

	lease.set(time.Now().Add(-time.Millisecond))
	for held.n.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no offsets write held back within 60s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	member.set(time.Now().Add(500 * time.Millisecond))
	if err := w.StopTasks(ctx, []herder.TaskID{id}); err != nil {
		t.Fatalf("stop while an offsets write is unanswered: %v", err)
	}
	if got := w.Tasks(); len(got) != 0 {
		t.Fatalf("registered instances after the stop: %v", got)
	}
	if s := states.last(); s != herder.Unassigned {
		t.Fatalf("the stopped instance last reported %s, want UNASSIGNED", s)
	}
	member.set(time.Now().Add(time.Hour))
	short, cancelShort := context.WithTimeout(context.Background(), time.Second)
	defer cancelShort()
	running2 := make(chan struct{})
	if _, err := w.StartTask(short, id, conn, conn, onRunning(running2)); err != nil {
		t.Fatalf("start again after the stop: %v", err)
	}
	waitClosed(t, running2, "the task RUNNING again")
	lease.set(time.Now().Add(time.Hour))
	if err := w.StopTasks(ctx, []herder.TaskID{id}); err != nil {
		t.Fatalf("stop once the offsets writes are answered: %v", err)
	}
	if live := n.most(); live != 1 {
		t.Fatalf("%d instances of the task ran at once", live)
	}
}
