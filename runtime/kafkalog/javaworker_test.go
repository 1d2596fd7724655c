package kafkalog_test

// These tests pin the internal-topic stores (offsets, configstore, statusstore) to Apache Kafka
// Connect itself. TestJavaWorkerTopics runs a real Kafka Connect 4.x distributed worker (from the
// jars scripts/javaclients.sh fetches) against the real broker: the stores must read
// everything it writes, and a second Java worker must run what the stores write.
// TestJavaWorkerFixtures replays records captured from such a worker (testdata/javaworker,
// refreshed by running TestJavaWorkerTopics with KCONNECT_UPDATE_JAVA_FIXTURES=1), so the
// decoding is checked on every run, kfake included.

import (
	"bytes"
	"context"
	"encoding/json"
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

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
	"github.com/kconnect/kconnect/runtime/configstore"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/kafkalog"
	"github.com/kconnect/kconnect/runtime/kafkalog/kafkalogtest"
	"github.com/kconnect/kconnect/runtime/offsets"
	"github.com/kconnect/kconnect/runtime/statusstore"
)

const (
	envUpdate   = "KCONNECT_UPDATE_JAVA_FIXTURES"
	fixtureDir  = "testdata/javaworker"
	javaSource  = "java-files"   // a FileStreamSource, run, restarted, then paused
	javaStopped = "java-stopped" // a FileStreamSink created STOPPED
)

// internalTopics names a worker's three topics.
type internalTopics struct{ Configs, Offsets, Status string }

func newInternalTopics(t *testing.T) internalTopics {
	return internalTopics{
		Configs: testenv.Topic(t, "jw-configs"),
		Offsets: testenv.Topic(t, "jw-offsets"),
		Status:  testenv.Topic(t, "jw-status"),
	}
}

// observed is what the Java worker's REST API said about the state it wrote to its topics:
// what the stores must find there.
type observed struct {
	WorkerID    string              `json:"worker_id"`
	Version     string              `json:"version"`
	DataTopic   string              `json:"data_topic"`
	File        string              `json:"file"`
	Position    int64               `json:"position"`
	SourceCfg   map[string]string   `json:"source_config"`
	SourceTasks []map[string]string `json:"source_tasks"`
	StoppedCfg  map[string]string   `json:"stopped_config"`
	Logger      string              `json:"logger"`
	LoggerLevel string              `json:"logger_level"`
}

