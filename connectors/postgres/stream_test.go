package postgres

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connect/connecttest"
)

func keyID(t *testing.T, r connect.SourceRecord) int32 {
	t.Helper()
	return r.Key.(*connect.Struct).Get("id").(int32)
}

// changeID identifies a change event independently of when it was decoded.
func changeID(t *testing.T, r connect.SourceRecord) string {
	if r.Value == nil {
		return fmt.Sprintf("tombstone/%d/%v", keyID(t, r), r.SourceOffset["lsn"])
	}
	e := env(t, r)
	return fmt.Sprintf("%s/%d/%v", field(t, e, "op"), keyID(t, r), field(t, e, "source", "lsn"))
}

func TestRestartFromCommittedOffsetsReplaysNeverLoses(t *testing.T) {
	pg := newPG(t)
	pg.exec(`CREATE TABLE t (id int PRIMARY KEY, v text)`)
	p := props(t, pg.dsn, "snapshot.mode", "no_data", "max.batch.size", "3")
	tctx := connecttest.New(t)
	task := startTask(t, tctx, p)
	waitForSlot(t, pg, p["slot.name"])
	// One big transaction and a few small ones, so the crash lands inside a transaction.
	pg.exec(`INSERT INTO t SELECT g, 'x' FROM generate_series(1, 20) g`)
	for i := 21; i <= 25; i++ {
		pg.exec(`INSERT INTO t VALUES ($1, 'y')`, i)
	}
	pg.exec(`DELETE FROM t WHERE id <= 2`)
	first := pollFor(t, task, 29, isData, 30*time.Second)
	// The runtime stored the offsets of the first 7 records (mid-transaction), then the worker died.
	committed := tctx.Commit(first[:7])
	if err := task.Commit(context.Background(), committed); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if err := task.Stop(); err != nil {
		t.Fatal(err)
	}
	var confirmed string
	pg.scalar(`SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1`, &confirmed, p["slot.name"])
	lsnCommit := first[6].SourceOffset["lsn_commit"].(int64)
	if c, _ := pglogrepl.ParseLSN(confirmed); int64(c) > lsnCommit {
		t.Errorf("slot confirmed %s beyond the stored offset's lsn_commit %d", confirmed, lsnCommit)
	}

	task2 := startTask(t, tctx, p)
	again := pollFor(t, task2, 29-7, isData, 30*time.Second)
	var want, got []string
	for _, r := range first[7:] {
		want = append(want, changeID(t, r))
	}
	for _, r := range again[:len(want)] {
		got = append(got, changeID(t, r))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after restart got\n%v\nwant everything after the committed offset, exactly once\n%v", got, want)
	}
	pg.exec(`INSERT INTO t VALUES (100, 'after')`)
	more := pollFor(t, task2, 1, isData, 30*time.Second)
	if keyID(t, more[len(more)-1]) != 100 {
		t.Errorf("new change after restart = %v", changeID(t, more[len(more)-1]))
	}
}

