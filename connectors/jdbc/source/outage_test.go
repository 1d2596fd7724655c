package source

import (
	"context"
	"testing"
	"time"
)

// checkExactlyOnce checks the records hold every id of the table once: after reconnecting, the
// task resumed right after the last row it handed out, not from the start.
func checkExactlyOnce(t *testing.T, r *runner, want []int64) {
	t.Helper()
	r.waitCount(len(want), 60*time.Second)
	time.Sleep(300 * time.Millisecond)
	recs, err := r.snapshot()
	if err != nil {
		t.Fatalf("task failed: %v", err)
	}
	seen := map[int64]int{}
	for _, id := range ids(recs) {
		seen[id]++
	}
	for _, id := range want {
		if seen[id] != 1 {
			t.Fatalf("id %d read %d times (%d records for %d rows)", id, seen[id], len(recs), len(want))
		}
	}
	if len(recs) != len(want) {
		t.Fatalf("%d records for %d rows", len(recs), len(want))
	}
}

func TestPostgresTaskSurvivesTerminatedBackendsMidRead(t *testing.T) {
	pg := newPG(t)
	const rows = 20000
	// 40 MB of rows, far more than the socket buffers hold, so a terminated backend interrupts
	// the result in the middle.
	pg.exec(t, `CREATE TABLE big (id serial PRIMARY KEY, pad text NOT NULL)`,
		`ALTER TABLE big ALTER COLUMN pad SET STORAGE EXTERNAL`,
		`INSERT INTO big (pad) SELECT repeat('x', 2000) FROM generate_series(1, 20000)`)
	r := startRunner(t, quietContext(t), taskProps(t, props("connection.url", pg.dsn, "mode", "incrementing",
		"table.whitelist", "big", "batch.max.rows", "50", "connection.backoff.ms", "200"), 1)[0])
	r.setPace(2 * time.Millisecond)
	terminate := func() int {
		var n int
		err := pg.conn.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE application_name = 'kconnect-jdbc-source' AND datname = current_database()`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, at := range []int{1000, 6000, 12000} {
		r.waitCount(at, 30*time.Second)
		retryUntil(t, "terminating the task's backend", terminate)
		if recs, _ := r.snapshot(); len(recs) >= rows {
			t.Fatalf("the table was read before the backend could be terminated mid-read")
		}
	}
	r.setPace(0)
	r.waitCount(rows, 60*time.Second)
	// Terminated while idle between polls, too.
	retryUntil(t, "terminating the task's backend", terminate)
	pg.exec(t, `INSERT INTO big (pad) SELECT 'y' FROM generate_series(1, 100)`)
	var want []int64
	if err := pg.conn.QueryRow(context.Background(), `SELECT array_agg(id) FROM big`).Scan(&want); err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, r, want)
}

func TestMySQLTaskSurvivesKilledConnectionsMidRead(t *testing.T) {
	my := newMy(t)
	const rows = 20000
	my.exec(t, "CREATE TABLE big (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, pad varchar(2000) NOT NULL)",
		"INSERT INTO big (pad) SELECT REPEAT('x', 2000) FROM seq_1_to_20000")
	r := startRunner(t, quietContext(t), taskProps(t, props("connection.url", my.dsn, "mode", "incrementing",
		"table.whitelist", "big", "batch.max.rows", "50", "connection.backoff.ms", "200"), 1)[0])
	r.setPace(2 * time.Millisecond)
	admin, err := my.db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	kill := func() int {
		rows, err := admin.QueryContext(context.Background(),
			"SELECT ID FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID()")
		if err != nil {
			t.Fatal(err)
		}
		var victims []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			victims = append(victims, id)
		}
		rows.Close()
		n := 0
		for _, id := range victims {
			if _, err := admin.ExecContext(context.Background(), "KILL ?", id); err == nil {
				n++
			}
		}
		return n
	}
	for _, at := range []int{1000, 6000, 12000} {
		r.waitCount(at, 30*time.Second)
		retryUntil(t, "killing the task's connection", kill)
		if recs, _ := r.snapshot(); len(recs) >= rows {
			t.Fatalf("the table was read before the connection could be killed mid-read")
		}
	}
	r.setPace(0)
	r.waitCount(rows, 60*time.Second)
	retryUntil(t, "killing the task's connection", kill)
	if _, err := admin.ExecContext(context.Background(), "INSERT INTO big (pad) SELECT 'y' FROM seq_1_to_100"); err != nil {
		t.Fatal(err)
	}
	var want []int64
	rs, err := admin.QueryContext(context.Background(), "SELECT id FROM big")
	if err != nil {
		t.Fatal(err)
	}
	for rs.Next() {
		var id int64
		if err := rs.Scan(&id); err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	rs.Close()
	checkExactlyOnce(t, r, want)
}

// retryUntil calls f until it reports having hit something: the task may be between
// connections when f first runs.
func retryUntil(t *testing.T, what string, f func() int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for f() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s: nothing to hit for 10 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
