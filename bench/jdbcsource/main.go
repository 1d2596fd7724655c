// Command jdbcsource measures the JDBC source task against a bare pgx program reading the same
// rows with the same query: it loads a table of 8 mixed columns into PostgreSQL (once), then runs
// each reader in a child process of its own, so each peak RSS is its own, and prints rows per
// second, their ratio and the peak RSS of both.
//
//	go run ./bench/jdbcsource -dsn postgres://user:pass@127.0.0.1:15432/db -rows 1000000
//
// The DSN defaults to KCONNECT_TEST_POSTGRES_DSN. The task is driven the way the runtime drives
// it (Poll in a loop, Commit after each batch) but nothing is produced to Kafka; a third run adds
// the JSON converter's serialization of every record. The end-to-end figure through the worker
// and broker is measured separately.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connectors/jdbc/source"
	"github.com/kconnect/kconnect/converters/jsonconverter"
)

// result is what a child process reports to the parent.
type result struct {
	Rows    int64   `json:"rows"`
	Seconds float64 `json:"seconds"`
}

func main() {
	dsn := flag.String("dsn", os.Getenv("KCONNECT_TEST_POSTGRES_DSN"), "PostgreSQL DSN (postgres://...)")
	rows := flag.Int64("rows", 1_000_000, "rows in the table")
	table := flag.String("table", "kconnect_bench_jdbc_source", "table to load and read")
	batch := flag.Int("batch", 1000, "batch.max.rows for the task and rows per batch for the bare reader")
	role := flag.String("run", "", "internal: bare, task or task+json, to run one reader in this process")
	profile := flag.String("cpuprofile", "", "with -run, write a CPU profile of the reader to this file")
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	if *dsn == "" {
		fatal(fmt.Errorf("no -dsn and no KCONNECT_TEST_POSTGRES_DSN"))
	}
	ctx := context.Background()
	var err error
	switch *role {
	case "bare":
		err = report(bare(ctx, *dsn, *table, *rows, *batch))
	case "task", "task+json":
		err = report(task(*dsn, *table, *rows, *batch, *role == "task+json"))
	case "":
		err = compare(ctx, *dsn, *table, *rows, *batch)
	default:
		err = fmt.Errorf("-run %q: want bare or task", *role)
	}
	if err != nil {
		pprof.StopCPUProfile()
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "jdbcsource:", err)
	os.Exit(1)
}

func report(r result, err error) error {
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

func compare(ctx context.Context, dsn, table string, rows int64, batch int) error {
	if err := load(ctx, dsn, table, rows); err != nil {
		return fmt.Errorf("loading %s: %w", table, err)
	}
	type run struct {
		res    result
		maxRSS int64
	}
	runs := map[string]run{}
	// Each reader runs twice, alternating, and the faster run counts, to damp the noise of a
	// shared machine.
	for _, role := range []string{"bare", "task", "task+json", "bare", "task", "task+json"} {
		res, rss, err := child(role, dsn, table, rows, batch)
		if err != nil {
			return fmt.Errorf("%s reader: %w", role, err)
		}
		if prev, ok := runs[role]; !ok || res.Seconds < prev.res.Seconds {
			runs[role] = run{res, max(rss, prev.maxRSS)}
		} else {
			runs[role] = run{prev.res, max(rss, prev.maxRSS)}
		}
	}
	b, t, j := runs["bare"], runs["task"], runs["task+json"]
	rate := func(r run) float64 { return float64(r.res.Rows) / r.res.Seconds }
	fmt.Printf("rows: %d (8 columns), batch size %d\n", rows, batch)
	fmt.Printf("bare pgx read:             %10.0f rows/s  %6.2f s  peak RSS %4d MiB\n", rate(b), b.res.Seconds, b.maxRSS>>20)
	fmt.Printf("JDBC source Poll:          %10.0f rows/s  %6.2f s  peak RSS %4d MiB  ratio %.2f\n", rate(t), t.res.Seconds, t.maxRSS>>20, rate(t)/rate(b))
	fmt.Printf("Poll + JSON converter:     %10.0f rows/s  %6.2f s  peak RSS %4d MiB  ratio %.2f\n", rate(j), j.res.Seconds, j.maxRSS>>20, rate(j)/rate(b))
	return nil
}

// child runs one reader in a new process and returns its result and peak RSS in bytes.
func child(role, dsn, table string, rows int64, batch int) (result, int64, error) {
	self, err := os.Executable()
	if err != nil {
		return result{}, 0, err
	}
	cmd := exec.Command(self, "-run", role, "-dsn", dsn, "-table", table, "-rows", strconv.FormatInt(rows, 10), "-batch", strconv.Itoa(batch))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return result{}, 0, err
	}
	var r result
	if err := json.Unmarshal(out, &r); err != nil {
		return result{}, 0, fmt.Errorf("child output %q: %w", out, err)
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss * 1024 // kilobytes on Linux
	}
	return r, rss, nil
}

