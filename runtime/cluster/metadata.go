package cluster

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kbin"
)

// WorkerState is the metadata a worker sends with each protocol it offers in JoinGroup, and what
// the leader learns about every member from the JoinGroup response.
type WorkerState struct {
	// URL is the worker's advertised REST URL, where the leader forwards requests.
	URL string
	// ConfigOffset is how far the worker has read the config topic.
	ConfigOffset int64
	// Allocation is what the worker runs now (Assignment.Apply of its assignments), sent with
	// the cooperative protocols so that a new leader knows the current distribution; nil when
	// the worker has no assignment (just started, or it dropped its work after losing contact).
	Allocation *Assignment
}

// Encode returns the worker metadata for protocol p as upstream serializes it: the eager
// layout for Eager, and for the cooperative protocols the same followed by the allocation,
// itself encoded with p's version.
func (w WorkerState) Encode(p Protocol) []byte {
	dst := kbin.AppendInt16(nil, p.Version())
	dst = kbin.AppendString(dst, w.URL)
	dst = kbin.AppendInt64(dst, w.ConfigOffset)
	if p == Eager {
		return dst
	}
	if w.Allocation == nil {
		return kbin.AppendNullableBytes(dst, nil)
	}
	return kbin.AppendNullableBytes(dst, appendAssignment(nil, *w.Allocation, p.Version()))
}

// DecodeWorkerState reads worker metadata of any Connect protocol version, as upstream's
// IncrementalCooperativeConnectProtocol does: eager metadata has no allocation, and bytes after
// the last known field are ignored.
func DecodeWorkerState(b []byte) (WorkerState, error) {
	d := newDecoder(b)
	var w WorkerState
	if v := d.int16("version"); d.err == nil && v < 0 {
		return w, fmt.Errorf("decode Connect worker metadata: unsupported version %d", v)
	}
	w.URL = d.string("url")
	w.ConfigOffset = d.int64("config-offset")
	var allocation []byte
	if d.more() {
		allocation = d.nullableBytes("allocation")
	}
	if d.err != nil {
		return WorkerState{}, fmt.Errorf("decode Connect worker metadata: %w", d.err)
	}
	if allocation != nil {
		a, err := decodeAssignment(newDecoder(allocation))
		if err != nil {
			return WorkerState{}, fmt.Errorf("decode Connect worker metadata: allocation: %w", err)
		}
		w.Allocation = &a
	}
	return w, nil
}
