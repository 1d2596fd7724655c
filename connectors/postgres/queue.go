package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/kconnect/kconnect/connect"
)

// recordQueue is the bounded buffer between the capture goroutines and Poll. Unlike a channel of
// records it moves whole batches under one lock, which matters at snapshot rates of hundreds of
// thousands of rows per second.
type recordQueue struct {
	max   int
	ready chan struct{} // holds a token while records may be waiting
	space chan struct{} // holds a token while a put may find room

	mu   sync.Mutex
	recs []connect.SourceRecord
	head int // recs[head:] are queued
}

func newRecordQueue(max int) *recordQueue {
	return &recordQueue{max: max, ready: make(chan struct{}, 1), space: make(chan struct{}, 1)}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// put appends recs once fewer than max records are queued, so the queue holds at most max plus
// one batch. It gives up with false after wait (never, when wait <= 0), letting a caller that must
// do something else while the consumer is slow come back.
func (q *recordQueue) put(ctx context.Context, recs []connect.SourceRecord, wait time.Duration) (bool, error) {
	if len(recs) == 0 {
		return true, nil
	}
	var timeout <-chan time.Time
	for {
		q.mu.Lock()
		if n := len(q.recs) - q.head; n < q.max {
			if q.head > 0 && len(q.recs)+len(recs) > cap(q.recs) {
				q.recs = q.recs[:copy(q.recs, q.recs[q.head:])]
				q.head = 0
			}
			q.recs = append(q.recs, recs...)
			room := n+len(recs) < q.max
			q.mu.Unlock()
			signal(q.ready)
			if room {
				signal(q.space) // another producer may be waiting
			}
			return true, nil
		}
		q.mu.Unlock()
		if timeout == nil && wait > 0 {
			t := time.NewTimer(wait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-q.space:
		case <-timeout:
			return false, nil
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}

// take removes and returns up to n queued records, nil when there are none.
func (q *recordQueue) take(n int) []connect.SourceRecord {
	q.mu.Lock()
	avail := len(q.recs) - q.head
	if avail == 0 {
		q.mu.Unlock()
		return nil
	}
	n = min(n, avail)
	out := make([]connect.SourceRecord, n)
	copy(out, q.recs[q.head:q.head+n])
	clear(q.recs[q.head : q.head+n])
	q.head += n
	if q.head == len(q.recs) {
		q.recs, q.head = q.recs[:0], 0
	}
	more := q.head < len(q.recs)
	q.mu.Unlock()
	signal(q.space)
	if more {
		signal(q.ready)
	}
	return out
}
