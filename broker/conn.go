package broker

import (
	"encoding/binary"
	"net"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kconnect/kconnect/internal/kafkawire"
)

// clientConn is the broker side of a client's connection. It watches the
// requests the client sends, and acts on kfake's answers to some of them
// as they leave: it amends those Java clients would reject (javacompat.go),
// and tells the commit intent when a commit was answered (intent.go).
type clientConn struct {
	net.Conn

	// answeredCommit is called with the producer of each EndTxn that
	// commits, once kfake answered it and before the answer leaves; nil
	// without a data dir.
	answeredCommit func(producerID int64, epoch int16)

	// Read side: the request frame being parsed.
	hdr   []byte // size, key, version and correlation ID: 12 bytes
	skip  int    // bytes of the current request's body still to pass
	keep  []byte // the whole frame of a request decoded once read (EndTxn)
	await int    // bytes of the kept frame still to come

	mu      sync.Mutex
	pending map[int32]requestKind // correlation ID → request, for the requests acted on

	// Write side: bytes of a response frame not yet complete.
	out []byte
}

// requestKind is what a response needs from its request.
type requestKind struct {
	key, version int16
	commit       *kmsg.EndTxnRequest // an EndTxn that commits
}

// maxEndTxnBody bounds the EndTxn requests clientConn keeps to decode: a real one is a
// transactional ID and a few numbers. A larger one is passed through undecoded.
const maxEndTxnBody = 64 << 10

func newClientConn(c net.Conn, answeredCommit func(int64, int16)) *clientConn {
	return &clientConn{Conn: c, answeredCommit: answeredCommit, pending: map[int32]requestKind{}}
}

// Read passes the client's bytes through, noting the requests whose
// responses it acts on.
func (c *clientConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	for b := p[:n]; len(b) > 0; {
		if c.await > 0 {
			k := min(c.await, len(b))
			c.keep = append(c.keep, b[:k]...)
			c.await -= k
			b = b[k:]
			if c.await == 0 {
				c.noteEndTxn()
			}
			continue
		}
		if c.skip > 0 {
			k := min(c.skip, len(b))
			c.skip -= k
			b = b[k:]
			continue
		}
		k := min(12-len(c.hdr), len(b))
		c.hdr = append(c.hdr, b[:k]...)
		b = b[k:]
		if len(c.hdr) < 12 {
			continue
		}
		size := int(int32(binary.BigEndian.Uint32(c.hdr)))
		key := int16(binary.BigEndian.Uint16(c.hdr[4:]))
		rest := max(size-8, 0) // kfake rejects and closes on a bad size itself
		switch {
		case key == int16(kmsg.EndTxn) && c.answeredCommit != nil && rest <= maxEndTxnBody:
			c.keep = append(c.keep[:0], c.hdr...)
			c.await = rest
			if rest == 0 {
				c.noteEndTxn()
			}
		case amendedKeys[key]:
			c.note(int32(binary.BigEndian.Uint32(c.hdr[8:])), requestKind{key: key, version: int16(binary.BigEndian.Uint16(c.hdr[6:]))})
			c.skip = rest
		default:
			c.skip = rest
		}
		c.hdr = c.hdr[:0]
	}
	return n, err
}

// noteEndTxn notes the kept EndTxn request if it commits. One that does not
// decode is left to kfake, which answers it with an error.
func (c *clientConn) noteEndTxn() {
	req, corr, err := kafkawire.ReadRequest(c.keep)
	if end, ok := req.(*kmsg.EndTxnRequest); err == nil && ok && end.Commit {
		c.note(corr, requestKind{key: end.Key(), version: end.GetVersion(), commit: end})
	}
	c.keep = c.keep[:0]
}

func (c *clientConn) note(corr int32, req requestKind) {
	c.mu.Lock()
	c.pending[corr] = req
	c.mu.Unlock()
}

// Write passes responses through, acting on those of noted requests.
func (c *clientConn) Write(p []byte) (int, error) {
	c.out = append(c.out, p...)
	var send []byte
	for len(c.out) >= 4 {
		size := int(binary.BigEndian.Uint32(c.out))
		if len(c.out) < 4+size {
			break
		}
		frame := c.out[:4+size]
		c.out = c.out[4+size:]
		send = append(send, c.answer(frame)...)
	}
	if len(c.out) == 0 {
		c.out = nil
	}
	if len(send) > 0 {
		if _, err := c.Conn.Write(send); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// answer returns frame, amended when it answers a request Java clients
// need amended. A response that does not decode is sent as it is: the
// client reports it better than the broker could.
func (c *clientConn) answer(frame []byte) []byte {
	if len(frame) < 8 {
		return frame
	}
	corr := int32(binary.BigEndian.Uint32(frame[4:]))
	c.mu.Lock()
	req, ok := c.pending[corr]
	delete(c.pending, corr)
	c.mu.Unlock()
	switch {
	case !ok:
		return frame
	case req.commit != nil:
		c.answeredCommit(req.commit.ProducerID, req.commit.ProducerEpoch)
		return frame
	}
	amended, err := kafkawire.AmendResponse(frame, req.key, req.version, amendResponse)
	if err != nil {
		return frame
	}
	return amended
}
