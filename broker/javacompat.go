package broker

import (
	"encoding/binary"
	"net"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kconnect/kconnect/internal/kafkawire"
)

// Apache Kafka's Java clients validate response fields that kfake leaves at
// values no Kafka broker sends, and fail where franz-go and librdkafka do not:
//
//   - CreateTopics: kfake echoes the topic's configs with config source -1;
//     Java's ConfigSource.forId throws "id should be positive, id: -1", so
//     kafka-topics --create --config fails after creating the topic.
//   - DescribeTopicPartitions: kfake leaves EligibleLeaderReplicas and
//     LastKnownELR null; Java's admin client streams them, so
//     kafka-topics --describe throws a NullPointerException.
//
// kfake's control functions answer requests instead of kfake, not after it,
// so amending kfake's answer happens on the wire: javaCompatConn notes the
// key and version of each request a client sends, and rewrites the
// responses above before they leave.

// amendedKeys are the requests whose responses javaCompatConn amends.
var amendedKeys = map[int16]bool{
	int16(kmsg.CreateTopics):            true,
	int16(kmsg.DescribeTopicPartitions): true,
}

// amendResponse fixes the fields of resp that Java clients reject.
func amendResponse(resp kmsg.Response) error {
	switch r := resp.(type) {
	case *kmsg.CreateTopicsResponse:
		for i := range r.Topics {
			for j := range r.Topics[i].Configs {
				if c := &r.Topics[i].Configs[j]; c.Source < 0 {
					// kfake returns only the configs the request set,
					// which Kafka reports as topic configs.
					c.Source = int8(kmsg.ConfigSourceDynamicTopicConfig)
				}
			}
		}
	case *kmsg.DescribeTopicPartitionsResponse:
		for i := range r.Topics {
			for j := range r.Topics[i].Partitions {
				p := &r.Topics[i].Partitions[j]
				// kfake has no eligible leader replicas (KIP-966); Kafka
				// sends empty arrays then.
				if p.EligibleLeaderReplicas == nil {
					p.EligibleLeaderReplicas = []int32{}
				}
				if p.LastKnownELR == nil {
					p.LastKnownELR = []int32{}
				}
			}
		}
	}
	return nil
}

// javaCompatConn is a broker-side connection that amends responses for
// Java clients; see amendResponse.
type javaCompatConn struct {
	net.Conn

	// Read side: the request frame being parsed.
	hdr  []byte // size, key, version and correlation ID: 12 bytes
	skip int    // bytes of the current request's body still to pass

	mu      sync.Mutex
	pending map[int32]requestKind // correlation ID → request, for amendedKeys only

	// Write side: bytes of a response frame not yet complete.
	out []byte
}

type requestKind struct{ key, version int16 }

func newJavaCompatConn(c net.Conn) *javaCompatConn {
	return &javaCompatConn{Conn: c, pending: map[int32]requestKind{}}
}

// Read passes the client's bytes through, noting the requests whose
// responses need amending.
func (c *javaCompatConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	for b := p[:n]; len(b) > 0; {
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
		if amendedKeys[key] {
			c.mu.Lock()
			c.pending[int32(binary.BigEndian.Uint32(c.hdr[8:]))] = requestKind{key, int16(binary.BigEndian.Uint16(c.hdr[6:]))}
			c.mu.Unlock()
		}
		c.skip = max(size-8, 0) // kfake rejects and closes on a bad size itself
		c.hdr = c.hdr[:0]
	}
	return n, err
}

// Write passes responses through, amending those of noted requests.
func (c *javaCompatConn) Write(p []byte) (int, error) {
	c.out = append(c.out, p...)
	var send []byte
	for len(c.out) >= 4 {
		size := int(binary.BigEndian.Uint32(c.out))
		if len(c.out) < 4+size {
			break
		}
		frame := c.out[:4+size]
		c.out = c.out[4+size:]
		send = append(send, c.amend(frame)...)
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

// amend returns frame, or the frame with its response amended when it
// answers a noted request. A response that does not decode is sent as it
// is: the client reports it better than the broker could.
func (c *javaCompatConn) amend(frame []byte) []byte {
	if len(frame) < 8 {
		return frame
	}
	corr := int32(binary.BigEndian.Uint32(frame[4:]))
	c.mu.Lock()
	req, ok := c.pending[corr]
	delete(c.pending, corr)
	c.mu.Unlock()
	if !ok {
		return frame
	}
	amended, err := kafkawire.AmendResponse(frame, req.key, req.version, amendResponse)
	if err != nil {
		return frame
	}
	return amended
}
