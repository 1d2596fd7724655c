package sink

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connect/connecttest"
	"github.com/kconnect/kconnect/internal/testenv"
)

// testDB is a fresh database of the test bed plus what tests need to look into it.
type testDB struct {
	kind  string // "postgres" or "mysql"
	url   string // connection.url
	pg    *pgx.Conn
	my    *sql.DB
	extra map[string]string
}

func newPostgresDB(t *testing.T) *testDB {
	t.Helper()
	dsn, conn := testenv.PostgresConn(t)
	return &testDB{kind: "postgres", url: dsn, pg: conn}
}

func newMySQLDB(t *testing.T) *testDB {
	t.Helper()
	dsn, db := testenv.MySQLConn(t)
	return &testDB{kind: "mysql", url: dsn, my: db}
}

// eachDB runs f as a subtest against PostgreSQL and against MariaDB.
func eachDB(t *testing.T, f func(t *testing.T, db *testDB)) {
	t.Run("postgres", func(t *testing.T) { f(t, newPostgresDB(t)) })
	t.Run("mysql", func(t *testing.T) { f(t, newMySQLDB(t)) })
}

// q quotes an identifier for the database.
func (db *testDB) q(name string) string {
	if db.kind == "mysql" {
		return myIdent(name)
	}
	return pgIdent(name)
}

func (db *testDB) exec(t *testing.T, query string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	if db.kind == "mysql" {
		_, err = db.my.ExecContext(ctx, query, args...)
	} else {
		_, err = db.pg.Exec(ctx, query, args...)
	}
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// rows returns the result of a query with every column rendered as text (NULL as "NULL").
func (db *testDB) rows(t *testing.T, query string, args ...any) [][]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out [][]string
	if db.kind == "mysql" {
		rs, err := db.my.QueryContext(ctx, query, args...)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		defer rs.Close()
		cols, _ := rs.Columns()
		for rs.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rs.Scan(ptrs...); err != nil {
				t.Fatalf("%s: %v", query, err)
			}
			row := make([]string, len(cols))
			for i, v := range vals {
				row[i] = "NULL"
				if v.Valid {
					row[i] = v.String
				}
			}
			out = append(out, row)
		}
		if err := rs.Err(); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return out
	}
	rs, err := db.pg.Query(ctx, query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rs.Close()
	for rs.Next() {
		raw := rs.RawValues()
		fds := rs.FieldDescriptions()
		row := make([]string, len(raw))
		for i := range raw {
			if raw[i] == nil {
				row[i] = "NULL"
				continue
			}
			if fds[i].Format != pgx.TextFormatCode && fds[i].DataTypeOID != pgtype.TextOID {
				t.Fatalf("%s: column %d is not text; cast it with ::text", query, i)
			}
			row[i] = string(raw[i])
		}
		out = append(out, row)
	}
	if err := rs.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}

// text renders a column as text in a query, portably.
func (db *testDB) text(col string) string {
	if db.kind == "mysql" {
		return "CAST(" + db.q(col) + " AS CHAR)"
	}
	return db.q(col) + "::text"
}

// table returns the rows of table with the given columns as text, ordered by the first column
// and then the others.
func (db *testDB) table(t *testing.T, table string, cols ...string) [][]string {
	t.Helper()
	sel := make([]string, len(cols))
	order := make([]string, len(cols))
	for i, c := range cols {
		sel[i] = db.text(c)
		order[i] = db.q(table) + "." + db.q(c) // the table's column, not the text output column of the same name
	}
	return db.rows(t, "SELECT "+strings.Join(sel, ", ")+" FROM "+db.q(table)+" ORDER BY "+strings.Join(order, ", "))
}

func (db *testDB) count(t *testing.T, table string) int {
	t.Helper()
	r := db.rows(t, "SELECT "+db.castText("COUNT(*)")+" FROM "+db.q(table))
	var n int
	fmt.Sscan(r[0][0], &n)
	return n
}

func (db *testDB) castText(expr string) string {
	if db.kind == "mysql" {
		return "CAST(" + expr + " AS CHAR)"
	}
	return "(" + expr + ")::text"
}

