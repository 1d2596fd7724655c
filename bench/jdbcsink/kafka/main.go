// Command kafka measures the JDBC sink end to end from a Kafka topic, as the issue asks: upsert N
// records of 8 columns (a share of them updates of keys written earlier) from a topic into
// PostgreSQL or MySQL/MariaDB (-db) through the real runtime (consumer group, JsonConverter with
// schemas for keys and values, Put, PreCommit), against a bare program loading the same rows: for
// PostgreSQL COPY into a staging table plus one INSERT … ON CONFLICT per batch, for MySQL
// multi-row INSERT … ON DUPLICATE KEY UPDATE statements of -chunk rows (also the sink's
// batch.size there) per batch. The baselines are ../main.go's, from bench/internal/sinkbaseline.
//
// The parent process starts the embedded broker and produces the records as schema-enabled JSON
// (untimed); then runtime and baseline runs alternate, each in a child process of its own (so its
// CPU and peak RSS exclude the broker) and into a fresh database. The runtime run is timed from
// StartSinkTask until the table holds the final row count and the sink's offsets table says every
// record was written; the baseline is timed inside its database calls only. Process CPU
// (getrusage) is read over the same spans; the database server's own CPU is in neither. Peak RSS
// is the child's VmHWM. With -inprocess everything runs in one process and the peak RSS, reset per
// phase (clear_refs), includes the in-memory broker holding the topic. The admin DSN (-pg or
// -mysql, by default the test bed's) must be able to create databases; each run makes and drops
// its own. Examples:
//
//	set -a; . ~/.cache/kconnect/testenv.env; set +a
//	go run ./bench/jdbcsink/kafka -rows 1000000 -rounds 2
//	go run ./bench/jdbcsink/kafka -db mysql -rows 1000000 -rounds 2
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"os"
	"os/exec"
	goruntime "runtime"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/bench/internal/rowgen"
	"github.com/kconnect/kconnect/bench/internal/sinkbaseline"
	"github.com/kconnect/kconnect/broker"
	"github.com/kconnect/kconnect/converters/jsonconverter"
	"github.com/kconnect/kconnect/internal/gctuning"
	"github.com/kconnect/kconnect/plugins"
	"github.com/kconnect/kconnect/runtime"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/offsets"
)

type options struct {
	db      string // sinkbaseline.Postgres or sinkbaseline.MySQL
	admin   string // the admin DSN of db's server
	rows    int
	batch   int
	chunk   int
	updates float64
	seed    uint64
}

// adminFlags name each database's admin DSN flag, for handing it to the children.
var adminFlags = map[string]string{sinkbaseline.Postgres: "pg", sinkbaseline.MySQL: "mysql"}

// result is one timed run, as a child reports it.
type result struct {
	Seconds float64       `json:"seconds"`
	CPU     time.Duration `json:"cpu"`
	RSSKB   int64         `json:"rss_kb"`   // VmHWM at the end of the run, reset at its start
	StartKB int64         `json:"start_kb"` // VmRSS at the start of the run
	Count   int64         `json:"count"`
}

