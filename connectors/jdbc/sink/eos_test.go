package sink

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kconnect/kconnect/connect"
)

// TestExactlyOnceOffsets checks that Put stores the offsets with the rows, PreCommit returns
// exactly those, and a new task instance seeks to them on Open and skips redelivered records.
func TestExactlyOnceOffsets(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		name := "eos-" + db.kind
		props := db.props("auto.create", "true", "table.name.format", "eos")
		task, tctx := startTask(t, name, props)
		p0 := connect.TopicPartition{Topic: "orders", Partition: 0}
		p1 := connect.TopicPartition{Topic: "orders", Partition: 1}
		p2 := connect.TopicPartition{Topic: "orders", Partition: 2} // assigned, never written
		if err := task.Open(context.Background(), []connect.TopicPartition{p0, p1, p2}); err != nil {
			t.Fatalf("Open: %v", err)
		}
		if s := tctx.Seeks(); len(s) != 0 {
			t.Fatalf("fresh connector seeked to %v", s)
		}
		rb := newRecords()
		var all []connect.SinkRecord
		for i := 0; i < 10; i++ {
			all = append(all, rb.rec("orders", int32(i%2), nil, nil, rowSchema, row(t, int32(i), "x", int64(i))))
		}
		put(t, task, all[:6]...)
		put(t, task, all[6:]...)
		// p0 got offsets 0..4, p1 0..4: the next offsets are 5.
		want := map[connect.TopicPartition]int64{p0: 5, p1: 5}
		if got := db.offsets(t, name); !equalOffsets(got, want) {
			t.Fatalf("offsets table %v, want %v", got, want)
		}
		// The runtime's view (current) may be ahead of or equal to the database: PreCommit
		// reports the database, and nothing for a partition never written.
		got, err := task.PreCommit(context.Background(), map[connect.TopicPartition]int64{p0: 5, p1: 7, p2: 3})
		if err != nil {
			t.Fatalf("PreCommit: %v", err)
		}
		if !equalOffsets(got, want) {
			t.Fatalf("PreCommit = %v, want %v", got, want)
		}
		if err := task.Stop(); err != nil {
			t.Fatal(err)
		}

		// A new instance (after a crash or rebalance) resumes from the database.
		task2, tctx2 := startTask(t, name, props)
		if err := task2.Open(context.Background(), []connect.TopicPartition{p0, p1, p2}); err != nil {
			t.Fatalf("Open: %v", err)
		}
		if s := tctx2.Seeks(); !equalOffsets(s, want) {
			t.Fatalf("seeks %v, want %v", s, want)
		}
		// Were the seek not honoured, a redelivery of written records must not duplicate them:
		// records 4..9 again plus new 10..11.
		more := append([]connect.SinkRecord{}, all[4:]...)
		more = append(more, rb.rec("orders", 0, nil, nil, rowSchema, row(t, 10, "x", 10)), rb.rec("orders", 1, nil, nil, rowSchema, row(t, 11, "x", 11)))
		put(t, task2, more...)
		if n := db.count(t, "eos"); n != 12 {
			t.Fatalf("%d rows after a redelivery, want 12", n)
		}
		want = map[connect.TopicPartition]int64{p0: 6, p1: 6}
		if got := db.offsets(t, name); !equalOffsets(got, want) {
			t.Fatalf("offsets table %v, want %v", got, want)
		}
		// Another connector's offsets are its own.
		other, otherCtx := startTask(t, name+"-other", props)
		if err := other.Open(context.Background(), []connect.TopicPartition{p0}); err != nil {
			t.Fatal(err)
		}
		if s := otherCtx.Seeks(); len(s) != 0 {
			t.Fatalf("another connector seeked to %v", s)
		}
	})
}