func TestJavaWorkerTopics(t *testing.T) {
	if !testenv.RealKafka() {
		t.Skip("runs a Kafka Connect worker, which needs the real broker: KCONNECT_TEST_BROKER=real")
	}
	classpath := testenv.JavaClients(t)
	brokers := testenv.Kafka(t)
	dir := t.TempDir()

	// Kafka Connect writes its topics; the stores read them.
	topics := newInternalTopics(t)
	obs := observed{DataTopic: testenv.Topic(t, "jw-data"), File: filepath.Join(dir, "in.txt"),
		Logger: "org.apache.kafka.connect.file", LoggerLevel: "INFO"}
	kafkalogtest.CreateTopic(t, brokers, obs.DataTopic, 1, "delete")
	writeFile(t, obs.File, "a\nb\nc\n")
	w, workerID := startJavaWorker(t, classpath, brokers, topics)
	obs.WorkerID = workerID
	call(t, w, "POST", "/connectors", map[string]any{"name": javaSource, "config": map[string]string{
		"connector.class": "FileStreamSource", "file": obs.File, "topic": obs.DataTopic, "tasks.max": "1",
	}}, nil, 201)
	call(t, w, "POST", "/connectors", map[string]any{"name": javaStopped, "initial_state": "STOPPED", "config": map[string]string{
		"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector", "file": filepath.Join(dir, "out.txt"), "topics": obs.DataTopic,
	}}, nil, 201)
	w.WaitFor(time.Minute, "the source's offsets to be committed", func() bool {
		var got struct{ Offsets []herder.Offset }
		call(t, w, "GET", "/connectors/"+javaSource+"/offsets", nil, &got, 200)
		return len(got.Offsets) == 1 && fmt.Sprint(got.Offsets[0].Offset["position"]) == "6"
	})
	obs.Position = 6
	call(t, w, "POST", "/connectors/"+javaSource+"/restart?includeTasks=true&onlyFailed=true", nil, nil, 202)
	call(t, w, "PUT", "/admin/loggers/"+obs.Logger+"?scope=cluster", map[string]string{"level": obs.LoggerLevel}, nil, 204)
	call(t, w, "PUT", "/connectors/"+javaSource+"/pause", nil, nil, 202)
	w.WaitFor(time.Minute, "the source to be paused", func() bool {
		var st herder.ConnectorStatus
		call(t, w, "GET", "/connectors/"+javaSource+"/status", nil, &st, 200)
		return st.Connector.State == herder.Paused && len(st.Tasks) == 1 && st.Tasks[0].State == herder.Paused
	})
	var root struct{ Version string }
	call(t, w, "GET", "/", nil, &root, 200)
	obs.Version = root.Version
	call(t, w, "GET", "/connectors/"+javaSource+"/config", nil, &obs.SourceCfg, 200)
	call(t, w, "GET", "/connectors/"+javaStopped+"/config", nil, &obs.StoppedCfg, 200)
	var tasks []herder.TaskInfo
	call(t, w, "GET", "/connectors/"+javaSource+"/tasks", nil, &tasks, 200)
	for _, ti := range tasks {
		obs.SourceTasks = append(obs.SourceTasks, ti.Config)
	}
	// The stores read the topics while the worker still runs: nothing it wrote since changes them.
	checkJavaTopics(t, brokers, topics, obs)
	if os.Getenv(envUpdate) == "1" {
		saveFixtures(t, brokers, topics, obs)
	}
	stopJava(t, w)

	// The stores write topics; a Java worker runs what they hold.
	written := newInternalTopics(t)
	in2 := filepath.Join(dir, "in2.txt")
	writeFile(t, in2, "x\ny\nz\n")
	data2 := testenv.Topic(t, "jw-data2")
	kafkalogtest.CreateTopic(t, brokers, data2, 1, "delete")
	srcCfg := map[string]string{"connector.class": "FileStreamSource", "file": in2, "topic": data2, "tasks.max": "1", "name": "kc-files"}
	taskCfg := maps.Clone(srcCfg)
	taskCfg["task.class"] = "org.apache.kafka.connect.file.FileStreamSourceTask"
	stoppedCfg := map[string]string{"connector.class": "FileStreamSink", "file": filepath.Join(dir, "out2.txt"), "topics": data2, "name": "kc-stopped"}
	writeWithStores(t, brokers, written, func(ctx context.Context, cs configstore.Store, ofs offsets.Store, ss statusstore.Store) error {
		if err := cs.PutConnectorConfig(ctx, "kc-files", srcCfg, herder.TargetPaused); err != nil {
			return err
		}
		if err := cs.PutTaskConfigs(ctx, "kc-files", []map[string]string{taskCfg}); err != nil {
			return err
		}
		if err := cs.PutConnectorConfig(ctx, "kc-stopped", stoppedCfg, herder.TargetStopped); err != nil {
			return err
		}
		if err := cs.PutSessionKey(ctx, configstore.SessionKey{Key: bytes.Repeat([]byte{7}, 32), Algorithm: "HmacSHA256", Created: time.Now()}); err != nil {
			return err
		}
		// Resuming must continue after "x\ny\n".
		if err := ofs.Put(ctx, "kc-files", []connect.SourceOffset{{Partition: map[string]any{"filename": in2}, Offset: map[string]any{"position": int64(4)}}}); err != nil {
			return err
		}
		ss.PutConnector("kc-files", statusstore.Status{State: herder.Unassigned, WorkerID: "kconnect:8083", Generation: 1})
		ss.PutTask(herder.TaskID{Connector: "kc-files", Task: 0}, statusstore.Status{State: herder.Failed, Trace: "an error", WorkerID: "kconnect:8083", Generation: 1})
		return ss.Flush(ctx)
	})
	w2, _ := startJavaWorker(t, classpath, brokers, written)
	var names []string
	call(t, w2, "GET", "/connectors", nil, &names, 200)
	if slices.Sort(names); !slices.Equal(names, []string{"kc-files", "kc-stopped"}) {
		t.Fatalf("GET /connectors on the stores' topics = %v", names)
	}
	for name, want := range map[string]map[string]string{"kc-files": srcCfg, "kc-stopped": stoppedCfg} {
		var got map[string]string
		call(t, w2, "GET", "/connectors/"+name+"/config", nil, &got, 200)
		if !maps.Equal(got, want) {
			t.Errorf("Java read config %v, stores wrote %v", got, want)
		}
	}
	tasks = nil
	call(t, w2, "GET", "/connectors/kc-files/tasks", nil, &tasks, 200)
	if len(tasks) != 1 || !maps.Equal(tasks[0].Config, taskCfg) {
		t.Errorf("Java read task configs %v, stores wrote %v", tasks, taskCfg)
	}
	w2.WaitFor(time.Minute, "the stores' target states to be in force", func() bool {
		var src, stopped herder.ConnectorStatus
		call(t, w2, "GET", "/connectors/kc-files/status", nil, &src, 200)
		call(t, w2, "GET", "/connectors/kc-stopped/status", nil, &stopped, 200)
		return src.Connector.State == herder.Paused && len(src.Tasks) == 1 && src.Tasks[0].State == herder.Paused &&
			stopped.Connector.State == herder.Stopped
	})
	var offs struct{ Offsets []herder.Offset }
	call(t, w2, "GET", "/connectors/kc-files/offsets", nil, &offs, 200)
	if len(offs.Offsets) != 1 || fmt.Sprint(offs.Offsets[0].Offset["position"]) != "4" {
		t.Fatalf("Java read offsets %+v, stores wrote position 4", offs)
	}
	// Resumed, the source reads on from the stores' offset: only "z" reaches Kafka.
	call(t, w2, "PUT", "/connectors/kc-files/resume", nil, nil, 202)
	w2.WaitFor(time.Minute, "the resumed source to commit the end of its file", func() bool {
		call(t, w2, "GET", "/connectors/kc-files/offsets", nil, &offs, 200)
		return len(offs.Offsets) == 1 && fmt.Sprint(offs.Offsets[0].Offset["position"]) == "6"
	})
	recs := kafkalogtest.Records(t, brokers, data2)
	if len(recs) != 1 || !strings.Contains(string(recs[0].Value), `"payload":"z"`) {
		for _, r := range recs {
			t.Logf("data record: %s", r.Value)
		}
		t.Fatalf("the resumed source wrote %d records; want only the line after the stores' offset", len(recs))
	}
	stopJava(t, w2)
}

