// Package workertest runs the real kconnect binary for end-to-end tests: it builds it once per
// test process, starts standalone and distributed workers (and `kconnect broker`) with
// generated config files, and offers the HTTP and process controls (graceful stop, kill -9,
// restart) that crash tests need.
package workertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/runtime/herder"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds ./cmd/kconnect once per test process and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		removeOrphanBinaries()
		dir, err := os.MkdirTemp("", fmt.Sprintf("kconnect-bin-%d-", os.Getpid()))
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "kconnect")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/kconnect")
		cmd.Dir = repoRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/kconnect: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// removeOrphanBinaries deletes the binaries earlier test processes built and left behind (a test
// process has no hook that runs once it is done): each directory names its process, and those of
// processes that are gone are removed. About 60 MB each, they filled the disk in a day.
func removeOrphanBinaries() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "kconnect-bin-*"))
	for _, dir := range dirs {
		var pid int
		if _, err := fmt.Sscanf(filepath.Base(dir), "kconnect-bin-%d-", &pid); err != nil {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(dir)
		}
	}
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Worker is a kconnect standalone worker process.
type Worker struct {
	t          testing.TB
	Dir        string // state directory: offsets, connector state, embedded broker data
	URL        string // REST base URL
	Bootstrap  string // Kafka bootstrap servers the worker uses ("embedded" resolved at start)
	args       []string
	cmd        *exec.Cmd
	logPath    string
	exited     chan struct{}
	exitErr    error
	restartNum int
	fileLimit  int         // ulimit -n of the worker process; 0 leaves it as the test's
	jvm        []string    // the java command line before args, for an Apache Kafka Connect worker
	ready      func() bool // replaces the wait for GET /health, for a process without a REST API

	// StartTimeout bounds each later (re)start's wait for readiness; 0 means 60 s. Set it after
	// the first start for a process whose recovery may be slow on a loaded machine.
	StartTimeout time.Duration
}

// WorkerProps returns a worker config for dir: JSON values without schemas, String keys, a
// 500 ms offset flush, a free REST port, and Kafka from testenv (kfake in-process brokers are not
// reachable from another process, so the default is the worker's own embedded broker, and the real
// broker when KCONNECT_TEST_BROKER=real).
func WorkerProps(t testing.TB, dir string) map[string]string {
	t.Helper()
	props := map[string]string{
		"key.converter":                  "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable": "false",
		"offset.storage.file.filename":   filepath.Join(dir, "connect.offsets"),
		"offset.flush.interval.ms":       "500",
		"listeners":                      fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t)),
		"bootstrap.servers":              "embedded",
		"kconnect.embedded.broker.port":  fmt.Sprint(testenv.FreePort(t)),
	}
	if testenv.RealKafka() {
		props["bootstrap.servers"] = testenv.Kafka(t)
	}
	return props
}

