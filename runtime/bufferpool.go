package runtime

import "sync"

const (
	// maxPooledBuffer caps the buffers kept for reuse, so one huge record does not pin its memory.
	maxPooledBuffer = 64 << 10
	// maxPoolBytes caps the capacity the pool keeps in total. A few batches' worth is enough to
	// serve the loop from the buffers the producer hands back; more would only pin memory.
	maxPoolBytes = 16 << 20
)

// bufferPool recycles serialized-value buffers between records. It is a mutex-guarded stack
// rather than a sync.Pool because putting a slice into a sync.Pool allocates its header (one
// allocation per record on the hottest path) and a sync.Pool empties itself at every GC.
type bufferPool struct {
	mu    sync.Mutex
	free  [][]byte
	bytes int // total capacity of free
}

// get returns an empty buffer. A new one gets room for sizeHint bytes and an eighth more, so a
// stream of small records does not pin 2 KiB each while they wait for Kafka.
func (b *bufferPool) get(sizeHint int) []byte {
	b.mu.Lock()
	if n := len(b.free); n > 0 {
		buf := b.free[n-1]
		b.free[n-1] = nil
		b.free = b.free[:n-1]
		b.bytes -= cap(buf)
		b.mu.Unlock()
		return buf[:0]
	}
	b.mu.Unlock()
	return make([]byte, 0, max(64, sizeHint+sizeHint/8))
}

func (b *bufferPool) put(buf []byte) {
	if cap(buf) == 0 || cap(buf) > maxPooledBuffer {
		return
	}
	b.mu.Lock()
	if b.bytes+cap(buf) <= maxPoolBytes {
		b.free = append(b.free, buf)
		b.bytes += cap(buf)
	}
	b.mu.Unlock()
}
