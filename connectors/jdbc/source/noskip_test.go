package source

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kconnect/kconnect/connect"
)

// soakDuration is how long the concurrent writers run; KCONNECT_JDBC_SOAK overrides it for
// longer runs outside CI.
func soakDuration(t *testing.T) time.Duration {
	if s := os.Getenv("KCONNECT_JDBC_SOAK"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("KCONNECT_JDBC_SOAK: %v", err)
		}
		return d
	}
	return 10 * time.Second
}

// writerStats counts what the writers did, to show the workload produced the hazards the test
// is about: commits that land below rows already committed.
type writerStats struct {
	commits, rollbacks, rows atomic.Int64
	// lateByID counts commits containing an id below the highest id committed before them;
	// lateByTS the same for timestamps.
	lateByID, lateByTS atomic.Int64
	mu                 sync.Mutex
	maxID              int64
	maxTS              time.Time
}

func (s *writerStats) committed(ids []int64, tss []time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	late := false
	for _, id := range ids {
		late = late || id < s.maxID
	}
	if late {
		s.lateByID.Add(1)
	}
	late = false
	for _, ts := range tss {
		late = late || ts.Before(s.maxTS)
	}
	if late {
		s.lateByTS.Add(1)
	}
	for _, id := range ids {
		s.maxID = max(s.maxID, id)
	}
	for _, ts := range tss {
		if ts.After(s.maxTS) {
			s.maxTS = ts
		}
	}
}

// noSkipModes are read concurrently from the same table while the writers run.
var noSkipModes = []struct {
	mode  string
	extra []string
}{
	{"incrementing", []string{"incrementing.column.name", "id"}},
	{"timestamp", []string{"timestamp.column.name", "ts"}},
	{"timestamp+incrementing", []string{"timestamp.column.name", "ts", "incrementing.column.name", "id"}},
}

// startNoSkipRunners starts a task of each of noSkipModes on the table events of the database at
// the JDBC url, polling every 5 ms in small batches.
func startNoSkipRunners(t *testing.T, url, user, pw string) map[string]*runner {
	t.Helper()
	runners := map[string]*runner{}
	for _, m := range noSkipModes {
		p := props(append([]string{"connection.url", url, "connection.user", user, "connection.password", pw,
			"mode", m.mode, "topic.prefix", "t-", "table.whitelist", "events", "batch.max.rows", "7",
			"poll.interval.ms", "5", "timestamp.delay.interval.ms", "20"}, m.extra...)...)
		runners[m.mode] = startRunner(t, quietContext(t), taskProps(t, p, 1)[0])
	}
	return runners
}

// checkNoSkip waits until every mode's task has read every row, then compares the id sets.
func checkNoSkip(t *testing.T, runners map[string]*runner, want map[int64]bool, stats *writerStats) {
	t.Helper()
	t.Logf("writers: %d commits, %d rollbacks, %d rows; commits below an already committed id: %d, below an already committed timestamp: %d",
		stats.commits.Load(), stats.rollbacks.Load(), stats.rows.Load(), stats.lateByID.Load(), stats.lateByTS.Load())
	if stats.lateByID.Load() == 0 || stats.lateByTS.Load() == 0 {
		t.Fatalf("the workload committed nothing out of order, so it cannot show that no row is skipped")
	}
	for _, m := range noSkipModes {
		r := runners[m.mode]
		seen := map[int64]int{}
		idsOf := func(recs []connect.SourceRecord) {
			clear(seen)
			for _, rec := range recs {
				seen[toInt64(field(rec, "id"))]++
			}
		}
		r.waitFor(60*time.Second, m.mode+" to read every committed row", func(recs []connect.SourceRecord) bool {
			idsOf(recs)
			for id := range want {
				if seen[id] == 0 {
					return false
				}
			}
			return true
		})
		// Give a straggler the chance to show up as an extra or a duplicate.
		time.Sleep(300 * time.Millisecond)
		recs, err := r.snapshot()
		if err != nil {
			t.Fatalf("%s: task failed: %v", m.mode, err)
		}
		idsOf(recs)
		var extra []int64
		dups := 0
		for id, n := range seen {
			if !want[id] {
				extra = append(extra, id)
			}
			if n > 1 {
				dups++
			}
		}
		sort.Slice(extra, func(i, j int) bool { return extra[i] < extra[j] })
		if len(extra) > 0 {
			t.Errorf("%s: %d ids in the topic are not in the table (rolled back rows?): %v", m.mode, len(extra), extra[:min(10, len(extra))])
		}
		if dups > 0 {
			t.Errorf("%s: %d ids were emitted more than once without a restart", m.mode, dups)
		}
		t.Logf("%s: %d records, every one of the %d committed rows", m.mode, len(recs), len(want))
	}
}

