// Package metrics holds the worker's Prometheus collectors. Names follow Kafka Connect's JMX
// metric groups (connect-worker-metrics, source-task-metrics, sink-task-metrics,
// task-error-metrics), snake_cased with a kconnect_ prefix and labelled with connector and task;
// rates are left to PromQL's rate() over the _total counters. Task loops update counters resolved
// once per task, and once per batch where they can, so the data path takes no lock for them.
package metrics

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kconnect/kconnect/connect"
)

// Prefix starts every metric name.
const Prefix = "kconnect_"

var taskLabels = []string{"connector", "task"}

// sizeBuckets suit record counts: batches, rows per poll, rows per transaction.
var sizeBuckets = prometheus.ExponentialBuckets(1, 4, 10)

// Metrics is one worker's registry and collectors.
type Metrics struct {
	reg *prometheus.Registry

	connectors        prometheus.Gauge
	tasks             prometheus.Gauge
	connectorStartups *prometheus.CounterVec
	taskStartups      *prometheus.CounterVec

	sourcePoll      *prometheus.CounterVec
	sourceWrite     *prometheus.CounterVec
	sourceBatchSize *prometheus.HistogramVec
	sourceBatchTime *prometheus.HistogramVec
	sinkRead        *prometheus.CounterVec
	sinkSend        *prometheus.CounterVec
	sinkBatchSize   *prometheus.HistogramVec
	sinkBatchTime   *prometheus.HistogramVec
	sinkLag         *prometheus.GaugeVec
	commitTime      *prometheus.HistogramVec
	commitFailures  *prometheus.CounterVec
	recordFailures  *prometheus.CounterVec
	recordsSkipped  *prometheus.CounterVec
	dlqRequests     *prometheus.CounterVec
	dlqFailures     *prometheus.CounterVec

	progress [4]*prometheus.GaugeVec // tables done, tables total, rows done, rows estimated

	mu     sync.Mutex
	custom map[string]prometheus.Collector // the connectors' own metrics, by full name
}

// New returns the collectors of a worker, registered with a registry of their own together with
// the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), custom: map[string]prometheus.Collector{}}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	gauge := func(name, help string) prometheus.Gauge {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: Prefix + name, Help: help})
		m.reg.MustRegister(g)
		return g
	}
	counters := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: Prefix + name, Help: help}, labels)
		m.reg.MustRegister(c)
		return c
	}
	gauges := func(name, help string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: Prefix + name, Help: help}, taskLabels)
		m.reg.MustRegister(g)
		return g
	}
	histograms := func(name, help string, buckets []float64) *prometheus.HistogramVec {
		h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: Prefix + name, Help: help, Buckets: buckets}, taskLabels)
		m.reg.MustRegister(h)
		return h
	}
	m.connectors = gauge("worker_connector_count", "Connectors running on this worker.")
	m.tasks = gauge("worker_task_count", "Tasks running on this worker.")
	m.connectorStartups = counters("worker_connector_startup_total", "Connector starts, by result (success, failure).", "result")
	m.taskStartups = counters("worker_task_startup_total", "Task starts, by result (success, failure).", "result")

	m.sourcePoll = counters("source_record_poll_total", "Records polled from the source task, before transforms.", taskLabels...)
	m.sourceWrite = counters("source_record_write_total", "Records of the source task acknowledged by Kafka.", taskLabels...)
	m.sourceBatchSize = histograms("source_poll_batch_size", "Records per poll of the source task.", sizeBuckets)
	m.sourceBatchTime = histograms("source_poll_batch_seconds", "Time a poll of the source task took.", prometheus.DefBuckets)
	m.sinkRead = counters("sink_record_read_total", "Records read from Kafka by the sink task, before transforms.", taskLabels...)
	m.sinkSend = counters("sink_record_send_total", "Records the sink task accepted in put, after transforms.", taskLabels...)
	m.sinkBatchSize = histograms("sink_put_batch_size", "Records per put of the sink task.", sizeBuckets)
	m.sinkBatchTime = histograms("sink_put_batch_seconds", "Time a put of the sink task took.", prometheus.DefBuckets)
	m.sinkLag = gauges("sink_record_lag_max", "Largest lag behind the high watermark among the partitions of the sink task's last fetch, in records.")
	m.commitTime = histograms("offset_commit_seconds", "Time a successful offset commit of the task took.", prometheus.DefBuckets)
	m.commitFailures = counters("offset_commit_failures_total", "Offset commits of the task that failed.", taskLabels...)
	m.recordFailures = counters("errors_record_failures_total", "Records whose conversion or transformation failed.", taskLabels...)
	m.recordsSkipped = counters("errors_records_skipped_total", "Failed records skipped under errors.tolerance=all.", taskLabels...)
	m.dlqRequests = counters("deadletterqueue_produce_requests_total", "Records sent to the dead letter queue.", taskLabels...)
	m.dlqFailures = counters("deadletterqueue_produce_failures_total", "Records the dead letter queue did not accept.", taskLabels...)

	m.progress = [4]*prometheus.GaugeVec{
		gauges("progress_tables_done", "Tables the task's snapshot or load has finished."),
		gauges("progress_tables_total", "Tables the task's snapshot or load covers."),
		gauges("progress_rows_done", "Rows the task's snapshot or load has read."),
		gauges("progress_rows_estimated", "Rows the task's snapshot or load is estimated to read."),
	}
	return m
}

