package main_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
)

// These tests drive a standalone worker through its REST API the way a Kafka Connect user does
// with curl, and compare what comes back with upstream's documented behaviour
// (https://kafka.apache.org/documentation/#connect_rest and the entities of
// org.apache.kafka.connect.runtime.rest.entities).

const (
	sourceClass = "org.apache.kafka.connect.file.FileStreamSourceConnector"
	sinkClass   = "org.apache.kafka.connect.file.FileStreamSinkConnector"
	// lineLen is the length of a line written by appendLines, terminator included.
	lineLen = len("line 000000\n")
)

// Upstream's entities, decoded strictly enough that a renamed field shows up as a zero value.
type (
	taskID struct {
		Connector string `json:"connector"`
		Task      int    `json:"task"`
	}
	connectorInfo struct {
		Name   string            `json:"name"`
		Config map[string]string `json:"config"`
		Tasks  []taskID          `json:"tasks"`
		Type   string            `json:"type"`
	}
	stateInfo struct {
		State    string `json:"state"`
		WorkerID string `json:"worker_id"`
		Trace    string `json:"trace"`
	}
	taskState struct {
		ID int `json:"id"`
		stateInfo
	}
	connectorStatus struct {
		Name      string      `json:"name"`
		Connector stateInfo   `json:"connector"`
		Tasks     []taskState `json:"tasks"`
		Type      string      `json:"type"`
	}
	offsetEntry struct {
		Partition map[string]any `json:"partition"`
		Offset    map[string]any `json:"offset"`
	}
	errorMessage struct {
		ErrorCode int    `json:"error_code"`
		Message   string `json:"message"`
	}
)

// rest wraps a worker with helpers that fail the test on an unexpected status.
type rest struct {
	t *testing.T
	w *workertest.Worker
}

// call sends a request and fails unless the status is want; it returns the body.
func (r rest) call(method, path string, body any, want int) []byte {
	r.t.Helper()
	status, b := r.w.Do(method, path, body)
	if status != want {
		r.t.Fatalf("%s %s: status %d, want %d; body: %s", method, path, status, want, b)
	}
	return b
}

// get decodes the JSON body of a request answered with status want into out, which is zeroed
// first so that nothing from an earlier response survives in a reused variable.
func (r rest) get(method, path string, body any, want int, out any) {
	r.t.Helper()
	b := r.call(method, path, body, want)
	reflect.ValueOf(out).Elem().SetZero()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		r.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
	}
}

// fail sends a request that upstream answers with an error and checks upstream's error body:
// {"error_code": status, "message": …} with a message containing every one of wantIn.
func (r rest) fail(method, path string, body any, status int, wantIn ...string) string {
	r.t.Helper()
	var e errorMessage
	r.get(method, path, body, status, &e)
	if e.ErrorCode != status {
		r.t.Errorf("%s %s: error_code %d, want %d", method, path, e.ErrorCode, status)
	}
	for _, s := range wantIn {
		if !strings.Contains(e.Message, s) {
			r.t.Errorf("%s %s: message %q lacks %q", method, path, e.Message, s)
		}
	}
	return e.Message
}

// keys returns the member names of a JSON object.
func (r rest) keys(b []byte) []string {
	r.t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		r.t.Fatalf("decode %s: %v", b, err)
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (r rest) status(name string) connectorStatus {
	r.t.Helper()
	var st connectorStatus
	r.get("GET", "/connectors/"+name+"/status", nil, 200, &st)
	return st
}

// waitState waits until the connector and each of its tasks are in the wanted state;
// tasks < 0 accepts any number of tasks.
func (r rest) waitState(name, state string, tasks int) connectorStatus {
	r.t.Helper()
	var st connectorStatus
	r.w.WaitFor(20*time.Second, fmt.Sprintf("%s %s with %d tasks", name, state, tasks), func() bool {
		st = r.status(name)
		if st.Connector.State != state || (tasks >= 0 && len(st.Tasks) != tasks) {
			return false
		}
		for _, ts := range st.Tasks {
			if ts.State != state {
				return false
			}
		}
		return true
	})
	return st
}

// waitTask waits until task 0 of the connector is in state and returns its status.
func (r rest) waitTask(name, state string) taskState {
	r.t.Helper()
	var ts taskState
	r.w.WaitFor(20*time.Second, fmt.Sprintf("task %s-0 %s", name, state), func() bool {
		r.get("GET", "/connectors/"+name+"/tasks/0/status", nil, 200, &ts)
		return ts.State == state
	})
	return ts
}

func (r rest) offsets(name string) []offsetEntry {
	r.t.Helper()
	var body struct {
		Offsets []offsetEntry `json:"offsets"`
	}
	r.get("GET", "/connectors/"+name+"/offsets", nil, 200, &body)
	if body.Offsets == nil {
		r.t.Fatalf("GET /connectors/%s/offsets: no \"offsets\" array", name)
	}
	return body.Offsets
}

// waitLines waits until path holds exactly want, failing at once if it ever holds more lines.
func waitLines(t *testing.T, w *workertest.Worker, path string, want []string) {
	t.Helper()
	w.WaitFor(20*time.Second, fmt.Sprintf("%d lines in %s", len(want), filepath.Base(path)), func() bool {
		return len(readLines(t, path)) >= len(want)
	})
	got := readLines(t, path)
	if !slices.Equal(got, want) {
		t.Fatalf("%s holds %d lines, want %d:\ngot  %s\nwant %s", filepath.Base(path), len(got), len(want), summarize(got), summarize(want))
	}
}

// summarize shortens a line list for failure messages.
func summarize(lines []string) string {
	if len(lines) <= 6 {
		return strings.Join(lines, ",")
	}
	return strings.Join(lines[:3], ",") + ",…," + strings.Join(lines[len(lines)-3:], ",")
}

// lines returns the lines appendLines writes for [from, to).
func lines(from, to int) []string {
	out := make([]string, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("line %06d", i))
	}
	return out
}

