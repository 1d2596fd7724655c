package source

import (
	"strconv"
	"testing"
	"time"

	"github.com/kconnect/kconnect/connect"
)

func TestPostgresIncrementingModeReadsNewRowsInOrderWithUpstreamOffsets(t *testing.T) {
	pg := newPG(t)
	pg.exec(t,
		`CREATE TABLE accounts (id serial PRIMARY KEY, name text NOT NULL)`,
		`INSERT INTO accounts (name) SELECT 'a' || g FROM generate_series(1, 250) g`)
	url, user, pw := pg.jdbcURL(t)
	p := props("connection.url", url, "connection.user", user, "connection.password", pw,
		"mode", "incrementing", "incrementing.column.name", "id", "topic.prefix", "pg-", "table.whitelist", "accounts")
	tasks := taskProps(t, p, 1)
	r := startRunner(t, quietContext(t), tasks[0])
	recs := r.waitCount(250, 20*time.Second)
	for i, rec := range recs[:250] {
		if rec.Topic != "pg-accounts" {
			t.Fatalf("record %d topic %q, want pg-accounts", i, rec.Topic)
		}
		if got := field(rec, "id"); got != int32(i+1) {
			t.Fatalf("record %d id %v (%T), want %d", i, got, got, i+1)
		}
		want := map[string]any{"table": "public.accounts", "protocol": "1"}
		if !connect.ValuesEqual(rec.SourcePartition, want) {
			t.Fatalf("partition %v, want %v", rec.SourcePartition, want)
		}
		// The last record of each batch of 100 (and of the read) carries its own position; the
		// others the position of the previous batch's end, which is safe to restart from.
		want = map[string]any{}
		if own := (i+1)%100 == 0 || i == 249; own {
			want["incrementing"] = int64(i + 1)
		} else if i >= 100 {
			want["incrementing"] = int64(i / 100 * 100)
		}
		if !connect.ValuesEqual(rec.SourceOffset, want) {
			t.Fatalf("record %d offset %v, want %v", i, rec.SourceOffset, want)
		}
	}
	pg.exec(t, `INSERT INTO accounts (name) VALUES ('late')`)
	recs = r.waitCount(251, 10*time.Second)
	if got := field(recs[250], "name"); got != "late" {
		t.Fatalf("251st record name %v", got)
	}
	if len(recs) != 251 {
		t.Fatalf("got %d records, want 251 (no duplicates)", len(recs))
	}
}

func ids(recs []connect.SourceRecord) []int64 {
	out := make([]int64, len(recs))
	for i, r := range recs {
		out[i] = toInt64(field(r, "id"))
	}
	return out
}

func TestPostgresTimestampModeReadsNewAndUpdatedRows(t *testing.T) {
	pg := newPG(t)
	pg.exec(t, `CREATE TABLE items (id int PRIMARY KEY, name text, updated timestamptz NOT NULL)`,
		`INSERT INTO items VALUES (1, 'a', '2024-01-01 00:00:01+00'), (2, 'b', '2024-01-01 00:00:01+00'), (3, 'c', '2024-01-01 00:00:02+00')`)
	r := startRunner(t, quietContext(t), taskProps(t, props("connection.url", pg.dsn, "mode", "timestamp",
		"timestamp.column.name", "updated", "table.whitelist", "items", "topic.prefix", "ts-", "batch.max.rows", "1"), 1)[0])
	recs := r.waitCount(3, 20*time.Second)
	// Rows 1 and 2 share a timestamp: the first of them carries the offset before the group (none
	// yet, an empty offset), the second the group's own timestamp, as upstream's TimestampTableQuerier.
	t1 := time.Date(2024, 1, 1, 0, 0, 1, 0, time.UTC).UnixMilli()
	t2 := time.Date(2024, 1, 1, 0, 0, 2, 0, time.UTC).UnixMilli()
	wantOffsets := []map[string]any{{}, {"timestamp": t1, "timestamp_nanos": int64(0)}, {"timestamp": t2, "timestamp_nanos": int64(0)}}
	for i, w := range wantOffsets {
		if !connect.ValuesEqual(recs[i].SourceOffset, w) {
			t.Errorf("record %d (id %v) offset %v, want %v", i, field(recs[i], "id"), recs[i].SourceOffset, w)
		}
	}
	pg.exec(t, `UPDATE items SET name = 'b2', updated = now() WHERE id = 2`)
	recs = r.waitCount(4, 20*time.Second)
	if got := field(recs[3], "name"); got != "b2" {
		t.Fatalf("update not read: %v", got)
	}
}

