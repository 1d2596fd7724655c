package rest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/kconnect/kconnect/runtime/herder"
)

func newTestServer(t testing.TB, mutate func(*Config)) (*Server, *memHerder) {
	t.Helper()
	h := newMemHerder()
	cfg := Config{Listeners: []string{"http://127.0.0.1:0"}, Version: "4.0.0-kconnect", Commit: "abc123"}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := New(h, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return s, h
}

// call sends a request to handler; a non-empty body is sent as application/json unless headers
// (name, value pairs) set another Content-Type.
func call(t testing.TB, handler http.Handler, method, path, body string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	return rec
}

// expect checks the status and that the body is the JSON document want (key order and
// whitespace aside); want "" means an empty body.
func expect(t testing.TB, rec *httptest.ResponseRecorder, status int, want string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d; body %s", rec.Code, status, rec.Body.String())
	}
	if want == "" {
		if rec.Body.Len() != 0 {
			t.Fatalf("body = %q, want empty", rec.Body.String())
		}
		return
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var got, exp any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("body %q is not JSON: %v", rec.Body.String(), err)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("bad expectation %q: %v", want, err)
	}
	if !reflect.DeepEqual(got, exp) {
		t.Fatalf("body = %s\nwant   %s", rec.Body.String(), want)
	}
}

func errJSON(status int, msg string) string {
	b, _ := json.Marshal(map[string]any{"error_code": status, "message": msg})
	return string(b)
}

const fileSourceJSON = `{"name":"local-file-source","config":{"connector.class":"FileStreamSource","tasks.max":"1","file":"/tmp/test.txt","topic":"connect-test"}}`

func createFileSource(t *testing.T, handler http.Handler) {
	t.Helper()
	rec := call(t, handler, "POST", "/connectors", fileSourceJSON)
	if rec.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", rec.Code, rec.Body.String())
	}
}

func TestRootReportsVersionCommitAndClusterID(t *testing.T) {
	s, _ := newTestServer(t, nil)
	expect(t, call(t, s.Handler(), "GET", "/", ""), 200, `{"version":"4.0.0-kconnect","commit":"abc123","kafka_cluster_id":"kfk-cluster-1"}`)
}

func TestHealth(t *testing.T) {
	s, h := newTestServer(t, func(c *Config) { c.HealthCheckTimeout = 20e6 })
	expect(t, call(t, s.Handler(), "GET", "/health", ""), 200,
		`{"status":"healthy","message":"Worker has completed startup and is ready to handle requests."}`)

	h.readyErr = herder.BadRequest("reading the config topic")
	expect(t, call(t, s.Handler(), "GET", "/health", ""), 503,
		`{"status":"starting","message":"Worker is still starting up. reading the config topic"}`)

	h.readyErr = herder.BadRequest("Worker is still starting up.")
	expect(t, call(t, s.Handler(), "GET", "/health", ""), 503,
		`{"status":"starting","message":"Worker is still starting up."}`)

	h.readyErr = &herder.UnhealthyError{Msg: "embedded broker 127.0.0.1:9092 cannot accept connections: too many open files"}
	expect(t, call(t, s.Handler(), "GET", "/health", ""), 503,
		`{"status":"unhealthy","message":"embedded broker 127.0.0.1:9092 cannot accept connections: too many open files"}`)

	h.readyErr, h.readyBlock = nil, true
	expect(t, call(t, s.Handler(), "GET", "/health", ""), 500,
		`{"status":"unhealthy","message":"Worker was unable to handle this request and may be unable to handle other requests."}`)
}

func TestCreateConnector(t *testing.T) {
	s, h := newTestServer(t, nil)
	rec := call(t, s.Handler(), "POST", "/connectors", fileSourceJSON)
	expect(t, rec, 201, `{"name":"local-file-source","config":{"connector.class":"FileStreamSource","tasks.max":"1","file":"/tmp/test.txt","topic":"connect-test","name":"local-file-source"},"tasks":[{"connector":"local-file-source","task":0}],"type":"source"}`)
	if loc := rec.Header().Get("Location"); loc != "http://example.com/connectors/local-file-source" {
		t.Errorf("Location = %q", loc)
	}
	if h.connectors["local-file-source"].target != herder.TargetStarted {
		t.Errorf("target = %v, want STARTED", h.connectors["local-file-source"].target)
	}

	// Same name again: upstream's AlreadyExistsException.
	expect(t, call(t, s.Handler(), "POST", "/connectors", fileSourceJSON), 409, errJSON(409, "Connector local-file-source already exists"))
}

