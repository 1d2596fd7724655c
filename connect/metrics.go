package connect

// A task reports measurements of its own (replication lag, rows per poll) and the progress of long
// work (a snapshot) through TaskMetrics, which the runtime exports as Prometheus metrics labelled
// with the connector and task, and shows progress in the task's REST status. The hook is optional
// so that task contexts of other runtimes and tests need not implement it: tasks get it with
// MetricsOf, which never returns nil.

// Gauge is a value that goes up and down.
type Gauge interface {
	Set(v float64)
}

// Counter is a total that only grows.
type Counter interface {
	Add(delta float64)
}

// Histogram records the distribution of a size, such as rows per poll.
type Histogram interface {
	Observe(v float64)
}

// Progress is how far a task is through bounded work, such as a snapshot or an initial load.
// Counts that do not apply stay zero; RowsEstimated is an estimate (table statistics) and may be
// exceeded.
type Progress struct {
	// Phase names the work, such as "snapshot".
	Phase         string
	TablesDone    int64
	TablesTotal   int64
	RowsDone      int64
	RowsEstimated int64
}

// TaskMetrics is the runtime's metrics hook for one task. Names are snake_case without a prefix
// (the runtime adds "kconnect_"); asking twice for a name returns the same metric, and asking for
// one name as two kinds panics, as a programming error. Call these when a batch or a change is
// done, not per record, and keep what they return.
type TaskMetrics interface {
	// Gauge returns the task's gauge called name.
	Gauge(name, help string) Gauge
	// Counter returns the task's counter called name; Prometheus appends nothing, so end a counter's
	// name with "_total".
	Counter(name, help string) Counter
	// Histogram returns the task's histogram of sizes (buckets 1, 4, 16, … 262144) called name.
	Histogram(name, help string) Histogram
	// SetProgress publishes the task's progress; nil says the bounded work is over.
	SetProgress(p *Progress)
}

// MetricsContext is implemented by a TaskContext whose runtime collects task metrics.
type MetricsContext interface {
	// Metrics returns the task's metrics hook.
	Metrics() TaskMetrics
}

// MetricsOf returns the metrics hook of ctx, or one that discards everything when the runtime
// behind ctx collects no metrics.
func MetricsOf(ctx TaskContext) TaskMetrics {
	if mc, ok := ctx.(MetricsContext); ok {
		if m := mc.Metrics(); m != nil {
			return m
		}
	}
	return DiscardMetrics{}
}

// DiscardMetrics is a TaskMetrics that records nothing.
type DiscardMetrics struct{}

type discard struct{}

func (discard) Set(float64)     {}
func (discard) Add(float64)     {}
func (discard) Observe(float64) {}

// Gauge implements TaskMetrics.
func (DiscardMetrics) Gauge(string, string) Gauge { return discard{} }

// Counter implements TaskMetrics.
func (DiscardMetrics) Counter(string, string) Counter { return discard{} }

// Histogram implements TaskMetrics.
func (DiscardMetrics) Histogram(string, string) Histogram { return discard{} }

// SetProgress implements TaskMetrics.
func (DiscardMetrics) SetProgress(*Progress) {}
