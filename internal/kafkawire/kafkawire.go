// Package kafkawire edits Kafka protocol frames on the wire, for the proxies that amend a broker's
// answers: the embedded broker's fixes for Java clients, and the tests' cutting proxy.
package kafkawire

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// AmendResponse decodes frame, a size-prefixed response to a request with API key and version,
// lets amend change it, and returns it encoded again in a new frame.
func AmendResponse(frame []byte, key, version int16, amend func(kmsg.Response) error) ([]byte, error) {
	resp := kmsg.ResponseForKey(key)
	if resp == nil {
		return nil, fmt.Errorf("unknown API key %d", key)
	}
	if len(frame) < 8 {
		return nil, fmt.Errorf("%s v%d response frame of %d bytes", kmsg.NameForKey(key), version, len(frame))
	}
	resp.SetVersion(version)
	headerEnd := 8 // size and correlation ID
	if resp.IsFlexible() {
		// Response header v1: tagged fields after the correlation ID.
		n, err := skipTags(frame[headerEnd:])
		if err != nil {
			return nil, fmt.Errorf("%s v%d response header: %w", kmsg.NameForKey(key), version, err)
		}
		headerEnd += n
	}
	if err := resp.ReadFrom(frame[headerEnd:]); err != nil {
		return nil, fmt.Errorf("decode %s v%d response: %w", kmsg.NameForKey(key), version, err)
	}
	if err := amend(resp); err != nil {
		return nil, err
	}
	out := resp.AppendTo(append([]byte(nil), frame[:headerEnd]...))
	binary.BigEndian.PutUint32(out, uint32(len(out)-4))
	return out, nil
}

// skipTags returns the length of the tagged fields section at the start of b.
func skipTags(b []byte) (int, error) {
	n, pos := binary.Uvarint(b)
	if pos <= 0 {
		return 0, errors.New("bad tag count")
	}
	for range n {
		_, k := binary.Uvarint(b[pos:])
		if k <= 0 {
			return 0, errors.New("bad tag")
		}
		pos += k
		size, k := binary.Uvarint(b[pos:])
		if k <= 0 || uint64(len(b)-pos-k) < size {
			return 0, errors.New("bad tag size")
		}
		pos += k + int(size)
	}
	return pos, nil
}
