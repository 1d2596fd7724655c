// Command jdbcsink measures the JDBC sink's write path against bare programs doing the same
// database work: N records of 8 columns, a share of them updates of keys written by earlier
// batches, upserted batch by batch, each batch one transaction.
//
//   - PostgreSQL baseline: COPY into a temporary staging table plus one INSERT … ON CONFLICT per batch.
//   - MySQL baseline: multi-row INSERT … ON DUPLICATE KEY UPDATE statements per batch.
//   - task: the sink task's Put (and PreCommit) with pk.mode=record_key, insert.mode=upsert and
//     the exactly-once offsets table on, as configured by default.
//
// Records are handed to Put directly (no Kafka). Only the time inside the database calls (Put and
// PreCommit for the task) is measured; generating the data is not. Each measurement runs in its
// own process so its peak RSS is its own. Example, with the test bed's addresses:
//
//	set -a; . ~/.cache/kconnect/testenv.env; set +a
//	go run ./bench/jdbcsink -db postgres,mysql -rows 1000000
//
// The DSNs' users must be able to create databases; the command creates and drops its own.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/kconnect/kconnect/bench/internal/rowgen"
	"log"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connectors/jdbc/sink"
)

type options struct {
	rows    int
	batch   int
	updates float64
	chunk   int
	seed    uint64
}

// result is what a child process reports.
type result struct {
	Rows     int     `json:"rows"`
	Seconds  float64 `json:"seconds"`
	MaxRSSKB int64   `json:"max_rss_kb"`
	Count    int64   `json:"count"`
}

func main() {
	var o options
	dbs := flag.String("db", "postgres,mysql", "comma-separated: postgres, mysql")
	pgDSN := flag.String("pg", os.Getenv("KCONNECT_TEST_POSTGRES_DSN"), "PostgreSQL admin DSN (postgres:// URL)")
	myDSN := flag.String("mysql", os.Getenv("KCONNECT_TEST_MYSQL_DSN"), "MySQL/MariaDB admin DSN (go-sql-driver form)")
	flag.IntVar(&o.rows, "rows", 1_000_000, "records to write")
	flag.IntVar(&o.batch, "batch", 10_000, "records per batch (per Put, per baseline transaction)")
	flag.Float64Var(&o.updates, "updates", 0.10, "share of records that update a key written by an earlier batch")
	flag.IntVar(&o.chunk, "chunk", 1000, "MySQL rows per INSERT statement, for the baseline and the task's batch.size alike")
	flag.Uint64Var(&o.seed, "seed", 1, "random seed of the data")
	child := flag.String("child", "", "internal: run one measurement (db:mode) against -target")
	target := flag.String("target", "", "internal: DSN of the measurement's database")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of each measurement to this path prefix")
	flag.Parse()

	if *child != "" {
		if *cpuProfile != "" {
			f, err := os.Create(*cpuProfile + "." + strings.ReplaceAll(*child, ":", "-") + ".pprof")
			must(err)
			must(pprof.StartCPUProfile(f))
			defer pprof.StopCPUProfile()
		}
		db, mode, _ := strings.Cut(*child, ":")
		res, err := measure(context.Background(), db, mode, *target, o)
		if err != nil {
			log.Fatalf("%s: %v", *child, err)
		}
		res.MaxRSSKB = maxRSS()
		must(json.NewEncoder(os.Stdout).Encode(res))
		return
	}
	profile = *cpuProfile

	fmt.Printf("%d records × 8 columns, %.0f%% updates, %d records per batch\n\n", o.rows, o.updates*100, o.batch)
	fmt.Printf("%-9s %-9s %12s %10s %12s %10s\n", "database", "program", "rows/s", "seconds", "peak RSS", "rows")
	for _, db := range strings.Split(*dbs, ",") {
		admin := map[string]string{"postgres": *pgDSN, "mysql": *myDSN}[db]
		if admin == "" {
			log.Fatalf("no DSN for %s: set -pg / -mysql or the KCONNECT_TEST_* variables", db)
		}
		var base, task result
		for _, mode := range []string{"baseline", "task"} {
			target, drop := createDatabase(db, admin)
			res := runChild(db, mode, target, o)
			drop()
			fmt.Printf("%-9s %-9s %12.0f %10.2f %9.1f MB %10d\n", db, mode, float64(res.Rows)/res.Seconds, res.Seconds, float64(res.MaxRSSKB)/1024, res.Count)
			if mode == "baseline" {
				base = res
			} else {
				task = res
			}
		}
		fmt.Printf("%-9s task/baseline rows/s ratio: %.2f\n\n", db, base.Seconds/task.Seconds)
	}
}

