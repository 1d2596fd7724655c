// Command jdbcsource measures the JDBC source against a bare pgx program reading the same rows
// with the same query. It loads a table of 8 mixed columns into PostgreSQL (once), then runs the
// readers in child processes of their own, alternating them -runs times, and prints for each the
// median rows per second, the median CPU seconds per million rows (user+system time of the child,
// which other load on a shared machine distorts less than wall time), the peak RSS, and the
// ratios to the bare read.
//
//	go run ./bench/jdbcsource -rows 1000000 -runs 3
//	go run ./bench/jdbcsource -readers bare,task,task+json,runtime
//	go run ./bench/jdbcsource -run runtime -cpuprofile runtime.pprof   # one profiled run
//
// The readers:
//
//   - bare: pgx reads the rows with the task's query and typed scans, and counts them.
//   - task: the source task alone, polled and committed the way the runtime does, no Kafka.
//   - task+json: the same, plus the JSON converter's serialization of every record value.
//   - runtime: the worker end to end, as the kconnect binary runs it (runtime.Worker and the
//     standalone herder, which starts the connector and its task): incrementing mode, the JSON
//     converter, the asynchronous producer, offset commits, until every row is in the Kafka topic.
//   - produce: no database and no conversion, only Kafka: a bare franz-go producer, with the
//     runtime's producer settings, sends one row's JSON (as the runtime serializes it) as many
//     times as there are rows to the same broker.
//   - bare+produce: the bare read, sending that same JSON for every row it reads. This is the
//     fastest any program can copy the table into this broker with these libraries, doing no
//     conversion at all, so its ratio to the bare read bounds the runtime's.
//
// Kafka is an embedded broker in this (parent) process, so the child's CPU and RSS are the
// worker's own, or the broker named by -kafka. The DSN defaults to KCONNECT_TEST_POSTGRES_DSN.
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
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/broker"
	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connectors/jdbc/source"
	"github.com/kconnect/kconnect/converters/jsonconverter"
	"github.com/kconnect/kconnect/internal/gctuning"
	"github.com/kconnect/kconnect/plugins"
	"github.com/kconnect/kconnect/runtime"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/offsets"
	"github.com/kconnect/kconnect/runtime/standalone"
)

// result is what a child process reports to the parent.
type result struct {
	Rows    int64   `json:"rows"`
	Seconds float64 `json:"seconds"`
	// PeakRSS is the child's VmHWM in bytes. The rusage of a child is no good here: Go starts
	// children with vfork, so the kernel records the parent's peak RSS (and the parent holds the
	// embedded broker) as the child's at exec.
	PeakRSS int64 `json:"peak_rss"`
}

// options are the settings shared by the parent and its children.
type options struct {
	dsn, table, kafka, topicPrefix string
	memProfile                     string
	rows                           int64
	batch                          int
	schemas                        bool
}

func main() {
	gctuning.Apply() // the kconnect binary's GC policy, so the runtime runs as it does there
	var o options
	flag.StringVar(&o.dsn, "dsn", os.Getenv("KCONNECT_TEST_POSTGRES_DSN"), "PostgreSQL DSN (postgres://...)")
	flag.Int64Var(&o.rows, "rows", 1_000_000, "rows in the table")
	flag.StringVar(&o.table, "table", "kconnect_bench_jdbc_source", "table to load and read")
	flag.IntVar(&o.batch, "batch", 1000, "batch.max.rows for the task and rows per batch for the bare reader")
	flag.StringVar(&o.kafka, "kafka", "", "Kafka bootstrap servers for the runtime reader; empty starts an embedded broker in this process")
	flag.BoolVar(&o.schemas, "schemas", true, "value.converter.schemas.enable for task+json and runtime (JsonConverter's default is true)")
	flag.StringVar(&o.topicPrefix, "topic-prefix", "", "internal: topic.prefix of the runtime reader")
	readers := flag.String("readers", "bare,runtime", "comma-separated readers to compare: bare, task, task+json, runtime, produce, bare+produce")
	runs := flag.Int("runs", 3, "how many times each reader runs, alternating; medians are reported")
	role := flag.String("run", "", "run one reader in this process (bare, task, task+json, runtime, produce or bare+produce) and print its result as JSON")
	profile := flag.String("cpuprofile", "", "with -run, write a CPU profile of the reader to this file")
	flag.StringVar(&o.memProfile, "memprofile", "", "with -run runtime, write a heap profile to this file when half the rows are in Kafka")
	flag.Parse()
	if o.dsn == "" {
		fatal(fmt.Errorf("no -dsn and no KCONNECT_TEST_POSTGRES_DSN"))
	}
	if *role == "" {
		if err := compare(o, strings.Split(*readers, ","), *runs); err != nil {
			fatal(err)
		}
		return
	}
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fatal(err)
		}
	}
	res, err := runReader(*role, o)
	pprof.StopCPUProfile()
	if err != nil {
		fatal(err)
	}
	if res.PeakRSS, err = peakRSS(); err != nil {
		fatal(err)
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "jdbcsource:", err)
	os.Exit(1)
}