func workerID(t *testing.T, w *workertest.Worker) string {
	t.Helper()
	u, err := url.Parse(w.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// postWithLocation creates a connector and returns the Location header and body of the 201.
func postWithLocation(t *testing.T, w *workertest.Worker, method, path string, body any) (string, []byte) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, w.URL+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("%s %s: status %d, want 201; body %s", method, path, resp.StatusCode, out)
	}
	return resp.Header.Get("Location"), out
}

// TestRESTLifecycle walks a file source → Kafka → file sink pipeline through every connector
// endpoint: create, inspect, pause, stop, offsets, failure and restart, patch and delete.
func TestRESTLifecycle(t *testing.T) {
	dir := t.TempDir()
	topic := testenv.Topic(t, "rest")
	id := topic[len(topic)-8:] // unique per run: consumer groups outlive runs on a real broker
	source, sink := "source-"+id, "sink-"+id
	input, output := filepath.Join(dir, "a.txt"), filepath.Join(dir, "b.txt")

	w := workertest.Start(t, dir, workertest.WorkerProps(t, dir))
	r := rest{t, w}
	wid := workerID(t, w)

	// 1. The worker itself, plugins and validation.
	var info struct {
		Version        string `json:"version"`
		Commit         string `json:"commit"`
		KafkaClusterID string `json:"kafka_cluster_id"`
	}
	r.get("GET", "/", nil, 200, &info)
	if info.Version == "" || info.Commit == "" || info.KafkaClusterID == "" {
		t.Errorf("GET / = %+v, want version, commit and kafka_cluster_id", info)
	}
	var health struct{ Status, Message string }
	r.get("GET", "/health", nil, 200, &health)
	if health.Status != "healthy" || health.Message == "" {
		t.Errorf("GET /health = %+v, want status healthy with a message", health)
	}
	var plugins []struct{ Class, Type, Version string }
	r.get("GET", "/connector-plugins", nil, 200, &plugins)
	found := map[string]string{}
	for _, p := range plugins {
		found[p.Class] = p.Type
		if p.Type != "source" && p.Type != "sink" {
			t.Errorf("GET /connector-plugins lists %s of type %s; connectorsOnly defaults to true", p.Class, p.Type)
		}
	}
	if found[sourceClass] != "source" || found[sinkClass] != "sink" {
		t.Errorf("GET /connector-plugins = %v, want %s (source) and %s (sink)", found, sourceClass, sinkClass)
	}
	checkValidate(t, r)
	r.fail("POST", "/connectors", map[string]any{"name": "typo", "config": map[string]string{
		"connector.class": "FileStreamSorce", "file": input, "topic": topic}}, 400, "FileStreamSorce", "FileStreamSource")
	r.fail("GET", "/connectors/typo", nil, 404, "typo")

	// 2. Create the pipeline.
	appendLines(t, input, 0, 100)
	srcConfig := map[string]string{"connector.class": "FileStreamSource", "file": input, "topic": topic}
	loc, body := postWithLocation(t, w, "POST", "/connectors", map[string]any{"name": source, "config": srcConfig})
	if want := w.URL + "/connectors/" + source; loc != want {
		t.Errorf("POST /connectors: Location %q, want %q", loc, want)
	}
	if got := r.keys(body); !slices.Equal(got, []string{"config", "name", "tasks", "type"}) {
		t.Errorf("POST /connectors body has fields %v, want name, config, tasks, type", got)
	}
	var created connectorInfo
	if err := json.Unmarshal(body, &created); err != nil {
		t.Fatal(err)
	}
	wantSrcConfig := map[string]string{"name": source, "connector.class": "FileStreamSource", "file": input, "topic": topic}
	checkInfo(t, "POST /connectors", created, source, "source", wantSrcConfig, 1)
	r.fail("POST", "/connectors", map[string]any{"name": source, "config": srcConfig}, 409, source, "already exists")

	sinkConfig := map[string]string{"connector.class": "FileStreamSink", "file": output, "topics": topic}
	loc, body = postWithLocation(t, w, "PUT", "/connectors/"+sink+"/config", sinkConfig)
	if want := w.URL + "/connectors/" + sink; loc != want {
		t.Errorf("PUT /connectors/%s/config: Location %q, want %q", sink, loc, want)
	}
	var createdSink connectorInfo
	if err := json.Unmarshal(body, &createdSink); err != nil {
		t.Fatal(err)
	}
	checkInfo(t, "PUT config (create)", createdSink, sink, "sink", withName(sinkConfig, sink), 1)
	sinkConfig["errors.log.enable"] = "true"
	var replaced connectorInfo
	r.get("PUT", "/connectors/"+sink+"/config", sinkConfig, 200, &replaced)
	checkInfo(t, "PUT config (update)", replaced, sink, "sink", withName(sinkConfig, sink), 1)

	waitLines(t, w, output, lines(0, 100))

	var names []string
	r.get("GET", "/connectors", nil, 200, &names)
	sort.Strings(names)
	if !slices.Equal(names, []string{sink, source}) {
		t.Errorf("GET /connectors = %v, want [%s %s]", names, sink, source)
	}
	var expanded map[string]struct {
		Status *connectorStatus `json:"status"`
		Info   *connectorInfo   `json:"info"`
	}
	r.get("GET", "/connectors?expand=status&expand=info", nil, 200, &expanded)
	if len(expanded) != 2 {
		t.Errorf("GET /connectors?expand=status&expand=info has %d entries, want 2", len(expanded))
	}
	for name, typ := range map[string]string{source: "source", sink: "sink"} {
		e := expanded[name]
		if e.Status == nil || e.Info == nil {
			t.Errorf("expanded %s = %+v, want both status and info", name, e)
			continue
		}
		if e.Status.Name != name || e.Status.Type != typ || e.Status.Connector.State != "RUNNING" || len(e.Status.Tasks) != 1 {
			t.Errorf("expanded status of %s = %+v", name, *e.Status)
		}
		if e.Info.Name != name || e.Info.Type != typ || e.Info.Config["name"] != name || len(e.Info.Tasks) != 1 {
			t.Errorf("expanded info of %s = %+v", name, *e.Info)
		}
	}
	var onlyStatus map[string]map[string]json.RawMessage
	r.get("GET", "/connectors?expand=status", nil, 200, &onlyStatus)
	if _, ok := onlyStatus[source]["info"]; ok || onlyStatus[source]["status"] == nil {
		t.Errorf("GET /connectors?expand=status: %s has %v, want status only", source, r.keys(mustJSON(t, onlyStatus[source])))
	}

	var got connectorInfo
	r.get("GET", "/connectors/"+source, nil, 200, &got)
	checkInfo(t, "GET /connectors/{c}", got, source, "source", wantSrcConfig, 1)
	var cfg map[string]string
	r.get("GET", "/connectors/"+source+"/config", nil, 200, &cfg)
	if !maps.Equal(cfg, wantSrcConfig) {
		t.Errorf("GET /connectors/%s/config = %v, want %v", source, cfg, wantSrcConfig)
	}
	statusBody := r.call("GET", "/connectors/"+source+"/status", nil, 200)
	if got := r.keys(statusBody); !slices.Equal(got, []string{"connector", "name", "tasks", "type"}) {
		t.Errorf("status fields %v, want name, connector, tasks, type", got)
	}
	st := r.status(source)
	if st.Name != source || st.Type != "source" || st.Connector.State != "RUNNING" || st.Connector.WorkerID != wid ||
		len(st.Tasks) != 1 || st.Tasks[0].ID != 0 || st.Tasks[0].State != "RUNNING" || st.Tasks[0].WorkerID != wid {
		t.Errorf("GET /connectors/%s/status = %+v, want RUNNING with one RUNNING task on %s", source, st, wid)
	}
	var tasks []struct {
		ID     taskID            `json:"id"`
		Config map[string]string `json:"config"`
	}
	r.get("GET", "/connectors/"+source+"/tasks", nil, 200, &tasks)
	if len(tasks) != 1 || tasks[0].ID != (taskID{source, 0}) || tasks[0].Config["file"] != input || tasks[0].Config["topic"] != topic {
		t.Errorf("GET /connectors/%s/tasks = %+v, want one task reading %s", source, tasks, input)
	}
	taskBody := r.call("GET", "/connectors/"+source+"/tasks/0/status", nil, 200)
	if got := r.keys(taskBody); !slices.Equal(got, []string{"id", "state", "worker_id"}) {
		t.Errorf("task status fields %v, want id, state, worker_id (no trace while running)", got)
	}
	r.fail("GET", "/connectors/"+source+"/tasks/1/status", nil, 404, "No status found for task "+source+"-1")
	var topics map[string]struct {
		Topics []string `json:"topics"`
	}
	r.get("GET", "/connectors/"+source+"/topics", nil, 200, &topics)
	if !slices.Equal(topics[source].Topics, []string{topic}) || len(topics) != 1 {
		t.Errorf("GET /connectors/%s/topics = %+v, want {%q: {topics: [%s]}}", source, topics, source, topic)
	}
	r.get("GET", "/connectors/"+sink+"/topics", nil, 200, &topics)
	if !slices.Equal(topics[sink].Topics, []string{topic}) {
		t.Errorf("GET /connectors/%s/topics = %+v, want [%s]", sink, topics, topic)
	}
	r.call("PUT", "/connectors/"+sink+"/topics/reset", nil, 202)
	r.get("GET", "/connectors/"+sink+"/topics", nil, 200, &topics)
	if got, ok := topics[sink]; !ok || got.Topics == nil || len(got.Topics) != 0 {
		t.Errorf("GET /connectors/%s/topics after reset = %+v, want {topics: []}", sink, topics)
	}

	// 3. Pause and resume.
	r.call("PUT", "/connectors/"+source+"/pause", nil, 202)
	// Upstream's task reports PAUSED from its own loop once it has stopped polling, so nothing
	// written after the status says PAUSED may move.
	r.waitState(source, "PAUSED", 1)
	appendLines(t, input, 100, 150)
	time.Sleep(2 * time.Second) // four offset flush intervals: the sink writes at every flush
	if n := len(readLines(t, output)); n != 100 {
		t.Errorf("lines appended after %s reported PAUSED reached the sink file (100 → %d lines): "+
			"the task was still polling", source, n)
	}
	r.call("PUT", "/connectors/"+source+"/resume", nil, 202)
	r.waitState(source, "RUNNING", 1)
	waitLines(t, w, output, lines(0, 150))

	// 4. Stop and offsets.
	r.fail("PATCH", "/connectors/"+source+"/offsets", map[string]any{"offsets": []offsetEntry{
		{Partition: map[string]any{"filename": input}, Offset: map[string]any{"position": 0}}}},
		400, "Connectors must be in the STOPPED state before their offsets can be modified", "'/connectors/"+source+"/stop'")
	r.fail("DELETE", "/connectors/"+source+"/offsets", nil, 400, "must be in the STOPPED state")
	r.call("PUT", "/connectors/"+source+"/stop", nil, 204)
	r.waitState(source, "STOPPED", 0)
	r.get("GET", "/connectors/"+source, nil, 200, &got)
	if len(got.Tasks) != 0 {
		t.Errorf("stopped connector still lists tasks %v", got.Tasks)
	}
	var noTasks []json.RawMessage
	r.get("GET", "/connectors/"+source+"/tasks", nil, 200, &noTasks)
	if len(noTasks) != 0 {
		t.Errorf("GET /connectors/%s/tasks of a stopped connector = %d tasks, want []", source, len(noTasks))
	}
	fileBytes := int64(150 * lineLen)
	checkSourceOffsets(t, r.offsets(source), input, fileBytes)

	const rewindTo = 120 // replay lines 120..149
	var msg struct {
		Message string `json:"message"`
	}
	r.get("PATCH", "/connectors/"+source+"/offsets", map[string]any{"offsets": []offsetEntry{
		{Partition: map[string]any{"filename": input}, Offset: map[string]any{"position": rewindTo * lineLen}}}}, 200, &msg)
	if msg.Message != "The offsets for this connector have been altered successfully" {
		t.Errorf("PATCH offsets message %q", msg.Message)
	}
	checkSourceOffsets(t, r.offsets(source), input, int64(rewindTo*lineLen))
	r.call("PUT", "/connectors/"+source+"/resume", nil, 202)
	r.waitState(source, "RUNNING", 1)
	want := append(lines(0, 150), lines(rewindTo, 150)...)
	waitLines(t, w, output, want)

	r.call("PUT", "/connectors/"+source+"/stop", nil, 204)
	r.waitState(source, "STOPPED", 0)
	checkSourceOffsets(t, r.offsets(source), input, fileBytes)
	r.get("DELETE", "/connectors/"+source+"/offsets", nil, 200, &msg)
	if msg.Message != "The offsets for this connector have been reset successfully" {
		t.Errorf("DELETE offsets message %q", msg.Message)
	}
	if offs := r.offsets(source); len(offs) != 0 {
		t.Errorf("offsets after reset = %v, want none", offs)
	}
	r.call("PUT", "/connectors/"+source+"/resume", nil, 202)
	r.waitState(source, "RUNNING", 1)
	want = append(want, lines(0, 150)...)
	waitLines(t, w, output, want)

	records := int64(len(want)) // every line the source produced reached the topic once
	var sinkOffs []offsetEntry
	w.WaitFor(10*time.Second, "sink offsets covering every record", func() bool {
		sinkOffs = r.offsets(sink)
		return sumSinkOffsets(t, sinkOffs, topic) == records
	})
	for _, o := range sinkOffs {
		if got := sortedKeys(o.Partition); !slices.Equal(got, []string{"kafka_partition", "kafka_topic"}) {
			t.Errorf("sink offset partition %v, want kafka_topic and kafka_partition", o.Partition)
		}
		if got := sortedKeys(o.Offset); !slices.Equal(got, []string{"kafka_offset"}) {
			t.Errorf("sink offset %v, want kafka_offset", o.Offset)
		}
	}

	// 5. A task that fails for real, and the restart endpoints.
	checkRestarts(t, r, dir, topic, id, want)

	// 6. Patch and delete.
	var patched connectorInfo
	r.get("PATCH", "/connectors/"+sink+"/config", map[string]any{"errors.log.enable": nil, "errors.log.include.messages": "true"}, 200, &patched)
	wantPatched := withName(sinkConfig, sink)
	delete(wantPatched, "errors.log.enable")
	wantPatched["errors.log.include.messages"] = "true"
	checkInfo(t, "PATCH config", patched, sink, "sink", wantPatched, 1)
	var patchedCfg map[string]string
	r.get("GET", "/connectors/"+sink+"/config", nil, 200, &patchedCfg)
	if !maps.Equal(patchedCfg, wantPatched) {
		t.Errorf("config after PATCH = %v, want %v", patchedCfg, wantPatched)
	}
	r.fail("PATCH", "/connectors/nope-"+id+"/config", map[string]any{"a": "b"}, 404, "nope-"+id)
	r.waitState(sink, "RUNNING", 1)

	// The sink group is left empty so that a real broker does not keep it from run to run.
	r.call("PUT", "/connectors/"+sink+"/stop", nil, 204)
	r.waitState(sink, "STOPPED", 0)
	rewound := offsetEntry{Partition: sinkOffs[0].Partition, Offset: map[string]any{"kafka_offset": 5}}
	r.get("PATCH", "/connectors/"+sink+"/offsets", map[string]any{"offsets": []offsetEntry{rewound}}, 200, &msg)
	if msg.Message != "The offsets for this connector have been altered successfully" {
		t.Errorf("PATCH sink offsets message %q", msg.Message)
	}
	altered := false
	for _, o := range r.offsets(sink) {
		if fmt.Sprint(o.Partition) == fmt.Sprint(rewound.Partition) {
			altered = fmt.Sprint(o.Offset["kafka_offset"]) == "5"
		}
	}
	if !altered {
		t.Errorf("sink offsets after PATCH = %v, want kafka_offset 5 for %v", r.offsets(sink), rewound.Partition)
	}
	r.get("DELETE", "/connectors/"+sink+"/offsets", nil, 200, &msg)
	if msg.Message != "The offsets for this connector have been reset successfully" {
		t.Errorf("DELETE sink offsets message %q", msg.Message)
	}
	if offs := r.offsets(sink); len(offs) != 0 {
		t.Errorf("sink offsets after reset = %v, want none", offs)
	}
	for _, name := range []string{source, sink} {
		r.call("DELETE", "/connectors/"+name, nil, 204)
		r.fail("GET", "/connectors/"+name, nil, 404, "Connector "+name+" not found")
		r.fail("GET", "/connectors/"+name+"/status", nil, 404, "No status found for connector "+name)
	}
	r.fail("DELETE", "/connectors/"+source, nil, 404, "Connector "+source+" not found")
	r.fail("PUT", "/connectors/"+source+"/pause", nil, 404, "Unknown connector "+source)
	r.fail("PUT", "/connectors/"+source+"/resume", nil, 404, "Unknown connector "+source)
	r.fail("GET", "/connectors/"+source+"/offsets", nil, 404, "Connector "+source+" not found")
	r.get("GET", "/connectors", nil, 200, &names)
	if len(names) != 0 {
		t.Errorf("GET /connectors after deleting everything = %v", names)
	}

	// 8. Log levels.
	checkLoggers(t, r)
}

