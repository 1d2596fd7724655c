// Command postgrescdc measures the PostgreSQL CDC source against PostgreSQL's own tools. Run one
// phase per process so the peak RSS printed is the phase's own:
//
//	stream    N changes in small transactions through the task's Poll loop, versus pg_recvlogical
//	          writing the same pgoutput stream to a file
//	snapshot  a table read with snapshot.max.threads, versus COPY TO STDOUT
//	bigtx     one transaction of -bigtx-mb megabytes of rows streamed through the Poll loop, or
//	          with -worker through a kconnect worker into Kafka; prints the peak RSS of whichever
//	          process ran the task
//	e2e       the stream workload through a kconnect worker (the real binary) into Kafka with the
//	          JSON converter, versus pg_recvlogical
//	lag       a steady -rate of changes through a worker into Kafka; end-to-end lag is the Kafka
//	          append time (the topic is created with message.timestamp.type=LogAppendTime) minus
//	          the transaction's commit time (source.ts_ms), split at the envelope's ts_ms (when the
//	          connector decoded the change). The writer commits with synchronous_commit=on, as
//	          PostgreSQL does by default, because a walsender only sends flushed WAL.
//
// The worker phases report the worker process's peak RSS; with the embedded broker it includes the
// broker. -worker-prop passes extra worker settings, -flush-interval offset.flush.interval.ms.
//
// Examples, from the repository root:
//
//	go run ./bench/postgrescdc -dsn postgres://kconnect:kconnect@127.0.0.1:15432/postgres?sslmode=disable -phase snapshot -rows 5000000
//	go run ./bench/postgrescdc -dsn ... -phase e2e -kafka 127.0.0.1:19092
//	go run ./bench/postgrescdc -dsn ... -phase e2e -kafka 127.0.0.1:19092 \
//	    -worker-prop key.converter=io.confluent.connect.avro.AvroConverter \
//	    -worker-prop value.converter=io.confluent.connect.avro.AvroConverter \
//	    -worker-prop key.converter.schema.registry.url=http://127.0.0.1:18081/apis/ccompat/v7 \
//	    -worker-prop value.converter.schema.registry.url=http://127.0.0.1:18081/apis/ccompat/v7
//	go run ./bench/postgrescdc -dsn ... -phase lag -kafka 127.0.0.1:19092 -rate 5000 -duration 30s
//	go run ./bench/postgrescdc -dsn ... -phase bigtx -bigtx-mb 1024 [-worker -kafka 127.0.0.1:19092]
//
// The DSN's role must be a superuser; the command creates and drops a database of its own. Without
// -kafka the worker phases use the worker's embedded broker.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connectors/postgres"
	"github.com/kconnect/kconnect/internal/gctuning"
)

type options struct {
	dsn           *url.URL
	changes       int
	txRows        int
	rows          int
	threads       int
	bigtxMB       int
	viaWorker     bool
	kafka         string
	kconnect      string
	schemas       bool
	rate          int
	duration      time.Duration
	recvlogical   string
	flushInterval string
	cpuProfile    string
	prefix        string // topic.prefix, unique per run because a real broker keeps topics
	workerProps   map[string]string
}