func TestCreateConnectorInitialStateTrimmedNameAndCoercedValues(t *testing.T) {
	s, h := newTestServer(t, nil)
	rec := call(t, s.Handler(), "POST", "/connectors",
		`{"name":"  stopped one ","initial_state":"stopped","config":{"connector.class":"FileStreamSink","tasks.max":2,"flag":true,"ratio":1.5e0}}`)
	expect(t, rec, 201, `{"name":"stopped one","config":{"connector.class":"FileStreamSink","tasks.max":"2","flag":"true","ratio":"1.5e0","name":"stopped one"},"tasks":[],"type":"sink"}`)
	if loc := rec.Header().Get("Location"); loc != "http://example.com/connectors/stopped%20one" {
		t.Errorf("Location = %q", loc)
	}
	if got := h.connectors["stopped one"].target; got != herder.TargetStopped {
		t.Errorf("target = %v, want STOPPED", got)
	}
	call(t, s.Handler(), "POST", "/connectors", `{"name":"p","initial_state":"PAUSED","config":{"connector.class":"FileStreamSink"}}`)
	if got := h.connectors["p"].target; got != herder.TargetPaused {
		t.Errorf("target = %v, want PAUSED", got)
	}
}

func TestCreateConnectorRejectsBadRequests(t *testing.T) {
	s, _ := newTestServer(t, nil)
	cases := []struct{ body, msg string }{
		{`{"config":{"connector.class":"FileStreamSource"}}`,
			"Connector configuration is invalid and contains the following 1 error(s):\nInvalid value  for configuration name: String may not be empty\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`"},
		{`{"name":"a","config":{"name":"b","connector.class":"FileStreamSource"}}`,
			"Connector name configuration (b) doesn't match connector name in the URL (a)"},
		{`{"name":"a"}`, `Request body needs a "config" object with the connector configuration`},
		{`{"name":"a","config":null}`, `Request body needs a "config" object with the connector configuration`},
		{`{"name":"a","config":{"connector.class":"FileStreamSource"},"initial_state":"RESTARTING"}`,
			`Invalid initial_state "RESTARTING": must be one of RUNNING, PAUSED, STOPPED`},
		{`{"name":"a","config":{"connector.class":"FileStreamSource","file":{"nested":1}}}`,
			`Invalid value for configuration "file": expected a string, got an object`},
		{`{"name":"a","config":{"connector.class":"FileStreamSource","topic":null}}`,
			"Connector configuration is invalid and contains the following 1 error(s):\nNull value can not be supplied as the configuration value of \"topic\".\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`"},
		{`{"name":["a"],"config":{}}`, `Invalid value for field "name": expected a string, got an array`},
		{`[1,2]`, "Invalid JSON in request body: expected a JSON object, got array"},
		{`null`, "Invalid JSON in request body: expected a JSON object, got null"},
		{`{"name":"a","config":{}} trailing`, "Invalid JSON in request body: unexpected data after the JSON value"},
	}
	for _, c := range cases {
		expect(t, call(t, s.Handler(), "POST", "/connectors", c.body), 400, errJSON(400, c.msg))
	}
}

func TestCreateConnectorUnknownClassIsBadRequestWithSuggestions(t *testing.T) {
	s, _ := newTestServer(t, nil)
	rec := call(t, s.Handler(), "POST", "/connectors", `{"name":"x","config":{"connector.class":"FileStreamSorce"}}`)
	if rec.Code != 400 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
	}
	var e errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
		t.Fatal(err)
	}
	if e.ErrorCode != 400 || !strings.Contains(e.Message, "FileStreamSorce") || !strings.Contains(e.Message, "FileStreamSource") {
		t.Errorf("error = %+v; want the class and the close match named", e)
	}
}