// checkValidate sends a sink config with a bad tasks.max and neither topics nor topics.regex.
func checkValidate(t *testing.T, r rest) {
	t.Helper()
	var res struct {
		Name       string   `json:"name"`
		ErrorCount int      `json:"error_count"`
		Groups     []string `json:"groups"`
		Configs    []struct {
			Definition *struct {
				Name         string  `json:"name"`
				Required     bool    `json:"required"`
				DefaultValue *string `json:"default_value"`
				Group        *string `json:"group"`
				Order        *int    `json:"order"`
				Width        string  `json:"width"`
				DisplayName  string  `json:"display_name"`
			} `json:"definition"`
			Value *struct {
				Name   string   `json:"name"`
				Value  *string  `json:"value"`
				Errors []string `json:"errors"`
			} `json:"value"`
		} `json:"configs"`
	}
	raw := r.call("PUT", "/connector-plugins/FileStreamSinkConnector/config/validate",
		map[string]string{"connector.class": "FileStreamSinkConnector", "name": "v", "tasks.max": "0"}, 200)
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatal(err)
	}
	if res.Name != sinkClass {
		t.Errorf("validate name %q, want %s", res.Name, sinkClass)
	}
	errs := map[string][]string{}
	total := 0
	for _, c := range res.Configs {
		if c.Value == nil {
			continue
		}
		errs[c.Value.Name] = c.Value.Errors
		total += len(c.Value.Errors)
	}
	if res.ErrorCount == 0 || res.ErrorCount != total {
		t.Errorf("error_count %d, want the %d errors listed (and more than 0)", res.ErrorCount, total)
	}
	if e := strings.Join(errs["tasks.max"], " "); !strings.Contains(e, "tasks.max") || !strings.Contains(e, "0") {
		t.Errorf("tasks.max errors %q, want one naming tasks.max and its value 0", errs["tasks.max"])
	}
	if e := strings.Join(errs["topics"], " "); !strings.Contains(e, "topics") {
		t.Errorf("topics errors %q, want one saying topics or topics.regex is needed", errs["topics"])
	}
	if len(errs["file"]) != 0 || len(errs["name"]) != 0 {
		t.Errorf("valid keys have errors: file %v, name %v", errs["file"], errs["name"])
	}
	if !slices.Contains(res.Groups, "Common") {
		t.Errorf("groups %v, want Common among them", res.Groups)
	}
	// Upstream's ConfigKeyInfo serializes the key's order in its group as "order", and has no
	// "order_in_group" member; "name" is first in the Common group.
	if bytes.Contains(raw, []byte(`"order_in_group"`)) {
		t.Errorf("validate response has order_in_group; upstream's ConfigKeyInfo writes only order")
	}
	// "file" is defined by upstream's FileStreamSinkConnector without a group, display name or
	// width, which ConfigDef turns into group null, order -1, display_name "file", width NONE.
	checked := 0
	for _, c := range res.Configs {
		d := c.Definition
		switch {
		case d == nil:
		case d.Name == "name":
			checked++
			if d.Order == nil || *d.Order != 1 || d.Group == nil || *d.Group != "Common" || !d.Required {
				t.Errorf("definition of name = %+v, want required, group Common, order 1", *d)
			}
		case d.Name == "file":
			checked++
			if d.Order == nil || *d.Order != -1 || d.Group != nil || d.Required || d.DefaultValue != nil || d.DisplayName != "file" || d.Width != "NONE" {
				t.Errorf("definition of file = %+v, want optional, no default, group null, order -1, display_name file, width NONE", *d)
			}
		}
	}
	if checked != 2 {
		t.Errorf("validate response defines %d of the keys name and file, want both", checked)
	}
	r.fail("PUT", "/connector-plugins/FileStreamSinkConnector/config/validate",
		map[string]string{"connector.class": "FileStreamSourceConnector"}, 400, "does not match request type")
}

