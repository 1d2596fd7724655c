package sink

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connect/connecttest"
	"github.com/kconnect/kconnect/converters/jsonconverter"
	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
)

// ddlField is one value field of the DDL comparison records: its JSON converter schema and a
// value in the JSON converter's payload form.
type ddlField struct {
	name, schema, value string
}

// ddlValueFields cover every Connect type, Connect's logical types and the Debezium semantic types
// the sink knows, optional and required. Debezium cannot write two of them to MariaDB (ddlSkip).
var ddlValueFields = []ddlField{
	{"id", `{"type":"int32","optional":false}`, `1`},
	{"code", `{"type":"string","optional":false}`, `"k1"`},
	{"i8", `{"type":"int8","optional":true}`, `8`},
	{"i8_req", `{"type":"int8","optional":false}`, `8`},
	{"i16", `{"type":"int16","optional":true}`, `16`},
	{"i32", `{"type":"int32","optional":true}`, `32`},
	{"i64", `{"type":"int64","optional":true}`, `64`},
	{"i64_req", `{"type":"int64","optional":false}`, `64`},
	{"f32", `{"type":"float","optional":true}`, `1.5`},
	{"f64", `{"type":"double","optional":true}`, `2.5`},
	{"flag", `{"type":"boolean","optional":true}`, `true`},
	{"str", `{"type":"string","optional":true}`, `"text"`},
	{"str_req", `{"type":"string","optional":false}`, `"text"`},
	{"raw", `{"type":"bytes","optional":true}`, `"AQI="`},
	{"num", `{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"10"}}`, `"MDk="`},
	{"num_noprec", `{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"3"}}`, `"MDk="`},
	{"c_date", `{"type":"int32","optional":true,"name":"org.apache.kafka.connect.data.Date","version":1}`, `19000`},
	{"c_time", `{"type":"int32","optional":true,"name":"org.apache.kafka.connect.data.Time","version":1}`, `3723004`},
	{"c_ts", `{"type":"int64","optional":true,"name":"org.apache.kafka.connect.data.Timestamp","version":1}`, `1700000000123`},
	{"dbz_date", `{"type":"int32","optional":true,"name":"io.debezium.time.Date","version":1}`, `19000`},
	{"dbz_time", `{"type":"int32","optional":true,"name":"io.debezium.time.Time","version":1}`, `3723004`},
	{"dbz_micro_time", `{"type":"int64","optional":true,"name":"io.debezium.time.MicroTime","version":1}`, `3723004005`},
	{"dbz_nano_time", `{"type":"int64","optional":true,"name":"io.debezium.time.NanoTime","version":1}`, `3723004005600`},
	{"dbz_ts", `{"type":"int64","optional":true,"name":"io.debezium.time.Timestamp","version":1}`, `1700000000123`},
	{"dbz_micro_ts", `{"type":"int64","optional":true,"name":"io.debezium.time.MicroTimestamp","version":1}`, `1700000000123456`},
	{"dbz_nano_ts", `{"type":"int64","optional":true,"name":"io.debezium.time.NanoTimestamp","version":1}`, `1700000000123456789`},
	{"zoned_ts", `{"type":"string","optional":true,"name":"io.debezium.time.ZonedTimestamp","version":1}`, `"2023-11-14T22:13:20.123456789Z"`},
	{"zoned_time", `{"type":"string","optional":true,"name":"io.debezium.time.ZonedTime","version":1}`, `"10:15:30.123456Z"`},
	{"doc", `{"type":"string","optional":true,"name":"io.debezium.data.Json","version":1}`, `"{\"a\":1}"`},
	{"uid", `{"type":"string","optional":true,"name":"io.debezium.data.Uuid","version":1}`, `"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"`},
	{"yr", `{"type":"int32","optional":true,"name":"io.debezium.time.Year","version":1}`, `2024`},
	{"dur", `{"type":"int64","optional":true,"name":"io.debezium.time.MicroDuration","version":1}`, `90061000001`},
	{"bits", `{"type":"bytes","optional":true,"name":"io.debezium.data.Bits","version":1,"parameters":{"length":"10"}}`, `"BQI="`},
	{"vdec", `{"type":"struct","optional":true,"name":"io.debezium.data.VariableScaleDecimal","version":1,"fields":[{"field":"scale","type":"int32","optional":false},{"field":"value","type":"bytes","optional":false}]}`, `{"scale":3,"value":"/tg="}`},
	{"m", `{"type":"map","optional":true,"keys":{"type":"string","optional":false},"values":{"type":"string","optional":true}}`, `{"a b":"v","c":"w"}`},
	{"xml", `{"type":"string","optional":true,"name":"io.debezium.data.Xml","version":1}`, `"<a/>"`},
	{"en", `{"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"x,y"}}`, `"x"`},
	{"iso_ts", `{"type":"string","optional":true,"name":"io.debezium.time.IsoTimestamp","version":1}`, `"2023-11-14T22:13:20Z"`},
}