func equalOffsets(a, b map[connect.TopicPartition]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestOffsetsDisabled checks the at-least-once mode: no offsets table, PreCommit passes current.
func TestOffsetsDisabled(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		task, tctx := startTask(t, t.Name(), db.props("auto.create", "true", "table.name.format", "alo", "kconnect.offsets.enabled", "false"))
		tp := connect.TopicPartition{Topic: "t", Partition: 0}
		if err := task.Open(context.Background(), []connect.TopicPartition{tp}); err != nil {
			t.Fatal(err)
		}
		rb := newRecords()
		put(t, task, rb.rec("t", 0, nil, nil, rowSchema, row(t, 1, "a", 1)))
		current := map[connect.TopicPartition]int64{tp: 1}
		got, err := task.PreCommit(context.Background(), current)
		if err != nil || !equalOffsets(got, current) {
			t.Fatalf("PreCommit = %v, %v; want %v", got, err, current)
		}
		if db.exists(t, "kconnect_offsets") {
			t.Error("offsets table created with kconnect.offsets.enabled=false")
		}
		if len(tctx.Seeks()) != 0 {
			t.Error("seeked with kconnect.offsets.enabled=false")
		}
	})
}

// TestConstraintViolationRollsBack checks that a record the database rejects fails the batch with
// its coordinates and the database's message, leaving neither rows nor offsets of the batch.
func TestConstraintViolationRollsBack(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		for _, n := range []int{5, 300} { // both the statement and the COPY paths
			t.Run("n="+strconv.Itoa(n), func(t *testing.T) {
				table := "cv_" + strconv.Itoa(n)
				name := t.Name()
				task, _ := startTask(t, name, db.props("auto.create", "true", "pk.mode", "record_key", "table.name.format", table))
				rb := newRecords()
				put(t, task, rb.rec("cv", 0, idKeySchema, idKey(t, 1), rowSchema, row(t, 1, "a", 1)))
				var recs []connect.SinkRecord
				for i := 0; i < n; i++ {
					id := int32(100 + i)
					if i == n/2 {
						id = 1 // already in the table
					}
					recs = append(recs, rb.rec("cv", 0, idKeySchema, idKey(t, id), rowSchema, row(t, id, "b", 2)))
				}
				err := deliver(context.Background(), task, recs)
				dbMsg := map[string]string{"postgres": "duplicate key value violates unique constraint", "mysql": "Duplicate entry '1'"}[db.kind]
				wantErrContains(t, err, "topic=cv", "partition=0", "offset="+strconv.Itoa(1+n/2), dbMsg, table)
				var re *RecordError
				if !errors.As(err, &re) || re.Offset != int64(1+n/2) {
					t.Fatalf("error %v is not a RecordError for offset %d", err, 1+n/2)
				}
				if c := db.count(t, table); c != 1 {
					t.Fatalf("%d rows after the failed batch, want 1", c)
				}
				if got := db.offsets(t, name); !equalOffsets(got, map[connect.TopicPartition]int64{{Topic: "cv", Partition: 0}: 1}) {
					t.Fatalf("offsets after the failed batch: %v", got)
				}
			})
		}
	})
}

// collectingReporter is an ErrantRecordReporter that remembers what it was given.
type collectingReporter struct {
	mu   sync.Mutex
	recs []connect.SinkRecord
	errs []error
}

func (r *collectingReporter) Report(_ context.Context, rec *connect.SinkRecord, err error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, *rec)
	r.errs = append(r.errs, err)
	return nil
}