func TestSnapshotUnderConcurrentWritesHandsOffExactly(t *testing.T) {
	pg := newPG(t)
	pg.exec(`CREATE TABLE big (id int PRIMARY KEY, pad text)`)
	pg.exec(`INSERT INTO big SELECT g, repeat('p', 100) FROM generate_series(1, 30000) g`)
	pg.exec(`ANALYZE big`)
	p := props(t, pg.dsn, "snapshot.max.threads", "2", "snapshot.fetch.size", "1000", "max.batch.size", "4096")

	// The writer's statements are never cancelled: a cancelled statement can still commit on the
	// server after the client gave up, behind the counts taken below.
	ctx := context.Background()
	var stop atomic.Bool
	var writes sync.WaitGroup
	var next atomic.Int32
	next.Store(30001)
	writes.Add(1)
	go func() {
		defer writes.Done()
		conn, err := pgx.Connect(ctx, pg.dsn)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		for !stop.Load() {
			id := next.Add(1) - 1
			_, err := conn.Exec(ctx, `INSERT INTO big VALUES ($1, 'w')`, id)
			if err == nil {
				_, err = conn.Exec(ctx, `UPDATE big SET pad = 'u' WHERE id = $1`, id-30000)
			}
			if err != nil {
				t.Error(err)
				return
			}
		}
	}()
	time.Sleep(100 * time.Millisecond)
	task := startTask(t, connecttest.New(t), p)
	var recs []connect.SourceRecord
	snapshotDone := false
	deadline := time.Now().Add(2 * time.Minute)
	for !snapshotDone && time.Now().Before(deadline) {
		batch, err := task.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range batch {
			recs = append(recs, r)
			if r.SourceOffset["last_snapshot_record"] == true {
				snapshotDone = true
			}
		}
	}
	time.Sleep(300 * time.Millisecond)
	stop.Store(true)
	writes.Wait()
	var maxID int32
	pg.scalar(`SELECT max(id) FROM big`, &maxID)
	var rows int
	pg.scalar(`SELECT count(*) FROM big`, &rows)
	// Drain until the last insert arrived.
	seenMax := false
	for !seenMax && time.Now().Before(deadline) {
		batch, err := task.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range batch {
			recs = append(recs, r)
			if isData(r) && r.Value != nil && op(t, r) == "c" && keyID(t, r) == maxID {
				seenMax = true
			}
		}
	}
	if !snapshotDone || !seenMax {
		t.Fatalf("snapshot done %v, last insert %d seen %v", snapshotDone, maxID, seenMax)
	}
	snapshotIDs := map[int32]int{}
	createIDs := map[int32]int{}
	marks := map[string]int{}
	for _, r := range recs {
		switch op(t, r) {
		case "r":
			snapshotIDs[keyID(t, r)]++
			marks[field(t, env(t, r), "source", "snapshot").(string)]++
		case "c":
			createIDs[keyID(t, r)]++
		}
	}
	// Every row is read by the snapshot or created by the stream, never both and never twice.
	for id, n := range snapshotIDs {
		if n != 1 || createIDs[id] != 0 {
			t.Fatalf("id %d: %d snapshot reads, %d creates", id, n, createIDs[id])
		}
	}
	for id, n := range createIDs {
		if n != 1 {
			t.Fatalf("id %d created %d times", id, n)
		}
	}
	if len(snapshotIDs)+len(createIDs) != rows {
		t.Errorf("snapshot %d + streamed creates %d != %d rows in the table", len(snapshotIDs), len(createIDs), rows)
	}
	if len(createIDs) == 0 || len(snapshotIDs) < 30000 {
		t.Errorf("writes did not overlap the snapshot: %d snapshot rows, %d creates", len(snapshotIDs), len(createIDs))
	}
	if marks["first"] != 1 || marks["last"] != 1 {
		t.Errorf("snapshot markers = %v, want one first and one last", marks)
	}
}

func TestHeartbeatAdvancesSlotOnIdleTable(t *testing.T) {
	pg := newPG(t)
	pg.exec(`CREATE TABLE idle (id int PRIMARY KEY)`)
	pg.exec(`CREATE TABLE busy (id int PRIMARY KEY)`)
	p := props(t, pg.dsn, "snapshot.mode", "no_data", "table.include.list", "public.idle", "heartbeat.interval.ms", "200")
	tctx := connecttest.New(t)
	task := startTask(t, tctx, p)
	waitForSlot(t, pg, p["slot.name"])
	var before string
	pg.scalar(`SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1`, &before, p["slot.name"])
	pg.exec(`INSERT INTO busy SELECT generate_series(1, 1000)`)
	var walAfter string
	pg.scalar(`SELECT pg_current_wal_lsn()::text`, &walAfter)
	target, _ := pglogrepl.ParseLSN(walAfter)
	// pg_current_wal_lsn can point at the start of the next WAL page, past the end of the last
	// record, which the slot then never reaches while the server is idle; one more change moves
	// the WAL beyond target.
	pg.exec(`INSERT INTO busy VALUES (1001)`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		batch, err := task.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range batch {
			if isData(r) {
				t.Fatalf("change from an excluded table: %s", r.Topic)
			}
			if r.Topic != "__debezium-heartbeat.pgsrv" || r.KeySchema.Name != "io.debezium.connector.common.ServerNameKey" ||
				r.Key.(*connect.Struct).Get("serverName") != "pgsrv" || r.ValueSchema.Name != "io.debezium.connector.common.Heartbeat" {
				t.Fatalf("heartbeat record = %s %v %v", r.Topic, r.Key, r.Value)
			}
		}
		if err := task.Commit(context.Background(), tctx.Commit(batch)); err != nil {
			t.Fatal(err)
		}
		var confirmed string
		pg.scalar(`SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1`, &confirmed, p["slot.name"])
		if c, _ := pglogrepl.ParseLSN(confirmed); c >= target {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("confirmed_flush_lsn stayed at %s (was %s), want >= %s", confirmed, before, walAfter)
		}
	}
}

