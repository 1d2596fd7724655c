// Command kafka measures the JDBC sink end to end from a Kafka topic, as the issue asks: upsert N
// records of 8 columns (a share of them updates of keys written earlier) from a topic into
// PostgreSQL through the real runtime (consumer group, JsonConverter with schemas for keys and
// values, Put, PreCommit), against a bare program loading the same rows with COPY into a staging
// table plus one INSERT … ON CONFLICT per batch (the baseline of ../main.go).
//
// The parent process starts the embedded broker and produces the records as schema-enabled JSON
// (untimed); then runtime and baseline runs alternate, each in a child process of its own (so its
// CPU and peak RSS exclude the broker) and into a fresh database. The runtime run is timed from
// StartSinkTask until the table holds the final row count and the sink's offsets table says every
// record was written; the baseline is timed inside its
// database calls only. Process CPU (getrusage) is read over the same spans; PostgreSQL's own CPU
// is in neither. Peak RSS is the child's VmHWM. With -inprocess everything runs in one process and
// the peak RSS, reset per phase (clear_refs), includes the in-memory broker holding the topic.
// Example:
//
//	set -a; . ~/.cache/kconnect/testenv.env; set +a
//	go run ./bench/jdbcsink/kafka -rows 1000000 -rounds 2
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/kconnect/kconnect/bench/internal/rowgen"
	"log"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	goruntime "runtime"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/broker"
	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters/jsonconverter"
	"github.com/kconnect/kconnect/plugins"
	"github.com/kconnect/kconnect/runtime"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/offsets"
)

type options struct {
	rows    int
	batch   int
	updates float64
	seed    uint64
}

// result is one timed run, as a child reports it.
type result struct {
	Seconds float64       `json:"seconds"`
	CPU     time.Duration `json:"cpu"`
	RSSKB   int64         `json:"rss_kb"`   // VmHWM at the end of the run, reset at its start
	StartKB int64         `json:"start_kb"` // VmRSS at the start of the run
	Count   int64         `json:"count"`
}

