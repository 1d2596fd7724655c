package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/properties"
	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
	"github.com/kconnect/kconnect/runtime/offsets"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Crash tests through the real kconnect binary: the task, the runtime's offset handling and Kafka
// together must never lose a row, whatever moment the worker is killed at.

// workerSetup starts a standalone worker running the connector on pg's database with JSON keys
// and values (no schemas), publishing to topics under a prefix unique to the run.
func workerSetup(t *testing.T, pg *pgEnv, extra ...string) (*workertest.Worker, string) {
	t.Helper()
	dir := t.TempDir()
	prefix := fmt.Sprintf("kcpg%d", time.Now().UnixNano())
	p := props(t, pg.dsn, append([]string{
		"name", "pg-cdc", "topic.prefix", prefix,
		"key.converter", "org.apache.kafka.connect.json.JsonConverter", "key.converter.schemas.enable", "false",
		"value.converter", "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable", "false",
	}, extra...)...)
	w := workertest.Start(t, dir, workertest.WorkerProps(t, dir), p)
	testenv.DeleteTopicsAtCleanup(t, prefix+".")
	return w, prefix
}

// topicState consumes a change event topic from the start and keeps the latest value of each key.
type topicState struct {
	mu      sync.Mutex
	latest  map[int64]string // id → v of the latest create, read or update
	records int
	ops     map[string]int
	err     error
}

// consumeAll reads topic from its start in the background until the test ends, calling each for
// every record from one goroutine.
func consumeAll(t *testing.T, bootstrap, topic string, each func(*kgo.Record)) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.MetadataMinAge(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() {
		cancel()
		<-done
		cl.Close()
	})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			cl.PollFetches(ctx).EachRecord(each)
		}
	}()
}

func consumeTopic(t *testing.T, bootstrap, topic string) *topicState {
	t.Helper()
	st := &topicState{latest: map[int64]string{}, ops: map[string]int{}}
	consumeAll(t, bootstrap, topic, func(r *kgo.Record) {
		var key struct {
			ID int64 `json:"id"`
		}
		var ev struct {
			Op    string `json:"op"`
			After *struct {
				ID int64  `json:"id"`
				V  string `json:"v"`
			} `json:"after"`
		}
		err := json.Unmarshal(r.Key, &key)
		if err == nil && r.Value != nil {
			err = json.Unmarshal(r.Value, &ev)
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		st.records++
		if err != nil {
			st.err = fmt.Errorf("record at %s/%d@%d: %v", r.Topic, r.Partition, r.Offset, err)
			return
		}
		st.ops[ev.Op]++
		if ev.After != nil {
			st.latest[key.ID] = ev.After.V
		} else {
			delete(st.latest, key.ID)
		}
	})
	return st
}

// missing compares the topic's latest values with the table and describes the first differences.
func (st *topicState) missing(t *testing.T, pg *pgEnv, table string) (string, int) {
	t.Helper()
	rows, err := pg.conn.Query(context.Background(), "SELECT id, v FROM "+pgx.Identifier{table}.Sanitize())
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]string{}
	for rows.Next() {
		var id int64
		var v string
		if err := rows.Scan(&id, &v); err != nil {
			t.Fatal(err)
		}
		want[id] = v
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.err != nil {
		t.Fatal(st.err)
	}
	var diffs []string
	n := 0
	for id, v := range want {
		if got, ok := st.latest[id]; !ok || got != v {
			n++
			if len(diffs) < 5 {
				diffs = append(diffs, fmt.Sprintf("id %d: topic has %q (present %v), table %q", id, got, ok, v))
			}
		}
	}
	for id := range st.latest {
		if _, ok := want[id]; !ok {
			n++
			if len(diffs) < 5 {
				diffs = append(diffs, fmt.Sprintf("id %d is in the topic, not in the table", id))
			}
		}
	}
	return strings.Join(diffs, "; "), n
}

func (st *topicState) count() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.records
}

