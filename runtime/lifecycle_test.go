package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/runtime"
	"github.com/kconnect/kconnect/runtime/herder"
)

// instances counts the live instances of a test task: from its Start until its Stop returned.
// Two at once is a task running twice on one worker.
type instances struct {
	polled atomic.Int64 // records polled by every instance

	mu      sync.Mutex
	live    int
	maxLive int
	starts  int
}

func (n *instances) start() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.live++
	n.starts++
	n.maxLive = max(n.maxLive, n.live)
	return n.starts
}

func (n *instances) stop() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.live--
}

func (n *instances) most() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.maxLive
}

// seqPartition is the one source partition of seqSource; its offset is the next number to send.
var seqPartition = map[string]any{"source": "seq"}

// seqSource is a source connector whose task sends the numbers 0, 1, 2, ... as fast as Kafka
// takes them, resuming after its committed offset.
type seqSource struct {
	n     *instances
	props map[string]string
}

func (c *seqSource) Version() string { return "1" }
func (c *seqSource) ConfigDef() *connect.ConfigDef {
	return connect.NewConfigDef().Define(connect.ConfigKey{Name: "topic", Type: connect.ConfigString,
		Importance: connect.High, Doc: "The topic of the numbers."})
}
func (c *seqSource) Start(_ connect.ConnectorContext, props map[string]string) error {
	c.props = props
	return nil
}
func (c *seqSource) TaskConfigs(int) ([]map[string]string, error) {
	return []map[string]string{c.props}, nil
}
func (c *seqSource) Stop() error                 { return nil }
func (c *seqSource) NewTask() connect.SourceTask { return &seqTask{n: c.n} }

type seqTask struct {
	n     *instances
	topic string
	next  int64
}

func (t *seqTask) Version() string { return "1" }

func (t *seqTask) Start(ctx connect.SourceTaskContext, props map[string]string) error {
	t.n.start()
	t.topic = props["topic"]
	off, err := ctx.Offsets().Offset(seqPartition)
	if err != nil {
		return err
	}
	if off != nil {
		next, err := strconv.ParseInt(fmt.Sprint(off["next"]), 10, 64)
		if err != nil {
			return fmt.Errorf("offset %v: %w", off, err)
		}
		t.next = next
	}
	return nil
}

func (t *seqTask) Poll(ctx context.Context) ([]connect.SourceRecord, error) {
	if ctx.Err() != nil {
		return nil, nil
	}
	recs := make([]connect.SourceRecord, 500)
	for i := range recs {
		recs[i] = connect.SourceRecord{
			Record:          connect.Record{Topic: t.topic, Partition: -1, ValueSchema: connect.StringSchema, Value: strconv.FormatInt(t.next, 10)},
			SourcePartition: seqPartition, SourceOffset: map[string]any{"next": t.next + 1},
		}
		t.next++
	}
	t.n.polled.Add(int64(len(recs)))
	return recs, nil
}

func (t *seqTask) Commit(context.Context, []connect.SourceOffset) error { return nil }

func (t *seqTask) Stop() error {
	t.n.stop()
	return nil
}

// newLifecycleWorker returns a test worker on bootstrap whose tasks have one second to stop.
func newLifecycleWorker(t *testing.T, bootstrap string, extra ...connect.Plugin) (*runtime.Worker, *syncBuffer) {
	t.Helper()
	return newTestWorker(t, bootstrap, map[string]string{"task.shutdown.graceful.timeout.ms": "1000"}, extra...)
}

// onRunning is a state listener that closes ch when the task reports RUNNING.
func onRunning(ch chan struct{}) runtime.StateListener {
	var once sync.Once
	return func(_ herder.TaskID, state herder.State, _ error) {
		if state == herder.Running {
			once.Do(func() { close(ch) })
		}
	}
}

func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(60 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// stopContext is what the standalone herder gives a task to stop: the graceful timeout and a second.
func stopContext(w *runtime.Worker) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), w.ShutdownTimeout()+time.Second)
}

