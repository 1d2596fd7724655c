package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connect/connecttest"
	"github.com/kconnect/kconnect/internal/testenv"
)

// The snapshot-to-stream hand-off under concurrent writers of every shape, with random pauses
// between its steps. Each round replays the snapshot and the stream onto a model of the table and
// compares it with the table: a row read twice, created twice, updated or deleted before it
// exists, or missing at the end fails the round. `make test` runs a few seeded rounds;
// `make stress-cdc` runs hundreds (KCONNECT_CDC_STRESS_ROUNDS, KCONNECT_CDC_STRESS_SEED replays
// one).

// stressSeed returns the first round's seed: KCONNECT_CDC_STRESS_SEED when set, else the clock.
func stressSeed(t *testing.T) uint64 {
	t.Helper()
	if v := os.Getenv("KCONNECT_CDC_STRESS_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("KCONNECT_CDC_STRESS_SEED=%q: %v", v, err)
		}
		return s
	}
	return uint64(time.Now().UnixNano())
}

// runRounds runs round as subtests with consecutive seeds (def rounds unless the environment says
// otherwise), stopping at the first that fails.
func runRounds(t *testing.T, def int, round func(*testing.T, uint64)) {
	rounds := testenv.Count(t, "KCONNECT_CDC_STRESS_ROUNDS", def)
	seed := stressSeed(t)
	for i := range rounds {
		s := seed + uint64(i)
		if !t.Run(fmt.Sprintf("seed=%d", s), func(t *testing.T) { round(t, s) }) {
			t.Fatalf("round %d of %d failed; replay it with KCONNECT_CDC_STRESS_SEED=%d KCONNECT_CDC_STRESS_ROUNDS=1", i+1, rounds, s)
		}
	}
}

func TestSnapshotHandoffStress(t *testing.T) { runRounds(t, 3, handoffRound) }

// handoffPlan is one round's random choices.
type handoffPlan struct {
	rows, threads, fetch int
	pauses               map[string]time.Duration // per hand-off step
	longTx               time.Duration            // how long the open transaction outlives the task's start
	streamFor            time.Duration            // writes after the snapshot ended
}

func newHandoffPlan(rng *rand.Rand) handoffPlan {
	ms := func(n int) time.Duration { return time.Duration(rng.IntN(n)) * time.Millisecond }
	return handoffPlan{
		rows:    2000 + rng.IntN(18000),
		threads: 1 + rng.IntN(4),
		fetch:   100 + rng.IntN(2000),
		pauses: map[string]time.Duration{
			"slot-created":      ms(300),
			"snapshot-imported": ms(100),
			"stream-starting":   ms(500),
		},
		longTx:    ms(400),
		streamFor: 100*time.Millisecond + ms(500),
	}
}