// exists reports whether a table exists in the test database.
func (db *testDB) exists(t *testing.T, table string) bool {
	t.Helper()
	if db.kind == "mysql" {
		return len(db.rows(t, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", table)) == 1
	}
	return len(db.rows(t, "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' AND tablename = $1", table)) == 1
}

// columnTypes returns column name → data type (lower case, as information_schema spells it)
// and whether the column is nullable.
func (db *testDB) columnTypes(t *testing.T, table string) map[string]string {
	t.Helper()
	out := map[string]string{}
	var rows [][]string
	if db.kind == "mysql" {
		rows = db.rows(t, "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", table)
	} else {
		rows = db.rows(t, `SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END
			FROM pg_attribute a WHERE a.attrelid = to_regclass($1::text) AND a.attnum > 0 AND NOT a.attisdropped`, pgIdent(table))
	}
	for _, r := range rows {
		null := ""
		if r[2] == "YES" {
			null = " null"
		}
		out[r[0]] = strings.ToLower(r[1]) + null
	}
	return out
}

// primaryKey returns the table's primary key columns in key order.
func (db *testDB) primaryKey(t *testing.T, table string) []string {
	t.Helper()
	var rows [][]string
	if db.kind == "mysql" {
		rows = db.rows(t, `SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
			WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION`, table)
	} else {
		rows = db.rows(t, `SELECT a.attname::text FROM pg_index i
			JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) ON true
			JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
			WHERE i.indrelid = to_regclass($1::text) AND i.indisprimary ORDER BY k.n`, pgIdent(table))
	}
	var out []string
	for _, r := range rows {
		out = append(out, r[0])
	}
	return out
}

// offsets returns the offsets table rows of a connector as topic-partition → offset.
func (db *testDB) offsets(t *testing.T, connector string) map[connect.TopicPartition]int64 {
	t.Helper()
	rows := db.rows(t, "SELECT "+db.text("kafka_topic")+", "+db.text("kafka_partition")+", "+db.text("kafka_offset")+
		" FROM "+db.q("kconnect_offsets")+" WHERE "+db.q("connector")+" = "+db.param(1), connector)
	out := map[connect.TopicPartition]int64{}
	for _, r := range rows {
		var tp connect.TopicPartition
		var off int64
		tp.Topic = r[0]
		fmt.Sscan(r[1], &tp.Partition)
		fmt.Sscan(r[2], &off)
		out[tp] = off
	}
	return out
}

func (db *testDB) param(n int) string {
	if db.kind == "mysql" {
		return "?"
	}
	return fmt.Sprintf("$%d", n)
}

// props returns a sink configuration for the database with the given settings on top.
func (db *testDB) props(kv ...string) map[string]string {
	p := map[string]string{
		"connector.class":  confluentClass,
		"connection.url":   db.url,
		"retry.backoff.ms": "10",
	}
	maps.Copy(p, db.extra)
	for i := 0; i+1 < len(kv); i += 2 {
		p[kv[i]] = kv[i+1]
	}
	return p
}

// startTask starts a task with props and a test context whose connector is named name.
func startTask(t testing.TB, name string, props map[string]string) (*Task, *connecttest.Context) {
	t.Helper()
	ctx := connecttest.New(t)
	ctx.Name = name
	if _, ok := t.(*testing.B); ok {
		ctx.Log = slog.New(slog.DiscardHandler) // per-batch debug logs would swamp the results
	}
	task := &Task{}
	if err := task.Start(ctx, props); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { task.Stop() })
	return task, ctx
}

// deliver does what the runtime does with a batch and the offset commit after it: Put, then
// PreCommit, which waits for the background write and returns its error.
func deliver(ctx context.Context, task *Task, recs []connect.SinkRecord) error {
	if err := task.Put(ctx, recs); err != nil {
		return err
	}
	_, err := task.PreCommit(ctx, nil)
	return err
}

func put(t *testing.T, task *Task, recs ...connect.SinkRecord) {
	t.Helper()
	if err := deliver(context.Background(), task, recs); err != nil {
		t.Fatalf("Put: %v", err)
	}
}

// recordBuilder makes sink records with consecutive offsets per topic-partition.
type recordBuilder struct {
	next map[connect.TopicPartition]int64
}

func newRecords() *recordBuilder { return &recordBuilder{next: map[connect.TopicPartition]int64{}} }

func (b *recordBuilder) rec(topic string, partition int32, keySchema *connect.Schema, key any, valueSchema *connect.Schema, value any) connect.SinkRecord {
	tp := connect.TopicPartition{Topic: topic, Partition: partition}
	off := b.next[tp]
	b.next[tp] = off + 1
	return connect.SinkRecord{Record: connect.Record{
		Topic: topic, Partition: partition, Offset: off,
		KeySchema: keySchema, Key: key, ValueSchema: valueSchema, Value: value,
	}}
}

func mustStruct(t *testing.T, s *connect.Schema, kv ...any) *connect.Struct {
	t.Helper()
	st := connect.NewStruct(s)
	for i := 0; i+1 < len(kv); i += 2 {
		if err := st.Put(kv[i].(string), kv[i+1]); err != nil {
			t.Fatalf("struct %s: %v", s, err)
		}
	}
	return st
}

// wantRows compares a table's text rows with want.
func wantRows(t *testing.T, got [][]string, want ...[]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d rows %v, want %d rows %v", len(got), got, len(want), want)
	}
	for i := range want {
		if strings.Join(got[i], "|") != strings.Join(want[i], "|") {
			t.Fatalf("row %d: got %v, want %v (all rows: %v)", i, got[i], want[i], got)
		}
	}
}

