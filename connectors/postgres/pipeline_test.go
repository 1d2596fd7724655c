package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/internal/properties"
	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
)

// pipelineEnv is a PostgreSQL database captured by the CDC source and the MariaDB database the
// JDBC sink mirrors it into, each with a connection for the test.
type pipelineEnv struct {
	t      *testing.T
	pgDSN  string
	pg     *pgx.Conn
	myDSN  *mysql.Config
	my     *sql.DB
	prefix string // topic.prefix of the source
}

func newPipelineEnv(t *testing.T) *pipelineEnv {
	t.Helper()
	e := &pipelineEnv{t: t}
	e.pgDSN, e.pg = testenv.PostgresConn(t)
	myDSN, my := testenv.MySQLConn(t)
	e.my = my
	var err error
	if e.myDSN, err = mysql.ParseDSN(myDSN); err != nil {
		t.Fatal(err)
	}
	// Topic names derive from the prefix, so it must be unique on a long-lived broker.
	e.prefix = testenv.Topic(t, "cdc")
	return e
}

func (e *pipelineEnv) pgExec(sql string, args ...any) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := e.pg.Exec(ctx, sql, args...); err != nil {
		e.t.Fatalf("PostgreSQL: %s: %v", sql, err)
	}
}

// sourceConfig is a Debezium PostgreSQL connector configuration for the test's database, logged
// in as the superuser (so the publication can be created FOR ALL TABLES).
func (e *pipelineEnv) sourceConfig(name string) map[string]string {
	e.t.Helper()
	u, err := url.Parse(e.pgDSN)
	if err != nil {
		e.t.Fatal(err)
	}
	pass, _ := u.User.Password()
	db := strings.TrimPrefix(u.Path, "/")
	return map[string]string{
		"name":              name,
		"connector.class":   "io.debezium.connector.postgresql.PostgresConnector",
		"database.hostname": u.Hostname(),
		"database.port":     u.Port(),
		"database.user":     u.User.Username(),
		"database.password": pass,
		"database.dbname":   db,
		"database.sslmode":  "disable",
		"topic.prefix":      e.prefix,
		"plugin.name":       "pgoutput",
		"slot.name":         db, // testenv's database names are valid, unique slot names
		"poll.interval.ms":  "100",
	}
}

// pipelineWorkerProps is a worker whose converters carry schemas, which the sink needs for both
// the record key (pk.mode=record_key) and the value.
func pipelineWorkerProps(t *testing.T, dir string) map[string]string {
	props := workertest.WorkerProps(t, dir)
	props["key.converter"] = "org.apache.kafka.connect.json.JsonConverter"
	props["key.converter.schemas.enable"] = "true"
	props["value.converter"] = "org.apache.kafka.connect.json.JsonConverter"
	props["value.converter.schemas.enable"] = "true"
	return props
}

// waitTopics waits until the topics exist: a sink subscribed by topics.regex only rechecks the
// topic list every metadata refresh (five minutes by default, as in Kafka's consumer).
func waitTopics(t *testing.T, w *workertest.Worker, topics ...string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(w.Bootstrap, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	w.WaitFor(60*time.Second, fmt.Sprintf("topics %v", topics), func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		td, err := adm.ListTopics(ctx, topics...)
		if err != nil {
			return false
		}
		for _, name := range topics {
			if d, ok := td[name]; !ok || d.Err != nil {
				return false
			}
		}
		return true
	})
}

// textRows runs a query whose every column is text (or NULL) and returns the rows, NULL as
// "NULL". query is run on PostgreSQL when pg is set, else on MariaDB.
func (e *pipelineEnv) textRows(pg bool, query string) ([][]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out [][]string
	render := func(vals []*string) {
		row := make([]string, len(vals))
		for i, v := range vals {
			row[i] = "NULL"
			if v != nil {
				row[i] = *v
			}
		}
		out = append(out, row)
	}
	if pg {
		rows, err := e.pg.Query(ctx, query)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			vals := make([]*string, len(rows.FieldDescriptions()))
			ptrs := make([]any, len(vals))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return nil, err
			}
			render(vals)
		}
		return out, rows.Err()
	}
	rows, err := e.my.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		vals := make([]*string, len(cols))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		render(vals)
	}
	return out, rows.Err()
}