func main() {
	gctuning.Apply() // the kconnect binary's GC policy, so the runtime runs as it does there
	var o options
	dsn := flag.String("dsn", os.Getenv("KCONNECT_TEST_POSTGRES_DSN"), "superuser DSN (postgres:// URL)")
	phase := flag.String("phase", "stream", "stream, snapshot, bigtx, e2e or lag")
	flag.IntVar(&o.changes, "changes", 500_000, "changes to stream (stream, e2e)")
	flag.IntVar(&o.txRows, "txrows", 10, "rows per transaction (stream, e2e, lag)")
	flag.IntVar(&o.rows, "rows", 5_000_000, "rows to snapshot")
	flag.IntVar(&o.threads, "threads", 2, "snapshot.max.threads")
	flag.IntVar(&o.bigtxMB, "bigtx-mb", 1024, "size of the big transaction's row data in MiB (bigtx)")
	flag.BoolVar(&o.viaWorker, "worker", false, "bigtx: run the task in a kconnect worker instead of in this process")
	flag.StringVar(&o.kafka, "kafka", "", "bootstrap servers for the worker phases; empty for the worker's embedded broker")
	flag.StringVar(&o.kconnect, "kconnect", "", "kconnect binary for the worker phases; empty to build ./cmd/kconnect")
	flag.BoolVar(&o.schemas, "schemas", true, "JsonConverter schemas.enable for keys and values (worker phases)")
	flag.IntVar(&o.rate, "rate", 5000, "changes per second (lag)")
	flag.DurationVar(&o.duration, "duration", 30*time.Second, "how long to write at -rate (lag)")
	flag.StringVar(&o.recvlogical, "pg_recvlogical", findTool("pg_recvlogical"), "path of pg_recvlogical")
	flag.StringVar(&o.flushInterval, "flush-interval", "", "worker offset.flush.interval.ms; empty for the worker's default")
	flag.Func("worker-prop", "extra worker setting key=value (repeatable), e.g. producer.buffer.memory=33554432", func(v string) error {
		k, val, ok := strings.Cut(v, "=")
		if !ok {
			return fmt.Errorf("want key=value, got %q", v)
		}
		if o.workerProps == nil {
			o.workerProps = map[string]string{}
		}
		o.workerProps[k] = val
		return nil
	})
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the in-process kconnect part to this file")
	flag.Parse()
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
	// Slot names are global to the server, so a slot left behind would break the next run; a
	// walsender releases its slot only some time after its session ended.
	cleanup := func() {
		deadline := time.Now().Add(30 * time.Second)
		for {
			_, _ = admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", dbName)
			_, _ = admin.Exec(ctx, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1 AND NOT active", dbName)
			var left int
			err := admin.QueryRow(ctx, "SELECT count(*) FROM pg_replication_slots WHERE database = $1", dbName).Scan(&left)
			if err != nil || left == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{dbName}.Sanitize()+" WITH (FORCE)"); err != nil {
			log.Printf("drop bench database %s: %v", dbName, err)
		}
	}
	defer cleanup()
	fatalCleanup = cleanup
	u.Path = "/" + dbName
	o.dsn = u
	o.prefix = fmt.Sprintf("bench%d", time.Now().UnixNano())
	db, err := pgx.Connect(ctx, u.String())
	must(err)
	switch *phase {
	case "stream":
		benchStream(ctx, db, o)
	case "snapshot":
		benchSnapshot(ctx, db, o)
	case "bigtx":
		benchBigTx(ctx, db, o)
	case "e2e":
		benchE2E(ctx, db, o)
	case "lag":
		benchLag(ctx, db, o)
	default:
		log.Fatalf("unknown -phase %q", *phase)
	}
	fmt.Printf("peak RSS of this process: %s\n", peakRSS("self"))
}

// streamWAL creates the stream table, the publication and two slots (one for pg_recvlogical, one
// for kconnect), then writes n rows in transactions of txRows and returns the WAL position after.
func streamWAL(ctx context.Context, db *pgx.Conn, o options) string {
	n, txRows := o.changes, o.txRows
	exec1(ctx, db, "CREATE TABLE stream_t (id bigint PRIMARY KEY, name text, amount numeric(12,2), at timestamptz)")
	exec1(ctx, db, "CREATE PUBLICATION bench_pub FOR ALL TABLES")
	exec1(ctx, db, "SELECT pg_create_logical_replication_slot($1, 'pgoutput')", o.slot("recv"))
	exec1(ctx, db, "SELECT pg_create_logical_replication_slot($1, 'pgoutput')", o.slot("kc"))
	// A procedure commits inside its loop, so each small transaction costs no client round trip.
	exec1(ctx, db, `CREATE PROCEDURE fill(n bigint, per bigint) LANGUAGE plpgsql AS $$
		BEGIN
			FOR i IN 0..(n - 1) / per LOOP
				INSERT INTO stream_t SELECT g, 'name ' || g, g / 100.0, clock_timestamp()
					FROM generate_series(i * per + 1, least((i + 1) * per, n)) g;
				COMMIT;
			END LOOP;
		END $$`)
	exec1(ctx, db, "CALL fill($1, $2)", n, txRows)
	var end string
	must(db.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&end))
	return end
}

