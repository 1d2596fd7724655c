package sink

import (
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/connect"
)

// Debezium change-event schemas as Debezium's PostgreSQL connector emits them (time.precision.mode
// adaptive: a DATE column is io.debezium.time.Date, a TIMESTAMP(6) io.debezium.time.MicroTimestamp).
var (
	dbzRow = connect.StructBuilder().Name("Server1.inventory.customers.Value").Optional().
		Field("id", connect.Int32Schema).
		Field("name", connect.OptionalStringSchema).
		Field("born", connect.NewSchemaBuilder(connect.TypeInt32).Name(dbzDate).Version(1).Optional().MustBuild()).
		Field("updated", connect.NewSchemaBuilder(connect.TypeInt64).Name(dbzMicroTimestamp).Version(1).Optional().MustBuild()).
		MustBuild()
	dbzSource = connect.StructBuilder().Name("io.debezium.connector.postgresql.Source").
			Field("connector", connect.StringSchema).
			Field("db", connect.StringSchema).
			Field("schema", connect.StringSchema).
			Field("table", connect.StringSchema).MustBuild()
	dbzEnvelope = connect.StructBuilder().Name("Server1.inventory.customers.Envelope").Version(2).
			Field("before", dbzRow).
			Field("after", dbzRow).
			Field("source", dbzSource).
			Field("op", connect.StringSchema).
			Field("ts_ms", connect.OptionalInt64Schema).MustBuild()
	dbzKey = connect.StructBuilder().Name("Server1.inventory.customers.Key").Field("id", connect.Int32Schema).MustBuild()
)

const dbzTopic = "Server1.inventory.customers"

// dbzEvent builds a change event; before and after may be nil.
func dbzEvent(t *testing.T, rb *recordBuilder, op string, id int32, before, after *connect.Struct) connect.SinkRecord {
	t.Helper()
	src := mustStruct(t, dbzSource, "connector", "postgresql", "db", "shop", "schema", "inventory", "table", "customers")
	v := mustStruct(t, dbzEnvelope, "source", src, "op", op, "ts_ms", int64(1700000000000))
	if before != nil {
		v.Put("before", before)
	}
	if after != nil {
		v.Put("after", after)
	}
	var key any
	if op != "t" {
		key = mustStruct(t, dbzKey, "id", id)
	}
	return rb.rec(dbzTopic, 0, dbzKey, key, dbzEnvelope, v)
}

func dbzRowOf(t *testing.T, id int32, name string, bornDays int32, updatedMicros int64) *connect.Struct {
	return mustStruct(t, dbzRow, "id", id, "name", name, "born", bornDays, "updated", updatedMicros)
}

// TestDebeziumEnvelopes applies c/r/u/d/t events the way Debezium's JDBC sink does, configured
// with Debezium's own keys: no ExtractNewRecordState transform involved.
func TestDebeziumEnvelopes(t *testing.T) {
	const born = int32(19000)
	const updated = int64(1_700_000_000_123_456)
	wantBorn := time.Unix(int64(born)*86400, 0).UTC().Format(time.DateOnly)
	wantUpdated := time.UnixMicro(updated).UTC().Format("2006-01-02 15:04:05.000000")

	eachDB(t, func(t *testing.T, db *testDB) {
		task, _ := startTask(t, t.Name(), db.props(
			"connector.class", debeziumClass,
			"primary.key.mode", "record_key",
			"insert.mode", "upsert",
			"delete.enabled", "true",
			"truncate.enabled", "true",
			"schema.evolution", "basic"))
		// Debezium's naming: topic dots become underscores; with quote.identifiers defaulting to
		// false, PostgreSQL folds the name to lower case as it does unquoted names.
		table := map[string]string{"postgres": "server1_inventory_customers", "mysql": "Server1_inventory_customers"}[db.kind]
		rb := newRecords()
		put(t, task,
			dbzEvent(t, rb, "r", 1, nil, dbzRowOf(t, 1, "alice", born, updated)),
			dbzEvent(t, rb, "r", 2, nil, dbzRowOf(t, 2, "bob", born, updated)),
			dbzEvent(t, rb, "c", 3, nil, dbzRowOf(t, 3, "carol", born, updated)),
			dbzEvent(t, rb, "u", 2, dbzRowOf(t, 2, "bob", born, updated), dbzRowOf(t, 2, "bobby", born+1, updated)),
			dbzEvent(t, rb, "d", 1, dbzRowOf(t, 1, "alice", born, updated), nil),
			rb.rec(dbzTopic, 0, dbzKey, mustStruct(t, dbzKey, "id", int32(1)), nil, nil), // the tombstone after a delete
		)
		wantBorn2 := time.Unix(int64(born+1)*86400, 0).UTC().Format(time.DateOnly)
		wantRows(t, db.table(t, table, "id", "name", "born", "updated"),
			[]string{"2", "bobby", wantBorn2, wantUpdated}, []string{"3", "carol", wantBorn, wantUpdated})
		types := db.columnTypes(t, table)
		wantTypes := map[string][2]string{
			"postgres": {"date null", "timestamp(6) without time zone null"},
			"mysql":    {"date null", "datetime(6) null"},
		}[db.kind]
		if types["born"] != wantTypes[0] || types["updated"] != wantTypes[1] {
			t.Errorf("born %q updated %q, want %q", types["born"], types["updated"], wantTypes)
		}
		if pk := db.primaryKey(t, table); strings.Join(pk, ",") != "id" {
			t.Errorf("primary key %v", pk)
		}
		// A truncate event empties the table at its place in the stream.
		put(t, task,
			dbzEvent(t, rb, "c", 5, nil, dbzRowOf(t, 5, "eve", born, updated)),
			dbzEvent(t, rb, "t", 0, nil, nil),
			dbzEvent(t, rb, "c", 4, nil, dbzRowOf(t, 4, "dave", born, updated)))
		wantRows(t, db.table(t, table, "id", "name"), []string{"4", "dave"})
	})
}