func TestPostgresTimestampIncrementingModeOrdersByTimestampThenId(t *testing.T) {
	pg := newPG(t)
	pg.exec(t, `CREATE TABLE items (id int PRIMARY KEY, modified timestamp NOT NULL)`,
		`INSERT INTO items VALUES (3, '2024-01-01 00:00:01'), (1, '2024-01-01 00:00:02'), (2, '2024-01-01 00:00:01')`)
	r := startRunner(t, quietContext(t), taskProps(t, props("connection.url", pg.dsn, "mode", "timestamp+incrementing",
		"timestamp.column.name", "modified", "incrementing.column.name", "id", "table.whitelist", "items"), 1)[0])
	recs := r.waitCount(3, 20*time.Second)
	if got, want := ids(recs), []int64{2, 3, 1}; !equalInts(got, want) {
		t.Fatalf("ids %v, want %v", got, want)
	}
	want := map[string]any{"incrementing": int64(1), "timestamp": time.Date(2024, 1, 1, 0, 0, 2, 0, time.UTC).UnixMilli(), "timestamp_nanos": int64(0)}
	if !connect.ValuesEqual(recs[2].SourceOffset, want) {
		t.Errorf("last record's offset %v, want its own position %v", recs[2].SourceOffset, want)
	}
	if !connect.ValuesEqual(recs[1].SourceOffset, map[string]any{}) {
		t.Errorf("a record inside the first batch carries %v, want the starting (empty) position", recs[1].SourceOffset)
	}
	pg.exec(t, `UPDATE items SET modified = now() WHERE id = 3`)
	recs = r.waitCount(4, 20*time.Second)
	if got := toInt64(field(recs[3], "id")); got != 3 {
		t.Fatalf("updated row id %d, want 3", got)
	}
}