// ddlSkip lists, per database, the fields Debezium's JDBC sink cannot write, so that it fails the
// whole table, on MariaDB: it types ZonedTime "time(6) with time zone", which MariaDB lacks
// (kconnect keeps the text in LONGTEXT), and it writes a map with "cast(? as json)", which MariaDB
// rejects (kconnect writes the JSON object into the JSON column both create).
var ddlSkip = map[string][]string{"mysql": {"zoned_time", "m"}}

// ddlFieldsFor returns fields without those Debezium cannot create on a database.
func ddlFieldsFor(kind string, fields []ddlField) []ddlField {
	return slices.DeleteFunc(slices.Clone(fields), func(f ddlField) bool { return slices.Contains(ddlSkip[kind], f.name) })
}

// ddlArrayFields are PostgreSQL's extra: MySQL has no array columns.
var ddlArrayFields = []ddlField{
	{"id", `{"type":"int32","optional":false}`, `1`},
	{"code", `{"type":"string","optional":false}`, `"k1"`},
	{"a_i16", `{"type":"array","optional":true,"items":{"type":"int16","optional":false}}`, `[1,2]`},
	{"a_i32", `{"type":"array","optional":true,"items":{"type":"int32","optional":false}}`, `[1,2]`},
	{"a_i64", `{"type":"array","optional":true,"items":{"type":"int64","optional":false}}`, `[1,2]`},
	{"a_f32", `{"type":"array","optional":true,"items":{"type":"float","optional":false}}`, `[1.5]`},
	{"a_f64", `{"type":"array","optional":true,"items":{"type":"double","optional":false}}`, `[1.5]`},
	{"a_bool", `{"type":"array","optional":true,"items":{"type":"boolean","optional":false}}`, `[true]`},
	{"a_str", `{"type":"array","optional":true,"items":{"type":"string","optional":false}}`, `["x"]`},
}

// ddlKey is the key of every comparison record: an int and a string, so that both kinds of key
// column are covered.
const ddlKey = `{"schema":{"type":"struct","name":"ddl.Key","optional":false,"fields":[` +
	`{"field":"id","type":"int32","optional":false},{"field":"code","type":"string","optional":false}]},` +
	`"payload":{"id":1,"code":"k1"}}`

// ddlValue renders fields as a JSON converter message with its schema.
func ddlValue(fields []ddlField) string {
	var schema, payload []string
	for _, f := range fields {
		schema = append(schema, `{"field":"`+f.name+`",`+strings.TrimPrefix(f.schema, "{"))
		payload = append(payload, `"`+f.name+`":`+f.value)
	}
	return `{"schema":{"type":"struct","name":"ddl.Value","optional":false,"fields":[` + strings.Join(schema, ",") +
		`]},"payload":{` + strings.Join(payload, ",") + `}}`
}

// ddlLog4j keeps Kafka Connect's output to warnings, which a failure message shows, and Debezium's
// DDL statements.
const ddlLog4j = `appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = %d{HH:mm:ss.SSS} %-5p %c{1} - %m%n
rootLogger.level = warn
rootLogger.appenderRef.out.ref = out
logger.dbz.name = io.debezium.connector.jdbc
logger.dbz.level = debug
`

