package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/kafkalog/kafkalogtest"
)

// lineBytes is the length of "line 000000\n", the lines appendLines writes: a FileStreamSource's
// position after n lines is n*lineBytes.
const lineBytes = 12

// A Kafka Connect 4.3.1 distributed cluster (ConnectDistributed from the Maven Central jars) is
// replaced by a kconnect worker started on the same worker.properties: the connectors, their
// task configs, the paused and stopped target states and the source offsets are all there; the
// file source, whose file is appended to throughout, resumes after the last line Kafka Connect
// committed (every line reaches the topic exactly once, in order), and the file sink resumes
// from the position Kafka Connect committed for its group connect-copy (every line reaches the
// output file exactly once).
func TestMigrateFromKafkaConnectDistributed(t *testing.T) {
	classpath := testenv.JavaClients(t)
	brokers := javaTestBroker(t)
	dir := t.TempDir()
	lines, paused, stopped := testenv.Topic(t, "mig-lines"), testenv.Topic(t, "mig-paused"), testenv.Topic(t, "mig-stopped")
	for _, topic := range []string{lines, paused, stopped} {
		// One partition: the topic's order is the file's.
		kafkalogtest.CreateTopic(t, brokers, topic, 1, "delete")
	}
	props := javaCompatibleProps(t, brokers, "mig")
	javaDir, kcDir := t.TempDir(), t.TempDir()
	java := workertest.StartJavaDistributed(t, classpath, javaDir, props)

	input, output := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
	pausedFile, stoppedFile := filepath.Join(dir, "paused.txt"), filepath.Join(dir, "stopped.txt")
	appendLines(t, input, 0, 0)
	appendLines(t, pausedFile, 0, 3)
	appendLines(t, stoppedFile, 0, 2)
	// The source's file grows all along: while Kafka Connect runs, while it stops, while no
	// worker runs and while kconnect takes over.
	var written atomic.Int64
	stopAppending := make(chan struct{})
	appended := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(input, os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			appended <- err
			return
		}
		defer f.Close()
		for n := 0; ; n++ {
			select {
			case <-stopAppending:
				appended <- nil
				return
			case <-time.After(5 * time.Millisecond):
			}
			if _, err := fmt.Fprintf(f, "line %06d\n", n); err != nil {
				appended <- err
				return
			}
			written.Store(int64(n + 1))
		}
	}()
	t.Cleanup(func() {
		select {
		case <-stopAppending:
		default:
			close(stopAppending)
		}
	})

	connectors := map[string]map[string]string{
		"lines":   {"connector.class": "FileStreamSource", "file": input, "topic": lines, "tasks.max": "1"},
		"copy":    {"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector", "file": output, "topics": lines},
		"paused":  {"connector.class": "FileStreamSource", "file": pausedFile, "topic": paused},
		"stopped": {"connector.class": "FileStreamSource", "file": stoppedFile, "topic": stopped},
	}
	for name, config := range connectors {
		java.CreateConnector(name, config)
	}
	waitPositionVia(t, java, "paused", pausedFile, 3*lineBytes)
	waitPositionVia(t, java, "stopped", stoppedFile, 2*lineBytes)
	if code, body := java.Do(http.MethodPut, "/connectors/paused/pause", nil); code != http.StatusAccepted {
		t.Fatalf("pause on Kafka Connect: %d %s", code, body)
	}
	if code, body := java.Do(http.MethodPut, "/connectors/stopped/stop", nil); code != http.StatusAccepted && code != http.StatusNoContent {
		t.Fatalf("stop on Kafka Connect: %d %s", code, body)
	}
	java.WaitFor(time.Minute, "Kafka Connect to pause and stop the connectors and copy lines", func() bool {
		p, _ := java.Status("paused")
		s, _ := java.Status("stopped")
		return p.Connector.State == herder.Paused && len(p.Tasks) == 1 && p.Tasks[0].State == herder.Paused &&
			s.Connector.State == herder.Stopped && len(s.Tasks) == 0 && len(readLines(t, output)) >= 300
	})

	// What Kafka Connect's REST API shows is what kconnect must show.
	javaView := restView(t, java, slices.Sorted(maps.Keys(connectors)))

	if err := java.Stop(); err != nil && !strings.Contains(err.Error(), "143") {
		t.Fatalf("Kafka Connect exited with %v after SIGTERM\n%s", err, java.Log())
	}
	if !strings.Contains(java.Log(), "Kafka Connect stopped") {
		t.Fatalf("Kafka Connect did not stop cleanly:\n%s", java.Log())
	}
	// A clean stop commits exactly what was produced and consumed.
	produced := recordValues(t, brokers, lines)
	position := topicPosition(t, brokers, props["offset.storage.topic"], "lines", input)
	if position != int64(len(produced))*lineBytes {
		t.Fatalf("Kafka Connect produced %d lines but committed position %d (%d lines)", len(produced), position, position/lineBytes)
	}
	consumed := testenv.GroupOffsets(t, brokers, "connect-copy", lines)
	if copied := len(readLines(t, output)); consumed <= 0 || int64(copied) != consumed {
		t.Fatalf("Kafka Connect's sink wrote %d lines, committed offset %d for connect-copy", copied, consumed)
	}
	t.Logf("Kafka Connect stopped after producing %d lines (position %d) and copying %d", len(produced), position, consumed)

	kc := workertest.StartDistributed(t, kcDir, props)
	javaProps, _ := os.ReadFile(filepath.Join(javaDir, "worker.properties"))
	kcProps, _ := os.ReadFile(filepath.Join(kcDir, "worker.properties"))
	if len(javaProps) == 0 || !bytes.Equal(javaProps, kcProps) {
		t.Fatalf("the workers' properties differ:\n%s\n---\n%s", javaProps, kcProps)
	}
	// The worker id (rest.advertised.*) is Kafka Connect's: the statuses cannot tell them apart.
	kc.WaitFor(time.Minute, "kconnect to run the connectors in their target states", func() bool {
		for _, name := range []string{"lines", "copy"} {
			kc.FailIfFailed(name)
			if st, _ := kc.Status(name); !allRunning(1, "")(st) {
				return false
			}
		}
		p, _ := kc.Status("paused")
		s, _ := kc.Status("stopped")
		return p.Connector.State == herder.Paused && len(p.Tasks) == 1 && p.Tasks[0].State == herder.Paused &&
			s.Connector.State == herder.Stopped && len(s.Tasks) == 0
	})
	kcView := restView(t, kc, slices.Sorted(maps.Keys(connectors)))
	for _, name := range slices.Sorted(maps.Keys(connectors)) {
		j, k := javaView[name], kcView[name]
		if !maps.Equal(j.config, k.config) {
			t.Errorf("%s: config on kconnect %v, on Kafka Connect %v", name, k.config, j.config)
		}
		if !slices.EqualFunc(j.tasks, k.tasks, maps.Equal) {
			t.Errorf("%s: task configs on kconnect %v, on Kafka Connect %v", name, k.tasks, j.tasks)
		}
		// The running source's and sink's offsets move on; the paused and stopped ones' do not.
		if (name == "paused" || name == "stopped") && j.offsets != k.offsets {
			t.Errorf("%s: offsets on kconnect %s, on Kafka Connect %s", name, k.offsets, j.offsets)
		}
	}
	if names := kcView[""].tasks; len(names) != 1 || !maps.Equal(names[0], javaView[""].tasks[0]) {
		t.Errorf("GET /connectors on kconnect %v, on Kafka Connect %v", names, javaView[""].tasks)
	}

	// kconnect goes on with the growing file, then the appending stops and every line must be in
	// the topic and in the sink's file exactly once.
	kc.WaitFor(time.Minute, "kconnect's source to produce past Kafka Connect's last line", func() bool {
		return len(recordValues(t, brokers, lines)) > len(produced)+100
	})
	close(stopAppending)
	if err := <-appended; err != nil {
		t.Fatal(err)
	}
	total := int(written.Load())
	kc.WaitFor(time.Minute, "every line in the topic and in the sink's file", func() bool {
		return len(recordValues(t, brokers, lines)) >= total && len(readLines(t, output)) >= total
	})
	time.Sleep(time.Second) // a duplicate sent late would land now
	want := make([]string, total)
	for i := range want {
		want[i] = fmt.Sprintf("line %06d", i)
	}
	checkExactlyOnce(t, "the topic", unquote(t, recordValues(t, brokers, lines)), want)
	checkExactlyOnce(t, "the sink's file", readLines(t, output), want)
	if got := testenv.GroupOffsets(t, brokers, "connect-copy", lines); got < int64(total) {
		t.Errorf("connect-copy committed %d after kconnect copied %d lines", got, total)
	}

	// The paused source resumes on kconnect from Kafka Connect's offset: only the new line.
	appendLines(t, pausedFile, 3, 4)
	if code, body := kc.Do(http.MethodPut, "/connectors/paused/resume", nil); code != http.StatusAccepted {
		t.Fatalf("resume on kconnect: %d %s", code, body)
	}
	kc.WaitFor(time.Minute, "the resumed source's new line", func() bool { return len(recordValues(t, brokers, paused)) >= 4 })
	time.Sleep(time.Second)
	checkExactlyOnce(t, "the paused source's topic", unquote(t, recordValues(t, brokers, paused)),
		[]string{"line 000000", "line 000001", "line 000002", "line 000003"})
}

