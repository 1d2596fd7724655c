package storage_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connectors/storage/backend"
	"github.com/kconnect/kconnect/connectors/storage/format"
	"github.com/kconnect/kconnect/converters/jsonconverter"
	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
)

// benchEnvelope is an 8-column row as the JsonConverter's schema-and-payload JSON.
func benchEnvelope(i int) []byte {
	return fmt.Appendf(nil, `{"schema":{"type":"struct","name":"bench.Value","optional":false,"fields":[`+
		`{"field":"id","type":"int64","optional":false},{"field":"name","type":"string","optional":false},`+
		`{"field":"email","type":"string","optional":false},{"field":"qty","type":"int32","optional":false},`+
		`{"field":"price","type":"double","optional":false},{"field":"score","type":"double","optional":false},`+
		`{"field":"active","type":"boolean","optional":false},`+
		`{"field":"created","type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp","version":1}]},`+
		`"payload":{"id":%d,"name":"name-%d","email":"user%d@example.com","qty":%d,"price":%g,"score":%g,"active":%t,"created":%d}}`,
		i, i, i, i%1000, float64(i%10000)/100, float64(i)*0.5, i%2 == 0, 1_700_000_000_000+int64(i))
}

// benchRow is the bare program's row: the same columns, with the same Parquet types.
type benchRow struct {
	Active  bool      `parquet:"active"`
	Created time.Time `parquet:"created,timestamp(millisecond)"`
	Email   string    `parquet:"email"`
	ID      int64     `parquet:"id"`
	Name    string    `parquet:"name"`
	Price   float64   `parquet:"price"`
	Qty     int32     `parquet:"qty"`
	Score   float64   `parquet:"score"`
}