// WriteProperties writes props as a .properties file in dir and returns its path.
func WriteProperties(t testing.TB, dir, name string, props map[string]string) string {
	t.Helper()
	var b strings.Builder
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, strings.ReplaceAll(props[k], `\`, `\\`))
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Start writes the worker and connector configs into dir and starts a standalone worker, waiting
// until its REST API reports healthy. The worker is stopped at test cleanup.
func Start(t testing.TB, dir string, worker map[string]string, connectors ...map[string]string) *Worker {
	t.Helper()
	return start(t, dir, 0, worker, connectors)
}

// StartWithFileLimit is Start for a worker whose open-file limit (ulimit -n, soft and hard, so
// that the Go runtime cannot raise it) is fileLimit.
func StartWithFileLimit(t testing.TB, dir string, fileLimit int, worker map[string]string, connectors ...map[string]string) *Worker {
	t.Helper()
	return start(t, dir, fileLimit, worker, connectors)
}

// StartDistributed writes the worker config into dir and starts a distributed worker
// (`kconnect distributed`), waiting until its REST API reports healthy. The worker is stopped
// at test cleanup.
func StartDistributed(t testing.TB, dir string, worker map[string]string) *Worker {
	t.Helper()
	return run(t, dir, 0, worker, []string{"distributed", WriteProperties(t, dir, "worker.properties", worker)})
}

// StartBroker starts `kconnect broker` on a free port with its data in dir and returns its
// address once it accepts connections; the broker is stopped at test cleanup.
func StartBroker(t testing.TB, dir string) string {
	t.Helper()
	return StartBrokerProcess(t, dir).Bootstrap
}

// StartBrokerProcess is StartBroker for tests that kill and restart the broker: the returned
// process's Bootstrap is its address, and Restart brings it back on the same port and data.
func StartBrokerProcess(t testing.TB, dir string) *Worker {
	t.Helper()
	port := testenv.FreePort(t)
	w := &Worker{t: t, Dir: dir, args: []string{"broker", "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--data-dir", filepath.Join(dir, "data")}}
	w.Bootstrap = fmt.Sprintf("127.0.0.1:%d", port)
	w.ready = func() bool {
		c, err := net.DialTimeout("tcp", w.Bootstrap, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	}
	w.launch()
	t.Cleanup(func() { w.Stop() })
	w.waitUntil(w.ready)
	return w
}

// StartJavaDistributed starts an Apache Kafka Connect distributed worker (ConnectDistributed
// from the jars of classpath, see testenv.JavaClients) on the worker config written into dir,
// the same file StartDistributed writes there, and waits for its REST API's /health. It logs at
// INFO to the worker log; Stop sends SIGTERM, after which the JVM exits with status 143.
func StartJavaDistributed(t testing.TB, classpath, dir string, worker map[string]string) *Worker {
	t.Helper()
	log4j := filepath.Join(dir, "log4j2.properties")
	conf := strings.Join([]string{"rootLogger.level = INFO", "rootLogger.appenderRef.stdout.ref = stdout",
		"appender.stdout.type = Console", "appender.stdout.name = stdout",
		"appender.stdout.layout.type = PatternLayout", "appender.stdout.layout.pattern = [%d] %p %m (%c)%n", ""}, "\n")
	if err := os.WriteFile(log4j, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	listener := strings.Split(worker["listeners"], ",")[0]
	w := &Worker{t: t, Dir: dir, URL: strings.Replace(listener, "://:", "://127.0.0.1:", 1), Bootstrap: worker["bootstrap.servers"],
		args: []string{"org.apache.kafka.connect.cli.ConnectDistributed", WriteProperties(t, dir, "worker.properties", worker)},
		// A small heap and the client compiler only: the JVM starts in seconds on a busy machine.
		jvm: []string{"-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Dlog4j2.configurationFile=" + log4j, "-cp", classpath}}
	w.start()
	t.Cleanup(func() { w.Stop() })
	return w
}

func start(t testing.TB, dir string, fileLimit int, worker map[string]string, connectors []map[string]string) *Worker {
	t.Helper()
	args := []string{"standalone", WriteProperties(t, dir, "worker.properties", worker)}
	for i, c := range connectors {
		args = append(args, WriteProperties(t, dir, fmt.Sprintf("connector-%d.properties", i), c))
	}
	return run(t, dir, fileLimit, worker, args)
}

func run(t testing.TB, dir string, fileLimit int, worker map[string]string, args []string) *Worker {
	t.Helper()
	listener := strings.Split(worker["listeners"], ",")[0]
	w := &Worker{t: t, Dir: dir, URL: strings.Replace(listener, "://:", "://127.0.0.1:", 1), args: args, fileLimit: fileLimit}
	w.Bootstrap = worker["bootstrap.servers"]
	if w.Bootstrap == "embedded" {
		w.Bootstrap = "127.0.0.1:" + worker["kconnect.embedded.broker.port"]
	}
	w.start()
	t.Cleanup(func() { w.Stop() })
	return w
}

func (w *Worker) start() {
	w.t.Helper()
	w.launch()
	if w.ready != nil {
		w.waitUntil(w.ready)
		return
	}
	w.waitUntil(func() bool {
		// A bounded request: a worker frozen or wedged mid-start must not hang the wait.
		c := http.Client{Timeout: 5 * time.Second}
		resp, err := c.Get(w.URL + "/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// launch starts the process with the worker's arguments.
func (w *Worker) launch() {
	w.t.Helper()
	w.restartNum++
	w.logPath = filepath.Join(w.Dir, fmt.Sprintf("worker-%d.log", w.restartNum))
	logFile, err := os.Create(w.logPath)
	if err != nil {
		w.t.Fatal(err)
	}
	if w.jvm != nil {
		w.cmd = exec.Command("java", append(w.jvm, w.args...)...)
	} else {
		w.cmd = exec.Command(Binary(w.t), w.args...)
	}
	if w.fileLimit > 0 {
		// The shell execs the worker, so signals reach it directly.
		w.cmd = exec.Command("/bin/sh", append([]string{"-c", `ulimit -n "$0" && exec "$@"`, strconv.Itoa(w.fileLimit), Binary(w.t)}, w.args...)...)
	}
	w.cmd.Dir = repoRoot()
	w.cmd.Stdout, w.cmd.Stderr = logFile, logFile
	if err := w.cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	w.exited = make(chan struct{})
	go func() {
		w.exitErr = w.cmd.Wait()
		logFile.Close()
		close(w.exited)
	}()
}

// waitUntil polls ready during startup, failing the test if the process exits first or ready
// is not true within StartTimeout.
func (w *Worker) waitUntil(ready func() bool) {
	w.t.Helper()
	timeout := w.StartTimeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-w.exited:
			w.t.Fatalf("%s exited during startup: %v\n%s", w.args[0], w.exitErr, w.Log())
		default:
		}
		if ready() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	w.t.Fatalf("%s not ready after %v\n%s", w.args[0], timeout, w.Log())
}

// Log returns what the current worker process logged.
func (w *Worker) Log() string {
	b, _ := os.ReadFile(w.logPath)
	return string(b)
}

// Kill9 kills the worker with SIGKILL and waits for it to die.
func (w *Worker) Kill9() {
	w.t.Helper()
	_ = w.cmd.Process.Signal(syscall.SIGKILL)
	<-w.exited
}

// Freeze stops the worker process with SIGSTOP, as a long GC pause or a VM migration would;
// Thaw continues it with SIGCONT.
func (w *Worker) Freeze() { _ = w.cmd.Process.Signal(syscall.SIGSTOP) }

// Thaw continues a frozen worker.
func (w *Worker) Thaw() { _ = w.cmd.Process.Signal(syscall.SIGCONT) }

// Exited reports whether the process has exited, by itself or killed.
func (w *Worker) Exited() bool {
	select {
	case <-w.exited:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM and waits up to 30 s for a clean exit, returning the process error (nil for
// exit code 0). Stopping a stopped worker is a no-op; a frozen one is thawed first, since a
// stopped process does not handle SIGTERM.
func (w *Worker) Stop() error {
	select {
	case <-w.exited:
		return w.exitErr
	default:
	}
	_ = w.cmd.Process.Signal(syscall.SIGCONT)
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.exited:
		return w.exitErr
	case <-time.After(30 * time.Second):
		_ = w.cmd.Process.Signal(syscall.SIGKILL)
		<-w.exited
		return fmt.Errorf("worker did not stop within 30s after SIGTERM")
	}
}

// Restart starts the worker again with the same arguments after it stopped or was killed.
func (w *Worker) Restart() {
	w.t.Helper()
	select {
	case <-w.exited:
	default:
		w.t.Fatal("Restart of a running worker")
	}
	w.start()
}

// Do sends a JSON request to the REST API and returns the status and body.
func (w *Worker) Do(method, path string, body any) (int, []byte) {
	w.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			w.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, w.URL+path, rd)
	if err != nil {
		w.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		select {
		case <-w.exited:
			w.t.Fatalf("%s %s: the worker exited (%v)\nworker log:\n%s", method, path, w.exitErr, w.Log())
		default:
		}
		w.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	return resp.StatusCode, b
}

// Status returns GET /connectors/{name}/status; ok is false when the worker does not know the
// connector.
func (w *Worker) Status(name string) (st herder.ConnectorStatus, ok bool) {
	w.t.Helper()
	code, body := w.Do(http.MethodGet, "/connectors/"+name+"/status", nil)
	if code == http.StatusNotFound {
		return st, false
	}
	if code != http.StatusOK {
		w.t.Fatalf("GET /connectors/%s/status: %d %s", name, code, body)
	}
	if err := json.Unmarshal(body, &st); err != nil {
		w.t.Fatalf("GET /connectors/%s/status: %v: %s", name, err, body)
	}
	return st, true
}

// CreateConnector posts a connector to the worker and fails the test unless it was created.
func (w *Worker) CreateConnector(name string, config map[string]string) {
	w.t.Helper()
	code, body := w.Do(http.MethodPost, "/connectors", map[string]any{"name": name, "config": config})
	if code != http.StatusCreated {
		w.t.Fatalf("create connector %s: %d %s", name, code, body)
	}
}

// FailIfFailed fails the test with the trace of the connector or of one of its tasks when it is
// FAILED; for polling loops that would otherwise wait out their deadline.
func (w *Worker) FailIfFailed(name string) {
	w.t.Helper()
	st, ok := w.Status(name)
	if !ok {
		return
	}
	if st.Connector.State == "FAILED" {
		w.t.Fatalf("connector %s failed: %s", name, st.Connector.Trace)
	}
	for _, task := range st.Tasks {
		if task.State == "FAILED" {
			w.t.Fatalf("task %s-%d failed: %s", name, task.ID, task.Trace)
		}
	}
}

// WaitFor polls cond every 100 ms until it returns true or timeout passes, then fails the test
// with what and the worker log.
func (w *Worker) WaitFor(timeout time.Duration, what string, cond func() bool) {
	w.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	w.t.Fatalf("timed out after %v waiting for %s\nworker log:\n%s", timeout, what, w.Log())
}