// profile is the -cpuprofile prefix handed to the children.
var profile string

func runChild(db, mode, target string, o options) result {
	exe, err := os.Executable()
	must(err)
	args := []string{"-child", db + ":" + mode, "-target", target, "-rows", strconv.Itoa(o.rows), "-batch", strconv.Itoa(o.batch),
		"-updates", strconv.FormatFloat(o.updates, 'f', -1, 64), "-chunk", strconv.Itoa(o.chunk), "-seed", strconv.FormatUint(o.seed, 10),
		"-cpuprofile", profile}
	cmd := exec.Command(exe, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		log.Fatalf("%s %s: %v", db, mode, err)
	}
	var res result
	must(json.Unmarshal(out, &res))
	return res
}

// createDatabase makes a database for the run and returns its DSN and a function dropping it.
func createDatabase(db, admin string) (string, func()) {
	ctx := context.Background()
	name := fmt.Sprintf("kc_bench_jdbcsink_%d", time.Now().UnixNano())
	if db == "mysql" {
		conn, err := sql.Open("mysql", admin)
		must(err)
		_, err = conn.ExecContext(ctx, "CREATE DATABASE `"+name+"`")
		must(err)
		cfg, err := mysql.ParseDSN(admin)
		must(err)
		cfg.DBName = name
		return cfg.FormatDSN(), func() {
			_, _ = conn.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`")
			conn.Close()
		}
	}
	conn, err := pgx.Connect(ctx, admin)
	must(err)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	must(err)
	u, err := url.Parse(admin)
	must(err)
	u.Path = "/" + name
	return u.String(), func() {
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		conn.Close(ctx)
	}
}

// The measured table; both programs write the same columns with the same types.
const (
	pgDDL = `CREATE TABLE "bench" ("id" BIGINT PRIMARY KEY, "name" TEXT NOT NULL, "email" TEXT NOT NULL, "qty" INT NOT NULL,
		"price" DOUBLE PRECISION NOT NULL, "score" DOUBLE PRECISION NOT NULL, "active" BOOLEAN NOT NULL, "created" TIMESTAMP NOT NULL)`
	myDDL = "CREATE TABLE `bench` (`id` BIGINT PRIMARY KEY, `name` VARCHAR(64) NOT NULL, `email` VARCHAR(64) NOT NULL, `qty` INT NOT NULL, " +
		"`price` DOUBLE NOT NULL, `score` DOUBLE NOT NULL, `active` BOOLEAN NOT NULL, `created` DATETIME(3) NOT NULL)"
)

var columns = []string{"id", "name", "email", "qty", "price", "score", "active", "created"}

func measure(ctx context.Context, db, mode, dsn string, o options) (result, error) {
	switch {
	case db == "postgres" && mode == "baseline":
		return pgBaseline(ctx, dsn, o)
	case db == "mysql" && mode == "baseline":
		return myBaseline(ctx, dsn, o)
	case mode == "task":
		return taskRun(ctx, db, dsn, o)
	}
	return result{}, fmt.Errorf("unknown measurement %s:%s", db, mode)
}

func pgBaseline(ctx context.Context, dsn string, o options) (result, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return result{}, err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, pgDDL); err != nil {
		return result{}, err
	}
	if _, err := conn.Exec(ctx, `CREATE TEMP TABLE "stage" ON COMMIT DELETE ROWS AS SELECT * FROM "bench" WITH NO DATA`); err != nil {
		return result{}, err
	}
	var sets []string
	for _, c := range columns[1:] {
		sets = append(sets, fmt.Sprintf(`%q = EXCLUDED.%q`, c, c))
	}
	merge := `INSERT INTO "bench" SELECT * FROM "stage" ON CONFLICT ("id") DO UPDATE SET ` + strings.Join(sets, ", ")
	g := rowgen.New(o.rows, o.batch, o.updates, o.seed)
	var elapsed time.Duration
	for rows := g.Batch(); rows != nil; rows = g.Batch() {
		values := make([][]any, len(rows))
		for i, r := range rows {
			values[i] = []any{r.ID, r.Name, r.Email, r.Qty, r.Price, r.Score, r.Active, r.Created}
		}
		start := time.Now()
		tx, err := conn.Begin(ctx)
		if err != nil {
			return result{}, err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"stage"}, columns, pgx.CopyFromRows(values)); err != nil {
			return result{}, err
		}
		if _, err := tx.Exec(ctx, merge); err != nil {
			return result{}, err
		}
		if err := tx.Commit(ctx); err != nil {
			return result{}, err
		}
		elapsed += time.Since(start)
	}
	var count int64
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM "bench"`).Scan(&count); err != nil {
		return result{}, err
	}
	return result{Rows: o.rows, Seconds: elapsed.Seconds(), Count: count}, nil
}

func myBaseline(ctx context.Context, dsn string, o options) (result, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return result{}, err
	}
	cfg.InterpolateParams = true // one round trip per statement, as a tuned program would
	cfg.MaxAllowedPacket = 0
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return result{}, err
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, myDDL); err != nil {
		return result{}, err
	}
	var sets []string
	for _, c := range columns[1:] {
		sets = append(sets, fmt.Sprintf("`%s`=VALUES(`%s`)", c, c))
	}
	statement := func(n int) string {
		tuple := "(" + strings.TrimSuffix(strings.Repeat("?,", len(columns)), ",") + ")"
		return "INSERT INTO `bench` (`" + strings.Join(columns, "`,`") + "`) VALUES " +
			strings.TrimSuffix(strings.Repeat(tuple+",", n), ",") + " ON DUPLICATE KEY UPDATE " + strings.Join(sets, ",")
	}
	full := statement(o.chunk)
	g := rowgen.New(o.rows, o.batch, o.updates, o.seed)
	var elapsed time.Duration
	args := make([]any, 0, o.chunk*len(columns))
	for rows := g.Batch(); rows != nil; rows = g.Batch() {
		start := time.Now()
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return result{}, err
		}
		for i := 0; i < len(rows); i += o.chunk {
			part := rows[i:min(i+o.chunk, len(rows))]
			args = args[:0]
			for _, r := range part {
				args = append(args, r.ID, r.Name, r.Email, r.Qty, r.Price, r.Score, r.Active, r.Created)
			}
			q := full
			if len(part) != o.chunk {
				q = statement(len(part))
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return result{}, err
			}
		}
		if err := tx.Commit(); err != nil {
			return result{}, err
		}
		elapsed += time.Since(start)
	}
	var count int64
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM `bench`").Scan(&count); err != nil {
		return result{}, err
	}
	return result{Rows: o.rows, Seconds: elapsed.Seconds(), Count: count}, nil
}

