// Command postgrescdc measures the PostgreSQL CDC source against PostgreSQL's own tools, without
// Kafka: streaming N changes through the task's Poll loop versus pg_recvlogical writing the same
// pgoutput stream to a file, and snapshotting a table with snapshot.max.threads versus COPY TO
// STDOUT. It prints rows/s, the ratios and the process's peak RSS. Run one phase per process so
// the RSS is the phase's own:
//
//	go run ./bench/postgrescdc -dsn postgres://kconnect:kconnect@127.0.0.1:15432/postgres?sslmode=disable -phase stream
//	go run ./bench/postgrescdc -dsn ... -phase snapshot -rows 5000000
//
// The DSN's role must be a superuser; the command creates and drops a database of its own.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connectors/postgres"
)

func main() {
	dsn := flag.String("dsn", os.Getenv("KCONNECT_TEST_POSTGRES_DSN"), "superuser DSN (postgres:// URL)")
	phase := flag.String("phase", "stream", "stream or snapshot")
	changes := flag.Int("changes", 500_000, "changes to stream")
	rows := flag.Int("rows", 5_000_000, "rows to snapshot")
	threads := flag.Int("threads", 2, "snapshot.max.threads")
	recvlogical := flag.String("pg_recvlogical", findTool("pg_recvlogical"), "path of pg_recvlogical")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the kconnect part to this file")
	flag.Parse()
	profilePath = *cpuProfile
	ctx := context.Background()
	u, err := url.Parse(*dsn)
	if err != nil || *dsn == "" {
		log.Fatalf("-dsn must be a postgres:// URL: %v", err)
	}
	admin, err := pgx.Connect(ctx, *dsn)
	must(err)
	dbName := fmt.Sprintf("kc_bench_%d", time.Now().UnixNano())
	_, err = admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{dbName}.Sanitize())
	must(err)
	defer func() {
		_, _ = admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", dbName)
		_, _ = admin.Exec(ctx, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1", dbName)
		_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{dbName}.Sanitize()+" WITH (FORCE)")
	}()
	u.Path = "/" + dbName
	db, err := pgx.Connect(ctx, u.String())
	must(err)
	props := taskProps(u)
	switch *phase {
	case "stream":
		benchStream(ctx, db, u, props, *changes, *recvlogical)
	case "snapshot":
		benchSnapshot(ctx, db, props, *rows, *threads)
	default:
		log.Fatalf("unknown -phase %q", *phase)
	}
	fmt.Printf("peak RSS: %s\n", peakRSS())
}

func benchStream(ctx context.Context, db *pgx.Conn, u *url.URL, props map[string]string, n int, recvlogical string) {
	exec1(ctx, db, "CREATE TABLE stream_t (id bigint PRIMARY KEY, name text, amount numeric(12,2), at timestamptz)")
	exec1(ctx, db, "CREATE PUBLICATION bench_pub FOR ALL TABLES")
	exec1(ctx, db, "SELECT pg_create_logical_replication_slot('bench_recv', 'pgoutput')")
	exec1(ctx, db, "SELECT pg_create_logical_replication_slot('bench_kc', 'pgoutput')")
	const batch = 10_000
	for i := 0; i < n; i += batch {
		exec1(ctx, db, `INSERT INTO stream_t SELECT g, 'name ' || g, g / 100.0, now() FROM generate_series($1::bigint, $2::bigint) g`, i+1, min(i+batch, n))
	}
	var end string
	must(db.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&end))

	out := filepath.Join(os.TempDir(), "kc_bench_recvlogical.out")
	defer os.Remove(out)
	pw, _ := u.User.Password()
	cmd := exec.Command(recvlogical, "-d", strings.TrimPrefix(u.Path, "/"), "-h", u.Hostname(), "-p", u.Port(), "-U", u.User.Username(),
		"-S", "bench_recv", "--start", "-E", end, "-f", out, "--no-loop", "-o", "proto_version=1", "-o", "publication_names=bench_pub")
	cmd.Env = append(os.Environ(), "PGPASSWORD="+pw)
	cmd.Stderr = os.Stderr
	start := time.Now()
	must(cmd.Run())
	recvDur := time.Since(start)

	props["slot.name"] = "bench_kc"
	props["publication.name"] = "bench_pub"
	props["snapshot.mode"] = "no_data"
	task := startTask(props)
	start = time.Now()
	got := 0
	for got < n {
		recs, err := task.Poll(ctx)
		must(err)
		got += len(recs)
		if len(recs) > 0 {
			last := recs[len(recs)-1]
			must(task.Commit(ctx, []connect.SourceOffset{{Partition: last.SourcePartition, Offset: last.SourceOffset}}))
		}
	}
	kcDur := time.Since(start)
	must(task.Stop())
	recvRate := float64(n) / recvDur.Seconds()
	kcRate := float64(n) / kcDur.Seconds()
	fmt.Printf("streaming %d changes: pg_recvlogical %.0f rows/s (%v), kconnect Poll loop %.0f rows/s (%v), ratio %.2f (target >= 0.5)\n",
		n, recvRate, recvDur.Round(time.Millisecond), kcRate, kcDur.Round(time.Millisecond), kcRate/recvRate)
}