// writer runs small transactions against table until stopped: each inserts a new row and updates
// an existing one, so both lost inserts and lost updates show in the comparison.
type writer struct {
	stop  chan struct{}
	done  chan error
	count atomic.Int64
}

func startWriter(t *testing.T, dsn, table string, firstID int64, existing int64) *writer {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	w := &writer{stop: make(chan struct{}), done: make(chan error, 1)}
	tbl := pgx.Identifier{table}.Sanitize()
	go func() {
		defer conn.Close(context.Background())
		ctx := context.Background()
		for i := int64(0); ; i++ {
			select {
			case <-w.stop:
				w.done <- nil
				return
			case <-time.After(2 * time.Millisecond):
			}
			b := &pgx.Batch{}
			b.Queue("BEGIN")
			b.Queue("INSERT INTO "+tbl+" (id, v) VALUES ($1, $2)", firstID+i, fmt.Sprintf("new %d", i))
			b.Queue("UPDATE "+tbl+" SET v = $2 WHERE id = $1", 1+(i*7919)%existing, fmt.Sprintf("upd %d", i))
			b.Queue("COMMIT")
			if err := conn.SendBatch(ctx, b).Close(); err != nil {
				w.done <- err
				return
			}
			w.count.Add(1)
		}
	}()
	t.Cleanup(func() { w.halt(t) })
	return w
}

func (w *writer) halt(t *testing.T) {
	t.Helper()
	select {
	case <-w.stop:
		return
	default:
	}
	close(w.stop)
	if err := <-w.done; err != nil {
		t.Fatalf("writer: %v", err)
	}
}

// storedOffsetOf reads the connector's offset from the worker's offsets file; nil before the first
// flush.
func storedOffsetOf(t *testing.T, w *workertest.Worker) map[string]any {
	t.Helper()
	path := filepath.Join(w.Dir, "connect.offsets")
	if _, err := os.Stat(path); os.IsNotExist(err) {
		return nil
	}
	store, err := offsets.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	stored, err := store.List("pg-cdc")
	if err != nil {
		t.Fatal(err)
	}
	for _, so := range stored {
		return so.Offset
	}
	return nil
}

// storedLSN is the position a stored offset allows the slot to be confirmed to: its lsn_commit,
// or for snapshot offsets (which confirm nothing) the slot's consistent point in lsn.
func storedLSN(o map[string]any) pglogrepl.LSN {
	for _, k := range []string{"lsn_commit", "lsn"} {
		if v, ok, _ := connect.OffsetInt64(o, k); ok {
			return pglogrepl.LSN(v)
		}
	}
	return 0
}

func slotConfirmed(t *testing.T, pg *pgEnv, slot string) pglogrepl.LSN {
	t.Helper()
	var s *string
	pg.scalar("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1", &s, slot)
	if s == nil {
		return 0
	}
	lsn, err := pglogrepl.ParseLSN(*s)
	if err != nil {
		t.Fatal(err)
	}
	return lsn
}

func endOffsets(t *testing.T, bootstrap, topic string) int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	offs, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		return 0
	}
	var n int64
	offs.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			n += o.Offset
		}
	})
	return n
}