func checkInfo(t *testing.T, what string, got connectorInfo, name, typ string, config map[string]string, tasks int) {
	t.Helper()
	if got.Name != name || got.Type != typ || !maps.Equal(got.Config, config) {
		t.Errorf("%s = %+v, want name %s, type %s, config %v", what, got, name, typ, config)
	}
	if len(got.Tasks) != tasks {
		t.Errorf("%s: tasks %v, want %d", what, got.Tasks, tasks)
	}
	for i, tk := range got.Tasks {
		if tk != (taskID{name, i}) {
			t.Errorf("%s: task %d = %+v", what, i, tk)
		}
	}
}

// checkSourceOffsets checks the file source's offsets: one partition {"filename": file} at
// {"position": pos}, as upstream's FileStreamSourceTask writes them.
func checkSourceOffsets(t *testing.T, offs []offsetEntry, file string, pos int64) {
	t.Helper()
	if len(offs) != 1 {
		t.Fatalf("source offsets %v, want exactly one partition", offs)
	}
	o := offs[0]
	if len(o.Partition) != 1 || o.Partition["filename"] != file {
		t.Errorf("source partition %v, want {filename: %s}", o.Partition, file)
	}
	n, ok := o.Offset["position"].(json.Number)
	if !ok || len(o.Offset) != 1 || n.String() != fmt.Sprint(pos) {
		t.Errorf("source offset %v, want {position: %d}", o.Offset, pos)
	}
}

