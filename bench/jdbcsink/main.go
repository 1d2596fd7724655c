// Command jdbcsink measures the JDBC sink's write path against bare programs doing the same
// database work: N records of 8 columns, a share of them updates of keys written by earlier
// batches, upserted batch by batch, each batch one transaction.
//
//   - PostgreSQL baseline: COPY into a temporary staging table plus one INSERT … ON CONFLICT per batch.
//   - MySQL baseline: multi-row INSERT … ON DUPLICATE KEY UPDATE statements per batch.
//     Both live in bench/internal/sinkbaseline, shared with the end-to-end benchmark in ./kafka.
//   - task: the sink task's Put (and PreCommit) with pk.mode=record_key, insert.mode=upsert and
//     the exactly-once offsets table on, as configured by default.
//
// Records are handed to Put directly (no Kafka). Only the time inside the database calls (Put and
// PreCommit for the task) is measured; generating the data is not. Each measurement runs in its
// own process so its peak RSS is its own. Example, with the test bed's addresses:
//
//	set -a; . ~/.cache/kconnect/testenv.env; set +a
//	go run ./bench/jdbcsink -db postgres,mysql -rows 1000000
//	go run ./bench/jdbcsink -db mysql -rows 1000000 -chunk 3000
//
// The same comparison from a Kafka topic through the runtime is ./kafka (go run
// ./bench/jdbcsink/kafka -db postgres|mysql).
// The DSNs' users must be able to create databases; the command creates and drops its own.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kconnect/kconnect/bench/internal/rowgen"
	"github.com/kconnect/kconnect/bench/internal/sinkbaseline"
	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connectors/jdbc/sink"
	"github.com/kconnect/kconnect/internal/gctuning"
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
	gctuning.Apply() // the kconnect binary's GC policy, so the runtime runs as it does there
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
			target, drop, err := sinkbaseline.CreateDatabase(context.Background(), db, admin, "kc_bench_jdbcsink")
			must(err)
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

func measure(ctx context.Context, db, mode, dsn string, o options) (result, error) {
	conn, err := sinkbaseline.Connect(ctx, db, dsn)
	if err != nil {
		return result{}, err
	}
	defer conn.Close()
	if err := conn.CreateTable(ctx); err != nil {
		return result{}, err
	}
	g := rowgen.New(o.rows, o.batch, o.updates, o.seed)
	var elapsed time.Duration
	switch mode {
	case "baseline":
		spent, err := conn.Load(ctx, g, o.chunk)
		if err != nil {
			return result{}, err
		}
		elapsed = spent.Wall
	case "task":
		if elapsed, err = taskRun(ctx, dsn, g, o); err != nil {
			return result{}, err
		}
	default:
		return result{}, fmt.Errorf("unknown measurement %s:%s", db, mode)
	}
	count, err := conn.CountRows(ctx)
	if err != nil {
		return result{}, err
	}
	return result{Rows: o.rows, Seconds: elapsed.Seconds(), Count: count}, nil
}

// taskRun hands g's batches to the sink task's Put and PreCommit and returns the time spent there.
func taskRun(ctx context.Context, dsn string, g *rowgen.Generator, o options) (time.Duration, error) {
	tctx := &taskContext{log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	task := sink.Plugins()[0].New().(connect.SinkConnector).NewTask()
	props := map[string]string{
		"connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector", "connection.url": dsn, "table.name.format": sinkbaseline.Table,
		"pk.mode": "record_key", "insert.mode": "upsert", "batch.size": strconv.Itoa(o.chunk),
	}
	if err := task.Start(tctx, props); err != nil {
		return 0, err
	}
	defer task.Stop()
	tp := connect.TopicPartition{Topic: "bench", Partition: 0}
	if err := task.(connect.PartitionListener).Open(ctx, []connect.TopicPartition{tp}); err != nil {
		return 0, err
	}
	var elapsed time.Duration
	offset := int64(0)
	for rows := g.Batch(); rows != nil; rows = g.Batch() {
		recs := make([]connect.SinkRecord, len(rows))
		for i, r := range rows {
			k, v := sinkbaseline.Record(r)
			recs[i] = connect.SinkRecord{Record: connect.Record{Topic: tp.Topic, Partition: tp.Partition, Offset: offset,
				KeySchema: sinkbaseline.KeySchema, Key: k, ValueSchema: sinkbaseline.ValueSchema, Value: v}}
			offset++
		}
		start := time.Now()
		if err := task.Put(ctx, recs); err != nil {
			return 0, err
		}
		committed, err := task.PreCommit(ctx, map[connect.TopicPartition]int64{tp: offset})
		if err != nil {
			return 0, err
		}
		elapsed += time.Since(start)
		if committed[tp] != offset {
			return 0, fmt.Errorf("PreCommit returned %d, want %d", committed[tp], offset)
		}
	}
	return elapsed, nil
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
