package testenv

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kconnect/kconnect/internal/kafkawire"
)

// Cut says where KafkaProxy.CutAt cuts a client off from the broker.
type Cut int

const (
	// CutBeforeRequest drops the request: the broker never sees it.
	CutBeforeRequest Cut = iota
	// CutAfterAnswer lets the broker handle the request and drops its answer, so the client
	// cannot tell whether it took effect.
	CutAfterAnswer
)

// KafkaProxy is a TCP proxy in front of a single-node Kafka cluster that can cut its clients off
// at a chosen request, as a broker crash or a network partition would at the worst moment. It
// puts its own address in the broker addresses of Metadata, FindCoordinator and DescribeCluster
// answers, so clients bootstrapped through it reach the broker only through it.
type KafkaProxy struct {
	t        testing.TB
	upstream string
	addr     string
	host     string
	port     int32

	mu     sync.Mutex
	ln     net.Listener // nil while down
	conns  map[net.Conn]struct{}
	cutKey int16
	cutHow Cut
	cut    chan struct{} // closed when the armed cut happened; nil when none is armed
	closed bool
}

// NewKafkaProxy starts a proxy to the broker at upstream on a free loopback port; it stops at
// cleanup.
func NewKafkaProxy(t testing.TB, upstream string) *KafkaProxy {
	t.Helper()
	port := FreePort(t)
	p := &KafkaProxy{t: t, upstream: upstream, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		host: "127.0.0.1", port: int32(port), conns: map[net.Conn]struct{}{}, cutKey: -1}
	if err := p.listen(); err != nil {
		t.Fatalf("testenv: kafka proxy: %v", err)
	}
	t.Cleanup(func() {
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		p.down()
	})
	return p
}

// Addr returns the address clients bootstrap from.
func (p *KafkaProxy) Addr() string { return p.addr }

// CutAt arms the proxy for the next request with API key key: it is cut as how says, then every
// connection is closed and new ones are refused (connection refused, as from a dead broker) until
// Restore. The returned channel is closed once the cut happened.
func (p *KafkaProxy) CutAt(key kmsg.Key, how Cut) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cutKey, p.cutHow, p.cut = key.Int16(), how, make(chan struct{})
	return p.cut
}

// Restore accepts connections again after a cut.
func (p *KafkaProxy) Restore() {
	p.t.Helper()
	// The port was just released; a listen can race the kernel's cleanup of the old socket.
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := p.listen()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("testenv: kafka proxy: listen again: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *KafkaProxy) listen() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil || p.closed {
		return nil
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return err
	}
	p.ln = ln
	go p.accept(ln)
	return nil
}

func (p *KafkaProxy) accept(ln net.Listener) {
	for {
		client, err := ln.Accept()
		if err != nil {
			return
		}
		broker, err := net.Dial("tcp", p.upstream)
		if err != nil {
			client.Close()
			continue
		}
		if !p.track(client, broker) {
			client.Close()
			broker.Close()
			continue
		}
		inflight := &inflight{byCorr: map[int32]pendingRequest{}}
		go p.requests(client, broker, inflight)
		go p.answers(broker, client, inflight)
	}
}

// track registers a connection pair, unless the proxy went down meanwhile.
func (p *KafkaProxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}

// down closes the listener and every connection, as a killed broker's would be.
func (p *KafkaProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// takeCut reports whether a request with this key is the armed cut, disarming it.
func (p *KafkaProxy) takeCut(key int16) (Cut, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut == nil || key != p.cutKey {
		return 0, false
	}
	return p.cutHow, true
}

// cutNow takes the proxy down and says the cut happened.
func (p *KafkaProxy) cutNow() {
	p.down()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut != nil {
		close(p.cut)
		p.cut, p.cutKey = nil, -1
	}
}

// pendingRequest is what the answer to a request needs: its API key and version.
type pendingRequest struct {
	key, version int16
	drop         bool // the armed cut: drop the answer and go down
}

// inflight maps a connection's correlation ids to their requests.
type inflight struct {
	mu     sync.Mutex
	byCorr map[int32]pendingRequest
}

// requests copies request frames from the client to the broker, noting what each answer will be.
func (p *KafkaProxy) requests(client, broker net.Conn, in *inflight) {
	defer broker.Close()
	for {
		frame, err := readFrame(client)
		if err != nil {
			return
		}
		if len(frame) < 12 {
			return
		}
		req := pendingRequest{key: int16(binary.BigEndian.Uint16(frame[4:])), version: int16(binary.BigEndian.Uint16(frame[6:]))}
		corr := int32(binary.BigEndian.Uint32(frame[8:]))
		if how, ok := p.takeCut(req.key); ok {
			if how == CutBeforeRequest {
				p.cutNow()
				return
			}
			req.drop = true
		}
		in.mu.Lock()
		in.byCorr[corr] = req
		in.mu.Unlock()
		if _, err := broker.Write(frame); err != nil {
			return
		}
	}
}

// answers copies answer frames from the broker to the client, rewriting broker addresses.
func (p *KafkaProxy) answers(broker, client net.Conn, in *inflight) {
	defer client.Close()
	for {
		frame, err := readFrame(broker)
		if err != nil {
			return
		}
		if len(frame) < 8 {
			return
		}
		corr := int32(binary.BigEndian.Uint32(frame[4:]))
		in.mu.Lock()
		req, ok := in.byCorr[corr]
		delete(in.byCorr, corr)
		in.mu.Unlock()
		if ok && req.drop {
			p.cutNow()
			return
		}
		if ok {
			if frame, err = p.rewrite(frame, req); err != nil {
				p.fail(err)
				return
			}
		}
		if _, err := client.Write(frame); err != nil {
			return
		}
	}
}

// fail fails the test from a proxy goroutine, unless the test is over.
func (p *KafkaProxy) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.t.Errorf("testenv: kafka proxy: %v", err)
	}
}

// rewrite puts the proxy's address in place of the broker's in the answers that carry it.
func (p *KafkaProxy) rewrite(frame []byte, req pendingRequest) ([]byte, error) {
	switch kmsg.Key(req.key) {
	case kmsg.Metadata, kmsg.FindCoordinator, kmsg.DescribeCluster:
		return kafkawire.AmendResponse(frame, req.key, req.version, p.readdress)
	}
	return frame, nil
}

// readdress puts the proxy's address in place of the broker's.
func (p *KafkaProxy) readdress(resp kmsg.Response) error {
	switch r := resp.(type) {
	case *kmsg.MetadataResponse:
		if len(r.Brokers) > 1 {
			return fmt.Errorf("the cluster behind the proxy has %d brokers; the proxy fronts one", len(r.Brokers))
		}
		for i := range r.Brokers {
			r.Brokers[i].Host, r.Brokers[i].Port = p.host, p.port
		}
	case *kmsg.FindCoordinatorResponse:
		if r.Host != "" {
			r.Host, r.Port = p.host, p.port
		}
		for i := range r.Coordinators {
			if r.Coordinators[i].Host != "" {
				r.Coordinators[i].Host, r.Coordinators[i].Port = p.host, p.port
			}
		}
	case *kmsg.DescribeClusterResponse:
		for i := range r.Brokers {
			r.Brokers[i].Host, r.Brokers[i].Port = p.host, p.port
		}
	}
	return nil
}

// readFrame reads one size-prefixed Kafka frame, the size included.
func readFrame(r io.Reader) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(size[:])
	if n > 256<<20 {
		return nil, fmt.Errorf("frame of %d bytes", n)
	}
	frame := make([]byte, 4+n)
	copy(frame, size[:])
	_, err := io.ReadFull(r, frame[4:])
	return frame, err
}
