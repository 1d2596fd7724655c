// Package kafkawire reads and edits Kafka protocol frames on the wire, for the connections that
// watch or amend what passes between clients and a broker: the embedded broker's, and the tests'
// cutting proxy.
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

// ReadRequest decodes frame, a whole size-prefixed request, and returns it with its correlation ID.
func ReadRequest(frame []byte) (kmsg.Request, int32, error) {
	if len(frame) < 14 {
		return nil, 0, fmt.Errorf("request frame of %d bytes", len(frame))
	}
	key, version := int16(binary.BigEndian.Uint16(frame[4:])), int16(binary.BigEndian.Uint16(frame[6:]))
	corr := int32(binary.BigEndian.Uint32(frame[8:]))
	req := kmsg.RequestForKey(key)
	if req == nil {
		return nil, corr, fmt.Errorf("unknown API key %d", key)
	}
	req.SetVersion(version)
	// Request header v1: the client ID, a nullable string; v2 adds tagged fields.
	at := 12
	if n := int(int16(binary.BigEndian.Uint16(frame[at:]))); n > 0 {
		at += n
	}
	at += 2
	if at > len(frame) {
		return nil, corr, fmt.Errorf("%s v%d request header: client ID past the frame", kmsg.NameForKey(key), version)
	}
	if req.IsFlexible() {
		n, err := skipTags(frame[at:])
		if err != nil {
			return nil, corr, fmt.Errorf("%s v%d request header: %w", kmsg.NameForKey(key), version, err)
		}
		at += n
	}
	if err := req.ReadFrom(frame[at:]); err != nil {
		return nil, corr, fmt.Errorf("decode %s v%d request: %w", kmsg.NameForKey(key), version, err)
	}
	return req, corr, nil
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