// TestJavaWorkerFixtures checks the stores against records a Kafka Connect worker wrote, as
// TestJavaWorkerTopics captured them: replayed into topics of the same partition counts, on the
// key's original partition.
func TestJavaWorkerFixtures(t *testing.T) {
	var obs observed
	readJSON(t, filepath.Join(fixtureDir, "observed.json"), &obs)
	brokers := testenv.Kafka(t)
	topics := newInternalTopics(t)
	for name, topic := range map[string]string{"configs": topics.Configs, "offsets": topics.Offsets, "status": topics.Status} {
		var fx fixture
		readJSON(t, filepath.Join(fixtureDir, name+".json"), &fx)
		kafkalogtest.CreateTopic(t, brokers, topic, fx.Partitions, "compact")
		recs := make([]*kgo.Record, len(fx.Records))
		for i, r := range fx.Records {
			recs[i] = &kgo.Record{Topic: topic, Partition: r.Partition, Key: []byte(r.Key)}
			if r.Value != nil {
				recs[i].Value = []byte(*r.Value)
			}
		}
		kafkalogtest.Produce(t, brokers, recs...)
	}
	checkJavaTopics(t, brokers, topics, obs)
}

// fixture is one internal topic as a Java worker left it.
type fixture struct {
	Partitions int32 `json:"partitions"`
	Records    []struct {
		Partition int32   `json:"partition"`
		Key       string  `json:"key"`
		Value     *string `json:"value"`
	} `json:"records"`
}

