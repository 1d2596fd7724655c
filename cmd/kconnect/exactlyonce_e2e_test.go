package main_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
	"github.com/kconnect/kconnect/runtime"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/offsets"
)

// committedReader reads a topic with isolation.level=read_committed, as a downstream consumer
// of an exactly-once source does, keeping every value it has seen.
type committedReader struct {
	cl     *kgo.Client
	values []string
}

func newCommittedReader(t *testing.T, bootstrap, topic string) *committedReader {
	t.Helper()
	return &committedReader{cl: committedClient(t, bootstrap, topic)}
}

// committedClient consumes topic from the start with isolation.level=read_committed; it is
// closed when the test ends.
func committedClient(t *testing.T, bootstrap, topic string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.ConsumeTopics(topic),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// openZombieTransaction opens a transaction under transactional id txnID, as a zombie task
// instance would hold it, with rec written in it, and returns the producer to try its commit.
func openZombieTransaction(t *testing.T, bootstrap, txnID string, rec *kgo.Record) *kgo.Client {
	t.Helper()
	zombie, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.TransactionalID(txnID))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(zombie.Close)
	if err := zombie.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := zombie.ProduceSync(ctx, rec).FirstErr(); err != nil {
		t.Fatalf("zombie produce: %v", err)
	}
	return zombie
}

// drain reads what is committed now, giving up after a quiet second.
func (r *committedReader) drain() int {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		fs := r.cl.PollFetches(ctx)
		cancel()
		if fs.NumRecords() == 0 {
			return len(r.values)
		}
		fs.EachRecord(func(rec *kgo.Record) { r.values = append(r.values, string(rec.Value)) })
	}
}

// TestExactlyOnceKill9 loads a large file through the file source with exactly-once on and kills
// the standalone worker with SIGKILL at random points of the load (KCONNECT_EOS_KILL_ITERATIONS
// times, 3 by default), restarting it each time; a
// read_committed reader must then see every line exactly once and in order: no duplicate, no gap.
// The worker starts with an offsets file from an earlier run without exactly-once, which it
// migrates into the offsets topic, so the first lines it holds are not sent again.
func TestExactlyOnceKill9(t *testing.T) {
	const lines = 1_000_000
	const migrated = 1_000 // lines the offsets file says were sent before exactly-once was on
	dir := t.TempDir()
	input := filepath.Join(dir, "input.txt")
	appendLines(t, input, 0, lines)
	topic := testenv.Topic(t, "eos-kill")
	props := workertest.WorkerProps(t, dir)
	props["bootstrap.servers"] = testenv.Kafka(t) // kfake listens on TCP: the worker reaches it
	delete(props, "kconnect.embedded.broker.port")
	props["value.converter"] = "org.apache.kafka.connect.storage.StringConverter"
	props["exactly.once.source.support"] = "enabled"
	props["offset.storage.topic"] = testenv.Topic(t, "eos-kill-offsets")
	props["offset.storage.replication.factor"] = "1"
	props["offset.storage.partitions"] = "3"
	writeFileSourceOffset(t, filepath.Join(dir, "connect.offsets"), input, migrated*int64(len("line 000000\n")))
	src := map[string]string{"name": "source", "connector.class": "FileStreamSource", "file": input, "topic": topic,
		"exactly.once.support": "required", "transaction.boundary": "poll", "batch.size": "500"}

	reader := newCommittedReader(t, props["bootstrap.servers"], topic)
	w := workertest.Start(t, dir, props, src)
	iterations := testenv.Count(t, "KCONNECT_EOS_KILL_ITERATIONS", 3)
	midLoad := 0 // kills before every line was committed
	for i := range iterations {
		if i > 0 {
			w.Restart()
		}
		time.Sleep(time.Duration(50+rand.IntN(700)) * time.Millisecond)
		w.Kill9()
		committed := reader.drain()
		if committed < lines-migrated {
			midLoad++
		}
		t.Logf("kill %d/%d: %d lines committed", i+1, iterations, committed)
	}
	w.Restart()
	want := lines - migrated
	w.WaitFor(180*time.Second, fmt.Sprintf("%d committed lines", want), func() bool { return reader.drain() >= want })
	if err := w.Stop(); err != nil {
		t.Fatalf("graceful stop: %v\n%s", err, w.Log())
	}
	got := reader.drain()
	dups, gaps := 0, 0
	for i, v := range reader.values {
		if exp := fmt.Sprintf("line %06d", migrated+i); v != exp {
			n, err := strconv.Atoi(v[len("line "):])
			if err == nil && n < migrated+i {
				dups++
			} else {
				gaps++
			}
			t.Errorf("committed record %d is %q, want %q", i, v, exp)
			break
		}
	}
	t.Logf("%d kills, %d during the load; %d lines committed, want %d: %d duplicates, %d gaps", iterations, midLoad, got, want, dups, gaps)
	if got != want {
		t.Fatalf("%d lines committed, want exactly %d", got, want)
	}
}

