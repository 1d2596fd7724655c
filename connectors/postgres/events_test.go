package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connect/connecttest"
)

// The customers table and the expectations below come from the "Data change events" section of
// Debezium's PostgreSQL connector documentation (keys, create, update, delete, tombstone events),
// and from Debezium's source for the exact schemas (PostgresSourceInfoStructMaker, SchemaFactory,
// TableSchemaBuilder), where the documentation's examples are abbreviated.
const customersDDL = `CREATE TABLE customers (
  id SERIAL,
  first_name VARCHAR(255) NOT NULL,
  last_name VARCHAR(255) NOT NULL,
  email VARCHAR(255) NOT NULL,
  PRIMARY KEY(id)
)`

func TestDocumentedEventsSnapshotAndStreaming(t *testing.T) {
	pg := newPG(t)
	pg.exec(customersDDL)
	pg.exec(`INSERT INTO customers (first_name, last_name, email) VALUES ('Anne', 'Kretchmar', 'annek@noanswer.org')`)
	tctx := connecttest.New(t)
	task := startTask(t, tctx, props(t, pg.dsn, "topic.prefix", "PostgreSQL_server"))

	snap := pollFor(t, task, 1, isData, 30*time.Second)
	r := snap[0]
	if r.Topic != "PostgreSQL_server.public.customers" {
		t.Errorf("topic = %q, want PostgreSQL_server.public.customers", r.Topic)
	}
	// Key: a struct named <prefix>.<schema>.<table>.Key holding the primary key.
	if r.KeySchema == nil || r.KeySchema.Name != "PostgreSQL_server.public.customers.Key" || r.KeySchema.Optional {
		t.Fatalf("key schema = %v, want required PostgreSQL_server.public.customers.Key", r.KeySchema)
	}
	if got := fieldNames(r.KeySchema); !reflect.DeepEqual(got, []string{"id"}) || r.KeySchema.Fields[0].Schema.Type != connect.TypeInt32 {
		t.Errorf("key fields = %v", got)
	}
	if id := r.Key.(*connect.Struct).Get("id"); id != int32(1) {
		t.Errorf("key id = %v, want 1", id)
	}
	vs := r.ValueSchema
	if vs.Name != "PostgreSQL_server.public.customers.Envelope" || vs.Optional {
		t.Errorf("envelope name = %q", vs.Name)
	}
	if got, want := fieldNames(vs), []string{"before", "after", "source", "transaction", "op", "ts_ms", "ts_us", "ts_ns"}; !reflect.DeepEqual(got, want) {
		t.Errorf("envelope fields = %v, want %v", got, want)
	}
	value := vs.Field("after").Schema
	if value.Name != "PostgreSQL_server.public.customers.Value" || !value.Optional || vs.Field("before").Schema != value {
		t.Errorf("before/after schema = %v", value)
	}
	if got, want := fieldNames(value), []string{"id", "first_name", "last_name", "email"}; !reflect.DeepEqual(got, want) {
		t.Errorf("value fields = %v, want %v", got, want)
	}
	for _, f := range value.Fields {
		if f.Schema.Optional {
			t.Errorf("value field %s is optional; NOT NULL columns are required", f.Name)
		}
	}
	src := vs.Field("source").Schema
	if src.Name != "io.debezium.connector.postgresql.Source" || src.Optional {
		t.Errorf("source schema = %v", src)
	}
	if got, want := fieldNames(src), []string{"version", "connector", "name", "ts_ms", "snapshot", "db", "sequence", "ts_us", "ts_ns",
		"schema", "table", "txId", "lsn", "xmin", "origin", "origin_lsn"}; !reflect.DeepEqual(got, want) {
		t.Errorf("source fields = %v, want %v", got, want)
	}
	if sn := src.Field("snapshot").Schema; sn.Name != "io.debezium.data.Enum" || sn.Default != "false" || !sn.Optional {
		t.Errorf("source.snapshot schema = %+v", sn)
	}
	e := env(t, r)
	if op(t, r) != "r" || field(t, e, "before") != nil {
		t.Errorf("snapshot event op = %v before = %v", op(t, r), field(t, e, "before"))
	}
	if got := field(t, e, "source", "snapshot"); got != "last" {
		t.Errorf("single snapshot record's source.snapshot = %v, want last", got)
	}
	if got := field(t, e, "after", "email"); got != "annek@noanswer.org" {
		t.Errorf("after.email = %v", got)
	}
	if r.SourceOffset["snapshot"] != "INITIAL" || r.SourceOffset["last_snapshot_record"] != true {
		t.Errorf("last snapshot record offset = %v", r.SourceOffset)
	}
	if !reflect.DeepEqual(r.SourcePartition, map[string]any{"server": "PostgreSQL_server"}) {
		t.Errorf("partition = %v", r.SourcePartition)
	}
	// Debezium's snapshot timestamp is an Instant of microsecond precision.
	if ns, us, ms := field(t, e, "source", "ts_ns").(int64), field(t, e, "source", "ts_us").(int64), field(t, e, "source", "ts_ms").(int64); ns != us*1000 || us/1000 != ms {
		t.Errorf("snapshot source ts_ns/us/ms = %d/%d/%d, want ts_ns = ts_us × 1000", ns, us, ms)
	}
	// The snapshot's sequence: no commit seen yet, the slot's consistent point.
	if seq := sequence(t, e); seq[0] != nil || seq[1] == nil || *seq[1] != lsnString(pglogrepl.LSN(field(t, e, "source", "lsn").(int64))) {
		t.Errorf("snapshot source.sequence = %v", field(t, e, "source", "sequence"))
	}
	runID := checkContextHeaders(t, r, "PostgreSQL_server")

	pg.exec(`INSERT INTO customers (first_name, last_name, email) VALUES ('Bob', 'Smith', 'bob@example.org')`)
	pg.exec(`UPDATE customers SET first_name = 'Anne Marie' WHERE id = 1`)
	pg.exec(`DELETE FROM customers WHERE id = 1`)
	recs := pollFor(t, task, 4, isData, 30*time.Second)
	var ops []string
	for _, r := range recs {
		ops = append(ops, op(t, r))
	}
	if want := []string{"c", "u", "d", "tombstone"}; !reflect.DeepEqual(ops, want) {
		t.Fatalf("ops = %v, want %v", ops, want)
	}
	c, u, d, tomb := env(t, recs[0]), env(t, recs[1]), env(t, recs[2]), recs[3]
	for _, r := range recs {
		if id := checkContextHeaders(t, r, "PostgreSQL_server"); id != runID {
			t.Errorf("%s event runId %s, the snapshot's %s: one run, one id", op(t, r), id, runID)
		}
	}
	// Debezium: the first event streamed after a start knows no commit yet; later ones carry the
	// end of the previous transaction.
	if seq := sequence(t, c); seq[0] != nil {
		t.Errorf("first streamed event's source.sequence = %v, want [null,\"<lsn>\"]", field(t, c, "source", "sequence"))
	}
	if seq := sequence(t, u); seq[0] == nil || *seq[0] != fmt.Sprint(recs[0].SourceOffset["lsn_commit"]) {
		t.Errorf("second transaction's source.sequence = %v, want the first one's end %v first", field(t, u, "source", "sequence"), recs[0].SourceOffset["lsn_commit"])
	}
	for _, ev := range []*connect.Struct{c, u, d} {
		if err := ev.Validate(); err != nil {
			t.Errorf("event does not match its schema: %v", err)
		}
		if got := field(t, ev, "source", "snapshot"); got != "false" {
			t.Errorf("streamed source.snapshot = %v", got)
		}
		for _, k := range []string{"version", "connector", "name", "db", "schema", "table"} {
			want := map[string]any{"version": debeziumVersion, "connector": "postgresql", "name": "PostgreSQL_server",
				"db": props(t, pg.dsn)["database.dbname"], "schema": "public", "table": "customers"}[k]
			if got := field(t, ev, "source", k); got != want {
				t.Errorf("source.%s = %v, want %v", k, got, want)
			}
		}
		if txID, _ := field(t, ev, "source", "txId").(int64); txID <= 0 {
			t.Errorf("source.txId = %v", field(t, ev, "source", "txId"))
		}
		lsn, _ := field(t, ev, "source", "lsn").(int64)
		var seq []*string
		if err := json.Unmarshal([]byte(field(t, ev, "source", "sequence").(string)), &seq); err != nil || len(seq) != 2 || seq[1] == nil {
			t.Errorf("source.sequence = %v (%v)", field(t, ev, "source", "sequence"), err)
		} else if *seq[1] != lsnString(pglogrepl.LSN(lsn)) {
			t.Errorf("source.sequence[1] = %s, want the event's lsn %d", *seq[1], lsn)
		}
		tsMs, tsUs, tsNs := field(t, ev, "ts_ms").(int64), field(t, ev, "ts_us").(int64), field(t, ev, "ts_ns").(int64)
		if tsUs/1000 != tsMs || tsNs/1000 != tsUs {
			t.Errorf("ts_ms/us/ns disagree: %d %d %d", tsMs, tsUs, tsNs)
		}
		if srcMs := field(t, ev, "source", "ts_ms").(int64); srcMs > tsMs || tsMs-srcMs > 60_000 {
			t.Errorf("source.ts_ms %d vs ts_ms %d", srcMs, tsMs)
		}
		if field(t, ev, "transaction") != nil {
			t.Errorf("transaction block present with provide.transaction.metadata=false")
		}
	}
	if field(t, c, "before") != nil || field(t, c, "after", "first_name") != "Bob" {
		t.Errorf("create: before=%v after=%v", field(t, c, "before"), field(t, c, "after"))
	}
	// REPLICA IDENTITY DEFAULT: an update that keeps the key carries no old row.
	if field(t, u, "before") != nil || field(t, u, "after", "first_name") != "Anne Marie" || field(t, u, "after", "email") != "annek@noanswer.org" {
		t.Errorf("update: before=%v after=%v", field(t, u, "before"), field(t, u, "after"))
	}
	// A delete under DEFAULT identity knows only the key; required columns get their type's empty value.
	if field(t, d, "after") != nil || field(t, d, "before", "id") != int32(1) || field(t, d, "before", "first_name") != "" {
		t.Errorf("delete: before=%v after=%v", field(t, d, "before"), field(t, d, "after"))
	}
	if tomb.Value != nil || tomb.ValueSchema != nil || tomb.Key.(*connect.Struct).Get("id") != int32(1) {
		t.Errorf("tombstone = key %v value %v", tomb.Key, tomb.Value)
	}
	if tomb.SourceOffset["lsn_proc"] != recs[2].SourceOffset["lsn"] || recs[2].SourceOffset["lsn_proc"] == recs[2].SourceOffset["lsn"] {
		t.Errorf("delete/tombstone lsn_proc = %v/%v; only the last record of a change may claim it", recs[2].SourceOffset, tomb.SourceOffset)
	}
	for _, k := range []string{"lsn", "lsn_proc", "lsn_commit", "txId", "ts_usec"} {
		if _, ok := recs[1].SourceOffset[k]; !ok {
			t.Errorf("streaming offset lacks %s: %v", k, recs[1].SourceOffset)
		}
	}
	if err := task.Stop(); err != nil {
		t.Fatal(err)
	}
}