func wantErrContains(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not contain %q", err, p)
		}
	}
}

// keyStruct and friends are the schemas most tests use: an int key and a small row.
var (
	idKeySchema = connect.StructBuilder().Name("test.Key").Field("id", connect.Int32Schema).MustBuild()
	rowSchema   = connect.StructBuilder().Name("test.Value").
			Field("id", connect.Int32Schema).
			Field("name", connect.OptionalStringSchema).
			Field("qty", connect.OptionalInt64Schema).MustBuild()
)

func idKey(t *testing.T, id int32) *connect.Struct { return mustStruct(t, idKeySchema, "id", id) }

func row(t *testing.T, id int32, name string, qty int64) *connect.Struct {
	return mustStruct(t, rowSchema, "id", id, "name", name, "qty", qty)
}

// blockWrites takes a lock on table from another session so the task's next write to it waits;
// it returns the release function.
func (db *testDB) blockWrites(t *testing.T, ctx context.Context, table string) func() {
	t.Helper()
	if db.kind == "mysql" {
		conn, err := db.my.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "LOCK TABLES "+db.q(table)+" WRITE"); err != nil {
			t.Fatal(err)
		}
		return func() {
			if _, err := conn.ExecContext(ctx, "UNLOCK TABLES"); err != nil {
				t.Error(err)
			}
			conn.Close()
		}
	}
	conn, err := pgx.ConnectConfig(ctx, db.pg.Config())
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE "+db.q(table)+" IN SHARE MODE"); err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := tx.Commit(ctx); err != nil {
			t.Error(err)
		}
		conn.Close(ctx)
	}
}

// waitForBlockedSession returns the id of the session waiting on the lock blockWrites holds.
func (db *testDB) waitForBlockedSession(t *testing.T, ctx context.Context) string {
	t.Helper()
	for ctx.Err() == nil {
		var rows [][]string
		if db.kind == "mysql" {
			rows = db.rows(t, "SELECT CAST(ID AS CHAR) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID() AND STATE LIKE 'Waiting for table%'")
		} else {
			rows = db.rows(t, "SELECT pid::text FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'")
		}
		if len(rows) == 1 {
			return rows[0][0]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the task never blocked on the lock")
	return ""
}

// killSession ends a database session from outside, as a crash or failover would.
func (db *testDB) killSession(t *testing.T, id string) {
	t.Helper()
	if db.kind == "mysql" {
		var n int
		fmt.Sscan(id, &n)
		db.exec(t, fmt.Sprintf("KILL %d", n))
		return
	}
	db.exec(t, "SELECT pg_terminate_backend($1::int)", id)
}
