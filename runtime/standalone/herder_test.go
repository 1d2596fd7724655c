package standalone

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/plugins"
	"github.com/kconnect/kconnect/runtime"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/offsets"
)

// stuckSource is a source connector whose tasks ignore cancellation: Poll returns only once
// release is closed, as a plugin stuck in a blocking call does.
type stuckSource struct {
	release chan struct{}
}

func (s *stuckSource) Version() string                                         { return "1" }
func (s *stuckSource) ConfigDef() *connect.ConfigDef                           { return connect.NewConfigDef() }
func (s *stuckSource) Start(connect.ConnectorContext, map[string]string) error { return nil }
func (s *stuckSource) Stop() error                                             { return nil }
func (s *stuckSource) TaskConfigs(int) ([]map[string]string, error) {
	return []map[string]string{{}}, nil
}
func (s *stuckSource) NewTask() connect.SourceTask { return &stuckTask{release: s.release} }

type stuckTask struct{ release chan struct{} }

func (t *stuckTask) Version() string                                          { return "1" }
func (t *stuckTask) Start(connect.SourceTaskContext, map[string]string) error { return nil }
func (t *stuckTask) Commit(context.Context, []connect.SourceOffset) error     { return nil }
func (t *stuckTask) Stop() error                                              { return nil }
func (t *stuckTask) Poll(context.Context) ([]connect.SourceRecord, error) {
	<-t.release
	return nil, nil
}

// testHerder is a started herder on a real worker, with the built-in plugins and StuckSource,
// whose release channel the test sets before creating a StuckSource connector.
type testHerder struct {
	*Herder
	dir       string
	kafka     string
	releaseMu sync.Mutex
	release   chan struct{}
}