func TestListConnectorsAndExpand(t *testing.T) {
	s, _ := newTestServer(t, nil)
	expect(t, call(t, s.Handler(), "GET", "/connectors", ""), 200, `[]`)
	createFileSource(t, s.Handler())
	expect(t, call(t, s.Handler(), "GET", "/connectors", ""), 200, `["local-file-source"]`)
	expect(t, call(t, s.Handler(), "GET", "/connectors/", ""), 200, `["local-file-source"]`)

	status := `{"name":"local-file-source","connector":{"state":"RUNNING","worker_id":"worker-1:8083"},"tasks":[{"id":0,"state":"RUNNING","worker_id":"worker-1:8083"}],"type":"source"}`
	info := `{"name":"local-file-source","config":{"connector.class":"FileStreamSource","tasks.max":"1","file":"/tmp/test.txt","topic":"connect-test","name":"local-file-source"},"tasks":[{"connector":"local-file-source","task":0}],"type":"source"}`
	expect(t, call(t, s.Handler(), "GET", "/connectors?expand=status", ""), 200, `{"local-file-source":{"status":`+status+`}}`)
	expect(t, call(t, s.Handler(), "GET", "/connectors?expand=info", ""), 200, `{"local-file-source":{"info":`+info+`}}`)
	expect(t, call(t, s.Handler(), "GET", "/connectors?expand=status&expand=info", ""), 200, `{"local-file-source":{"status":`+status+`,"info":`+info+`}}`)
	// Unknown expansions are ignored, as upstream, leaving an empty object per connector.
	expect(t, call(t, s.Handler(), "GET", "/connectors?expand=bogus", ""), 200, `{"local-file-source":{}}`)
	expect(t, call(t, s.Handler(), "GET", "/connectors?expand=junk&expand=status", ""), 200, `{"local-file-source":{"status":`+status+`}}`)
}

func TestGetConnectorAndConfig(t *testing.T) {
	s, _ := newTestServer(t, nil)
	createFileSource(t, s.Handler())
	expect(t, call(t, s.Handler(), "GET", "/connectors/local-file-source", ""), 200,
		`{"name":"local-file-source","config":{"connector.class":"FileStreamSource","tasks.max":"1","file":"/tmp/test.txt","topic":"connect-test","name":"local-file-source"},"tasks":[{"connector":"local-file-source","task":0}],"type":"source"}`)
	expect(t, call(t, s.Handler(), "GET", "/connectors/local-file-source/config", ""), 200,
		`{"connector.class":"FileStreamSource","tasks.max":"1","file":"/tmp/test.txt","topic":"connect-test","name":"local-file-source"}`)
	expect(t, call(t, s.Handler(), "GET", "/connectors/nope", ""), 404, errJSON(404, "Connector nope not found"))
	expect(t, call(t, s.Handler(), "GET", "/connectors/nope/config", ""), 404, errJSON(404, "Connector nope not found"))
}

func TestConnectorNamesAreURLDecoded(t *testing.T) {
	s, _ := newTestServer(t, nil)
	call(t, s.Handler(), "POST", "/connectors", `{"name":"a/b c","config":{"connector.class":"FileStreamSource"}}`)
	rec := call(t, s.Handler(), "GET", "/connectors/a%2Fb%20c/config", "")
	expect(t, rec, 200, `{"connector.class":"FileStreamSource","name":"a/b c"}`)
}

func TestPutConnectorConfig(t *testing.T) {
	s, _ := newTestServer(t, nil)
	cfg := `{"connector.class":"FileStreamSink","tasks.max":"1","topics":"connect-test","file":"/tmp/out.txt"}`
	rec := call(t, s.Handler(), "PUT", "/connectors/sink1/config", cfg)
	want := `{"name":"sink1","config":{"connector.class":"FileStreamSink","tasks.max":"1","topics":"connect-test","file":"/tmp/out.txt","name":"sink1"},"tasks":[{"connector":"sink1","task":0}],"type":"sink"}`
	expect(t, rec, 201, want)
	if loc := rec.Header().Get("Location"); loc != "http://example.com/connectors/sink1" {
		t.Errorf("Location = %q", loc)
	}
	rec = call(t, s.Handler(), "PUT", "/connectors/sink1/config", cfg)
	expect(t, rec, 200, want)
	if loc := rec.Header().Get("Location"); loc != "" {
		t.Errorf("Location on update = %q", loc)
	}
	expect(t, call(t, s.Handler(), "PUT", "/connectors/sink1/config", `{"connector.class":"FileStreamSink","name":"other"}`), 400,
		errJSON(400, "Connector name configuration (other) doesn't match connector name in the URL (sink1)"))
	expect(t, call(t, s.Handler(), "PUT", "/connectors/sink1/config", `"just a string"`), 400,
		errJSON(400, "Invalid JSON in request body: expected a JSON object, got string"))
}