var (
	keySchema   = connect.StructBuilder().Name("bench.Key").Field("id", connect.Int64Schema).MustBuild()
	valueSchema = connect.StructBuilder().Name("bench.Value").
			Field("id", connect.Int64Schema).
			Field("name", connect.StringSchema).
			Field("email", connect.StringSchema).
			Field("qty", connect.Int32Schema).
			Field("price", connect.Float64Schema).
			Field("score", connect.Float64Schema).
			Field("active", connect.BooleanSchema).
			Field("created", connect.TimestampSchema().MustBuild()).MustBuild()
)

func taskRun(ctx context.Context, db, dsn string, o options) (result, error) {
	// The table is created the same way as for the baseline, not by auto.create.
	if db == "mysql" {
		conn, err := sql.Open("mysql", dsn)
		if err != nil {
			return result{}, err
		}
		if _, err := conn.ExecContext(ctx, myDDL); err != nil {
			return result{}, err
		}
		conn.Close()
	} else {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return result{}, err
		}
		if _, err := conn.Exec(ctx, pgDDL); err != nil {
			return result{}, err
		}
		conn.Close(ctx)
	}
	tctx := &taskContext{log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	task := sink.Plugins()[0].New().(connect.SinkConnector).NewTask()
	props := map[string]string{
		"connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector", "connection.url": dsn, "table.name.format": "bench",
		"pk.mode": "record_key", "insert.mode": "upsert", "batch.size": strconv.Itoa(o.chunk),
	}
	if err := task.Start(tctx, props); err != nil {
		return result{}, err
	}
	defer task.Stop()
	tp := connect.TopicPartition{Topic: "bench", Partition: 0}
	if err := task.(connect.PartitionListener).Open(ctx, []connect.TopicPartition{tp}); err != nil {
		return result{}, err
	}
	g := rowgen.New(o.rows, o.batch, o.updates, o.seed)
	var elapsed time.Duration
	offset := int64(0)
	for rows := g.Batch(); rows != nil; rows = g.Batch() {
		recs := make([]connect.SinkRecord, len(rows))
		for i, r := range rows {
			v := connect.NewStruct(valueSchema)
			v.SetAt(0, r.ID)
			v.SetAt(1, r.Name)
			v.SetAt(2, r.Email)
			v.SetAt(3, r.Qty)
			v.SetAt(4, r.Price)
			v.SetAt(5, r.Score)
			v.SetAt(6, r.Active)
			v.SetAt(7, r.Created)
			k := connect.NewStruct(keySchema)
			k.SetAt(0, r.ID)
			recs[i] = connect.SinkRecord{Record: connect.Record{Topic: tp.Topic, Partition: tp.Partition, Offset: offset,
				KeySchema: keySchema, Key: k, ValueSchema: valueSchema, Value: v}}
			offset++
		}
		start := time.Now()
		if err := task.Put(ctx, recs); err != nil {
			return result{}, err
		}
		committed, err := task.PreCommit(ctx, map[connect.TopicPartition]int64{tp: offset})
		if err != nil {
			return result{}, err
		}
		elapsed += time.Since(start)
		if committed[tp] != offset {
			return result{}, fmt.Errorf("PreCommit returned %d, want %d", committed[tp], offset)
		}
	}
	count, err := countRows(ctx, db, dsn)
	if err != nil {
		return result{}, err
	}
	return result{Rows: o.rows, Seconds: elapsed.Seconds(), Count: count}, nil
}

func countRows(ctx context.Context, db, dsn string) (int64, error) {
	var n int64
	if db == "mysql" {
		conn, err := sql.Open("mysql", dsn)
		if err != nil {
			return 0, err
		}
		defer conn.Close()
		return n, conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM `bench`").Scan(&n)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	return n, conn.QueryRow(ctx, `SELECT count(*) FROM "bench"`).Scan(&n)
}

// taskContext is the little of the runtime the task needs here.
type taskContext struct{ log *slog.Logger }

func (c *taskContext) Logger() *slog.Logger                               { return c.log }
func (c *taskContext) TaskID() int                                        { return 0 }
func (c *taskContext) ConnectorName() string                              { return "bench-jdbcsink" }
func (c *taskContext) Seek(map[connect.TopicPartition]int64)              {}
func (c *taskContext) Assignment() []connect.TopicPartition               { return nil }
func (c *taskContext) RequestCommit()                                     {}
func (c *taskContext) ErrantRecordReporter() connect.ErrantRecordReporter { return nil }

func maxRSS() int64 {
	var ru syscall.Rusage
	must(syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return ru.Maxrss // kilobytes on Linux
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