func benchSnapshot(ctx context.Context, db *pgx.Conn, props map[string]string, n, threads int) {
	exec1(ctx, db, "CREATE TABLE snap_t (id bigint PRIMARY KEY, name text, amount numeric(12,2), at timestamptz)")
	exec1(ctx, db, `INSERT INTO snap_t SELECT g, 'name ' || g, g / 100.0, now() FROM generate_series(1, $1::bigint) g`, n)
	exec1(ctx, db, "VACUUM ANALYZE snap_t")

	start := time.Now()
	_, err := db.PgConn().CopyTo(ctx, io.Discard, "COPY snap_t TO STDOUT")
	must(err)
	copyDur := time.Since(start)

	props["snapshot.mode"] = "initial_only"
	props["snapshot.max.threads"] = fmt.Sprint(threads)
	props["slot.name"] = "bench_snap"
	props["slot.drop.on.stop"] = "true"
	task := startTask(props)
	stopProfile := profile()
	start = time.Now()
	got := 0
	for done := false; !done; {
		recs, err := task.Poll(ctx)
		must(err)
		got += len(recs)
		for _, r := range recs {
			if r.SourceOffset["last_snapshot_record"] == true {
				done = true
			}
		}
	}
	kcDur := time.Since(start)
	stopProfile()
	must(task.Stop())
	copyRate := float64(n) / copyDur.Seconds()
	kcRate := float64(got) / kcDur.Seconds()
	fmt.Printf("snapshot of %d rows: COPY TO STDOUT %.0f rows/s (%v), kconnect (%d threads) %.0f rows/s (%v), ratio %.2f (target >= 0.3)\n",
		n, copyRate, copyDur.Round(time.Millisecond), threads, kcRate, kcDur.Round(time.Millisecond), kcRate/copyRate)
}

// taskContext is the minimal runtime handle the task needs: no stored offsets.
type taskContext struct{}

func (taskContext) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
func (taskContext) TaskID() int                   { return 0 }
func (taskContext) ConnectorName() string         { return "bench" }
func (taskContext) Offsets() connect.OffsetReader { return noOffsets{} }

type noOffsets struct{}

func (noOffsets) Offset(map[string]any) (map[string]any, error) { return nil, nil }

func startTask(props map[string]string) connect.SourceTask {
	task := (&postgres.Connector{}).NewTask()
	must(task.Start(taskContext{}, props))
	return task
}

func taskProps(u *url.URL) map[string]string {
	pw, _ := u.User.Password()
	return map[string]string{
		"database.hostname": u.Hostname(), "database.port": u.Port(), "database.user": u.User.Username(),
		"database.password": pw, "database.dbname": strings.TrimPrefix(u.Path, "/"), "database.sslmode": "disable",
		"topic.prefix": "bench", "max.batch.size": "4096", "max.queue.size": "16384", "publication.name": "bench_pub",
	}
}

func exec1(ctx context.Context, db *pgx.Conn, sql string, args ...any) {
	if _, err := db.Exec(ctx, sql, args...); err != nil {
		log.Fatalf("%s: %v", sql, err)
	}
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func findTool(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	if len(matches) > 0 {
		return matches[len(matches)-1]
	}
	return name
}

// peakRSS returns VmHWM from /proc/self/status (Linux).
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:"))
		}
	}
	return "unknown"
}

var profilePath string

// profile starts the CPU profile, if one was asked for, and returns the function that ends it.
func profile() func() {
	if profilePath == "" {
		return func() {}
	}
	f, err := os.Create(profilePath)
	must(err)
	must(pprof.StartCPUProfile(f))
	return func() {
		pprof.StopCPUProfile()
		must(f.Close())
	}
}