func equalInts(a, b []int64) bool {
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

func TestPostgresBulkModeReadsWholeTableEveryPoll(t *testing.T) {
	pg := newPG(t)
	pg.exec(t, `CREATE TABLE codes (code text PRIMARY KEY)`, `INSERT INTO codes VALUES ('a'), ('b')`)
	r := startRunner(t, quietContext(t), taskProps(t, props("connection.url", pg.dsn, "mode", "bulk",
		"table.whitelist", "codes", "topic.prefix", "bulk-", "poll.interval.ms", "100"), 1)[0])
	recs := r.waitCount(6, 20*time.Second)
	for _, rec := range recs {
		if rec.SourceOffset != nil || !connect.ValuesEqual(rec.SourcePartition, map[string]any{"table": "codes"}) || rec.Topic != "bulk-codes" {
			t.Fatalf("bulk record partition %v offset %v topic %s; want {table: codes}, none, bulk-codes", rec.SourcePartition, rec.SourceOffset, rec.Topic)
		}
	}
}

func TestPostgresQueryModeAppendsWhereAndUsesPrefixAsTopic(t *testing.T) {
	pg := newPG(t)
	pg.exec(t, `CREATE TABLE users (id serial PRIMARY KEY, name text)`,
		`CREATE TABLE orders (oid serial PRIMARY KEY, user_id int REFERENCES users, total numeric(8,2))`,
		`INSERT INTO users (name) VALUES ('ann'), ('bob')`,
		`INSERT INTO orders (user_id, total) VALUES (1, 9.99), (2, 5.00), (1, 1.25)`)
	r := startRunner(t, quietContext(t), taskProps(t, props("connection.url", pg.dsn, "mode", "incrementing",
		"query", "SELECT o.oid, u.name, o.total FROM orders o JOIN users u ON u.id = o.user_id",
		"incrementing.column.name", "oid", "topic.prefix", "joined", "query.suffix", "LIMIT 2"), 1)[0])
	recs := r.waitCount(3, 20*time.Second)
	if got := ids3(recs, "oid"); !equalInts(got, []int64{1, 2, 3}) {
		t.Fatalf("oids %v, want [1 2 3] (the suffix limits each read to 2 rows, so this took two polls)", got)
	}
	for _, rec := range recs {
		if rec.Topic != "joined" || !connect.ValuesEqual(rec.SourcePartition, map[string]any{"query": "query"}) || rec.ValueSchema.Name != "" {
			t.Fatalf("topic %s partition %v schema name %q; want joined, {query: query}, unnamed", rec.Topic, rec.SourcePartition, rec.ValueSchema.Name)
		}
	}
	if got := field(recs[2], "name"); got != "ann" {
		t.Fatalf("name %v", got)
	}
}

func ids3(recs []connect.SourceRecord, col string) []int64 {
	out := make([]int64, len(recs))
	for i, r := range recs {
		out[i] = toInt64(field(r, col))
	}
	return out
}

func TestMySQLModesWithNativeDSN(t *testing.T) {
	my := newMy(t)
	my.exec(t, "CREATE TABLE orders (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, status varchar(10), modified datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3))",
		"INSERT INTO orders (status) VALUES ('new'), ('new'), ('new')")
	inc := startRunner(t, quietContext(t), taskProps(t, props("connection.url", my.dsn, "mode", "incrementing",
		"table.whitelist", "orders", "topic.prefix", "my-"), 1)[0])
	tsInc := startRunner(t, quietContext(t), taskProps(t, props("connection.url", my.dsn, "mode", "timestamp+incrementing",
		"timestamp.column.name", "modified", "incrementing.column.name", "id", "table.whitelist", "orders"), 1)[0])
	recs := inc.waitCount(3, 20*time.Second)
	if got := ids(recs); !equalInts(got, []int64{1, 2, 3}) {
		t.Fatalf("incrementing mode (auto-detected column) ids %v", got)
	}
	db := recs[0].SourcePartition["table"].(string)
	if !contains(db, ".orders") || recs[0].Topic != "my-orders" {
		t.Fatalf("partition table %q topic %q; want <database>.orders and my-orders", db, recs[0].Topic)
	}
	tsInc.waitCount(3, 20*time.Second)
	time.Sleep(10 * time.Millisecond)
	my.exec(t, "UPDATE orders SET status = 'paid' WHERE id = 2")
	recs = tsInc.waitCount(4, 20*time.Second)
	if got := field(recs[3], "status"); got != "paid" {
		t.Fatalf("update read as %v", got)
	}
	if recs, _ := inc.snapshot(); len(recs) != 3 {
		t.Fatalf("incrementing mode read %d records; updates are not new rows", len(recs))
	}
}

func TestTimestampInitialStartsAtTheGivenTime(t *testing.T) {
	pg := newPG(t)
	pg.exec(t, `CREATE TABLE ev (id int PRIMARY KEY, at timestamptz NOT NULL)`,
		`INSERT INTO ev VALUES (1, '2020-01-01 00:00:00+00'), (2, '2024-01-01 00:00:00+00')`)
	initial := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	r := startRunner(t, quietContext(t), taskProps(t, props("connection.url", pg.dsn, "mode", "timestamp",
		"timestamp.column.name", "at", "table.whitelist", "ev", "timestamp.initial", strconv.FormatInt(initial, 10)), 1)[0])
	r.waitCount(1, 20*time.Second)
	time.Sleep(200 * time.Millisecond)
	recs, _ := r.snapshot()
	if got := ids(recs); !equalInts(got, []int64{2}) {
		t.Fatalf("ids %v, want [2]: rows before timestamp.initial are not read", got)
	}

	now := startRunner(t, quietContext(t), taskProps(t, props("connection.url", pg.dsn, "mode", "timestamp",
		"timestamp.column.name", "at", "table.whitelist", "ev", "timestamp.initial", "-1"), 1)[0])
	pg.exec(t, `INSERT INTO ev VALUES (3, now() + interval '1 millisecond')`)
	recs = now.waitCount(1, 20*time.Second)
	if got := ids(recs); !equalInts(got, []int64{3}) {
		t.Fatalf("ids %v, want [3]: timestamp.initial=-1 starts at the database's current time", got)
	}
}

func TestMySQLQueryModeWithTimestamp(t *testing.T) {
	my := newMy(t)
	my.exec(t, "CREATE TABLE users (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, name varchar(20))",
		"CREATE TABLE logins (lid int NOT NULL AUTO_INCREMENT PRIMARY KEY, user_id int NOT NULL, at datetime(3) NOT NULL)",
		"INSERT INTO users (name) VALUES ('ann'), ('bob')",
		"INSERT INTO logins (user_id, at) VALUES (2, '2024-01-01 10:00:00'), (1, '2024-01-01 09:00:00')")
	r := startRunner(t, quietContext(t), taskProps(t, props("connection.url", my.dsn, "mode", "timestamp",
		"query", "SELECT l.lid, u.name, l.at FROM logins l JOIN users u ON u.id = l.user_id",
		"timestamp.column.name", "at", "topic.prefix", "logins"), 1)[0])
	recs := r.waitCount(2, 20*time.Second)
	if a, b := field(recs[0], "name"), field(recs[1], "name"); a != "ann" || b != "bob" {
		t.Fatalf("names in timestamp order %v, %v; want ann, bob", a, b)
	}
	if recs[0].Topic != "logins" {
		t.Fatalf("topic %s", recs[0].Topic)
	}
}
