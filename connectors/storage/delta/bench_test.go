package delta

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connect/connecttest"
	"github.com/kconnect/kconnect/connectors/storage"
)

var benchSchema = connect.StructBuilder().Name("bench.Value").
	Field("id", connect.Int64Schema).Field("name", connect.StringSchema).Field("email", connect.StringSchema).
	Field("qty", connect.Int32Schema).Field("price", connect.Float64Schema).Field("score", connect.Float64Schema).
	Field("active", connect.BooleanSchema).Field("created", connect.TimestampSchema().MustBuild()).MustBuild()

var benchKeySchema = connect.StructBuilder().Name("bench.Key").Field("id", connect.Int64Schema).MustBuild()

func benchRecord(i int, offset int64, version int) connect.SinkRecord {
	v := connect.NewStructValues(benchSchema, []any{int64(i), fmt.Sprintf("name-%d-%d", i, version), fmt.Sprintf("user%d@example.com", i),
		int32(i % 1000), float64(i%10000) / 100, float64(i) * 0.5, i%2 == 0, time.UnixMilli(1_700_000_000_000 + int64(i)).UTC()})
	return connect.SinkRecord{Record: connect.Record{Topic: "bench", Offset: offset, KeySchema: benchKeySchema,
		Key: connect.NewStructValues(benchKeySchema, []any{int64(i)}), ValueSchema: benchSchema, Value: v}}
}

func benchRecords(b *testing.B) int {
	n := 200_000
	if v := os.Getenv("KCONNECT_DELTA_BENCH_RECORDS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatalf("KCONNECT_DELTA_BENCH_RECORDS=%q: %v", v, err)
		}
	}
	return n
}

// load runs a sink task over n records in batches of 500, as the runtime delivers them, and
// returns the records per second of wall-clock time and per second of the process's CPU time
// (which load from other processes on a shared machine disturbs less). The records cycle
// through pool, so that making them costs neither sink time.
func load(b *testing.B, task connect.SinkTask, props map[string]string, n int, pool []connect.SinkRecord) (wall, cpu float64) {
	ctx := connecttest.New(b)
	ctx.Name = "bench"
	if err := task.Start(ctx, props); err != nil {
		b.Fatal(err)
	}
	defer task.Stop()
	tp := connect.TopicPartition{Topic: "bench"}
	if err := task.(connect.PartitionListener).Open(context.Background(), []connect.TopicPartition{tp}); err != nil {
		b.Fatal(err)
	}
	// The previous load's garbage is collected before the clock starts, not during this load.
	runtime.GC()
	start, cpuStart := time.Now(), cpuTime(b)
	batch := make([]connect.SinkRecord, 0, 500)
	for i := range n {
		r := pool[i%len(pool)]
		r.Offset = int64(i)
		batch = append(batch, r)
		if len(batch) == cap(batch) || i == n-1 {
			if err := task.Put(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if _, err := task.PreCommit(context.Background(), nil); err != nil {
		b.Fatal(err)
	}
	return float64(n) / time.Since(start).Seconds(), float64(n) / (cpuTime(b) - cpuStart).Seconds()
}

// cpuTime is the user and system CPU time the process used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAppend loads KCONNECT_DELTA_BENCH_RECORDS records (200k by default) into a local
// Delta table and, in the same run, into the local storage sink's plain Parquet files with the
// same flush size and codec; delta/parquet is the ratio of their records per second. The two
// alternate three times per iteration, so that load from other processes falls on both.
func BenchmarkAppend(b *testing.B) {
	n := benchRecords(b)
	pool := make([]connect.SinkRecord, 10_000)
	for i := range pool {
		pool[i] = benchRecord(i, 0, 0)
	}
	var deltaRate, parquetRate, deltaCPU, parquetCPU float64
	const rounds = 3
	for range b.N * rounds {
		w, c := load(b, localStorageTask(b), map[string]string{
			"store.url": "file://" + b.TempDir(), "format.class": "io.confluent.connect.s3.format.parquet.ParquetFormat",
			"flush.size": "100000", "parquet.codec": "snappy"}, n, pool)
		parquetRate, parquetCPU = parquetRate+w, parquetCPU+c
		w, c = load(b, &Task{}, map[string]string{tablePathConfig: "file://" + b.TempDir(), flushSizeConfig: "100000"}, n, pool)
		deltaRate, deltaCPU = deltaRate+w, deltaCPU+c
	}
	b.ReportMetric(deltaRate/float64(b.N*rounds), "delta-records/s")
	b.ReportMetric(parquetRate/float64(b.N*rounds), "parquet-records/s")
	b.ReportMetric(deltaRate/parquetRate, "delta/parquet")
	b.ReportMetric(deltaCPU/parquetCPU, "delta/parquet-cpu")
}

// BenchmarkUpsert merges batches of 10,000 keyed records (updates of random existing keys) into
// tables of KCONNECT_DELTA_BENCH_RECORDS rows and reports the upserted rows per second.
func BenchmarkUpsert(b *testing.B) {
	n := benchRecords(b)
	const batch = 10_000
	var rate float64
	for range b.N {
		ctx := connecttest.New(b)
		ctx.Name = "bench"
		task := &Task{}
		if err := task.Start(ctx, map[string]string{tablePathConfig: "file://" + b.TempDir(), modeConfig: modeUpsert,
			flushSizeConfig: "100000"}); err != nil {
			b.Fatal(err)
		}
		if err := task.Open(context.Background(), []connect.TopicPartition{{Topic: "bench"}}); err != nil {
			b.Fatal(err)
		}
		off := int64(0)
		recs := make([]connect.SinkRecord, 0, batch)
		for i := range n {
			recs = append(recs, benchRecord(i, off, 0))
			off++
			if len(recs) == batch || i == n-1 {
				if err := task.Put(context.Background(), recs); err != nil {
					b.Fatal(err)
				}
				recs = recs[:0]
			}
		}
		if _, err := task.PreCommit(context.Background(), nil); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		const rounds = 5
		for r := range rounds {
			recs = recs[:0]
			for range batch {
				recs = append(recs, benchRecord(rand.IntN(n), off, r+1))
				off++
			}
			if err := task.Put(context.Background(), recs); err != nil {
				b.Fatal(err)
			}
			if _, err := task.PreCommit(context.Background(), nil); err != nil {
				b.Fatal(err)
			}
		}
		rate += rounds * batch / time.Since(start).Seconds()
		_ = task.Stop()
	}
	b.ReportMetric(rate/float64(b.N), "upserted-rows/s")
	b.ReportMetric(float64(n), "table-rows")
}

func localStorageTask(b *testing.B) connect.SinkTask {
	for _, p := range storage.Plugins() {
		if p.Class == "io.kconnect.connect.storage.LocalStorageSinkConnector" {
			return p.New().(connect.SinkConnector).NewTask()
		}
	}
	b.Fatal("no local storage sink")
	return nil
}
