package main_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
	"github.com/kconnect/kconnect/runtime/herder"
)

// ctlRunner runs `kconnect ctl` as a user would: the built binary, with a context file of its own.
type ctlRunner struct {
	t      *testing.T
	bin    string
	url    string // passed as --url unless empty
	config string // KCONNECT_CTL_CONFIG
}

func newCtl(t *testing.T, url string) ctlRunner {
	return ctlRunner{t: t, bin: workertest.Binary(t), url: url, config: filepath.Join(t.TempDir(), "ctl.yaml")}
}

// run returns stdout, stderr and the exit code of `kconnect ctl args...`.
func (c ctlRunner) run(args ...string) (string, string, int) {
	c.t.Helper()
	full := []string{"ctl"}
	if c.url != "" {
		full = append(full, "--url", c.url)
	}
	cmd := exec.Command(c.bin, append(full, args...)...)
	cmd.Env = append(os.Environ(), "KCONNECT_CTL_CONFIG="+c.config)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return stdout.String(), stderr.String(), exit.ExitCode()
	case err != nil:
		c.t.Fatalf("kconnect ctl %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), 0
}

// ok runs a command that must succeed and returns its stdout.
func (c ctlRunner) ok(args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("kconnect ctl %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// expectOut runs a command that must succeed and print exactly want.
func (c ctlRunner) expectOut(want string, args ...string) {
	c.t.Helper()
	if got := c.ok(args...); got != want {
		c.t.Errorf("kconnect ctl %s printed %q, want %q", strings.Join(args, " "), got, want)
	}
}

// golden reads testdata/ctl/name with its {{KEY}} placeholders replaced by vars.
func golden(t *testing.T, name string, vars map[string]string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "ctl", name))
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for k, v := range vars {
		s = strings.ReplaceAll(s, "{{"+k+"}}", v)
	}
	if m := regexp.MustCompile(`\{\{[A-Z]+\}\}`).FindString(s); m != "" {
		t.Fatalf("golden %s: no value for %s", name, m)
	}
	return s
}

var spaceRun = regexp.MustCompile(`  +`)

// matchGolden compares a table with the golden file. With vars (values whose length differs
// between runs), runs of spaces are collapsed before comparing and the columns' alignment is
// checked on the output itself.
func matchGolden(t *testing.T, got, name string, vars map[string]string) {
	t.Helper()
	want := golden(t, name, vars)
	if len(vars) > 0 {
		checkAligned(t, got)
		got, want = spaceRun.ReplaceAllString(got, "  "), spaceRun.ReplaceAllString(want, "  ")
	}
	if got != want {
		t.Errorf("output differs from %s\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

// checkAligned checks that in each block of consecutive lines with the same number of columns
// (cells two or more spaces apart) every column starts at the same offset.
func checkAligned(t *testing.T, out string) {
	t.Helper()
	var prev []int
	for _, line := range strings.Split(out, "\n") {
		var starts []int
		for _, loc := range spaceRun.FindAllStringIndex(line, -1) {
			if loc[0] > 0 && strings.TrimSpace(line[:loc[0]]) != "" {
				starts = append(starts, loc[1])
			}
		}
		if len(starts) > 0 && len(starts) == len(prev) && !slices.Equal(starts, prev) {
			t.Errorf("columns not aligned at %q (starts %v, line before %v)\n%s", line, starts, prev, out)
		}
		prev = starts
	}
}

// restClient reads the REST API directly, to check what ctl did without trusting ctl.
type restClient struct {
	t                *testing.T
	url, user, apass string
}

// get decodes GET path into out and returns the status.
func (r restClient) get(path string, out any) int {
	r.t.Helper()
	req, err := http.NewRequest(http.MethodGet, r.url+path, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	if r.user != "" {
		req.SetBasicAuth(r.user, r.apass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatal(err)
	}
	if resp.StatusCode == http.StatusOK && out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			r.t.Fatalf("GET %s: %v in %s", path, err, data)
		}
	}
	return resp.StatusCode
}

// waitFor polls cond for up to 90 s (a JVM worker on a loaded machine is slow).
func (r restClient) waitFor(what string, cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			r.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitState waits until the connector and all its (want) tasks are in state.
func (r restClient) waitState(name string, state herder.State, tasks int) {
	r.t.Helper()
	r.waitFor(fmt.Sprintf("%s to be %s with %d tasks", name, state, tasks), func() bool {
		var st herder.ConnectorStatus
		if r.get("/connectors/"+name+"/status", &st) != http.StatusOK || st.Connector.State != state || len(st.Tasks) != tasks {
			return false
		}
		for _, ts := range st.Tasks {
			if ts.State != state {
				return false
			}
		}
		return true
	})
}

// position returns the committed position of a FileStreamSource, or -1 without one.
func (r restClient) position(name string) float64 {
	r.t.Helper()
	var body struct{ Offsets []herder.Offset }
	if r.get("/connectors/"+name+"/offsets", &body) != http.StatusOK || len(body.Offsets) != 1 {
		return -1
	}
	p, _ := body.Offsets[0].Offset["position"].(float64)
	return p
}

// ctlLifecycle runs, against the worker at url, the commands an operator uses on a file source
// connector's life, checking each one's effect through the REST API. The worker must have no
// connector called "source" or "bad".
func ctlLifecycle(t *testing.T, k ctlRunner, r restClient, dir, topic string) {
	input := filepath.Join(dir, "input.txt")
	appendLines(t, input, 0, 2)
	src := workertest.WriteProperties(t, dir, "source.properties",
		map[string]string{"name": "source", "connector.class": "FileStreamSource", "file": input, "topic": topic})

	k.expectOut("connector source created\n", "apply", "-f", src)
	r.waitState("source", herder.Running, 1)
	r.waitFor("the source to commit both lines", func() bool { return r.position("source") == float64(2*lineLen) })

	matchGolden(t, k.ok("get", "connectors"), "connectors.golden", nil)
	vars := map[string]string{"WORKER": hostPort(t, r.url), "INPUT": input, "TOPIC": topic}
	matchGolden(t, k.ok("describe", "connector", "source"), "describe.golden", vars)
	matchGolden(t, k.ok("get", "offsets", "source"), "offsets.golden", map[string]string{"INPUT": input})

	// A bad config changes nothing, names each failing key and exits non-zero.
	bad := filepath.Join(dir, "bad.json")
	writeFile(t, bad, `{"name": "bad", "config": {"connector.class": "FileStreamSource", "topic": "t", "tasks.max": "x"}}`)
	out, errOut, code := k.run("apply", "-f", bad)
	if code == 0 {
		t.Errorf("apply of an invalid config exited 0; stdout %q", out)
	}
	if !strings.Contains(errOut, "\n  tasks.max: ") || !strings.Contains(errOut, "bad.json") {
		t.Errorf("apply of an invalid config: stderr %q lacks the file and the line for tasks.max", errOut)
	}
	if status := r.get("/connectors/bad", nil); status != http.StatusNotFound {
		t.Errorf("GET /connectors/bad after a failed apply: %d, want 404", status)
	}

	k.expectOut("connector source paused\n", "pause", "source")
	r.waitState("source", herder.Paused, 1)
	k.expectOut("connector source resumed\n", "resume", "source")
	r.waitState("source", herder.Running, 1)
	k.expectOut("connector source restarted\n", "restart", "source", "--include-tasks", "--only-failed")
	r.waitState("source", herder.Running, 1)

	k.expectOut("connector source stopped\n", "stop", "source")
	r.waitFor("the source to be STOPPED", func() bool {
		var st herder.ConnectorStatus
		return r.get("/connectors/source/status", &st) == http.StatusOK && st.Connector.State == herder.Stopped
	})
	offsetsFile := filepath.Join(dir, "offsets.json")
	writeFile(t, offsetsFile, fmt.Sprintf(`{"offsets": [{"partition": {"filename": %q}, "offset": {"position": %d}}]}`, input, lineLen))
	// Upstream's message for a successful alteration (ConnectorsResource.alterConnectorOffsets).
	k.expectOut("The offsets for this connector have been altered successfully\n", "patch", "offsets", "source", "-f", offsetsFile)
	if p := r.position("source"); p != float64(lineLen) {
		t.Errorf("position after patch offsets = %v, want %d", p, lineLen)
	}

	// json and yaml carry the REST API's field names; the fields checked here are the ones whose
	// names yaml's default (the lowercased Go name) also gives.
	for _, format := range []string{"json", "yaml"} {
		var list []struct {
			Info   herder.ConnectorInfo   `json:"info" yaml:"info"`
			Status herder.ConnectorStatus `json:"status" yaml:"status"`
		}
		out := k.ok("get", "connectors", "-o", format)
		var err error
		if format == "json" {
			err = json.Unmarshal([]byte(out), &list)
		} else {
			err = yaml.Unmarshal([]byte(out), &list)
		}
		if err != nil {
			t.Fatalf("get connectors -o %s: %v\n%s", format, err, out)
		}
		if len(list) != 1 || list[0].Info.Name != "source" || list[0].Status.Connector.State != herder.Stopped || list[0].Info.Config["file"] != input {
			t.Errorf("get connectors -o %s = %+v, want the stopped source", format, list)
		}
	}

	k.expectOut("connector source deleted\n", "delete", "source")
	if status := r.get("/connectors/source", nil); status != http.StatusNotFound {
		t.Errorf("GET /connectors/source after delete: %d, want 404", status)
	}
	if _, errOut, code := k.run("describe", "connector", "source"); code == 0 || !strings.Contains(errOut, "404") {
		t.Errorf("describe of a deleted connector: exit %d, stderr %q; want non-zero and the 404", code, errOut)
	}
}

// answers reports whether GET u is answered with status.
func answers(u string, status int) bool {
	resp, err := http.Get(u)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == status
}

func hostPort(t *testing.T, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.Host
}

// TestCtlAgainstWorker drives a kconnect standalone worker with kconnect ctl only: the operator's
// life of a connector, then apply of a directory and the plugin list.
func TestCtlAgainstWorker(t *testing.T) {
	dir := t.TempDir()
	w := workertest.Start(t, dir, workertest.WorkerProps(t, dir))
	r := restClient{t: t, url: w.URL}
	k := newCtl(t, w.URL)
	topic := testenv.Topic(t, "ctl")
	ctlLifecycle(t, k, r, dir, topic)

	// A directory: its .json and .properties files in name order, other files ignored.
	conns := filepath.Join(dir, "connectors")
	if err := os.Mkdir(conns, 0o755); err != nil {
		t.Fatal(err)
	}
	input := filepath.Join(dir, "input.txt")
	workertest.WriteProperties(t, conns, "source.properties",
		map[string]string{"name": "source", "connector.class": "FileStreamSource", "file": input, "topic": topic})
	writeFile(t, filepath.Join(conns, "sink.json"), fmt.Sprintf(`{"name": "sink", "config": {"connector.class": %q, "file": %q, "topics": %q}}`,
		sinkClass, filepath.Join(dir, "output.txt"), topic))
	writeFile(t, filepath.Join(conns, "notes.txt"), "not a connector")
	k.expectOut("connector sink created\nconnector source created\n", "apply", "-f", conns)
	r.waitState("sink", herder.Running, 1)
	r.waitState("source", herder.Running, 1)
	matchGolden(t, k.ok("get", "connectors"), "connectors-both.golden", nil)
	k.expectOut("connector sink configured\nconnector source configured\n", "apply", "-f", conns)
	// A file without a class fails before any request, at the line and key.
	noClass := filepath.Join(dir, "noclass.properties")
	writeFile(t, noClass, "# a connector\nname=x\n")
	if _, errOut, code := k.run("apply", "-f", noClass); code == 0 || !strings.Contains(errOut, noClass+`: key "connector.class": missing`) {
		t.Errorf("apply of a file without connector.class: exit %d, stderr %q", code, errOut)
	}

	// A failed task's trace, as the status endpoint gives it, follows the tables, indented.
	poison := testenv.Topic(t, "ctl-poison")
	produce(t, w.Bootstrap, poison, `{not json`)
	strict := workertest.WriteProperties(t, dir, "strict.properties", map[string]string{
		"name": "strict", "connector.class": "FileStreamSink", "file": filepath.Join(dir, "strict.txt"), "topics": poison})
	k.expectOut("connector strict created\n", "apply", "-f", strict)
	var st herder.ConnectorStatus
	r.waitFor("the poisoned sink task to fail", func() bool {
		return r.get("/connectors/strict/status", &st) == http.StatusOK && len(st.Tasks) == 1 && st.Tasks[0].State == herder.Failed
	})
	tables, trace, found := strings.Cut(k.ok("describe", "connector", "strict"), "\nTask 0 trace:\n")
	if !found {
		t.Fatalf("describe of a connector with a failed task shows no trace:\n%s", tables)
	}
	matchGolden(t, tables, "describe-failed.golden", map[string]string{
		"WORKER": hostPort(t, w.URL), "OUTPUT": filepath.Join(dir, "strict.txt"), "TOPIC": poison})
	if want := "  " + strings.ReplaceAll(strings.TrimRight(st.Tasks[0].Trace, "\n"), "\n", "\n  ") + "\n"; trace != want {
		t.Errorf("describe shows the trace\n%s\nwant\n%s", trace, want)
	}

	// Shell completion (cobra's protocol: one candidate a line, then the directive) offers the
	// connectors, less those already named.
	for args, want := range map[string][]string{
		"describe connector": {"sink", "source", "strict"},
		"pause source":       {"sink", "strict"},
	} {
		full := append([]string{"__complete", "ctl", "--url", w.URL}, strings.Fields(args)...)
		out, err := exec.Command(k.bin, append(full, "")...).Output()
		if err != nil {
			t.Fatalf("completion of %q: %v", args, err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if got := lines[:len(lines)-1]; !slices.Equal(got, want) {
			t.Errorf("completion of %q = %q, want %q", args, got, want)
		}
	}

	// The plugin table lists what GET /connector-plugins answers, in its order.
	var plugins []herder.PluginInfo
	r.get("/connector-plugins", &plugins)
	rows := strings.Split(strings.TrimSuffix(k.ok("get", "plugins"), "\n"), "\n")
	if len(rows) != len(plugins)+1 || !slices.Equal(strings.Fields(rows[0]), []string{"CLASS", "TYPE", "VERSION"}) {
		t.Fatalf("get plugins printed %d lines, want a header and %d plugins:\n%s", len(rows), len(plugins), strings.Join(rows, "\n"))
	}
	for i, p := range plugins {
		if got, want := strings.Fields(rows[i+1]), []string{p.Class, p.Type, p.Version}; !slices.Equal(got, want) {
			t.Errorf("get plugins row %d = %q, want %q", i, got, want)
		}
	}
}

// TestCtlContextWithBasicAuth keeps a worker's URL and basic-auth credentials in contexts and
// checks that ctl sends them: a wrong password is the worker's 401 and a failure, the right one
// works, and an unknown context is an error naming it.
func TestCtlContextWithBasicAuth(t *testing.T) {
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials.properties")
	writeFile(t, creds, "ops: s3cret\n")
	props := workertest.WorkerProps(t, dir)
	props["rest.basic.auth.credentials.file"] = creds
	url := strings.Split(props["listeners"], ",")[0]
	// workertest's health check cannot authenticate, so the worker is started here.
	worker := exec.Command(workertest.Binary(t), "standalone", workertest.WriteProperties(t, dir, "worker.properties", props))
	var log bytes.Buffer
	worker.Stdout, worker.Stderr = &log, &log
	if err := worker.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = worker.Process.Kill(); _ = worker.Wait() })
	r := restClient{t: t, url: url, user: "ops", apass: "s3cret"}
	r.waitFor("the worker's REST API", func() bool { return answers(url+"/connectors", http.StatusUnauthorized) })

	k := newCtl(t, "")
	set := func(args ...string) {
		t.Helper()
		k.expectOut(fmt.Sprintf("context %s set in %s\n", args[0], k.config), append([]string{"config", "set-context"}, args...)...)
	}
	set("local", "--cluster", url, "--username", "ops", "--password", "wrong")
	if _, errOut, code := k.run("get", "connectors"); code == 0 || !strings.Contains(errOut, "401") {
		t.Errorf("get connectors with a wrong password: exit %d, stderr %q; want non-zero and the 401", code, errOut)
	}
	set("local", "--password", "s3cret")
	set("other", "--cluster", "http://127.0.0.1:1")
	matchGolden(t, k.ok("config", "get-contexts"), "contexts.golden", map[string]string{"URL": url})
	k.expectOut("NAME  TYPE  STATE  TASKS  CLASS\n", "get", "connectors")
	if _, errOut, code := k.run("--context", "missing", "get", "connectors"); code == 0 || !strings.Contains(errOut, `context "missing"`) {
		t.Errorf("--context missing: exit %d, stderr %q; want non-zero naming the context", code, errOut)
	}
	// --url takes the credentials of a context named with --context only.
	if _, errOut, code := k.run("--url", url, "get", "connectors"); code == 0 || !strings.Contains(errOut, "401") {
		t.Errorf("--url without --context: exit %d, stderr %q; want the 401 of a request without credentials", code, errOut)
	}
	k.expectOut("NAME  TYPE  STATE  TASKS  CLASS\n", "--context", "local", "--url", url, "get", "connectors")
	k.expectOut("switched to context other\n", "config", "use-context", "other")
	if _, errOut, code := k.run("get", "connectors"); code == 0 || !strings.Contains(errOut, "127.0.0.1:1") {
		t.Errorf("get connectors in context other: exit %d, stderr %q; want a failure to reach 127.0.0.1:1", code, errOut)
	}
	k.expectOut("NAME  TYPE  STATE  TASKS  CLASS\n", "--context", "local", "get", "connectors")
}

// TestCtlAgainstKafkaConnect runs the same ctl commands as TestCtlAgainstWorker, with the same
// goldens, against Apache Kafka Connect's own standalone worker (Maven Central jars,
// scripts/javaclients.sh) on the real Kafka: ctl is a client for upstream's REST API too.
func TestCtlAgainstKafkaConnect(t *testing.T) {
	classpath := testenv.JavaClients(t)
	brokers := testenv.Require(t, "KCONNECT_TEST_KAFKA")
	dir := t.TempDir()
	port := testenv.FreePort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	worker := workertest.WriteProperties(t, dir, "java-worker.properties", map[string]string{
		"bootstrap.servers":            brokers,
		"key.converter":                "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":              "org.apache.kafka.connect.storage.StringConverter",
		"offset.storage.file.filename": filepath.Join(dir, "connect.offsets"),
		"offset.flush.interval.ms":     "500",
		"listeners":                    url,
		"rest.advertised.host.name":    "127.0.0.1",
		"rest.advertised.port":         fmt.Sprint(port),
		// The plugins' service manifests, not a scan of every class: seconds less to start.
		"plugin.discovery": "service_load",
	})
	connect := testenv.StartJava(t, classpath, "org.apache.kafka.connect.cli.ConnectStandalone", worker)
	r := restClient{t: t, url: url}
	r.waitFor("Kafka Connect's REST API", func() bool {
		select {
		case <-connect.Exited():
			t.Fatalf("Kafka Connect exited: %v\n%s", connect.Err(), connect.Output())
		default:
		}
		return answers(url+"/connectors", http.StatusOK)
	})
	ctlLifecycle(t, newCtl(t, url), r, dir, testenv.Topic(t, "ctl-java"))
	if t.Failed() {
		t.Logf("Kafka Connect's output:\n%s", connect.Output())
	}
}