func sumSinkOffsets(t *testing.T, offs []offsetEntry, topic string) int64 {
	t.Helper()
	var sum int64
	for _, o := range offs {
		if o.Partition["kafka_topic"] != topic {
			t.Fatalf("sink offsets list topic %v, want only %s", o.Partition["kafka_topic"], topic)
		}
		n, ok := o.Offset["kafka_offset"].(json.Number)
		if !ok {
			t.Fatalf("sink offset %v has no integer kafka_offset", o.Offset)
		}
		v, err := n.Int64()
		if err != nil {
			t.Fatal(err)
		}
		sum += v
	}
	return sum
}

// checkRestarts makes a source task fail while running (its file turns out to be a directory)
// and a sink task fail at start (its output path is a directory), then fixes the cause and
// brings them back with the restart endpoints. topicLines is what the topic holds.
func checkRestarts(t *testing.T, r rest, dir, topic, id string, topicLines []string) {
	t.Helper()
	broken, brokenSink := "broken-src-"+id, "broken-sink-"+id
	missing := filepath.Join(dir, "later.txt")
	r.call("PUT", "/connectors/"+broken+"/config", map[string]string{
		"connector.class": "FileStreamSource", "file": missing, "topic": topic + "-2"}, 201)
	r.waitState(broken, "RUNNING", 1) // waits for the file to appear
	if err := os.Mkdir(missing, 0o755); err != nil {
		t.Fatal(err)
	}
	ts := r.waitTask(broken, "FAILED")
	if !strings.Contains(ts.Trace, "is a directory") || ts.WorkerID == "" {
		t.Errorf("failed task status %+v, want a trace saying the file is a directory", ts)
	}
	if st := r.status(broken); st.Connector.State != "RUNNING" {
		t.Errorf("connector of a failed task is %s, want RUNNING", st.Connector.State)
	}
	if err := os.Remove(missing); err != nil {
		t.Fatal(err)
	}
	appendLines(t, missing, 0, 3)
	r.call("POST", "/connectors/"+broken+"/tasks/0/restart", nil, 204)
	ts = r.waitTask(broken, "RUNNING")
	if ts.Trace != "" {
		t.Errorf("restarted task still carries trace %q", ts.Trace)
	}
	r.w.WaitFor(10*time.Second, "the restarted source to commit its file", func() bool {
		offs := r.offsets(broken)
		return len(offs) == 1 && fmt.Sprint(offs[0].Offset["position"]) == fmt.Sprint(3*lineLen)
	})
	r.call("POST", "/connectors/"+broken+"/restart", nil, 204)
	r.waitState(broken, "RUNNING", 1)
	r.fail("POST", "/connectors/"+broken+"/tasks/7/restart", nil, 404, "Task "+broken+"-7 not found")
	r.fail("POST", "/connectors/nope-"+id+"/restart", nil, 404, "Connector nope-"+id+" not found")
	r.fail("POST", "/connectors/nope-"+id+"/restart?includeTasks=true", nil, 404, "Unknown connector: nope-"+id)
	r.call("DELETE", "/connectors/"+broken, nil, 204)

	out := filepath.Join(dir, "c.txt")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	r.call("POST", "/connectors", map[string]any{"name": brokenSink, "config": map[string]string{
		"connector.class": "FileStreamSink", "file": out, "topics": topic}}, 201)
	ts = r.waitTask(brokenSink, "FAILED")
	if !strings.Contains(ts.Trace, "is a directory") {
		t.Errorf("failed sink task trace %q, want it to say the path is a directory", ts.Trace)
	}
	if err := os.Remove(out); err != nil {
		t.Fatal(err)
	}
	// Upstream answers with the status as planned: what is restarted shows RESTARTING, the
	// healthy connector is left alone.
	var planned connectorStatus
	r.get("POST", "/connectors/"+brokenSink+"/restart?includeTasks=true&onlyFailed=true", nil, 202, &planned)
	if planned.Name != brokenSink || planned.Connector.State != "RUNNING" || len(planned.Tasks) != 1 || planned.Tasks[0].State != "RESTARTING" {
		t.Errorf("restart?includeTasks=true&onlyFailed=true answered %+v, want connector RUNNING and task 0 RESTARTING", planned)
	}
	r.waitState(brokenSink, "RUNNING", 1)
	waitLines(t, r.w, out, topicLines)
	r.get("POST", "/connectors/"+brokenSink+"/restart?onlyFailed=true", nil, 202, &planned)
	if planned.Connector.State != "RUNNING" || len(planned.Tasks) != 1 || planned.Tasks[0].State != "RUNNING" {
		t.Errorf("restart?onlyFailed=true with nothing failed answered %+v, want everything RUNNING", planned)
	}
	r.call("PUT", "/connectors/"+brokenSink+"/stop", nil, 204)
	r.waitState(brokenSink, "STOPPED", 0)
	r.call("DELETE", "/connectors/"+brokenSink+"/offsets", nil, 200)
	r.call("DELETE", "/connectors/"+brokenSink, nil, 204)
}