func handoffRound(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x6b636f6e6e656374))
	plan := newHandoffPlan(rng)
	t.Logf("plan: %+v", plan)
	pg := newPG(t)
	pg.exec(`CREATE TABLE h (id bigint PRIMARY KEY, v text NOT NULL, pad text)`)
	pg.exec(`CREATE TABLE sentinel (id int PRIMARY KEY)`)
	pg.exec(`INSERT INTO h SELECT g, 'r' || g, repeat('p', 100) FROM generate_series(1, $1::bigint) g`, plan.rows)
	pg.exec(`ANALYZE h`)

	// The rows the exported snapshot holds, read by the test itself while the export is open, are
	// what the task's chunked scans must return.
	var visible map[int64]bool
	handoffHook = func(step, snapshot string) {
		if step == "slot-created" {
			visible = idsInSnapshot(t, pg.dsn, snapshot)
		}
		time.Sleep(plan.pauses[step])
	}
	t.Cleanup(func() { handoffHook = nil })

	ws := startHandoffWriters(t, pg.dsn, int64(plan.rows), seed, plan.longTx)
	p := props(t, pg.dsn, "snapshot.max.threads", strconv.Itoa(plan.threads), "snapshot.fetch.size", strconv.Itoa(plan.fetch),
		"max.batch.size", "2048", "slot.drop.on.stop", "true")
	task := startTask(t, connecttest.New(t), p)

	var recs []connect.SourceRecord
	deadline := time.Now().Add(2 * time.Minute)
	poll := func(until func(connect.SourceRecord) bool) {
		t.Helper()
		for time.Now().Before(deadline) {
			batch, err := task.Poll(context.Background())
			if err != nil {
				t.Fatalf("poll: %v", err)
			}
			recs = append(recs, batch...)
			for _, r := range batch {
				if until(r) {
					return
				}
			}
		}
		t.Fatalf("timed out after %d records", len(recs))
	}
	poll(func(r connect.SourceRecord) bool { return r.SourceOffset["last_snapshot_record"] == true })
	time.Sleep(plan.streamFor)
	ws.halt(t)
	// Every writer's statement has returned, so the sentinel commits after all of them: once its
	// event arrives, every earlier commit has been streamed.
	pg.exec(`INSERT INTO sentinel VALUES (1)`)
	poll(func(r connect.SourceRecord) bool { return strings.HasSuffix(r.Topic, ".public.sentinel") })

	model, read, err := replay(t, recs)
	if err != nil {
		t.Fatal(err)
	}
	if problems := compareIDs(visible, read); len(problems) > 0 {
		t.Fatalf("the snapshot's scans differ from the exported snapshot (%d rows) in %d rows, first: %s",
			len(visible), len(problems), strings.Join(problems[:min(len(problems), 10)], "; "))
	}
	snapshotRows := len(read)
	if problems := compareWithTable(t, pg, model); len(problems) > 0 {
		t.Fatalf("%d differences between the events and the table, first: %s", len(problems), strings.Join(problems[:min(len(problems), 10)], "; "))
	}
	if int64(snapshotRows) < int64(plan.rows)-ws.deleted.Load() || ws.committed.Load() == 0 {
		t.Fatalf("the round tested nothing: %d snapshot rows of %d, %d writer commits", snapshotRows, plan.rows, ws.committed.Load())
	}
	t.Logf("%d rows in the snapshot, %d records, %d writer transactions committed, %d rolled back",
		snapshotRows, len(recs), ws.committed.Load(), ws.rolledBack.Load())
}

// replay applies the events of table h in order to an id → v model, refusing any event the
// table's history could not have produced; it also returns the ids the snapshot read.
func replay(t *testing.T, recs []connect.SourceRecord) (map[int64]string, map[int64]bool, error) {
	t.Helper()
	model := map[int64]string{}
	reads := map[int64]bool{}
	for i, r := range recs {
		if !strings.HasSuffix(r.Topic, ".public.h") || r.Value == nil {
			continue
		}
		e := env(t, r)
		id := r.Key.(*connect.Struct).Get("id").(int64)
		o := e.Get("op").(string)
		_, exists := model[id]
		where := fmt.Sprintf("record %d (op %s, id %d, source.lsn %v, txId %v)", i, o, id, field(t, e, "source", "lsn"), field(t, e, "source", "txId"))
		switch o {
		case "r", "c":
			if exists {
				return nil, nil, fmt.Errorf("%s: the row already exists", where)
			}
			if o == "r" {
				reads[id] = true
			}
			model[id] = e.Get("after").(*connect.Struct).Get("v").(string)
		case "u":
			if !exists {
				return nil, nil, fmt.Errorf("%s: update of a row never created", where)
			}
			model[id] = e.Get("after").(*connect.Struct).Get("v").(string)
		case "d":
			if !exists {
				return nil, nil, fmt.Errorf("%s: delete of a row never created", where)
			}
			delete(model, id)
		}
	}
	return model, reads, nil
}