// recvlogical runs pg_recvlogical on slot from its start to end and returns how long it took.
func recvlogical(o options, slot, end string) time.Duration {
	out := filepath.Join(os.TempDir(), "kc_bench_recvlogical.out")
	defer os.Remove(out)
	pw, _ := o.dsn.User.Password()
	cmd := exec.Command(o.recvlogical, "-d", strings.TrimPrefix(o.dsn.Path, "/"), "-h", o.dsn.Hostname(), "-p", o.dsn.Port(), "-U", o.dsn.User.Username(),
		"-S", slot, "--start", "-E", end, "-f", out, "--no-loop", "-o", "proto_version=1", "-o", "publication_names=bench_pub")
	cmd.Env = append(os.Environ(), "PGPASSWORD="+pw)
	cmd.Stderr = os.Stderr
	start := time.Now()
	must(cmd.Run())
	return time.Since(start)
}

func benchStream(ctx context.Context, db *pgx.Conn, o options) {
	n := o.changes
	end := streamWAL(ctx, db, o)
	recvDur := recvlogical(o, o.slot("recv"), end)

	props := taskProps(o)
	props["slot.name"] = o.slot("kc")
	props["snapshot.mode"] = "no_data"
	task := startTask(props)
	stopProfile := profile(o.cpuProfile)
	start := time.Now()
	pollAll(ctx, task, n)
	kcDur := time.Since(start)
	stopProfile()
	must(task.Stop())
	recvRate := float64(n) / recvDur.Seconds()
	kcRate := float64(n) / kcDur.Seconds()
	fmt.Printf("streaming %d changes in %d-row transactions: pg_recvlogical %.0f rows/s (%v), kconnect Poll loop %.0f rows/s (%v), ratio %.2f\n",
		n, o.txRows, recvRate, recvDur.Round(time.Millisecond), kcRate, kcDur.Round(time.Millisecond), kcRate/recvRate)
}

// pollAll polls until n records arrived, committing each batch as the runtime would.
func pollAll(ctx context.Context, task connect.SourceTask, n int) {
	for got := 0; got < n; {
		recs, err := task.Poll(ctx)
		must(err)
		got += len(recs)
		if len(recs) > 0 {
			last := recs[len(recs)-1]
			must(task.Commit(ctx, []connect.SourceOffset{{Partition: last.SourcePartition, Offset: last.SourceOffset}}))
		}
	}
}

func benchSnapshot(ctx context.Context, db *pgx.Conn, o options) {
	n := o.rows
	exec1(ctx, db, "CREATE TABLE snap_t (id bigint PRIMARY KEY, name text, amount numeric(12,2), at timestamptz)")
	exec1(ctx, db, `INSERT INTO snap_t SELECT g, 'name ' || g, g / 100.0, now() FROM generate_series(1, $1::bigint) g`, n)
	exec1(ctx, db, "VACUUM ANALYZE snap_t")

	start := time.Now()
	_, err := db.PgConn().CopyTo(ctx, io.Discard, "COPY snap_t TO STDOUT")
	must(err)
	copyDur := time.Since(start)

	props := taskProps(o)
	props["snapshot.mode"] = "initial_only"
	props["snapshot.max.threads"] = fmt.Sprint(o.threads)
	props["slot.name"] = o.slot("snap")
	props["slot.drop.on.stop"] = "true"
	task := startTask(props)
	stopProfile := profile(o.cpuProfile)
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
	if got != n {
		log.Fatalf("snapshot produced %d records for %d rows", got, n)
	}
	copyRate := float64(n) / copyDur.Seconds()
	kcRate := float64(got) / kcDur.Seconds()
	fmt.Printf("snapshot of %d rows: COPY TO STDOUT %.0f rows/s (%v), kconnect (%d threads) %.0f rows/s (%v), ratio %.2f (target >= 0.3)\n",
		n, copyRate, copyDur.Round(time.Millisecond), o.threads, kcRate, kcDur.Round(time.Millisecond), kcRate/copyRate)
}