// load creates the table with 8 columns of mixed types and fills it, unless it already holds
// the requested number of rows.
func load(ctx context.Context, dsn, table string, rows int64) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	ident := pgx.Identifier{table}.Sanitize()
	var n int64
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+ident).Scan(&n); err == nil && n == rows {
		return nil
	}
	fmt.Fprintf(os.Stderr, "loading %d rows into %s\n", rows, table)
	for _, stmt := range []string{
		"DROP TABLE IF EXISTS " + ident,
		"CREATE TABLE " + ident + ` (
			id bigserial PRIMARY KEY,
			qty integer NOT NULL,
			account bigint NOT NULL,
			amount numeric(12,2) NOT NULL,
			ratio double precision,
			active boolean NOT NULL,
			name text NOT NULL,
			created timestamptz NOT NULL)`,
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return err
		}
	}
	_, err = conn.Exec(ctx, "INSERT INTO "+ident+` (qty, account, amount, ratio, active, name, created)
		SELECT g % 1000, g * 7919, (g % 100000) / 100.0, g / 3.0, g % 2 = 0, 'customer-' || md5(g::text),
		       '2024-01-01'::timestamptz + g * interval '1 second'
		FROM generate_series(1, $1::bigint) g`, rows)
	if err == nil {
		_, err = conn.Exec(ctx, "VACUUM ANALYZE "+ident)
	}
	return err
}

// bare reads the rows the way a hand-written pgx program would: the task's query, the same
// bound, typed scans, rows counted in batches of the same size.
func bare(ctx context.Context, dsn, table string, rows int64, batch int) (result, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return result{}, err
	}
	defer conn.Close(ctx)
	start := time.Now()
	q := `SELECT * FROM "public".` + pgx.Identifier{table}.Sanitize() + ` WHERE "id" <= $1 ORDER BY "id" ASC`
	rs, err := conn.Query(ctx, q, rows)
	if err != nil {
		return result{}, err
	}
	defer rs.Close()
	var (
		id, account int64
		qty         int32
		amount      pgtype.Numeric
		ratio       pgtype.Float8
		active      bool
		name        string
		created     time.Time
		n, batches  int64
	)
	inBatch := 0
	for rs.Next() {
		if err := rs.Scan(&id, &qty, &account, &amount, &ratio, &active, &name, &created); err != nil {
			return result{}, err
		}
		n++
		if inBatch++; inBatch == batch {
			batches++
			inBatch = 0
		}
	}
	if err := rs.Err(); err != nil {
		return result{}, err
	}
	return result{Rows: n, Seconds: time.Since(start).Seconds()}, nil
}

// taskContext is the minimal SourceTaskContext of a task started outside the runtime.
type taskContext struct{ log *slog.Logger }

func (c taskContext) Logger() *slog.Logger          { return c.log }
func (c taskContext) TaskID() int                   { return 0 }
func (c taskContext) ConnectorName() string         { return "bench" }
func (c taskContext) Offsets() connect.OffsetReader { return noOffsets{} }

type noOffsets struct{}

func (noOffsets) Offset(map[string]any) (map[string]any, error) { return nil, nil }

// task starts the JDBC source task on the table and polls until it has every row; with toJSON it
// also serializes every record value with the JSON converter (schemas enabled), as the worker would.
func task(dsn, table string, rows int64, batch int, toJSON bool) (result, error) {
	conv := jsonconverter.New()
	t := &source.Task{}
	props := map[string]string{
		"connection.url":           dsn,
		"mode":                     "incrementing",
		"incrementing.column.name": "id",
		"tables":                   `"public".` + pgx.Identifier{table}.Sanitize(),
		"tables.fetched":           "true",
		"topic.prefix":             "bench-",
		"batch.max.rows":           strconv.Itoa(batch),
		"poll.interval.ms":         "1000",
	}
	start := time.Now()
	ctx := taskContext{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := t.Start(ctx, props); err != nil {
		return result{}, err
	}
	defer t.Stop()
	var n int64
	pctx := context.Background()
	for n < rows {
		recs, err := t.Poll(pctx)
		if err != nil {
			return result{}, err
		}
		if len(recs) == 0 {
			continue
		}
		n += int64(len(recs))
		if toJSON {
			for i := range recs {
				if _, err := conv.FromConnectData(recs[i].Topic, recs[i].ValueSchema, recs[i].Value); err != nil {
					return result{}, err
				}
			}
		}
		last := recs[len(recs)-1]
		if err := t.Commit(pctx, []connect.SourceOffset{{Partition: last.SourcePartition, Offset: last.SourceOffset}}); err != nil {
			return result{}, err
		}
	}
	return result{Rows: n, Seconds: time.Since(start).Seconds()}, nil
}
