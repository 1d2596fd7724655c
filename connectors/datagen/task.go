package datagen

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/kconnect/kconnect/connect"
)

const (
	// idleWait is how long a task that has nothing to generate waits before returning nothing.
	idleWait = time.Second
	// fixedFieldBytes is what id and ts add to a value in a binary format (two 8-byte longs).
	fixedFieldBytes = 16
	payloadAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
)

// valueSchema is the generated value: a unique id, the generation time and filler text.
var valueSchema = connect.StructBuilder().
	Name("kconnect.datagen.Record").
	Field("id", connect.Int64Schema).
	Field("ts", connect.TimestampSchema().MustBuild()).
	Field("payload", connect.StringSchema).
	MustBuild()

// Task generates records. Every record of a task shares one payload string, so a record costs a
// struct and its boxed id.
type Task struct {
	log         *slog.Logger
	topic       string
	id          int64 // task number
	tasks       int64 // task count; ids are count*tasks+id so they are unique across tasks
	iterations  int64 // records to generate in total; <= 0 is unlimited
	count       int64 // records generated so far, restored from the committed offset
	batchSize   int
	maxInterval time.Duration
	limiter     *limiter
	rng         *rand.Rand
	payload     any // boxed once; shared by every record
	partition   map[string]any
	idle        bool // iterations reached and logged
}

var _ connect.SourceTask = (*Task)(nil)

// Version implements connect.Versioned.
func (t *Task) Version() string { return version }

// Start parses the configuration and continues counting from the committed offset.
func (t *Task) Start(ctx connect.SourceTaskContext, props map[string]string) error {
	cfg, err := parseConfig(props)
	if err != nil {
		return fmt.Errorf("datagen task configuration: %w", err)
	}
	t.id, err = intProp(props, taskIDConfig, int64(ctx.TaskID()))
	if err != nil {
		return err
	}
	t.tasks, err = intProp(props, taskCountConfig, 1)
	if err != nil {
		return err
	}
	if t.tasks < 1 || t.id < 0 || t.id >= t.tasks {
		return fmt.Errorf("datagen task configuration: %s=%d is not below %s=%d", taskIDConfig, t.id, taskCountConfig, t.tasks)
	}
	t.topic = cfg.String(topicConfig)
	t.iterations = int64(cfg.Int(iterationsConfig))
	t.batchSize = cfg.Int(batchSizeConfig)
	t.log = ctx.Logger()
	if rate := cfg.Double(rateConfig); rate > 0 {
		t.limiter = newLimiter(rate/float64(t.tasks), t.batchSize, time.Now())
	} else {
		t.maxInterval = cfg.Millis(maxIntervalConfig)
	}

	seed := rand.Uint64()
	if cfg.IsSet(randomSeedConfig) {
		// Each task gets its own stream from the connector's seed.
		seed = uint64(cfg.Long(randomSeedConfig))
	}
	t.rng = rand.New(rand.NewPCG(seed, uint64(t.id)))
	size := max(cfg.Int(recordSizeConfig)-fixedFieldBytes, 0)
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = payloadAlphabet[t.rng.IntN(len(payloadAlphabet))]
	}
	t.payload = string(payload)

	t.partition = map[string]any{taskIDField: t.id}
	off, err := ctx.Offsets().Offset(t.partition)
	if err != nil {
		return fmt.Errorf("read committed offset of datagen task %d: %w", t.id, err)
	}
	count, ok, err := connect.OffsetInt64(off, iterationField)
	if err != nil {
		return fmt.Errorf("committed offset of datagen task %d: %w", t.id, err)
	}
	if count < 0 {
		return fmt.Errorf("committed offset of datagen task %d: %s=%d is negative", t.id, iterationField, count)
	}
	t.count = count
	if ok {
		t.log.Info("continuing after committed records", "generated", count)
	}
	return nil
}

// intProp reads an integer the connector put into the task configuration.
func intProp(props map[string]string, key string, def int64) (int64, error) {
	s, ok := props[key]
	if !ok {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("datagen task configuration: %s=%q is not a number", key, s)
	}
	return n, nil
}

// Poll generates the next batch: batch.size records at once without pacing, as many as the rate
// allows, or a single record after a random pause of up to max.interval.
func (t *Task) Poll(ctx context.Context) ([]connect.SourceRecord, error) {
	n := int64(t.batchSize)
	if t.iterations > 0 {
		n = min(n, t.iterations-t.count)
		if n <= 0 {
			if !t.idle {
				t.log.Info("generated the configured number of records; idle from now on", "iterations", t.iterations)
				t.idle = true
			}
			sleep(ctx, idleWait)
			return nil, nil
		}
	}
	switch {
	case t.limiter != nil:
		got, wait := t.limiter.reserve(time.Now(), int(n))
		if got == 0 {
			sleep(ctx, min(wait, idleWait))
			if ctx.Err() != nil {
				return nil, nil
			}
			if got, _ = t.limiter.reserve(time.Now(), int(n)); got == 0 {
				return nil, nil
			}
		}
		n = int64(got)
	case t.maxInterval > 0:
		sleep(ctx, time.Duration(t.rng.Int64N(int64(t.maxInterval))))
		if ctx.Err() != nil {
			return nil, nil
		}
		n = 1
	}
	return t.generate(int(n)), nil
}

func (t *Task) generate(n int) []connect.SourceRecord {
	now := time.UnixMilli(time.Now().UnixMilli()).UTC()
	ts := any(now)
	out := make([]connect.SourceRecord, n)
	// Only the batch's last record carries its own position; the others carry where the batch
	// started, which is always safe to commit. That is one offset map per batch instead of one per
	// record, and after a crash at most one batch is generated again.
	offset := map[string]any{iterationField: t.count}
	for i := range out {
		id := t.count*t.tasks + t.id
		t.count++
		if i == n-1 {
			offset = map[string]any{iterationField: t.count}
		}
		st := connect.NewStruct(valueSchema)
		st.SetAt(0, id)
		st.SetAt(1, ts)
		st.SetAt(2, t.payload)
		out[i] = connect.NewSourceRecord(t.partition, offset, t.topic,
			connect.OptionalStringSchema, nil, valueSchema, st)
		out[i].Timestamp = now
	}
	return out
}

// Commit implements connect.SourceTask; generated data needs no acknowledgement.
func (t *Task) Commit(context.Context, []connect.SourceOffset) error { return nil }

// Stop implements connect.SourceTask; the task holds no resources.
func (t *Task) Stop() error { return nil }

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
}