// TestDebeziumSourcePlaceholders checks ${source.*} in collection.name.format and that Confluent
// configs get envelopes unwrapped too.
func TestDebeziumSourcePlaceholders(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		task, _ := startTask(t, t.Name(), db.props(
			"connector.class", debeziumClass,
			"primary.key.mode", "record_key",
			"insert.mode", "upsert",
			"schema.evolution", "basic",
			"collection.name.format", "${source.schema}_${source.table}"))
		rb := newRecords()
		put(t, task, dbzEvent(t, rb, "c", 1, nil, dbzRowOf(t, 1, "alice", 1, 1)))
		wantRows(t, db.table(t, "inventory_customers", "id", "name"), []string{"1", "alice"})

		// The Confluent class with a plain format: the envelope is still applied natively.
		task2, _ := startTask(t, t.Name()+"-confluent", db.props(
			"pk.mode", "record_key", "insert.mode", "upsert", "auto.create", "true", "delete.enabled", "true",
			"table.name.format", "customers_copy"))
		put(t, task2,
			dbzEvent(t, rb, "c", 1, nil, dbzRowOf(t, 1, "alice", 1, 1)),
			dbzEvent(t, rb, "c", 2, nil, dbzRowOf(t, 2, "bob", 1, 1)),
			dbzEvent(t, rb, "d", 1, dbzRowOf(t, 1, "alice", 1, 1), nil))
		wantRows(t, db.table(t, "customers_copy", "id", "name"), []string{"2", "bob"})
	})
}

