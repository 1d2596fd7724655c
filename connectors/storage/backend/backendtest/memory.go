package backendtest

import (
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kconnect/kconnect/connectors/storage/backend"
)

// MemoryFileSizeEnv sets, in MiB, how large a file WriterHeap tests write: a short default keeps
// `make test` quick; KCONNECT_STORAGE_MEMORY_MB=200 repeats the measurement the issue asks for.
const MemoryFileSizeEnv = "KCONNECT_STORAGE_MEMORY_MB"

// MemoryFileSize returns the file size for memory tests: MemoryFileSizeEnv MiB, 48 MiB when unset.
func MemoryFileSize(t testing.TB) int64 {
	t.Helper()
	mb := 48
	if v := os.Getenv(MemoryFileSizeEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("%s=%q: want a positive number of MiB", MemoryFileSizeEnv, v)
		}
		mb = n
	}
	return int64(mb) << 20
}

// WriterHeap writes size bytes to path through one Writer, in 1 MiB writes, and returns the
// largest growth of the Go heap (runtime.MemStats.HeapAlloc, sampled after every write and every
// few milliseconds meanwhile) over its value before the writer was created. A streaming writer
// keeps it near its buffer size however large the file; one that buffers the file grows with it.
// HeapAlloc counts garbage not yet collected, so the figure is an upper bound of what is live.
func WriterHeap(t *testing.T, s backend.Store, path string, size int64) uint64 {
	t.Helper()
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i*7 + i>>11)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc

	var mu sync.Mutex
	var peak uint64
	sample := func() {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		mu.Lock()
		if m.HeapAlloc > base && m.HeapAlloc-base > peak {
			peak = m.HeapAlloc - base
		}
		mu.Unlock()
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				sample()
			}
		}
	})
	defer func() {
		close(stop)
		wg.Wait()
	}()

	w, err := s.Create(ctx(t), path)
	if err != nil {
		t.Fatal(err)
	}
	for left := size; left > 0; left -= int64(len(chunk)) {
		n := min(left, int64(len(chunk)))
		if _, err := w.Write(chunk[:n]); err != nil {
			_ = w.Abort()
			t.Fatalf("write: %v", err)
		}
		sample()
	}
	if err := w.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	sample()
	fi, err := s.Stat(ctx(t), path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size != size {
		t.Fatalf("wrote %d bytes, the store holds %d", size, fi.Size)
	}
	mu.Lock()
	defer mu.Unlock()
	return peak
}