func TestReconnectsAfterWalsenderTerminated(t *testing.T) {
	pg := newPG(t)
	pg.exec(`CREATE TABLE t (id int PRIMARY KEY)`)
	p := props(t, pg.dsn, "snapshot.mode", "no_data", "slot.retry.delay.ms", "500")
	task := startTask(t, connecttest.New(t), p)
	waitForSlot(t, pg, p["slot.name"])
	pg.exec(`INSERT INTO t SELECT generate_series(1, 5)`)
	recs := pollFor(t, task, 5, isData, 30*time.Second)
	// Simulates the server going away under the connector without restarting the shared cluster.
	pg.exec(`SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1`, p["slot.name"])
	pg.exec(`INSERT INTO t SELECT generate_series(6, 10)`)
	recs = append(recs, pollFor(t, task, 5, isData, 60*time.Second)...)
	var ids []int32
	for _, r := range recs {
		if isData(r) {
			ids = append(ids, keyID(t, r))
		}
	}
	if want := []int32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}; !reflect.DeepEqual(ids, want) {
		t.Errorf("ids across the reconnect = %v, want %v", ids, want)
	}
}

func TestSchemaChangeMidStream(t *testing.T) {
	pg := newPG(t)
	pg.exec(`CREATE TABLE t (id int PRIMARY KEY, a text)`)
	p := props(t, pg.dsn, "snapshot.mode", "no_data")
	task := startTask(t, connecttest.New(t), p)
	waitForSlot(t, pg, p["slot.name"])
	pg.exec(`INSERT INTO t VALUES (1, 'x')`)
	pg.exec(`ALTER TABLE t ADD COLUMN b int NOT NULL DEFAULT 7`)
	pg.exec(`INSERT INTO t VALUES (2, 'y', 8)`)
	pg.exec(`ALTER TABLE t DROP COLUMN a`)
	pg.exec(`INSERT INTO t VALUES (3, 9)`)
	recs := pollFor(t, task, 3, isData, 30*time.Second)
	want := [][]string{{"id", "a"}, {"id", "a", "b"}, {"id", "b"}}
	for i, r := range recs {
		after := field(t, env(t, r), "after").(*connect.Struct)
		if got := fieldNames(after.Schema()); !reflect.DeepEqual(got, want[i]) {
			t.Errorf("event %d value fields = %v, want %v", i, got, want[i])
		}
	}
	if b := field(t, env(t, recs[1]), "after", "b"); b != int32(8) {
		t.Errorf("b = %v", b)
	}
	if bs := field(t, env(t, recs[1]), "after").(*connect.Struct).Schema().Field("b").Schema; bs.Optional {
		t.Errorf("NOT NULL column b is optional")
	}
}