// TestDebeziumSemanticTypes writes Debezium's semantic types through both PostgreSQL write paths
// (a single row is pipelined, a large batch goes through COPY) and MySQL's, and reads them back.
func TestDebeziumSemanticTypes(t *testing.T) {
	named := func(t connect.Type, name string) *connect.Schema {
		return connect.NewSchemaBuilder(t).Name(name).Version(1).MustBuild()
	}
	s := connect.StructBuilder().Name("sem").
		Field("id", connect.Int32Schema).
		Field("doc", named(connect.TypeString, dbzJSON)).
		Field("uid", named(connect.TypeString, dbzUUID)).
		Field("zts", named(connect.TypeString, dbzZonedTimestamp)).
		Field("mt", named(connect.TypeInt64, dbzMicroTime)).
		Field("t3", named(connect.TypeInt32, dbzTime)).
		Field("nts", named(connect.TypeInt64, dbzNanoTimestamp)).
		Field("mts", named(connect.TypeInt64, dbzTimestamp)).MustBuild()
	value := func(id int32) *connect.Struct {
		return mustStruct(t, s, "id", id, "doc", `{"a": 1}`, "uid", "6f1c9a7e-1b2c-4d3e-8f90-0a1b2c3d4e5f",
			"zts", "2024-03-10T12:30:00.5+02:00", "mt", int64(45_296_789_012), "t3", int32(3_723_004),
			"nts", int64(1_700_000_000_123_456_789), "mts", int64(1_700_000_000_123))
	}
	eachDB(t, func(t *testing.T, db *testDB) {
		task, _ := startTask(t, t.Name(), db.props("auto.create", "true", "pk.mode", "record_value", "pk.fields", "id",
			"insert.mode", "upsert", "table.name.format", "sem"))
		rb := newRecords()
		put(t, task, rb.rec("s", 0, nil, nil, s, value(1)))
		var many []connect.SinkRecord
		for id := int32(2); id < 300; id++ {
			many = append(many, rb.rec("s", 0, nil, nil, s, value(id)))
		}
		put(t, task, many...)
		want := map[string][]string{
			// ZonedTimestamp keeps its instant: 10:30:00.5 UTC; the zone-less types show UTC wall
			// clocks; nanoseconds are rounded to the columns' microseconds on PostgreSQL, as it
			// does itself with more digits, and truncated on MariaDB, as it does.
			"postgres": {`{"a": 1}`, "6f1c9a7e-1b2c-4d3e-8f90-0a1b2c3d4e5f", "2024-03-10 10:30:00.5+00", "12:34:56.789012",
				"01:02:03.004", "2023-11-14 22:13:20.123457", "2023-11-14 22:13:20.123"},
			"mysql": {`{"a": 1}`, "6f1c9a7e-1b2c-4d3e-8f90-0a1b2c3d4e5f", "2024-03-10 10:30:00.500000", "12:34:56.789012",
				"01:02:03.004", "2023-11-14 22:13:20.123456", "2023-11-14 22:13:20.123"},
		}[db.kind]
		if db.kind == "postgres" {
			db.exec(t, "SET TIME ZONE 'UTC'")
		}
		for _, id := range []string{"1", "299"} {
			got := db.rows(t, "SELECT "+db.text("doc")+", "+db.text("uid")+", "+db.text("zts")+", "+db.text("mt")+", "+
				db.text("t3")+", "+db.text("nts")+", "+db.text("mts")+" FROM "+db.q("sem")+" WHERE "+db.q("id")+" = "+id)
			wantRows(t, got, want)
		}
		types := db.columnTypes(t, "sem")
		wantTypes := map[string]map[string]string{
			"postgres": {"doc": "jsonb", "uid": "uuid", "zts": "timestamp with time zone"},
			"mysql":    {"doc": "longtext", "uid": "char(36)", "zts": "datetime(6)"}, // MariaDB's JSON is LONGTEXT with a check
		}[db.kind]
		for c, w := range wantTypes {
			if got := strings.TrimSuffix(types[c], " null"); got != w {
				t.Errorf("column %s is %s, want %s", c, got, w)
			}
		}
	})
}

// TestPostgresArrays writes arrays of primitives, which only PostgreSQL has columns for.
func TestPostgresArrays(t *testing.T) {
	db := newPostgresDB(t)
	s := connect.StructBuilder().Field("id", connect.Int32Schema).
		Field("tags", connect.ArrayBuilder(connect.StringSchema).Optional().MustBuild()).
		Field("nums", connect.ArrayBuilder(connect.Int64Schema).Optional().MustBuild()).MustBuild()
	task, _ := startTask(t, t.Name(), db.props("auto.create", "true", "table.name.format", "arr"))
	rb := newRecords()
	put(t, task, rb.rec("a", 0, nil, nil, s, mustStruct(t, s, "id", int32(1), "tags", []any{"x", "y"}, "nums", []any{int64(1), int64(-2)})))
	var many []connect.SinkRecord
	for id := int32(2); id < 200; id++ {
		many = append(many, rb.rec("a", 0, nil, nil, s, mustStruct(t, s, "id", id, "tags", []any{"z"}, "nums", []any{}))) // COPY path
	}
	put(t, task, many...)
	wantRows(t, db.rows(t, `SELECT tags::text, nums::text FROM arr WHERE id IN (1, 199) ORDER BY id`), []string{"{x,y}", "{1,-2}"}, []string{"{z}", "{}"})
	if typ := db.columnTypes(t, "arr")["tags"]; typ != "text[] null" {
		t.Errorf("tags is %s", typ)
	}
}