func TestWorkerKill9DuringSnapshotLosesNoRow(t *testing.T) {
	pg := newPG(t)
	const rows = 300_000
	pg.exec(`CREATE TABLE big (id bigint PRIMARY KEY, v text NOT NULL)`)
	pg.exec(`INSERT INTO big SELECT g, 'row ' || g FROM generate_series(1, $1::bigint) g`, rows)
	pg.exec(`ANALYZE big`)
	w, prefix := workerSetup(t, pg, "snapshot.max.threads", "2", "snapshot.fetch.size", "5000")
	topic := prefix + ".public.big"
	wr := startWriter(t, pg.dsn, "big", rows+1, rows)

	w.WaitFor(60*time.Second, "snapshot records in Kafka", func() bool { return endOffsets(t, w.Bootstrap, topic) >= rows/10 })
	w.Kill9()
	if o := storedOffsetOf(t, w); o != nil && o["snapshot_completed"] == true {
		t.Fatalf("the snapshot completed before the kill (offset %v): nothing was tested", o)
	}
	w.Restart()
	time.Sleep(2 * time.Second)
	wr.halt(t)

	st := consumeTopic(t, w.Bootstrap, topic)
	var diff string
	n := -1
	w.WaitFor(60*time.Second, "every row and its latest value in the topic", func() bool {
		diff, n = st.missing(t, pg, "big")
		return n == 0
	})
	if !strings.Contains(w.Log(), "dropping existing replication slot before a new snapshot") {
		t.Errorf("the restarted worker did not restart the interrupted snapshot:\n%s", w.Log())
	}
	t.Logf("%d records in the topic for %d rows (+%d writer transactions); ops %v; %s", st.count(), rows, wr.count.Load(), st.ops, diff)
}

func TestWorkerKill9DuringStreamingLosesNoChange(t *testing.T) {
	pg := newPG(t)
	const rows = 1000
	pg.exec(`CREATE TABLE live (id bigint PRIMARY KEY, v text NOT NULL)`)
	pg.exec(`INSERT INTO live SELECT g, 'row ' || g FROM generate_series(1, $1::bigint) g`, rows)
	w, prefix := workerSetup(t, pg)
	slot := props(t, pg.dsn)["slot.name"]
	topic := prefix + ".public.live"
	w.WaitFor(30*time.Second, "snapshot complete", func() bool {
		o := storedOffsetOf(t, w)
		return o != nil && o["snapshot_completed"] == true
	})
	wr := startWriter(t, pg.dsn, "live", rows+1, rows)

	// The slot must never be confirmed past what the worker stored: read the slot first, then the
	// file, because the worker stores before it confirms.
	var violations []string
	checkSlot := func() {
		confirmed := slotConfirmed(t, pg, slot)
		stored := storedLSN(storedOffsetOf(t, w))
		if confirmed > stored {
			violations = append(violations, fmt.Sprintf("confirmed_flush_lsn %s > stored %s", confirmed, stored))
		}
	}
	deadline := time.Now().Add(4 * time.Second)
	for time.Now().Before(deadline) {
		checkSlot()
		time.Sleep(20 * time.Millisecond)
	}
	if wr.count.Load() < 100 {
		t.Fatalf("writer committed only %d transactions", wr.count.Load())
	}
	w.Kill9()
	checkSlot()
	killedAt := storedLSN(storedOffsetOf(t, w))
	if killedAt == 0 || slotConfirmed(t, pg, slot) == 0 {
		t.Fatalf("no streaming position stored (%s) or confirmed before the kill", killedAt)
	}
	time.Sleep(time.Second) // the writer keeps going while the worker is down
	w.Restart()
	time.Sleep(2 * time.Second)
	wr.halt(t)

	st := consumeTopic(t, w.Bootstrap, topic)
	var diff string
	n := -1
	w.WaitFor(60*time.Second, "every change in the topic", func() bool {
		diff, n = st.missing(t, pg, "live")
		return n == 0
	})
	for range 20 {
		checkSlot()
		time.Sleep(20 * time.Millisecond)
	}
	if len(violations) > 0 {
		t.Errorf("the slot was confirmed beyond the stored offsets %d times, first: %s", len(violations), violations[0])
	}
	if after := slotConfirmed(t, pg, slot); after <= killedAt {
		t.Errorf("after the restart the slot stayed at %s (stored at the kill: %s)", after, killedAt)
	}
	t.Logf("%d records, ops %v, %d writer transactions; stored %s at the kill; %s", st.count(), st.ops, wr.count.Load(), killedAt, diff)
}

