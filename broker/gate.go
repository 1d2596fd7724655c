package broker

import (
	"context"
	"net"
	"sync"
)

// gate is the broker's listener. kfake serves as soon as NewCluster
// returns, but the broker must first install its control functions and
// finish crash recovery, so until then the gate accepts only connections
// the broker dials itself through dial; clients wait in the listen backlog.
type gate struct {
	net.Listener
	ready    chan struct{}
	private  chan net.Conn
	closed   chan struct{}
	openOnce sync.Once
	stopOnce sync.Once
}

func newGate(ln net.Listener) *gate {
	return &gate{
		Listener: ln,
		ready:    make(chan struct{}),
		private:  make(chan net.Conn),
		closed:   make(chan struct{}),
	}
}

// open lets clients in.
func (g *gate) open() { g.openOnce.Do(func() { close(g.ready) }) }

// Accept implements net.Listener.
func (g *gate) Accept() (net.Conn, error) {
	select {
	case c := <-g.private:
		return c, nil
	case <-g.ready:
		return g.Listener.Accept()
	case <-g.closed:
		return nil, net.ErrClosed
	}
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