// debeziumJDBCPlugins returns the plugin.path holding Debezium's JDBC sink, which
// scripts/javaclients.sh fetches next to Kafka's jars; missing, the test is skipped, or fails
// under CI=true, like a missing service.
func debeziumJDBCPlugins(t *testing.T, classpath string) string {
	t.Helper()
	dir := filepath.Join(filepath.Dir(filepath.Dir(classpath)), "plugins")
	if _, err := os.Stat(filepath.Join(dir, "debezium-connector-jdbc", ".complete")); err != nil {
		msg := "Debezium's JDBC sink is missing from " + dir + "; run scripts/javaclients.sh"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dir
}

// TestAutoCreateMatchesDebeziumJDBCSink runs Debezium's own JDBC sink (Maven Central jars in
// Apache Kafka Connect's standalone worker, against the real broker) and kconnect's sink
// configured with Debezium's class name on the same records, one table each, and compares every
// auto-created column's type and nullability as the database reports them: PostgreSQL through
// format_type, MariaDB through information_schema, the latter both through the MariaDB and the
// MySQL JDBC URL (Debezium then picks its MariaDB or MySQL dialect).
func TestAutoCreateMatchesDebeziumJDBCSink(t *testing.T) {
	classpath := testenv.JavaClients(t)
	plugins := debeziumJDBCPlugins(t, classpath)
	brokers := testenv.Require(t, "KCONNECT_TEST_KAFKA")
	pg, my := newPostgresDB(t), newMySQLDB(t)

	pgTopic, myTopic, arrayTopic := testenv.Topic(t, "ddl-pg"), testenv.Topic(t, "ddl-my"), testenv.Topic(t, "ddl-array")
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	t.Cleanup(func() { _, _ = kadm.NewClient(cl).DeleteTopics(context.Background(), pgTopic, myTopic, arrayTopic) })
	pgValue, myValue := ddlValue(ddlFieldsFor("postgres", ddlValueFields)), ddlValue(ddlFieldsFor("mysql", ddlValueFields))
	arrayValue := ddlValue(ddlArrayFields)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx,
		&kgo.Record{Topic: pgTopic, Key: []byte(ddlKey), Value: []byte(pgValue)},
		&kgo.Record{Topic: myTopic, Key: []byte(ddlKey), Value: []byte(myValue)},
		&kgo.Record{Topic: arrayTopic, Key: []byte(ddlKey), Value: []byte(arrayValue)},
	).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}

	// Debezium's sink types a map as HSTORE on PostgreSQL, an extension the database must have.
	pg.exec(t, "CREATE EXTENSION hstore")
	pgURL, err := url.Parse(pg.url)
	if err != nil {
		t.Fatal(err)
	}
	pgPass, _ := pgURL.User.Password()
	myCfg, err := mysql.ParseDSN(my.url)
	if err != nil {
		t.Fatal(err)
	}
	dbz := func(name, jdbcURL, user, password, table string, topics ...string) map[string]string {
		return map[string]string{
			"name": name, "connector.class": debeziumClass, "tasks.max": "1",
			"topics": strings.Join(topics, ","), "connection.url": jdbcURL,
			"connection.username": user, "connection.password": password,
			"insert.mode": "upsert", "primary.key.mode": "record_key", "schema.evolution": "basic",
			"collection.name.format": table,
		}
	}
	pgJDBC := "jdbc:postgresql://" + pgURL.Host + pgURL.Path
	myJDBC := "jdbc:mariadb://" + myCfg.Addr + "/" + myCfg.DBName
	// One worker per database: Debezium's dialects share type registrations within a JVM, so a
	// MariaDB connector next to a PostgreSQL one changes the types the latter creates.
	pgWorker := startDebeziumWorker(t, classpath, plugins, brokers, "pg",
		dbz("dbz-pg-main", pgJDBC, pgURL.User.Username(), pgPass, "dbz_main", pgTopic),
		dbz("dbz-pg-array", pgJDBC, pgURL.User.Username(), pgPass, "dbz_array", arrayTopic))
	myWorker := startDebeziumWorker(t, classpath, plugins, brokers, "mariadb",
		dbz("dbz-mariadb", myJDBC, myCfg.User, myCfg.Passwd, "dbz_main", myTopic))

	// kconnect's sink gets the same bytes through its JSON converter.
	conv := jsonconverter.New()
	if err := conv.Configure(map[string]string{}, false); err != nil {
		t.Fatal(err)
	}
	rb := newRecords()
	kconnect := func(db *testDB, topic, value, table string) {
		ks, k, err := conv.ToConnectData(topic, []byte(ddlKey))
		if err != nil {
			t.Fatal(err)
		}
		vs, v, err := conv.ToConnectData(topic, []byte(value))
		if err != nil {
			t.Fatal(err)
		}
		task, _ := startTask(t, table, db.props("connector.class", debeziumClass,
			"insert.mode", "upsert", "primary.key.mode", "record_key", "schema.evolution", "basic",
			"collection.name.format", table))
		put(t, task, rb.rec(topic, 0, ks, k, vs, v))
	}
	kconnect(pg, pgTopic, pgValue, "kc_main")
	kconnect(pg, arrayTopic, arrayValue, "kc_array")
	kconnect(my, myTopic, myValue, "kc_main")

	pgWorker.waitForRow(t, pg, "dbz-pg-main", "dbz_main")
	pgWorker.waitForRow(t, pg, "dbz-pg-array", "dbz_array")
	myWorker.waitForRow(t, my, "dbz-mariadb", "dbz_main")

	compare := func(t *testing.T, db *testDB, dbzTable, kcTable string) {
		want, got := db.columnTypes(t, dbzTable), db.columnTypes(t, kcTable)
		if len(want) == 0 {
			t.Fatalf("no columns read for %s", dbzTable)
		}
		names := slices.Sorted(maps.Keys(want))
		for _, n := range names {
			if got[n] != want[n] {
				t.Errorf("column %s: kconnect %q, Debezium %q", n, got[n], want[n])
			}
		}
		// The same record must also read back the same from both tables.
		sel := make([]string, len(names))
		for i, n := range names {
			sel[i] = db.text(n)
		}
		wantRow := db.rows(t, "SELECT "+strings.Join(sel, ", ")+" FROM "+db.q(dbzTable))
		gotRow := db.rows(t, "SELECT "+strings.Join(sel, ", ")+" FROM "+db.q(kcTable))
		if len(wantRow) == 1 && len(gotRow) == 1 {
			for i, n := range names {
				if gotRow[0][i] != wantRow[0][i] {
					t.Errorf("column %s reads %q from kconnect's table, %q from Debezium's", n, gotRow[0][i], wantRow[0][i])
				}
			}
		} else {
			t.Errorf("rows: kconnect %v, Debezium %v", gotRow, wantRow)
		}
		for n := range got {
			if _, ok := want[n]; !ok {
				t.Errorf("column %s: kconnect created it, Debezium did not", n)
			}
		}
		if g, w := db.primaryKey(t, kcTable), db.primaryKey(t, dbzTable); !slices.Equal(g, w) {
			t.Errorf("primary key: kconnect %v, Debezium %v", g, w)
		}
	}
	t.Run("postgres", func(t *testing.T) {
		pg.exec(t, "SET TIME ZONE 'UTC'")
		compare(t, pg, "dbz_main", "kc_main")
		compare(t, pg, "dbz_array", "kc_array")
	})
	t.Run("mariadb", func(t *testing.T) { compare(t, my, "dbz_main", "kc_main") })
}