// benchBigTx writes one transaction of o.bigtxMB MiB (rows of 1000 bytes of text) after the slot
// exists and streams it.
func benchBigTx(ctx context.Context, db *pgx.Conn, o options) {
	const rowBytes = 1000
	n := o.bigtxMB << 20 / rowBytes
	exec1(ctx, db, "CREATE TABLE big_t (id bigint PRIMARY KEY, payload text NOT NULL)")
	exec1(ctx, db, "CREATE PUBLICATION bench_pub FOR ALL TABLES")
	exec1(ctx, db, "SELECT pg_create_logical_replication_slot($1, 'pgoutput')", o.slot("kc"))
	start := time.Now()
	// md5 text is incompressible enough, and 1000 bytes stay below the TOAST threshold, so the WAL
	// and the decoded stream carry the full size.
	exec1(ctx, db, `INSERT INTO big_t SELECT g, left(repeat(md5(g::text), 32), $2) FROM generate_series(1, $1::bigint) g`, n, rowBytes)
	var walBytes int64
	must(db.QueryRow(ctx, "SELECT pg_current_wal_lsn() - restart_lsn FROM pg_replication_slots WHERE slot_name = $1", o.slot("kc")).Scan(&walBytes))
	fmt.Printf("one transaction of %d rows x %d bytes (%d MiB of row data, %d MiB of WAL) written in %v\n",
		n, rowBytes, n*rowBytes>>20, walBytes>>20, time.Since(start).Round(time.Millisecond))

	props := taskProps(o)
	props["slot.name"] = o.slot("kc")
	props["snapshot.mode"] = "no_data"
	start = time.Now()
	if !o.viaWorker {
		task := startTask(props)
		pollAll(ctx, task, n)
		must(task.Stop())
		fmt.Printf("streamed %d changes of one transaction through the Poll loop in %v (peak RSS below)\n", n, time.Since(start).Round(time.Millisecond))
		return
	}
	w := startWorker(o)
	defer w.stop()
	topic := o.prefix + ".public.big_t"
	w.putConnector(props)
	waitRecords(w, topic, int64(n), 10*time.Minute)
	fmt.Printf("streamed %d changes of one transaction through the worker into Kafka in %v; worker peak RSS %s\n",
		n, time.Since(start).Round(time.Millisecond), peakRSS(strconv.Itoa(w.cmd.Process.Pid)))
}

func benchE2E(ctx context.Context, db *pgx.Conn, o options) {
	n := o.changes
	end := streamWAL(ctx, db, o)
	recvDur := recvlogical(o, o.slot("recv"), end)

	w := startWorker(o)
	defer w.stop()
	props := taskProps(o)
	props["slot.name"] = o.slot("kc")
	props["snapshot.mode"] = "no_data"
	start := time.Now()
	w.putConnector(props)
	waitRecords(w, o.prefix+".public.stream_t", int64(n), 10*time.Minute)
	kcDur := time.Since(start)
	recvRate := float64(n) / recvDur.Seconds()
	kcRate := float64(n) / kcDur.Seconds()
	fmt.Printf("end to end, %d changes in %d-row transactions: pg_recvlogical %.0f rows/s (%v), kconnect worker into Kafka (%s, %s) %.0f rows/s (%v), ratio %.2f (target >= 0.5); worker peak RSS %s\n",
		n, o.txRows, recvRate, recvDur.Round(time.Millisecond), w.kafkaName(), o.converterName(), kcRate, kcDur.Round(time.Millisecond), kcRate/recvRate,
		peakRSS(strconv.Itoa(w.cmd.Process.Pid)))
}