func runReader(role string, o options) (result, error) {
	switch role {
	case "bare":
		return bare(context.Background(), o, nil)
	case "task", "task+json":
		return task(o, role == "task+json")
	case "runtime":
		if o.kafka == "" {
			return result{}, fmt.Errorf("-run runtime needs -kafka (the parent passes its embedded broker)")
		}
		return worker(o)
	case "produce", "bare+produce":
		if o.kafka == "" {
			return result{}, fmt.Errorf("-run %s needs -kafka (the parent passes its embedded broker)", role)
		}
		return produce(o, role == "bare+produce")
	}
	return result{}, fmt.Errorf("-run %q: want bare, task, task+json, runtime, produce or bare+produce", role)
}

// measurement is one child run as the parent saw it.
type measurement struct {
	res     result
	cpu     time.Duration // user + system
	peakRSS int64         // bytes
}

func compare(o options, readers []string, runs int) error {
	ctx := context.Background()
	for _, r := range readers {
		if !slices.Contains([]string{"bare", "task", "task+json", "runtime", "produce", "bare+produce"}, r) {
			return fmt.Errorf("-readers: unknown reader %q", r)
		}
	}
	if err := load(ctx, o.dsn, o.table, o.rows); err != nil {
		return fmt.Errorf("loading %s: %w", o.table, err)
	}
	kafkaDesc := o.kafka
	if slices.ContainsFunc(readers, usesKafka) && o.kafka == "" {
		// With a data directory, as bootstrap.servers=embedded runs it: without one the broker
		// keeps every segment in memory, in files that grow by doubling copies.
		dataDir, err := os.MkdirTemp("", "kconnect-bench-broker-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dataDir)
		b, err := broker.Start(broker.Options{Logger: slog.New(slog.DiscardHandler), DataDir: dataDir})
		if err != nil {
			return fmt.Errorf("embedded broker: %w", err)
		}
		defer b.Close()
		o.kafka, kafkaDesc = b.Addr(), "embedded broker (data dir) in the parent process"
	}
	all := map[string][]measurement{}
	for i := range runs {
		for _, r := range readers {
			m, err := measureOnce(ctx, r, o)
			if err != nil {
				return fmt.Errorf("%s reader, run %d: %w", r, i+1, err)
			}
			fmt.Fprintf(os.Stderr, "run %d %-10s %9.0f rows/s  %6.2f s  CPU %6.2f s  peak RSS %4d MiB\n",
				i+1, r, float64(m.res.Rows)/m.res.Seconds, m.res.Seconds, m.cpu.Seconds(), m.peakRSS>>20)
			all[r] = append(all[r], m)
		}
	}

	type summary struct{ rate, cpuPerM, rss float64 }
	sum := map[string]summary{}
	for r, ms := range all {
		var rates, cpus, rss []float64
		for _, m := range ms {
			rates = append(rates, float64(m.res.Rows)/m.res.Seconds)
			cpus = append(cpus, m.cpu.Seconds()/float64(m.res.Rows)*1e6)
			rss = append(rss, float64(m.peakRSS))
		}
		sum[r] = summary{median(rates), median(cpus), median(rss)}
	}
	fmt.Printf("rows: %d (8 columns), batch %d, JSON schemas.enable=%v, %d runs each, Kafka: %s\n", o.rows, o.batch, o.schemas, runs, kafkaDesc)
	fmt.Printf("medians:\n%-10s %12s %16s %14s %12s %12s\n", "reader", "rows/s", "CPU s/1M rows", "peak RSS MiB", "rate ratio", "CPU ratio")
	base, hasBase := sum["bare"]
	for _, r := range readers {
		s := sum[r]
		ratio, cpuRatio := "", ""
		if hasBase {
			ratio, cpuRatio = fmt.Sprintf("%.2f", s.rate/base.rate), fmt.Sprintf("%.2f", s.cpuPerM/base.cpuPerM)
		}
		fmt.Printf("%-10s %12.0f %16.2f %14.0f %12s %12s\n", r, s.rate, s.cpuPerM, s.rss/(1<<20), ratio, cpuRatio)
	}
	return nil
}

// measureOnce runs one reader in a child process and returns its result, CPU time and peak RSS.
func measureOnce(ctx context.Context, role string, o options) (measurement, error) {
	self, err := os.Executable()
	if err != nil {
		return measurement{}, err
	}
	args := []string{"-run", role, "-dsn", o.dsn, "-table", o.table, "-rows", strconv.FormatInt(o.rows, 10),
		"-batch", strconv.Itoa(o.batch), "-schemas=" + strconv.FormatBool(o.schemas)}
	if usesKafka(role) {
		prefix := fmt.Sprintf("bench-%d-", time.Now().UnixNano())
		topic := prefix + o.table
		if err := createTopic(ctx, o.kafka, topic); err != nil {
			return measurement{}, err
		}
		// The topic is dropped after the run so the broker does not hold every run's data.
		defer func() {
			if err := deleteTopic(ctx, o.kafka, topic); err != nil {
				fmt.Fprintln(os.Stderr, "jdbcsource:", err)
			}
		}()
		args = append(args, "-kafka", o.kafka, "-topic-prefix", prefix)
	}
	cmd := exec.Command(self, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return measurement{}, err
	}
	var m measurement
	if err := json.Unmarshal(out, &m.res); err != nil {
		return measurement{}, fmt.Errorf("child output %q: %w", out, err)
	}
	if m.res.Rows != o.rows {
		return measurement{}, fmt.Errorf("read %d rows, want %d", m.res.Rows, o.rows)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	m.peakRSS = m.res.PeakRSS
	return m, nil
}

// peakRSS reads this process's peak resident set size (VmHWM) from /proc/self/status.
func peakRSS() (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("peak RSS: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("peak RSS: VmHWM %q: %w", v, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("peak RSS: no VmHWM in /proc/self/status")
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func adminClient(bootstrap string) (*kadm.Client, func(), error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...))
	if err != nil {
		return nil, nil, err
	}
	return kadm.NewClient(cl), cl.Close, nil
}

// createTopic creates a one-partition topic up front, so the run measures neither auto-creation
// nor a consumer caching the topic's absence.
func createTopic(ctx context.Context, bootstrap, topic string) error {
	adm, closeAdm, err := adminClient(bootstrap)
	if err != nil {
		return err
	}
	defer closeAdm()
	resp, err := adm.CreateTopic(ctx, 1, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	return nil
}

func deleteTopic(ctx context.Context, bootstrap, topic string) error {
	adm, closeAdm, err := adminClient(bootstrap)
	if err != nil {
		return err
	}
	defer closeAdm()
	resp, err := adm.DeleteTopic(ctx, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		return fmt.Errorf("delete topic %s: %w", topic, err)
	}
	return nil
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
// bound, typed scans, rows counted in batches of the same size. It calls onRow, if not nil,
// after each row.
func bare(ctx context.Context, o options, onRow func()) (result, error) {
	start := time.Now()
	conn, err := pgx.Connect(ctx, o.dsn)
	if err != nil {
		return result{}, err
	}
	defer conn.Close(ctx)
	q := `SELECT * FROM "public".` + pgx.Identifier{o.table}.Sanitize() + ` WHERE "id" <= $1 ORDER BY "id" ASC`
	rs, err := conn.Query(ctx, q, o.rows)
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
		if onRow != nil {
			onRow()
		}
		if inBatch++; inBatch == o.batch {
			batches++
			inBatch = 0
		}
	}
	if err := rs.Err(); err != nil {
		return result{}, err
	}
	return result{Rows: n, Seconds: time.Since(start).Seconds()}, nil
}

// connectorProps is the JDBC source configuration all task readers use.
func connectorProps(o options) map[string]string {
	return map[string]string{
		"name":                     "bench",
		"connector.class":          "io.confluent.connect.jdbc.JdbcSourceConnector",
		"connection.url":           o.dsn,
		"mode":                     "incrementing",
		"incrementing.column.name": "id",
		"table.whitelist":          o.table,
		"topic.prefix":             o.topicPrefix,
		"batch.max.rows":           strconv.Itoa(o.batch),
		"poll.interval.ms":         "1000",
	}
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
// also serializes every record value with the JSON converter, as the worker would.
func task(o options, toJSON bool) (result, error) {
	conv := jsonconverter.New()
	if err := conv.Configure(map[string]string{"schemas.enable": strconv.FormatBool(o.schemas)}, false); err != nil {
		return result{}, err
	}
	props := connectorProps(o)
	props["tables"] = `"public".` + pgx.Identifier{o.table}.Sanitize()
	props["tables.fetched"] = "true"
	start := time.Now()
	t := &source.Task{}
	if err := t.Start(taskContext{log: slog.New(slog.DiscardHandler)}, props); err != nil {
		return result{}, err
	}
	defer t.Stop()
	var n int64
	pctx := context.Background()
	for n < o.rows {
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

// worker runs the connector in a worker with the standalone herder, as `kconnect standalone`
// does, and waits until the topic holds every row.
func worker(o options) (result, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "jdbcsource-bench-")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(dir)
	reg, err := plugins.Registry()
	if err != nil {
		return result{}, err
	}
	store, err := offsets.OpenFile(filepath.Join(dir, "connect.offsets"))
	if err != nil {
		return result{}, err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	topic := o.topicPrefix + o.table
	adm, closeAdm, err := adminClient(o.kafka)
	if err != nil {
		return result{}, err
	}
	defer closeAdm()

	start := time.Now()
	w, err := runtime.NewWorker("bench", map[string]string{
		"bootstrap.servers":              o.kafka,
		"key.converter":                  "org.apache.kafka.connect.json.JsonConverter",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable": strconv.FormatBool(o.schemas),
		"offset.storage.file.filename":   filepath.Join(dir, "connect.offsets"),
	}, reg, store, log)
	if err != nil {
		return result{}, err
	}
	defer w.Close()
	h := standalone.New(w, log, standalone.Options{ClusterID: func(context.Context) (string, error) { return "bench", nil }})
	if err := h.Start(ctx, []map[string]string{connectorProps(o)}); err != nil {
		return result{}, err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		h.Stop(stopCtx)
	}()
	// Done when every row is in the topic: poll its end offset.
	memProfile := o.memProfile
	for {
		ends, err := adm.ListEndOffsets(ctx, topic)
		if err == nil {
			e, ok := ends.Lookup(topic, 0)
			if ok && e.Err == nil && e.Offset >= o.rows {
				return result{Rows: e.Offset, Seconds: time.Since(start).Seconds()}, nil
			}
			if ok && e.Err == nil && memProfile != "" && e.Offset >= o.rows/2 {
				if err := writeHeapProfile(memProfile); err != nil {
					return result{}, err
				}
				memProfile = ""
			}
		}
		if st, err := h.ConnectorStatus(ctx, "bench"); err == nil {
			for _, t := range st.Tasks {
				if t.State == herder.Failed {
					return result{}, fmt.Errorf("task failed: %s", t.Trace)
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("heap profile: %w", err)
	}
	return f.Close()
}

// usesKafka reports whether a reader writes to Kafka.
func usesKafka(reader string) bool {
	return reader == "runtime" || reader == "produce" || reader == "bare+produce"
}

// produce sends o.rows copies of the first row's JSON, serialized as the runtime does, to the
// topic the runtime reader would write, with the runtime's producer settings, and waits until
// Kafka acknowledged them all. With read, it sends one for each row the bare read reads.
func produce(o options, read bool) (result, error) {
	recs, err := firstBatch(o)
	if err != nil {
		return result{}, err
	}
	conv := jsonconverter.New()
	if err := conv.Configure(map[string]string{"schemas.enable": strconv.FormatBool(o.schemas)}, false); err != nil {
		return result{}, err
	}
	value, err := conv.FromConnectData(recs[0].Topic, recs[0].ValueSchema, recs[0].Value)
	if err != nil {
		return result{}, err
	}
	// runtime/source.go's defaults: no compression, a 32 MiB buffer, at most 10,000 records waiting.
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(o.kafka, ",")...),
		kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.MaxBufferedBytes(32<<20), kgo.MaxBufferedRecords(10_000))
	if err != nil {
		return result{}, err
	}
	defer cl.Close()
	topic := o.topicPrefix + o.table
	ctx := context.Background()
	var failed atomic.Pointer[error]
	send := func() {
		cl.Produce(ctx, &kgo.Record{Topic: topic, Value: value}, func(_ *kgo.Record, err error) {
			if err != nil {
				failed.CompareAndSwap(nil, &err)
			}
		})
	}
	start := time.Now()
	if read {
		if _, err := bare(ctx, o, send); err != nil {
			return result{}, err
		}
	} else {
		for range o.rows {
			send()
		}
	}
	if err := cl.Flush(ctx); err != nil {
		return result{}, err
	}
	if err := failed.Load(); err != nil {
		return result{}, *err
	}
	return result{Rows: o.rows, Seconds: time.Since(start).Seconds()}, nil
}

// firstBatch reads the first batch of the table with the source task.
func firstBatch(o options) ([]connect.SourceRecord, error) {
	props := connectorProps(o)
	props["tables"] = `"public".` + pgx.Identifier{o.table}.Sanitize()
	props["tables.fetched"] = "true"
	t := &source.Task{}
	if err := t.Start(taskContext{log: slog.New(slog.DiscardHandler)}, props); err != nil {
		return nil, err
	}
	defer t.Stop()
	for {
		recs, err := t.Poll(context.Background())
		if err != nil || len(recs) > 0 {
			return recs, err
		}
	}
}
