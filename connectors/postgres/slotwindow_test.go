package postgres

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
)

// TestExportedSnapshotSurvivesSlotReleaseWindow stops the walsender with gdb inside the gap that
// cost CI 56 rows (see exportSnapshot): after CREATE_REPLICATION_SLOT dropped the slot's temporary
// data xmin, before it stopped flagging itself as a decoding process. There it updates every row
// and vacuums the table. Without the guard transaction the exported snapshot then sees 30 of the
// 2,000 rows on PostgreSQL 15.18; with it, all of them, unchanged.
func TestExportedSnapshotSurvivesSlotReleaseWindow(t *testing.T) {
	gdb := requireGDB(t)
	pg := newPG(t)
	const rows = 2000
	pg.exec(`CREATE TABLE u (id int PRIMARY KEY, v int NOT NULL, pad text)`)
	pg.exec(`INSERT INTO u SELECT g, 0, repeat('p', 100) FROM generate_series(1, $1::int) g`, rows)
	cfg, err := parseConfig(props(t, pg.dsn))
	if err != nil {
		t.Fatal(err)
	}
	pg.exec(`CREATE PUBLICATION ` + pgQuoteIdent(cfg.publication) + ` FOR ALL TABLES`)

	dir := t.TempDir()
	ready, inWindow, resume := filepath.Join(dir, "ready"), filepath.Join(dir, "in-window"), filepath.Join(dir, "resume")
	var debugger *exec.Cmd
	// The walsender leaves the window only when the test says so; the loop's bound makes sure gdb
	// detaches (and removes its breakpoints) even if the test dies first.
	waitResume := "shell for i in $(seq 600); do [ -e " + resume + " ] && break; sleep 0.05; done"
	handoffHook = func(step, _ string) {
		if step != "slot-creating" {
			return
		}
		var pid int
		pg.scalar(`SELECT pid FROM pg_stat_activity WHERE backend_type = 'walsender' AND datname = current_database()`, &pid)
		// PostgreSQL wakes backends with signals (SIGUSR1 for latches, SIGALRM for timeouts); gdb
		// stops on those by default, and a "continue" that ends on one instead of the breakpoint
		// put the walsender's stop before the consistent point on a busy server.
		debugger = exec.Command(gdb, "-p", strconv.Itoa(pid), "-batch",
			"-ex", "handle all nostop noprint pass",
			"-ex", "break ReplicationSlotRelease", "-ex", "shell touch "+ready, "-ex", "continue",
			// The next broadcast in ReplicationSlotRelease comes after the data xmin was dropped.
			"-ex", "break ConditionVariableBroadcast", "-ex", "continue",
			"-ex", "shell touch "+inWindow, "-ex", waitResume, "-ex", "detach")
		out, err := os.Create(filepath.Join(dir, "gdb.log"))
		if err != nil {
			t.Error(err)
			return
		}
		debugger.Stdout, debugger.Stderr = out, out
		if err := debugger.Start(); err != nil {
			t.Error(err)
			return
		}
		awaitFile(t, ready, debugger)
	}
	t.Cleanup(func() {
		handoffHook = nil
		if debugger != nil {
			_ = os.WriteFile(resume, nil, 0o644)
			_ = debugger.Wait()
		}
	})

	type result struct {
		exp *exportedSnapshot
		err error
	}
	done := make(chan result, 1)
	go func() {
		exp, err := exportSnapshot(context.Background(), cfg)
		done <- result{exp, err}
	}()
	if !awaitFileOrDone(inWindow, done) {
		r := <-done
		log, _ := os.ReadFile(filepath.Join(dir, "gdb.log"))
		t.Fatalf("the walsender never stopped inside ReplicationSlotRelease, nothing was tested (export: %v)\ngdb:\n%s", r.err, log)
	}
	pg.exec(`UPDATE u SET v = v + 1`)
	var updatedAt string
	pg.scalar(`SELECT pg_current_wal_lsn()::text`, &updatedAt)
	pg.exec(`VACUUM u`)
	if err := os.WriteFile(resume, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	defer r.exp.release()
	if after, err := pglogrepl.ParseLSN(updatedAt); err != nil || after <= r.exp.lsn {
		log, _ := os.ReadFile(filepath.Join(dir, "gdb.log"))
		t.Fatalf("the update (WAL at %s) did not come after the slot's consistent point %s: gdb stopped the walsender before the export, nothing was tested\ngdb:\n%s",
			updatedAt, r.exp.lsn, log)
	}

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var seen, sum int
	if _, err := conn.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SET TRANSACTION SNAPSHOT "+pgQuoteLiteral(r.exp.name)); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SELECT count(*), coalesce(sum(v), 0) FROM u`).Scan(&seen, &sum); err != nil {
		t.Fatal(err)
	}
	if seen != rows || sum != 0 {
		log, _ := os.ReadFile(filepath.Join(dir, "gdb.log"))
		t.Fatalf("the exported snapshot (consistent point %s) sees %d of %d rows with sum(v) = %d, want every row as it was before the update\ngdb:\n%s",
			r.exp.lsn, seen, rows, sum, log)
	}
}

// requireGDB returns gdb's path; without it the test is skipped, or fails under CI=true
// (scripts/testenv.sh installs it).
func requireGDB(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("gdb")
	if err == nil {
		return path
	}
	msg := "gdb is not installed; run `make testenv` (it installs Debian's gdb)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// awaitFile waits for gdb to create path, failing the test if gdb exits first or takes 30 s.
func awaitFile(t *testing.T, path string, gdb *exec.Cmd) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if gdb.ProcessState != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("gdb did not attach to the walsender within 30s")
}

// awaitFileOrDone waits until path exists (true) or the export finished without stopping (false).
func awaitFileOrDone[T any](path string, done chan T) bool {
	for {
		if _, err := os.Stat(path); err == nil {
			return true
		} else if !errors.Is(err, os.ErrNotExist) {
			return false
		}
		select {
		case r := <-done:
			done <- r
			return false
		case <-time.After(20 * time.Millisecond):
		}
	}
}