func TestPatchConnectorConfig(t *testing.T) {
	s, _ := newTestServer(t, nil)
	createFileSource(t, s.Handler())
	expect(t, call(t, s.Handler(), "PATCH", "/connectors/local-file-source/config", `{"file":null,"tasks.max":3,"batch.size":"10"}`), 200,
		`{"name":"local-file-source","config":{"connector.class":"FileStreamSource","tasks.max":"3","topic":"connect-test","name":"local-file-source","batch.size":"10"},"tasks":[{"connector":"local-file-source","task":0},{"connector":"local-file-source","task":1},{"connector":"local-file-source","task":2}],"type":"source"}`)
	expect(t, call(t, s.Handler(), "PATCH", "/connectors/nope/config", `{"a":"b"}`), 404, errJSON(404, "Connector nope not found"))
}

func TestConnectorStatusAndTasks(t *testing.T) {
	s, _ := newTestServer(t, nil)
	createFileSource(t, s.Handler())
	expect(t, call(t, s.Handler(), "GET", "/connectors/local-file-source/status", ""), 200,
		`{"name":"local-file-source","connector":{"state":"RUNNING","worker_id":"worker-1:8083"},"tasks":[{"id":0,"state":"RUNNING","worker_id":"worker-1:8083"}],"type":"source"}`)
	expect(t, call(t, s.Handler(), "GET", "/connectors/nope/status", ""), 404, errJSON(404, "No status found for connector nope"))

	expect(t, call(t, s.Handler(), "GET", "/connectors/local-file-source/tasks", ""), 200,
		`[{"id":{"connector":"local-file-source","task":0},"config":{"task.class":"FileStreamSourceTask"}}]`)
	expect(t, call(t, s.Handler(), "GET", "/connectors/local-file-source/tasks/0/status", ""), 200,
		`{"id":0,"state":"RUNNING","worker_id":"worker-1:8083"}`)
	expect(t, call(t, s.Handler(), "GET", "/connectors/local-file-source/tasks/7/status", ""), 404,
		errJSON(404, "No status found for task local-file-source-7"))
	// A task id that is not an integer matches no JAX-RS resource.
	expect(t, call(t, s.Handler(), "GET", "/connectors/local-file-source/tasks/zero/status", ""), 404, errJSON(404, "HTTP 404 Not Found"))
}

func TestRestartConnector(t *testing.T) {
	s, h := newTestServer(t, nil)
	createFileSource(t, s.Handler())
	expect(t, call(t, s.Handler(), "POST", "/connectors/local-file-source/restart", ""), 204, "")
	expect(t, call(t, s.Handler(), "POST", "/connectors/local-file-source/restart?includeTasks=true&onlyFailed=TRUE", ""), 202,
		`{"name":"local-file-source","connector":{"state":"RUNNING","worker_id":"worker-1:8083"},"tasks":[{"id":0,"state":"RUNNING","worker_id":"worker-1:8083"}],"type":"source"}`)
	// Upstream's RestartPlan: what the request restarts shows RESTARTING, with the state the
	// connector had when the request came in for the rest.
	expect(t, call(t, s.Handler(), "POST", "/connectors/local-file-source/restart?includeTasks=true", ""), 202,
		`{"name":"local-file-source","connector":{"state":"RESTARTING","worker_id":"worker-1:8083"},"tasks":[{"id":0,"state":"RESTARTING","worker_id":"worker-1:8083"}],"type":"source"}`)
	expect(t, call(t, s.Handler(), "POST", "/connectors/local-file-source/restart?onlyFailed=true", ""), 202,
		`{"name":"local-file-source","connector":{"state":"RUNNING","worker_id":"worker-1:8083"},"tasks":[{"id":0,"state":"RUNNING","worker_id":"worker-1:8083"}],"type":"source"}`)
	// JAX-RS Boolean parsing: anything but "true" is false.
	expect(t, call(t, s.Handler(), "POST", "/connectors/local-file-source/restart?includeTasks=yes", ""), 204, "")
	want := []string{
		"local-file-source includeTasks=false onlyFailed=false",
		"local-file-source includeTasks=true onlyFailed=true",
		"local-file-source includeTasks=true onlyFailed=false",
		"local-file-source includeTasks=false onlyFailed=true",
		"local-file-source includeTasks=false onlyFailed=false",
	}
	if !reflect.DeepEqual(h.restarts, want) {
		t.Errorf("restarts = %q", h.restarts)
	}
	expect(t, call(t, s.Handler(), "POST", "/connectors/nope/restart", ""), 404, errJSON(404, "Connector nope not found"))
	expect(t, call(t, s.Handler(), "POST", "/connectors/nope/restart?includeTasks=true", ""), 404, errJSON(404, "Unknown connector: nope"))
}

