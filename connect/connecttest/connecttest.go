// Package connecttest provides task contexts for testing connectors outside the runtime: a
// connector's own tests start its tasks directly against real external systems with these, while
// end-to-end tests run them in a real worker.
package connecttest

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"sync"
	"testing"

	"github.com/kconnect/kconnect/connect"
)

// PollNow polls task once with a context already cancelled, so that the task returns at once
// with what it can read right now, and fails the test on an error.
func PollNow(t testing.TB, task connect.SourceTask) []connect.SourceRecord {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	recs, err := task.Poll(ctx)
	if err != nil {
		t.Fatalf("Poll: %v", err)
	}
	return recs
}

// Context implements connect.SourceTaskContext and connect.SinkTaskContext with in-memory state.
type Context struct {
	Name string
	ID   int
	Log  *slog.Logger

	mu         sync.Mutex
	offsets    map[string]map[string]any
	seeks      map[connect.TopicPartition]int64
	assignment []connect.TopicPartition
	commitReqs int
	reporter   connect.ErrantRecordReporter
	metrics    recorder
}

// New returns a context for task 0 of a connector named after the test, logging to stderr.
func New(t testing.TB) *Context {
	return &Context{
		Name:    t.Name(),
		Log:     slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("connector", t.Name()),
		offsets: map[string]map[string]any{},
		seeks:   map[connect.TopicPartition]int64{},
	}
}

// Logger implements connect.TaskContext.
func (c *Context) Logger() *slog.Logger { return c.Log }

// TaskID implements connect.TaskContext.
func (c *Context) TaskID() int { return c.ID }

// ConnectorName implements connect.TaskContext.
func (c *Context) ConnectorName() string { return c.Name }

// Offsets implements connect.SourceTaskContext.
func (c *Context) Offsets() connect.OffsetReader { return offsetReader{c} }

// SetOffset stores a committed offset, as the runtime would after a commit; it round-trips the
// maps through JSON, as a real offset store does, so connectors see the number types they will get.
func (c *Context) SetOffset(partition, offset map[string]any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offsets[key(partition)] = roundTrip(offset)
}

// Commit records the offsets of records as committed, the last one per partition winning,
// and returns them in the shape SourceTask.Commit receives.
func (c *Context) Commit(records []connect.SourceRecord) []connect.SourceOffset {
	latest := map[string]connect.SourceOffset{}
	var order []string
	for _, r := range records {
		k := key(r.SourcePartition)
		if _, ok := latest[k]; !ok {
			order = append(order, k)
		}
		latest[k] = connect.SourceOffset{Partition: r.SourcePartition, Offset: r.SourceOffset}
	}
	out := make([]connect.SourceOffset, 0, len(order))
	for _, k := range order {
		so := latest[k]
		c.SetOffset(so.Partition, so.Offset)
		out = append(out, so)
	}
	return out
}

type offsetReader struct{ c *Context }

func (r offsetReader) Offset(partition map[string]any) (map[string]any, error) {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	return r.c.offsets[key(partition)], nil
}

// Seek implements connect.SinkTaskContext.
func (c *Context) Seek(offsets map[connect.TopicPartition]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for tp, o := range offsets {
		c.seeks[tp] = o
	}
}

// Seeks returns the offsets the task asked to seek to.
func (c *Context) Seeks() map[connect.TopicPartition]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[connect.TopicPartition]int64{}
	for tp, o := range c.seeks {
		out[tp] = o
	}
	return out
}

// SetAssignment sets what Assignment returns.
func (c *Context) SetAssignment(tps []connect.TopicPartition) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.assignment = tps
}

// Assignment implements connect.SinkTaskContext.
func (c *Context) Assignment() []connect.TopicPartition {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.assignment
}

// RequestCommit implements connect.SinkTaskContext.
func (c *Context) RequestCommit() {
	c.mu.Lock()
	c.commitReqs++
	c.mu.Unlock()
}

// SetErrantRecordReporter sets what ErrantRecordReporter returns.
func (c *Context) SetErrantRecordReporter(r connect.ErrantRecordReporter) { c.reporter = r }

// ErrantRecordReporter implements connect.SinkTaskContext.
func (c *Context) ErrantRecordReporter() connect.ErrantRecordReporter { return c.reporter }

func key(partition map[string]any) string {
	b, err := json.Marshal(partition)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func roundTrip(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	v, err := connect.DecodeJSON(b)
	if err != nil {
		panic(err)
	}
	return v.(map[string]any)
}