// cdcExampleDir is the walkthrough TestExamplePostgresCDC runs.
const cdcExampleDir = "../../examples/postgres-cdc"

// exampleConfigs reads an example's configuration files, checking that its README shows each of
// them verbatim, in order, as its properties blocks.
func exampleConfigs(t *testing.T, dir string, files ...string) []map[string]string {
	t.Helper()
	blocks := exampleBlocks(t, dir, "properties")
	if len(blocks) != len(files) {
		t.Fatalf("README has %d properties blocks, want %d (%v)", len(blocks), len(files), files)
	}
	cfgs := make([]map[string]string, len(files))
	for i, f := range files {
		p, err := properties.ParseFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		cfgs[i] = p.Map()
		shown, err := properties.Parse(strings.NewReader(blocks[i]), "README.md")
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(shown.Map(), cfgs[i]) {
			t.Errorf("README shows %v for %s, but the file has %v", shown.Map(), f, cfgs[i])
		}
	}
	return cfgs
}

// exampleBlocks returns the fenced code blocks of an example's README with the given info string
// ("" for blocks without one).
func exampleBlocks(t *testing.T, dir, lang string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var block []string
	info, open := "", false
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case !open && strings.HasPrefix(line, "```"):
			info, open, block = strings.TrimPrefix(line, "```"), true, nil
		case open && line == "```":
			if open = false; info == lang {
				out = append(out, strings.Join(block, "\n")+"\n")
			}
		case open:
			block = append(block, line)
		}
	}
	return out
}

// sqlStatements splits a README block into statements, dropping comment lines.
func sqlStatements(block string) []string {
	var lines []string
	for _, l := range strings.Split(block, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			lines = append(lines, l)
		}
	}
	var out []string
	for _, s := range strings.Split(strings.Join(lines, "\n"), ";") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// TestExamplePostgresCDC runs examples/postgres-cdc as its README tells: the README shows the two