func checkLoggers(t *testing.T, r rest) {
	t.Helper()
	type level struct {
		Level        string `json:"level"`
		LastModified *int64 `json:"last_modified"`
	}
	var all map[string]level
	r.get("GET", "/admin/loggers", nil, 200, &all)
	if all["root"].Level != "INFO" {
		t.Errorf("GET /admin/loggers root = %+v, want INFO", all["root"])
	}
	before := time.Now().UnixMilli()
	var affected []string
	r.get("PUT", "/admin/loggers/kconnect", map[string]string{"level": "DEBUG"}, 200, &affected)
	if !slices.Contains(affected, "kconnect") || !slices.Contains(affected, "kconnect.rest") {
		t.Errorf("PUT /admin/loggers/kconnect affected %v, want kconnect and its child kconnect.rest", affected)
	}
	r.get("GET", "/admin/loggers", nil, 200, &all)
	if l := all["kconnect"]; l.Level != "DEBUG" || l.LastModified == nil || *l.LastModified < before {
		t.Errorf("GET /admin/loggers kconnect = %+v, want DEBUG modified after %d", l, before)
	}
	var one level
	r.get("GET", "/admin/loggers/kconnect.rest", nil, 200, &one)
	if one.Level != "DEBUG" {
		t.Errorf("GET /admin/loggers/kconnect.rest = %+v, want DEBUG inherited from kconnect", one)
	}
	r.fail("GET", "/connectors/debug-marker", nil, 404)
	r.w.WaitFor(5*time.Second, "a DEBUG line for the REST request", func() bool {
		for _, l := range strings.Split(r.w.Log(), "\n") {
			if strings.Contains(l, "level=DEBUG") && strings.Contains(l, "/connectors/debug-marker") {
				return true
			}
		}
		return false
	})
	r.fail("PUT", "/admin/loggers/kconnect", map[string]string{"level": "LOUD"}, 404, "LOUD")
}

