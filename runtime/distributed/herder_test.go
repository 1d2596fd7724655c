package distributed

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/plugins"
	"github.com/kconnect/kconnect/rest"
	"github.com/kconnect/kconnect/runtime"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/kafkalog/kafkalogtest"
	"github.com/kconnect/kconnect/runtime/offsets"
)

// testWorker is one in-process distributed worker with its REST server.
type testWorker struct {
	h    *Herder
	url  string
	stop func()
}

// startWorkers starts n workers of one group on the test broker, the first alone so that it
// leads, and returns them once each has completed a rebalance.
func startWorkers(t testing.TB, n int, protocol string) (brokers string, ws []*testWorker, topics map[string]string) {
	t.Helper()
	return startWorkersWith(t, n, protocol, nil)
}

// startWorkersWith is startWorkers with extra worker properties.
func startWorkersWith(t testing.TB, n int, protocol string, extra map[string]string) (brokers string, ws []*testWorker, topics map[string]string) {
	t.Helper()
	brokers = testenv.Kafka(t)
	topics = map[string]string{
		"config.storage.topic": testenv.Topic(t, "configs"), "offset.storage.topic": testenv.Topic(t, "offsets"),
		"status.storage.topic": testenv.Topic(t, "status"),
	}
	group := testenv.Topic(t, "group")
	for i := range n {
		props := map[string]string{
			"bootstrap.servers": brokers, "group.id": group,
			"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
			"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false",
			"config.storage.replication.factor": "1", "offset.storage.replication.factor": "1",
			"status.storage.replication.factor": "1", "offset.storage.partitions": "3", "status.storage.partitions": "3",
			"session.timeout.ms": "6000", "heartbeat.interval.ms": "500", "scheduled.rebalance.max.delay.ms": "1000",
			"offset.flush.interval.ms": "200", "task.shutdown.graceful.timeout.ms": "1000", "listeners": "http://127.0.0.1:0",
			"connect.protocol": protocol,
		}
		for k, v := range topics {
			props[k] = v
		}
		maps.Copy(props, extra)
		ws = append(ws, startWorker(t, props))
		waitFor(t, fmt.Sprintf("worker %d ready", i), func() bool { return ws[i].h.Ready(t.Context()) == nil })
	}
	return brokers, ws, topics
}