// debeziumWorker is an Apache Kafka Connect standalone worker running Debezium's JDBC sink.
type debeziumWorker struct {
	java     *testenv.JavaProcess
	rest     string
	deadline time.Time
}

// startDebeziumWorker starts a standalone worker with the given connectors (no wait).
func startDebeziumWorker(t *testing.T, classpath, plugins, brokers, name string, connectors ...map[string]string) *debeziumWorker {
	t.Helper()
	dir := t.TempDir()
	w := &debeziumWorker{rest: fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t)), deadline: time.Now().Add(3 * time.Minute)}
	worker := map[string]string{
		"bootstrap.servers":            brokers,
		"key.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"value.converter":              "org.apache.kafka.connect.json.JsonConverter",
		"offset.storage.file.filename": filepath.Join(dir, "connect.offsets"),
		"plugin.path":                  plugins,
		"listeners":                    w.rest,
		// Debezium's jars declare their plugins; scanning every class would only slow the start.
		"plugin.discovery": "service_load",
	}
	log4j := filepath.Join(dir, "log4j2.properties")
	if err := os.WriteFile(log4j, []byte(ddlLog4j), 0o644); err != nil {
		t.Fatal(err)
	}
	// The client compiler alone starts the worker faster on a small machine; it runs one record.
	args := []string{"-XX:TieredStopAtLevel=1", "-Dlog4j2.configurationFile=" + log4j, "org.apache.kafka.connect.cli.ConnectStandalone",
		workertest.WriteProperties(t, dir, "worker.properties", worker)}
	for _, c := range connectors {
		args = append(args, workertest.WriteProperties(t, dir, c["name"]+".properties", c))
	}
	w.java = testenv.StartJava(t, classpath, args...)
	return w
}