func TestReplicaIdentityFullAndPrimaryKeyChange(t *testing.T) {
	pg := newPG(t)
	pg.exec(`CREATE TABLE items (id int PRIMARY KEY, name text, qty int NOT NULL)`)
	pg.exec(`ALTER TABLE items REPLICA IDENTITY FULL`)
	tctx := connecttest.New(t)
	task := startTask(t, tctx, props(t, pg.dsn, "snapshot.mode", "no_data"))
	waitForSlot(t, pg, props(t, pg.dsn)["slot.name"])
	pg.exec(`INSERT INTO items VALUES (1, 'apple', 3)`)
	pg.exec(`UPDATE items SET qty = 4 WHERE id = 1`)
	pg.exec(`UPDATE items SET id = 2 WHERE id = 1`)
	pg.exec(`DELETE FROM items WHERE id = 2`)
	recs := pollFor(t, task, 7, isData, 30*time.Second)
	var ops []string
	for _, r := range recs {
		ops = append(ops, op(t, r))
	}
	// The key change becomes delete + tombstone + create, as Debezium documents.
	if want := []string{"c", "u", "d", "tombstone", "c", "d", "tombstone"}; !reflect.DeepEqual(ops[:7], want) {
		t.Fatalf("ops = %v, want %v", ops, want)
	}
	u := env(t, recs[1])
	if field(t, u, "before", "qty") != int32(3) || field(t, u, "before", "name") != "apple" || field(t, u, "after", "qty") != int32(4) {
		t.Errorf("FULL update before=%v after=%v", field(t, u, "before"), field(t, u, "after"))
	}
	// Debezium's tombstone copies the delete's headers: the new key, then the context headers.
	for _, r := range recs[2:4] {
		if h, ok := r.Headers.Last("__debezium.newkey"); !ok || h.Value.(*connect.Struct).Get("id") != int32(2) {
			t.Errorf("key-change %s lacks __debezium.newkey header: %v", op(t, r), r.Headers)
		}
	}
	if h, ok := recs[4].Headers.Last("__debezium.oldkey"); !ok || h.Value.(*connect.Struct).Get("id") != int32(1) {
		t.Errorf("key-change create lacks __debezium.oldkey header: %v", recs[4].Headers)
	}
	ctxKeys := []string{"__debezium.context.connectorLogicalName", "__debezium.context.taskId", "__debezium.context.connectorName", "__debezium.context.runId"}
	for i, want := range [][]string{ctxKeys, ctxKeys, append([]string{"__debezium.newkey"}, ctxKeys...), append([]string{"__debezium.newkey"}, ctxKeys...),
		append([]string{"__debezium.oldkey"}, ctxKeys...), ctxKeys, ctxKeys} {
		if got := headerKeys(recs[i]); !reflect.DeepEqual(got, want) {
			t.Errorf("%s record %d headers = %v, want %v", op(t, recs[i]), i, got, want)
		}
	}
	d := env(t, recs[5])
	if field(t, d, "before", "name") != "apple" || field(t, d, "before", "qty") != int32(4) {
		t.Errorf("FULL delete before = %v", field(t, d, "before"))
	}
}

