package sink

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connect/connecttest"
)

// TestWritesRunInTheBackground checks the background writer: Put returns while the database is
// busy, the records that arrive meanwhile go into the next transaction together, and Put waits
// when taking its records would leave more than maxPendingRecords waiting.
func TestWritesRunInTheBackground(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		batches := &batchLog{}
		task := startLoggedTask(t, batches, db.props("auto.create", "true", "pk.mode", "record_key", "table.name.format", "bg"))
		rb := newRecords()
		rec := func(id int32) connect.SinkRecord {
			return rb.rec("bg", 0, idKeySchema, idKey(t, id), rowSchema, row(t, id, "n", int64(id)))
		}
		put(t, task, rec(1)) // creates the table

		unlock := db.blockWrites(t, c, "bg")
		if err := task.Put(c, []connect.SinkRecord{rec(2)}); err != nil {
			t.Fatal(err)
		}
		db.waitForBlockedSession(t, c) // the write of record 2 waits for the lock
		for id := int32(3); id <= 100; id++ {
			if err := task.Put(c, []connect.SinkRecord{rec(id)}); err != nil {
				t.Fatalf("Put while a write is blocked: %v", err)
			}
		}
		var big []connect.SinkRecord
		for id := int32(101); id < 101+maxPendingRecords; id++ {
			big = append(big, rec(id))
		}
		done := make(chan error, 1)
		go func() { done <- task.Put(c, big) }()
		select {
		case err := <-done:
			t.Fatalf("Put of %d more records returned (err %v) while the running write was blocked", len(big), err)
		case <-time.After(200 * time.Millisecond):
		}
		unlock()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		last := int64(100 + maxPendingRecords)
		offs, err := task.PreCommit(c, map[connect.TopicPartition]int64{{Topic: "bg", Partition: 0}: last})
		if err != nil {
			t.Fatal(err)
		}
		if n := db.count(t, "bg"); n != int(last) {
			t.Fatalf("%d rows, want %d", n, last)
		}
		if want := map[connect.TopicPartition]int64{{Topic: "bg", Partition: 0}: last}; !equalOffsets(offs, want) {
			t.Fatalf("PreCommit offsets %v, want %v", offs, want)
		}
		if got, want := batches.sizes(), []int{1, 1, 98, maxPendingRecords}; !slices.Equal(got, want) {
			t.Fatalf("transactions of %v records, want %v", got, want)
		}
	})
}

// TestBackgroundWriteFailureSurfaces checks that a write failing after Put returned fails the
// task at the next call, with the record that caused it.
func TestBackgroundWriteFailureSurfaces(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		task, _ := startTask(t, t.Name(), db.props("auto.create", "true", "pk.mode", "record_value", "pk.fields", "id",
			"insert.mode", "insert", "table.name.format", "dup"))
		rb := newRecords()
		put(t, task, rb.rec("dup", 0, nil, nil, rowSchema, row(t, 1, "a", 1)))
		ctx := context.Background()
		if err := task.Put(ctx, []connect.SinkRecord{rb.rec("dup", 0, nil, nil, rowSchema, row(t, 1, "again", 2))}); err != nil {
			t.Fatalf("Put returned the write's outcome (%v); it should run in the background", err)
		}
		err := task.Put(ctx, []connect.SinkRecord{rb.rec("dup", 0, nil, nil, rowSchema, row(t, 2, "b", 3))})
		if err == nil {
			_, err = task.PreCommit(ctx, nil)
		}
		wantErrContains(t, err, "topic=dup", "offset=1")
		if n := db.count(t, "dup"); n != 1 {
			t.Fatalf("%d rows after the failed write, want 1", n)
		}
	})
}

func startLoggedTask(t *testing.T, h slog.Handler, props map[string]string) *Task {
	t.Helper()
	ctx := connecttest.New(t)
	ctx.Name = t.Name()
	ctx.Log = slog.New(h)
	task := &Task{}
	if err := task.Start(ctx, props); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { task.Stop() })
	return task
}

// batchLog records the size of every transaction the task logs as written.
type batchLog struct {
	mu      sync.Mutex
	records []int
}

func (b *batchLog) Enabled(context.Context, slog.Level) bool { return true }
func (b *batchLog) WithAttrs([]slog.Attr) slog.Handler       { return b }
func (b *batchLog) WithGroup(string) slog.Handler            { return b }

func (b *batchLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "batch written" {
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "records" {
			b.mu.Lock()
			b.records = append(b.records, int(a.Value.Int64()))
			b.mu.Unlock()
		}
		return true
	})
	return nil
}

func (b *batchLog) sizes() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.records)
}