func main() {
	gctuning.Apply() // the kconnect binary's GC policy, so the runtime runs as it does there
	var o options
	flag.StringVar(&o.db, "db", sinkbaseline.Postgres, "database to write to: postgres or mysql")
	pgDSN := flag.String("pg", os.Getenv("KCONNECT_TEST_POSTGRES_DSN"), "PostgreSQL admin DSN (postgres:// URL)")
	myDSN := flag.String("mysql", os.Getenv("KCONNECT_TEST_MYSQL_DSN"), "MySQL/MariaDB admin DSN (go-sql-driver form)")
	flag.IntVar(&o.rows, "rows", 1_000_000, "records to write")
	flag.IntVar(&o.batch, "batch", 10_000, "records per baseline transaction (and the unit the data generator avoids repeating a key in)")
	flag.IntVar(&o.chunk, "chunk", 1000, "MySQL rows per INSERT statement, for the baseline and the runtime's batch.size alike")
	flag.Float64Var(&o.updates, "updates", 0.10, "share of records that update a key written by an earlier batch")
	flag.Uint64Var(&o.seed, "seed", 1, "random seed of the data")
	rounds := flag.Int("rounds", 2, "runtime/baseline pairs to run")
	props := flag.String("props", "", "extra comma-separated key=value connector properties for the runtime run")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the first runtime run to this file")
	inProcess := flag.Bool("inprocess", false, "run the measurements in this process instead of one child process each")
	child := flag.String("child", "", "internal: run one measurement (runtime or baseline) and print its result")
	addr := flag.String("addr", "", "internal: the broker's address, for -child runtime")
	topicFlag := flag.String("topic", "", "internal: the topic, for -child runtime")
	roundFlag := flag.Int("round", 1, "internal: the round, for -child runtime")
	expectedFlag := flag.Int64("expected", 0, "internal: the final row count, for -child runtime")
	flag.Parse()
	switch o.db {
	case sinkbaseline.Postgres:
		o.admin = *pgDSN
	case sinkbaseline.MySQL:
		o.admin = *myDSN
	default:
		log.Fatalf("-db %q: want postgres or mysql", o.db)
	}
	if o.admin == "" {
		log.Fatalf("no %s DSN: set -pg / -mysql or the KCONNECT_TEST_* variables", o.db)
	}
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if *child != "" {
		var res result
		switch *child {
		case "runtime":
			res = runtimeRun(ctx, *addr, *topicFlag, *roundFlag, *expectedFlag, o, parseProps(*props), *cpuProfile, quiet)
		case "baseline":
			res = baselineRun(ctx, o)
		default:
			log.Fatalf("unknown -child %q", *child)
		}
		must(json.NewEncoder(os.Stdout).Encode(res))
		return
	}

	brk, err := broker.Start(broker.Options{Logger: slog.New(slog.DiscardHandler)})
	must(err)
	defer brk.Close()
	topic := fmt.Sprintf("bench-jdbcsink-%d", time.Now().UnixNano())
	start := time.Now()
	expected := produce(ctx, brk.Addr(), topic, o)
	fmt.Printf("%d records × 8 columns, %.0f%% updates → %d distinct keys in %s; produced to the embedded broker in %.1fs (untimed)\n",
		o.rows, o.updates*100, expected, o.db, time.Since(start).Seconds())
	if *inProcess {
		fmt.Printf("runtime and baseline run in this one process, alternately; peak RSS = VmHWM reset per phase (includes the in-memory broker)\n\n")
	} else {
		fmt.Printf("each run in a child process of its own (broker in the parent); peak RSS = the child's VmHWM\n\n")
	}
	fmt.Printf("%-8s %-9s %10s %9s %13s %12s %12s %9s\n", "round", "program", "rows/s", "seconds", "CPU-s/1M rows", "peak RSS", "RSS at start", "rows")

	var rt, base []result
	for round := 1; round <= *rounds; round++ {
		profile := ""
		if round == 1 {
			profile = *cpuProfile
		}
		var r, b result
		if *inProcess {
			r = runtimeRun(ctx, brk.Addr(), topic, round, expected, o, parseProps(*props), profile, quiet)
		} else {
			r = runChild(o, "-child", "runtime", "-addr", brk.Addr(), "-topic", topic, "-round", strconv.Itoa(round),
				"-expected", strconv.FormatInt(expected, 10), "-props", *props, "-cpuprofile", profile)
		}
		rt = append(rt, r)
		report(round, "runtime", r, o)
		if *inProcess {
			b = baselineRun(ctx, o)
		} else {
			b = runChild(o, "-child", "baseline")
		}
		base = append(base, b)
		report(round, "baseline", b, o)
		if r.Count != expected || b.Count != expected {
			log.Fatalf("row counts differ: runtime %d, baseline %d, want %d", r.Count, b.Count, expected)
		}
	}
	mr, mb := medianSeconds(rt), medianSeconds(base)
	fmt.Printf("\nmedian runtime %.0f rows/s, baseline %.0f rows/s, ratio %.2f (target ≥ 0.60)\n",
		float64(o.rows)/mr, float64(o.rows)/mb, mb/mr)
}