func benchLag(ctx context.Context, db *pgx.Conn, o options) {
	exec1(ctx, db, "CREATE TABLE lag_t (id bigint PRIMARY KEY, name text, amount numeric(12,2), at timestamptz)")
	exec1(ctx, db, "CREATE PUBLICATION bench_pub FOR ALL TABLES")
	w := startWorker(o)
	defer w.stop()
	topic := o.prefix + ".public.lag_t"
	w.createAppendTimeTopic(topic)
	props := taskProps(o)
	props["slot.name"] = o.slot("kc")
	props["snapshot.mode"] = "no_data"
	w.putConnector(props)
	waitFor(time.Minute, "the connector's slot to be active", func() bool {
		var active bool
		err := db.QueryRow(ctx, "SELECT active FROM pg_replication_slots WHERE slot_name = $1", o.slot("kc")).Scan(&active)
		return err == nil && active
	})

	// PostgreSQL's default: with synchronous_commit=off (the test cluster's setting) a commit's
	// WAL waits up to wal_writer_delay before it is flushed, and a walsender only decodes flushed
	// WAL, which would add up to 200 ms that no consumer of the slot can avoid.
	exec1(ctx, db, "SET synchronous_commit = on")
	// Transactions of txRows rows at a fixed schedule; a late one is sent at once, without
	// skipping, so the offered load stays the requested rate on average.
	txPerSec := float64(o.rate) / float64(o.txRows)
	interval := time.Duration(float64(time.Second) / txPerSec)
	total := int(o.duration.Seconds() * txPerSec)
	start := time.Now()
	for i := range total {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		exec1(ctx, db, `INSERT INTO lag_t SELECT g, 'name ' || g, g / 100.0, now() FROM generate_series($1::bigint, $2::bigint) g`,
			i*o.txRows+1, (i+1)*o.txRows)
	}
	wrote := time.Since(start)
	n := total * o.txRows
	waitRecords(w, topic, int64(n), 5*time.Minute)
	lags, appendTime := readLags(w.bootstrap, topic, n)
	kind := "LogAppendTime (broker append time)"
	if appendTime < len(lags) {
		kind = fmt.Sprintf("CreateTime (producer time) for %d of %d records: the broker ignored message.timestamp.type=LogAppendTime", len(lags)-appendTime, len(lags))
	}
	fmt.Printf("lag at %.0f changes/s offered (%.0f achieved, %d-row transactions, %d changes, %s, %s), record timestamp %s minus source.ts_ms: %s (target p99 < 100ms); worker peak RSS %s\n",
		float64(o.rate), float64(n)/wrote.Seconds(), o.txRows, n, w.kafkaName(), o.converterName(), kind,
		percentiles(lags, func(l lagSample) time.Duration { return l.total }), peakRSS(strconv.Itoa(w.cmd.Process.Pid)))
	fmt.Printf("  commit to decoded (envelope ts_ms - source.ts_ms): %s\n", percentiles(lags, func(l lagSample) time.Duration { return l.capture }))
	fmt.Printf("  decoded to Kafka (record timestamp - envelope ts_ms): %s\n", percentiles(lags, func(l lagSample) time.Duration { return l.deliver }))
}

// lagSample splits one change's way into Kafka: commit to the connector's decoding (envelope
// ts_ms minus source.ts_ms) and decoding to the Kafka timestamp.
type lagSample struct{ total, capture, deliver time.Duration }

// readLags consumes n change events and returns their lags and how many carry a LogAppendTime
// timestamp.
func readLags(bootstrap, topic string, n int) ([]lagSample, int) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	must(err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	type envelope struct {
		TsMs   int64 `json:"ts_ms"`
		Source struct {
			TsMs int64 `json:"ts_ms"`
		} `json:"source"`
	}
	lags := make([]lagSample, 0, n)
	appendTime := 0
	for len(lags) < n {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			fatal(fmt.Errorf("consume %s: %w", topic, err))
		}
		fs.EachRecord(func(r *kgo.Record) {
			var ev struct {
				Payload *envelope `json:"payload"`
				envelope
			}
			must(json.Unmarshal(r.Value, &ev))
			e := ev.envelope
			if ev.Payload != nil {
				e = *ev.Payload
			}
			if r.Attrs.TimestampType() == 1 {
				appendTime++
			}
			committed, decoded := time.UnixMilli(e.Source.TsMs), time.UnixMilli(e.TsMs)
			lags = append(lags, lagSample{total: r.Timestamp.Sub(committed), capture: decoded.Sub(committed), deliver: r.Timestamp.Sub(decoded)})
		})
	}
	return lags, appendTime
}