// waitForSlot waits until the task created its slot, so changes made afterwards are captured.
func waitForSlot(t *testing.T, pg *pgEnv, slot string) {
	t.Helper()
	// A slot being created is active before it is consistent (it waits for every transaction running
	// in the cluster to end); changes committed before that are not streamed.
	waitFor(t, "replication slot "+slot, 60*time.Second, func() bool {
		var n int
		_ = pg.conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1 AND active AND confirmed_flush_lsn IS NOT NULL", slot).Scan(&n)
		return n == 1
	})
}

func TestExtendedHeadersDisabled(t *testing.T) {
	pg := newPG(t)
	pg.exec(`CREATE TABLE items (id int PRIMARY KEY, name text)`)
	pg.exec(`INSERT INTO items VALUES (1, 'apple')`)
	task := startTask(t, connecttest.New(t), props(t, pg.dsn, "extended.headers.enabled", "false"))
	recs := pollFor(t, task, 1, isData, 30*time.Second)
	pg.exec(`UPDATE items SET id = 2 WHERE id = 1`)
	recs = append(recs, pollFor(t, task, 3, isData, 30*time.Second)...)
	var got [][]string
	for _, r := range recs {
		got = append(got, headerKeys(r))
	}
	// The key-change headers are part of the events, not of the context, so they stay.
	if want := [][]string{nil, {"__debezium.newkey"}, {"__debezium.newkey"}, {"__debezium.oldkey"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("headers with extended.headers.enabled=false = %v, want %v", got, want)
	}
}

func TestSequenceAfterRestartStartsFromStoredCommit(t *testing.T) {
	pg := newPG(t)
	pg.exec(`CREATE TABLE items (id int PRIMARY KEY)`)
	p := props(t, pg.dsn, "snapshot.mode", "no_data")
	tctx := connecttest.New(t)
	task := startTask(t, tctx, p)
	waitForSlot(t, pg, p["slot.name"])
	pg.exec(`INSERT INTO items VALUES (1)`)
	pg.exec(`INSERT INTO items VALUES (2)`)
	first := pollFor(t, task, 2, isData, 30*time.Second)
	if err := task.Commit(context.Background(), tctx.Commit(first[:1])); err != nil {
		t.Fatal(err)
	}
	if err := task.Stop(); err != nil {
		t.Fatal(err)
	}
	task2 := startTask(t, tctx, p)
	again := pollFor(t, task2, 1, isData, 30*time.Second)
	// Debezium's offset loader restores the last commit from lsn_commit, so a restarted task's first
	// event does not report null.
	r := again[0]
	if got, want := sequence(t, env(t, r))[0], fmt.Sprint(first[0].SourceOffset["lsn_commit"]); got == nil || *got != want {
		t.Errorf("first event after a restart: source.sequence = %v, want %s first", field(t, env(t, r), "source", "sequence"), want)
	}
	if checkContextHeaders(t, r, p["topic.prefix"]) == checkContextHeaders(t, first[1], p["topic.prefix"]) {
		t.Errorf("a restarted task kept the previous run's runId")
	}
}

// runIDPattern is the text form of a UUID version 7, what Debezium's UUIDUtils generates.
var runIDPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// checkContextHeaders checks Debezium's context headers (DebeziumHeaderProducer) on a change
// event and returns its run id.
func checkContextHeaders(t *testing.T, r connect.SourceRecord, prefix string) string {
	t.Helper()
	for k, want := range map[string]string{"connectorLogicalName": prefix, "taskId": "0", "connectorName": "postgresql"} {
		h, ok := r.Headers.Last("__debezium.context." + k)
		if !ok || h.Value != want || h.Schema != connect.StringSchema {
			t.Errorf("header __debezium.context.%s = %+v (present %v), want string %q", k, h, ok, want)
		}
	}
	h, _ := r.Headers.Last("__debezium.context.runId")
	id, _ := h.Value.(string)
	if !runIDPattern.MatchString(id) || h.Schema != connect.StringSchema {
		t.Errorf("header __debezium.context.runId = %+v, want a UUIDv7 string", h)
	}
	return id
}

func headerKeys(r connect.SourceRecord) []string {
	var keys []string
	for _, h := range r.Headers {
		keys = append(keys, h.Key)
	}
	return keys
}

// sequence decodes source.sequence, a JSON array of [last commit LSN or null, event LSN].
func sequence(t *testing.T, ev *connect.Struct) []*string {
	t.Helper()
	var seq []*string
	raw, _ := field(t, ev, "source", "sequence").(string)
	if err := json.Unmarshal([]byte(raw), &seq); err != nil || len(seq) != 2 {
		t.Fatalf("source.sequence = %q (%v), want a two-element array", raw, err)
	}
	return seq
}
