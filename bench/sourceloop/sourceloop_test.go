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
	"math"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strings"
	"sync"
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
		rate, cpu = measure(n, func() float64 { return sourceLoop(b, brk.Addr(), n, log) })
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

// BenchmarkSourceLoopMetrics runs, per op, two processes side by side, each this test binary with
// its own embedded broker and a source loop producing datagen records, one without metrics and
// one with, and measures both over the same wall-clock window (metricsWindow, opening
// metricsStart after their launch). Load from other processes on a shared machine comes and goes
// within a second, so runs one after the other see different machines; side by side, both see
// the same one. It reports the median over the ops of the on/off ratio of records/s, and of the
// off/on ratio of process CPU time per record (cpu-ratio), beside each side's median rate and
// CPU time per record.
//
//	go test ./bench/sourceloop -run '^$' -bench SourceLoopMetrics -benchtime 10x -count 6
func BenchmarkSourceLoopMetrics(b *testing.B) {
	if side := os.Getenv(sideEnv); side != "" {
		metricsSide(b, side, os.Getenv(windowEnv))
		return
	}
	var off, on, offCPU, onCPU, ratios, cpuRatios []float64
	b.ResetTimer()
	for range b.N {
		opens := time.Now().Add(metricsStart)
		window := fmt.Sprintf("%d,%d", opens.UnixNano(), opens.Add(metricsWindow).UnixNano())
		var wg sync.WaitGroup
		var got [2]sideResult
		for i, side := range []string{"off", "on"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i] = runSide(b, side, window)
			}()
		}
		wg.Wait()
		for i, side := range []string{"off", "on"} {
			if got[i].warm < metricsWarmRecords || got[i].records <= 0 {
				b.Fatalf("the %s side had produced %d records when the window opened (want %d; raise metricsStart) and %d in it", side, got[i].warm, metricsWarmRecords, got[i].records)
			}
		}
		offRate, onRate := got[0].rate(), got[1].rate()
		off, offCPU, on, onCPU = append(off, offRate), append(offCPU, got[0].cpuPerRecord()), append(on, onRate), append(onCPU, got[1].cpuPerRecord())
		ratios, cpuRatios = append(ratios, onRate/offRate), append(cpuRatios, got[0].cpuPerRecord()/got[1].cpuPerRecord())
	}
	b.StopTimer()
	b.ReportMetric(median(off), "off-rec/s")
	b.ReportMetric(median(on), "on-rec/s")
	b.ReportMetric(median(ratios), "ratio")
	b.ReportMetric(median(offCPU), "off-cpu-us/rec")
	b.ReportMetric(median(onCPU), "on-cpu-us/rec")
	b.ReportMetric(median(cpuRatios), "cpu-ratio")
	b.ReportMetric(0, "ns/op")
}

const (
	// sideEnv makes BenchmarkSourceLoopMetrics run one side ("on" or "off") in a child process,
	// over the window in windowEnv ("opens,closes" in Unix nanoseconds).
	sideEnv   = "KCONNECT_SOURCELOOP_SIDE"
	windowEnv = "KCONNECT_SOURCELOOP_WINDOW"
	// A side must be producing when its window opens, past its first batches.
	metricsStart       = 3 * time.Second
	metricsWindow      = 1500 * time.Millisecond
	metricsWarmRecords = 10_000
	sideLinePrefix     = "sourceloop-side:"
)

// sideResult is what one side measured over its window.
type sideResult struct {
	warm    int64 // records in the topic when the window opened
	records int64 // records produced in the window
	seconds float64
	cpuUs   int64 // process CPU time in the window
}

func (r sideResult) rate() float64         { return float64(r.records) / r.seconds }
func (r sideResult) cpuPerRecord() float64 { return float64(r.cpuUs) / float64(r.records) }