// configuration files verbatim; its SQL runs in order, with the test's non-superuser replication
// role standing in for the role "cdc" it creates (roles are global to the server); the worker
// runs the two files with only addresses, credentials, slot and topic prefix replaced; and the
// events the README describes arrive.
func TestExamplePostgresCDC(t *testing.T) {
	cfgs := exampleConfigs(t, cdcExampleDir, "worker.properties", "postgres-cdc.properties")
	worker, source := cfgs[0], cfgs[1]
	sql := exampleBlocks(t, cdcExampleDir, "sql")
	if len(sql) != 3 {
		t.Fatalf("README has %d SQL blocks, want 3 (table, role and publication, changes)", len(sql))
	}

	pg := newPG(t)
	repl, err := url.Parse(testenvReplDSN(t, pg.dsn))
	if err != nil {
		t.Fatal(err)
	}
	role := pgx.Identifier{repl.User.Username()}.Sanitize()
	for _, stmt := range sqlStatements(sql[0]) {
		pg.exec(stmt)
	}
	for _, stmt := range sqlStatements(sql[1]) {
		if strings.HasPrefix(stmt, "CREATE ROLE cdc ") {
			continue
		}
		pg.exec(regexp.MustCompile(`\bcdc\b`).ReplaceAllString(stmt, role))
	}

	dir := t.TempDir()
	wp := workertest.WorkerProps(t, dir)
	for _, k := range []string{"bootstrap.servers", "kconnect.embedded.broker.port", "listeners", "offset.storage.file.filename"} {
		if v, ok := wp[k]; ok {
			worker[k] = v
		} else {
			delete(worker, k)
		}
	}
	pw, _ := repl.User.Password()
	prefix := fmt.Sprintf("kcex%d", time.Now().UnixNano())
	maps.Copy(source, map[string]string{
		"database.hostname": repl.Hostname(), "database.port": repl.Port(), "database.user": repl.User.Username(),
		"database.password": pw, "database.dbname": strings.TrimPrefix(repl.Path, "/"), "database.sslmode": "disable",
		"slot.name": props(t, pg.dsn)["slot.name"], "topic.prefix": prefix,
	})
	w := workertest.Start(t, dir, worker, source)
	testenv.DeleteTopicsAtCleanup(t, prefix+".")
	events := consumeEvents(t, w.Bootstrap, prefix+".public.customers")

	type change struct {
		Key struct {
			Payload struct {
				ID int64 `json:"id"`
			} `json:"payload"`
		}
		Value *struct {
			Payload struct {
				Op     string         `json:"op"`
				Before map[string]any `json:"before"`
				After  map[string]any `json:"after"`
				Source map[string]any `json:"source"`
			} `json:"payload"`
		}
	}
	var got []change
	next := func(what string) change {
		t.Helper()
		w.WaitFor(30*time.Second, what, func() bool { return events.len() > len(got) })
		var c change
		r := events.at(len(got))
		if err := json.Unmarshal(r.Key, &c.Key); err != nil {
			t.Fatalf("%s: key %s: %v", what, r.Key, err)
		}
		if r.Value != nil {
			if err := json.Unmarshal(r.Value, &c.Value); err != nil {
				t.Fatalf("%s: value %s: %v", what, r.Value, err)
			}
		}
		got = append(got, c)
		return c
	}
	anne := map[string]any{"id": 1.0, "first_name": "Anne", "last_name": "Kretchmar", "email": "annek@noanswer.org"}
	c := next("the snapshot event")
	if c.Key.Payload.ID != 1 || c.Value == nil || c.Value.Payload.Op != "r" || c.Value.Payload.Before != nil ||
		!maps.Equal(c.Value.Payload.After, anne) || c.Value.Payload.Source["snapshot"] != "last" || c.Value.Payload.Source["table"] != "customers" {
		t.Fatalf("snapshot event = %+v, want op r of %v with source.snapshot last", c.Value, anne)
	}
	for _, stmt := range sqlStatements(sql[2]) {
		pg.exec(stmt)
	}
	c = next("the update event")
	anne["first_name"] = "Anne Marie"
	if c.Key.Payload.ID != 1 || c.Value == nil || c.Value.Payload.Op != "u" || c.Value.Payload.Before != nil || !maps.Equal(c.Value.Payload.After, anne) {
		t.Fatalf("update event = %+v, want op u, before null, after %v", c.Value, anne)
	}
	c = next("the delete event")
	if c.Key.Payload.ID != 1 || c.Value == nil || c.Value.Payload.Op != "d" || c.Value.Payload.After != nil {
		t.Fatalf("delete event = %+v, want op d with after null", c.Value)
	}
	if c.Value.Payload.Before["id"] != 1.0 {
		t.Errorf("delete event before = %v, want the key id 1", c.Value.Payload.Before)
	}
	c = next("the tombstone")
	if c.Key.Payload.ID != 1 || c.Value != nil {
		t.Fatalf("after the delete: key %d value %+v, want a tombstone for id 1", c.Key.Payload.ID, c.Value)
	}
	if code, body := w.Do("GET", "/connectors/"+source["name"]+"/status", nil); code != 200 || !strings.Contains(string(body), `"RUNNING"`) {
		t.Errorf("status: %d %s", code, body)
	}
}

// eventLog consumes a topic from the start and keeps its records in order.
type eventLog struct {
	mu   sync.Mutex
	recs []*kgo.Record
}

func (l *eventLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recs)
}

func (l *eventLog) at(i int) *kgo.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.recs[i]
}

func consumeEvents(t *testing.T, bootstrap, topic string) *eventLog {
	t.Helper()
	l := &eventLog{}
	consumeAll(t, bootstrap, topic, func(r *kgo.Record) {
		l.mu.Lock()
		l.recs = append(l.recs, r)
		l.mu.Unlock()
	})
	return l
}
