package postgres

import (
	"context"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connect/connecttest"
	"github.com/kconnect/kconnect/runtime/metrics"
)

// metricsContext is a test task context backed by the runtime's metrics implementation.
type metricsContext struct {
	*connecttest.Context
	m *metrics.Task
}

func (c metricsContext) Metrics() connect.TaskMetrics { return c.m }

// gauge reads one of the task's gauges from the registry, or -1 when it has no such series.
func gauge(t *testing.T, m *metrics.Metrics, name string) float64 {
	t.Helper()
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			if hasLabel(s, "task", "0") {
				return s.GetGauge().GetValue()
			}
		}
	}
	return -1
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

// TestSnapshotReportsProgressAndStreamingReportsLag holds a snapshot back with a small queue and
// reads its progress while it waits: both tables counted, the rows estimated from the statistics,
// some rows done and not all; once every row is polled the progress is gone. Then a streamed change
// after a confirmed one shows WAL bytes behind the slot's confirmed position.
func TestSnapshotReportsProgressAndStreamingReportsLag(t *testing.T) {
	pg := newPG(t)
	const bigRows, smallRows = 20_000, 100
	pg.exec(`CREATE TABLE big (id bigint PRIMARY KEY, v text NOT NULL)`)
	pg.exec(`INSERT INTO big SELECT g, 'row ' || g FROM generate_series(1, $1::bigint) g`, bigRows)
	pg.exec(`CREATE TABLE small (id bigint PRIMARY KEY, v text NOT NULL)`)
	pg.exec(`INSERT INTO small SELECT g, 'row ' || g FROM generate_series(1, $1::bigint) g`, smallRows)
	pg.exec(`ANALYZE big`)
	pg.exec(`ANALYZE small`)

	m := metrics.New()
	tm := m.Task("pg", 0)
	defer tm.Close()
	tctx := metricsContext{connecttest.New(t), tm}
	task := (&Connector{}).NewTask().(*Task)
	if err := task.Start(tctx, props(t, pg.dsn, "max.queue.size", "1000", "snapshot.fetch.size", "1000", "max.batch.size", "500")); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = task.Stop() }()

	// Nothing polls yet, so the snapshot stops at a full queue.
	var p *connect.Progress
	waitFor(t, "snapshot progress", 60*time.Second, func() bool {
		p = tm.Progress()
		return p != nil && p.RowsDone > 0
	})
	want := connect.Progress{Phase: "snapshot", TablesTotal: 2, RowsEstimated: bigRows + smallRows}
	if p.Phase != want.Phase || p.TablesTotal != want.TablesTotal || p.RowsEstimated != want.RowsEstimated ||
		p.RowsDone >= bigRows || p.TablesDone > 1 {
		t.Errorf("progress while the queue is full = %+v, want %+v with some but not all rows done", *p, want)
	}
	if g := gauge(t, m, "kconnect_progress_rows_estimated"); g != bigRows+smallRows {
		t.Errorf("kconnect_progress_rows_estimated = %v", g)
	}

	recs := pollFor(t, task, bigRows+smallRows, isData, 120*time.Second)
	waitFor(t, "the progress to end with the snapshot", 30*time.Second, func() bool { return tm.Progress() == nil })
	if g := gauge(t, m, "kconnect_progress_rows_done"); g != 0 {
		t.Errorf("kconnect_progress_rows_done after the snapshot = %v, want 0", g)
	}

	// Store and confirm the snapshot's offsets, then one streamed change, confirmed too.
	if err := task.Commit(context.Background(), tctx.Commit(recs)); err != nil {
		t.Fatal(err)
	}
	pg.exec(`INSERT INTO small VALUES (1001, 'streamed')`)
	streamed := pollFor(t, task, 1, isData, 60*time.Second)
	if err := task.Commit(context.Background(), tctx.Commit(streamed)); err != nil {
		t.Fatal(err)
	}
	// A second change is decoded before anything confirms it: the server is ahead of the slot.
	pg.exec(`INSERT INTO small VALUES (1002, 'streamed')`)
	pollFor(t, task, 1, isData, 60*time.Second)
	if g := gauge(t, m, "kconnect_postgres_replication_lag_bytes"); g <= 0 {
		t.Errorf("kconnect_postgres_replication_lag_bytes = %v after an unconfirmed change, want > 0", g)
	}
	if g := gauge(t, m, "kconnect_postgres_replication_lag_ms"); g < 0 {
		t.Errorf("kconnect_postgres_replication_lag_ms missing")
	}
}
