package broker

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"
)

// gate is the broker's listener. kfake serves as soon as NewCluster
// returns, but the broker must first install its control functions and
// finish crash recovery, so until then the gate accepts only connections
// the broker dials itself through dial; clients wait in the listen backlog.
//
// kfake also stops serving for good at the first error Accept returns,
// which running out of file descriptors causes: the gate instead logs the
// failure, reports it through failure, and retries with backoff until a
// connection is accepted again, as net/http's server does.
type gate struct {
	net.Listener
	log      *slog.Logger
	ready    chan struct{}
	private  chan net.Conn
	closed   chan struct{}
	openOnce sync.Once

	// answeredCommit is the clientConn hook of the connections accepted.
	answeredCommit func(producerID int64, epoch int16)
	stopOnce       sync.Once

	mu      sync.Mutex
	since   time.Time // when Accept started failing; zero while it works
	last    time.Time // when it last failed
	lastErr error
}

// Bounds of the delay between retries of a failing Accept, as net/http's.
const (
	minAcceptDelay = 5 * time.Millisecond
	maxAcceptDelay = time.Second
	// acceptFailureLasts is how long a failure counts without another: a
	// failing Accept fails again within maxAcceptDelay while a connection
	// waits, and when none waits, Accept blocks and cannot tell whether it
	// would work.
	acceptFailureLasts = 3 * maxAcceptDelay
)

func newGate(ln net.Listener, log *slog.Logger) *gate {
	return &gate{
		Listener: ln,
		log:      log,
		ready:    make(chan struct{}),
		private:  make(chan net.Conn),
		closed:   make(chan struct{}),
	}
}

// open lets clients in.
func (g *gate) open() { g.openOnce.Do(func() { close(g.ready) }) }

// Accept implements net.Listener. It returns an error only once the gate is
// closed.
func (g *gate) Accept() (net.Conn, error) {
	var delay time.Duration
	for {
		select {
		case c := <-g.private:
			return c, nil
		case <-g.ready:
		case <-g.closed:
			return nil, net.ErrClosed
		}
		c, err := g.Listener.Accept()
		if err == nil {
			g.recovered()
			return newClientConn(c, g.answeredCommit), nil
		}
		select {
		case <-g.closed:
			return nil, net.ErrClosed
		default:
		}
		delay = min(max(2*delay, minAcceptDelay), maxAcceptDelay)
		g.failed(err)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-g.closed:
			t.Stop()
			return nil, net.ErrClosed
		}
	}
}

// failed records that Accept failed, logging the first failure of a run.
func (g *gate) failed(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	if g.since.IsZero() {
		g.since = now
		g.log.Error("embedded broker cannot accept connections; retrying", "addr", g.Addr().String(), "err", err)
	}
	g.last, g.lastErr = now, err
}

// recovered records that Accept works (again).
func (g *gate) recovered() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.since.IsZero() {
		g.log.Warn("embedded broker accepts connections again", "addr", g.Addr().String(), "failing_since", g.since)
		g.since, g.last, g.lastErr = time.Time{}, time.Time{}, nil
	}
}

// failure describes why the broker cannot accept connections, or is nil.
func (g *gate) failure() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.since.IsZero() || time.Since(g.last) > acceptFailureLasts {
		return nil
	}
	return fmt.Errorf("embedded broker %s cannot accept connections since %s: %w",
		g.Addr(), g.since.UTC().Format(time.RFC3339), g.lastErr)
}

// Close implements net.Listener.
func (g *gate) Close() error {
	g.stopOnce.Do(func() { close(g.closed) })
	return g.Listener.Close()
}

// dial connects to the broker past the gate, for a kgo.Dialer: the broker
// may only advertise its real address, which every dial gets.
func (g *gate) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case g.private <- server:
		return client, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-g.closed:
		return nil, net.ErrClosed
	}
}