// Registry returns the registry, for tests and for registering further collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// ConnectorStarted counts a connector start; a successful one runs until ConnectorStopped.
func (m *Metrics) ConnectorStarted(err error) {
	if m == nil {
		return
	}
	m.connectorStartups.WithLabelValues(result(err)).Inc()
	if err == nil {
		m.connectors.Inc()
	}
}

// ConnectorStopped counts a connector that ConnectorStarted counted as running no longer.
func (m *Metrics) ConnectorStopped() {
	if m != nil {
		m.connectors.Dec()
	}
}

var errStartFailed = errors.New("start failed")

func result(err error) string {
	if err != nil {
		return "failure"
	}
	return "success"
}

// Task counts a task that started and returns its metrics, or, on a nil Metrics, a handle that
// keeps only its progress. Close must follow when the task ends.
func (m *Metrics) Task(connector string, task int) *Task {
	t := &Task{m: m, labels: []string{connector, strconv.Itoa(task)}}
	if m == nil {
		return t
	}
	m.taskStartups.WithLabelValues(result(nil)).Inc()
	m.tasks.Inc()
	l := t.labels
	t.c = &taskCounters{
		sourcePoll:      m.sourcePoll.WithLabelValues(l...),
		sourceWrite:     m.sourceWrite.WithLabelValues(l...),
		sourceBatchSize: m.sourceBatchSize.WithLabelValues(l...),
		sourceBatchTime: m.sourceBatchTime.WithLabelValues(l...),
		sinkRead:        m.sinkRead.WithLabelValues(l...),
		sinkSend:        m.sinkSend.WithLabelValues(l...),
		sinkBatchSize:   m.sinkBatchSize.WithLabelValues(l...),
		sinkBatchTime:   m.sinkBatchTime.WithLabelValues(l...),
		sinkLag:         m.sinkLag.WithLabelValues(l...),
		commitTime:      m.commitTime.WithLabelValues(l...),
		commitFailures:  m.commitFailures.WithLabelValues(l...),
		recordFailures:  m.recordFailures.WithLabelValues(l...),
		recordsSkipped:  m.recordsSkipped.WithLabelValues(l...),
		dlqRequests:     m.dlqRequests.WithLabelValues(l...),
		dlqFailures:     m.dlqFailures.WithLabelValues(l...),
	}
	for i, g := range m.progress {
		t.c.progress[i] = g.WithLabelValues(l...)
	}
	return t
}

// TaskStartFailed counts a task that could not be started.
func (m *Metrics) TaskStartFailed() {
	if m != nil {
		m.taskStartups.WithLabelValues(result(errStartFailed)).Inc()
	}
}

type taskCounters struct {
	sourcePoll, sourceWrite, sinkRead, sinkSend prometheus.Counter
	commitFailures, recordFailures              prometheus.Counter
	recordsSkipped, dlqRequests, dlqFailures    prometheus.Counter
	sourceBatchSize, sourceBatchTime            prometheus.Observer
	sinkBatchSize, sinkBatchTime, commitTime    prometheus.Observer
	sinkLag                                     prometheus.Gauge
	progress                                    [4]prometheus.Gauge
}

// Task is one task's metrics and progress. Its methods are safe for concurrent use and do nothing
// on a worker without metrics (c is nil), except keeping the progress for the REST status.
type Task struct {
	m        *Metrics
	labels   []string
	c        *taskCounters
	progress atomic.Pointer[connect.Progress]
	// custom holds the connector metrics this task created, removed with the task.
	customMu sync.Mutex
	custom   []func()
}

// Polled records one poll of a source task.
func (t *Task) Polled(records int, took time.Duration) {
	if t.c == nil {
		return
	}
	t.c.sourcePoll.Add(float64(records))
	t.c.sourceBatchSize.Observe(float64(records))
	t.c.sourceBatchTime.Observe(took.Seconds())
}

// Written records one source record Kafka acknowledged.
func (t *Task) Written() {
	if t.c != nil {
		t.c.sourceWrite.Inc()
	}
}

// Read records a batch of records a sink task consumed, and the largest lag among its partitions.
func (t *Task) Read(records int, lagMax int64) {
	if t.c == nil {
		return
	}
	t.c.sinkRead.Add(float64(records))
	t.c.sinkLag.Set(float64(lagMax))
}

