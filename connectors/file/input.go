package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/kconnect/kconnect/connect"
)

// input is where the source reads bytes from. read never blocks: it returns 0 and no error when
// nothing is available yet. wait blocks for at most d or until more data may be available.
type input interface {
	read(p []byte) (int, error)
	wait(ctx context.Context, d time.Duration)
	close() error
}

// fileInput reads a regular file that may keep growing. Reads at the end of a file return at once,
// so following it is a matter of trying again a little later.
type fileInput struct {
	f    *os.File
	path string
	off  int64 // bytes read so far, i.e. the position of the next byte
}

func (in *fileInput) read(p []byte) (int, error) {
	n, err := in.f.Read(p)
	in.off += int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		return n, fmt.Errorf("read %s at byte %d: %w", in.path, in.off, err)
	}
	if n == 0 {
		// At the end: a file now shorter than what was read has been truncated in place, and the
		// lines written after the truncation would silently be skipped.
		fi, err := in.f.Stat()
		if err != nil {
			return 0, fmt.Errorf("stat %s: %w", in.path, err)
		}
		if fi.Size() < in.off {
			return 0, fmt.Errorf("file %s shrank to %d bytes while being read at byte %d: it was truncated; delete the connector's offsets to read it from the start", in.path, fi.Size(), in.off)
		}
	}
	return n, nil
}

func (in *fileInput) wait(ctx context.Context, d time.Duration) { sleep(ctx, min(d, tailInterval)) }

func (in *fileInput) close() error { return in.f.Close() }

// stdinInput reads a stream that blocks, such as standard input, on its own goroutine so that Poll
// can give up waiting. A read stuck in the stream cannot be interrupted; the goroutine ends when
// the stream yields data or EOF after close.
type stdinInput struct {
	chunks  chan chunk
	done    chan struct{}
	pending []byte
	eof     bool
	err     error // a read error, reported by the next read
}

type chunk struct {
	data []byte
	err  error
}

func newStdinInput(r io.Reader) *stdinInput {
	in := &stdinInput{chunks: make(chan chunk), done: make(chan struct{})}
	go in.run(r)
	return in
}

func (in *stdinInput) run(r io.Reader) {
	// A panic of the reader is reported as a read error, which fails the task.
	var panicked error
	defer func() {
		if panicked != nil {
			select {
			case in.chunks <- chunk{err: panicked}:
			case <-in.done:
			}
		}
	}()
	defer connect.Recover(&panicked)
	for {
		b := make([]byte, readBufferSize)
		n, err := r.Read(b)
		if n > 0 {
			select {
			case in.chunks <- chunk{data: b[:n]}:
			case <-in.done:
				return
			}
		}
		if err != nil {
			select {
			case in.chunks <- chunk{err: err}:
			case <-in.done:
			}
			return
		}
	}
}

func (in *stdinInput) read(p []byte) (int, error) {
	if len(in.pending) == 0 && !in.eof && in.err == nil {
		select {
		case c := <-in.chunks:
			in.take(c)
		default:
		}
	}
	if len(in.pending) == 0 && in.err != nil {
		return 0, fmt.Errorf("read stdin: %w", in.err)
	}
	n := copy(p, in.pending)
	in.pending = in.pending[n:]
	return n, nil
}

// take accepts a chunk from the reader goroutine. At EOF the task stays idle, as upstream's does.
func (in *stdinInput) take(c chunk) {
	switch {
	case c.err == nil:
		in.pending = c.data
	case errors.Is(c.err, io.EOF):
		in.eof = true
	default:
		in.err = c.err
	}
}

func (in *stdinInput) wait(ctx context.Context, d time.Duration) {
	if len(in.pending) > 0 {
		return
	}
	if in.eof || in.err != nil {
		sleep(ctx, d)
		return
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case c := <-in.chunks:
		in.take(c)
	case <-timer.C:
	case <-ctx.Done():
	}
}

func (in *stdinInput) close() error {
	close(in.done)
	return nil
}