// TestRESTStandalonePersistence checks that connectors created through REST, and their target
// state, survive a graceful restart of a standalone worker started with only a worker config.
func TestRESTStandalonePersistence(t *testing.T) {
	dir := t.TempDir()
	topic := testenv.Topic(t, "rest-persist")
	name := "kept-" + topic[len(topic)-8:]
	input := filepath.Join(dir, "in.txt")
	appendLines(t, input, 0, 10)
	w := workertest.Start(t, dir, workertest.WorkerProps(t, dir))
	r := rest{t, w}
	config := map[string]string{"connector.class": "FileStreamSource", "file": input, "topic": topic, "batch.size": "7"}
	r.call("POST", "/connectors", map[string]any{"name": name, "config": config}, 201)
	r.waitState(name, "RUNNING", 1)
	r.w.WaitFor(10*time.Second, "committed offsets", func() bool { return len(r.offsets(name)) == 1 })
	r.call("PUT", "/connectors/"+name+"/pause", nil, 202)
	r.waitState(name, "PAUSED", 1)
	if err := w.Stop(); err != nil {
		t.Fatalf("graceful stop: %v\n%s", err, w.Log())
	}
	w.Restart()
	var got connectorInfo
	r.get("GET", "/connectors/"+name, nil, 200, &got)
	checkInfo(t, "after restart", got, name, "source", withName(config, name), 1)
	r.waitState(name, "PAUSED", 1)
	checkSourceOffsets(t, r.offsets(name), input, int64(10*lineLen))
	r.call("PUT", "/connectors/"+name+"/resume", nil, 202)
	r.waitState(name, "RUNNING", 1)
	if err := w.Stop(); err != nil {
		t.Fatalf("graceful stop: %v\n%s", err, w.Log())
	}
	w.Restart()
	r.waitState(name, "RUNNING", 1)
}

