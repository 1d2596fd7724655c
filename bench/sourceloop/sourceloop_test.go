// Package sourceloop benchmarks the runtime's source loop: datagen records go through the JSON
// converter and the async producer into the embedded broker, against a bare franz-go producer
// sending the same bytes to the same broker in the same process.
//
//	go test ./bench/sourceloop -run '^$' -bench . -benchtime 200000x
//
// BenchmarkSourceLoopMetrics compares the source loop with the worker's Prometheus metrics on and
// off instead.
package sourceloop

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/broker"
	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters/jsonconverter"
	"github.com/kconnect/kconnect/internal/gctuning"
	"github.com/kconnect/kconnect/plugins"
	"github.com/kconnect/kconnect/runtime"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/metrics"
	"github.com/kconnect/kconnect/runtime/offsets"
)

const recordSize = 1024

// BenchmarkSourceLoop runs b.N records through a bare producer and through the full source loop,
// alternating the two three times, and reports the median records/s of each, their ratio, and the
// CPU time per record of each (process CPU, which other load on a shared machine distorts less
// than wall time).
func BenchmarkSourceLoop(b *testing.B) {
	brk, log := setup(b)
	n := b.N
	var bare, loop, bareCPU, loopCPU []float64
	b.ResetTimer()
	for range 3 {
		rate, cpu := measure(n, func() float64 { return bareProducer(b, brk.Addr(), n) })
		bare, bareCPU = append(bare, rate), append(bareCPU, cpu)
		rate, cpu = measure(n, func() float64 { return sourceLoop(b, brk.Addr(), n, log, nil) })
		loop, loopCPU = append(loop, rate), append(loopCPU, cpu)
	}
	b.StopTimer()
	b.ReportMetric(median(bare), "bare-rec/s")
	b.ReportMetric(median(loop), "loop-rec/s")
	b.ReportMetric(median(loop)/median(bare), "ratio")
	b.ReportMetric(median(bareCPU), "bare-cpu-us/rec")
	b.ReportMetric(median(loopCPU), "loop-cpu-us/rec")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkSourceLoopMetrics runs b.N records through the source loop without and with metrics,
// six times each, and reports the median records/s of each and their ratio.
func BenchmarkSourceLoopMetrics(b *testing.B) {
	brk, log := setup(b)
	n := b.N
	var off, on, offCPU, onCPU []float64
	runOff := func() {
		rate, cpu := measure(n, func() float64 { return sourceLoop(b, brk.Addr(), n, log, nil) })
		off, offCPU = append(off, rate), append(offCPU, cpu)
	}
	runOn := func() {
		rate, cpu := measure(n, func() float64 { return sourceLoop(b, brk.Addr(), n, log, metrics.New()) })
		on, onCPU = append(on, rate), append(onCPU, cpu)
	}
	b.ResetTimer()
	// Each side goes first in turn: the broker's growing data makes later runs a little slower.
	for i := range 6 {
		if i%2 == 0 {
			runOff()
			runOn()
		} else {
			runOn()
			runOff()
		}
	}
	b.StopTimer()
	b.ReportMetric(median(off), "off-rec/s")
	b.ReportMetric(median(on), "on-rec/s")
	b.ReportMetric(median(on)/median(off), "ratio")
	b.ReportMetric(median(offCPU), "off-cpu-us/rec")
	b.ReportMetric(median(onCPU), "on-cpu-us/rec")
	b.ReportMetric(0, "ns/op")
}

// setup applies the kconnect binary's GC policy and starts the embedded broker, closed when the
// benchmark ends. It has a data directory, as `bootstrap.servers=embedded` runs it in a worker:
// without one kfake keeps every segment in a growing in-memory file whose doubling copies cost
// more CPU than either client, which is not what users run.
func setup(b *testing.B) (*broker.Broker, *slog.Logger) {
	gctuning.Apply()
	log := slog.New(slog.DiscardHandler)
	brk, err := broker.Start(broker.Options{Logger: log, DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { brk.Close() })
	return brk, log
}

// measure runs f and returns its records/s and the process CPU microseconds per record it used.
func measure(n int, f func() float64) (rate, cpuPerRecord float64) {
	before := cpuTime()
	rate = f()
	return rate, float64((cpuTime() - before).Microseconds()) / float64(n)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// sampleValue is the JSON a datagen record of recordSize becomes (same shape, same alphabet, same
// length), for the bare producer to send.
func sampleValue(b *testing.B) []byte {
	conv := jsonconverter.New()
	if err := conv.Configure(map[string]string{"schemas.enable": "false"}, false); err != nil {
		b.Fatal(err)
	}
	s := connect.StructBuilder().Field("id", connect.Int64Schema).Field("ts", connect.TimestampSchema().MustBuild()).
		Field("payload", connect.StringSchema).MustBuild()
	v := connect.NewStruct(s).Set("id", int64(123456)).Set("ts", time.UnixMilli(1_700_000_000_000)).
		Set("payload", strings.Repeat("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", recordSize/62+1)[:recordSize-16])
	out, err := conv.FromConnectData("t", s, v)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

func bareProducer(b *testing.B, addr string, n int) float64 {
	value := sampleValue(b)
	// The producer settings the source loop uses by default: Kafka's no compression and 32 MiB
	// buffer, and at most 10,000 records waiting.
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.MaxBufferedBytes(32<<20), kgo.MaxBufferedRecords(10_000))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	topic := createTopic(b, addr, "bare")
	ctx := context.Background()
	errc := make(chan error, 1)
	start := time.Now()
	for i := 0; i < n; i++ {
		cl.Produce(ctx, &kgo.Record{Topic: topic, Value: value}, func(_ *kgo.Record, err error) {
			if err != nil {
				select {
				case errc <- err:
				default:
				}
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	select {
	case err := <-errc:
		b.Fatal(err)
	default:
	}
	return float64(n) / elapsed.Seconds()
}

// sourceLoop runs n datagen records through a worker's source loop, recording metrics in m
// unless it is nil.
func sourceLoop(b *testing.B, addr string, n int, log *slog.Logger, m *metrics.Metrics) float64 {
	dir := b.TempDir()
	reg, err := plugins.Registry()
	if err != nil {
		b.Fatal(err)
	}
	store, err := offsets.OpenFile(filepath.Join(dir, "offsets"))
	if err != nil {
		b.Fatal(err)
	}
	w, err := runtime.NewWorker("bench", map[string]string{
		"bootstrap.servers":              addr,
		"key.converter":                  "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable": "false",
		"offset.flush.interval.ms":       "1000",
	}, reg, store, log)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	if m != nil {
		w.SetMetrics(m)
	}
	topic := createTopic(b, addr, "loop")
	conn := map[string]string{
		"name": "datagen", "connector.class": "DatagenConnector", "kafka.topic": topic,
		"iterations": fmt.Sprint(n), "max.interval": "0", "record.size": fmt.Sprint(recordSize), "batch.size": "1000",
	}
	taskProps := map[string]string{}
	for k, v := range conn {
		taskProps[k] = v
	}
	taskProps["task.id"] = "0"
	failed := make(chan error, 1)
	listener := func(_ herder.TaskID, state herder.State, err error) {
		if state == herder.Failed {
			failed <- err
		}
	}
	adm, closeAdm := admin(b, addr)
	defer closeAdm()

	start := time.Now()
	task, err := w.StartSourceTask(herder.TaskID{Connector: "datagen"}, conn, taskProps, listener)
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = task.Stop(ctx)
	}()
	// The loop is done when every record is in the topic: poll its end offset.
	for {
		select {
		case err := <-failed:
			b.Fatal(err)
		default:
		}
		ends, err := adm.ListEndOffsets(context.Background(), topic)
		if err == nil {
			if o, ok := ends.Lookup(topic, 0); ok && o.Err == nil && o.Offset >= int64(n) {
				return float64(n) / time.Since(start).Seconds()
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// createTopic creates a one-partition topic up front, so neither phase measures auto-creation and
// the end-offset polling never sees (and caches) a missing topic.
func createTopic(b *testing.B, addr, prefix string) string {
	adm, closeAdm := admin(b, addr)
	defer closeAdm()
	topic := fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano())
	if _, err := adm.CreateTopic(context.Background(), 1, 1, nil, topic); err != nil {
		b.Fatal(err)
	}
	return topic
}

func admin(b *testing.B, addr string) (*kadm.Client, func()) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		b.Fatal(err)
	}
	return kadm.NewClient(cl), cl.Close
}