// runChild runs one measurement in a child process of this program and returns its result.
func runChild(o options, args ...string) result {
	exe, err := os.Executable()
	must(err)
	args = append(args, "-db", o.db, "-"+adminFlags[o.db], o.admin, "-chunk", strconv.Itoa(o.chunk),
		"-rows", strconv.Itoa(o.rows), "-batch", strconv.Itoa(o.batch),
		"-updates", strconv.FormatFloat(o.updates, 'f', -1, 64), "-seed", strconv.FormatUint(o.seed, 10))
	cmd := exec.Command(exe, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		log.Fatalf("%s: %v", strings.Join(args[:2], " "), err)
	}
	var res result
	must(json.Unmarshal(out, &res))
	return res
}

func report(round int, name string, r result, o options) {
	fmt.Printf("%-8d %-9s %10.0f %9.2f %13.2f %9.1f MB %9.1f MB %9d\n", round, name, float64(o.rows)/r.Seconds, r.Seconds,
		r.CPU.Seconds()*1e6/float64(o.rows), float64(r.RSSKB)/1024, float64(r.StartKB)/1024, r.Count)
}

func parseProps(s string) map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			out[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return out
}

// produce writes the generator's records to a new one-partition topic as schema-enabled JSON and
// returns the number of distinct keys among them.
func produce(ctx context.Context, addr, topic string, o options) int64 {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.ProducerBatchMaxBytes(1<<20), kgo.MaxBufferedRecords(100_000))
	must(err)
	defer cl.Close()
	_, err = kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, topic)
	must(err)
	conv := jsonconverter.New()
	must(conv.Configure(map[string]string{"schemas.enable": "true"}, false))
	errc := make(chan error, 1)
	onDone := func(_ *kgo.Record, err error) {
		if err != nil {
			select {
			case errc <- err:
			default:
			}
		}
	}
	g := rowgen.New(o.rows, o.batch, o.updates, o.seed)
	for rows := g.Batch(); rows != nil; rows = g.Batch() {
		for _, r := range rows {
			k, v := sinkbaseline.Record(r)
			kb, err := conv.FromConnectData(topic, sinkbaseline.KeySchema, k)
			must(err)
			vb, err := conv.FromConnectData(topic, sinkbaseline.ValueSchema, v)
			must(err)
			cl.Produce(ctx, &kgo.Record{Topic: topic, Key: kb, Value: vb}, onDone)
		}
	}
	must(cl.Flush(ctx))
	select {
	case err := <-errc:
		log.Fatalf("produce: %v", err)
	default:
	}
	return g.IDs()
}