func saveFixtures(t *testing.T, brokers string, topics internalTopics, obs observed) {
	t.Helper()
	if err := os.MkdirAll(fixtureDir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeJSON(t, filepath.Join(fixtureDir, "observed.json"), obs)
	for name, topic := range map[string]string{"configs": topics.Configs, "offsets": topics.Offsets, "status": topics.Status} {
		fx := fixture{Partitions: int32(kafkalogtest.Partitions(t, brokers, topic))}
		for _, r := range kafkalogtest.Records(t, brokers, topic) {
			var v *string
			if r.Value != nil {
				s := string(r.Value)
				v = &s
			}
			fx.Records = append(fx.Records, struct {
				Partition int32   `json:"partition"`
				Key       string  `json:"key"`
				Value     *string `json:"value"`
			}{r.Partition, string(r.Key), v})
		}
		writeJSON(t, filepath.Join(fixtureDir, name+".json"), fx)
	}
	t.Logf("wrote the Java worker's records to %s", fixtureDir)
}

// checkJavaTopics opens the three stores on topics a Java worker wrote and checks that they find
// what the worker's REST API showed, that no record was refused, and that the stores write each
// record back byte for byte as Java did (config properties, whose order follows Java's maps,
// excepted).
func checkJavaTopics(t *testing.T, brokers string, topics internalTopics, obs observed) {
	t.Helper()
	complaints := &complaintLog{}
	lg := slog.New(complaints)
	opts := kafkalogtest.Client(brokers)
	cs := kafkalogtest.Open(t, func(ctx context.Context) (*configstore.TopicStore, error) {
		return configstore.OpenTopic(ctx, configstore.Options{Client: opts, Topic: topicOf(t, kafkalog.ConfigTopic, topics.Configs), Log: lg})
	})
	ss := kafkalogtest.Open(t, func(ctx context.Context) (*statusstore.TopicStore, error) {
		return statusstore.OpenTopic(ctx, opts, topicOf(t, kafkalog.StatusTopic, topics.Status), lg)
	})
	ofs := kafkalogtest.Open(t, func(ctx context.Context) (*offsets.TopicStore, error) {
		return offsets.OpenTopic(ctx, opts, topicOf(t, kafkalog.OffsetTopic, topics.Offsets), lg)
	})

	snap := cs.Snapshot()
	if !maps.Equal(snap.Connectors[javaSource], obs.SourceCfg) || !maps.Equal(snap.Connectors[javaStopped], obs.StoppedCfg) {
		t.Errorf("connector configs = %v\nJava's REST API showed %v and %v", snap.Connectors, obs.SourceCfg, obs.StoppedCfg)
	}
	if snap.TargetStates[javaSource] != herder.TargetPaused || snap.TargetStates[javaStopped] != herder.TargetStopped {
		t.Errorf("target states = %v", snap.TargetStates)
	}
	if tasks := snap.Tasks(javaSource); len(tasks) != len(obs.SourceTasks) || len(tasks) != 1 || !maps.Equal(tasks[0], obs.SourceTasks[0]) {
		t.Errorf("task configs = %v, Java's REST API showed %v", tasks, obs.SourceTasks)
	}
	if k := snap.SessionKey; k == nil || k.Algorithm != "HmacSHA256" || len(k.Key) != 32 || k.Created.Before(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("session key = %+v", k)
	}
	if len(snap.Inconsistent) != 0 {
		t.Errorf("inconsistent connectors: %v", snap.Inconsistent)
	}

	part := map[string]any{"filename": obs.File}
	if off, err := ofs.Get(javaSource, part); err != nil || off["position"] != obs.Position {
		t.Errorf("offset of %v = %v, %v; want position %d", part, off, err, obs.Position)
	}

	wantStatus := statusstore.Status{State: herder.Paused, WorkerID: obs.WorkerID, Version: obs.Version}
	src, _ := ss.Connector(javaSource)
	task, _ := ss.Task(herder.TaskID{Connector: javaSource, Task: 0})
	stopped, _ := ss.Connector(javaStopped)
	for _, c := range []struct {
		what string
		got  statusstore.Status
		want herder.State
	}{{"source connector", src, herder.Paused}, {"source task", task, herder.Paused}, {"stopped connector", stopped, herder.Stopped}} {
		want := wantStatus
		want.State, want.Generation = c.want, c.got.Generation
		if c.got != want || c.got.Generation < 1 {
			t.Errorf("%s status = %+v, want %+v with a generation", c.what, c.got, want)
		}
	}
	if tp := ss.Topics(javaSource); len(tp) != 1 || tp[0].Topic != obs.DataTopic || tp[0].Connector != javaSource || tp[0].DiscoverTimestamp == 0 {
		t.Errorf("topics of %s = %+v", javaSource, tp)
	}
	if len(complaints.lines()) != 0 {
		t.Errorf("the stores refused records Java wrote:\n%s", strings.Join(complaints.lines(), "\n"))
	}

	checkRewrite(t, brokers, topics, cs, ss, ofs, obs)
}

// checkRewrite writes what the stores read into fresh topics through the stores and compares the
// records with Java's: the same key bytes (so the same partition) and the same value bytes.
func checkRewrite(t *testing.T, brokers string, java internalTopics, cs *configstore.TopicStore, ss *statusstore.TopicStore, ofs *offsets.TopicStore, obs observed) {
	t.Helper()
	snap := cs.Snapshot()
	src, _ := ss.Connector(javaSource)
	task, _ := ss.Task(herder.TaskID{Connector: javaSource, Task: 0})
	stopped, _ := ss.Connector(javaStopped)
	partition := map[string]any{"filename": obs.File}
	ours := newInternalTopics(t)
	writeWithStores(t, brokers, ours, func(ctx context.Context, c configstore.Store, o offsets.Store, s statusstore.Store) error {
		if err := c.PutSessionKey(ctx, *snap.SessionKey); err != nil {
			return err
		}
		if err := c.PutConnectorConfig(ctx, javaStopped, snap.Connectors[javaStopped], herder.TargetStopped); err != nil {
			return err
		}
		if err := c.PutTaskConfigs(ctx, javaSource, snap.Tasks(javaSource)); err != nil {
			return err
		}
		if err := c.PutRestartRequest(ctx, configstore.RestartRequest{Connector: javaSource, OnlyFailed: true, IncludeTasks: true}); err != nil {
			return err
		}
		if err := c.PutLoggerLevel(ctx, obs.Logger, obs.LoggerLevel); err != nil {
			return err
		}
		if err := c.PutTargetState(ctx, javaSource, herder.TargetPaused); err != nil {
			return err
		}
		off, err := ofs.Get(javaSource, partition)
		if err != nil {
			return err
		}
		if err := o.Put(ctx, javaSource, []connect.SourceOffset{{Partition: partition, Offset: off}}); err != nil {
			return err
		}
		s.PutConnector(javaSource, src)
		s.PutTask(herder.TaskID{Connector: javaSource, Task: 0}, task)
		s.PutConnector(javaStopped, stopped)
		for _, tp := range ss.Topics(javaSource) {
			s.PutTopic(tp)
		}
		return s.Flush(ctx)
	})
	for _, pair := range [][2]string{{java.Configs, ours.Configs}, {java.Offsets, ours.Offsets}, {java.Status, ours.Status}} {
		javaRecs, ourRecs := latest(t, brokers, pair[0]), latest(t, brokers, pair[1])
		for key, mine := range ourRecs {
			theirs, ok := javaRecs[key]
			switch {
			case !ok:
				t.Errorf("the stores wrote key %s, which Java never wrote", key)
			case strings.HasPrefix(key, configstore.ConnectorPrefix) || strings.HasPrefix(key, configstore.TaskPrefix):
				if mine.partition != theirs.partition || !sameJSON(t, mine.value, theirs.value) {
					t.Errorf("%s: stores wrote %s to partition %d, Java %s to %d", key, mine.value, mine.partition, theirs.value, theirs.partition)
				}
			case mine != theirs:
				t.Errorf("%s: stores wrote %s to partition %d, Java %s to %d", key, mine.value, mine.partition, theirs.value, theirs.partition)
			}
		}
	}
}

type located struct {
	partition int32
	value     string
}

// latest returns the last record of every key in a topic.
func latest(t *testing.T, brokers, topic string) map[string]located {
	out := map[string]located{}
	for _, r := range kafkalogtest.Records(t, brokers, topic) {
		out[string(r.Key)] = located{r.Partition, string(r.Value)}
	}
	return out
}

func sameJSON(t *testing.T, a, b string) bool {
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(x) == fmt.Sprint(y)
}

// writeWithStores opens the three stores on fresh topics, runs write and closes them.
func writeWithStores(t *testing.T, brokers string, topics internalTopics, write func(context.Context, configstore.Store, offsets.Store, statusstore.Store) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	opts := kafkalogtest.Client(brokers)
	cs, err := configstore.OpenTopic(ctx, configstore.Options{Client: opts, Topic: topicOf(t, kafkalog.ConfigTopic, topics.Configs)})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	ofs, err := offsets.OpenTopic(ctx, opts, topicOf(t, kafkalog.OffsetTopic, topics.Offsets), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ofs.Close()
	ss, err := statusstore.OpenTopic(ctx, opts, topicOf(t, kafkalog.StatusTopic, topics.Status), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	if err := write(ctx, cs, ofs, ss); err != nil {
		t.Fatal(err)
	}
}

// topicOf is an internal topic as a worker with upstream's defaults and a replication factor of
// 1 (the test brokers have one node) would configure it.
func topicOf(t *testing.T, kind kafkalog.Kind, name string) kafkalog.Topic {
	t.Helper()
	topic, err := kafkalog.TopicFromWorker(map[string]string{
		kind.Prefix + kafkalog.TopicSuffix: name, kind.Prefix + kafkalog.ReplicationFactorSuffix: "1",
	}, kind)
	if err != nil {
		t.Fatal(err)
	}
	return topic
}

// complaintLog is a slog handler keeping the warnings and errors the stores log.
type complaintLog struct {
	mu  sync.Mutex
	got []string
}

func (c *complaintLog) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (c *complaintLog) Handle(_ context.Context, r slog.Record) error {
	line := r.Message
	r.Attrs(func(a slog.Attr) bool {
		line += " " + a.String()
		return true
	})
	c.mu.Lock()
	c.got = append(c.got, line)
	c.mu.Unlock()
	return nil
}
func (c *complaintLog) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *complaintLog) WithGroup(string) slog.Handler      { return c }
func (c *complaintLog) lines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.got)
}

