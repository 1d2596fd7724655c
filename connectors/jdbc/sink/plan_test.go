package sink

import (
	"log/slog"
	"math/big"
	"testing"

	"github.com/kconnect/kconnect/connect"
)

// planTask is a task with a parsed configuration and an unconnected dialect: enough to plan.
func planTask(t *testing.T, props map[string]string) *Task {
	t.Helper()
	props["connection.url"] = pgURL
	cfg, err := parseConfig(props)
	if err != nil {
		t.Fatal(err)
	}
	return &Task{
		cfg: cfg, log: slog.Default(), db: newPostgres(cfg),
		tables: map[string]*tableState{}, topicTables: map[string]*tableState{},
		layouts: map[layoutKey]*layout{}, envelopes: map[*connect.Schema]*envelope{},
	}
}

// TestPlanDedupe checks last-wins per key within a batch, with a delete before the last write
// turning it into delete-then-insert.
func TestPlanDedupe(t *testing.T) {
	task := planTask(t, map[string]string{"pk.mode": "record_key", "insert.mode": "upsert", "delete.enabled": "true"})
	rb := newRecords()
	w := func(id int32, name string) connect.SinkRecord {
		return rb.rec("t", 0, idKeySchema, idKey(t, id), rowSchema, row(t, id, name, 1))
	}
	d := func(id int32) connect.SinkRecord { return rb.rec("t", 0, idKeySchema, idKey(t, id), nil, nil) }
	recs := []connect.SinkRecord{w(1, "a"), d(1), w(1, "b"), w(2, "c"), d(3), w(4, "d"), d(4), w(2, "e")}
	p, err := task.buildPlan(recs, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.tables) != 1 || len(p.tables[0].steps) != 1 {
		t.Fatalf("plan has %d tables", len(p.tables))
	}
	s := p.tables[0].steps[0]
	opRecs := func(idx []int32) []int32 {
		var out []int32
		for _, i := range idx {
			out = append(out, s.ops[i].rec)
		}
		return out
	}
	// Deletes: key 1 (deleted before its last write), key 3, key 4. Writes: key 1's last, key 2's last.
	if got, want := opRecs(s.deletes), []int32{2, 4, 6}; !equalInt32(got, want) {
		t.Errorf("deletes from records %v, want %v", got, want)
	}
	if got, want := opRecs(s.writes), []int32{2, 7}; !equalInt32(got, want) {
		t.Errorf("writes from records %v, want %v", got, want)
	}
	if p.next[connect.TopicPartition{Topic: "t"}] != 8 || p.rows != 2 {
		t.Errorf("next %v rows %d", p.next, p.rows)
	}
}

// TestPlanSegments checks that a schema change starts a new segment, and that skip and floor
// drop records but still count them for offsets.
func TestPlanSegments(t *testing.T) {
	v2 := connect.StructBuilder().Name("v2").Field("id", connect.Int32Schema).Field("x", connect.OptionalStringSchema).MustBuild()
	task := planTask(t, map[string]string{"pk.mode": "record_value", "pk.fields": "id", "insert.mode": "upsert"})
	rb := newRecords()
	recs := []connect.SinkRecord{
		rb.rec("t", 0, nil, nil, rowSchema, row(t, 1, "a", 1)),
		rb.rec("t", 0, nil, nil, rowSchema, row(t, 2, "b", 1)),
		rb.rec("t", 0, nil, nil, v2, mustStruct(t, v2, "id", int32(1), "x", "z")),
		rb.rec("t", 1, nil, nil, rowSchema, row(t, 3, "c", 1)),
	}
	p, err := task.buildPlan(recs, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(p.tables[0].steps); n != 3 {
		t.Fatalf("%d segments, want 3 (schema change and back)", n)
	}
	p, err = task.buildPlan(recs, map[int]bool{3: true}, map[connect.TopicPartition]int64{{Topic: "t"}: 2})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(p.tables[0].steps); n != 1 || len(p.tables[0].steps[0].writes) != 1 || p.tables[0].steps[0].ops[0].rec != 2 {
		t.Fatalf("filtered plan: %d segments", n)
	}
	if p.next[connect.TopicPartition{Topic: "t", Partition: 1}] != 1 || p.next[connect.TopicPartition{Topic: "t"}] != 3 {
		t.Errorf("skipped records must still advance offsets: %v", p.next)
	}
}

func TestDedupeKey(t *testing.T) {
	dec := func(unscaled int64, scale int32) connect.Decimal {
		return connect.Decimal{Unscaled: big.NewInt(unscaled), Scale: scale}
	}
	same := [][2][]any{
		{{int32(5)}, {int32(5)}},
		{{"a", int64(1)}, {"a", int64(1)}},
		{{dec(10, 1), "x"}, {dec(100, 2), "x"}}, // 1.0 = 1.00, as the database compares them
		{{[]byte("k"), int32(1)}, {[]byte("k"), int32(1)}},
	}
	for _, c := range same {
		if dedupeKey(c[0]) != dedupeKey(c[1]) {
			t.Errorf("%v and %v should collide", c[0], c[1])
		}
	}
	different := [][2][]any{
		{{"ab", ""}, {"a", "b"}},
		{{int32(1), "x"}, {"1", "x"}},
		{{nil, "x"}, {"", "x"}},
		{{int64(12), int64(3)}, {int64(1), int64(23)}},
	}
	for _, c := range different {
		if dedupeKey(c[0]) == dedupeKey(c[1]) {
			t.Errorf("%v and %v must not collide", c[0], c[1])
		}
	}
}

func equalInt32(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