// idsInSnapshot returns the ids of table h visible to an exported snapshot.
func idsInSnapshot(t *testing.T, dsn, snapshot string) map[int64]bool {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	ids := map[int64]bool{}
	for _, stmt := range []string{"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "SET TRANSACTION SNAPSHOT " + pgQuoteLiteral(snapshot)} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	rows, err := conn.Query(ctx, `SELECT id FROM h`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// compareIDs lists the ids in only one of the two sets.
func compareIDs(want, got map[int64]bool) []string {
	var problems []string
	for id := range want {
		if !got[id] {
			problems = append(problems, fmt.Sprintf("id %d is in the exported snapshot, not read", id))
		}
	}
	for id := range got {
		if !want[id] {
			problems = append(problems, fmt.Sprintf("id %d was read, not in the exported snapshot", id))
		}
	}
	return problems
}

// compareWithTable lists the differences between the model and table h, with each missing row's
// inserting transaction so that a loss can be placed against the snapshot and the slot.
func compareWithTable(t *testing.T, pg *pgEnv, model map[int64]string) []string {
	t.Helper()
	rows, err := pg.conn.Query(context.Background(), `SELECT id, v, xmin::text FROM h`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var problems []string
	seen := map[int64]bool{}
	for rows.Next() {
		var id int64
		var v, xmin string
		if err := rows.Scan(&id, &v, &xmin); err != nil {
			t.Fatal(err)
		}
		seen[id] = true
		got, ok := model[id]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("id %d (v %q, written by xid %s) is in the table, not in the events", id, v, xmin))
		case got != v:
			problems = append(problems, fmt.Sprintf("id %d: events say %q, table %q (written by xid %s)", id, got, v, xmin))
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for id, v := range model {
		if !seen[id] {
			problems = append(problems, fmt.Sprintf("id %d (v %q) is in the events, not in the table", id, v))
		}
	}
	return problems
}

// handoffWriters changes table h concurrently in every shape a hand-off must survive: single-row
// autocommit inserts, updates and deletes; multi-row transactions with a rolled-back savepoint and
// whole rollbacks; and one transaction left open across the slot's creation.
type handoffWriters struct {
	stop                  atomic.Bool
	wg                    sync.WaitGroup
	errs                  chan error
	committed, rolledBack atomic.Int64
	deleted               atomic.Int64 // rows of the initial load deleted, so not in every snapshot
	deletedIDs            sync.Map     // every id a writer deleted
}

func startHandoffWriters(t *testing.T, dsn string, rows int64, seed uint64, longTx time.Duration) *handoffWriters {
	t.Helper()
	ws := &handoffWriters{errs: make(chan error, 8)}
	var next atomic.Int64
	next.Store(rows + 1)
	conns := make([]*pgx.Conn, 4)
	for i := range conns {
		c, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	// Statements run to completion (no context cancellation), so once the writers return, every
	// transaction has committed or rolled back and none commits behind the test's back.
	ctx := context.Background()
	run := func(i int, body func(c *pgx.Conn, rng *rand.Rand) error) {
		ws.wg.Add(1)
		go func() {
			defer ws.wg.Done()
			defer conns[i].Close(context.Background())
			rng := rand.New(rand.NewPCG(seed, uint64(i)))
			for !ws.stop.Load() {
				if err := body(conns[i], rng); err != nil {
					var pe *pgconn.PgError
					if errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001") {
						_, _ = conns[i].Exec(ctx, "ROLLBACK")
						ws.rolledBack.Add(1)
						continue
					}
					ws.errs <- fmt.Errorf("writer %d: %w", i, err)
					return
				}
			}
		}()
	}
	existing := func(rng *rand.Rand) int64 { return 1 + rng.Int64N(next.Load()-1) }
	for i := range 2 {
		run(i, func(c *pgx.Conn, rng *rand.Rand) error {
			id := next.Add(1) - 1
			if _, err := c.Exec(ctx, `INSERT INTO h VALUES ($1, $2)`, id, fmt.Sprintf("c%d", id)); err != nil {
				return err
			}
			ws.committed.Add(1)
			switch n := rng.IntN(10); {
			case n < 3:
				if _, err := c.Exec(ctx, `UPDATE h SET v = $2 WHERE id = $1`, existing(rng), fmt.Sprintf("u%d", id)); err != nil {
					return err
				}
				ws.committed.Add(1)
			case n == 3:
				victim := existing(rng)
				tag, err := c.Exec(ctx, `DELETE FROM h WHERE id = $1`, victim)
				if err != nil {
					return err
				}
				if tag.RowsAffected() == 1 {
					ws.deletedIDs.Store(victim, true)
					if victim <= rows {
						ws.deleted.Add(1)
					}
				}
				ws.committed.Add(1)
			}
			return nil
		})
	}
	run(2, func(c *pgx.Conn, rng *rand.Rand) error {
		b := &pgx.Batch{}
		b.Queue("BEGIN")
		for range 3 {
			id := next.Add(1) - 1
			b.Queue(`INSERT INTO h VALUES ($1, $2)`, id, fmt.Sprintf("t%d", id))
		}
		b.Queue(`UPDATE h SET v = v || '+' WHERE id = $1`, existing(rng))
		b.Queue("SAVEPOINT s")
		b.Queue(`INSERT INTO h VALUES ($1, 'rolled back')`, next.Add(1)-1)
		b.Queue("ROLLBACK TO SAVEPOINT s")
		id := next.Add(1) - 1
		b.Queue(`INSERT INTO h VALUES ($1, $2)`, id, fmt.Sprintf("t%d", id))
		end := "COMMIT"
		if rng.IntN(5) == 0 {
			end = "ROLLBACK"
		}
		b.Queue(end)
		if err := c.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		if end == "COMMIT" {
			ws.committed.Add(1)
		} else {
			ws.rolledBack.Add(1)
		}
		return nil
	})
	// The open transaction: begun before the task starts and committed while the slot is being
	// created (which waits for it) or soon after; then its writer goes on like the others.
	insertMany := func(c *pgx.Conn) error {
		for range 50 {
			id := next.Add(1) - 1
			if _, err := c.Exec(ctx, `INSERT INTO h VALUES ($1, $2)`, id, fmt.Sprintf("l%d", id)); err != nil {
				return err
			}
		}
		return nil
	}
	if _, err := conns[3].Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if err := insertMany(conns[3]); err != nil {
		t.Fatal(err)
	}
	open := true
	run(3, func(c *pgx.Conn, rng *rand.Rand) error {
		if open {
			open = false
			time.Sleep(longTx)
		} else {
			time.Sleep(time.Duration(rng.IntN(20)) * time.Millisecond)
			if _, err := c.Exec(ctx, "BEGIN"); err != nil {
				return err
			}
			if err := insertMany(c); err != nil {
				return err
			}
		}
		if _, err := c.Exec(ctx, "COMMIT"); err != nil {
			return err
		}
		ws.committed.Add(1)
		return nil
	})
	t.Cleanup(func() { ws.halt(t) })
	return ws
}

func (ws *handoffWriters) halt(t *testing.T) {
	t.Helper()
	ws.stop.Store(true)
	ws.wg.Wait()
	select {
	case err := <-ws.errs:
		t.Fatal(err)
	default:
	}
}

// The same writers against the real worker, killed with SIGKILL at a random moment of the snapshot
// or just after it, then restarted: at-least-once delivery may repeat records (a killed snapshot is
// read again from the start), but the topic's latest value per key must equal the table.
func TestWorkerKill9HandoffStress(t *testing.T) { runRounds(t, 1, killRound) }

func killRound(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x6b696c6c))
	rows := 20000 + rng.IntN(60000)
	killAt := rng.Float64() * 1.2 // share of the table's rows in Kafka when the kill comes; > 1 is after the snapshot
	pg := newPG(t)
	pg.exec(`CREATE TABLE h (id bigint PRIMARY KEY, v text NOT NULL, pad text)`)
	pg.exec(`CREATE TABLE sentinel (id int PRIMARY KEY)`)
	pg.exec(`INSERT INTO h SELECT g, 'r' || g, repeat('p', 100) FROM generate_series(1, $1::bigint) g`, rows)
	pg.exec(`ANALYZE h`)
	ws := startHandoffWriters(t, pg.dsn, int64(rows), seed, time.Duration(rng.IntN(300))*time.Millisecond)
	w, prefix := workerSetup(t, pg, "snapshot.max.threads", strconv.Itoa(1+rng.IntN(3)), "snapshot.fetch.size", strconv.Itoa(500+rng.IntN(5000)))
	topic := prefix + ".public.h"
	target := int64(killAt * float64(rows))
	w.WaitFor(90*time.Second, fmt.Sprintf("%d records in Kafka", target), func() bool { return endOffsets(t, w.Bootstrap, topic) >= target })
	w.Kill9()
	stored := storedOffsetOf(t, w)
	midSnapshot := stored == nil || stored["snapshot_completed"] != true
	w.Restart()
	time.Sleep(time.Duration(200+rng.IntN(1000)) * time.Millisecond)
	ws.halt(t)
	pg.exec(`INSERT INTO sentinel VALUES (1)`)
	w.WaitFor(90*time.Second, "the sentinel row in Kafka", func() bool { return endOffsets(t, w.Bootstrap, prefix+".public.sentinel") > 0 })

	// A snapshot killed midway is read again in full from a new slot, so a row the first attempt
	// read and a writer deleted before the second began stays in the topic without a delete, as
	// with Debezium. Such ghosts are reported, and allowed only for deleted ids after a kill in the
	// snapshot; a row of the table missing or stale in the topic fails the round.
	st := consumeTopic(t, w.Bootstrap, topic)
	var lost []string
	var ghosts []int64
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		lost, ghosts = topicAgainstTable(t, pg, st)
		if len(lost) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d rows lost or stale in the topic (killed at %d records, mid-snapshot %v), first: %s\nworker log:\n%s",
				len(lost), target, midSnapshot, strings.Join(lost[:min(len(lost), 5)], "; "), w.Log())
		}
	}
	for _, id := range ghosts {
		if _, deleted := ws.deletedIDs.Load(id); !deleted || !midSnapshot {
			t.Fatalf("id %d is in the topic but not in the table, and was not deleted during an interrupted snapshot", id)
		}
	}
	t.Logf("%d rows, killed at %d records (mid-snapshot: %v); %d records in the topic, ops %v; %d writer transactions; %d ghosts of deleted rows",
		rows, target, midSnapshot, st.count(), st.ops, ws.committed.Load(), len(ghosts))
}

// topicAgainstTable lists the rows of table h missing from the topic or with another value there,
// and the ids in the topic that the table does not have.
func topicAgainstTable(t *testing.T, pg *pgEnv, st *topicState) (lost []string, ghosts []int64) {
	t.Helper()
	rows, err := pg.conn.Query(context.Background(), `SELECT id, v FROM h`)
	if err != nil {
		t.Fatal(err)
	}
	table := map[int64]string{}
	for rows.Next() {
		var id int64
		var v string
		if err := rows.Scan(&id, &v); err != nil {
			t.Fatal(err)
		}
		table[id] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.err != nil {
		t.Fatal(st.err)
	}
	for id, v := range table {
		if got, ok := st.latest[id]; !ok || got != v {
			lost = append(lost, fmt.Sprintf("id %d: topic has %q (present %v), table %q", id, got, ok, v))
		}
	}
	for id := range st.latest {
		if _, ok := table[id]; !ok {
			ghosts = append(ghosts, id)
		}
	}
	return lost, ghosts
}