// writeFileSourceOffset writes the offsets file a worker without exactly-once would have left:
// the file source "source" committed up to byte position of input.
func writeFileSourceOffset(t *testing.T, path, input string, position int64) {
	t.Helper()
	store, err := offsets.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	err = store.Put(context.Background(), "source", []connect.SourceOffset{{
		Partition: map[string]any{"filename": input}, Offset: map[string]any{"position": position}}})
	if err != nil {
		t.Fatal(err)
	}
}

// Altering a stopped exactly-once connector's offsets through REST writes them, as upstream, in a
// transaction of task 0's transactional producer: a zombie instance of task 0 with a transaction
// open is fenced and cannot commit, and the new offset is a committed transactional record.
func TestExactlyOnceOffsetsEndpointFencesTask0(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "input.txt")
	appendLines(t, input, 0, 100)
	topic := testenv.Topic(t, "eos-alter")
	props := workertest.WorkerProps(t, dir)
	props["bootstrap.servers"] = testenv.Kafka(t)
	delete(props, "kconnect.embedded.broker.port")
	props["value.converter"] = "org.apache.kafka.connect.storage.StringConverter"
	props["exactly.once.source.support"] = "enabled"
	props["group.id"] = testenv.Topic(t, "eos-alter-group")
	props["offset.storage.topic"] = testenv.Topic(t, "eos-alter-offsets")
	props["offset.storage.replication.factor"] = "1"
	props["offset.storage.partitions"] = "1"
	src := map[string]string{"name": "source", "connector.class": "FileStreamSource", "file": input, "topic": topic,
		"exactly.once.support": "required"}
	reader := newCommittedReader(t, props["bootstrap.servers"], topic)
	w := workertest.Start(t, dir, props, src)
	w.WaitFor(60*time.Second, "100 committed lines", func() bool { return reader.drain() >= 100 })
	if code, body := w.Do(http.MethodPut, "/connectors/source/stop", nil); code != http.StatusNoContent {
		t.Fatalf("stop: %d %s", code, body)
	}
	w.WaitFor(30*time.Second, "the connector STOPPED", func() bool {
		st, ok := w.Status("source")
		return ok && st.Connector.State == herder.Stopped && len(st.Tasks) == 0
	})

	zombie := openZombieTransaction(t, props["bootstrap.servers"], runtime.TransactionalID(props["group.id"], "source", 0),
		&kgo.Record{Topic: topic, Value: []byte("zombie")})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	alter := map[string]any{"offsets": []map[string]any{{"partition": map[string]any{"filename": input}, "offset": map[string]any{"position": 0}}}}
	if code, body := w.Do(http.MethodPatch, "/connectors/source/offsets", alter); code != http.StatusOK {
		t.Fatalf("alter offsets: %d %s", code, body)
	}
	if err := zombie.EndTransaction(ctx, kgo.TryCommit); err == nil {
		t.Error("task 0's zombie committed its transaction after the offsets were altered; want it fenced")
	}

	offsetsClient := committedClient(t, props["bootstrap.servers"], props["offset.storage.topic"])
	var last *kgo.Record
	for {
		pollCtx, cancelPoll := context.WithTimeout(ctx, 2*time.Second)
		fs := offsetsClient.PollFetches(pollCtx)
		cancelPoll()
		if fs.NumRecords() == 0 {
			break
		}
		fs.EachRecord(func(r *kgo.Record) { last = r })
	}
	if last == nil || string(last.Value) != `{"position":0}` {
		t.Fatalf("last offsets record %v, want {\"position\":0}", last)
	}
	if !last.Attrs.IsTransactional() {
		t.Error("the altered offset was written without a transaction")
	}
	if n := reader.drain(); n != 100 || slices.Contains(reader.values, "zombie") {
		t.Errorf("read_committed reader has %d records (zombie's: %v), want the 100 lines", n, slices.Contains(reader.values, "zombie"))
	}
}
