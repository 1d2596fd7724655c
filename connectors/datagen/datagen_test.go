package datagen

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connect/connecttest"
)

type nopConnectorContext struct{ t testing.TB }

func (nopConnectorContext) RequestTaskReconfiguration() {}

func (c nopConnectorContext) RaiseError(err error) { c.t.Errorf("connector raised %v", err) }

func (c nopConnectorContext) Logger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func startTask(t testing.TB, ctx *connecttest.Context, props map[string]string) *Task {
	t.Helper()
	task := &Task{}
	if err := task.Start(ctx, props); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return task
}

func ids(t *testing.T, recs []connect.SourceRecord) []int64 {
	t.Helper()
	out := make([]int64, len(recs))
	for i, r := range recs {
		st, ok := r.Value.(*connect.Struct)
		if !ok {
			t.Fatalf("record %d: value %T, want *connect.Struct", i, r.Value)
		}
		out[i] = st.Get("id").(int64)
	}
	return out
}

func TestRecordShape(t *testing.T) {
	task := startTask(t, connecttest.New(t), map[string]string{
		topicConfig: "gen", maxIntervalConfig: "0", recordSizeConfig: "100", batchSizeConfig: "5",
	})
	before := time.Now().Add(-time.Millisecond)
	recs := connecttest.PollNow(t, task)
	if len(recs) != 5 {
		t.Fatalf("got %d records, want batch.size 5", len(recs))
	}
	for i, r := range recs {
		if r.Topic != "gen" || r.Key != nil || r.ValueSchema != valueSchema {
			t.Errorf("record %d: topic %q key %v schema %v", i, r.Topic, r.Key, r.ValueSchema)
		}
		if err := connect.Validate(r.ValueSchema, r.Value); err != nil {
			t.Errorf("record %d does not match its schema: %v", i, err)
		}
		st := r.Value.(*connect.Struct)
		if p := st.Get("payload").(string); len(p) != 100-16 {
			t.Errorf("record %d: payload of %d bytes, want 84", i, len(p))
		}
		ts := st.Get("ts").(time.Time)
		if ts.Before(before) || ts.After(time.Now()) || ts.Nanosecond()%int(time.Millisecond) != 0 {
			t.Errorf("record %d: ts %v is not the generation time in milliseconds", i, ts)
		}
		if got := r.SourcePartition[taskIDField]; got != int64(0) {
			t.Errorf("record %d: partition %v, want task.id 0", i, r.SourcePartition)
		}
		// Only the batch's last record carries its own position; the others, the batch start.
		want := int64(0)
		if i == len(recs)-1 {
			want = int64(len(recs))
		}
		if got := r.SourceOffset[iterationField]; got != want {
			t.Errorf("record %d: offset %v, want current.iteration %d", i, r.SourceOffset, want)
		}
	}
	if got := ids(t, recs); got[0] != 0 || got[4] != 4 {
		t.Errorf("ids %v, want 0..4", got)
	}
}

func TestIterationsAcrossRestart(t *testing.T) {
	ctx := connecttest.New(t)
	props := map[string]string{topicConfig: "gen", maxIntervalConfig: "0", iterationsConfig: "250", batchSizeConfig: "100"}
	first := startTask(t, ctx, props)
	var generated []connect.SourceRecord
	for _, want := range []int{100, 100} {
		recs := connecttest.PollNow(t, first)
		if len(recs) != want {
			t.Fatalf("first run: batch of %d, want %d", len(recs), want)
		}
		generated = append(generated, recs...)
	}
	// Only 150 records made it to Kafka before the worker died: the committed position is the
	// start of the second batch, so that whole batch is generated again and nothing is skipped.
	ctx.Commit(generated[:150])
	first.Stop()

	second := startTask(t, ctx, props)
	var again []connect.SourceRecord
	for _, want := range []int{100, 50} {
		recs := connecttest.PollNow(t, second)
		if len(recs) != want {
			t.Fatalf("after restart: batch of %d, want %d", len(recs), want)
		}
		again = append(again, recs...)
	}
	got := ids(t, again)
	for i, id := range got {
		if id != int64(100+i) {
			t.Fatalf("after restart ids %v..., want 100..249", got[:5])
		}
	}
	if last := again[149].SourceOffset[iterationField]; last != int64(250) {
		t.Errorf("last offset %v, want 250", last)
	}
	if more := connecttest.PollNow(t, second); more != nil {
		t.Fatalf("%d records beyond iterations", len(more))
	}
}

func TestTasksShareWorkAndIDs(t *testing.T) {
	c := &Connector{}
	if err := c.Start(nopConnectorContext{t}, map[string]string{topicConfig: "gen", maxIntervalConfig: "0", iterationsConfig: "10", rateConfig: "0"}); err != nil {
		t.Fatal(err)
	}
	cfgs, err := c.TaskConfigs(3)
	if err != nil || len(cfgs) != 3 {
		t.Fatalf("TaskConfigs(3) = %v, %v", cfgs, err)
	}
	seen := map[int64]bool{}
	for i, cfg := range cfgs {
		if cfg[taskIDConfig] != strconv.Itoa(i) || cfg[taskCountConfig] != "3" {
			t.Fatalf("task %d config %v", i, cfg)
		}
		task := startTask(t, connecttest.New(t), cfg)
		recs := connecttest.PollNow(t, task)
		// iterations counts per task, as upstream's does.
		if len(recs) != 10 {
			t.Fatalf("task %d: %d records, want 10", i, len(recs))
		}
		for _, r := range recs {
			if r.SourcePartition[taskIDField] != int64(i) {
				t.Fatalf("task %d: partition %v", i, r.SourcePartition)
			}
		}
		for _, id := range ids(t, recs) {
			if seen[id] {
				t.Fatalf("id %d generated twice", id)
			}
			seen[id] = true
		}
	}
}