// javaTestBroker is the broker for tests running Kafka Connect's Java workers: the real Kafka
// under KCONNECT_TEST_BROKER=real, else a `kconnect broker` process (an in-process kfake is out
// of the JVM's reach).
func javaTestBroker(t *testing.T) string {
	t.Helper()
	if testenv.RealKafka() {
		return testenv.Kafka(t)
	}
	return workertest.StartBroker(t, t.TempDir())
}

// javaCompatibleProps is a distributed worker config that Kafka Connect and kconnect both run
// on: fresh group and internal topics named after prefix, a free REST port advertised as
// 127.0.0.1, String keys and schemaless JSON values.
func javaCompatibleProps(t *testing.T, brokers, prefix string) map[string]string {
	t.Helper()
	port := testenv.FreePort(t)
	return map[string]string{
		"bootstrap.servers":                 brokers,
		"group.id":                          testenv.Topic(t, prefix+"-group"),
		"config.storage.topic":              testenv.Topic(t, prefix+"-configs"),
		"offset.storage.topic":              testenv.Topic(t, prefix+"-offsets"),
		"status.storage.topic":              testenv.Topic(t, prefix+"-status"),
		"config.storage.replication.factor": "1",
		"offset.storage.replication.factor": "1",
		"status.storage.replication.factor": "1",
		"key.converter":                     "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":                   "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable":    "false",
		"offset.flush.interval.ms":          "500",
		"listeners":                         fmt.Sprintf("http://127.0.0.1:%d", port),
		"rest.advertised.host.name":         "127.0.0.1",
		"rest.advertised.port":              fmt.Sprint(port),
		// Kafka Connect reads its plugins' service manifests instead of scanning every class
		// (seconds less to start); kconnect accepts the key and has its plugins built in.
		"plugin.discovery": "service_load",
	}
}

