package runtime

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"net"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Lease says until when the worker may write records for the tasks it runs: in a distributed
// worker, until its group membership could have expired (cluster.Lease). Until's time must carry
// a monotonic clock reading (as time.Now's do), which keeps counting while the process is stopped.
type Lease interface {
	Until() time.Time
}

// SetLease makes the producers of the source tasks started from now on send records and commit
// transactions only while l is valid, so that a worker that lost its membership (stopped past
// its session timeout, cut off from the coordinator) writes nothing its tasks' new owners could
// see after their own records. Standalone workers have none.
func (w *Worker) SetLease(l Lease) { w.lease = l }

// LeasedClientOpts are WorkerClientOpts whose produce requests (as for the offsets topic) are
// sent only while l is valid; reading is not held back.
func LeasedClientOpts(props map[string]string, l Lease) ([]kgo.Opt, error) {
	return kafkaClientOpts(clientProps(props, nil, "worker"), l)
}

// errLeaseLapsed fails the write of a request the lease holds back. franz-go retries the request
// (keeping its records buffered, their order and their idempotent sequence numbers), so the
// records reach Kafka once the lease is renewed, or fail when the task is stopped and its
// producer closed; never acknowledged, their offsets are never committed, and the task's next
// owner sends them again.
var errLeaseLapsed error = leaseError{}

type leaseError struct{}

func (leaseError) Error() string {
	return "the worker's group membership lease has lapsed: not writing records to Kafka"
}

// Temporary makes franz-go retry the request rather than fail its records.
func (leaseError) Temporary() bool { return true }

// leasedAPIs are the requests a lapsed lease holds back: those that add records to a topic
// or commit them.
var leasedAPIs = map[int16]bool{
	kmsg.Produce.Int16(): true,
	kmsg.EndTxn.Int16():  true,
}

// leaseDial is the franz-go dialer of a client whose writes obey l: it dials as franz-go does
// (with TLS when tc is set) and checks l above TLS, where each Write is one whole request.
func leaseDial(l Lease, tc *tls.Config) func(ctx context.Context, network, host string) (net.Conn, error) {
	// franz-go's default dial timeout, which its own dialer would use.
	d := &net.Dialer{Timeout: 10 * time.Second}
	return func(ctx context.Context, network, host string) (net.Conn, error) {
		var conn net.Conn
		var err error
		if tc == nil {
			conn, err = d.DialContext(ctx, network, host)
		} else {
			c := tc.Clone()
			if c.ServerName == "" {
				if c.ServerName, _, err = net.SplitHostPort(host); err != nil {
					return nil, err
				}
			}
			conn, err = (&tls.Dialer{NetDialer: d, Config: c}).DialContext(ctx, network, host)
		}
		if err != nil {
			return nil, err
		}
		return &leasedConn{Conn: conn, lease: l}, nil
	}
}

// leasedConn writes a request that adds or commits records only while its lease is valid. The
// check comes right before the socket write, and the write itself gets the lease's end as its
// deadline, so that a write blocked on a full socket buffer stops when the lease ends too.
type leasedConn struct {
	net.Conn
	lease Lease

	mu       sync.Mutex
	deadline time.Time // the write deadline franz-go asked for
	until    time.Time // the lease's end while a leased write runs, else zero
}

// Write sends p, one whole request (franz-go writes each request with one Write call).
func (c *leasedConn) Write(p []byte) (int, error) {
	// A request is its size (int32), then its API key (int16).
	if len(p) < 6 || !leasedAPIs[int16(binary.BigEndian.Uint16(p[4:6]))] {
		return c.Conn.Write(p)
	}
	until := c.lease.Until()
	if !time.Now().Before(until) {
		return 0, errLeaseLapsed
	}
	c.mu.Lock()
	c.until = until
	err := c.Conn.SetWriteDeadline(earliest(c.deadline, until))
	c.mu.Unlock()
	if err != nil {
		return 0, err
	}
	n, err := c.Conn.Write(p)
	c.mu.Lock()
	c.until = time.Time{}
	dlErr := c.Conn.SetWriteDeadline(c.deadline)
	c.mu.Unlock()
	if err == nil {
		err = dlErr
	}
	return n, err
}

// SetWriteDeadline sets franz-go's write deadline (also while a write runs, which is how it
// cancels one), never past the lease of a leased write in progress.
func (c *leasedConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deadline = t
	return c.Conn.SetWriteDeadline(earliest(t, c.until))
}

// SetDeadline sets the read and write deadlines, as SetReadDeadline and SetWriteDeadline do.
func (c *leasedConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// earliest is the earlier of two deadlines, where zero means none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// leaseLapsed reports whether the worker has a lease and it is not valid: what its tasks would
// write now may come after their new owners' writes.
func (w *Worker) leaseLapsed() bool { return w.lease != nil && !time.Now().Before(w.lease.Until()) }

// untilLeaseLapses returns a copy of ctx that is also cancelled once the worker's lease lapses
// (a renewal meanwhile moves that moment on), so that waiting for Kafka to take what the lease
// holds back ends when it never will.
func (w *Worker) untilLeaseLapses(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	if w.lease == nil {
		return ctx, cancel
	}
	go func() {
		for {
			d := time.Until(w.lease.Until())
			if d <= 0 {
				cancel()
				return
			}
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}()
	return ctx, cancel
}