func TestMaxIntervalGeneratesOneRecordPerPoll(t *testing.T) {
	task := startTask(t, connecttest.New(t), map[string]string{topicConfig: "gen", maxIntervalConfig: "1", batchSizeConfig: "50"})
	recs, err := task.Poll(context.Background())
	if err != nil || len(recs) != 1 {
		t.Fatalf("Poll = %d records, %v; want one record", len(recs), err)
	}
}

func TestRateServesBurstsUpToBatchSize(t *testing.T) {
	// 100000/s over two tasks is 50000/s each: a tenth of a second is 5000, capped at batch.size.
	task := startTask(t, connecttest.New(t), map[string]string{
		topicConfig: "gen", rateConfig: "100000", batchSizeConfig: "300", taskIDConfig: "1", taskCountConfig: "2",
	})
	if task.limiter == nil || task.limiter.perSec != 50000 {
		t.Fatalf("limiter %+v, want 50000 records/s for one of two tasks", task.limiter)
	}
	if recs := connecttest.PollNow(t, task); len(recs) != 300 {
		t.Fatalf("first poll gave %d records, want a full batch of 300", len(recs))
	}
}

func TestLimiterRate(t *testing.T) {
	for _, c := range []struct {
		perSec float64
		batch  int
	}{{1000, 100}, {7, 1000}, {0.5, 10}, {250000, 1000}} {
		now := time.Unix(1000, 0)
		l := newLimiter(c.perSec, c.batch, now)
		const seconds = 20
		end := now.Add(seconds * time.Second)
		total := 0
		for now.Before(end) {
			n, wait := l.reserve(now, c.batch)
			if n > c.batch {
				t.Fatalf("%v/s: took %d, more than the batch %d", c.perSec, n, c.batch)
			}
			if n == 0 {
				if wait <= 0 {
					t.Fatalf("%v/s: nothing taken but no wait", c.perSec)
				}
				now = now.Add(wait)
			}
			total += n
		}
		// Over the run the bucket hands out the rate's worth plus at most its initial fill.
		want := c.perSec * seconds
		if math.Abs(float64(total)-want) > l.burst+1 {
			t.Errorf("%v/s over %ds: %d records, want %.0f ± %.1f", c.perSec, seconds, total, want, l.burst+1)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		props map[string]string
		key   string
	}{
		{map[string]string{}, topicConfig},
		{map[string]string{topicConfig: "t", recordSizeConfig: "-1"}, recordSizeConfig},
		{map[string]string{topicConfig: "t", batchSizeConfig: "0"}, batchSizeConfig},
		{map[string]string{topicConfig: "t", maxIntervalConfig: "-5"}, maxIntervalConfig},
		{map[string]string{topicConfig: "t", rateConfig: "-1"}, rateConfig},
		{map[string]string{topicConfig: "t", rateConfig: "10", maxIntervalConfig: "100"}, rateConfig},
		{map[string]string{topicConfig: "t", "quickstart": "users"}, "quickstart"},
		{map[string]string{topicConfig: "t", "schema.string": `{"type":"record"}`}, "schema.string"},
	}
	for _, c := range cases {
		err := (&Connector{}).Start(nopConnectorContext{t}, c.props)
		var fe *connect.FieldError
		if !errors.As(err, &fe) || fe.Name != c.key || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%v: error %v, want one naming %s", c.props, err, c.key)
		}
		if err := (&Task{}).Start(connecttest.New(t), c.props); err == nil {
			t.Errorf("%v: task started", c.props)
		}
		values := (&Connector{}).Validate(context.Background(), c.props, configDef().Validate(c.props))
		found := false
		for _, v := range values {
			if v.Name == c.key && len(v.Errors) > 0 {
				found = true
			}
		}
		if !found {
			t.Errorf("%v: validation reported no error on %s", c.props, c.key)
		}
	}
	// rate with max.interval explicitly 0 is the way to use rate.
	if err := (&Connector{}).Start(nopConnectorContext{t}, map[string]string{topicConfig: "t", rateConfig: "10", maxIntervalConfig: "0"}); err != nil {
		t.Errorf("rate with max.interval=0: %v", err)
	}
}

func TestPlugins(t *testing.T) {
	reg, err := connect.NewRegistry(Plugins()...)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"io.confluent.kafka.connect.datagen.DatagenConnector", "DatagenConnector", "datagen"} {
		p, err := reg.Lookup(name, connect.PluginSource)
		if err != nil {
			t.Fatalf("Lookup(%s): %v", name, err)
		}
		if _, ok := p.New().(connect.SourceConnector); !ok {
			t.Fatalf("%s does not make a source connector", name)
		}
	}
}

// BenchmarkGenerate measures generation of 1 KiB records without pacing.
// Run with: go test -run '^$' -bench Generate ./connectors/datagen/
func BenchmarkGenerate(b *testing.B) {
	task := startTask(b, connecttest.New(b), map[string]string{topicConfig: "gen", maxIntervalConfig: "0"})
	ctx := context.Background()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	records := 0
	for b.Loop() {
		recs, err := task.Poll(ctx)
		if err != nil {
			b.Fatal(err)
		}
		records += len(recs)
	}
	runtime.ReadMemStats(&ms1)
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(records), "allocs/record")
}