// TestRESTCommandLineConnectorWins checks that a connector config given on the command line
// replaces, at the next start, the config a REST call saved for the same connector.
func TestRESTCommandLineConnectorWins(t *testing.T) {
	dir := t.TempDir()
	topic := testenv.Topic(t, "rest-cli")
	name := "cli-" + topic[len(topic)-8:]
	cli := map[string]string{"name": name, "connector.class": "FileStreamSource", "file": filepath.Join(dir, "cli.txt"), "topic": topic}
	w := workertest.Start(t, dir, workertest.WorkerProps(t, dir), cli)
	r := rest{t, w}
	r.waitState(name, "RUNNING", 1)
	viaREST := withName(map[string]string{"connector.class": "FileStreamSource", "file": filepath.Join(dir, "rest.txt"), "topic": topic}, name)
	var info connectorInfo
	r.get("PUT", "/connectors/"+name+"/config", viaREST, 200, &info)
	checkInfo(t, "PUT over a command-line connector", info, name, "source", viaREST, 1)
	other := "other-" + topic[len(topic)-8:]
	r.call("PUT", "/connectors/"+other+"/config", map[string]string{"connector.class": "FileStreamSource", "file": filepath.Join(dir, "o.txt"), "topic": topic}, 201)
	if err := w.Stop(); err != nil {
		t.Fatalf("graceful stop: %v\n%s", err, w.Log())
	}
	w.Restart()
	var cfg map[string]string
	r.get("GET", "/connectors/"+name+"/config", nil, 200, &cfg)
	if !maps.Equal(cfg, cli) {
		t.Errorf("config after restart = %v, want the command line's %v", cfg, cli)
	}
	var names []string
	r.get("GET", "/connectors", nil, 200, &names)
	sort.Strings(names)
	if !slices.Equal(names, []string{name, other}) {
		t.Errorf("connectors after restart = %v, want the command line's %s and the REST-made %s", names, name, other)
	}
	r.waitState(name, "RUNNING", 1)
}

// TestRESTHealthWhileStarting checks upstream's startup contract of GET /health: while
// connectors given on the command line are still being started, it answers at once with
// 503 {"status":"starting"}. The JDBC sink's validation connects to a database that accepts the
// connection and never answers, which keeps startup busy for the validation's timeout.
func TestRESTHealthWhileStarting(t *testing.T) {
	dir := t.TempDir()
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	props := workertest.WorkerProps(t, dir)
	worker := workertest.WriteProperties(t, dir, "worker.properties", props)
	conn := workertest.WriteProperties(t, dir, "jdbc.properties", map[string]string{
		"name": "slow", "connector.class": "JdbcSinkConnector", "topics": "t",
		"connection.url": "jdbc:postgresql://" + silent.Addr().String() + "/db"})
	log, err := os.Create(filepath.Join(dir, "worker.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	cmd := exec.Command(workertest.Binary(t), "standalone", worker, conn)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	client := &http.Client{Timeout: 3 * time.Second}
	healthURL := props["listeners"] + "/health"
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := client.Get(healthURL)
		if err != nil {
			var nerr net.Error
			if errors.As(err, &nerr) && nerr.Timeout() {
				t.Fatalf("GET /health did not answer within %v while the worker was starting", client.Timeout)
			}
			if time.Now().After(deadline) {
				b, _ := os.ReadFile(log.Name())
				t.Fatalf("REST listener not up after 5s: %v\n%s", err, b)
			}
			time.Sleep(20 * time.Millisecond)
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var ws struct{ Status, Message string }
		if err := json.Unmarshal(b, &ws); err != nil {
			t.Fatalf("GET /health body %s: %v", b, err)
		}
		if resp.StatusCode != http.StatusServiceUnavailable || ws.Status != "starting" || !strings.HasPrefix(ws.Message, "Worker is still starting up.") {
			t.Fatalf("GET /health while starting = %d %s, want 503 with status starting", resp.StatusCode, b)
		}
		return
	}
}

func withName(config map[string]string, name string) map[string]string {
	out := maps.Clone(config)
	out["name"] = name
	return out
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCommandLineConnectorsAreNotSaved checks that only connectors created or changed through
// REST persist in a standalone worker's state file: a connector given as a file on the command
// line does not come back at a later start without its file, a command-line connector whose
// config was changed through REST comes back with that config, and a command-line connector
// paused through REST stays paused when its file is given again.
func TestCommandLineConnectorsAreNotSaved(t *testing.T) {
	dir := t.TempDir()
	topic := testenv.Topic(t, "cli-state")
	source := func(name, file string) map[string]string {
		return map[string]string{"name": name, "connector.class": "FileStreamSource", "file": filepath.Join(dir, file), "topic": topic}
	}
	props := workertest.WorkerProps(t, dir)
	plain, changed, paused := source("plain", "plain.txt"), source("changed", "changed.txt"), source("paused", "paused.txt")
	w := workertest.Start(t, dir, props, plain, changed, paused)
	r := rest{t, w}
	viaREST := source("rest", "rest.txt")
	r.call("POST", "/connectors", map[string]any{"name": "rest", "config": viaREST}, 201)
	changedViaREST := source("changed", "changed-via-rest.txt")
	r.call("PUT", "/connectors/changed/config", changedViaREST, 200)
	r.call("PUT", "/connectors/paused/pause", nil, 202)
	r.waitState("paused", "PAUSED", 1)
	if err := w.Stop(); err != nil {
		t.Fatalf("graceful stop: %v\n%s", err, w.Log())
	}

	w = workertest.Start(t, dir, props)
	r = rest{t, w}
	var names []string
	r.get("GET", "/connectors", nil, 200, &names)
	sort.Strings(names)
	if !slices.Equal(names, []string{"changed", "rest"}) {
		t.Errorf("connectors after a start without connector files = %v, want only the REST-made or REST-changed [changed rest]", names)
	}
	var cfg map[string]string
	r.get("GET", "/connectors/changed/config", nil, 200, &cfg)
	if !maps.Equal(cfg, changedViaREST) {
		t.Errorf("config of the command-line connector changed through REST = %v, want %v", cfg, changedViaREST)
	}
	if err := w.Stop(); err != nil {
		t.Fatalf("graceful stop: %v\n%s", err, w.Log())
	}

	w = workertest.Start(t, dir, props, paused)
	r = rest{t, w}
	r.waitState("paused", "PAUSED", 1)
}