func TestTransactionMetadata(t *testing.T) {
	pg := newPG(t)
	pg.exec(`CREATE TABLE a (id int PRIMARY KEY)`)
	pg.exec(`CREATE TABLE b (id int PRIMARY KEY)`)
	p := props(t, pg.dsn, "snapshot.mode", "no_data", "provide.transaction.metadata", "true")
	task := startTask(t, connecttest.New(t), p)
	waitForSlot(t, pg, p["slot.name"])
	pg.exec(`BEGIN; INSERT INTO a VALUES (1); INSERT INTO b VALUES (1); INSERT INTO a VALUES (2); COMMIT`)
	recs := pollFor(t, task, 5, nil, 30*time.Second)
	begin, end := recs[0], recs[4]
	if begin.Topic != "pgsrv.transaction" || begin.Value.(*connect.Struct).Get("status") != "BEGIN" {
		t.Fatalf("first record = %s %v", begin.Topic, begin.Value)
	}
	ev := end.Value.(*connect.Struct)
	if ev.Get("status") != "END" || ev.Get("event_count") != int64(3) {
		t.Fatalf("END = %v", ev)
	}
	colls := ev.Get("data_collections").([]any)
	if len(colls) != 2 || colls[0].(*connect.Struct).Get("data_collection") != "public.a" || colls[0].(*connect.Struct).Get("event_count") != int64(2) {
		t.Errorf("data_collections = %v", colls)
	}
	tx := field(t, env(t, recs[3]), "transaction").(*connect.Struct)
	if tx.Get("id") != ev.Get("id") || tx.Get("total_order") != int64(3) || tx.Get("data_collection_order") != int64(2) {
		t.Errorf("transaction block of the third event = %v", tx)
	}
}

func TestNonSuperuserReplicationRole(t *testing.T) {
	pg := newPG(t)
	pg.exec(`CREATE TABLE t (id int PRIMARY KEY, v text)`)
	pg.exec(`INSERT INTO t VALUES (1, 'snap')`)
	pg.exec(`CREATE PUBLICATION kc_pub FOR ALL TABLES`)
	repl := testenvReplDSN(t, pg.dsn)
	var user string
	pg.scalar(`SELECT $1::text`, &user, strings.Split(strings.TrimPrefix(repl, "postgres://"), ":")[0])
	pg.exec(`GRANT SELECT ON t TO ` + pgQuoteIdent(user))
	p := props(t, repl, "publication.name", "kc_pub", "publication.autocreate.mode", "disabled")
	values := (&Connector{}).Validate(context.Background(), p, configDef.Validate(p))
	for _, v := range values {
		if len(v.Errors) > 0 {
			t.Errorf("validation of a REPLICATION role: %s: %v", v.Name, v.Errors)
		}
	}
	task := startTask(t, connecttest.New(t), p)
	recs := pollFor(t, task, 1, isData, 30*time.Second)
	pg.exec(`INSERT INTO t VALUES (2, 'stream')`)
	recs = append(recs, pollFor(t, task, 1, isData, 30*time.Second)...)
	if op(t, recs[0]) != "r" || op(t, recs[len(recs)-1]) != "c" {
		t.Errorf("ops = %s, %s", op(t, recs[0]), op(t, recs[len(recs)-1]))
	}
}

// A commit must reach the slot at once, not at the next periodic status update: the stream is
// idle and blocked in a receive when the runtime commits, and the status interval is a minute.
func TestCommitConfirmsSlotWithoutWaitingForStatusInterval(t *testing.T) {
	pg := newPG(t)
	pg.exec(`CREATE TABLE t (id int PRIMARY KEY)`)
	p := props(t, pg.dsn, "snapshot.mode", "no_data", "status.update.interval.ms", "60000")
	tctx := connecttest.New(t)
	task := startTask(t, tctx, p)
	waitForSlot(t, pg, p["slot.name"])
	pg.exec(`INSERT INTO t VALUES (1)`)
	recs := pollFor(t, task, 1, isData, 30*time.Second)
	time.Sleep(200 * time.Millisecond) // let the stream go idle in a blocking receive
	if err := task.Commit(context.Background(), tctx.Commit(recs)); err != nil {
		t.Fatal(err)
	}
	want := pglogrepl.LSN(recs[len(recs)-1].SourceOffset["lsn_commit"].(int64))
	waitFor(t, fmt.Sprintf("confirmed_flush_lsn >= %s", want), 5*time.Second, func() bool {
		var confirmed string
		pg.scalar(`SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1`, &confirmed, p["slot.name"])
		c, _ := pglogrepl.ParseLSN(confirmed)
		return c >= want
	})
}