// runSide runs one side in a child process and returns what it measured.
func runSide(b *testing.B, side, window string) sideResult {
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^BenchmarkSourceLoopMetrics$", "-test.benchtime=1x", "-test.count=1")
	// Both sides get the parallelism of this process, whatever the environment said.
	cmd.Env = append(os.Environ(), sideEnv+"="+side, windowEnv+"="+window, fmt.Sprintf("GOMAXPROCS=%d", goruntime.GOMAXPROCS(0)))
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Errorf("%s side: %v\n%s", side, err, out)
		return sideResult{}
	}
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, sideLinePrefix); ok {
			var r sideResult
			if _, err := fmt.Sscanf(rest, "%d %d %g %d", &r.warm, &r.records, &r.seconds, &r.cpuUs); err != nil {
				b.Errorf("%s side printed %q: %v", side, line, err)
			}
			return r
		}
	}
	b.Errorf("%s side printed no result:\n%s", side, out)
	return sideResult{}
}

// metricsSide is one side of BenchmarkSourceLoopMetrics: it runs a source loop, with metrics when
// side is "on", and prints what it produced over the window.
func metricsSide(b *testing.B, side, window string) {
	var opens, closes int64
	if _, err := fmt.Sscanf(window, "%d,%d", &opens, &closes); err != nil {
		b.Fatalf("%s=%q: %v", windowEnv, window, err)
	}
	brk, log := setup(b)
	var m *metrics.Metrics
	if side == "on" {
		m = metrics.New()
	}
	end, stop := startLoop(b, brk.Addr(), math.MaxInt32, log, m)
	defer stop()
	time.Sleep(time.Until(time.Unix(0, opens)))
	o1, c1, t1 := end(), cpuTime(), time.Now()
	time.Sleep(time.Until(time.Unix(0, closes)))
	o2, c2, t2 := end(), cpuTime(), time.Now()
	fmt.Printf("%s%d %d %g %d\n", sideLinePrefix, o1, o2-o1, t2.Sub(t1).Seconds(), (c2 - c1).Microseconds())
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
	topic, drop := createTopic(b, addr, "bare")
	defer drop()
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

// sourceLoop runs n datagen records through a worker's source loop and returns its records/s.
func sourceLoop(b *testing.B, addr string, n int, log *slog.Logger) float64 {
	start := time.Now()
	end, stop := startLoop(b, addr, n, log, nil)
	defer stop()
	// The loop is done when every record is in the topic.
	for end() < int64(n) {
		time.Sleep(2 * time.Millisecond)
	}
	return float64(n) / time.Since(start).Seconds()
}

// startLoop starts a worker's source loop producing n datagen records into a new topic,
// recording metrics in m unless it is nil. end returns the topic's end offset (-1 when the
// broker did not say), failing the benchmark once the task failed; stop stops the loop.
func startLoop(b *testing.B, addr string, n int, log *slog.Logger, m *metrics.Metrics) (end func() int64, stop func()) {
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
	if m != nil {
		w.SetMetrics(m)
	}
	topic, drop := createTopic(b, addr, "loop")
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
	task, err := w.StartSourceTask(herder.TaskID{Connector: "datagen"}, conn, taskProps, listener)
	if err != nil {
		b.Fatal(err)
	}
	end = func() int64 {
		select {
		case err := <-failed:
			b.Fatal(err)
		default:
		}
		ends, err := adm.ListEndOffsets(context.Background(), topic)
		if o, ok := ends.Lookup(topic, 0); err == nil && ok && o.Err == nil {
			return o.Offset
		}
		return -1
	}
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = task.Stop(ctx)
		closeAdm()
		drop()
		w.Close()
	}
	return end, stop
}

// createTopic creates a one-partition topic up front, so neither phase measures auto-creation and
// the end-offset polling never sees (and caches) a missing topic. drop deletes it: the broker's
// data, growing by every run's records, would make each run a little slower than the one before.
func createTopic(b *testing.B, addr, prefix string) (topic string, drop func()) {
	adm, closeAdm := admin(b, addr)
	defer closeAdm()
	topic = fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano())
	if _, err := adm.CreateTopic(context.Background(), 1, 1, nil, topic); err != nil {
		b.Fatal(err)
	}
	return topic, func() {
		adm, closeAdm := admin(b, addr)
		defer closeAdm()
		resp, err := adm.DeleteTopic(context.Background(), topic)
		if err == nil {
			err = resp.Err
		}
		if err != nil {
			b.Fatalf("delete topic %s: %v", topic, err)
		}
	}
}

func admin(b *testing.B, addr string) (*kadm.Client, func()) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		b.Fatal(err)
	}
	return kadm.NewClient(cl), cl.Close
}