func produceBench(b *testing.B, bootstrap, topic string, n int) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...), kgo.DefaultProduceTopic(topic),
		kgo.ProducerLinger(5*time.Millisecond), kgo.ProducerBatchMaxBytes(1<<20))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	if resp, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, topic); err != nil || resp.Err != nil {
		b.Fatalf("create topic: %v %v", err, resp.Err)
	}
	var failed atomic.Pointer[error]
	for i := range n {
		cl.Produce(ctx, &kgo.Record{Value: benchEnvelope(i)}, func(_ *kgo.Record, err error) {
			if err != nil {
				failed.CompareAndSwap(nil, &err)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
}

// decodeBench turns one record value into a bench row the way the sink's worker does, with the
// JsonConverter (schema and payload), and then reads the struct's fields by position.
func decodeBench(conv *jsonconverter.Converter, value []byte) (benchRow, error) {
	_, v, err := conv.ToConnectData("bench", value)
	if err != nil {
		return benchRow{}, err
	}
	st, ok := v.(*connect.Struct)
	if !ok {
		return benchRow{}, fmt.Errorf("value is %T, not a struct", v)
	}
	f := st.RawValues()
	return benchRow{ID: f[0].(int64), Name: f[1].(string), Email: f[2].(string), Qty: f[3].(int32), Price: f[4].(float64),
		Score: f[5].(float64), Active: f[6].(bool), Created: f[7].(time.Time)}, nil
}

// bareLoad is the baseline the sink is compared with, the straightforward fast program a user
// could write instead: it consumes topic from the start with franz-go, decodes each fetch's
// records in parallel on every CPU with the same JsonConverter the worker runs, and writes
// snappy Parquet files of flushSize rows with parquet-go through the same backend store as the
// sink (temporary file, close, rename), writing one fetch while the next is decoded. It returns
// its rate in records/s.
func bareLoad(b *testing.B, bootstrap, topic string, st backend.Store, n, flushSize int) float64 {
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(64<<20), kgo.FetchMaxPartitionBytes(32<<20))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	began := time.Now()
	conv := jsonconverter.New()
	if err := conv.Configure(map[string]string{"schemas.enable": "true"}, false); err != nil {
		b.Fatal(err)
	}
	type batch struct {
		rows  []benchRow
		first int64
	}
	batches := make(chan batch, 2)
	decodeErr := make(chan error, 1)
	go func() {
		defer close(batches)
		workers := runtime.GOMAXPROCS(0)
		for count := 0; count < n; {
			fetches := cl.PollFetches(context.Background())
			if errs := fetches.Errors(); len(errs) > 0 {
				decodeErr <- errs[0].Err
				return
			}
			recs := fetches.Records()
			if len(recs) == 0 {
				continue
			}
			rows := make([]benchRow, len(recs))
			var wg sync.WaitGroup
			var failed atomic.Pointer[error]
			chunk := (len(recs) + workers - 1) / workers
			for lo := 0; lo < len(recs); lo += chunk {
				wg.Add(1)
				go func(lo, hi int) {
					defer wg.Done()
					for i := lo; i < hi; i++ {
						var err error
						if rows[i], err = decodeBench(conv, recs[i].Value); err != nil {
							failed.CompareAndSwap(nil, &err)
							return
						}
					}
				}(lo, min(lo+chunk, len(recs)))
			}
			wg.Wait()
			if err := failed.Load(); err != nil {
				decodeErr <- *err
				return
			}
			batches <- batch{rows: rows, first: recs[0].Offset}
			count += len(recs)
		}
	}()

	ctx := context.Background()
	var (
		f     backend.Writer
		w     *parquet.GenericWriter[benchRow]
		start int64
		count int
		tmp   = "bench/+tmp/bench.parquet"
	)
	finish := func(end int64) {
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		if err := st.Rename(ctx, tmp, fmt.Sprintf("bench/bench+0+%010d+%010d.parquet", start, end)); err != nil {
			b.Fatal(err)
		}
		f, w = nil, nil
	}
	for bt := range batches {
		for len(bt.rows) > 0 {
			if f == nil {
				if f, err = st.Create(ctx, tmp); err != nil {
					b.Fatal(err)
				}
				w = parquet.NewGenericWriter[benchRow](f, parquet.Compression(&parquet.Snappy))
				start = bt.first
			}
			take := min(len(bt.rows), flushSize-count%flushSize)
			if _, err := w.Write(bt.rows[:take]); err != nil {
				b.Fatal(err)
			}
			bt.rows, bt.first, count = bt.rows[take:], bt.first+int64(take), count+take
			if count%flushSize == 0 {
				finish(bt.first - 1)
			}
		}
	}
	select {
	case err := <-decodeErr:
		b.Fatal(err)
	default:
	}
	if f != nil {
		finish(int64(count - 1))
	}
	return float64(count) / time.Since(began).Seconds()
}

// BenchmarkParquetVsBare loads one topic of 8-column JSON records (KCONNECT_STORAGE_BENCH_RECORDS,
// 200000 by default) into snappy Parquet files on local disk and on HDFS, each store twice with
// each program, alternating: the storage sink in a kconnect worker process (sinkLoad, from
// connector creation until the consumer group committed the last offset) and the bare franz-go +
// parquet-go program (bareLoad) in this process, writing through the same backend. It reports
// both better rates, their ratio and the worker's peak RSS (over both sink runs). One op is the whole comparison:
//
//	go test -run '^$' -bench ParquetVsBare -benchtime 1x ./connectors/storage/
func BenchmarkParquetVsBare(b *testing.B) {
	n := 200_000
	if v := os.Getenv("KCONNECT_STORAGE_BENCH_RECORDS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatalf("KCONNECT_STORAGE_BENCH_RECORDS=%q: %v", v, err)
		}
	}
	const flushSize = 50_000
	for _, kind := range []string{"local", "hdfs"} {
		b.Run(kind, func(b *testing.B) {
			for b.Loop() {
				w := startWorker(b)
				topic := testenv.Topic(b, "st-bench")
				produceBench(b, w.Bootstrap, topic, n)

				// Each side runs twice, alternating, and counts its better run: reading the topic
				// cold the first time does not count against either, and a burst of load from
				// other processes on the machine hits both alike.
				var bare, sink float64
				for round := range 2 {
					bare = max(bare, bareLoad(b, w.Bootstrap, topic, newTarget(b, kind).store, n, flushSize))
					sink = max(sink, sinkLoad(b, w, kind, topic, fmt.Sprintf("bench-%d-%s", round, topic[len(topic)-8:]), n, flushSize))
				}
				if rss := workerPeakRSS(b, w.Dir); rss > 0 {
					b.ReportMetric(float64(rss)/(1<<20), "worker-peak-rss-MiB")
				}
				b.ReportMetric(sink, "sink-records/s")
				b.ReportMetric(bare, "bare-records/s")
				b.ReportMetric(sink/bare, "ratio")
			}
		})
	}
}

// sinkLoad runs the storage sink in worker w from connector creation until its consumer group
// committed all n records of topic, and returns its rate in records/s.
func sinkLoad(b *testing.B, w *workertest.Worker, kind, topic, name string, n, flushSize int) float64 {
	config := map[string]string{
		"connector.class":             "LocalStorageSink",
		"topics":                      topic,
		"format.class":                "io.confluent.connect.s3.format.parquet.ParquetFormat",
		"parquet.codec":               "snappy",
		"flush.size":                  strconv.Itoa(flushSize),
		"rotate.schedule.interval.ms": "10000",
		"timezone":                    "UTC",
	}
	newTarget(b, kind).point(config, "store.url")
	created := time.Now()
	code, body := w.Do("POST", "/connectors", map[string]any{"name": name, "config": config})
	if code != 201 {
		b.Fatalf("create connector: %d %s", code, body)
	}
	for testenv.GroupOffsets(b, w.Bootstrap, "connect-"+name, topic) != int64(n) {
		time.Sleep(20 * time.Millisecond)
		if time.Since(created) > 10*time.Minute {
			b.Fatalf("sink did not finish\n%s", w.Log())
		}
	}
	rate := float64(n) / time.Since(created).Seconds()
	if code, body := w.Do("DELETE", "/connectors/"+name, nil); code != 204 {
		b.Fatalf("delete connector: %d %s", code, body)
	}
	return rate
}

// workerPeakRSS returns the peak resident set (VmHWM, bytes) of the worker process whose
// command line names a file in dir, or 0 when /proc does not show it.
func workerPeakRSS(b testing.TB, dir string) int64 {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		cmdline, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(cmdline), filepath.Join(dir, "worker.properties")) {
			continue
		}
		status, err := os.ReadFile(filepath.Join(filepath.Dir(p), "status"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				if err != nil {
					b.Fatalf("VmHWM %q: %v", v, err)
				}
				return kb << 10
			}
		}
	}
	return 0
}

