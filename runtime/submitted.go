package runtime

import (
	"encoding/json"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/kconnect/kconnect/connect"
)

// submitted tracks source records sent to Kafka but not yet committed, per source partition in
// the order they were polled. An offset becomes committable only when Kafka acknowledged its record
// and every earlier record of the same source partition, so a crash never skips a record whose
// later neighbour happened to be acknowledged first.
type submitted struct {
	mu      sync.Mutex
	byKey   map[string]*partitionQueue
	byMap   map[uintptr]mapRef
	pending atomic.Int64 // records submitted and not yet acknowledged
}

// mapRef keeps the partition map alive while its address is cached: as long as the map is
// referenced here, no other map can be allocated at the same address.
type mapRef struct {
	m map[string]any
	q *partitionQueue
}

// maxMapCache bounds byMap; connectors that allocate a new partition map per record only pay
// the JSON key encoding.
const maxMapCache = 4096

type partitionQueue struct {
	partition map[string]any
	entries   []*submittedRecord
	head      int
	// latest is the newest committable offset; dirty says it is not yet durably stored, so a
	// failed store is retried at the next commit even if no new record arrives.
	latest map[string]any
	dirty  bool
}

type submittedRecord struct {
	offset map[string]any
	acked  atomic.Bool
}

func newSubmitted() *submitted {
	return &submitted{byKey: map[string]*partitionQueue{}, byMap: map[uintptr]mapRef{}}
}

// submit registers a record about to be sent, using r (which the caller allocates, typically one
// slice per poll batch); call ack on it once Kafka acknowledged the record. Records without a
// source partition or offset are counted but never committed.
func (s *submitted) submit(r *submittedRecord, partition, offset map[string]any) error {
	s.pending.Add(1)
	r.offset = offset
	if partition == nil || offset == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queue(partition)
	if err != nil {
		return err
	}
	// Drop the acknowledged prefix now rather than at the next commit, so memory tracks the
	// records in flight, not throughput × offset.flush.interval.ms.
	q.advance()
	q.entries = append(q.entries, r)
	return nil
}

// advance pops the acknowledged prefix, remembering the last offset in it as committable.
// Callers hold s.mu.
func (q *partitionQueue) advance() {
	for q.head < len(q.entries) && q.entries[q.head].acked.Load() {
		q.latest, q.dirty = q.entries[q.head].offset, true
		q.entries[q.head] = nil
		q.head++
	}
	if q.head == len(q.entries) {
		q.entries, q.head = q.entries[:0], 0
	} else if q.head > len(q.entries)/2 {
		n := copy(q.entries, q.entries[q.head:])
		clear(q.entries[n:])
		q.entries, q.head = q.entries[:n], 0
	}
}

func (s *submitted) queue(partition map[string]any) (*partitionQueue, error) {
	ptr := reflect.ValueOf(partition).Pointer()
	if ref, ok := s.byMap[ptr]; ok {
		return ref.q, nil
	}
	key, err := json.Marshal(partition)
	if err != nil {
		return nil, err
	}
	q, ok := s.byKey[string(key)]
	if !ok {
		q = &partitionQueue{partition: partition}
		s.byKey[string(key)] = q
	}
	if len(s.byMap) >= maxMapCache {
		clear(s.byMap)
	}
	s.byMap[ptr] = mapRef{m: partition, q: q}
	return q, nil
}

// ack marks the record acknowledged by Kafka.
func (s *submitted) ack(r *submittedRecord) {
	r.acked.Store(true)
	s.pending.Add(-1)
}

// committable removes the acknowledged prefix of every partition's queue and returns, per
// partition, the offset of the last record in that prefix (or the last one whose storing failed).
// Call stored after storing them; commits must not run concurrently.
func (s *submitted) committable() []connect.SourceOffset {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []connect.SourceOffset
	for _, q := range s.byKey {
		q.advance()
		if q.dirty {
			out = append(out, connect.SourceOffset{Partition: q.partition, Offset: q.latest})
		}
	}
	return out
}

// submittedOffsets returns, per partition with records not yet stored, the offset of the last
// record submitted, acknowledged or not: what a transaction holding all those records commits.
func (s *submitted) submittedOffsets() []connect.SourceOffset {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []connect.SourceOffset
	for _, q := range s.byKey {
		q.advance()
		switch {
		case q.head < len(q.entries):
			out = append(out, connect.SourceOffset{Partition: q.partition, Offset: q.entries[len(q.entries)-1].offset})
		case q.dirty:
			out = append(out, connect.SourceOffset{Partition: q.partition, Offset: q.latest})
		}
	}
	return out
}

// stored records that the offsets last returned by committable are durable.
func (s *submitted) stored() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.byKey {
		q.dirty = false
	}
}

// inFlight returns how many submitted records await acknowledgement.
func (s *submitted) inFlight() int64 { return s.pending.Load() }