// readValues reads the records of topic from the start until it has want of them and no more
// arrive for a second.
func readValues(t *testing.T, bootstrap, topic string, want int) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []string
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		fs := cl.PollFetches(ctx)
		cancel()
		if fs.NumRecords() == 0 && len(out) >= want {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("read %d records of %s, want %d", len(out), topic, want)
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, string(r.Value)) })
	}
}

// TestSourceRestartDuringKafkaOutageDoesNotRunTwice stops a source task whose producer buffer is
// full because Kafka is down, and starts it again: the stop cancels the blocked produce and the
// records buffered for Kafka, so the old instance ends before the new one starts, nothing it
// buffered reaches Kafka later (every number arrives once), and no offset Kafka did not
// acknowledge is committed.
func TestSourceRestartDuringKafkaOutageDoesNotRunTwice(t *testing.T) {
	startBroker := stoppableBroker(t)
	brk := startBroker()
	addr := brk.Addr()
	if err := brk.Close(); err != nil { // Kafka is down from the task's start
		t.Fatal(err)
	}
	n := &instances{}
	w, log := newLifecycleWorker(t, addr,
		connect.Plugin{Class: "SeqSource", Type: connect.PluginSource, New: func() any { return &seqSource{n: n} }})
	topic := "numbers"
	conn := map[string]string{"name": "seq", "connector.class": "SeqSource", "topic": topic}
	id := herder.TaskID{Connector: "seq", Task: 0}

	first, err := w.StartSourceTask(id, conn, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The producer buffers 10,000 records; the task blocks sending the batch after those.
	deadline := time.Now().Add(60 * time.Second)
	for n.polled.Load() < 10_500 {
		if time.Now().After(deadline) {
			t.Fatalf("the task polled only %d records", n.polled.Load())
		}
		time.Sleep(50 * time.Millisecond)
	}
	ctx, cancel := stopContext(w)
	stopErr := first.Stop(ctx)
	cancel()
	t.Logf("stop of the first instance: %v", stopErr)

	running := make(chan struct{})
	second, err := w.StartSourceTask(id, conn, conn, onRunning(running))
	if err != nil {
		t.Fatalf("start again after the stop: %v", err)
	}
	waitClosed(t, running, "the second instance RUNNING")
	if live := n.most(); live != 1 {
		t.Fatalf("%d instances of the task ran at once", live)
	}
	if off, err := w.Offsets().Get("seq", seqPartition); err != nil || off != nil {
		t.Fatalf("offset committed while Kafka acknowledged nothing: %v, %v", off, err)
	}
	if len(log.lines("level=WARN", "connector=seq", "task=0", "task.shutdown.graceful.timeout.ms")) == 0 {
		t.Errorf("no WARN naming the task and the graceful timeout it exceeded")
	}

	startBroker()
	deadline = time.Now().Add(60 * time.Second)
	for {
		off, err := w.Offsets().Get("seq", seqPartition)
		if err != nil {
			t.Fatal(err)
		}
		if next, _ := strconv.ParseInt(fmt.Sprint(off["next"]), 10, 64); next >= 10_000 { // more than a full buffer
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the second instance did not get 10,000 numbers into Kafka; offset %v", off)
		}
		time.Sleep(100 * time.Millisecond)
	}
	ctx, cancel = stopContext(w)
	if err := second.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	off, err := w.Offsets().Get("seq", seqPartition)
	if err != nil {
		t.Fatal(err)
	}
	sent, err := strconv.Atoi(fmt.Sprint(off["next"]))
	if err != nil {
		t.Fatalf("offset %v: %v", off, err)
	}
	values := readValues(t, addr, topic, sent)
	seen := map[string]int{}
	var dup []string
	for _, v := range values {
		if seen[v]++; seen[v] == 2 {
			dup = append(dup, v)
		}
	}
	if len(dup) > 0 {
		t.Fatalf("%d of %d numbers are in Kafka twice (first: %s)", len(dup), len(values), strings.Join(dup[:min(5, len(dup))], ","))
	}
	for i := range len(values) {
		if seen[strconv.Itoa(i)] != 1 {
			t.Fatalf("number %d missing among the %d in Kafka", i, len(values))
		}
	}
}

// testSink is a sink connector that hands the test every batch Put gets. With release set, its
// first task instance blocks in its first Put until the test closes release, deaf to Put's
// context, as a sink waiting on a hung external system would be.
type testSink struct {
	n       *instances
	release chan struct{}
	// putDelay is how long every Put that is not stuck takes, unless its context ends first.
	putDelay time.Duration
	// putCtx, if set, receives the context of the first Put, for the test to see it started and
	// whether it was cancelled.
	putCtx chan context.Context
	// puts receives the records of every Put that returned nil.
	puts chan []connect.SinkRecord
}

func (c *testSink) Version() string                                         { return "1" }
func (c *testSink) ConfigDef() *connect.ConfigDef                           { return connect.NewConfigDef() }
func (c *testSink) Start(connect.ConnectorContext, map[string]string) error { return nil }
func (c *testSink) TaskConfigs(int) ([]map[string]string, error) {
	return []map[string]string{{}}, nil
}
func (c *testSink) Stop() error               { return nil }
func (c *testSink) NewTask() connect.SinkTask { return &testSinkTask{c: c} }

type testSinkTask struct {
	c        *testSink
	instance int
}

func (t *testSinkTask) Version() string { return "1" }

func (t *testSinkTask) Start(connect.SinkTaskContext, map[string]string) error {
	t.instance = t.c.n.start()
	return nil
}

func (t *testSinkTask) Put(ctx context.Context, recs []connect.SinkRecord) error {
	if t.c.putCtx != nil {
		select {
		case t.c.putCtx <- ctx:
		default:
		}
	}
	if t.instance == 1 && t.c.release != nil {
		<-t.c.release
		return ctx.Err()
	}
	select {
	case <-time.After(t.c.putDelay):
	case <-ctx.Done():
		return ctx.Err()
	}
	t.c.puts <- recs
	return nil
}

func (t *testSinkTask) PreCommit(_ context.Context, cur map[connect.TopicPartition]int64) (map[connect.TopicPartition]int64, error) {
	return cur, nil
}

func (t *testSinkTask) Stop() error {
	t.c.n.stop()
	return nil
}

// TestSinkRestartWhilePutIsStuckDoesNotRunTwice stops a sink task stuck in Put: the stop cancels
// Put's context once the graceful timeout passed, and as long as the task ignores that, starting
// it again fails with an error saying why instead of running a second instance. Once the stuck
// Put returns, the task starts again and is given the batch again: the abandoned batch's offsets
// were not committed.
func TestSinkRestartWhilePutIsStuckDoesNotRunTwice(t *testing.T) {
	bootstrap := testenv.Kafka(t)
	topic := testenv.Topic(t, "stuck")
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: topic, Value: []byte("a")}, &kgo.Record{Topic: topic, Value: []byte("b")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	sink := &testSink{n: &instances{}, release: make(chan struct{}), putCtx: make(chan context.Context, 1), puts: make(chan []connect.SinkRecord, 10)}
	w, log := newLifecycleWorker(t, bootstrap,
		connect.Plugin{Class: "StuckSink", Type: connect.PluginSink, New: func() any { return sink }})
	conn := map[string]string{"name": "stuck", "connector.class": "StuckSink", "topics": topic}
	id := herder.TaskID{Connector: "stuck", Task: 0}
	released := false
	defer func() {
		if !released {
			close(sink.release)
		}
	}()

	first, err := w.StartSinkTask(id, conn, map[string]string{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var putCtx context.Context
	select {
	case putCtx = <-sink.putCtx:
	case <-time.After(60 * time.Second):
		t.Fatal("the first instance got no records")
	}
	ctx, cancel := stopContext(w)
	stopErr := first.Stop(ctx)
	cancel()
	t.Logf("stop of the first instance: %v", stopErr)
	if putCtx.Err() == nil {
		t.Fatalf("Put's context is not cancelled after the stop timed out")
	}
	if len(log.lines("level=WARN", "connector=stuck", "task=0", "task.shutdown.graceful.timeout.ms")) == 0 {
		t.Errorf("no WARN naming the task and the graceful timeout it exceeded")
	}

	running := make(chan struct{})
	_, err = w.StartSinkTask(id, conn, map[string]string{}, onRunning(running))
	if err == nil {
		waitClosed(t, running, "the second instance RUNNING")
		t.Fatalf("a second instance started while the first is stuck in Put (%d at once)", sink.n.most())
	}
	if !strings.Contains(err.Error(), "still") {
		t.Errorf("the start fails without saying the previous instance is still running: %v", err)
	}
	t.Logf("start while stuck: %v", err)

	close(sink.release)
	released = true
	select {
	case <-first.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("the first instance did not finish once its Put returned")
	}
	second, err := w.StartSinkTask(id, conn, map[string]string{}, nil)
	if err != nil {
		t.Fatalf("start once the first instance finished: %v", err)
	}
	defer func() {
		ctx, cancel := stopContext(w)
		defer cancel()
		_ = second.Stop(ctx)
	}()
	select {
	case recs := <-sink.puts:
		if recs[0].Offset != 0 {
			t.Fatalf("the second instance resumed at offset %d: the abandoned batch was committed", recs[0].Offset)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the second instance got no records")
	}
	if live := sink.n.most(); live != 1 {
		t.Fatalf("%d instances of the task ran at once", live)
	}
}

// TestSinkStopLetsAPutUnderWayFinish stops a sink task in the middle of a Put that takes less than
// the graceful timeout: the Put completes with its context intact, its offsets are committed and
// the task ends as stopped, not failed, so the next instance does not get the batch again.
func TestSinkStopLetsAPutUnderWayFinish(t *testing.T) {
	bootstrap := testenv.Kafka(t)
	topic := testenv.Topic(t, "graceful")
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	produce := func(v string) {
		t.Helper()
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: topic, Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	produce("a")
	sink := &testSink{n: &instances{}, putDelay: 500 * time.Millisecond, putCtx: make(chan context.Context, 1),
		puts: make(chan []connect.SinkRecord, 10)}
	w, _ := newLifecycleWorker(t, bootstrap,
		connect.Plugin{Class: "TestSink", Type: connect.PluginSink, New: func() any { return sink }})
	conn := map[string]string{"name": "graceful", "connector.class": "TestSink", "topics": topic}
	id := herder.TaskID{Connector: "graceful", Task: 0}

	states := &stateLog{}
	first, err := w.StartSinkTask(id, conn, map[string]string{}, states.listener)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-sink.putCtx:
	case <-time.After(60 * time.Second):
		t.Fatal("the first instance got no records")
	}
	ctx, cancel := stopContext(w)
	defer cancel()
	if err := first.Stop(ctx); err != nil {
		t.Fatalf("stop during a Put shorter than the graceful timeout: %v", err)
	}
	if s := states.last(); s != herder.Unassigned {
		t.Errorf("the stopped instance last reported %s, want UNASSIGNED", s)
	}
	select {
	case recs := <-sink.puts: // only a Put whose context stayed intact for its 500 ms gets here
		if v := fmt.Sprint(recs[0].Value); v != "a" {
			t.Fatalf("first Put got %q, want a", v)
		}
	default:
		t.Fatal("the Put under way did not complete: the stop cancelled it")
	}

	produce("b")
	second, err := w.StartSinkTask(id, conn, map[string]string{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = w.StopTasks(context.Background(), []herder.TaskID{second.ID()}) }()
	select {
	case recs := <-sink.puts:
		if v := fmt.Sprint(recs[0].Value); v != "b" {
			t.Fatalf("the next instance got %q first, want b: the completed Put's offset was not committed", v)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the next instance got no records")
	}
}

// TestSinkRestartDuringKafkaOutageDoesNotRunTwice stops and starts a sink task while its Kafka is
// down: the old instance finishes (its consumer closed) before the new one starts, within the
// stop's bounds, and once Kafka is back the new one consumes what was written meanwhile.
func TestSinkRestartDuringKafkaOutageDoesNotRunTwice(t *testing.T) {
	startBroker := stoppableBroker(t)
	brk := startBroker()
	produce := func(values ...string) {
		t.Helper()
		cl, err := kgo.NewClient(kgo.SeedBrokers(brk.Addr()), kgo.AllowAutoTopicCreation())
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		for _, v := range values {
			if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: "lines", Value: []byte(v)}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	produce("1")
	sink := &testSink{n: &instances{}, puts: make(chan []connect.SinkRecord, 100)}
	w, _ := newLifecycleWorker(t, brk.Addr(),
		connect.Plugin{Class: "TestSink", Type: connect.PluginSink, New: func() any { return sink }})
	conn := map[string]string{"name": "count", "connector.class": "TestSink", "topics": "lines"}
	id := herder.TaskID{Connector: "count", Task: 0}
	next := func(want string) {
		t.Helper()
		select {
		case recs := <-sink.puts:
			if v := fmt.Sprint(recs[0].Value); len(recs) != 1 || v != want {
				t.Fatalf("sink got %d records, the first %q; want %q", len(recs), v, want)
			}
		case <-time.After(60 * time.Second):
			t.Fatalf("sink did not get %q", want)
		}
	}

	first, err := w.StartTask(context.Background(), id, conn, map[string]string{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	next("1")
	time.Sleep(500 * time.Millisecond) // so that offset 1 is committed (every 200 ms)
	if err := brk.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.StopTasks(context.Background(), []herder.TaskID{id}); err != nil {
		t.Fatalf("stop during the outage: %v", err)
	}
	select {
	case <-first.Done():
	default:
		t.Fatal("StopTasks returned without error before the instance finished")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	second, err := w.StartTask(ctx, id, conn, map[string]string{}, nil)
	if err != nil {
		t.Fatalf("start during the outage: %v", err)
	}
	defer func() { _ = w.StopTasks(context.Background(), []herder.TaskID{second.ID()}) }()
	brk = startBroker()
	produce("2")
	next("2")
	if live := sink.n.most(); live != 1 {
		t.Fatalf("%d instances of the task ran at once", live)
	}
}

// deafSource is a source connector whose first task instance blocks in Poll, deaf to its
// context, until release is closed, and whose Stop blocks until stopRelease is closed.
type deafSource struct {
	n           *instances
	release     chan struct{}
	stopRelease chan struct{}
}

func (c *deafSource) Version() string                                         { return "1" }
func (c *deafSource) ConfigDef() *connect.ConfigDef                           { return connect.NewConfigDef() }
func (c *deafSource) Start(connect.ConnectorContext, map[string]string) error { return nil }
func (c *deafSource) TaskConfigs(int) ([]map[string]string, error) {
	return []map[string]string{{}}, nil
}
func (c *deafSource) NewTask() connect.SourceTask { return &deafTask{c: c} }

func (c *deafSource) Stop() error {
	<-c.stopRelease
	return nil
}

type deafTask struct {
	c        *deafSource
	instance int
}

func (t *deafTask) Version() string { return "1" }

func (t *deafTask) Start(connect.SourceTaskContext, map[string]string) error {
	t.instance = t.c.n.start()
	return nil
}

func (t *deafTask) Poll(ctx context.Context) ([]connect.SourceRecord, error) {
	if t.instance == 1 {
		<-t.c.release
		return nil, nil
	}
	<-ctx.Done()
	return nil, nil
}

func (t *deafTask) Commit(context.Context, []connect.SourceOffset) error { return nil }

func (t *deafTask) Stop() error {
	t.c.n.stop()
	return nil
}

// stateLog records the states a task reported.
type stateLog struct {
	mu     sync.Mutex
	states []herder.State
}

func (l *stateLog) listener(_ herder.TaskID, state herder.State, _ error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.states = append(l.states, state)
}

func (l *stateLog) last() herder.State {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.states) == 0 {
		return ""
	}
	return l.states[len(l.states)-1]
}

// TestStopTasksAbandonsATaskDeafToCancellation stops a source task stuck in a Poll that ignores
// its context: StopTasks returns once the graceful timeout and the cancellation's grace passed,
// with ErrTaskAbandoned; the instance stays registered, so starting the task again fails saying
// why, as does starting it while it runs; once Poll returns the instance finishes as stopped,
// not failed, and the task starts again.
func TestStopTasksAbandonsATaskDeafToCancellation(t *testing.T) {
	src := &deafSource{n: &instances{}, release: make(chan struct{}), stopRelease: make(chan struct{})}
	close(src.stopRelease)
	w, _ := newLifecycleWorker(t, testenv.Kafka(t),
		connect.Plugin{Class: "DeafSource", Type: connect.PluginSource, New: func() any { return src }})
	conn := map[string]string{"name": "deaf", "connector.class": "DeafSource"}
	id := herder.TaskID{Connector: "deaf", Task: 0}
	released := false
	defer func() {
		if !released {
			close(src.release)
		}
	}()

	states := &stateLog{}
	running := make(chan struct{})
	first, err := w.StartTask(context.Background(), id, conn, map[string]string{}, func(id herder.TaskID, s herder.State, err error) {
		states.listener(id, s, err)
		onRunning(running)(id, s, err)
	})
	if err != nil {
		t.Fatal(err)
	}
	waitClosed(t, running, "the first instance RUNNING")
	if _, err := w.StartTask(context.Background(), id, conn, map[string]string{}, nil); err == nil ||
		!strings.Contains(err.Error(), "already running") {
		t.Fatalf("a second start of a running task: %v, want an error saying it is already running", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = w.StopTasks(ctx, []herder.TaskID{id})
	if !errors.Is(err, runtime.ErrTaskAbandoned) {
		t.Fatalf("StopTasks of a task deaf to cancellation: %v, want ErrTaskAbandoned", err)
	}
	if got := w.Tasks(); len(got) != 1 || got[0] != id {
		t.Fatalf("registered instances after the abandoned stop: %v, want %v", got, id)
	}
	short, cancelShort := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_, err = w.StartTask(short, id, conn, map[string]string{}, nil)
	cancelShort()
	if !errors.Is(err, runtime.ErrTaskAbandoned) || !strings.Contains(err.Error(), "still running") {
		t.Fatalf("start while the abandoned instance runs: %v", err)
	}

	close(src.release)
	released = true
	waitClosed(t, first.Done(), "the abandoned instance finished")
	if got := w.Tasks(); len(got) != 0 {
		t.Fatalf("registered instances once it finished: %v", got)
	}
	if s := states.last(); s != herder.Unassigned {
		t.Errorf("the cancelled instance last reported %s, want UNASSIGNED", s)
	}
	running2 := make(chan struct{})
	if _, err := w.StartTask(context.Background(), id, conn, map[string]string{}, onRunning(running2)); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, running2, "the task RUNNING again")
	if err := w.StopTasks(context.Background(), []herder.TaskID{id}); err != nil {
		t.Fatalf("stop of a task that heeds cancellation: %v", err)
	}
	if live := src.n.most(); live != 1 {
		t.Fatalf("%d instances of the task ran at once", live)
	}
}

// TestConnectorStopIsBounded checks that a connector whose Stop hangs is given up on with an
// error after upstream's 5 s, instead of holding its herder for ever.
func TestConnectorStopIsBounded(t *testing.T) {
	src := &deafSource{n: &instances{}, stopRelease: make(chan struct{})}
	defer close(src.stopRelease)
	w, _ := newLifecycleWorker(t, testenv.Kafka(t),
		connect.Plugin{Class: "DeafSource", Type: connect.PluginSource, New: func() any { return src }})
	c, _, err := w.NewConnector(map[string]string{"name": "deaf", "connector.class": "DeafSource"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Stop() }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "stop connector did not return") {
			t.Fatalf("Stop of a hung connector: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("Stop of a hung connector did not return")
	}
}
