package offsets

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/kconnect/kconnect/connect"
)

func openFile(t *testing.T) *FileStore {
	t.Helper()
	s, err := OpenFile(filepath.Join(t.TempDir(), "offsets"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLayeredPrefersConnectorStoreAndFallsBackOnWorkers(t *testing.T) {
	ctx := context.Background()
	own, worker := openFile(t), openFile(t)
	l := &Layered{Connector: own, Worker: worker}
	pa, pb := map[string]any{"f": "a"}, map[string]any{"f": "b"}
	if err := worker.Put(ctx, "c", []connect.SourceOffset{
		{Partition: pa, Offset: map[string]any{"n": int64(1)}},
		{Partition: pb, Offset: map[string]any{"n": int64(1)}},
	}); err != nil {
		t.Fatal(err)
	}
	// A connector moved to its own topic resumes from the worker's offsets.
	if got, _ := l.Get("c", pa); got["n"] != int64(1) {
		t.Fatalf("fallback Get = %v", got)
	}
	if err := l.Put(ctx, "c", []connect.SourceOffset{{Partition: pa, Offset: map[string]any{"n": int64(2)}}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := own.Get("c", pa); got["n"] != int64(2) {
		t.Fatalf("connector store = %v, want the write", got)
	}
	if got, _ := worker.Get("c", pa); got["n"] != int64(2) {
		t.Fatalf("worker store = %v, want the copy", got)
	}
	list, err := l.List("c")
	if err != nil || len(list) != 2 {
		t.Fatalf("List = %v, %v; want both partitions once", list, err)
	}
	// A deletion reaches both stores, so the fallback cannot bring the offset back.
	if err := l.Put(ctx, "c", []connect.SourceOffset{{Partition: pb}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := l.Get("c", pb); got != nil {
		t.Fatalf("deleted offset = %v", got)
	}
}

type failingStore struct{ Store }

var errDown = errors.New("store down")

func (failingStore) Put(context.Context, string, []connect.SourceOffset) error { return errDown }

func TestLayeredDeletesFromWorkerStoreFirst(t *testing.T) {
	own := openFile(t)
	l := &Layered{Connector: own, Worker: failingStore{openFile(t)}}
	ctx := context.Background()
	p := map[string]any{"f": "a"}
	if err := own.Put(ctx, "c", []connect.SourceOffset{{Partition: p, Offset: map[string]any{"n": int64(1)}}}); err != nil {
		t.Fatal(err)
	}
	if err := l.Put(ctx, "c", []connect.SourceOffset{{Partition: p}}); !errors.Is(err, errDown) {
		t.Fatalf("Put = %v; a deletion the worker store refused must fail", err)
	}
	if got, _ := own.Get("c", p); got == nil {
		t.Fatal("the connector store deleted although the worker store could not: the old offset would come back")
	}
	// Updates only copy to the worker store: its failure is logged, not returned.
	if err := l.Put(ctx, "c", []connect.SourceOffset{{Partition: p, Offset: map[string]any{"n": int64(2)}}}); err != nil {
		t.Fatalf("Put of an update = %v", err)
	}
}

// closeRecorder is a store that remembers being closed.
type closeRecorder struct {
	Store
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestLayeredWithoutConnectorStoreIsTheWorkerStore(t *testing.T) {
	ctx := context.Background()
	worker := &closeRecorder{Store: openFile(t)}
	l := &Layered{Worker: worker}
	p := map[string]any{"f": "a"}
	if err := l.Put(ctx, "c", []connect.SourceOffset{{Partition: p, Offset: map[string]any{"n": int64(3)}}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := worker.Get("c", p); got["n"] != int64(3) {
		t.Fatalf("worker store = %v, want the write", got)
	}
	if list, err := l.List("c"); err != nil || len(list) != 1 {
		t.Fatalf("List = %v, %v", list, err)
	}
	// The worker's store is shared with other connectors: closing this one's view leaves it open.
	if err := l.Close(); err != nil || worker.closed {
		t.Fatalf("Close = %v, worker store closed %v; want it left open", err, worker.closed)
	}
}