// connectorView is what a worker's REST API shows of one connector.
type connectorView struct {
	config  map[string]string
	tasks   []map[string]string
	offsets string
}

// restView reads the config, task configs and offsets of each connector from w's REST API; the
// entry "" holds GET /connectors as one task config mapping each name to "".
func restView(t *testing.T, w *workertest.Worker, names []string) map[string]connectorView {
	t.Helper()
	get := func(path string, out any) []byte {
		code, body := w.Do(http.MethodGet, path, nil)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		if out != nil {
			decodeJSON(t, body, out)
		}
		return body
	}
	var listed []string
	get("/connectors", &listed)
	all := map[string]string{}
	for _, n := range listed {
		all[n] = ""
	}
	view := map[string]connectorView{"": {tasks: []map[string]string{all}}}
	for _, name := range names {
		var v connectorView
		get("/connectors/"+name+"/config", &v.config)
		var tasks []herder.TaskInfo
		get("/connectors/"+name+"/tasks", &tasks)
		v.tasks = []map[string]string{}
		for _, ti := range tasks {
			v.tasks = append(v.tasks, ti.Config)
		}
		var offs any
		get("/connectors/"+name+"/offsets", &offs)
		b, err := json.Marshal(offs)
		if err != nil {
			t.Fatal(err)
		}
		v.offsets = string(b)
		view[name] = v
	}
	return view
}

// waitPositionVia polls a file source's offset through w's REST API until it reaches want.
func waitPositionVia(t *testing.T, w *workertest.Worker, name, file string, want int64) {
	t.Helper()
	w.WaitFor(time.Minute, fmt.Sprintf("%s's offset to reach %d", name, want), func() bool {
		code, body := w.Do(http.MethodGet, "/connectors/"+name+"/offsets", nil)
		if code != http.StatusOK {
			return false
		}
		var got struct{ Offsets []herder.Offset }
		decodeJSON(t, body, &got)
		return len(got.Offsets) == 1 && got.Offsets[0].Partition["filename"] == file &&
			fmt.Sprint(got.Offsets[0].Offset["position"]) == fmt.Sprint(want)
	})
}

// topicPosition reads a file source's last committed position from the offsets topic.
func topicPosition(t *testing.T, brokers, topic, connector, file string) int64 {
	t.Helper()
	key := fmt.Sprintf(`["%s",{"filename":%q}]`, connector, file)
	pos := int64(-1)
	for _, r := range kafkalogtest.Records(t, brokers, topic) {
		if string(r.Key) == key {
			var v struct{ Position int64 }
			decodeJSON(t, r.Value, &v)
			pos = v.Position
		}
	}
	return pos
}

// unquote decodes JSON string values.
func unquote(t *testing.T, values []string) []string {
	t.Helper()
	out := make([]string, len(values))
	for i, v := range values {
		decodeJSON(t, []byte(v), &out[i])
	}
	return out
}

// checkExactlyOnce fails the test unless got is want: every line once, none skipped, in order.
func checkExactlyOnce(t *testing.T, where string, got, want []string) {
	t.Helper()
	seen := map[string]int{}
	for _, l := range got {
		seen[l]++
	}
	for _, l := range want {
		switch seen[l] {
		case 0:
			t.Errorf("%s lacks %q", where, l)
		case 1:
		default:
			t.Errorf("%s holds %q %d times", where, l, seen[l])
		}
	}
	if len(got) != len(want) || !slices.Equal(got, want) {
		t.Errorf("%s holds %d lines, want %d in order", where, len(got), len(want))
	}
}
