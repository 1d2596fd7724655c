package runtime_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/logging"
	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/plugins"
	"github.com/kconnect/kconnect/rest"
	"github.com/kconnect/kconnect/runtime"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/metrics"
	"github.com/kconnect/kconnect/runtime/offsets"
	"github.com/kconnect/kconnect/runtime/standalone"
)

// observedWorker is a standalone worker with metrics and named loggers, served by the real REST
// server, as `kconnect standalone` wires them.
type observedWorker struct {
	*testWorker
	url string
}

func startObservedWorker(t *testing.T, extra ...connect.Plugin) *observedWorker {
	t.Helper()
	reg, store := registryAndStore(t, extra...)
	buf := &syncBuffer{}
	loggers := logging.New(buf, "text", slog.LevelInfo)
	log := loggers.Logger("kconnect")
	w, err := runtime.NewWorker("test-worker", map[string]string{
		"bootstrap.servers":              testenv.Kafka(t),
		"key.converter":                  "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable": "false",
		"offset.flush.interval.ms":       "200",
	}, reg, store, log)
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	w.SetMetrics(m)
	w.SetLoggers(loggers)
	h := standalone.New(w, log, standalone.Options{})
	if err := h.Start(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	srv, err := rest.New(h, rest.Config{Loggers: loggers, Metrics: m.Handler()}, log)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		h.Stop(context.Background())
		if t.Failed() {
			t.Logf("worker log:\n%s", buf)
		}
	})
	return &observedWorker{testWorker: &testWorker{t: t, h: h, log: buf}, url: hs.URL}
}

// registryAndStore returns the built-in plugins plus extra, and an offsets file closed at cleanup.
func registryAndStore(t *testing.T, extra ...connect.Plugin) (*connect.Registry, *offsets.FileStore) {
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
	return reg, store
}

// scrape reads GET /metrics with the Prometheus text parser.
func (w *observedWorker) scrape() map[string]*dto.MetricFamily {
	w.t.Helper()
	resp, err := http.Get(w.url + "/metrics")
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		w.t.Fatalf("GET /metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		w.t.Fatalf("parse /metrics: %v", err)
	}
	return families
}