// percentiles renders p50, p90, p99 and max of one part of the samples.
func percentiles(lags []lagSample, part func(lagSample) time.Duration) string {
	d := make([]time.Duration, len(lags))
	for i, l := range lags {
		d[i] = part(l)
	}
	slices.Sort(d)
	pct := func(p float64) time.Duration { return d[min(int(p*float64(len(d))), len(d)-1)] }
	return fmt.Sprintf("p50 %v, p90 %v, p99 %v, max %v", pct(0.5), pct(0.9), pct(0.99), d[len(d)-1])
}

// slot names a replication slot of this run; slot names are global to the server.
func (o options) slot(role string) string { return o.prefix + "_" + role }

// worker is a kconnect standalone worker process started by the bench.
type worker struct {
	cmd       *exec.Cmd
	exited    chan struct{}
	dir       string
	rest      string
	bootstrap string
	embedded  bool
	prefix    string
}

// converterName describes the worker's value converter for the report lines: the JSON converter
// unless -worker-prop set another.
func (o options) converterName() string {
	if c := o.workerProps["value.converter"]; c != "" {
		return c
	}
	return fmt.Sprintf("JsonConverter schemas.enable=%v", o.schemas)
}

func startWorker(o options) *worker {
	dir, err := os.MkdirTemp("", "kc-bench-worker-")
	must(err)
	bin := o.kconnect
	if bin == "" {
		bin = filepath.Join(dir, "kconnect")
		build := exec.Command("go", "build", "-o", bin, "./cmd/kconnect")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		must(build.Run())
	}
	w := &worker{dir: dir, rest: fmt.Sprintf("http://127.0.0.1:%d", freePort()), bootstrap: o.kafka, prefix: o.prefix}
	props := map[string]string{
		"key.converter":                  "org.apache.kafka.connect.json.JsonConverter",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"key.converter.schemas.enable":   strconv.FormatBool(o.schemas),
		"value.converter.schemas.enable": strconv.FormatBool(o.schemas),
		"offset.storage.file.filename":   filepath.Join(dir, "connect.offsets"),
		"listeners":                      w.rest,
		"bootstrap.servers":              o.kafka,
		"kconnect.log.level":             "WARN",
	}
	if o.flushInterval != "" {
		props["offset.flush.interval.ms"] = o.flushInterval
	}
	maps.Copy(props, o.workerProps)
	if o.kafka == "" {
		port := freePort()
		props["bootstrap.servers"] = "embedded"
		props["kconnect.embedded.broker.port"] = strconv.Itoa(port)
		w.bootstrap = fmt.Sprintf("127.0.0.1:%d", port)
		w.embedded = true
	}
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(props)) {
		fmt.Fprintf(&b, "%s=%s\n", k, props[k])
	}
	cfg := filepath.Join(dir, "worker.properties")
	must(os.WriteFile(cfg, []byte(b.String()), 0o600))
	w.cmd = exec.Command(bin, "standalone", cfg)
	w.cmd.Stdout, w.cmd.Stderr = os.Stderr, os.Stderr
	must(w.cmd.Start())
	w.exited = make(chan struct{})
	go func() {
		_ = w.cmd.Wait()
		close(w.exited)
	}()
	dbCleanup := fatalCleanup
	fatalCleanup = func() {
		_ = w.cmd.Process.Kill()
		dbCleanup()
	}
	waitFor(time.Minute, "the worker's REST API", func() bool {
		w.checkAlive()
		resp, err := http.Get(w.rest + "/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return w
}

func (w *worker) kafkaName() string {
	if w.embedded {
		return "embedded broker"
	}
	return "Kafka at " + w.bootstrap
}

func (w *worker) putConnector(props map[string]string) {
	cfg := map[string]string{"connector.class": postgres.ConnectorClass}
	for k, v := range props {
		cfg[k] = v
	}
	body, err := json.Marshal(cfg)
	must(err)
	req, err := http.NewRequest(http.MethodPut, w.rest+"/connectors/bench/config", bytes.NewReader(body))
	must(err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	must(err)
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		log.Fatalf("PUT connector config: %s %s", resp.Status, msg)
	}
}

// createAppendTimeTopic creates topic with message.timestamp.type=LogAppendTime, so that record
// timestamps are the broker's append time (readLags checks each record's timestamp type).
func (w *worker) createAppendTimeTopic(topic string) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(w.bootstrap, ",")...))
	must(err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ts := "LogAppendTime"
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, 1, -1, map[string]*string{"message.timestamp.type": &ts}, topic)
	if err == nil {
		err = resp.Err
	}
	must(err)
}

