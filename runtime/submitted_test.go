package runtime

import (
	"testing"
)

func TestSubmittedCommitsOnlyAcknowledgedPrefix(t *testing.T) {
	s := newSubmitted()
	a := map[string]any{"file": "a"}
	b := map[string]any{"file": "b"}
	var recs []*submittedRecord
	for i := int64(1); i <= 3; i++ {
		r, err := submitOne(s, a, map[string]any{"pos": i})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	rb, _ := submitOne(s, map[string]any{"file": "b"}, map[string]any{"pos": int64(10)})
	unkeyed, _ := submitOne(s, nil, nil)

	// The second and third records of a are acknowledged before the first: nothing of a may commit.
	s.ack(recs[1])
	s.ack(recs[2])
	s.ack(rb)
	s.ack(unkeyed)
	got := offsetsByFile(s)
	if _, ok := got["a"]; ok {
		t.Fatalf("partition a committed %v although its first record is unacknowledged", got["a"])
	}
	if got["b"] != 10 {
		t.Fatalf("partition b: want offset 10, got %v", got["b"])
	}

	s.ack(recs[0])
	got = offsetsByFile(s)
	if got["a"] != 3 {
		t.Fatalf("partition a: want offset 3 once all acknowledged, got %v", got)
	}
	if _, ok := got["b"]; ok {
		t.Fatal("partition b offered again without new records")
	}
	if n := s.inFlight(); n != 0 {
		t.Fatalf("in flight = %d, want 0", n)
	}
	// A different map with equal content must land in the same queue as b.
	r2, _ := submitOne(s, b, map[string]any{"pos": int64(11)})
	s.ack(r2)
	if got := offsetsByFile(s); got["b"] != 11 {
		t.Fatalf("equal partition maps must share a queue: %v", got)
	}
}

func submitOne(s *submitted, partition, offset map[string]any) (*submittedRecord, error) {
	r := &submittedRecord{}
	return r, s.submit(r, partition, offset)
}

func offsetsByFile(s *submitted) map[string]int64 {
	out := map[string]int64{}
	defer s.stored()
	for _, o := range s.committable() {
		out[o.Partition["file"].(string)] = o.Offset["pos"].(int64)
	}
	return out
}

func TestSubmittedRetriesUnstoredOffsets(t *testing.T) {
	s := newSubmitted()
	p := map[string]any{"file": "a"}
	r, _ := submitOne(s, p, map[string]any{"pos": int64(7)})
	s.ack(r)
	if got := s.committable(); len(got) != 1 {
		t.Fatalf("want one committable offset, got %v", got)
	}
	// The store failed (stored not called): the same offset must be offered again.
	got := s.committable()
	if len(got) != 1 || got[0].Offset["pos"] != int64(7) {
		t.Fatalf("offset whose store failed must be retried, got %v", got)
	}
	s.stored()
	if got := s.committable(); len(got) != 0 {
		t.Fatalf("nothing new to commit after a successful store, got %v", got)
	}
}

// Acknowledged records must not pile up until the next commit: the queue holds only what is in
// flight, while the latest acknowledged offset stays committable.
func TestSubmittedForgetsAcknowledgedRecordsBeforeCommit(t *testing.T) {
	s := newSubmitted()
	p := map[string]any{"slot": "s"}
	for i := int64(1); i <= 10000; i++ {
		r, err := submitOne(s, p, map[string]any{"lsn": i})
		if err != nil {
			t.Fatal(err)
		}
		s.ack(r)
	}
	var held int
	for _, q := range s.byKey {
		held += len(q.entries) - q.head
	}
	if held > 1 {
		t.Fatalf("%d acknowledged records still held before any commit", held)
	}
	got := s.committable()
	if len(got) != 1 || got[0].Offset["lsn"] != int64(10000) {
		t.Fatalf("committable = %v, want lsn 10000", got)
	}
}

// TestSubmittedOffsetsIncludeUnacknowledged checks what an exactly-once transaction writes before
// its records are acknowledged: the last submitted offset of each partition with unstored
// records, acknowledged or not, and nothing for a partition whose records are all stored.
func TestSubmittedOffsetsIncludeUnacknowledged(t *testing.T) {
	s := newSubmitted()
	a := map[string]any{"file": "a"}
	b := map[string]any{"file": "b"}
	c := map[string]any{"file": "c"}
	rc, _ := submitOne(s, c, map[string]any{"pos": int64(1)})
	s.ack(rc)
	s.committable()
	s.stored()
	ra1, _ := submitOne(s, a, map[string]any{"pos": int64(1)})
	ra2, _ := submitOne(s, a, map[string]any{"pos": int64(2)})
	rb, _ := submitOne(s, b, map[string]any{"pos": int64(5)})
	s.ack(ra1)
	s.ack(rb)
	got := map[string]any{}
	for _, o := range s.submittedOffsets() {
		got[o.Partition["file"].(string)] = o.Offset["pos"]
	}
	want := map[string]any{"a": int64(2), "b": int64(5)}
	if len(got) != len(want) || got["a"] != want["a"] || got["b"] != want["b"] {
		t.Fatalf("submitted offsets %v, want %v", got, want)
	}
	// Once all are acknowledged, the committable offsets are the same ones.
	s.ack(ra2)
	if got := offsetsByFile(s); len(got) != 2 || got["a"] != 2 || got["b"] != 5 {
		t.Fatalf("committable after the acknowledgements: %v, want a=2 b=5", got)
	}
	if got := s.submittedOffsets(); len(got) != 0 {
		t.Fatalf("submitted offsets after storing: %v, want none", got)
	}
}
