package postgres_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kconnect/kconnect/internal/properties"
	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
)

// avroExampleDir is the walkthrough whose worker configuration TestPipelinePostgresCDCToMySQLWithAvro runs.
const avroExampleDir = "../../examples/postgres-to-mysql-avro"

// TestPipelinePostgresCDCToMySQLWithAvro runs the CDC → Kafka → JDBC sink pipeline with
// Confluent's AvroConverter for keys and values against a real schema registry, configured as
// examples/postgres-to-mysql-avro's worker (with the test registry's URL): Debezium's envelopes,
// decimals, temporal types, JSON, UUIDs and bytes go through Avro and the registry, and a column
// added to the table registers a new schema version that the sink follows.
func TestPipelinePostgresCDCToMySQLWithAvro(t *testing.T) {
	registry := testenv.SchemaRegistry(t)
	example, err := properties.ParseFile(filepath.Join(avroExampleDir, "worker.properties"))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(avroExampleDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?ms)^```properties\n(.*?)^```").FindSubmatch(readme)
	if block == nil || !maps.Equal(parseProps(t, "README.md", string(block[1])), example.Map()) {
		t.Fatalf("the README's worker configuration differs from worker.properties")
	}
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
	e.insertCustomers(1, 31)

	dir := t.TempDir()
	props := workertest.WorkerProps(t, dir)
	for k, v := range example.Map() {
		if strings.HasPrefix(k, "key.converter") || strings.HasPrefix(k, "value.converter") {
			props[k] = v
		}
	}
	for _, side := range []string{"key", "value"} {
		if props[side+".converter"] != "io.confluent.connect.avro.AvroConverter" {
			t.Fatalf("the example's %s.converter is %q", side, props[side+".converter"])
		}
		props[side+".converter.schema.registry.url"] = registry
	}
	w := workertest.Start(t, dir, props, e.sourceConfig("pg-source"))
	topic := e.prefix + ".public.customers"
	waitTopics(t, w, topic)
	myURL := "jdbc:mysql://" + e.myDSN.Addr + "/" + e.myDSN.DBName
	sink := map[string]string{
		"connector.class":     "io.confluent.connect.jdbc.JdbcSinkConnector",
		"topics":              topic,
		"connection.url":      myURL,
		"connection.user":     e.myDSN.User,
		"connection.password": e.myDSN.Passwd,
		"table.name.format":   "customers",
		"insert.mode":         "upsert",
		"pk.mode":             "record_key",
		"delete.enabled":      "true",
		"auto.create":         "true",
		"auto.evolve":         "true",
	}
	w.CreateConnector("mysql-customers", sink)
	names := []string{"pg-source", "mysql-customers"}
	tables := []mirrored{customersMirror}
	e.waitConverged(w, "snapshot", tables, names...)

	e.insertCustomers(31, 51)
	e.pgExec(`UPDATE customers SET name = name || ' v2', balance = balance + 0.01, tags = '{"updated": true}' WHERE id % 3 = 0`)
	e.pgExec(`UPDATE customers SET email = NULL, born = NULL, photo = NULL WHERE id % 4 = 0`)
	e.pgExec(`DELETE FROM customers WHERE id % 7 = 0`)
	e.waitConverged(w, "streaming", tables, names...)

	// A new nullable column: the source's next events carry a schema the registry must accept as
	// a new version, and the sink adds the column.
	e.pgExec(`ALTER TABLE customers ADD COLUMN nickname text`)
	e.pgExec(`UPDATE customers SET nickname = 'nick ' || id WHERE id % 2 = 0`)
	e.insertCustomers(51, 56)
	withNickname := customersMirror
	withNickname.pg = strings.Replace(withNickname.pg, "FROM customers", ", nickname FROM customers", 1)
	withNickname.my = strings.Replace(withNickname.my, "FROM `customers`", ", `nickname` FROM `customers`", 1)
	e.waitConverged(w, "after adding a column", []mirrored{withNickname}, names...)

	var versions []int
	resp, err := http.Get(registry + "/subjects/" + url.PathEscape(topic+"-value") + "/versions")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&versions); err != nil {
		t.Fatal(err)
	}
	if len(versions) < 2 {
		t.Errorf("subject %s-value has versions %v; adding a column should have registered a second", topic, versions)
	}
	if err := w.Stop(); err != nil {
		t.Errorf("graceful stop: %v\n%s", err, w.Log())
	}
}
