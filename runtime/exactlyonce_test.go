package runtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/runtime"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/offsets"
)

// eosProps are the worker settings of an exactly-once worker whose offsets topic is topic.
func eosProps(bootstrap, group, topic string) map[string]string {
	return map[string]string{
		"bootstrap.servers":                 bootstrap,
		runtime.ExactlyOnceSourceSupport:    "enabled",
		runtime.GroupID:                     group,
		"offset.storage.topic":              topic,
		"offset.storage.replication.factor": "1",
		"offset.storage.partitions":         "2",
		"task.shutdown.graceful.timeout.ms": "2000",
		"offset.flush.timeout.ms":           "10000",
		"key.converter":                     "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":                   "org.apache.kafka.connect.storage.StringConverter",
	}
}

// openEOSStore opens the offsets topic of props as an exactly-once worker does.
func openEOSStore(t *testing.T, props map[string]string) *offsets.TopicStore {
	t.Helper()
	topic, err := runtime.OffsetTopicSettings(props, "")
	if err != nil {
		t.Fatal(err)
	}
	opts, err := runtime.OffsetTopicClientOpts(props)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := offsets.OpenTopic(ctx, opts, topic, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// newEOSWorker returns an exactly-once worker and the log it writes.
func newEOSWorker(t *testing.T, props map[string]string, extra ...connect.Plugin) (*runtime.Worker, *syncBuffer) {
	t.Helper()
	reg, _ := registryAndStore(t, extra...)
	buf := &syncBuffer{}
	w, err := runtime.NewWorker("eos-worker", props, reg, openEOSStore(t, props), slog.New(slog.NewTextHandler(buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		w.Close()
		if t.Failed() {
			t.Logf("worker log:\n%s", buf)
		}
	})
	return w, buf
}

// newSeqEOSWorker returns an exactly-once worker with seqSource, the log it writes, and the
// instances of seqSource's task.
func newSeqEOSWorker(t *testing.T, props map[string]string) (*runtime.Worker, *syncBuffer, *instances) {
	t.Helper()
	n := &instances{}
	w, log := newEOSWorker(t, props, connect.Plugin{Class: "SeqSource", Type: connect.PluginSource, New: func() any { return &seqSource{n: n} }})
	return w, log, n
}

// seqConn returns the config of seqSource's connector "seq" writing to topic, and its task's ID.
func seqConn(topic string) (map[string]string, herder.TaskID) {
	return map[string]string{"name": "seq", "connector.class": "SeqSource", "topic": topic}, herder.TaskID{Connector: "seq"}
}

// committedNext reads seqSource's committed offset (the next number) with a store of its own.
func committedNext(t *testing.T, props map[string]string, connector string) int64 {
	t.Helper()
	off, err := openEOSStore(t, props).Get(connector, seqPartition)
	if err != nil {
		t.Fatal(err)
	}
	if off == nil {
		return 0
	}
	n, ok, err := connect.OffsetInt64(off, "next")
	if err != nil || !ok {
		t.Fatalf("offset %v: %v", off, err)
	}
	return n
}

// readTopic reads every record of topic at the given isolation level once no more arrive; opts
// add to the reader's options, as credentials.
func readTopic(t *testing.T, bootstrap, topic string, committed bool, opts ...kgo.Opt) []string {
	t.Helper()
	level := kgo.ReadUncommitted()
	if committed {
		level = kgo.ReadCommitted()
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(bootstrap), kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(level),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200 * time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []string
	quiet := 0
	for deadline := time.Now().Add(60 * time.Second); quiet < 3; {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		fs := cl.PollFetches(ctx)
		cancel()
		if fs.NumRecords() == 0 {
			quiet++
		} else {
			quiet = 0
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s kept growing for 60 s", topic)
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, string(r.Value)) })
	}
	return out
}

// checkSequence fails unless values are exactly the numbers 0..n-1 in order: no duplicate, no gap.
func checkSequence(t *testing.T, values []string, n int64) {
	t.Helper()
	if int64(len(values)) != n {
		t.Errorf("read %d committed records, want %d (the committed offset)", len(values), n)
	}
	for i, v := range values {
		if v != strconv.Itoa(i) {
			t.Fatalf("committed record %d is %q, want %d: a duplicate or a gap", i, v, i)
		}
	}
}

// waitCommitted waits until the connector's committed offset reaches at least n.
func waitCommitted(t *testing.T, props map[string]string, connector string, n int64) {
	t.Helper()
	store := openEOSStore(t, props)
	deadline := time.Now().Add(60 * time.Second)
	for {
		off, err := store.Get(connector, seqPartition)
		if err != nil {
			t.Fatal(err)
		}
		if v, _, _ := connect.OffsetInt64(off, "next"); v >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("committed offset %v after 60 s, want next >= %d", off, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitCommittedOrFailed waits until the connector's committed offset reaches n, and reports
// true, or until failure caught a failure, and reports false.
func waitCommittedOrFailed(t *testing.T, props map[string]string, connector string, n int64, failure *taskFailure) bool {
	t.Helper()
	store := openEOSStore(t, props)
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-failure.failed:
			return false
		default:
		}
		off, err := store.Get(connector, seqPartition)
		if err != nil {
			t.Fatal(err)
		}
		if v, _, _ := connect.OffsetInt64(off, "next"); v >= n {
			return true
		}
		if time.Now().After(deadline) {
			t.Fatalf("committed offset %v after 60 s, want next >= %d", off, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// taskFailure catches the first failure a task reports through its state listener.
type taskFailure struct {
	once   sync.Once
	err    error
	failed chan struct{} // closed once err is set
}

func newTaskFailure() *taskFailure { return &taskFailure{failed: make(chan struct{})} }

func (f *taskFailure) listener(_ herder.TaskID, st herder.State, err error) {
	if st == herder.Failed {
		f.once.Do(func() { f.err = err; close(f.failed) })
	}
}

// wait waits for the failure and returns its error.
func (f *taskFailure) wait(t *testing.T, what string) error {
	t.Helper()
	waitClosed(t, f.failed, what)
	return f.err
}

// TestExactlyOnceSourceCommitsRecordsWithTheirOffsets runs a source task with exactly-once on and
// stops it, with each boundary the runtime draws itself: a read_committed reader sees exactly the
// records up to the committed offset, which was written in the same transactions, read back from
// the offsets topic by a store of its own.
func TestExactlyOnceSourceCommitsRecordsWithTheirOffsets(t *testing.T) {
	for _, boundary := range []map[string]string{
		{runtime.TransactionBoundary: "poll"},
		{runtime.TransactionBoundary: "interval", runtime.TransactionBoundaryInterval: "300"},
	} {
		t.Run(boundary[runtime.TransactionBoundary], func(t *testing.T) {
			bootstrap := testenv.Kafka(t)
			topic := testenv.Topic(t, "eos-data")
			props := eosProps(bootstrap, "eos-"+topic, testenv.Topic(t, "eos-offsets"))
			n := &instances{}
			w, _ := newEOSWorker(t, props, connect.Plugin{Class: "SeqSource", Type: connect.PluginSource, New: func() any { return &seqSource{n: n} }})
			conn := map[string]string{"name": "seq", "connector.class": "SeqSource", "topic": topic}
			for k, v := range boundary {
				conn[k] = v
			}
			task, err := w.StartSourceTask(herder.TaskID{Connector: "seq"}, conn, conn, nil)
			if err != nil {
				t.Fatal(err)
			}
			waitCommitted(t, props, "seq", 3000)
			ctx, cancel := stopContext(w)
			defer cancel()
			if err := task.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			next := committedNext(t, props, "seq")
			checkSequence(t, readTopic(t, bootstrap, topic, true), next)
		})
	}
}

// TestExactlyOnceZombieIsFenced starts a second instance of a running exactly-once task on
// another worker with the same group.id, as a rebalance would while the first still runs: the
// first instance's producer is fenced, the task fails without committing, and what the two
// committed together is every number once.
func TestExactlyOnceZombieIsFenced(t *testing.T) {
	bootstrap := testenv.Kafka(t)
	topic := testenv.Topic(t, "eos-fence")
	props := eosProps(bootstrap, "eos-"+topic, testenv.Topic(t, "eos-fence-offsets"))
	n := &instances{}
	plugin := connect.Plugin{Class: "SeqSource", Type: connect.PluginSource, New: func() any { return &seqSource{n: n} }}
	w1, _ := newEOSWorker(t, props, plugin)
	w2, _ := newEOSWorker(t, props, plugin)
	conn := map[string]string{"name": "seq", "connector.class": "SeqSource", "topic": topic}
	id := herder.TaskID{Connector: "seq"}

	failure := newTaskFailure()
	zombie, err := w1.StartSourceTask(id, conn, conn, failure.listener)
	if err != nil {
		t.Fatal(err)
	}
	waitCommitted(t, props, "seq", 2000)
	task, err := w2.StartSourceTask(id, conn, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	zombieErr := failure.wait(t, "the fenced instance to fail")
	// Kafka answers the fenced producer's next request with PRODUCER_FENCED or
	// INVALID_PRODUCER_EPOCH; kfake answers an EndTxn of the transaction the new producer aborted
	// with INVALID_TXN_STATE. An EndTxn that reaches Kafka 4.3's coordinator while the new
	// producer's fence is still pending gets UNKNOWN_SERVER_ERROR (its log shows an
	// IllegalStateException: "transition to ONGOING while it already a pending state
	// PREPARE_EPOCH_FENCE"); the fence completes all the same.
	fencedErr := func(err error) bool {
		for _, s := range []string{"producer fenced", "INVALID_TXN_STATE", "commit transaction: UNKNOWN_SERVER_ERROR"} {
			if strings.Contains(err.Error(), s) {
				return true
			}
		}
		return false
	}
	if zombieErr == nil || !fencedErr(zombieErr) {
		t.Errorf("fenced instance failed with %v, want a producer fenced error", zombieErr)
	}
	waitClosed(t, zombie.Done(), "the fenced instance to finish")
	before := committedNext(t, props, "seq")
	waitCommitted(t, props, "seq", before+2000)
	ctx, cancel := stopContext(w2)
	defer cancel()
	if err := task.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	checkSequence(t, readTopic(t, bootstrap, topic, true), committedNext(t, props, "seq"))
}

// abortingSource defines its own transaction boundaries: it commits every even batch and
// aborts every odd one, then sends the aborted numbers again.
type abortingSource struct {
	seqSource
	mu        sync.Mutex
	committed []string // values CommitRecord was called with
}

func (c *abortingSource) CanDefineTransactionBoundaries(map[string]string) bool { return true }
func (c *abortingSource) NewTask() connect.SourceTask {
	return &abortingTask{seqTask: seqTask{n: c.n}, c: c}
}

type abortingTask struct {
	seqTask
	c       *abortingSource
	txn     connect.TransactionContext
	batches int
}

func (t *abortingTask) Start(ctx connect.SourceTaskContext, props map[string]string) error {
	if tc, ok := ctx.(connect.TransactionalTaskContext); ok {
		t.txn = tc.TransactionContext()
	}
	if t.txn == nil {
		return fmt.Errorf("no transaction context with transaction.boundary=connector")
	}
	return t.seqTask.Start(ctx, props)
}

func (t *abortingTask) Poll(ctx context.Context) ([]connect.SourceRecord, error) {
	from := t.next
	recs, err := t.seqTask.Poll(ctx)
	if len(recs) == 0 || err != nil {
		return recs, err
	}
	t.batches++
	if t.batches%2 == 0 {
		t.txn.AbortTransaction()
		t.next = from // the aborted numbers are sent again in the next batch
	} else {
		t.txn.CommitTransaction()
	}
	return recs, nil
}

func (t *abortingTask) CommitRecord(rec *connect.SourceRecord, _ connect.RecordMetadata) error {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	t.c.committed = append(t.c.committed, rec.Value.(string))
	return nil
}

// TestExactlyOnceConnectorBoundaryAborts runs a task that aborts every other transaction through
// its TransactionContext: read_committed readers see every number once, the aborted copies are in
// the topic for read_uncommitted readers only, and CommitRecord hears of committed records only.
func TestExactlyOnceConnectorBoundaryAborts(t *testing.T) {
	bootstrap := testenv.Kafka(t)
	topic := testenv.Topic(t, "eos-abort")
	props := eosProps(bootstrap, "eos-"+topic, testenv.Topic(t, "eos-abort-offsets"))
	src := &abortingSource{seqSource: seqSource{n: &instances{}}}
	w, _ := newEOSWorker(t, props, connect.Plugin{Class: "AbortingSource", Type: connect.PluginSource, New: func() any { return src }})
	conn := map[string]string{"name": "abort", "connector.class": "AbortingSource", "topic": topic, runtime.TransactionBoundary: "connector"}
	task, err := w.StartSourceTask(herder.TaskID{Connector: "abort"}, conn, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitCommitted(t, props, "abort", 3000)
	ctx, cancel := stopContext(w)
	defer cancel()
	if err := task.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	next := committedNext(t, props, "abort")
	checkSequence(t, readTopic(t, bootstrap, topic, true), next)
	if all := readTopic(t, bootstrap, topic, false); int64(len(all)) <= next {
		t.Errorf("read_uncommitted sees %d records, want more than the %d committed (the aborted copies)", len(all), next)
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	checkSequence(t, src.committed, next)
}

// tooBigSource sends its third poll's last number, made too big, to the topic in "big".
type tooBigSource struct{ seqSource }

func (c *tooBigSource) NewTask() connect.SourceTask { return &tooBigTask{seqTask: seqTask{n: c.n}} }

type tooBigTask struct {
	seqTask
	big   string
	polls int
}

func (t *tooBigTask) Start(ctx connect.SourceTaskContext, props map[string]string) error {
	t.big = props["big"]
	return t.seqTask.Start(ctx, props)
}

func (t *tooBigTask) Poll(ctx context.Context) ([]connect.SourceRecord, error) {
	recs, err := t.seqTask.Poll(ctx)
	if t.polls++; t.polls == 3 && len(recs) > 0 {
		last := &recs[len(recs)-1]
		last.Topic, last.Value = t.big, strings.Repeat("x", 4096)
	}
	return recs, err
}

// TestExactlyOnceRefusedRecordCommitsNoOffsets has the broker refuse a record of the third
// transaction (too large for its topic) after that transaction's offsets, which are written
// before their records are acknowledged, went out: the task fails, and neither the transaction's
// records nor its offsets are visible to read_committed readers.
func TestExactlyOnceRefusedRecordCommitsNoOffsets(t *testing.T) {
	bootstrap := testenv.Kafka(t)
	topic := testenv.Topic(t, "eos-refused")
	big := testenv.Topic(t, "eos-refused-big")
	props := eosProps(bootstrap, "eos-"+topic, testenv.Topic(t, "eos-refused-offsets"))
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	maxBytes := "1024"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, map[string]*string{"max.message.bytes": &maxBytes}, big); err != nil {
		t.Fatal(err)
	}
	src := &tooBigSource{seqSource{n: &instances{}}}
	w, _ := newEOSWorker(t, props, connect.Plugin{Class: "TooBigSource", Type: connect.PluginSource, New: func() any { return src }})
	conn := map[string]string{"name": "refused", "connector.class": "TooBigSource", "topic": topic, "big": big}
	failure := newTaskFailure()
	task, err := w.StartSourceTask(herder.TaskID{Connector: "refused"}, conn, conn, failure.listener)
	if err != nil {
		t.Fatal(err)
	}
	taskErr := failure.wait(t, "the task to fail on the refused record")
	waitClosed(t, task.Done(), "the failed task to finish")
	if taskErr == nil || !strings.Contains(taskErr.Error(), "MESSAGE_TOO_LARGE") {
		t.Errorf("task failed with %v, want the broker's MESSAGE_TOO_LARGE", taskErr)
	}
	// Two transactions of 500 numbers committed; the third, aborted, held numbers 1000 to 1499.
	if next := committedNext(t, props, "refused"); next != 1000 {
		t.Errorf("committed offset next=%d, want 1000: the aborted transaction's offsets are visible", next)
	}
	checkSequence(t, readTopic(t, bootstrap, topic, true), 1000)
}

// TestExactlyOnceConfig checks the keys' validation: bad values are rejected naming the key,
// required fails for a connector that does not declare support and passes for one that does,
// and an interval set with another boundary is rejected rather than ignored.
func TestExactlyOnceConfig(t *testing.T) {
	reg, file := registryAndStore(t, connect.Plugin{Class: "SeqSource", Type: connect.PluginSource, New: func() any { return &seqSource{n: &instances{}} }})
	base := map[string]string{"bootstrap.servers": "127.0.0.1:1", "key.converter": "org.apache.kafka.connect.storage.StringConverter",
		"value.converter": "org.apache.kafka.connect.storage.StringConverter"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		props map[string]string
		want  string
	}{
		{with(runtime.ExactlyOnceSourceSupport, "on"), runtime.ExactlyOnceSourceSupport},
		{with(runtime.ExactlyOnceSourceSupport, "enabled"), runtime.GroupID},
		{with(runtime.ExactlyOnceSourceSupport, "enabled", runtime.GroupID, "g"), "offset.storage.topic"},
	} {
		if _, err := runtime.NewWorker("w", tc.props, reg, file, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewWorker(%v) = %v, want an error naming %s", tc.props, err, tc.want)
		}
	}
	for _, v := range []string{"disabled", "preparing"} {
		if _, err := runtime.NewWorker("w", with(runtime.ExactlyOnceSourceSupport, v), reg, file, nil); err != nil {
			t.Errorf("%s=%s: %v", runtime.ExactlyOnceSourceSupport, v, err)
		}
	}

	props := eosProps(testenv.Kafka(t), "eos-config", testenv.Topic(t, "eos-config-offsets"))
	w, _ := newEOSWorker(t, props, connect.Plugin{Class: "SeqSource", Type: connect.PluginSource, New: func() any { return &seqSource{n: &instances{}} }})
	for _, tc := range []struct {
		class string
		props map[string]string
		key   string // "" when valid
	}{
		{"SeqSource", map[string]string{runtime.ExactlyOnceSupport: "required"}, runtime.ExactlyOnceSupport},
		{"SeqSource", map[string]string{runtime.ExactlyOnceSupport: "requested"}, ""},
		{"SeqSource", map[string]string{runtime.ExactlyOnceSupport: "always"}, runtime.ExactlyOnceSupport},
		{"SeqSource", map[string]string{runtime.TransactionBoundary: "connector"}, runtime.TransactionBoundary},
		{"SeqSource", map[string]string{runtime.TransactionBoundary: "batch"}, runtime.TransactionBoundary},
		{"SeqSource", map[string]string{runtime.TransactionBoundaryInterval: "1000"}, runtime.TransactionBoundaryInterval},
		{"SeqSource", map[string]string{runtime.TransactionBoundary: "interval", runtime.TransactionBoundaryInterval: "-5"}, runtime.TransactionBoundaryInterval},
		{"SeqSource", map[string]string{runtime.TransactionBoundary: "interval", runtime.TransactionBoundaryInterval: "1000"}, ""},
		{"DatagenConnector", map[string]string{runtime.ExactlyOnceSupport: "required", "kafka.topic": "t"}, ""},
		{"FileStreamSource", map[string]string{runtime.ExactlyOnceSupport: "required", "topic": "t"}, runtime.ExactlyOnceSupport},
		{"FileStreamSource", map[string]string{runtime.ExactlyOnceSupport: "required", "topic": "t", "file": "/tmp/x"}, ""},
	} {
		conn := map[string]string{"name": "c", "connector.class": tc.class, "topic": "t"}
		for k, v := range tc.props {
			conn[k] = v
		}
		infos, err := w.Validate(context.Background(), tc.class, conn)
		if err != nil {
			t.Fatal(err)
		}
		var bad []string
		for _, c := range infos.Configs {
			if len(c.Value.Errors) > 0 {
				bad = append(bad, c.Value.Name)
			}
		}
		if tc.key == "" && len(bad) > 0 || tc.key != "" && (len(bad) != 1 || bad[0] != tc.key) {
			t.Errorf("%s %v: errors on %v, want on %q", tc.class, tc.props, bad, tc.key)
		}
	}
}

// TestExactlyOnceFenceProducers fences a running exactly-once task from another worker, as a
// distributed leader does before new tasks start: the task fails, and what it committed before
// stays exactly the committed offset's numbers.
func TestExactlyOnceFenceProducers(t *testing.T) {
	bootstrap := testenv.Kafka(t)
	topic := testenv.Topic(t, "eos-fenceapi")
	props := eosProps(bootstrap, "eos-"+topic, testenv.Topic(t, "eos-fenceapi-offsets"))
	plugin := connect.Plugin{Class: "SeqSource", Type: connect.PluginSource, New: func() any { return &seqSource{n: &instances{}} }}
	w1, _ := newEOSWorker(t, props, plugin)
	w2, _ := newEOSWorker(t, props, plugin)
	conn := map[string]string{"name": "seq", "connector.class": "SeqSource", "topic": topic}
	failure := newTaskFailure()
	task, err := w1.StartSourceTask(herder.TaskID{Connector: "seq"}, conn, conn, failure.listener)
	if err != nil {
		t.Fatal(err)
	}
	waitCommitted(t, props, "seq", 2000)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := w2.FenceProducers(ctx, "seq", 1); err != nil {
		t.Fatal(err)
	}
	failure.wait(t, "the fenced task to fail")
	waitClosed(t, task.Done(), "the fenced task to finish")
	checkSequence(t, readTopic(t, bootstrap, topic, true), committedNext(t, props, "seq"))
}

// TestExactlyOnceDatagen runs the datagen source with exactly-once on, exactly.once.support=required
// and several transactions: a read_committed reader gets every generated id once, in order.
func TestExactlyOnceDatagen(t *testing.T) {
	bootstrap := testenv.Kafka(t)
	topic := testenv.Topic(t, "eos-datagen")
	props := eosProps(bootstrap, "eos-"+topic, testenv.Topic(t, "eos-datagen-offsets"))
	props["value.converter"] = "org.apache.kafka.connect.json.JsonConverter"
	props["value.converter.schemas.enable"] = "false"
	w, _ := newEOSWorker(t, props)
	const n = 5000
	conn := map[string]string{"name": "datagen", "connector.class": "DatagenConnector", "kafka.topic": topic, "task.id": "0",
		"iterations": strconv.Itoa(n), "max.interval": "0", "record.size": "64", "batch.size": "700",
		runtime.ExactlyOnceSupport: "required"}
	task, err := w.StartSourceTask(herder.TaskID{Connector: "datagen"}, conn, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := stopContext(w)
		defer cancel()
		_ = task.Stop(ctx)
	}()
	var values []string
	for deadline := time.Now().Add(60 * time.Second); len(values) < n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d records committed after 60 s", len(values), n)
		}
		values = readTopic(t, bootstrap, topic, true)
	}
	for i, v := range values {
		var rec struct{ ID int64 }
		if err := json.Unmarshal([]byte(v), &rec); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if rec.ID != int64(i) {
			t.Fatalf("committed record %d has id %d: a duplicate or a gap", i, rec.ID)
		}
	}
	if len(values) != n {
		t.Errorf("%d records committed, want %d", len(values), n)
	}
}

// TestExactlyOnceIntervalCommitsOnPause pauses a task whose transactions last a minute: its open
// transaction is committed when it pauses rather than left holding read_committed readers back.
func TestExactlyOnceIntervalCommitsOnPause(t *testing.T) {
	bootstrap := testenv.Kafka(t)
	topic := testenv.Topic(t, "eos-pause")
	props := eosProps(bootstrap, "eos-"+topic, testenv.Topic(t, "eos-pause-offsets"))
	n := &instances{}
	w, _ := newEOSWorker(t, props, connect.Plugin{Class: "SeqSource", Type: connect.PluginSource, New: func() any { return &seqSource{n: n} }})
	conn := map[string]string{"name": "seq", "connector.class": "SeqSource", "topic": topic,
		runtime.TransactionBoundary: "interval", runtime.TransactionBoundaryInterval: "600000"}
	task, err := w.StartSourceTask(herder.TaskID{Connector: "seq"}, conn, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); n.polled.Load() < 1000; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the task polled nothing in 60 s")
		}
	}
	task.Pause()
	waitCommitted(t, props, "seq", 1000)
	next := committedNext(t, props, "seq")
	checkSequence(t, readTopic(t, bootstrap, topic, true), next)
	task.Resume()
	ctx, cancel := stopContext(w)
	defer cancel()
	if err := task.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestExactlyOnceCommitWithAnUnknownOutcome cuts the worker off from Kafka at a transaction's
// commit: before the broker took the commit, or after it did with the answer lost. While the
// broker stays unreachable the task fails and is restarted, as an operator would restart it; when
// the broker is back at once, the producer retries the commit. On Apache Kafka the broker is also
// killed with SIGKILL at the cut, so that it recovers the transaction from its log (a commit
// decided but its markers maybe not all written). Either way a read_committed reader must see
// every number exactly once up to the committed offset: the next instance must neither redo a
// transaction that committed nor skip one that did not.
func TestExactlyOnceCommitWithAnUnknownOutcome(t *testing.T) {
	type testCase struct {
		name string
		how  testenv.Cut
		down bool // the broker stays unreachable until the task failed
		kill bool // a private Apache Kafka node is killed at the cut and started again
	}
	cases := []testCase{
		{"commit lost then broker down", testenv.CutBeforeRequest, true, false},
		{"answer lost then broker down", testenv.CutAfterAnswer, true, false},
		{"answer lost then broker back", testenv.CutAfterAnswer, false, false},
	}
	if testenv.RealKafka() {
		cases = append(cases, testCase{"commit lost then broker killed", testenv.CutBeforeRequest, true, true},
			testCase{"answer lost then broker killed", testenv.CutAfterAnswer, true, true})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var server *testenv.KafkaServer
			bootstrap := ""
			if tc.kill {
				server = testenv.NewKafkaServer(t)
				bootstrap = server.Addr()
			} else {
				bootstrap = testenv.Kafka(t)
			}
			proxy := testenv.NewKafkaProxy(t, bootstrap)
			topic := testenv.Topic(t, "eos-cut")
			props := eosProps(proxy.Addr(), "eos-"+topic, testenv.Topic(t, "eos-cut-offsets"))
			w, log, _ := newSeqEOSWorker(t, props)
			conn, id := seqConn(topic)
			failure := newTaskFailure()
			task, err := w.StartSourceTask(id, conn, conn, failure.listener)
			if err != nil {
				t.Fatal(err)
			}
			waitCommitted(t, props, "seq", 2000)
			waitClosed(t, proxy.CutAt(kmsg.EndTxn, tc.how), "a commit to be cut off")
			if tc.kill {
				server.Kill()
			}
			if !tc.down {
				proxy.Restore()
			}
			select {
			case <-failure.failed:
				t.Logf("the task failed: %v", failure.err)
			case <-time.After(10 * time.Second):
				if tc.down {
					t.Fatal("the task still runs 10 s after the broker became unreachable at its commit")
				}
				t.Log("the task carried on after the commit's retry")
			}
			if tc.kill {
				server.Start()
			}
			if tc.down {
				proxy.Restore()
			}
			// Apache Kafka can lose the markers of a commit prepared when it was killed; the
			// restarted task then finds its earlier records pending at its first commit, aborts,
			// and starts afresh in place (source_pending.go, txnLoop), without failing.
			if failure.err != nil {
				waitClosed(t, task.Done(), "the failed task to finish")
				failure = newTaskFailure()
				if task, err = w.StartSourceTask(id, conn, conn, failure.listener); err != nil {
					t.Fatal(err)
				}
				if !waitCommittedOrFailed(t, props, "seq", committedNext(t, props, "seq")+2000, failure) {
					t.Fatalf("the restarted task failed: %v", failure.err)
				}
			}
			if n := len(log.lines("starting the task afresh")); n > 0 {
				t.Logf("the broker lost a commit's markers; the task started afresh %d time(s)", n)
			}
			waitCommitted(t, props, "seq", committedNext(t, props, "seq")+1000)
			ctx, cancel := stopContext(w)
			defer cancel()
			if err := task.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			checkSequence(t, readTopic(t, bootstrap, topic, true), committedNext(t, props, "seq"))
		})
	}
}

// TestExactlyOnceStartWaitsForTransactionsOpenInTheOffsetsTopic leaves another producer's
// transaction open in the offsets topic while a task commits more offsets behind it, as a
// transaction whose markers a broker lost stays open. A read_committed reader stops at the
// open transaction, so a new instance of the task that read its offsets at once would start
// from before those commits and send their records again; it must wait for the transaction to
// end instead, and then go on from where the last instance stopped.
func TestExactlyOnceStartWaitsForTransactionsOpenInTheOffsetsTopic(t *testing.T) {
	bootstrap := testenv.Kafka(t)
	topic := testenv.Topic(t, "eos-held")
	props := eosProps(bootstrap, "eos-"+topic, testenv.Topic(t, "eos-held-offsets"))
	w, _, _ := newSeqEOSWorker(t, props)
	conn, id := seqConn(topic)
	task, err := w.StartSourceTask(id, conn, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitCommitted(t, props, "seq", 1000)

	other, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.TransactionalID(topic+"-other"),
		kgo.DefaultProduceTopic(props["offset.storage.topic"]), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := other.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for p := range int32(2) {
		rec := &kgo.Record{Partition: p, Key: []byte(`["other",{"p":1}]`), Value: []byte(`{"o":1}`)}
		if err := other.ProduceSync(ctx, rec).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	// More commits behind the open transaction, then the task stops.
	uncommitted := openEOSStoreUncommitted(t, props)
	target := committedNextIn(t, uncommitted, "seq") + 2000
	for committedNextIn(t, uncommitted, "seq") < target {
		time.Sleep(50 * time.Millisecond)
	}
	stopCtx, stopCancel := stopContext(w)
	defer stopCancel()
	if err := task.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	last := committedNextIn(t, uncommitted, "seq")

	task, err = w.StartSourceTask(id, conn, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // the new instance waits meanwhile
	if err := other.EndTransaction(ctx, kgo.TryAbort); err != nil {
		t.Fatal(err)
	}
	waitCommitted(t, props, "seq", last+1000)
	stopCtx2, stopCancel2 := stopContext(w)
	defer stopCancel2()
	if err := task.Stop(stopCtx2); err != nil {
		t.Fatal(err)
	}
	checkSequence(t, readTopic(t, bootstrap, topic, true), committedNext(t, props, "seq"))
}

// openEOSStoreUncommitted opens the offsets topic of props reading uncommitted records too,
// which sees past a transaction left open.
func openEOSStoreUncommitted(t *testing.T, props map[string]string) *offsets.TopicStore {
	t.Helper()
	topic, err := runtime.OffsetTopicSettings(props, "")
	if err != nil {
		t.Fatal(err)
	}
	topic.ReadCommitted = false
	opts, err := runtime.OffsetTopicClientOpts(props)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := offsets.OpenTopic(ctx, opts, topic, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// committedNextIn reads seqSource's offset (the next number) from store.
func committedNextIn(t *testing.T, store *offsets.TopicStore, connector string) int64 {
	t.Helper()
	off, err := store.Get(connector, seqPartition)
	if err != nil {
		t.Fatal(err)
	}
	n, _, err := connect.OffsetInt64(off, "next")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestExactlyOnceWithoutReadPermission runs an exactly-once task whose producer may write its
// topics but not read them, as upstream's documentation grants a task producer: the broker
// refuses the DescribeProducers calls of both guards against lost markers (source_pending.go),
// so the task warns and carries on unchecked, and still commits every record once.
func TestExactlyOnceWithoutReadPermission(t *testing.T) {
	topic, offsetsTopic := "eos-noread", "eos-noread-offsets"
	write := func(name string) []kfake.ACL {
		return []kfake.ACL{
			{Resource: kmsg.ACLResourceTypeTopic, Name: name, Pattern: kmsg.ACLResourcePatternTypeLiteral, Operation: kmsg.ACLOperationWrite, Allow: true},
			{Resource: kmsg.ACLResourceTypeTopic, Name: name, Pattern: kmsg.ACLResourcePatternTypeLiteral, Operation: kmsg.ACLOperationRead, Allow: false},
		}
	}
	acls := append(write(topic), write(offsetsTopic)...)
	acls = append(acls, kfake.ACL{Resource: kmsg.ACLResourceTypeTransactionalId, Name: "eos-noread-",
		Pattern: kmsg.ACLResourcePatternTypePrefixed, Operation: kmsg.ACLOperationWrite, Allow: true})
	c, err := kfake.NewCluster(kfake.Ports(0), kfake.SeedTopics(1, topic), kfake.EnableSASL(), kfake.EnableACLs(),
		kfake.Superuser("PLAIN", "worker", "worker-secret"), kfake.User("PLAIN", "producer", "producer-secret", acls...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	bootstrap := c.ListenAddrs()[0]
	props := eosProps(bootstrap, "eos-noread", offsetsTopic)
	jaas := `org.apache.kafka.common.security.plain.PlainLoginModule required username="%s" password="%s";`
	props["security.protocol"] = "SASL_PLAINTEXT"
	props["sasl.mechanism"] = "PLAIN"
	props["sasl.jaas.config"] = fmt.Sprintf(jaas, "worker", "worker-secret")
	props["producer.sasl.jaas.config"] = fmt.Sprintf(jaas, "producer", "producer-secret")

	w, log, _ := newSeqEOSWorker(t, props)
	conn, id := seqConn(topic)
	failure := newTaskFailure()
	task, err := w.StartSourceTask(id, conn, conn, failure.listener)
	if err != nil {
		t.Fatal(err)
	}
	if !waitCommittedOrFailed(t, props, "seq", 2000, failure) {
		t.Fatalf("the task failed: %v", failure.err)
	}
	ctx, cancel := stopContext(w)
	defer cancel()
	if err := task.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	for _, warning := range []string{
		"reading the offsets without waiting for them",
		"committing unchecked",
	} {
		if !strings.Contains(log.String(), warning) {
			t.Errorf("the worker did not warn %q; its log:\n%s", warning, log)
		}
	}
	reader := kgo.SASL(plain.Auth{User: "worker", Pass: "worker-secret"}.AsMechanism())
	checkSequence(t, readTopic(t, bootstrap, topic, true, reader), committedNext(t, props, "seq"))
}

// TestExactlyOnceStartsAfreshAfterRecordsLeftPending makes the broker report, at a task's first
// commit to its topic, that its producer has records pending there from before the transaction,
// as when Apache Kafka lost an earlier commit's markers (source_pending.go). The task must abort
// that transaction and start afresh in place from its committed offsets, without failing and
// without two instances live at once; a read_committed reader then sees every number once. A
// broker that keeps reporting such records fails the task after maxFreshStarts fresh starts.
func TestExactlyOnceStartsAfreshAfterRecordsLeftPending(t *testing.T) {
	for _, tc := range []struct {
		name    string
		reports int // how many checks are told of pending records; -1: all
	}{{"once", 1}, {"always", -1}} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := kfake.NewCluster(kfake.Ports(0), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(1))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(c.Close)
			bootstrap := c.ListenAddrs()[0]
			topic := "eos-left-pending"
			// The task's producer ID, from its transactional batches (Produce v13 names topics by
			// ID, and only the task writes transactionally here).
			var pid atomic.Int64
			c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
				for _, rt := range req.(*kmsg.ProduceRequest).Topics {
					for _, rp := range rt.Partitions {
						var batch kmsg.RecordBatch
						if batch.ReadFrom(rp.Records) == nil && batch.Attributes&0x10 != 0 {
							pid.Store(batch.ProducerID)
						}
					}
				}
				return nil, nil, false
			})
			var armed atomic.Bool
			var reported atomic.Int64
			c.ControlKey(int16(kmsg.DescribeProducers), func(req kmsg.Request) (kmsg.Response, error, bool) {
				r := req.(*kmsg.DescribeProducersRequest)
				asked := slices.ContainsFunc(r.Topics, func(rt kmsg.DescribeProducersRequestTopic) bool { return rt.Topic == topic })
				if !armed.Load() || !asked || (tc.reports >= 0 && reported.Load() >= int64(tc.reports)) {
					return nil, nil, false
				}
				reported.Add(1)
				c.KeepControl()
				// The topic's partitions hold records of the task's producer from offset 0 on;
				// the other topics asked about (the offsets topic) hold none.
				resp := r.ResponseKind().(*kmsg.DescribeProducersResponse)
				for _, rt := range r.Topics {
					st := kmsg.NewDescribeProducersResponseTopic()
					st.Topic = rt.Topic
					for _, p := range rt.Partitions {
						sp := kmsg.NewDescribeProducersResponseTopicPartition()
						sp.Partition = p
						if rt.Topic == topic {
							ap := kmsg.NewDescribeProducersResponseTopicPartitionActiveProducer()
							ap.ProducerID, ap.CurrentTxnStartOffset = pid.Load(), 0
							sp.ActiveProducers = append(sp.ActiveProducers, ap)
						}
						st.Partitions = append(st.Partitions, sp)
					}
					resp.Topics = append(resp.Topics, st)
				}
				return resp, nil, true
			})

			props := eosProps(bootstrap, "eos-left-pending", "eos-left-pending-offsets")
			w, log, n := newSeqEOSWorker(t, props)
			conn, id := seqConn(topic)
			// A first instance commits from offset 0, so that the next one's first record lands
			// after the pending records the broker will report from offset 0.
			task, err := w.StartSourceTask(id, conn, conn, nil)
			if err != nil {
				t.Fatal(err)
			}
			waitCommitted(t, props, "seq", 1000)
			ctx, cancel := stopContext(w)
			defer cancel()
			if err := task.Stop(ctx); err != nil {
				t.Fatal(err)
			}

			armed.Store(true)
			failure := newTaskFailure()
			if task, err = w.StartSourceTask(id, conn, conn, failure.listener); err != nil {
				t.Fatal(err)
			}
			afresh := func() int { return len(log.lines("starting the task afresh from its committed offsets")) }
			if tc.reports < 0 {
				err := failure.wait(t, "the task to fail after its fresh starts")
				if !strings.Contains(err.Error(), "left records of an earlier transaction of this task pending") {
					t.Fatalf("the task failed with %v, want the pending records named", err)
				}
				if got := afresh(); got != 3 {
					t.Errorf("the task started afresh %d times before it failed, want 3 (maxFreshStarts)", got)
				}
			} else {
				if !waitCommittedOrFailed(t, props, "seq", committedNext(t, props, "seq")+2000, failure) {
					t.Fatalf("the task failed: %v", failure.err)
				}
				if got := afresh(); got != 1 {
					t.Errorf("the task started afresh %d times, want 1", got)
				}
				if err := task.Stop(ctx); err != nil {
					t.Fatal(err)
				}
			}
			waitClosed(t, task.Done(), "the task to finish")
			if most := n.most(); most != 1 {
				t.Errorf("%d instances of the task were live at once, want 1", most)
			}
			checkSequence(t, readTopic(t, bootstrap, topic, true), committedNext(t, props, "seq"))
		})
	}
}
