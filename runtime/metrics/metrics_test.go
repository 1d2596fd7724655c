package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kconnect/kconnect/connect"
)

// TestConnectorMetricsAreSharedByNameAndGoWithTheirTask gives two tasks the same connector gauge:
// one metric with a series per task, the series of a closed task removed, the other kept.
func TestConnectorMetricsAreSharedByNameAndGoWithTheirTask(t *testing.T) {
	m := New()
	a, b := m.Task("c", 0), m.Task("c", 1)
	a.Gauge("lag_ms", "Lag.").Set(5)
	b.Gauge("lag_ms", "Lag.").Set(7)
	a.Counter("rows_total", "Rows.").Add(3)
	want := `# HELP kconnect_lag_ms Lag.
# TYPE kconnect_lag_ms gauge
kconnect_lag_ms{connector="c",task="0"} 5
kconnect_lag_ms{connector="c",task="1"} 7
`
	if err := testutil.CollectAndCompare(m.Registry(), strings.NewReader(want), "kconnect_lag_ms"); err != nil {
		t.Error(err)
	}
	if n := testutil.ToFloat64(m.tasks); n != 2 {
		t.Errorf("task count %v, want 2", n)
	}
	a.Close()
	want = `# HELP kconnect_lag_ms Lag.
# TYPE kconnect_lag_ms gauge
kconnect_lag_ms{connector="c",task="1"} 7
`
	if err := testutil.CollectAndCompare(m.Registry(), strings.NewReader(want), "kconnect_lag_ms", "kconnect_rows_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.ToFloat64(m.tasks); n != 1 {
		t.Errorf("task count %v after a close, want 1", n)
	}
}

// TestOneNameTwoKindsPanics: a connector asking for a gauge under a counter's name is a bug.
func TestOneNameTwoKindsPanics(t *testing.T) {
	m := New()
	task := m.Task("c", 0)
	task.Counter("x_total", "X.")
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "kconnect_x_total") {
			t.Errorf("recovered %v, want a panic naming the metric", r)
		}
	}()
	task.Gauge("x_total", "X.")
}

// TestWithoutMetricsTheTaskKeepsItsProgress: a worker without metrics still shows progress in the
// status, and the metric calls do nothing.
func TestWithoutMetricsTheTaskKeepsItsProgress(t *testing.T) {
	var m *Metrics
	task := m.Task("c", 0)
	task.Polled(10, 0)
	task.Gauge("lag_ms", "Lag.").Set(1)
	p := &connect.Progress{Phase: "snapshot", RowsDone: 3}
	task.SetProgress(p)
	p.RowsDone = 4 // the task's own copy changes; the reported one must not
	if got := task.Progress(); got == nil || got.RowsDone != 3 {
		t.Errorf("progress %+v, want rows done 3", got)
	}
	task.SetProgress(nil)
	if got := task.Progress(); got != nil {
		t.Errorf("progress %+v after nil, want none", got)
	}
	task.Close()
}

// BenchmarkRecordPath is what the metrics add to each record a source task moves: one Written,
// and a 1000-record batch's Polled spread over its records.
func BenchmarkRecordPath(b *testing.B) {
	task := New().Task("c", 0)
	for i := range b.N {
		task.Written()
		if i%1000 == 0 {
			task.Polled(1000, time.Millisecond)
		}
	}
}
