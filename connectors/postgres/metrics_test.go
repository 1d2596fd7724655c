package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connect/connecttest"
)

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

	tctx := connecttest.New(t)
	task := (&Connector{}).NewTask().(*Task)
	if err := task.Start(tctx, props(t, pg.dsn, "max.queue.size", "1000", "snapshot.fetch.size", "1000", "max.batch.size", "500")); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = task.Stop() }()

	// Nothing polls yet, so the snapshot stops at a full queue.
	var p *connect.Progress
	waitFor(t, "snapshot progress", 60*time.Second, func() bool {
		p = tctx.Progress()
		return p != nil && p.RowsDone > 0
	})
	want := connect.Progress{Phase: "snapshot", TablesTotal: 2, RowsEstimated: bigRows + smallRows}
	if p.Phase != want.Phase || p.TablesTotal != want.TablesTotal || p.RowsEstimated != want.RowsEstimated ||
		p.RowsDone >= bigRows || p.TablesDone > 1 {
		t.Errorf("progress while the queue is full = %+v, want %+v with some but not all rows done", *p, want)
	}

	recs := pollFor(t, task, bigRows+smallRows, isData, 120*time.Second)
	waitFor(t, "the progress to end with the snapshot", 30*time.Second, func() bool { return tctx.Progress() == nil })

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
	if g := tctx.MetricValue("postgres_replication_lag_bytes"); g <= 0 {
		t.Errorf("postgres_replication_lag_bytes = %v after an unconfirmed change, want > 0", g)
	}
}
