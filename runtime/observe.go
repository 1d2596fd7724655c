package runtime

import (
	"log/slog"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/logging"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/metrics"
)

// SetMetrics makes the worker record metrics of the connectors and tasks it starts from now on;
// without it (as in tests and benchmarks of the bare data path) none are recorded.
func (w *Worker) SetMetrics(m *metrics.Metrics) { w.metrics = m }

// Metrics returns the worker's metrics, nil when it records none.
func (w *Worker) Metrics() *metrics.Metrics { return w.metrics }

// SetLoggers gives each connector and task started from now on a named logger of loggers, so that
// /admin/loggers can change one connector's level; without it they all log through the worker's
// logger.
func (w *Worker) SetLoggers(l *logging.Loggers) { w.loggers = l }

// ConnectorLogger returns the logger of the connector called name with config connProps. It is
// named after the connector and inherits its level from the connector's class (the canonical
// upstream name, whichever alias the config uses), so PUT /admin/loggers/<name> changes this
// connector and PUT /admin/loggers/<class> every connector of that class; its tasks log through
// the children <name>.task-<id>.
func (w *Worker) ConnectorLogger(name string, connProps map[string]string) *slog.Logger {
	if w.loggers == nil {
		return w.log.With("connector", name)
	}
	class := connProps[ConnectorClass]
	if p, err := w.registry.Lookup(class, connect.PluginSource, connect.PluginSink); err == nil {
		class = p.Class
	}
	return w.loggers.Child(name, class).With("connector", name)
}

// countStartFailure counts a task that failed to start; the task loops count successful starts
// when they create the task's metrics.
func (w *Worker) countStartFailure(err *error) {
	if *err != nil {
		w.metrics.TaskStartFailed()
	}
}

// Progress returns what the task last reported of its snapshot or load, nil when it reports none.
func (t *Task) Progress() *herder.Progress {
	if t == nil {
		return nil
	}
	return herder.ProgressOf(t.metrics.Progress())
}

// Metrics implements connect.MetricsContext for source tasks.
func (c taskContext) Metrics() connect.TaskMetrics { return c.metrics }

// Metrics implements connect.MetricsContext for sink tasks.
func (r *sinkRunner) Metrics() connect.TaskMetrics { return r.t.metrics }

// fetchLag returns the largest lag behind the high watermark among the partitions of fetches, in
// records, counted once per partition rather than per record.
func fetchLag(fetches kgo.Fetches) int64 {
	var lag int64
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if n := len(p.Records); n > 0 {
			lag = max(lag, p.HighWatermark-p.Records[n-1].Offset-1)
		}
	})
	return lag
}