// value returns the value of the series of family name whose labels include labels (name=value
// pairs), and whether there is one: a counter's or gauge's value, a histogram's sample count.
func value(families map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f, ok := families[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.GetLabel() {
				found = found || (lp.GetName() == labels[i] && lp.GetValue() == labels[i+1])
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

func (w *observedWorker) request(method, path, body string) (int, string) {
	w.t.Helper()
	req, err := http.NewRequest(method, w.url+path, strings.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func countLines(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	for s := bufio.NewScanner(f); s.Scan(); {
		n++
	}
	return n
}

// TestMetricsCountTheRecordsOfAPipeline moves N datagen records through Kafka into a file sink
// and reads the worker's and tasks' counters from GET /metrics: each equals N.
func TestMetricsCountTheRecordsOfAPipeline(t *testing.T) {
	const n = 1500
	w := startObservedWorker(t)
	topic := testenv.Topic(t, "metrics")
	out := filepath.Join(t.TempDir(), "sink.txt")
	w.create("gen", map[string]string{"connector.class": "DatagenConnector", "kafka.topic": topic,
		"iterations": fmt.Sprint(n), "max.interval": "0", "record.size": "64", "batch.size": "400"})
	w.create("file", map[string]string{"connector.class": "FileStreamSink", "topics": topic, "file": out})
	w.waitFor(60*time.Second, "the sink file to hold every record", func() bool { return countLines(t, out) >= n })

	src, sink := []string{"connector", "gen", "task", "0"}, []string{"connector", "file", "task", "0"}
	want := []struct {
		name   string
		labels []string
	}{
		{"kconnect_source_record_poll_total", src},
		{"kconnect_source_record_write_total", src},
		{"kconnect_sink_record_read_total", sink},
		{"kconnect_sink_record_send_total", sink},
	}
	var families map[string]*dto.MetricFamily
	var got []string
	w.waitFor(30*time.Second, "the counters to reach N", func() bool {
		families, got = w.scrape(), nil
		for _, c := range want {
			if v, ok := value(families, c.name, c.labels...); !ok || v != n {
				got = append(got, fmt.Sprintf("%s=%v (present %v)", c.name, v, ok))
			}
		}
		if len(got) > 0 {
			t.Logf("not yet: %v", got)
		}
		return len(got) == 0
	})
	if lines := countLines(t, out); lines != n {
		t.Errorf("sink file has %d lines, want %d", lines, n)
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"kconnect_worker_connector_count", nil, 2},
		{"kconnect_worker_task_count", nil, 2},
		{"kconnect_worker_connector_startup_total", []string{"result", "success"}, 2},
		{"kconnect_worker_task_startup_total", []string{"result", "success"}, 2},
		{"kconnect_errors_record_failures_total", src, 0},
		{"kconnect_sink_record_lag_max", sink, 0},
	} {
		if v, ok := value(families, c.name, c.labels...); !ok || v != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, v, ok, c.want)
		}
	}
	// Batches are counted once each, so there are fewer polls than records, and at least n/400.
	if polls, _ := value(families, "kconnect_source_poll_batch_size", src...); polls < n/400 || polls >= n {
		t.Errorf("source poll batches = %v, want between %d and %d", polls, n/400, n)
	}
	if puts, _ := value(families, "kconnect_sink_put_batch_size", sink...); puts < 1 || puts > n {
		t.Errorf("sink put batches = %v", puts)
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := families[name]; !ok {
			t.Errorf("%s missing: no Go runtime or process collector", name)
		}
	}
	checkDashboard(t, families)
	// A stopped task's series go, as upstream removes a stopped task's metrics.
	if err := w.h.DeleteConnector(context.Background(), "gen"); err != nil {
		t.Fatal(err)
	}
	w.waitFor(30*time.Second, "the deleted connector's series to go", func() bool {
		families = w.scrape()
		_, ok := value(families, "kconnect_source_record_poll_total", src...)
		count, _ := value(families, "kconnect_worker_task_count")
		return !ok && count == 1
	})
}

// probeSource's tasks report progress and a gauge through the metrics hook, and log a debug line
// per poll through their context's logger.
type probeSource struct {
	props   map[string]string
	release chan struct{} // closed when the probe's work is "done"
}

func (c *probeSource) Version() string               { return "1" }
func (c *probeSource) ConfigDef() *connect.ConfigDef { return connect.NewConfigDef() }
func (c *probeSource) Stop() error                   { return nil }
func (c *probeSource) NewTask() connect.SourceTask   { return &probeTask{release: c.release} }
func (c *probeSource) TaskConfigs(int) ([]map[string]string, error) {
	return []map[string]string{c.props}, nil
}
func (c *probeSource) Start(_ connect.ConnectorContext, props map[string]string) error {
	c.props = props
	return nil
}

type probeTask struct {
	release <-chan struct{}
	log     *slog.Logger
	metrics connect.TaskMetrics
	lag     connect.Gauge
}

func (t *probeTask) Version() string                                      { return "1" }
func (t *probeTask) Stop() error                                          { return nil }
func (t *probeTask) Commit(context.Context, []connect.SourceOffset) error { return nil }

func (t *probeTask) Start(ctx connect.SourceTaskContext, _ map[string]string) error {
	t.log, t.metrics = ctx.Logger(), connect.MetricsOf(ctx)
	t.lag = t.metrics.Gauge("probe_lag_ms", "A probe's lag.")
	t.metrics.SetProgress(&connect.Progress{Phase: "snapshot", TablesDone: 1, TablesTotal: 3, RowsDone: 10, RowsEstimated: 30})
	return nil
}

func (t *probeTask) Poll(ctx context.Context) ([]connect.SourceRecord, error) {
	t.log.Debug("probe polled")
	t.lag.Set(42)
	select {
	case <-t.release:
		t.metrics.SetProgress(nil)
	default:
	}
	select {
	case <-ctx.Done():
	case <-time.After(20 * time.Millisecond):
	}
	return nil, nil
}

// TestProgressInStatusAndMetrics runs a task that reports progress through the hook: GET
// /connectors/{c}/status shows it on the task and, summed, on the connector, the progress gauges
// carry it, and once the task says its work is over the status has no progress field again.
func TestProgressInStatusAndMetrics(t *testing.T) {
	release := make(chan struct{})
	w := startObservedWorker(t, connect.Plugin{Class: "ProbeSource", Type: connect.PluginSource,
		New: func() any { return &probeSource{release: release} }})
	w.create("probe", map[string]string{"connector.class": "ProbeSource"})

	type status struct {
		Connector struct {
			Progress *herder.Progress `json:"progress"`
		} `json:"connector"`
		Tasks []struct {
			State    string           `json:"state"`
			Progress *herder.Progress `json:"progress"`
		} `json:"tasks"`
	}
	var st status
	var body string
	w.waitFor(30*time.Second, "a running task", func() bool {
		var code int
		code, body = w.request("GET", "/connectors/probe/status", "")
		if code != 200 {
			t.Fatalf("status: %d %s", code, body)
		}
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			t.Fatal(err)
		}
		return len(st.Tasks) == 1 && st.Tasks[0].State == "RUNNING"
	})
	want := herder.Progress{Phase: "snapshot", TablesDone: 1, TablesTotal: 3, RowsDone: 10, RowsEstimated: 30}
	if p := st.Tasks[0].Progress; p == nil || *p != want {
		t.Errorf("task progress = %+v, want %+v (%s)", p, want, body)
	}
	if p := st.Connector.Progress; p == nil || *p != want {
		t.Errorf("connector progress = %+v, want %+v (%s)", p, want, body)
	}
	task := []string{"connector", "probe", "task", "0"}
	w.waitFor(30*time.Second, "the probe's gauges", func() bool {
		families := w.scrape()
		done, _ := value(families, "kconnect_progress_rows_done", task...)
		est, _ := value(families, "kconnect_progress_rows_estimated", task...)
		lag, _ := value(families, "kconnect_probe_lag_ms", task...)
		return done == 10 && est == 30 && lag == 42
	})

	close(release)
	w.waitFor(30*time.Second, "the progress to go from the status", func() bool {
		_, body = w.request("GET", "/connectors/probe/status", "")
		return !strings.Contains(body, "progress")
	})
	if _, body := w.request("GET", "/connectors/probe/tasks/0/status", ""); strings.Contains(body, "progress") {
		t.Errorf("task status still has progress: %s", body)
	}
}

// TestPerConnectorLogLevel sets one connector's level through PUT /admin/loggers/<name>: only that
// connector's task logs at DEBUG; setting the class's level then reaches both.
func TestPerConnectorLogLevel(t *testing.T) {
	w := startObservedWorker(t, connect.Plugin{Class: "com.example.ProbeSource", Aliases: []string{"ProbeSource"},
		Type: connect.PluginSource, New: func() any { return &probeSource{release: make(chan struct{})} }})
	w.create("loud", map[string]string{"connector.class": "ProbeSource"})
	w.create("quiet", map[string]string{"connector.class": "ProbeSource"})
	w.waitFor(30*time.Second, "both tasks running", func() bool {
		return strings.Join(w.taskStates("loud", "quiet"), " ") == "loud/0=RUNNING quiet/0=RUNNING"
	})
	if lines := w.log.lines("probe polled"); len(lines) > 0 {
		t.Fatalf("DEBUG lines at the INFO root level: %q", lines[0])
	}
	code, body := w.request("PUT", "/admin/loggers/loud", `{"level":"DEBUG"}`)
	if code != 200 || strings.TrimSpace(body) != `["loud","loud.task-0"]` {
		t.Fatalf("PUT /admin/loggers/loud: %d %s", code, body)
	}
	w.waitFor(30*time.Second, "DEBUG lines of the loud connector", func() bool {
		return len(w.log.lines("probe polled", "connector=loud")) > 0
	})
	if lines := w.log.lines("probe polled", "connector=quiet"); len(lines) > 0 {
		t.Errorf("the quiet connector logs at DEBUG too: %q", lines[0])
	}
	for _, l := range w.log.lines("probe polled") {
		if !strings.Contains(l, "logger=loud.task-0") || !strings.Contains(l, "task=0") {
			t.Errorf("debug line without the task's logger and attributes: %q", l)
		}
	}

	code, body = w.request("PUT", "/admin/loggers/com.example", `{"level":"DEBUG"}`)
	if code != 200 || !strings.Contains(body, `"quiet.task-0"`) {
		t.Fatalf("PUT /admin/loggers/com.example: %d %s", code, body)
	}
	w.waitFor(30*time.Second, "DEBUG lines of the quiet connector after its class's level changed", func() bool {
		return len(w.log.lines("probe polled", "connector=quiet")) > 0
	})
}

// checkDashboard fails for every kconnect metric the Grafana example dashboard queries that is
// neither served by the worker (families) nor created by a connector.
func checkDashboard(t *testing.T, families map[string]*dto.MetricFamily) {
	t.Helper()
	dashboard, err := os.ReadFile(filepath.Join("..", "examples", "monitoring", "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var connectorSources strings.Builder
	err = filepath.WalkDir(filepath.Join("..", "connectors"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			b, rerr := os.ReadFile(path)
			connectorSources.Write(b)
			return rerr
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	names := regexp.MustCompile(`\bkconnect_[a-z_]+`).FindAllString(string(dashboard), -1)
	if len(names) < 20 {
		t.Fatalf("only %d metric names in the dashboard", len(names))
	}
	for _, name := range names {
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
		_, served := families[name]
		_, servedBase := families[base]
		byConnector := strings.Contains(connectorSources.String(), `"`+strings.TrimPrefix(base, metrics.Prefix)+`"`)
		if !served && !servedBase && !byConnector {
			t.Errorf("the dashboard queries %s, which nothing exports", name)
		}
	}
}