func TestRestartTask(t *testing.T) {
	s, h := newTestServer(t, nil)
	createFileSource(t, s.Handler())
	expect(t, call(t, s.Handler(), "POST", "/connectors/local-file-source/tasks/0/restart", ""), 204, "")
	if !reflect.DeepEqual(h.restarts, []string{"local-file-source-0"}) {
		t.Errorf("restarts = %q", h.restarts)
	}
	expect(t, call(t, s.Handler(), "POST", "/connectors/local-file-source/tasks/3/restart", ""), 404, errJSON(404, "Task local-file-source-3 not found"))
}

func TestPauseResumeStop(t *testing.T) {
	s, h := newTestServer(t, nil)
	createFileSource(t, s.Handler())
	c := h.connectors["local-file-source"]
	for _, step := range []struct {
		path   string
		status int
		target herder.TargetState
	}{
		{"pause", 202, herder.TargetPaused},
		{"pause", 202, herder.TargetPaused},
		{"resume", 202, herder.TargetStarted},
		{"stop", 204, herder.TargetStopped},
		{"stop", 204, herder.TargetStopped},
		{"resume", 202, herder.TargetStarted},
	} {
		expect(t, call(t, s.Handler(), "PUT", "/connectors/local-file-source/"+step.path, ""), step.status, "")
		if c.target != step.target {
			t.Errorf("after %s: target %v, want %v", step.path, c.target, step.target)
		}
	}
	for _, p := range []string{"pause", "resume", "stop"} {
		expect(t, call(t, s.Handler(), "PUT", "/connectors/nope/"+p, ""), 404, errJSON(404, "Connector nope not found"))
	}
}

func TestDeleteConnector(t *testing.T) {
	s, _ := newTestServer(t, nil)
	createFileSource(t, s.Handler())
	expect(t, call(t, s.Handler(), "DELETE", "/connectors/local-file-source", ""), 204, "")
	expect(t, call(t, s.Handler(), "GET", "/connectors/local-file-source", ""), 404, errJSON(404, "Connector local-file-source not found"))
	expect(t, call(t, s.Handler(), "DELETE", "/connectors/local-file-source", ""), 404, errJSON(404, "Connector local-file-source not found"))
}

func TestTopics(t *testing.T) {
	s, h := newTestServer(t, nil)
	createFileSource(t, s.Handler())
	h.connectors["local-file-source"].topics = []string{"connect-test"}
	expect(t, call(t, s.Handler(), "GET", "/connectors/local-file-source/topics", ""), 200, `{"local-file-source":{"topics":["connect-test"]}}`)
	expect(t, call(t, s.Handler(), "PUT", "/connectors/local-file-source/topics/reset", ""), 202, "")
	expect(t, call(t, s.Handler(), "GET", "/connectors/local-file-source/topics", ""), 200, `{"local-file-source":{"topics":[]}}`)
	expect(t, call(t, s.Handler(), "GET", "/connectors/nope/topics", ""), 404, errJSON(404, "Connector nope not found"))

	off, _ := newTestServer(t, func(c *Config) { c.DisableTopicTracking = true })
	expect(t, call(t, off.Handler(), "GET", "/connectors/x/topics", ""), 403, errJSON(403, "Topic tracking is disabled."))
	expect(t, call(t, off.Handler(), "PUT", "/connectors/x/topics/reset", ""), 403, errJSON(403, "Topic tracking is disabled."))
	noReset, _ := newTestServer(t, func(c *Config) { c.DisableTopicTrackingReset = true })
	expect(t, call(t, noReset.Handler(), "PUT", "/connectors/x/topics/reset", ""), 403, errJSON(403, "Topic tracking reset is disabled."))
}