// waitForRow waits until the connector has created table and written its one row, failing the
// test when the connector's task fails or the worker exits first.
func (w *debeziumWorker) waitForRow(t *testing.T, db *testDB, connector, table string) {
	t.Helper()
	for !(db.exists(t, table) && db.count(t, table) == 1) {
		select {
		case <-w.java.Exited():
			t.Fatalf("Kafka Connect exited: %v\n%s", w.java.Err(), w.java.Output())
		default:
		}
		if trace := failedTask(w.rest, connector); trace != "" {
			t.Fatalf("Debezium's %s failed: %s\n%s", connector, trace, w.java.Output())
		}
		if time.Now().After(w.deadline) {
			t.Fatalf("Debezium's JDBC sink did not write %s within 3 minutes\n%s", table, w.java.Output())
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// failedTask returns the trace of a failed task of a connector on a Kafka Connect worker's REST
// API, "" while none has failed (or the worker does not answer yet).
func failedTask(rest, connector string) string {
	resp, err := http.Get(rest + "/connectors/" + connector + "/status")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var status struct {
		Tasks []struct {
			State string `json:"state"`
			Trace string `json:"trace"`
		} `json:"tasks"`
	}
	if json.NewDecoder(resp.Body).Decode(&status) != nil {
		return ""
	}
	for _, task := range status.Tasks {
		if task.State == "FAILED" {
			return task.Trace
		}
	}
	return ""
}

// TestZonedTimestampColumnKeepsInstant checks the TIMESTAMP column Debezium's class creates for a
// ZonedTimestamp on MariaDB: the server reads a TIMESTAMP's wall clock in the session's time
// zone, so the sink's session must use db.timezone, the zone whose wall clock it writes.
func TestZonedTimestampColumnKeepsInstant(t *testing.T) {
	db := newMySQLDB(t)
	s := connect.StructBuilder().Field("id", connect.Int32Schema).
		Field("zts", connect.NewSchemaBuilder(connect.TypeString).Name(dbzZonedTimestamp).Optional().MustBuild()).MustBuild()
	for _, zone := range []string{"UTC", "America/New_York", "Asia/Kolkata"} {
		table := "z_" + strings.ToLower(strings.NewReplacer("/", "_").Replace(zone))
		task, _ := startTask(t, table, db.props("connector.class", debeziumClass, "database.time_zone", zone,
			"schema.evolution", "basic", "collection.name.format", table))
		rb := newRecords()
		put(t, task, rb.rec("z", 0, nil, nil, s, mustStruct(t, s, "id", int32(1), "zts", "2024-01-15T12:00:00.25+01:00")))
		if typ := db.columnTypes(t, table)["zts"]; typ != "timestamp(6) null" {
			t.Errorf("%s: zts is %s, want timestamp(6) null", zone, typ)
		}
		// UNIX_TIMESTAMP reads the stored instant, whatever this session's time zone.
		wantRows(t, db.rows(t, "SELECT CAST(UNIX_TIMESTAMP(zts) AS CHAR) FROM "+db.q(table)), []string{"1705316400.250000"})
	}
}

// TestMapColumns checks maps under Debezium's class beyond what the comparison can show: keys
// with quotes and backslashes and null values survive (Debezium's own sink writes a null as the
// text "null" and drops backslashes), and Confluent's class rejects maps as its sink does.
func TestMapColumns(t *testing.T) {
	s := connect.StructBuilder().Field("id", connect.Int32Schema).
		Field("m", connect.MapBuilder(connect.StringSchema, connect.OptionalStringSchema).Optional().MustBuild()).MustBuild()
	value := map[string]any{`q"b\s`: "v", "n": nil}
	eachDB(t, func(t *testing.T, db *testDB) {
		if db.kind == "postgres" {
			db.exec(t, "CREATE EXTENSION hstore")
		}
		rb := newRecords()
		task, _ := startTask(t, t.Name(), db.props("connector.class", debeziumClass, "schema.evolution", "basic", "collection.name.format", "maps"))
		put(t, task, rb.rec("m", 0, nil, nil, s, mustStruct(t, s, "id", int32(1), "m", value)))
		query := map[string]string{
			"postgres": `SELECT (m -> 'q"b\s'), coalesce(m -> 'n', 'SQL NULL'), (m ? 'n')::text FROM maps`,
			"mysql":    `SELECT JSON_UNQUOTE(JSON_EXTRACT(m, '$."q\\"b\\\\s"')), JSON_TYPE(JSON_EXTRACT(m, '$.n')), 'true' FROM maps`,
		}[db.kind]
		want := map[string][]string{"postgres": {"v", "SQL NULL", "true"}, "mysql": {"v", "NULL", "true"}}[db.kind]
		wantRows(t, db.rows(t, query), want)

		confluent := &Task{}
		ctx := connecttest.New(t)
		if err := confluent.Start(ctx, db.props("auto.create", "true", "table.name.format", "maps_c")); err != nil {
			t.Fatal(err)
		}
		defer confluent.Stop()
		err := deliver(context.Background(), confluent, []connect.SinkRecord{rb.rec("m", 0, nil, nil, s, mustStruct(t, s, "id", int32(1), "m", value))})
		wantErrContains(t, err, "column m", "map values cannot be written to a column")
	})
}