// TestErrantRecordReporter checks the failure path the dead-letter queue plugs into: rejected
// records go to the reporter with their error, the rest of the batch is written, and the offsets
// move past all of them.
func TestErrantRecordReporter(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		name := t.Name()
		task, tctx := startTask(t, name, db.props("auto.create", "true", "pk.mode", "record_key", "table.name.format", "dlq"))
		rep := &collectingReporter{}
		tctx.SetErrantRecordReporter(rep)
		rb := newRecords()
		put(t, task, rb.rec("d", 0, idKeySchema, idKey(t, 1), rowSchema, row(t, 1, "a", 1)))
		put(t, task,
			rb.rec("d", 0, idKeySchema, idKey(t, 2), rowSchema, row(t, 2, "b", 2)),
			rb.rec("d", 0, idKeySchema, idKey(t, 1), rowSchema, row(t, 1, "dup", 2)),          // duplicate key
			rb.rec("d", 0, nil, map[string]any{"id": 3}, nil, map[string]any{"id": int64(3)}), // schemaless
			rb.rec("d", 0, idKeySchema, idKey(t, 4), rowSchema, row(t, 4, "d", 4)))
		wantRows(t, db.table(t, "dlq", "id", "name"), []string{"1", "a"}, []string{"2", "b"}, []string{"4", "d"})
		// Records that cannot be converted are found before any SQL runs, so they come first.
		if len(rep.recs) != 2 || rep.recs[0].Offset != 3 || rep.recs[1].Offset != 2 {
			t.Fatalf("reported %d records %v", len(rep.recs), rep.recs)
		}
		wantErrContains(t, rep.errs[0], "offset=3", "schema")
		wantErrContains(t, rep.errs[1], "offset=2", map[string]string{"postgres": "duplicate key", "mysql": "Duplicate entry"}[db.kind])
		if got := db.offsets(t, name); !equalOffsets(got, map[connect.TopicPartition]int64{{Topic: "d", Partition: 0}: 5}) {
			t.Fatalf("offsets %v, want d-0 at 5", got)
		}
	})
}

// TestConnectionLostMidBatch kills the task's database session while its batch waits on a lock,
// and checks the batch is rolled back, retried on a new connection, and written exactly once.
func TestConnectionLostMidBatch(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		name := t.Name()
		task, _ := startTask(t, name, db.props("auto.create", "true", "pk.mode", "record_key", "table.name.format", "lost",
			"max.retries", "3", "retry.backoff.ms", "50"))
		rb := newRecords()
		put(t, task, rb.rec("l", 0, idKeySchema, idKey(t, 1), rowSchema, row(t, 1, "a", 1)))

		var recs []connect.SinkRecord
		for i := int32(2); i <= 200; i++ {
			recs = append(recs, rb.rec("l", 0, idKeySchema, idKey(t, i), rowSchema, row(t, i, "b", int64(i))))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		unlock := db.blockWrites(t, ctx, "lost")
		done := make(chan error, 1)
		go func() { done <- deliver(ctx, task, recs) }()
		victim := db.waitForBlockedSession(t, ctx)
		db.killSession(t, victim)
		unlock()
		if err := <-done; err != nil {
			t.Fatalf("Put after the connection was killed: %v", err)
		}
		if c := db.count(t, "lost"); c != 200 {
			t.Fatalf("%d rows, want 200", c)
		}
		wantRows(t, db.rows(t, "SELECT "+db.castText("MIN("+db.q("id")+")")+", "+db.castText("MAX("+db.q("id")+")")+", "+
			db.castText("COUNT(DISTINCT "+db.q("id")+")")+" FROM "+db.q("lost")), []string{"1", "200", "200"})
		if got := db.offsets(t, name); !equalOffsets(got, map[connect.TopicPartition]int64{{Topic: "l", Partition: 0}: 200}) {
			t.Fatalf("offsets %v, want l-0 at 200", got)
		}
	})
}

// TestRetriesExhausted checks that a database that stays away fails the task after max.retries.
func TestRetriesExhausted(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		task, _ := startTask(t, t.Name(), db.props("auto.create", "true", "table.name.format", "gone", "max.retries", "2",
			"retry.backoff.ms", "1", "connection.attempts", "1"))
		// Point the task at a port nobody listens on, as if the server went down.
		task.resetConnection()
		task.cfg.conn.DSN = deadDSN(db.kind)
		rb := newRecords()
		err := deliver(context.Background(), task, []connect.SinkRecord{rb.rec("g", 0, nil, nil, rowSchema, row(t, 1, "a", 1))})
		wantErrContains(t, err, "giving up after 2 retries")
	})
}

func deadDSN(kind string) string {
	if kind == "mysql" {
		return "u:p@tcp(127.0.0.1:1)/db"
	}
	return "postgres://u:p@127.0.0.1:1/db?sslmode=disable&connect_timeout=2"
}