func (w *worker) checkAlive() {
	select {
	case <-w.exited:
		fatal(fmt.Errorf("worker exited: %v", w.cmd.ProcessState))
	default:
	}
}

// stop stops the worker and, on a real broker, deletes the run's topics.
func (w *worker) stop() {
	_ = w.cmd.Process.Signal(os.Interrupt)
	select {
	case <-w.exited:
	case <-time.After(30 * time.Second):
		_ = w.cmd.Process.Kill()
		<-w.exited
	}
	_ = os.RemoveAll(w.dir)
	if w.embedded {
		return
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(w.bootstrap, ",")...))
	if err != nil {
		return
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	topics, err := adm.ListTopics(ctx)
	if err != nil {
		return
	}
	var names []string
	for _, name := range topics.Names() {
		if strings.HasPrefix(name, w.prefix+".") {
			names = append(names, name)
		}
	}
	if len(names) > 0 {
		_, _ = adm.DeleteTopics(ctx, names...)
	}
}

// waitRecords waits until the topic holds n records.
func waitRecords(w *worker, topic string, n int64, timeout time.Duration) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(w.bootstrap, ",")...))
	must(err)
	defer cl.Close()
	adm := kadm.NewClient(cl)
	var got int64
	progress := func() string { return fmt.Sprintf("%d records in %s (%d so far)", n, topic, got) }
	waitForDescribed(timeout, progress, func() bool {
		w.checkAlive()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		offs, err := adm.ListEndOffsets(ctx, topic)
		if err != nil {
			return false
		}
		got = 0
		offs.Each(func(o kadm.ListedOffset) {
			if o.Err == nil {
				got += o.Offset
			}
		})
		return got >= n
	})
	if got > n {
		log.Fatalf("%s holds %d records, expected %d", topic, got, n)
	}
}

func waitFor(timeout time.Duration, what string, cond func() bool) {
	waitForDescribed(timeout, func() string { return what }, cond)
}

func waitForDescribed(timeout time.Duration, what func() string, cond func() bool) {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			fatal(fmt.Errorf("timed out after %v waiting for %s", timeout, what()))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
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

func taskProps(o options) map[string]string {
	u := o.dsn
	pw, _ := u.User.Password()
	return map[string]string{
		"database.hostname": u.Hostname(), "database.port": u.Port(), "database.user": u.User.Username(),
		"database.password": pw, "database.dbname": strings.TrimPrefix(u.Path, "/"), "database.sslmode": "disable",
		"topic.prefix": o.prefix, "publication.name": "bench_pub",
	}
}

func exec1(ctx context.Context, db *pgx.Conn, sql string, args ...any) {
	if _, err := db.Exec(ctx, sql, args...); err != nil {
		fatal(fmt.Errorf("%s: %w", sql, err))
	}
}

// fatalCleanup drops the bench database before a fatal error exits the process.
var fatalCleanup = func() {}

func fatal(err error) {
	fatalCleanup()
	log.Fatal(err)
}

func must(err error) {
	if err != nil {
		fatal(err)
	}
}

// profile starts a CPU profile when path is set and returns the function that ends it.
func profile(path string) func() {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	must(err)
	must(pprof.StartCPUProfile(f))
	return func() {
		pprof.StopCPUProfile()
		must(f.Close())
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

// peakRSS returns VmHWM from /proc/<pid>/status (Linux).
func peakRSS(pid string) string {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:"))
		}
	}
	return "unknown"
}
