package storage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/internal/testenv"
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

// bareLoad consumes topic from the start with franz-go and writes Parquet files of flushSize rows
// with parquet-go (snappy, temp file, fsync, rename): the baseline the sink is compared with.
func bareLoad(b *testing.B, bootstrap, topic, dir string, n, flushSize int) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(64<<20), kgo.FetchMaxPartitionBytes(32<<20))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	var (
		f     *os.File
		w     *parquet.GenericWriter[benchRow]
		rows  []benchRow
		count int
		start int64
	)
	var env struct {
		Payload struct {
			ID      int64   `json:"id"`
			Name    string  `json:"name"`
			Email   string  `json:"email"`
			Qty     int32   `json:"qty"`
			Price   float64 `json:"price"`
			Score   float64 `json:"score"`
			Active  bool    `json:"active"`
			Created int64   `json:"created"`
		} `json:"payload"`
	}
	finish := func(end int64) {
		if _, err := w.Write(rows); err != nil {
			b.Fatal(err)
		}
		rows = rows[:0]
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		f.Close()
		if err := os.Rename(f.Name(), filepath.Join(dir, fmt.Sprintf("bench+0+%010d+%010d.parquet", start, end))); err != nil {
			b.Fatal(err)
		}
		f, w = nil, nil
	}
	for count < n {
		fetches := cl.PollFetches(context.Background())
		if errs := fetches.Errors(); len(errs) > 0 {
			b.Fatal(errs[0].Err)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			if f == nil {
				if f, err = os.Create(filepath.Join(dir, "tmp.parquet")); err != nil {
					b.Fatal(err)
				}
				w = parquet.NewGenericWriter[benchRow](f, parquet.Compression(&parquet.Snappy))
				start = r.Offset
			}
			if err := json.Unmarshal(r.Value, &env); err != nil {
				b.Fatal(err)
			}
			p := env.Payload
			rows = append(rows, benchRow{Active: p.Active, Created: time.UnixMilli(p.Created), Email: p.Email, ID: p.ID,
				Name: p.Name, Price: p.Price, Qty: p.Qty, Score: p.Score})
			if len(rows) == 1024 {
				if _, err := w.Write(rows); err != nil {
					b.Fatal(err)
				}
				rows = rows[:0]
			}
			count++
			if count%flushSize == 0 {
				finish(r.Offset)
			}
		})
	}
	if f != nil {
		finish(int64(count - 1))
	}
}

// BenchmarkParquetLocalVsBare loads one topic of 8-column JSON records (KCONNECT_STORAGE_BENCH_RECORDS,
// 200000 by default) into snappy Parquet files on local disk twice: with the local storage sink in
// a kconnect worker process (from connector creation until the consumer group committed the last
// offset) and with a bare franz-go + parquet-go program in this process (the better of two runs);
// it reports both rates and their ratio. One op is the whole comparison:
//
//	go test -run '^$' -bench ParquetLocalVsBare -benchtime 1x ./connectors/storage/
func BenchmarkParquetLocalVsBare(b *testing.B) {
	n := 200_000
	if v := os.Getenv("KCONNECT_STORAGE_BENCH_RECORDS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatalf("KCONNECT_STORAGE_BENCH_RECORDS=%q: %v", v, err)
		}
	}
	const flushSize = 50_000
	for b.Loop() {
		w := startWorker(b)
		topic := testenv.Topic(b, "st-bench")
		produceBench(b, w.Bootstrap, topic, n)

		// The bare program runs twice and counts its better run, so that reading the topic cold
		// the first time does not count against it.
		var bare float64
		for range 2 {
			bareStart := time.Now()
			bareLoad(b, w.Bootstrap, topic, b.TempDir(), n, flushSize)
			bare = max(bare, float64(n)/time.Since(bareStart).Seconds())
		}

		out := b.TempDir()
		name := "bench-" + topic[len(topic)-8:]
		sinkStart := time.Now()
		code, body := w.Do("POST", "/connectors", map[string]any{"name": name, "config": map[string]string{
			"connector.class":             "LocalStorageSink",
			"topics":                      topic,
			"store.url":                   "file://" + out,
			"format.class":                "io.confluent.connect.s3.format.parquet.ParquetFormat",
			"parquet.codec":               "snappy",
			"flush.size":                  strconv.Itoa(flushSize),
			"rotate.schedule.interval.ms": "1000",
			"timezone":                    "UTC",
		}})
		if code != 201 {
			b.Fatalf("create connector: %d %s", code, body)
		}
		for groupOffsets(b, w.Bootstrap, "connect-"+name, topic) != int64(n) {
			time.Sleep(20 * time.Millisecond)
			if time.Since(sinkStart) > 10*time.Minute {
				b.Fatalf("sink did not finish\n%s", w.Log())
			}
		}
		sink := float64(n) / time.Since(sinkStart).Seconds()
		if rss := workerPeakRSS(b, w.Dir); rss > 0 {
			b.ReportMetric(float64(rss)/(1<<20), "worker-peak-rss-MiB")
		}
		b.ReportMetric(sink, "sink-records/s")
		b.ReportMetric(bare, "bare-records/s")
		b.ReportMetric(sink/bare, "ratio")
	}
}

// workerPeakRSS returns the peak resident set (VmHWM, bytes) of the worker process whose
// command line names a file in dir, or 0 when /proc does not show it.
func workerPeakRSS(b *testing.B, dir string) int64 {
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