// Put records one successful put of a sink task.
func (t *Task) Put(records int, took time.Duration) {
	if t.c == nil {
		return
	}
	t.c.sinkSend.Add(float64(records))
	t.c.sinkBatchSize.Observe(float64(records))
	t.c.sinkBatchTime.Observe(took.Seconds())
}

// Committed records an offset commit that began at start and ended with err.
func (t *Task) Committed(start time.Time, err error) {
	if t.c == nil {
		return
	}
	if err != nil {
		t.c.commitFailures.Inc()
		return
	}
	t.c.commitTime.Observe(time.Since(start).Seconds())
}

// RecordFailed records a record whose conversion or transformation failed; skipped says
// errors.tolerance let the task go on.
func (t *Task) RecordFailed(skipped bool) {
	if t.c == nil {
		return
	}
	t.c.recordFailures.Inc()
	if skipped {
		t.c.recordsSkipped.Inc()
	}
}

// DeadLettered records a record sent to the dead letter queue, which answered err.
func (t *Task) DeadLettered(err error) {
	if t.c == nil {
		return
	}
	t.c.dlqRequests.Inc()
	if err != nil {
		t.c.dlqFailures.Inc()
	}
}

// Progress returns the task's last reported progress, or nil.
func (t *Task) Progress() *connect.Progress {
	if t == nil {
		return nil
	}
	return t.progress.Load()
}

// SetProgress implements connect.TaskMetrics.
func (t *Task) SetProgress(p *connect.Progress) {
	if p != nil {
		cp := *p
		p = &cp
	}
	t.progress.Store(p)
	if t.c == nil {
		return
	}
	var v [4]int64
	if p != nil {
		v = [4]int64{p.TablesDone, p.TablesTotal, p.RowsDone, p.RowsEstimated}
	}
	for i, g := range t.c.progress {
		g.Set(float64(v[i]))
	}
}

// Gauge implements connect.TaskMetrics.
func (t *Task) Gauge(name, help string) connect.Gauge {
	if t.c == nil {
		return connect.DiscardMetrics{}.Gauge(name, help)
	}
	v := custom(t, name, func() *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: Prefix + name, Help: help}, taskLabels)
	})
	return v.WithLabelValues(t.labels...)
}

// Counter implements connect.TaskMetrics.
func (t *Task) Counter(name, help string) connect.Counter {
	if t.c == nil {
		return connect.DiscardMetrics{}.Counter(name, help)
	}
	v := custom(t, name, func() *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: Prefix + name, Help: help}, taskLabels)
	})
	return v.WithLabelValues(t.labels...)
}

// Histogram implements connect.TaskMetrics.
func (t *Task) Histogram(name, help string) connect.Histogram {
	if t.c == nil {
		return connect.DiscardMetrics{}.Histogram(name, help)
	}
	v := custom(t, name, func() *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: Prefix + name, Help: help, Buckets: sizeBuckets}, taskLabels)
	})
	return v.WithLabelValues(t.labels...)
}

// vec is what the three kinds of metric vectors share.
type vec interface {
	prometheus.Collector
	DeleteLabelValues(lvs ...string) bool
}

// custom returns the connector metric called name, creating and registering it on first use, and
// arranges for the task's series to go when the task closes.
func custom[V vec](t *Task, name string, create func() V) V {
	t.m.mu.Lock()
	c, ok := t.m.custom[name]
	if !ok {
		c = create()
		t.m.reg.MustRegister(c)
		t.m.custom[name] = c
	}
	t.m.mu.Unlock()
	v, ok := c.(V)
	if !ok {
		panic(fmt.Sprintf("metric %s%s is a %T, not a %T", Prefix, name, c, v))
	}
	t.customMu.Lock()
	t.custom = append(t.custom, func() { v.DeleteLabelValues(t.labels...) })
	t.customMu.Unlock()
	return v
}

// Close removes the task's series, as upstream removes a stopped task's metrics, and counts the
// task as no longer running.
func (t *Task) Close() {
	if t.c == nil {
		return
	}
	m, l := t.m, t.labels
	for _, v := range []vec{m.sourcePoll, m.sourceWrite, m.sourceBatchSize, m.sourceBatchTime, m.sinkRead, m.sinkSend,
		m.sinkBatchSize, m.sinkBatchTime, m.sinkLag, m.commitTime, m.commitFailures, m.recordFailures, m.recordsSkipped,
		m.dlqRequests, m.dlqFailures, m.progress[0], m.progress[1], m.progress[2], m.progress[3]} {
		v.DeleteLabelValues(l...)
	}
	t.customMu.Lock()
	for _, del := range t.custom {
		del()
	}
	t.custom = nil
	t.customMu.Unlock()
	m.tasks.Dec()
}