// runtimeRun runs the sink through the worker into a fresh database until every record is in.
func runtimeRun(ctx context.Context, addr, topic string, round int, expected int64, o options,
	extra map[string]string, profile string, log *slog.Logger) result {
	dsn, drop := createDatabase(ctx, o)
	defer drop()
	conn, err := sinkbaseline.Connect(ctx, o.db, dsn)
	must(err)
	defer conn.Close()
	must(conn.CreateTable(ctx)) // the same table as the baseline's, not auto.create

	dir, err := os.MkdirTemp("", "kc-bench-jdbcsink-kafka")
	must(err)
	defer os.RemoveAll(dir)
	reg, err := plugins.Registry()
	must(err)
	store, err := offsets.OpenFile(dir + "/offsets")
	must(err)
	w, err := runtime.NewWorker("bench", map[string]string{
		"bootstrap.servers":              addr,
		"key.converter":                  "org.apache.kafka.connect.json.JsonConverter",
		"key.converter.schemas.enable":   "true",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable": "true",
	}, reg, store, log)
	must(err)
	defer w.Close()
	name := fmt.Sprintf("bench-jdbcsink-%d", round) // a new consumer group each round
	connProps := map[string]string{
		"name": name, "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector", "tasks.max": "1",
		"topics": topic, "connection.url": dsn, "table.name.format": sinkbaseline.Table,
		"pk.mode": "record_key", "insert.mode": "upsert",
		"key.converter": "org.apache.kafka.connect.json.JsonConverter", "key.converter.schemas.enable": "true",
		"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "true",
	}
	if o.db == sinkbaseline.MySQL {
		connProps["batch.size"] = strconv.Itoa(o.chunk) // the baseline's statement size
	}
	for k, v := range extra {
		connProps[k] = v
	}
	taskProps := map[string]string{"task.id": "0"}
	for k, v := range connProps {
		taskProps[k] = v
	}
	failed := make(chan error, 1)
	listener := func(_ herder.TaskID, state herder.State, err error) {
		if state == herder.Failed {
			select {
			case failed <- err:
			default:
			}
		}
	}

	startKB := resetPeak()
	if profile != "" {
		f, err := os.Create(profile)
		must(err)
		defer f.Close()
		must(pprof.StartCPUProfile(f))
	}
	// The offsets table holds the next offset to consume; it reaching N means every record is
	// committed, count(*) checks the rows did land.
	progress := fmt.Sprintf("SELECT (SELECT count(*) FROM %s), COALESCE((SELECT max(%s) FROM %s), -1)",
		conn.Quote(sinkbaseline.Table), conn.Quote("kafka_offset"), conn.Quote("kconnect_offsets"))
	cpu0 := sinkbaseline.CPUTime()
	start := time.Now()
	task, err := w.StartSinkTask(herder.TaskID{Connector: name}, connProps, taskProps, listener)
	must(err)
	var count, next int64
	for {
		select {
		case err := <-failed:
			log.Error("sink task failed", "err", err)
			os.Exit(1)
		default:
		}
		err := conn.QueryRow(ctx, progress, &count, &next)
		if err == nil && count >= expected && next >= int64(o.rows) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	elapsed := time.Since(start)
	cpu := sinkbaseline.CPUTime() - cpu0
	if profile != "" {
		pprof.StopCPUProfile()
	}
	res := result{Seconds: elapsed.Seconds(), CPU: cpu, RSSKB: peakKB(), StartKB: startKB, Count: count}
	stopCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	must(task.Stop(stopCtx))
	return res
}

// baselineRun loads the same rows with the bare program of o.db into a fresh database; only its
// database calls are timed, as in ../main.go.
func baselineRun(ctx context.Context, o options) result {
	dsn, drop := createDatabase(ctx, o)
	defer drop()
	conn, err := sinkbaseline.Connect(ctx, o.db, dsn)
	must(err)
	defer conn.Close()
	must(conn.CreateTable(ctx))
	startKB := resetPeak()
	spent, err := conn.Load(ctx, rowgen.New(o.rows, o.batch, o.updates, o.seed), o.chunk)
	must(err)
	count, err := conn.CountRows(ctx)
	must(err)
	return result{Seconds: spent.Wall.Seconds(), CPU: spent.CPU, RSSKB: peakKB(), StartKB: startKB, Count: count}
}

// createDatabase makes a fresh database for one run, so no run sees another's rows or offsets.
func createDatabase(ctx context.Context, o options) (string, func()) {
	dsn, drop, err := sinkbaseline.CreateDatabase(ctx, o.db, o.admin, "kc_bench_jdbcsink_kafka")
	must(err)
	return dsn, drop
}

// resetPeak returns memory left by earlier phases to the OS and resets VmHWM to the current RSS
// (Linux clear_refs "5"), returning that RSS in KiB.
func resetPeak() int64 {
	goruntime.GC()
	debug.FreeOSMemory()
	must(os.WriteFile("/proc/self/clear_refs", []byte("5"), 0))
	return procStatusKB("VmRSS:")
}

func peakKB() int64 { return procStatusKB("VmHWM:") }

func procStatusKB(field string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	must(err)
	for _, line := range bytes.Split(data, []byte("\n")) {
		if f := strings.Fields(string(line)); len(f) >= 2 && f[0] == field {
			n, err := strconv.ParseInt(f[1], 10, 64)
			must(err)
			return n
		}
	}
	log.Fatalf("%s not in /proc/self/status", field)
	return 0
}

func medianSeconds(rs []result) float64 {
	s := make([]float64, len(rs))
	for i, r := range rs {
		s[i] = r.Seconds
	}
	sort.Float64s(s)
	return s[len(s)/2]
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
