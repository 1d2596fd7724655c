package connecttest

import (
	"sync"

	"github.com/kconnect/kconnect/connect"
)

// recorder keeps what a task reports through connect.TaskMetrics, for its tests to read.
type recorder struct {
	mu           sync.Mutex
	values       map[string]float64   // gauges and counters
	observations map[string][]float64 // histograms
	progress     *connect.Progress
}

type recorded struct {
	r    *recorder
	name string
}

func (m recorded) Set(v float64) {
	m.r.mu.Lock()
	defer m.r.mu.Unlock()
	m.r.values[m.name] = v
}

func (m recorded) Add(d float64) {
	m.r.mu.Lock()
	defer m.r.mu.Unlock()
	m.r.values[m.name] += d
}

func (m recorded) Observe(v float64) {
	m.r.mu.Lock()
	defer m.r.mu.Unlock()
	m.r.observations[m.name] = append(m.r.observations[m.name], v)
}

func (r *recorder) metric(name string) recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.values == nil {
		r.values, r.observations = map[string]float64{}, map[string][]float64{}
	}
	return recorded{r, name}
}

func (r *recorder) Gauge(name, _ string) connect.Gauge         { return r.metric(name) }
func (r *recorder) Counter(name, _ string) connect.Counter     { return r.metric(name) }
func (r *recorder) Histogram(name, _ string) connect.Histogram { return r.metric(name) }

func (r *recorder) SetProgress(p *connect.Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p != nil {
		cp := *p
		p = &cp
	}
	r.progress = p
}

// Metrics implements connect.MetricsContext: the context records what the task reports.
func (c *Context) Metrics() connect.TaskMetrics { return &c.metrics }

// MetricValue returns the last value of the task's gauge, or the total of its counter, name.
func (c *Context) MetricValue(name string) float64 {
	c.metrics.mu.Lock()
	defer c.metrics.mu.Unlock()
	return c.metrics.values[name]
}

// Observations returns what the task observed in its histogram name, in order.
func (c *Context) Observations(name string) []float64 {
	c.metrics.mu.Lock()
	defer c.metrics.mu.Unlock()
	return append([]float64(nil), c.metrics.observations[name]...)
}

// Progress returns the task's last reported progress, or nil.
func (c *Context) Progress() *connect.Progress {
	c.metrics.mu.Lock()
	defer c.metrics.mu.Unlock()
	return c.metrics.progress
}
