package runtime_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kconnect/kconnect/broker"
	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/plugins"
	"github.com/kconnect/kconnect/runtime"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/offsets"
	"github.com/kconnect/kconnect/runtime/standalone"
)

// syncBuffer is a log destination the test reads while tasks write to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns the logged lines that contain every one of substrs.
func (b *syncBuffer) lines(substrs ...string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, l := range strings.Split(b.buf.String(), "\n") {
		all := true
		for _, s := range substrs {
			all = all && strings.Contains(l, s)
		}
		if all {
			out = append(out, l)
		}
	}
	return out
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testWorker is a standalone herder running in the test process, logging into a buffer.
type testWorker struct {
	t   *testing.T
	h   *standalone.Herder
	log *syncBuffer
}

func startWorker(t *testing.T, bootstrap string, extra ...connect.Plugin) *testWorker {
	t.Helper()
	w, buf := newTestWorker(t, bootstrap, nil, extra...)
	h := standalone.New(w, slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo})), standalone.Options{})
	if err := h.Start(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Stop(context.Background()) })
	return &testWorker{t: t, h: h, log: buf}
}

// newTestWorker returns a worker on bootstrap with the built-in plugins and extra, string
// converters, a 200 ms offset flush interval and a 1 s flush timeout, overridden by props, that
// logs into the returned buffer (shown when the test fails).
func newTestWorker(t *testing.T, bootstrap string, props map[string]string, extra ...connect.Plugin) (*runtime.Worker, *syncBuffer) {
	t.Helper()
	reg, err := plugins.Registry()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range extra {
		if err := reg.Register(p); err != nil {
			t.Fatal(err)
		}
	}
	store, err := offsets.OpenFile(filepath.Join(t.TempDir(), "connect.offsets"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	buf := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	worker := map[string]string{
		"bootstrap.servers":        bootstrap,
		"key.converter":            "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":          "org.apache.kafka.connect.storage.StringConverter",
		"offset.flush.interval.ms": "200",
		"offset.flush.timeout.ms":  "1000",
	}
	maps.Copy(worker, props)
	w, err := runtime.NewWorker("test-worker", worker, reg, store, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("worker log:\n%s", buf)
		}
	})
	return w, buf
}

func (w *testWorker) create(name string, config map[string]string) {
	w.t.Helper()
	config["name"] = name
	if _, err := w.h.CreateConnector(context.Background(), name, config, herder.TargetStarted); err != nil {
		w.t.Fatalf("create %s: %v", name, err)
	}
}

func (w *testWorker) status(name string) herder.ConnectorStatus {
	w.t.Helper()
	st, err := w.h.ConnectorStatus(context.Background(), name)
	if err != nil {
		w.t.Fatal(err)
	}
	return st
}

// waitFor polls cond until it holds, failing the test after timeout.
func (w *testWorker) waitFor(timeout time.Duration, what string, cond func() bool) {
	w.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			w.t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// taskStates returns "connector/task=STATE" for every task of the connectors.
func (w *testWorker) taskStates(names ...string) []string {
	var out []string
	for _, n := range names {
		for _, task := range w.status(n).Tasks {
			out = append(out, fmt.Sprintf("%s/%d=%s", n, task.ID, task.State))
		}
	}
	return out
}

func appendLines(t *testing.T, path string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(strings.Join(lines, "\n") + "\n"); err != nil {
		t.Fatal(err)
	}
}

// hasLines reports whether the file holds every one of lines.
func hasLines(path string, lines ...string) bool {
	b, _ := os.ReadFile(path)
	got := strings.Split(string(b), "\n")
	for _, l := range lines {
		if !slices.Contains(got, l) {
			return false
		}
	}
	return true
}

// stoppableBroker returns a function starting a private embedded broker, always on the same port
// and data directory, so that a test can stop it (Close) for an outage and start it again.
func stoppableBroker(t *testing.T) func() *broker.Broker {
	dataDir, port := t.TempDir(), testenv.FreePort(t)
	return func() *broker.Broker {
		t.Helper()
		b, err := broker.Start(broker.Options{Port: port, DataDir: dataDir, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Close() })
		return b
	}
}

// TestKafkaOutageIsLoggedAndFailsTasksPastTheRetryBudget runs a file source and a file sink
// against an embedded broker that the test stops. A short outage leaves both running and is
// logged twice per task that noticed it: when noticed, and with its duration when it ends. An
// outage longer than errors.retry.timeout fails both tasks with the cause; restarted once Kafka
// is back, they deliver what was written meanwhile.
func TestKafkaOutageIsLoggedAndFailsTasksPastTheRetryBudget(t *testing.T) {
	startBroker := stoppableBroker(t)
	brk := startBroker()
	t.Cleanup(func() { _ = brk.Close() })
	w := startWorker(t, brk.Addr())
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
	appendLines(t, in, "1", "2", "3")
	w.create("src", map[string]string{"connector.class": "FileStreamSource", "file": in, "topic": "lines",
		"errors.retry.timeout": "4000"})
	w.create("snk", map[string]string{"connector.class": "FileStreamSink", "file": out, "topics": "lines",
		"errors.retry.timeout": "4000"})
	w.waitFor(30*time.Second, "lines 1-3 in the sink's file", func() bool { return hasLines(out, "1", "2", "3") })

	// Shorter than the budget: logged, nothing fails.
	_ = brk.Close()
	time.Sleep(2500 * time.Millisecond)
	brk = startBroker()
	appendLines(t, in, "4", "5")
	w.waitFor(30*time.Second, "lines 4-5 in the sink's file", func() bool { return hasLines(out, "4", "5") })
	if states := w.taskStates("src", "snk"); !slices.Equal(states, []string{"src/0=RUNNING", "snk/0=RUNNING"}) {
		t.Fatalf("after a 2.5s outage with a 4s budget: %v", states)
	}
	begin := w.log.lines("level=WARN", "cannot reach Kafka", "connector=snk")
	end := w.log.lines("level=WARN", "Kafka is reachable again", "connector=snk", "outage=")
	if len(begin) != 1 || len(end) != 1 {
		t.Fatalf("the sink task logged %d WARNs when the outage was noticed and %d when it ended, want 1 and 1:\n%s",
			len(begin), len(end), w.log)
	}

	// Longer than the budget: both tasks fail with the cause.
	_ = brk.Close()
	appendLines(t, in, "6", "7", "8") // so that the source has something to send
	w.waitFor(60*time.Second, "both tasks FAILED", func() bool {
		return slices.Equal(w.taskStates("src", "snk"), []string{"src/0=FAILED", "snk/0=FAILED"})
	})
	for _, name := range []string{"src", "snk"} {
		if trace := w.status(name).Tasks[0].Trace; !strings.Contains(trace, "reaching Kafka kept failing") ||
			!strings.Contains(trace, "errors.retry.timeout") {
			t.Errorf("%s's trace does not give the cause: %q", name, trace)
		}
	}
	brk = startBroker()
	for _, name := range []string{"src", "snk"} {
		if err := w.h.RestartTask(context.Background(), herder.TaskID{Connector: name, Task: 0}); err != nil {
			t.Fatal(err)
		}
	}
	w.waitFor(30*time.Second, "lines 6-8, written during the outage, in the sink's file",
		func() bool { return hasLines(out, "6", "7", "8") })
	if states := w.taskStates("src", "snk"); !slices.Equal(states, []string{"src/0=RUNNING", "snk/0=RUNNING"}) {
		t.Fatalf("after the restart: %v", states)
	}
}