func TestOffsets(t *testing.T) {
	s, h := newTestServer(t, nil)
	createFileSource(t, s.Handler())
	expect(t, call(t, s.Handler(), "GET", "/connectors/local-file-source/offsets", ""), 200, `{"offsets":[]}`)

	alter := `{"offsets":[{"partition":{"filename":"/tmp/test.txt"},"offset":{"position":30}}]}`
	expect(t, call(t, s.Handler(), "PATCH", "/connectors/local-file-source/offsets", alter), 400,
		errJSON(400, "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/local-file-source/stop' endpoint"))

	call(t, s.Handler(), "PUT", "/connectors/local-file-source/stop", "")
	expect(t, call(t, s.Handler(), "PATCH", "/connectors/local-file-source/offsets", alter), 200,
		`{"message":"The offsets for this connector have been altered successfully"}`)
	got := h.connectors["local-file-source"].offsets
	if len(got) != 1 || got[0].Offset["position"] != int64(30) || got[0].Partition["filename"] != "/tmp/test.txt" {
		t.Errorf("stored offsets = %#v; want position as int64 30", got)
	}
	expect(t, call(t, s.Handler(), "GET", "/connectors/local-file-source/offsets", ""), 200, alter)

	// Sink partitions and a null offset (reset one partition) pass through as given.
	sink := `{"offsets":[{"partition":{"kafka_topic":"t","kafka_partition":2},"offset":null}]}`
	expect(t, call(t, s.Handler(), "PATCH", "/connectors/local-file-source/offsets", sink), 200,
		`{"message":"The offsets for this connector have been altered successfully"}`)
	if last := h.connectors["local-file-source"].offsets[1]; last.Offset != nil || last.Partition["kafka_partition"] != int64(2) {
		t.Errorf("sink offset = %#v", last)
	}

	for _, body := range []string{`{}`, `{"offsets":[]}`, `{"offsets":null}`} {
		expect(t, call(t, s.Handler(), "PATCH", "/connectors/local-file-source/offsets", body), 400,
			errJSON(400, "Partitions / offsets need to be provided for an alter offsets request"))
	}
	expect(t, call(t, s.Handler(), "PATCH", "/connectors/local-file-source/offsets", `{"offsets":[{"partition":"p","offset":{}}]}`), 400,
		errJSON(400, "Invalid JSON in request body: offsets[0]: partition and offset must be objects or null"))

	expect(t, call(t, s.Handler(), "DELETE", "/connectors/local-file-source/offsets", ""), 200,
		`{"message":"The offsets for this connector have been reset successfully"}`)
	expect(t, call(t, s.Handler(), "GET", "/connectors/nope/offsets", ""), 404, errJSON(404, "Connector nope not found"))
	expect(t, call(t, s.Handler(), "DELETE", "/connectors/nope/offsets", ""), 404, errJSON(404, "Connector nope not found"))
}

func TestHerderFailureIs500WithItsMessage(t *testing.T) {
	s, h := newTestServer(t, nil)
	h.failWith = errBoom
	expect(t, call(t, s.Handler(), "GET", "/connectors", ""), 500, errJSON(500, errBoom.Error()))
	expect(t, call(t, s.Handler(), "GET", "/connectors/x/status", ""), 500, errJSON(500, errBoom.Error()))
}

func TestHerderTimeoutIs500RequestTimedOut(t *testing.T) {
	s, h := newTestServer(t, func(c *Config) { c.RequestTimeout = 1e6 })
	h.failWith = fmt.Errorf("connector lookup: %w", context.DeadlineExceeded)
	expect(t, call(t, s.Handler(), "GET", "/connectors/x", ""), 500, errJSON(500, "Request timed out"))
}
