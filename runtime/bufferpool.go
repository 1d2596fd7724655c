package runtime

import "sync"

// maxPooledBuffer caps the buffers kept for reuse, so one huge record does not pin its memory.
const maxPooledBuffer = 64 << 10

// bufferPool recycles serialized-value buffers between records.
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) get() []byte {
	if v, ok := b.p.Get().(*[]byte); ok {
		return (*v)[:0]
	}
	return make([]byte, 0, 2048)
}

func (b *bufferPool) put(buf []byte) {
	if cap(buf) == 0 || cap(buf) > maxPooledBuffer {
		return
	}
	b.p.Put(&buf)
}