// startJavaWorker starts an Apache Kafka Connect distributed worker on topics and returns it with
// its worker ID.
func startJavaWorker(t *testing.T, classpath, brokers string, topics internalTopics) (*workertest.Worker, string) {
	t.Helper()
	port := testenv.FreePort(t)
	props := map[string]string{
		"bootstrap.servers": brokers, "group.id": "group-" + topics.Configs,
		"config.storage.topic": topics.Configs, "offset.storage.topic": topics.Offsets, "status.storage.topic": topics.Status,
		"config.storage.replication.factor": "1", "offset.storage.replication.factor": "1", "status.storage.replication.factor": "1",
		"key.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter": "org.apache.kafka.connect.json.JsonConverter",
		"listeners": fmt.Sprintf("http://127.0.0.1:%d", port), "rest.advertised.host.name": "127.0.0.1",
		"rest.advertised.port": fmt.Sprint(port), "offset.flush.interval.ms": "500",
		// The plugins' service manifests, not a scan of every class: seconds less to start.
		"plugin.discovery": "service_load",
	}
	return workertest.StartJavaDistributed(t, classpath, t.TempDir(), props), fmt.Sprintf("127.0.0.1:%d", port)
}

// call sends a REST request and checks its status; out, if not nil, receives the JSON answer.
func call(t *testing.T, w *workertest.Worker, method, path string, body, out any, status int) {
	t.Helper()
	code, data := w.Do(method, path, body)
	if code != status {
		t.Fatalf("%s %s: %d %s, want %d", method, path, code, data, status)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
}

// stopJava shuts the worker down as an operator would (SIGTERM, on which the JVM exits with
// status 143) and fails the test if it did not stop so, or if it logged errors about its internal
// topics (a record it could not parse is logged at ERROR and skipped).
func stopJava(t *testing.T, w *workertest.Worker) {
	t.Helper()
	if err := w.Stop(); err != nil && err.Error() != "exit status 143" {
		t.Fatalf("Kafka Connect did not stop on SIGTERM: %v\n%s", err, w.Log())
	}
	for _, line := range strings.Split(w.Log(), "\n") {
		if strings.Contains(line, "] ERROR ") {
			t.Errorf("Kafka Connect logged: %s", line)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, string(data)+"\n")
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