// newTestHerder starts a herder whose worker settings are the defaults overridden by props; it
// looks for new sink partitions every 100 ms.
func newTestHerder(t *testing.T, props map[string]string) *testHerder {
	t.Helper()
	th := &testHerder{dir: t.TempDir(), kafka: testenv.Kafka(t), release: make(chan struct{})}
	reg, err := plugins.Registry()
	if err != nil {
		t.Fatal(err)
	}
	err = reg.Register(connect.Plugin{Class: "StuckSource", Type: connect.PluginSource, Version: "1", New: func() any {
		th.releaseMu.Lock()
		defer th.releaseMu.Unlock()
		return &stuckSource{release: th.release}
	}})
	if err != nil {
		t.Fatal(err)
	}
	worker := map[string]string{
		"bootstrap.servers": th.kafka, "key.converter": "org.apache.kafka.connect.storage.StringConverter",
		"value.converter": "org.apache.kafka.connect.storage.StringConverter", "offset.flush.interval.ms": "100",
		"task.shutdown.graceful.timeout.ms": "100",
	}
	for k, v := range props {
		worker[k] = v
	}
	store, err := offsets.OpenFile(filepath.Join(th.dir, "connect.offsets"))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	w, err := runtime.NewWorker("test:8083", worker, reg, store, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	th.Herder = New(w, log, Options{StatePath: filepath.Join(th.dir, "connectors.json"), SinkCheckInterval: 100 * time.Millisecond})
	if err := th.Start(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { th.Stop(context.Background()) })
	return th
}

// waitTask waits until task 0 of the connector reports state.
func (th *testHerder) waitTask(t *testing.T, name string, state herder.State) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := th.TaskStatus(t.Context(), herder.TaskID{Connector: name, Task: 0})
		if err == nil && st.State == state {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s-0 is %+v (%v), want %s", name, st, err, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLateReportOfADeletedTaskIsIgnored checks that a task which did not stop in time when its
// connector was deleted keeps a connector of the same name from running the task again on this
// worker (FAILED, saying why) until it finished, and cannot, when it finally stops, change the
// status of the task that took its place.
func TestLateReportOfADeletedTaskIsIgnored(t *testing.T) {
	th := newTestHerder(t, nil)
	oldRelease := th.release
	if _, err := th.CreateConnector(t.Context(), "c", map[string]string{"connector.class": "StuckSource"}, ""); err != nil {
		t.Fatal(err)
	}
	th.waitTask(t, "c", herder.Running)
	th.Herder.mu.Lock()
	old := th.connectors["c"].tasks[0]
	th.Herder.mu.Unlock()
	th.releaseMu.Lock()
	th.release = make(chan struct{})
	th.releaseMu.Unlock()

	if err := th.DeleteConnector(t.Context(), "c"); err != nil {
		t.Fatal(err)
	}
	if _, err := th.ConnectorStatus(t.Context(), "c"); !herder.IsNotFound(err) {
		t.Fatalf("status after DELETE: %v, want not found", err)
	}
	select {
	case <-old.Done():
		t.Fatal("the stuck task stopped; the test needs it to outlive the DELETE")
	default:
	}
	if _, err := th.CreateConnector(t.Context(), "c", map[string]string{"connector.class": "StuckSource"}, ""); err != nil {
		t.Fatal(err)
	}
	th.waitTask(t, "c", herder.Failed)
	id := herder.TaskID{Connector: "c", Task: 0}
	if st, _ := th.TaskStatus(t.Context(), id); !strings.Contains(st.Trace, "previous instance on this worker is still running") {
		t.Errorf("the task's trace does not say why it did not start: %q", st.Trace)
	}
	close(oldRelease)
	<-old.Done() // it has reported its end by now
	st, err := th.TaskStatus(t.Context(), id)
	if err != nil || st.State != herder.Failed {
		t.Errorf("task c-0 after the deleted instance stopped: %+v, %v; want FAILED still", st, err)
	}
	if err := th.RestartTask(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	th.waitTask(t, "c", herder.Running)
	close(th.release)
}

// TestSinkRunsNoMoreTasksThanPartitions checks that a sink starts only as many tasks as its
// topics have partitions, and more once partitions are added.
func TestSinkRunsNoMoreTasksThanPartitions(t *testing.T) {
	th := newTestHerder(t, nil)
	cl, err := kgo.NewClient(kgo.SeedBrokers(th.kafka))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	a, b := testenv.Topic(t, "parts-a"), testenv.Topic(t, "parts-b")
	for topic, partitions := range map[string]int32{a: 2, b: 1} {
		if _, err := adm.CreateTopic(t.Context(), partitions, 1, nil, topic); err != nil {
			t.Fatal(err)
		}
	}
	tasks := func(name string) int {
		info, err := th.ConnectorInfo(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		return len(info.Tasks)
	}
	for name, cfg := range map[string]map[string]string{
		"listed": {"topics": a, "tasks.max": "5"},
		"regex":  {"topics.regex": regexp.QuoteMeta(a) + "|" + regexp.QuoteMeta(b), "tasks.max": "5"},
		"single": {"topics": b, "tasks.max": "1"},
	} {
		cfg["connector.class"] = "FileStreamSink"
		cfg["file"] = filepath.Join(th.dir, name+".txt")
		if _, err := th.CreateConnector(t.Context(), name, cfg, ""); err != nil {
			t.Fatal(err)
		}
	}
	// Never more tasks than partitions; as many once every broker knows the new topics.
	waitTasks := func(want map[string]int) {
		t.Helper()
		// The worker's admin client may answer from metadata up to 5 s old (kgo's MetadataMinAge).
		deadline := time.Now().Add(20 * time.Second)
		for {
			done := true
			for name, n := range want {
				got := tasks(name)
				if got > n {
					t.Fatalf("%s runs %d tasks, more than the %d partitions", name, got, n)
				}
				done = done && got == n
			}
			if done {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("tasks of listed, regex, single: %d, %d, %d; want %v", tasks("listed"), tasks("regex"), tasks("single"), want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitTasks(map[string]int{"listed": 2, "regex": 3, "single": 1})
	if _, err := adm.UpdatePartitions(t.Context(), 4, a); err != nil {
		t.Fatal(err)
	}
	waitTasks(map[string]int{"listed": 4, "regex": 5, "single": 1})
}

// TestNothingRunsThatWasNotSaved checks that a change the state file could not record is not
// made: the client hears of the failure and the connector keeps what it had.
func TestNothingRunsThatWasNotSaved(t *testing.T) {
	th := newTestHerder(t, nil)
	source := map[string]string{"connector.class": "FileStreamSource", "file": filepath.Join(th.dir, "in.txt"), "topic": testenv.Topic(t, "saved")}
	if _, err := th.CreateConnector(t.Context(), "kept", source, ""); err != nil {
		t.Fatal(err)
	}
	th.waitTask(t, "kept", herder.Running)
	// From now on the state file cannot be written: a file has the name of its directory.
	if err := os.WriteFile(filepath.Join(th.dir, "gone"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	th.Herder.mu.Lock()
	th.statePath = filepath.Join(th.dir, "gone", "connectors.json")
	th.Herder.mu.Unlock()

	if _, err := th.CreateConnector(t.Context(), "new", source, ""); err == nil {
		t.Error("create succeeded without saving")
	}
	if _, err := th.ConnectorStatus(t.Context(), "new"); !herder.IsNotFound(err) {
		t.Errorf("status of the unsaved connector: %v, want not found", err)
	}
	changed := map[string]string{"connector.class": "FileStreamSource", "file": filepath.Join(th.dir, "other.txt"), "topic": source["topic"]}
	if _, _, err := th.PutConnectorConfig(t.Context(), "kept", changed); err == nil {
		t.Error("PUT config succeeded without saving")
	}
	if err := th.PauseConnector(t.Context(), "kept"); err == nil {
		t.Error("pause succeeded without saving")
	}
	info, err := th.ConnectorInfo(t.Context(), "kept")
	if err != nil || info.Config["file"] != source["file"] {
		t.Errorf("config after the failed PUT: %v, %v; want the old one", info.Config, err)
	}
	th.waitTask(t, "kept", herder.Running)

	err = th.DeleteConnector(t.Context(), "kept")
	if err == nil || !strings.Contains(err.Error(), "stopped and deleted, but the state file still holds it") {
		t.Errorf("DELETE without saving: %v", err)
	}
	if _, err := th.ConnectorStatus(t.Context(), "kept"); !herder.IsNotFound(err) {
		t.Errorf("status after DELETE: %v, want not found", err)
	}
}

// TestRestoreKeepsConnectorsThatNoLongerValidate checks that a connector in the state file that
// fails validation at this start (its database is down, say) is restored and shows FAILED
// rather than being dropped from the state file, and that one asking for more tasks than the
// worker's limit runs at the limit.
func TestRestoreKeepsConnectorsThatNoLongerValidate(t *testing.T) {
	dir := t.TempDir()
	state := `{"connectors":{
		"invalid":{"config":{"name":"invalid","connector.class":"FileStreamSink","file":"` + filepath.Join(dir, "x") + `"},"target_state":"STARTED"},
		"many":{"config":{"name":"many","connector.class":"DatagenConnector","kafka.topic":"` + testenv.Topic(t, "many") + `","tasks.max":"10","max.interval":"1000"},"target_state":"STARTED"}}}`
	th := newTestHerder(t, map[string]string{"kconnect.tasks.max.limit": "3"})
	th.Stop(context.Background())
	if err := os.WriteFile(filepath.Join(th.dir, "connectors.json"), []byte(state), 0o600); err != nil {
		t.Fatal(err)
	}
	th.Herder = New(th.w, th.log, Options{StatePath: filepath.Join(th.dir, "connectors.json")})
	if err := th.Start(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if info, err := th.ConnectorInfo(t.Context(), "many"); err != nil || len(info.Tasks) != 3 {
		t.Errorf("many: %+v, %v; want 3 tasks", info, err)
	}
	th.waitTask(t, "invalid", herder.Failed)
	saved, err := os.ReadFile(filepath.Join(th.dir, "connectors.json"))
	if err != nil || !strings.Contains(string(saved), `"invalid"`) {
		t.Errorf("state file after the start: %s, %v; want it to keep the connector", saved, err)
	}
	var bad *herder.BadRequestError
	if _, err := th.CreateConnector(t.Context(), "more", map[string]string{"connector.class": "DatagenConnector", "kafka.topic": "t", "tasks.max": "4"}, ""); !errors.As(err, &bad) ||
		!strings.Contains(bad.Msg, "Invalid value 4 for configuration tasks.max: this worker runs at most 3 tasks per connector (worker setting kconnect.tasks.max.limit)") {
		t.Errorf("create with tasks.max above the limit: %v", err)
	}
}

// Generated task configs carry what upstream's worker adds to them (the task.class of
// connect-file 4.3.1's tasks, and a sink's topics), so a Kafka Connect worker could run them;
// a plugin that names no task class gets none.
func TestTaskConfigsNameTheTaskClass(t *testing.T) {
	th := newTestHerder(t, nil)
	dir := t.TempDir()
	topic := testenv.Topic(t, "taskclass")
	connectors := map[string]map[string]string{
		"src":   {"connector.class": "FileStreamSource", "file": filepath.Join(dir, "in.txt"), "topic": topic},
		"sink":  {"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector", "file": filepath.Join(dir, "out.txt"), "topics": topic},
		"stuck": {"connector.class": "StuckSource"},
	}
	want := map[string]map[string]string{
		"src":   {"task.class": "org.apache.kafka.connect.file.FileStreamSourceTask"},
		"sink":  {"task.class": "org.apache.kafka.connect.file.FileStreamSinkTask", "topics": topic},
		"stuck": {},
	}
	for name, cfg := range connectors {
		if _, err := th.CreateConnector(t.Context(), name, cfg, ""); err != nil {
			t.Fatal(err)
		}
		th.waitTask(t, name, herder.Running)
		tasks, err := th.Tasks(t.Context(), name)
		if err != nil || len(tasks) != 1 {
			t.Fatalf("tasks of %s: %+v, %v", name, tasks, err)
		}
		got := tasks[0].Config
		for k, v := range want[name] {
			if got[k] != v {
				t.Errorf("task config of %s has %s=%q, want %q (%v)", name, k, got[k], v, got)
			}
		}
		if _, ok := got["task.class"]; !ok && name != "stuck" || ok && name == "stuck" {
			t.Errorf("task config of %s: %v", name, got)
		}
	}
	close(th.release)
}
