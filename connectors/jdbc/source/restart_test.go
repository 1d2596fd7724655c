package source

import (
	"testing"
	"time"

	"github.com/kconnect/kconnect/connect"
)

// TestRestartResumesFromStoredOffsets stops a task after it read the first rows, inserts more,
// and starts a new task on the same offset store: it must read exactly the new rows.
func TestRestartResumesFromStoredOffsets(t *testing.T) {
	pg := newPG(t)
	for _, mode := range noSkipModes {
		t.Run(mode.mode, func(t *testing.T) {
			pg.exec(t, `DROP TABLE IF EXISTS ev`, `CREATE TABLE ev (id serial PRIMARY KEY, ts timestamptz NOT NULL)`,
				`INSERT INTO ev (ts) SELECT '2024-01-01'::timestamptz + (g / 3) * interval '1 second' FROM generate_series(1, 30) g`)
			ctx := quietContext(t)
			p := taskProps(t, props(append([]string{"connection.url", pg.dsn, "mode", mode.mode, "table.whitelist", "ev",
				"batch.max.rows", "4"}, mode.extra...)...), 1)[0]
			first := startRunner(t, ctx, p)
			first.waitCount(30, 20*time.Second)
			first.close()
			stored, _ := ctx.Offsets().Offset(map[string]any{"table": "public.ev", "protocol": "1"})
			if stored == nil {
				t.Fatal("no offset stored for public.ev")
			}
			t.Logf("stored offset %v", stored)

			pg.exec(t, `INSERT INTO ev (ts) SELECT '2024-02-01'::timestamptz + g * interval '1 second' FROM generate_series(1, 5) g`)
			second := startRunner(t, ctx, p)
			second.waitCount(5, 20*time.Second)
			time.Sleep(200 * time.Millisecond)
			recs, _ := second.snapshot()
			if got := ids(recs); !equalInts(got, []int64{31, 32, 33, 34, 35}) {
				t.Fatalf("after restart read ids %v, want the 5 new rows 31..35", got)
			}
		})
	}
}

// TestResumesFromUpstreamOffsets stores offsets as Confluent's connector writes them, in both
// offset protocols, and checks the task starts right after them.
func TestResumesFromUpstreamOffsets(t *testing.T) {
	my := newMy(t)
	my.exec(t, "CREATE TABLE ev (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, at datetime(3) NOT NULL)",
		"INSERT INTO ev (at) VALUES ('2024-01-01 00:00:01.5'), ('2024-01-01 00:00:02'), ('2024-01-01 00:00:02'), ('2024-01-01 00:00:03')")
	var database string
	if err := my.db.QueryRow("SELECT DATABASE()").Scan(&database); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		mode      []string
		partition map[string]any
		offset    map[string]any
		want      []int64
	}{
		{"incrementing, protocol 1", []string{"mode", "incrementing", "incrementing.column.name", "id"},
			map[string]any{"table": database + ".ev", "protocol": "1"}, map[string]any{"incrementing": 2}, []int64{3, 4}},
		{"incrementing, protocol 0", []string{"mode", "incrementing", "incrementing.column.name", "id"},
			map[string]any{"table": "ev"}, map[string]any{"incrementing": 3}, []int64{4}},
		// 1704067201500 ms is 2024-01-01 00:00:01.5 UTC; the nanos repeat the fraction of the second.
		{"timestamp", []string{"mode", "timestamp", "timestamp.column.name", "at"},
			map[string]any{"table": database + ".ev", "protocol": "1"}, map[string]any{"timestamp": 1704067201500, "timestamp_nanos": 500000000}, []int64{2, 3, 4}},
		{"timestamp+incrementing inside a group", []string{"mode", "timestamp+incrementing", "timestamp.column.name", "at", "incrementing.column.name", "id"},
			map[string]any{"table": database + ".ev", "protocol": "1"}, map[string]any{"timestamp": 1704067202000, "timestamp_nanos": 0, "incrementing": 2}, []int64{3, 4}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := quietContext(t)
			ctx.SetOffset(c.partition, c.offset)
			r := startRunner(t, ctx, taskProps(t, props(append([]string{"connection.url", my.dsn, "table.whitelist", "ev"}, c.mode...)...), 1)[0])
			r.waitCount(len(c.want), 20*time.Second)
			time.Sleep(200 * time.Millisecond)
			recs, _ := r.snapshot()
			if got := ids(recs); !equalInts(got, c.want) {
				t.Fatalf("ids %v, want %v", got, c.want)
			}
			if p := recs[0].SourcePartition; !connect.ValuesEqual(p, map[string]any{"table": database + ".ev", "protocol": "1"}) {
				t.Fatalf("records carry partition %v; protocol 1 is written", p)
			}
		})
	}
}

// TestTimestampRestartInsideAGroupRereadsTheGroup stops a timestamp-mode task after a batch that
// ends inside a group of rows sharing a timestamp: the restarted task must read the rest of the
// group (re-reading its start is allowed, skipping any of it is not).
func TestTimestampRestartInsideAGroupRereadsTheGroup(t *testing.T) {
	pg := newPG(t)
	// Rows 1-5 share a timestamp, rows 6-10 share a later one.
	pg.exec(t, `CREATE TABLE ev (id serial PRIMARY KEY, ts timestamptz NOT NULL)`,
		`INSERT INTO ev (ts) SELECT '2024-01-01'::timestamptz + ((g - 1) / 5) * interval '1 second' FROM generate_series(1, 10) g`)
	ctx := quietContext(t)
	p := taskProps(t, props("connection.url", pg.dsn, "mode", "timestamp", "timestamp.column.name", "ts",
		"table.whitelist", "ev", "batch.max.rows", "3"), 1)[0]
	task := &Task{}
	if err := task.Start(ctx, p); err != nil {
		t.Fatal(err)
	}
	var first []connect.SourceRecord
	for len(first) == 0 {
		b, err := task.Poll(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		first = b
	}
	ctx.Commit(first)
	if err := task.Stop(); err != nil {
		t.Fatal(err)
	}
	if got := ids(first); !equalInts(got, []int64{1, 2, 3}) {
		t.Fatalf("first batch %v, want [1 2 3]", got)
	}
	second := startRunner(t, ctx, p)
	second.waitCount(10, 20*time.Second)
	time.Sleep(200 * time.Millisecond)
	recs, _ := second.snapshot()
	// The stored offset is from before the group (rows 1-3 carry the empty offset), so the whole
	// first group is read again.
	if got := ids(recs); !equalInts(got, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}) {
		t.Fatalf("after restart ids %v, want 1..10", got)
	}
}
