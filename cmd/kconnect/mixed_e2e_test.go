package main_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/kafkalog/kafkalogtest"
	"github.com/kconnect/kconnect/runtime/statusstore"
)

// A rolling migration's middle state: a Kafka Connect 4.3.1 worker and a kconnect worker in one
// group. Under a Java leader, kconnect joins, gets a share of the connectors and tasks, and
// forwards pause/resume to the leader; after the Java worker stops, kconnect leads alone, more
// connectors are created and the first ones reconfigured, so that kconnect generated every task
// config; a new Java worker joins under it, gets a share of those tasks, runs them as kconnect
// wrote them and forwards to the leader. Both REST APIs agree on every status, the Java worker
// shows the plugin version kconnect writes into its statuses, and the file sources' lines reach
// Kafka whichever worker runs them.
func TestMixedKafkaConnectAndKconnectGroup(t *testing.T) {
	classpath := testenv.JavaClients(t)
	brokers := javaTestBroker(t)
	base := javaCompatibleProps(t, brokers, "mix")
	base["scheduled.rebalance.max.delay.ms"] = "3000"
	props := func() map[string]string {
		p := maps.Clone(base)
		port := testenv.FreePort(t)
		p["listeners"] = fmt.Sprintf("http://127.0.0.1:%d", port)
		p["rest.advertised.port"] = fmt.Sprint(port)
		return p
	}
	dir := t.TempDir()
	var topics, files []string
	configs := map[string]map[string]string{}
	create := func(via *workertest.Worker, i int) {
		t.Helper()
		topic := testenv.Topic(t, fmt.Sprintf("mix-%d", i))
		kafkalogtest.CreateTopic(t, brokers, topic, 1, "delete")
		in := filepath.Join(dir, fmt.Sprintf("in-%d.txt", i))
		appendLines(t, in, 0, 10)
		topics, files = append(topics, topic), append(files, in)
		name := fmt.Sprintf("f%d", i)
		configs[name] = map[string]string{"connector.class": "FileStreamSource", "file": in, "topic": topic}
		via.CreateConnector(name, configs[name])
	}
	// spread waits until every connector so far runs, as both workers' REST APIs agree, with
	// connectors and tasks on both workers.
	spread := func(a, b *workertest.Worker) {
		t.Helper()
		ids := map[string]bool{workerID(t, a): true, workerID(t, b): true}
		var last string
		a.WaitFor(90*time.Second, "every connector RUNNING, on both workers, seen alike by both", func() bool {
			used := map[string]bool{}
			var seen string
			for i := range topics {
				name := fmt.Sprintf("f%d", i)
				sa, okA := a.Status(name)
				sb, okB := b.Status(name)
				seen += fmt.Sprintf("%s: %+v | %+v\n", name, sa, sb)
				if !okA || !okB || !allRunning(1, "")(sa) || !allRunning(1, "")(sb) ||
					sa.Connector.WorkerID != sb.Connector.WorkerID || sa.Tasks[0].WorkerID != sb.Tasks[0].WorkerID {
					if seen != last {
						last = seen
						t.Logf("statuses:\n%s", seen)
					}
					return false
				}
				used[sa.Connector.WorkerID], used[sa.Tasks[0].WorkerID] = true, true
			}
			return maps.Equal(used, ids)
		})
	}
	lines := func(w *workertest.Worker) {
		t.Helper()
		for i, topic := range topics {
			w.WaitFor(time.Minute, fmt.Sprintf("the ten lines of %s", files[i]), func() bool {
				return len(recordValues(t, brokers, topic)) >= 10
			})
		}
	}

	// Kafka Connect generates the first task configs; kconnect joins its group and gets a share.
	java := workertest.StartJavaDistributed(t, classpath, t.TempDir(), props())
	for i := range 4 {
		create(java, i)
	}
	kc := workertest.StartDistributed(t, t.TempDir(), props())
	spread(java, kc)
	lines(kc)
	// A write through kconnect is forwarded to the Java leader.
	targetState := func(via *workertest.Worker, name, action string, want herder.State) {
		t.Helper()
		if code, body := via.Do(http.MethodPut, "/connectors/"+name+"/"+action, nil); code != http.StatusAccepted {
			t.Fatalf("PUT %s/%s through %s: %d %s", name, action, via.URL, code, body)
		}
		via.WaitFor(time.Minute, name+" "+string(want)+" on both workers", func() bool {
			for _, w := range []*workertest.Worker{java, kc} {
				if st, _ := w.Status(name); st.Connector.State != want || len(st.Tasks) != 1 || st.Tasks[0].State != want {
					return false
				}
			}
			return true
		})
	}
	targetState(kc, "f0", "pause", herder.Paused)
	targetState(kc, "f0", "resume", herder.Running)

	// The Java worker leaves; kconnect leads alone, and a new Java worker joins under it.
	if err := java.Stop(); err != nil && err.Error() != "exit status 143" {
		t.Fatalf("Kafka Connect exited with %v", err)
	}
	kc.WaitFor(time.Minute, "kconnect to run every connector alone", func() bool {
		for i := range topics {
			if st, _ := kc.Status(fmt.Sprintf("f%d", i)); !allRunning(1, workerID(t, java))(st) {
				return false
			}
		}
		return true
	})
	// kconnect generates every task config from now on: two connectors are created and the
	// first four reconfigured (a smaller batch.size reaches their task configs) while it leads
	// alone.
	for i := range 4 {
		name := fmt.Sprintf("f%d", i)
		configs[name]["batch.size"] = "100"
		if code, body := kc.Do(http.MethodPut, "/connectors/"+name+"/config", configs[name]); code != http.StatusOK {
			t.Fatalf("PUT %s config on kconnect: %d %s", name, code, body)
		}
	}
	for i := 4; i < 6; i++ {
		create(kc, i)
	}
	generated := map[string][]herder.TaskInfo{}
	kc.WaitFor(time.Minute, "kconnect to generate and run every connector's task", func() bool {
		for i := range topics {
			name := fmt.Sprintf("f%d", i)
			st, _ := kc.Status(name)
			tasks := taskConfigs(t, kc, name)
			if !allRunning(1, "")(st) || len(tasks) != 1 || i < 4 && tasks[0].Config["batch.size"] != "100" {
				return false
			}
			generated[name] = tasks
		}
		return true
	})
	for name, tasks := range generated {
		// Upstream's worker names the task class of connect-file 4.3.1's source.
		if got := tasks[0].Config["task.class"]; got != "org.apache.kafka.connect.file.FileStreamSourceTask" {
			t.Fatalf("task config of %s generated by kconnect has task.class %q: %v", name, got, tasks[0].Config)
		}
	}
	java = workertest.StartJavaDistributed(t, classpath, t.TempDir(), props())
	spread(java, kc)
	// The Java worker runs some of the tasks, with the configs kconnect generated: it keeps them,
	// not writing its own.
	onJava := 0
	for i := range topics {
		name := fmt.Sprintf("f%d", i)
		if st, _ := java.Status(name); st.Tasks[0].WorkerID == workerID(t, java) {
			onJava++
		}
		if got := taskConfigs(t, java, name); !reflect.DeepEqual(got, generated[name]) {
			t.Errorf("task configs of %s on Kafka Connect: %+v, want those kconnect generated: %+v", name, got, generated[name])
		}
	}
	if onJava == 0 {
		t.Fatal("the Java worker runs no task")
	}
	// The statuses kconnect writes carry its plugin's version, as GET /connector-plugins
	// reports it; the Java worker shows it.
	version := pluginVersion(t, kc, "org.apache.kafka.connect.file.FileStreamSourceConnector")
	for i := range topics {
		name := fmt.Sprintf("f%d", i)
		_, body := java.Do(http.MethodGet, "/connectors/"+name+"/status", nil)
		var st struct {
			Connector struct {
				WorkerID string  `json:"worker_id"`
				Version  *string `json:"version"`
			} `json:"connector"`
			Tasks []struct {
				WorkerID string  `json:"worker_id"`
				Version  *string `json:"version"`
			} `json:"tasks"`
		}
		if err := json.Unmarshal(body, &st); err != nil || len(st.Tasks) != 1 {
			t.Fatalf("status of %s on Kafka Connect: %s (%v)", name, body, err)
		}
		if st.Connector.WorkerID == workerID(t, kc) && (st.Connector.Version == nil || *st.Connector.Version != version) {
			t.Errorf("Kafka Connect shows kconnect's connector %s with version %v, want %s: %s", name, st.Connector.Version, version, body)
		}
		if st.Tasks[0].WorkerID == workerID(t, kc) && (st.Tasks[0].Version == nil || *st.Tasks[0].Version != version) {
			t.Errorf("Kafka Connect shows kconnect's task %s-0 with version %v, want %s: %s", name, st.Tasks[0].Version, version, body)
		}
	}
	// A write through the Java worker is forwarded to the kconnect leader.
	targetState(java, "f1", "pause", herder.Paused)
	targetState(java, "f1", "resume", herder.Running)
	// A task status with kconnect's progress field, here of a task the Java worker runs, is read
	// by both: kconnect shows the progress, Kafka Connect the record's other fields (a version
	// only this record has), ignoring the extra field.
	probe := ""
	for i := range topics {
		if st, _ := java.Status(fmt.Sprintf("f%d", i)); st.Tasks[0].WorkerID == workerID(t, java) {
			probe = fmt.Sprintf("f%d", i)
		}
	}
	key := statusstore.TaskKey(herder.TaskID{Connector: probe, Task: 0})
	var last *kgo.Record
	for _, r := range kafkalogtest.Records(t, brokers, base["status.storage.topic"]) {
		if string(r.Key) == key {
			last = r
		}
	}
	var rec map[string]any
	if last == nil || json.Unmarshal(last.Value, &rec) != nil {
		t.Fatalf("no status record of %s", key)
	}
	rec["version"] = "probe-1"
	rec["progress"] = map[string]any{"phase": "snapshot", "tables_done": 1, "tables_total": 2, "rows_done": 30, "rows_estimated": 60}
	value, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	kafkalogtest.Produce(t, brokers, &kgo.Record{Topic: last.Topic, Partition: last.Partition, Key: last.Key, Value: value})
	want := herder.Progress{Phase: "snapshot", TablesDone: 1, TablesTotal: 2, RowsDone: 30, RowsEstimated: 60}
	kc.WaitFor(time.Minute, "kconnect to show the progress and Kafka Connect the version of "+key, func() bool {
		st, _ := kc.Status(probe)
		_, body := java.Do(http.MethodGet, "/connectors/"+probe+"/tasks/0/status", nil)
		var js struct {
			State   string `json:"state"`
			Version string `json:"version"`
		}
		return len(st.Tasks) == 1 && st.Tasks[0].Progress != nil && *st.Tasks[0].Progress == want &&
			json.Unmarshal(body, &js) == nil && js.State == "RUNNING" && js.Version == "probe-1"
	})

	// Every line arrives, also those of the tasks the Java worker runs with kconnect's configs.
	for i := range topics {
		appendLines(t, files[i], 10, 20)
	}
	for i, topic := range topics {
		java.WaitFor(time.Minute, fmt.Sprintf("the twenty lines of %s", files[i]), func() bool {
			return len(recordValues(t, brokers, topic)) >= 20
		})
	}
}

// taskConfigs is GET /connectors/{name}/tasks on w.
func taskConfigs(t *testing.T, w *workertest.Worker, name string) []herder.TaskInfo {
	t.Helper()
	code, body := w.Do(http.MethodGet, "/connectors/"+name+"/tasks", nil)
	var out []herder.TaskInfo
	if code != http.StatusOK {
		return nil
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("GET /connectors/%s/tasks on %s: %s: %v", name, w.URL, body, err)
	}
	return out
}

// pluginVersion is the version GET /connector-plugins on w reports for class.
func pluginVersion(t *testing.T, w *workertest.Worker, class string) string {
	t.Helper()
	code, body := w.Do(http.MethodGet, "/connector-plugins", nil)
	var plugins []herder.PluginInfo
	if code != http.StatusOK {
		t.Fatalf("GET /connector-plugins on %s: %d %s", w.URL, code, body)
	}
	if err := json.Unmarshal(body, &plugins); err != nil {
		t.Fatal(err)
	}
	for _, p := range plugins {
		if p.Class == class && p.Version != "" {
			return p.Version
		}
	}
	t.Fatalf("GET /connector-plugins on %s lists no version of %s: %s", w.URL, class, body)
	return ""
}