// BenchmarkParquetFormat writes files of 50000 of the 8-column records, as the JsonConverter
// decodes them, through the storage sinks' Parquet format and, as the baseline, the same rows
// through parquet-go's generic writer of benchRow, snappy-compressed to io.Discard, in turn. It
// reports the format's records/s and its rate relative to the baseline's in process CPU time,
// which load from other processes distorts less than wall time:
//
//	go test -run '^$' -bench ParquetFormat -benchtime 10x -count 6 ./connectors/storage/
func BenchmarkParquetFormat(b *testing.B) {
	const n = 50_000
	conv := jsonconverter.New()
	if err := conv.Configure(map[string]string{"schemas.enable": "true"}, false); err != nil {
		b.Fatal(err)
	}
	recs := make([]connect.SinkRecord, n)
	rows := make([]benchRow, n)
	for i := range n {
		schema, value, err := conv.ToConnectData("bench", benchEnvelope(i))
		if err != nil {
			b.Fatal(err)
		}
		recs[i] = connect.SinkRecord{Record: connect.Record{Topic: "bench", Offset: int64(i), ValueSchema: schema, Value: value}}
		if rows[i], err = decodeBench(conv, benchEnvelope(i)); err != nil {
			b.Fatal(err)
		}
	}
	f, err := format.New("io.confluent.connect.s3.format.parquet.ParquetFormat", format.Options{ParquetCodec: "snappy"})
	if err != nil {
		b.Fatal(err)
	}
	cpu := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	var formatWall, formatCPU, baseCPU time.Duration
	for b.Loop() {
		began, c := time.Now(), cpu()
		w, err := f.NewWriter(io.Discard, recs[0].ValueSchema)
		if err != nil {
			b.Fatal(err)
		}
		for i := range recs {
			if err := w.Write(&recs[i]); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		formatWall, formatCPU = formatWall+time.Since(began), formatCPU+cpu()-c

		c = cpu()
		g := parquet.NewGenericWriter[benchRow](io.Discard, parquet.Compression(&parquet.Snappy))
		if _, err := g.Write(rows); err != nil {
			b.Fatal(err)
		}
		if err := g.Close(); err != nil {
			b.Fatal(err)
		}
		baseCPU += cpu() - c
	}
	b.ReportMetric(float64(n*b.N)/formatWall.Seconds(), "records/s")
	b.ReportMetric(baseCPU.Seconds()/formatCPU.Seconds(), "cpu-ratio")
}