// mirrored is one table compared between the two databases: the same rows rendered the same way
// by a PostgreSQL and a MariaDB query.
type mirrored struct {
	name     string
	pg, my   string
	pgSource string // the PostgreSQL table, for messages
}

// waitConverged waits until every MariaDB table holds exactly the rows of its PostgreSQL table,
// failing with the differences.
func (e *pipelineEnv) waitConverged(w *workertest.Worker, stage string, tables []mirrored, connectors ...string) {
	e.t.Helper()
	var diff string
	deadline := time.Now().Add(90 * time.Second)
	for {
		for _, c := range connectors {
			w.FailIfFailed(c)
		}
		diff = ""
		for _, tb := range tables {
			want, err := e.textRows(true, tb.pg)
			if err != nil {
				e.t.Fatalf("read PostgreSQL %s: %v", tb.pgSource, err)
			}
			got, err := e.textRows(false, tb.my)
			if err != nil {
				// The sink creates tables and adds columns as their first records arrive.
				if strings.Contains(err.Error(), "doesn't exist") || strings.Contains(err.Error(), "Unknown column") {
					diff += fmt.Sprintf("table %s: %v\n", tb.name, err)
					continue
				}
				e.t.Fatalf("read MariaDB %s: %v", tb.name, err)
			}
			if d := rowDiff(want, got); d != "" {
				diff += fmt.Sprintf("table %s (%d rows in PostgreSQL, %d in MariaDB):\n%s", tb.name, len(want), len(got), d)
			}
		}
		if diff == "" {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: MariaDB did not converge to PostgreSQL within 90s:\n%sworker log:\n%s", stage, diff, w.Log())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// rowDiff lists up to ten rows missing from got and ten unexpected ones; rows are compared as
// whole rows, as multisets (sorted as text, so neither side's collation matters).
func rowDiff(want, got [][]string) string {
	join := func(rows [][]string) []string {
		out := make([]string, len(rows))
		for i, r := range rows {
			out[i] = strings.Join(r, " | ")
		}
		slices.Sort(out)
		return out
	}
	w, g := join(want), join(got)
	if slices.Equal(w, g) {
		return ""
	}
	var b strings.Builder
	missing, extra := 0, 0
	for _, r := range w {
		if !slices.Contains(g, r) && missing < 10 {
			fmt.Fprintf(&b, "  missing:    %s\n", r)
			missing++
		}
	}
	for _, r := range g {
		if !slices.Contains(w, r) && extra < 10 {
			fmt.Fprintf(&b, "  unexpected: %s\n", r)
			extra++
		}
	}
	if missing+extra == 0 {
		b.WriteString("  same rows, different multiplicity\n")
	}
	return b.String()
}

// The PostgreSQL and MariaDB renderings of the mirrored tables. Each column is rendered as the
// same text on both sides: booleans as 1/0, temporal values in a fixed format (timestamptz in
// UTC, which the sink's default db.timezone writes into DATETIME), bytes as lower-case hex.
var customersMirror = mirrored{
	name:     "customers",
	pgSource: "public.customers",
	pg: `SELECT id::text, name, email, balance::text, CASE WHEN active THEN '1' ELSE '0' END,
		to_char(born, 'YYYY-MM-DD'), to_char(DATE '2000-01-01' + alarm, 'HH24:MI:SS.US'),
		to_char(seen_at, 'YYYY-MM-DD HH24:MI:SS.US'), to_char(changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'),
		score::text, level::text, big::text, tags::text, ref::text, encode(photo, 'hex')
		FROM customers`,
	my: "SELECT CAST(`id` AS CHAR), `name`, `email`, CAST(`balance` AS CHAR), CAST(`active` AS CHAR), " +
		"DATE_FORMAT(`born`, '%Y-%m-%d'), TIME_FORMAT(`alarm`, '%H:%i:%s.%f'), " +
		"DATE_FORMAT(`seen_at`, '%Y-%m-%d %H:%i:%s.%f'), DATE_FORMAT(`changed_at`, '%Y-%m-%d %H:%i:%s.%f'), " +
		"CAST(`score` AS CHAR), CAST(`level` AS CHAR), CAST(`big` AS CHAR), `tags`, `ref`, LOWER(HEX(`photo`)) " +
		"FROM `customers`",
}

var orderLinesMirror = mirrored{
	name:     "order_lines",
	pgSource: "public.order_lines",
	pg:       `SELECT order_id::text, line_no::text, sku, qty::text, price::text FROM order_lines`,
	my: "SELECT CAST(`order_id` AS CHAR), CAST(`line_no` AS CHAR), `sku`, CAST(`qty` AS CHAR), CAST(`price` AS CHAR) " +
		"FROM `order_lines`",
}

// insertCustomers adds customers from..to-1 with values derived from the number, every fifth
// with its nullable columns NULL.
func (e *pipelineEnv) insertCustomers(from, to int) {
	e.t.Helper()
	e.pgExec(`INSERT INTO customers (id, name, email, balance, active, born, alarm, seen_at, changed_at, score, level, big, tags, ref, photo)
		SELECT i, 'customer ' || i || ' ''quoted'' ü', CASE WHEN i % 5 = 0 THEN NULL ELSE 'c' || i || '@example.com' END,
			(i * 12.34)::numeric(12,2), i % 2 = 0,
			CASE WHEN i % 5 = 0 THEN NULL ELSE DATE '1970-01-01' + i * 97 END,
			CASE WHEN i % 5 = 0 THEN NULL ELSE TIME '00:00:00.000001' + i * INTERVAL '7 minutes 3.123457 seconds' END,
			CASE WHEN i % 5 = 0 THEN NULL ELSE TIMESTAMP '2024-02-29 23:59:59.999999' + i * INTERVAL '1 day 1.000001 seconds' END,
			CASE WHEN i % 5 = 0 THEN NULL ELSE TIMESTAMPTZ '2024-03-31 01:30:00.5+02' + i * INTERVAL '3 hours' END,
			CASE WHEN i % 5 = 0 THEN NULL ELSE i * 0.25 - 10 END,
			(i % 300 - 150)::smallint, i::bigint * 1000000007,
			CASE WHEN i % 5 = 0 THEN NULL ELSE jsonb_build_object('n', i, 'tags', jsonb_build_array('a', i % 3), 's', 'x"y') END,
			CASE WHEN i % 5 = 0 THEN NULL ELSE md5(i::text)::uuid END,
			CASE WHEN i % 5 = 0 THEN NULL ELSE decode(lpad(to_hex(i), 8, '0') || '00ff', 'hex') END
		FROM generate_series($1::int, $2::int - 1) AS i`, from, to)
}

func (e *pipelineEnv) insertOrderLines(fromOrder, toOrder int) {
	e.t.Helper()
	e.pgExec(`INSERT INTO order_lines (order_id, line_no, sku, qty, price)
		SELECT o, l, 'SKU-' || o || '-' || l, o * l, CASE WHEN l = 3 THEN NULL ELSE (o + l / 1000.0)::numeric(10,3) END
		FROM generate_series($1::int, $2::int - 1) AS o, generate_series(1, 3) AS l`, fromOrder, toOrder)
}

// TestPipelinePostgresCDCToMySQL runs PostgreSQL CDC → Kafka → JDBC sink → MariaDB in the real
// binary with no transform: the sinks apply the Debezium change events themselves. It goes
// through the snapshot, streamed inserts, updates (to and from NULL), deletes, primary key
// changes, a multi-statement transaction, a graceful restart and a kill -9 with changes made
// while the worker is down, and after each stage compares the complete row sets of both tables.
// customers goes through a Confluent configuration (exact topic, table.name.format), order_lines
// (a composite key) through a Debezium JDBC sink configuration (topics.regex,
// collection.name.format=${source.table}).
func TestPipelinePostgresCDCToMySQL(t *testing.T) {
	e := newPipelineEnv(t)
	testenv.DeleteTopicsAtCleanup(t, e.prefix+".")
	e.pgExec(`CREATE TABLE customers (
		id integer PRIMARY KEY,
		name text NOT NULL,
		email varchar(100),
		balance numeric(12,2) NOT NULL,
		active boolean NOT NULL,
		born date,
		alarm time(6),
		seen_at timestamp(6),
		changed_at timestamptz,
		score double precision,
		level smallint NOT NULL,
		big bigint NOT NULL,
		tags jsonb,
		ref uuid,
		photo bytea)`)
	e.pgExec(`CREATE TABLE order_lines (
		order_id integer NOT NULL,
		line_no smallint NOT NULL,
		sku varchar(40) NOT NULL,
		qty integer NOT NULL,
		price numeric(10,3),
		PRIMARY KEY (order_id, line_no))`)
	e.insertCustomers(1, 41)
	e.insertOrderLines(1, 21)

	dir := t.TempDir()
	src := e.sourceConfig("pg-source")
	w := workertest.Start(t, dir, pipelineWorkerProps(t, dir), src)
	customersTopic := e.prefix + ".public.customers"
	linesTopic := e.prefix + ".public.order_lines"
	waitTopics(t, w, customersTopic, linesTopic)

	myURL := "jdbc:mysql://" + e.myDSN.Addr + "/" + e.myDSN.DBName
	sinks := map[string]map[string]string{
		"mysql-customers": {
			"connector.class":     "io.confluent.connect.jdbc.JdbcSinkConnector",
			"topics":              customersTopic,
			"connection.url":      myURL,
			"connection.user":     e.myDSN.User,
			"connection.password": e.myDSN.Passwd,
			"table.name.format":   "customers",
			"insert.mode":         "upsert",
			"pk.mode":             "record_key",
			"delete.enabled":      "true",
			"auto.create":         "true",
		},
		"mysql-order-lines": {
			"connector.class":        "io.debezium.connector.jdbc.JdbcSinkConnector",
			"topics.regex":           regexp.QuoteMeta(e.prefix) + `\.public\.order_.*`,
			"connection.url":         myURL,
			"connection.username":    e.myDSN.User,
			"connection.password":    e.myDSN.Passwd,
			"collection.name.format": "${source.table}",
			"insert.mode":            "upsert",
			"primary.key.mode":       "record_key",
			"delete.enabled":         "true",
			"schema.evolution":       "basic",
		},
	}
	for name, cfg := range sinks {
		w.CreateConnector(name, cfg)
	}
	names := []string{"pg-source", "mysql-customers", "mysql-order-lines"}
	tables := []mirrored{customersMirror, orderLinesMirror}
	start := time.Now()
	e.waitConverged(w, "snapshot", tables, names...)
	t.Logf("snapshot mirrored in %v", time.Since(start).Round(time.Millisecond))

	// Streaming: inserts, updates to and from NULL, deletes, key changes, and one transaction
	// touching the same row several times.
	start = time.Now()
	e.insertCustomers(41, 71)
	e.pgExec(`UPDATE customers SET name = name || ' v2', balance = balance + 0.01, tags = '{"updated": true}' WHERE id % 3 = 0`)
	e.pgExec(`UPDATE customers SET email = NULL, born = NULL, photo = NULL WHERE id % 4 = 0`)
	e.pgExec(`UPDATE customers SET email = 'back' || id || '@example.com', score = 0.5, alarm = '23:59:59.999999' WHERE id % 5 = 0`)
	e.pgExec(`DELETE FROM customers WHERE id % 7 = 0`)
	e.pgExec(`UPDATE customers SET id = id + 5000 WHERE id IN (2, 11)`)
	e.pgExec(`BEGIN;
		INSERT INTO customers (id, name, balance, active, level, big) VALUES (500, 'in tx', 1, true, 1, 1);
		UPDATE customers SET name = 'in tx, updated' WHERE id = 500;
		DELETE FROM customers WHERE id = 3;
		INSERT INTO customers (id, name, balance, active, level, big) VALUES (3, 'reborn', 3, false, 3, 3);
		COMMIT`)
	e.insertOrderLines(21, 31)
	e.pgExec(`UPDATE order_lines SET qty = qty + 1, price = NULL WHERE line_no = 2`)
	e.pgExec(`DELETE FROM order_lines WHERE order_id % 4 = 0`)
	e.pgExec(`UPDATE order_lines SET line_no = 9 WHERE order_id = 5 AND line_no = 1`)
	e.waitConverged(w, "streaming", tables, names...)
	t.Logf("streamed changes mirrored in %v", time.Since(start).Round(time.Millisecond))

	if err := w.Stop(); err != nil {
		t.Fatalf("graceful stop: %v\n%s", err, w.Log())
	}
	e.pgExec(`UPDATE customers SET balance = balance * 2 WHERE id % 2 = 1`)
	e.pgExec(`DELETE FROM order_lines WHERE order_id = 6`)
	w.Restart()
	start = time.Now()
	e.waitConverged(w, "after a graceful restart", tables, names...)
	t.Logf("changes made while stopped mirrored %v after the restart", time.Since(start).Round(time.Millisecond))

	// kill -9 while changes are streaming, and more changes while the worker is down.
	e.insertCustomers(1000, 1300)
	e.pgExec(`UPDATE customers SET level = level + 1 WHERE id >= 1000`)
	w.Kill9()
	e.pgExec(`DELETE FROM customers WHERE id >= 1000 AND id % 3 = 0`)
	e.insertOrderLines(100, 150)
	w.Restart()
	start = time.Now()
	e.waitConverged(w, "after kill -9", tables, names...)
	t.Logf("mirrored %v after restarting from kill -9", time.Since(start).Round(time.Millisecond))
	if err := w.Stop(); err != nil {
		t.Errorf("graceful stop: %v\n%s", err, w.Log())
	}
}

// exampleDir is the walkthrough that TestExamplePostgresToMySQL runs.
const exampleDir = "../../examples/postgres-to-mysql"

// readmeBlocks returns the fenced code blocks of the example's README with the given info string.
func readmeBlocks(t *testing.T, lang string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(exampleDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile("(?ms)^```"+lang+"\n(.*?)^```").FindAllStringSubmatch(string(b), -1) {
		out = append(out, m[1])
	}
	return out
}

func parseProps(t *testing.T, name, text string) map[string]string {
	t.Helper()
	p, err := properties.Parse(strings.NewReader(text), name)
	if err != nil {
		t.Fatal(err)
	}
	return p.Map()
}

func exampleFile(t *testing.T, name string) map[string]string {
	t.Helper()
	p, err := properties.ParseFile(filepath.Join(exampleDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return p.Map()
}

// TestExamplePostgresToMySQL runs examples/postgres-to-mysql as its README tells: the three
// configuration files (only the addresses, credentials and names that must differ per test run
// replaced), the README's PostgreSQL statements in order, and the README's Debezium JDBC sink
// configuration next to the Confluent one. After each step both MariaDB tables must equal the
// PostgreSQL table, and the created table must have the column types the README names.
func TestExamplePostgresToMySQL(t *testing.T) {
	props := readmeBlocks(t, "properties")
	if len(props) != 4 {
		t.Fatalf("README has %d properties blocks, want 4 (worker, source, sink, Debezium sink)", len(props))
	}
	files := []string{"worker.properties", "source.properties", "sink.properties"}
	cfgs := make([]map[string]string, len(files))
	for i, f := range files {
		cfgs[i] = exampleFile(t, f)
		if readme := parseProps(t, "README.md", props[i]); !maps.Equal(readme, cfgs[i]) {
			t.Errorf("README shows %v for %s, but the file has %v", readme, f, cfgs[i])
		}
	}
	worker, source, sink := cfgs[0], cfgs[1], cfgs[2]
	dbzSink := parseProps(t, "README.md", props[3])
	sql := readmeBlocks(t, "sql")
	var pgSteps []string
	for _, s := range sql {
		if strings.HasPrefix(s, "-- PostgreSQL\n") {
			pgSteps = append(pgSteps, s)
		}
	}
	if len(pgSteps) != 3 {
		t.Fatalf("README has %d PostgreSQL blocks, want 3 (setup, changes, new column)", len(pgSteps))
	}

	e := newPipelineEnv(t)
	e.prefix = testenv.Topic(t, "ex") // short: the Debezium sink's table name is derived from it
	testenv.DeleteTopicsAtCleanup(t, e.prefix+".")
	dir := t.TempDir()
	wp := pipelineWorkerProps(t, dir)
	for _, k := range []string{"bootstrap.servers", "kconnect.embedded.broker.port", "listeners", "offset.storage.file.filename"} {
		if v, ok := wp[k]; ok {
			worker[k] = v
		}
	}
	if source["topic.prefix"] != "shop" || sink["topics"] != "shop.public.customers" || dbzSink["topics"] != sink["topics"] {
		t.Fatalf("the example no longer uses topic.prefix=shop and topic shop.public.customers; update this test")
	}
	test := e.sourceConfig(source["name"])
	for _, k := range []string{"database.hostname", "database.port", "database.user", "database.password", "database.dbname", "slot.name", "topic.prefix"} {
		source[k] = test[k]
	}
	source["database.sslmode"] = "disable"
	topic := e.prefix + ".public.customers"
	myURL := "jdbc:mysql://" + e.myDSN.Addr + "/" + e.myDSN.DBName
	sink["topics"], sink["connection.url"], sink["connection.user"], sink["connection.password"] = topic, myURL, e.myDSN.User, e.myDSN.Passwd
	dbzSink["topics"], dbzSink["connection.url"], dbzSink["connection.username"], dbzSink["connection.password"] = topic, myURL, e.myDSN.User, e.myDSN.Passwd
	dbzSink["name"] = "mysql-customers-dbz-sink"
	dbzTable := strings.ReplaceAll(topic, ".", "_") // Debezium's default table naming

	e.pgExec(pgSteps[0])
	w := workertest.Start(t, dir, worker, source, sink, dbzSink)
	names := []string{source["name"], sink["name"], dbzSink["name"]}
	mirrors := func(cols, myCols string) []mirrored {
		var out []mirrored
		for _, table := range []string{"customers", dbzTable} {
			out = append(out, mirrored{name: table, pgSource: "public.customers",
				pg: `SELECT id::text, name, email, balance::text,
					to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')` + cols + ` FROM customers`,
				my: "SELECT CAST(`id` AS CHAR), `name`, `email`, CAST(`balance` AS CHAR), " +
					"DATE_FORMAT(`created_at`, '%Y-%m-%d %H:%i:%s.%f')" + myCols + " FROM `" + table + "`"})
		}
		return out
	}
	e.waitConverged(w, "initial rows", mirrors("", ""), names...)

	// The column types the README says the sink creates.
	cols, err := e.textRows(false, "SELECT COLUMN_NAME, DATA_TYPE, CAST(NUMERIC_PRECISION AS CHAR), CAST(NUMERIC_SCALE AS CHAR), "+
		"CAST(DATETIME_PRECISION AS CHAR), IS_NULLABLE, COLUMN_KEY FROM information_schema.COLUMNS "+
		"WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'customers' ORDER BY ORDINAL_POSITION")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"id", "int", "10", "0", "NULL", "NO", "PRI"},
		{"name", "text", "NULL", "NULL", "NULL", "NO", ""},
		{"email", "text", "NULL", "NULL", "NULL", "NO", ""},
		{"balance", "decimal", "65", "2", "NULL", "NO", ""},
		{"created_at", "datetime", "NULL", "NULL", "6", "NO", ""},
	}
	if !slices.EqualFunc(cols, want, slices.Equal) {
		t.Errorf("created columns (name, type, precision, scale, datetime precision, nullable, key):\n got %q\nwant %q", cols, want)
	}

	e.pgExec(pgSteps[1])
	e.waitConverged(w, "README changes", mirrors("", ""), names...)
	e.pgExec(pgSteps[2])
	e.waitConverged(w, "README new column", mirrors(", city", ", `city`"), names...)

	offsets, err := e.textRows(false, "SELECT connector, kafka_topic, CAST(kafka_partition AS CHAR) FROM kconnect_offsets ORDER BY connector")
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]string{{dbzSink["name"], topic, "0"}, {sink["name"], topic, "0"}}; !slices.EqualFunc(offsets, want, slices.Equal) {
		t.Errorf("kconnect_offsets rows %q, want %q", offsets, want)
	}
	if err := w.Stop(); err != nil {
		t.Errorf("graceful stop: %v\n%s", err, w.Log())
	}
}
