package cluster

import (
	"sync"
	"sync/atomic"
	"time"
)

// Lease is how long this worker can be sure the group coordinator still counts it a member, so
// that nobody else runs its tasks: until the send time of the last request the coordinator
// answered as a member's, plus the session timeout, minus one heartbeat interval of margin for
// what is still on its way to Kafka when the lease ends. The coordinator expires a member no
// earlier than its last request's arrival plus the session timeout, and hands its tasks to others
// only after that. Times are on the monotonic clock, which keeps running while the process is
// stopped (SIGSTOP), so a worker continued after a long stop sees its lease lapsed before any
// of its goroutines can write. The distributed worker's producers check it before each write.
type Lease struct {
	base time.Time // carries the monotonic reading every end is counted from
	// end is the lease's end, in nanoseconds after base; read without the lock.
	end   atomic.Int64
	mu    sync.Mutex
	ended time.Time // requests sent before the last expire must not renew the lease
	valid time.Duration
}

// NewLease returns a lease that is not valid until the member's first answered request.
func NewLease() *Lease {
	l := &Lease{base: time.Now()}
	l.end.Store(-1)
	return l
}

// Until is when the lease ends; a time not after now means it is not valid. The time carries a
// monotonic clock reading, so it also works as a socket deadline.
func (l *Lease) Until() time.Time { return l.base.Add(time.Duration(l.end.Load())) }

// Valid reports whether the lease has not ended.
func (l *Lease) Valid() bool { return time.Now().Before(l.Until()) }

// setDuration sets how long after a request's send time the lease lasts.
func (l *Lease) setDuration(d time.Duration) {
	l.mu.Lock()
	l.valid = d
	l.mu.Unlock()
}

// renew extends the lease for a request sent at sent that the coordinator answered as a
// member's. Answers arrive in order, but one sent before an expire must not revive the lease.
func (l *Lease) renew(sent time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if sent.Before(l.ended) {
		return
	}
	if end := int64(sent.Add(l.valid).Sub(l.base)); end > l.end.Load() {
		l.end.Store(end)
	}
}

// expire ends the lease at once: the coordinator no longer counts this worker a member.
func (l *Lease) expire() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ended = time.Now()
	l.end.Store(-1)
}