func startWorker(t testing.TB, props map[string]string) *testWorker {
	t.Helper()
	cfg, err := ParseConfig(props)
	if err != nil {
		t.Fatal(err)
	}
	client, err := runtime.WorkerClientOpts(props)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	store, err := offsets.OpenTopic(ctx, client, cfg.OffsetTopic, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	reg, err := plugins.Registry()
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(progressSourcePlugin); err != nil {
		t.Fatal(err)
	}
	w, err := runtime.NewWorker("pending", props, reg, store, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	h, err := New(ctx, w, log, Options{Config: cfg, Client: client, SinkCheckInterval: 200 * time.Millisecond, TrackTopics: true})
	if err != nil {
		t.Fatal(err)
	}
	restCfg, err := rest.ConfigFromWorker(props)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := rest.New(h, restCfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	url := strings.TrimRight(srv.AdvertisedURL(), "/")
	w.SetID(strings.TrimPrefix(url, "http://"))
	if err := h.Start(srv.AdvertisedURL()); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = srv.Shutdown(context.Background())
			h.Stop()
		})
	}
	t.Cleanup(stop)
	return &testWorker{h: h, url: url, stop: stop}
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// do sends a REST request to w and returns the status code and body.
func (w *testWorker) do(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, w.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// waitStatus waits until w reports the connector and all (exactly n) of its tasks in state.
func (w *testWorker) waitStatus(t *testing.T, name string, n int, state herder.State) herder.ConnectorStatus {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := w.h.ConnectorStatus(t.Context(), name)
		done := err == nil && st.Connector.State == state && len(st.Tasks) == n
		for _, ts := range st.Tasks {
			done = done && ts.State == state
		}
		if done {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s and %d task(s) not %s after 30s: %+v (%v)", name, n, state, st, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Pause, resume, stop, offsets, restarts and deletion sent to a follower act on the whole
// cluster as upstream's: the statuses every worker reads back say so, stopping empties the task
// configs, and offsets of a stopped source connector can be altered.
func TestLifecycleRequestsThroughAFollower(t *testing.T) {
	for _, protocol := range []string{"sessioned", "compatible", "eager"} {
		t.Run(protocol, func(t *testing.T) { testLifecycle(t, protocol) })
	}
}

func testLifecycle(t *testing.T, protocol string) {
	brokers, ws, topics := startWorkers(t, 2, protocol)
	leader, follower := ws[0], ws[1]
	input := filepath.Join(t.TempDir(), "input.txt")
	if err := os.WriteFile(input, []byte("a\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, body := follower.do(t, http.MethodPost, "/connectors", map[string]any{"name": "src", "config": map[string]string{
		"connector.class": "FileStreamSource", "file": input, "topic": testenv.Topic(t, "out")}})
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	leader.waitStatus(t, "src", 1, herder.Running)

	// A request already forwarded once that reaches a follower is a conflict, as upstream answers.
	code, body = follower.do(t, http.MethodDelete, "/connectors/src?forward=false", nil)
	if code != http.StatusConflict || !strings.Contains(string(body), "Cannot complete request because of a conflicting operation") {
		t.Fatalf("delete with forward=false on a follower: %d %s, want 409", code, body)
	}

	if code, body := follower.do(t, http.MethodPut, "/connectors/src/pause", nil); code != http.StatusAccepted {
		t.Fatalf("pause: %d %s", code, body)
	}
	leader.waitStatus(t, "src", 1, herder.Paused)
	if code, body := follower.do(t, http.MethodPut, "/connectors/src/resume", nil); code != http.StatusAccepted {
		t.Fatalf("resume: %d %s", code, body)
	}
	follower.waitStatus(t, "src", 1, herder.Running)

	// Offsets can be altered only once stopped.
	alter := map[string]any{"offsets": []map[string]any{{"partition": map[string]any{"filename": input}, "offset": map[string]any{"position": 2}}}}
	if code, body := follower.do(t, http.MethodPatch, "/connectors/src/offsets", alter); code != http.StatusBadRequest {
		t.Fatalf("alter offsets while running: %d %s, want 400", code, body)
	}
	if code, body := follower.do(t, http.MethodPut, "/connectors/src/stop", nil); code != http.StatusAccepted && code != http.StatusNoContent {
		t.Fatalf("stop: %d %s", code, body)
	}
	leader.waitStatus(t, "src", 0, herder.Stopped)
	// The follower answers from its own read of the config topic, which may lag the leader's.
	waitFor(t, "no tasks of the stopped connector on the follower", func() bool {
		code, body := follower.do(t, http.MethodGet, "/connectors/src/tasks", nil)
		if code != http.StatusOK {
			t.Fatalf("tasks of a stopped connector: %d %s", code, body)
		}
		return strings.TrimSpace(string(body)) == "[]"
	})
	if code, body := follower.do(t, http.MethodPatch, "/connectors/src/offsets", alter); code != http.StatusOK {
		t.Fatalf("alter offsets while stopped: %d %s", code, body)
	}
	code, body = leader.do(t, http.MethodGet, "/connectors/src/offsets", nil)
	if code != http.StatusOK || !strings.Contains(string(body), `"position":2`) {
		t.Fatalf("offsets after alter: %d %s", code, body)
	}

	// The status topic is read partition by partition, so a worker may show the stopped task's
	// last RUNNING with the new task configs, before the rebalance that assigns the new task.
	// A restart request reaches only the tasks a worker is assigned when it reads it (as
	// upstream's), so the test waits for the new task's own RUNNING: the first after the
	// UNASSIGNED that the stopped instance wrote last.
	statuses := func() []taskRecord { return taskStatusRecords(t, brokers, topics["status.storage.topic"], "src-0") }
	var stopped int
	waitFor(t, "the UNASSIGNED record of the stopped task src-0", func() bool {
		recs := statuses()
		stopped = len(recs)
		return stopped > 0 && recs[stopped-1].State == "UNASSIGNED"
	})
	if code, body := follower.do(t, http.MethodPut, "/connectors/src/resume", nil); code != http.StatusAccepted {
		t.Fatalf("resume after stop: %d %s", code, body)
	}
	var owner string
	waitFor(t, "task src-0 running again after the resume", func() bool {
		for _, r := range statuses()[stopped:] {
			if r.State == "RUNNING" {
				owner = r.WorkerID
			}
		}
		return owner != ""
	})
	leader.waitStatus(t, "src", 1, herder.Running)

	// Each restart goes through RESTARTING, written by the task's worker.
	restarting := func() int { return restartingRecords(t, brokers, topics["status.storage.topic"], "src-0", owner) }
	// The next request waits for the restarted task's RUNNING record: until a worker has read
	// it, it may still show the RUNNING from before the restart.
	runningAfter := func(n int) bool {
		seen := 0
		for _, r := range statuses() {
			if r.State == "RESTARTING" && r.WorkerID == owner {
				seen++
			} else if seen >= n && r.State == "RUNNING" {
				return true
			}
		}
		return false
	}
	// A restart request goes through the config topic to the worker running the connector.
	if code, body := follower.do(t, http.MethodPost, "/connectors/src/restart?includeTasks=true", nil); code != http.StatusAccepted {
		t.Fatalf("restart: %d %s", code, body)
	}
	waitFor(t, "a RESTARTING record of task src-0 in the status topic", func() bool { return restarting() >= 1 })
	waitFor(t, "task src-0 running after its restart", func() bool { return runningAfter(1) })
	follower.waitStatus(t, "src", 1, herder.Running)
	if code, body := follower.do(t, http.MethodPost, "/connectors/src/tasks/0/restart", nil); code != http.StatusNoContent {
		t.Fatalf("task restart: %d %s", code, body)
	}
	waitFor(t, "a second RESTARTING record of task src-0 in the status topic", func() bool { return restarting() >= 2 })
	if st := follower.waitStatus(t, "src", 1, herder.Running); st.Tasks[0].WorkerID != owner {
		t.Errorf("task restarted on %s, want its owner %s", st.Tasks[0].WorkerID, owner)
	}

	if code, body := follower.do(t, http.MethodDelete, "/connectors/src", nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", code, body)
	}
	waitFor(t, "src gone", func() bool { _, err := leader.h.ConnectorStatus(t.Context(), "src"); return herder.IsNotFound(err) })

	// The config topic holds upstream's record for each step: the stop wrote an empty commit,
	// the restart a restart request.
	waitFor(t, "an empty commit-src and a restart-connector-src in the config topic", func() bool {
		var sawStopCommit, sawRestart bool
		for _, r := range kafkalogtest.Records(t, brokers, topics["config.storage.topic"]) {
			switch string(r.Key) {
			case "commit-src":
				sawStopCommit = sawStopCommit || string(r.Value) == `{"tasks":0}`
			case "restart-connector-src":
				sawRestart = sawRestart || strings.Contains(string(r.Value), `"include-tasks":true`)
			}
		}
		return sawStopCommit && sawRestart
	})
}

// taskRecord is a task status record of the status topic, in upstream's format.
type taskRecord struct {
	State    string `json:"state"`
	WorkerID string `json:"worker_id"`
}

// taskStatusRecords returns the status topic's records of task (as "src-0"), oldest first.
func taskStatusRecords(t *testing.T, brokers, topic, task string) []taskRecord {
	var out []taskRecord
	for _, r := range kafkalogtest.Records(t, brokers, topic) {
		if string(r.Key) != "status-task-"+task || r.Value == nil {
			continue
		}
		var st taskRecord
		if err := json.Unmarshal(r.Value, &st); err != nil {
			t.Fatalf("status record %s: %v", r.Value, err)
		}
		out = append(out, st)
	}
	return out
}

// restartingRecords counts the RESTARTING records of task (as "src-0") that worker wrote to the
// status topic.
func restartingRecords(t *testing.T, brokers, topic, task, worker string) int {
	n := 0
	for _, r := range taskStatusRecords(t, brokers, topic, task) {
		if r.State == "RESTARTING" && r.WorkerID == worker {
			n++
		}
	}
	return n
}

// A restart request that arrives while an eager rebalance has stopped the task is carried out
// once the rebalance ends, as by upstream's herder, which handles restart requests only between
// rebalances: the task goes through RESTARTING on its owner instead of the request being used
// up on the stopped task.
func TestRestartRequestDuringAnEagerRebalance(t *testing.T) {
	brokers, ws, topics := startWorkers(t, 2, "eager")
	input := filepath.Join(t.TempDir(), "input.txt")
	if err := os.WriteFile(input, []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, body := ws[1].do(t, http.MethodPost, "/connectors", map[string]any{"name": "src", "config": map[string]string{
		"connector.class": "FileStreamSource", "file": input, "topic": testenv.Topic(t, "out")}}); code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	owner := ws[0].waitStatus(t, "src", 1, herder.Running).Tasks[0].WorkerID
	for _, w := range ws {
		if w.h.WorkerID() == owner {
			// The owner rejoins as it does when the config topic changes; being eager, it
			// stops its task first, and the restart request reaches it during the round.
			w.h.member.Rejoin()
		}
	}
	if code, body := ws[1].do(t, http.MethodPost, "/connectors/src/restart?includeTasks=true", nil); code != http.StatusAccepted {
		t.Fatalf("restart: %d %s", code, body)
	}
	waitFor(t, "a RESTARTING record of task src-0 by its owner", func() bool {
		return restartingRecords(t, brokers, topics["status.storage.topic"], "src-0", owner) >= 1
	})
	ws[0].waitStatus(t, "src", 1, herder.Running)
}

// When the leader leaves, a follower leads: writes sent to it succeed, and the connector the
// leader ran moves to it.
func TestFollowerLeadsWhenTheLeaderLeaves(t *testing.T) {
	_, ws, _ := startWorkers(t, 2, "sessioned")
	leader, follower := ws[0], ws[1]
	input := filepath.Join(t.TempDir(), "input.txt")
	if err := os.WriteFile(input, []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	create := func(name string) (int, []byte) {
		return follower.do(t, http.MethodPost, "/connectors", map[string]any{"name": name, "config": map[string]string{
			"connector.class": "FileStreamSource", "file": input, "topic": testenv.Topic(t, "out"), "tasks.max": "1"}})
	}
	for _, name := range []string{"a", "b"} {
		if code, body := create(name); code != http.StatusCreated {
			t.Fatalf("create %s: %d %s", name, code, body)
		}
	}
	follower.waitStatus(t, "a", 1, herder.Running)
	follower.waitStatus(t, "b", 1, herder.Running)

	leader.stop()
	for _, name := range []string{"a", "b"} {
		waitFor(t, name+" and its task RUNNING on the remaining worker", func() bool {
			st, err := follower.h.ConnectorStatus(t.Context(), name)
			return err == nil && st.Connector.State == herder.Running && st.Connector.WorkerID == follower.h.WorkerID() &&
				len(st.Tasks) == 1 && st.Tasks[0].State == herder.Running && st.Tasks[0].WorkerID == follower.h.WorkerID()
		})
	}
	if code, body := create("c"); code != http.StatusCreated {
		t.Fatalf("create on the new leader: %d %s", code, body)
	}
	follower.waitStatus(t, "c", 1, herder.Running)
}

// A sink with fewer partitions than tasks.max runs one task a partition, and more tasks once
// its topic has more partitions.
func TestSinkGetsTasksForNewPartitions(t *testing.T) {
	brokers, ws, _ := startWorkers(t, 2, "sessioned")
	topic := testenv.Topic(t, "grow")
	kafkalogtest.CreateTopic(t, brokers, topic, 1, "delete")
	_, err := ws[0].h.CreateConnector(t.Context(), "sink", map[string]string{"connector.class": "FileStreamSink",
		"file": filepath.Join(t.TempDir(), "out.txt"), "topics": topic, "tasks.max": "3"}, herder.TargetStarted)
	if err != nil {
		t.Fatal(err)
	}
	ws[0].waitStatus(t, "sink", 1, herder.Running)
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreatePartitions(t.Context(), 2, topic); err != nil {
		t.Fatal(err)
	}
	ws[0].waitStatus(t, "sink", 3, herder.Running)
}

// The topics a connector's tasks use are recorded in the status topic, so every worker lists
// them; a reset on any worker clears them until the tasks use the topics again.
func TestActiveTopicsOnEveryWorker(t *testing.T) {
	_, ws, _ := startWorkers(t, 2, "sessioned")
	input := filepath.Join(t.TempDir(), "input.txt")
	if err := os.WriteFile(input, []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	topic := testenv.Topic(t, "used")
	if _, err := ws[0].h.CreateConnector(t.Context(), "src", map[string]string{
		"connector.class": "FileStreamSource", "file": input, "topic": topic}, herder.TargetStarted); err != nil {
		t.Fatal(err)
	}
	topicsOn := func(w *testWorker) string {
		code, body := w.do(t, http.MethodGet, "/connectors/src/topics", nil)
		if code != http.StatusOK {
			t.Fatalf("GET topics: %d %s", code, body)
		}
		return strings.TrimSpace(string(body))
	}
	want := fmt.Sprintf(`{"src":{"topics":[%q]}}`, topic)
	for _, w := range ws {
		waitFor(t, "the topic listed by "+w.h.WorkerID(), func() bool { return topicsOn(w) == want })
	}
	if code, body := ws[1].do(t, http.MethodPut, "/connectors/src/topics/reset", nil); code != http.StatusAccepted {
		t.Fatalf("reset: %d %s", code, body)
	}
	empty := `{"src":{"topics":[]}}`
	for _, w := range ws {
		waitFor(t, "no topic listed by "+w.h.WorkerID()+" after the reset", func() bool { return topicsOn(w) == empty })
	}
	// Lines keep coming, as they would: a worker learns of the reset within a second.
	f, err := os.OpenFile(input, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, w := range ws {
		waitFor(t, "the topic listed again by "+w.h.WorkerID(), func() bool {
			if _, err := f.WriteString("more\n"); err != nil {
				t.Fatal(err)
			}
			return topicsOn(w) == want
		})
	}
}

// With exactly.once.source.support=preparing, tasks run without transactions, but each commit of
// a source connector's task configs is followed by its tasks-fencing record, written by the
// leader also when a follower runs the connector and asks through PUT /connectors/{name}/fence.
func TestPreparingWritesTaskCountRecords(t *testing.T) {
	_, ws, _ := startWorkersWith(t, 2, "sessioned", map[string]string{"exactly.once.source.support": "preparing"})
	leader, follower := ws[0], ws[1]
	config := map[string]string{"connector.class": "datagen", "kafka.topic": testenv.Topic(t, "gen"), "max.interval": "100"}
	for _, tasks := range []int{2, 3} {
		config["tasks.max"] = fmt.Sprint(tasks)
		if code, body := follower.do(t, http.MethodPut, "/connectors/gen/config", config); code/100 != 2 {
			t.Fatalf("PUT tasks.max=%d: %d %s", tasks, code, body)
		}
		follower.waitStatus(t, "gen", tasks, herder.Running)
		waitFor(t, fmt.Sprintf("tasks-fencing-gen with %d tasks", tasks), func() bool {
			snap := leader.h.configs.Snapshot()
			return snap.TaskCountRecords["gen"] == tasks && !snap.PendingFencing["gen"]
		})
	}
	// The sink of the same cluster has no producers to fence.
	if code, body := follower.do(t, http.MethodPut, "/connectors/sink/config", map[string]string{
		"connector.class": "FileStreamSink", "file": filepath.Join(t.TempDir(), "out"), "topics": config["kafka.topic"]}); code/100 != 2 {
		t.Fatalf("PUT sink: %d %s", code, body)
	}
	follower.waitStatus(t, "sink", 1, herder.Running)
	if n, ok := leader.h.configs.Snapshot().TaskCountRecords["sink"]; ok {
		t.Errorf("a sink has a tasks-fencing record with %d tasks", n)
	}
}