// Debezium's snapshot markers: a record that is the last of the snapshot is "last", else the first
// of the snapshot "first", else the last of its table "last_in_data_collection", else the first of
// its table "first_in_data_collection", else "true" (RelationalSnapshotChangeEventSource's
// setSnapshotMarker). Only the final record's offset says the snapshot completed. The rows of a
// table share one source block, so a marker set on one record must not show on the others.
func TestSnapshotMarkersPerTableWithParallelChunks(t *testing.T) {
	pg := newPG(t)
	sizes := map[string]int{"a_one": 1, "b_big": 20000, "c_empty": 0, "d_mid": 3000, "e_one": 1}
	total := 0
	for name, n := range sizes {
		pg.exec(`CREATE TABLE ` + name + ` (id int PRIMARY KEY, pad text)`)
		pg.exec(`INSERT INTO `+name+` SELECT g, repeat('p', 50) FROM generate_series(1, $1::int) g`, n)
		pg.exec(`ANALYZE ` + name)
		total += n
	}
	p := props(t, pg.dsn, "snapshot.mode", "initial_only", "snapshot.max.threads", "2", "snapshot.fetch.size", "700")
	task := startTask(t, connecttest.New(t), p)
	recs := pollFor(t, task, total, isData, time.Minute)
	if len(recs) != total {
		t.Fatalf("%d records, want %d", len(recs), total)
	}
	tables := make([]string, len(recs))
	firstAt, lastAt := map[string]int{}, map[string]int{}
	for i, r := range recs {
		tables[i] = field(t, env(t, r), "source", "table").(string)
		if _, ok := firstAt[tables[i]]; !ok {
			firstAt[tables[i]] = i
		}
		lastAt[tables[i]] = i
	}
	for name, n := range sizes {
		if _, ok := firstAt[name]; ok != (n > 0) {
			t.Errorf("table %s with %d rows: records present %v", name, n, ok)
		}
	}
	for i, r := range recs {
		want := "true"
		switch {
		case i == len(recs)-1:
			want = "last"
		case i == 0:
			want = "first"
		case i == lastAt[tables[i]]:
			want = "last_in_data_collection"
		case i == firstAt[tables[i]]:
			want = "first_in_data_collection"
		}
		got := field(t, env(t, r), "source", "snapshot")
		completed := r.SourceOffset["snapshot_completed"] == true
		if got != want || completed != (i == len(recs)-1) {
			t.Errorf("record %d of %d (table %s): snapshot %q, snapshot_completed %v; want %q", i+1, len(recs), tables[i], got, completed, want)
		}
	}
}

// A worker killed a moment before leaves its walsender holding the slot until PostgreSQL notices;
// a task started meanwhile waits for the slot rather than fail, as Debezium retries a slot in use.
func TestTaskWaitsForItsSlotToBeReleased(t *testing.T) {
	pg := newPG(t)
	pg.exec(`CREATE TABLE t (id int PRIMARY KEY)`)
	p := props(t, pg.dsn, "snapshot.mode", "no_data", "slot.retry.delay.ms", "5000")
	holder := startTask(t, connecttest.New(t), p)
	waitForSlot(t, pg, p["slot.name"])
	task := startTask(t, connecttest.New(t), p)
	time.Sleep(time.Second) // the new task finds the slot held meanwhile
	if err := holder.Stop(); err != nil {
		t.Fatal(err)
	}
	waitForSlot(t, pg, p["slot.name"])
	pg.exec(`INSERT INTO t SELECT generate_series(1, 3)`)
	var ids []int32
	for _, r := range pollFor(t, task, 3, isData, 60*time.Second) {
		ids = append(ids, keyID(t, r))
	}
	if want := []int32{1, 2, 3}; !reflect.DeepEqual(ids, want) {
		t.Errorf("ids = %v, want %v", ids, want)
	}
}