func main() {
	var o options
	admin := flag.String("pg", os.Getenv("KCONNECT_TEST_POSTGRES_DSN"), "PostgreSQL admin DSN (postgres:// URL)")
	flag.IntVar(&o.rows, "rows", 1_000_000, "records to write")
	flag.IntVar(&o.batch, "batch", 10_000, "records per baseline transaction (and the unit the data generator avoids repeating a key in)")
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
	if *admin == "" {
		log.Fatal("no PostgreSQL DSN: set -pg or KCONNECT_TEST_POSTGRES_DSN")
	}
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if *child != "" {
		var res result
		switch *child {
		case "runtime":
			res = runtimeRun(ctx, *admin, *addr, *topicFlag, *roundFlag, *expectedFlag, o, parseProps(*props), *cpuProfile, quiet)
		case "baseline":
			res = baselineRun(ctx, *admin, o)
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
	fmt.Printf("%d records × 8 columns, %.0f%% updates → %d distinct keys; produced to the embedded broker in %.1fs (untimed)\n",
		o.rows, o.updates*100, expected, time.Since(start).Seconds())
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
			r = runtimeRun(ctx, *admin, brk.Addr(), topic, round, expected, o, parseProps(*props), profile, quiet)
		} else {
			r = runChild(o, "-child", "runtime", "-pg", *admin, "-addr", brk.Addr(), "-topic", topic, "-round", strconv.Itoa(round),
				"-expected", strconv.FormatInt(expected, 10), "-props", *props, "-cpuprofile", profile)
		}
		rt = append(rt, r)
		report(round, "runtime", r, o)
		if *inProcess {
			b = baselineRun(ctx, *admin, o)
		} else {
			b = runChild(o, "-child", "baseline", "-pg", *admin)
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
	args = append(args, "-rows", strconv.Itoa(o.rows), "-batch", strconv.Itoa(o.batch),
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
			kb, err := conv.FromConnectData(topic, keySchema, k)
			must(err)
			vb, err := conv.FromConnectData(topic, valueSchema, v)
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

const pgDDL = `CREATE TABLE "bench" ("id" BIGINT PRIMARY KEY, "name" TEXT NOT NULL, "email" TEXT NOT NULL, "qty" INT NOT NULL,
	"price" DOUBLE PRECISION NOT NULL, "score" DOUBLE PRECISION NOT NULL, "active" BOOLEAN NOT NULL, "created" TIMESTAMP NOT NULL)`

var columns = []string{"id", "name", "email", "qty", "price", "score", "active", "created"}

// runtimeRun runs the sink through the worker into a fresh database until every record is in.
func runtimeRun(ctx context.Context, admin, addr, topic string, round int, expected int64, o options,
	extra map[string]string, profile string, log *slog.Logger) result {
	dsn, drop := createDatabase(ctx, admin)
	defer drop()
	conn, err := pgx.Connect(ctx, dsn)
	must(err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, pgDDL) // the same table as the baseline's, not auto.create
	must(err)

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
		"topics": topic, "connection.url": dsn, "table.name.format": "bench",
		"pk.mode": "record_key", "insert.mode": "upsert",
		"key.converter": "org.apache.kafka.connect.json.JsonConverter", "key.converter.schemas.enable": "true",
		"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "true",
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
	cpu0 := cpuTime()
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
		// The offsets table holds the next offset to consume; it reaching N means every record
		// is committed, count(*) checks the rows did land.
		err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM "bench"),
			COALESCE((SELECT max("kafka_offset") FROM "kconnect_offsets"), -1)`).Scan(&count, &next)
		if err == nil && count >= expected && next >= int64(o.rows) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	if profile != "" {
		pprof.StopCPUProfile()
	}
	res := result{Seconds: elapsed.Seconds(), CPU: cpu, RSSKB: peakKB(), StartKB: startKB, Count: count}
	stopCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	must(task.Stop(stopCtx))
	return res
}

// baselineRun loads the same rows with COPY into a staging table plus one INSERT … ON CONFLICT
// per batch; only the database calls are timed, as in ../main.go.
func baselineRun(ctx context.Context, admin string, o options) result {
	dsn, drop := createDatabase(ctx, admin)
	defer drop()
	conn, err := pgx.Connect(ctx, dsn)
	must(err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, pgDDL)
	must(err)
	_, err = conn.Exec(ctx, `CREATE TEMP TABLE "stage" ON COMMIT DELETE ROWS AS SELECT * FROM "bench" WITH NO DATA`)
	must(err)
	var sets []string
	for _, c := range columns[1:] {
		sets = append(sets, fmt.Sprintf(`%q = EXCLUDED.%q`, c, c))
	}
	merge := `INSERT INTO "bench" SELECT * FROM "stage" ON CONFLICT ("id") DO UPDATE SET ` + strings.Join(sets, ", ")
	startKB := resetPeak()
	g := rowgen.New(o.rows, o.batch, o.updates, o.seed)
	var elapsed, cpu time.Duration
	for rows := g.Batch(); rows != nil; rows = g.Batch() {
		values := make([][]any, len(rows))
		for i, r := range rows {
			values[i] = []any{r.ID, r.Name, r.Email, r.Qty, r.Price, r.Score, r.Active, r.Created}
		}
		cpu0 := cpuTime()
		start := time.Now()
		tx, err := conn.Begin(ctx)
		must(err)
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"stage"}, columns, pgx.CopyFromRows(values))
		must(err)
		_, err = tx.Exec(ctx, merge)
		must(err)
		must(tx.Commit(ctx))
		elapsed += time.Since(start)
		cpu += cpuTime() - cpu0
	}
	var count int64
	must(conn.QueryRow(ctx, `SELECT count(*) FROM "bench"`).Scan(&count))
	return result{Seconds: elapsed.Seconds(), CPU: cpu, RSSKB: peakKB(), StartKB: startKB, Count: count}
}

// createDatabase makes a database for one run and returns its DSN and a function dropping it.
func createDatabase(ctx context.Context, admin string) (string, func()) {
	conn, err := pgx.Connect(ctx, admin)
	must(err)
	name := fmt.Sprintf("kc_bench_jdbcsink_kafka_%d", time.Now().UnixNano())
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

func cpuTime() time.Duration {
	var ru syscall.Rusage
	must(syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