func toInt64(v any) int64 {
	switch n := v.(type) {
	case int32:
		return int64(n)
	case int64:
		return n
	}
	panic(fmt.Sprintf("not an integer: %T", v))
}

func TestPostgresNoRowSkippedUnderConcurrentOutOfOrderCommits(t *testing.T) {
	pg := newPG(t)
	// Timestamps are rounded down to 10 ms so that many rows of many transactions share one,
	// and a transaction's timestamp can be 10 ms older than its start: the delay covers that.
	pg.exec(t, `CREATE TABLE events (
		id bigserial PRIMARY KEY,
		ts timestamptz NOT NULL DEFAULT to_timestamp(floor(extract(epoch FROM now()) * 100) / 100),
		writer int NOT NULL,
		payload text NOT NULL)`)
	url, user, pw := pg.jdbcURL(t)
	runners := startNoSkipRunners(t, url, user, pw)

	stats := &writerStats{}
	ctx, cancel := context.WithTimeout(context.Background(), soakDuration(t))
	defer cancel()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := pgx.Connect(context.Background(), pg.dsn)
			if err != nil {
				t.Errorf("writer %d: %v", w, err)
				return
			}
			defer conn.Close(context.Background())
			rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			for ctx.Err() == nil {
				if err := pgWriteOnce(conn, rng, w, stats); err != nil && ctx.Err() == nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		}()
	}
	wg.Wait()

	want := map[int64]bool{}
	rows, err := pg.conn.Query(context.Background(), `SELECT id FROM events`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		want[id] = true
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	checkNoSkip(t, runners, want, stats)
}

// pgWriteOnce inserts a few rows in one transaction, sleeps a random while so that transactions
// commit in a different order than they drew ids and timestamps, and commits or rolls back.
func pgWriteOnce(conn *pgx.Conn, rng *rand.Rand, w int, stats *writerStats) error {
	ctx := context.Background()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	var ids []int64
	var tss []time.Time
	for range 1 + rng.IntN(4) {
		var id int64
		var ts time.Time
		if err := tx.QueryRow(ctx, `INSERT INTO events (writer, payload) VALUES ($1, $2) RETURNING id, ts`, w, "p").Scan(&id, &ts); err != nil {
			return err
		}
		ids, tss = append(ids, id), append(tss, ts)
		time.Sleep(time.Duration(rng.IntN(3)) * time.Millisecond)
	}
	time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond)
	if rng.IntN(10) == 0 {
		stats.rollbacks.Add(1)
		return tx.Rollback(ctx)
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	stats.commits.Add(1)
	stats.rows.Add(int64(len(ids)))
	stats.committed(ids, tss)
	return nil
}

func TestMySQLNoRowSkippedUnderConcurrentOutOfOrderCommits(t *testing.T) {
	my := newMy(t)
	my.exec(t, `CREATE TABLE events (
		id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
		ts datetime(2) NOT NULL DEFAULT CURRENT_TIMESTAMP(2),
		writer int NOT NULL,
		payload varchar(20) NOT NULL)`)
	url, user, pw := my.jdbcURL(t)
	runners := startNoSkipRunners(t, url, user, pw)

	stats := &writerStats{}
	ctx, cancel := context.WithTimeout(context.Background(), soakDuration(t))
	defer cancel()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			for ctx.Err() == nil {
				if err := myWriteOnce(my.db, rng, w, stats); err != nil && ctx.Err() == nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		}()
	}
	wg.Wait()

	want := map[int64]bool{}
	rows, err := my.db.Query(`SELECT id FROM events`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		want[id] = true
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	checkNoSkip(t, runners, want, stats)
}

func myWriteOnce(db *sql.DB, rng *rand.Rand, w int, stats *writerStats) error {
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var ids []int64
	var tss []time.Time
	for range 1 + rng.IntN(4) {
		res, err := tx.ExecContext(ctx, `INSERT INTO events (writer, payload) VALUES (?, ?)`, w, "p")
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		var ts time.Time
		if err := tx.QueryRowContext(ctx, `SELECT ts FROM events WHERE id = ?`, id).Scan(&ts); err != nil {
			return err
		}
		ids, tss = append(ids, id), append(tss, ts)
		time.Sleep(time.Duration(rng.IntN(3)) * time.Millisecond)
	}
	time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond)
	if rng.IntN(10) == 0 {
		stats.rollbacks.Add(1)
		return tx.Rollback()
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	stats.commits.Add(1)
	stats.rows.Add(int64(len(ids)))
	stats.committed(ids, tss)
	return nil
}
