package sink

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connectors/jdbc/jdbcurl"
	"github.com/kconnect/kconnect/internal/properties"
)

const pgURL = "jdbc:postgresql://db.example:5432/shop"

// TestConfigDefaults checks the defaults against Confluent's documented JdbcSinkConfig defaults.
func TestConfigDefaults(t *testing.T) {
	def := configDef()
	want := map[string]any{
		"connection.user": nil, "connection.password": nil, "dialect.name": "", "connection.attempts": 3,
		"connection.backoff.ms": int64(10000), "insert.mode": "insert", "batch.size": 3000, "delete.enabled": false,
		"table.types": []string{"TABLE"}, "table.name.format": "${topic}", "pk.mode": "none", "pk.fields": []string{},
		"fields.whitelist": []string{}, "db.timezone": "UTC", "auto.create": false, "auto.evolve": false,
		"quote.sql.identifiers": "always", "max.retries": 10, "retry.backoff.ms": 3000,
	}
	for name, w := range want {
		k, ok := def.Key(name)
		if !ok {
			t.Errorf("key %s is not defined", name)
			continue
		}
		if !connect.ValuesEqual(normalizeList(k.Default), normalizeList(w)) {
			t.Errorf("%s default = %#v, want %#v", name, k.Default, w)
		}
	}
	if k, _ := def.Key("connection.url"); !k.Required {
		t.Error("connection.url must be required")
	}
	for _, k := range def.Keys() {
		if k.Doc == "" {
			t.Errorf("key %s has no documentation", k.Name)
		}
		if k.Name == "topics" || k.Name == "topics.regex" {
			t.Errorf("runtime key %s must not be redefined", k.Name)
		}
	}

	c, err := parseConfig(map[string]string{"connection.url": pgURL})
	if err != nil {
		t.Fatal(err)
	}
	if c.insertMode != modeInsert || c.pkMode != pkNone || c.batchSize != 3000 || c.maxRetries != 10 ||
		c.retryBackoff != 3*time.Second || c.connectionAttempts != 3 || c.connectionBackoff != 10*time.Second ||
		!c.quoteIdents || c.zone != time.UTC || !c.tableTypes["TABLE"] || len(c.tableTypes) != 1 ||
		c.autoCreate || c.autoEvolve || c.deleteEnabled || !c.offsetsEnabled || c.offsetsTable != "kconnect_offsets" || c.debezium {
		t.Errorf("parsed defaults: %+v", c)
	}
	if c.conn.Dialect != jdbcurl.PostgreSQL || c.conn.Database != "shop" {
		t.Errorf("connection %+v", c.conn)
	}
}

func normalizeList(v any) any {
	if l, ok := v.([]string); ok {
		out := make([]any, len(l))
		for i, s := range l {
			out[i] = s
		}
		return out
	}
	return v
}

// TestConfigInvalidCombinations checks the rules upstream enforces across keys (and the ones it
// leaves to a runtime failure, which we catch up front), each reported on the right key.
func TestConfigInvalidCombinations(t *testing.T) {
	cases := []struct {
		name  string
		props map[string]string
		key   string
		msg   string
	}{
		{"delete needs record_key", map[string]string{"delete.enabled": "true", "pk.mode": "record_value"}, "delete.enabled", "record_key"},
		{"delete needs record_key (default none)", map[string]string{"delete.enabled": "true"}, "delete.enabled", "record_key"},
		{"upsert needs a key", map[string]string{"insert.mode": "upsert"}, "insert.mode", "pk.mode=none"},
		{"update needs a key", map[string]string{"insert.mode": "update"}, "insert.mode", "pk.mode=none"},
		{"kafka needs 0 or 3 fields", map[string]string{"pk.mode": "kafka", "pk.fields": "a,b"}, "pk.fields", "exactly three"},
		{"unknown insert mode", map[string]string{"insert.mode": "merge"}, "insert.mode", "merge"},
		{"unknown pk mode", map[string]string{"pk.mode": "header"}, "pk.mode", "header"},
		{"bad time zone", map[string]string{"db.timezone": "Mars/Olympus"}, "db.timezone", "Mars/Olympus"},
		{"bad url", map[string]string{"connection.url": "jdbc:oracle:thin:@h:1521:x"}, "connection.url", "unsupported database"},
		{"dialect mismatch", map[string]string{"dialect.name": "MySqlDatabaseDialect"}, "dialect.name", "postgresql"},
		{"negative batch", map[string]string{"batch.size": "-1"}, "batch.size", "at least 0"},
		{"table types", map[string]string{"table.types": "TABLE,SYNONYM"}, "table.types", "SYNONYM"},
		{"offsets table", map[string]string{"kconnect.offsets.table": "a.b.c"}, "kconnect.offsets.table", "schema.table"},
		{"debezium record_header", map[string]string{"primary.key.mode": "record_header"}, "primary.key.mode", "record_header"},
		{"debezium delete", map[string]string{"connector.class": debeziumClass, "delete.enabled": "true", "primary.key.mode": "kafka"}, "delete.enabled", "record_key"},
		{"conflicting twins", map[string]string{"pk.mode": "kafka", "primary.key.mode": "record_key"}, "primary.key.mode", "conflicts with pk.mode=kafka"},
		{"include and exclude", map[string]string{"field.include.list": "a", "field.exclude.list": "b"}, "field.exclude.list", "cannot both"},
		{"bad regex", map[string]string{"field.include.list": "a("}, "field.include.list", "a("},
		{"custom naming strategy", map[string]string{"collection.naming.strategy": "com.acme.Naming"}, "collection.naming.strategy", "com.acme.Naming"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			props := map[string]string{"connection.url": pgURL}
			for k, v := range tc.props {
				props[k] = v
			}
			_, err := parseConfig(props)
			var ce *connect.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a ConfigError", err)
			}
			for _, e := range ce.Errs {
				var fe *connect.FieldError
				if errors.As(e, &fe) && fe.Name == tc.key && strings.Contains(fe.Msg, tc.msg) {
					return
				}
			}
			t.Fatalf("no error on %s containing %q in %v", tc.key, tc.msg, err)
		})
	}
}

// TestConfigValidCombinations checks that every insert.mode × pk.mode upstream accepts parses.
func TestConfigValidCombinations(t *testing.T) {
	for _, mode := range []string{"insert", "upsert", "update"} {
		for _, pk := range []string{"none", "kafka", "record_key", "record_value"} {
			if pk == "none" && mode != "insert" {
				continue
			}
			for _, del := range []string{"false", "true"} {
				if del == "true" && pk != "record_key" {
					continue
				}
				props := map[string]string{"connection.url": pgURL, "insert.mode": mode, "pk.mode": pk, "delete.enabled": del}
				if _, err := parseConfig(props); err != nil {
					t.Errorf("%v: %v", props, err)
				}
			}
		}
	}
}

// TestDebeziumKeys checks that Debezium's JDBC sink keys map onto the same settings, and that a
// Debezium config gets Debezium's defaults where they differ from Confluent's.
func TestDebeziumKeys(t *testing.T) {
	c, err := parseConfig(map[string]string{
		"connector.class":        debeziumClass,
		"connection.url":         "jdbc:mysql://db.example:3306/dw",
		"connection.username":    "sinker",
		"connection.password":    "s3cret",
		"primary.key.mode":       "record_key",
		"primary.key.fields":     "id,region",
		"schema.evolution":       "basic",
		"collection.name.format": "dw_${topic}",
		"use.time.zone":          "+02:00",
		"insert.mode":            "upsert",
		"delete.enabled":         "true",
		"field.exclude.list":     "orders:secret",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !c.debezium || c.pkMode != pkRecordKey || strings.Join(c.pkFields, ",") != "id,region" || !c.autoCreate ||
		!c.autoEvolve || c.tableNameFormat != "dw_${topic}" || c.insertMode != modeUpsert || !c.deleteEnabled {
		t.Errorf("mapped config %+v", c)
	}
	if _, off := time.Date(2024, 1, 1, 0, 0, 0, 0, c.zone).Zone(); off != 7200 {
		t.Errorf("use.time.zone +02:00 gave offset %d", off)
	}
	if !strings.Contains(c.conn.DSN, "sinker:s3cret@tcp(db.example:3306)/dw") {
		t.Errorf("connection.username not used: %s", c.conn.DSN)
	}
	// Debezium's defaults: batch.size 500, flush.max.retries 5, flush.retry.delay.ms 1000,
	// quote.identifiers false.
	if c.batchSize != 500 || c.maxRetries != 5 || c.retryBackoff != time.Second || c.quoteIdents {
		t.Errorf("Debezium defaults: batch %d retries %d backoff %v quote %v", c.batchSize, c.maxRetries, c.retryBackoff, c.quoteIdents)
	}
	if c.keepField("orders", "secret") || !c.keepField("orders", "name") || !c.keepField("other", "secret") {
		t.Error("field.exclude.list is not matched against topic:field")
	}

	c, err = parseConfig(map[string]string{
		"connector.class": debeziumClass, "connection.url": pgURL,
		"flush.max.retries": "7", "flush.retry.delay.ms": "25", "quote.identifiers": "true", "database.time_zone": "Z",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.maxRetries != 7 || c.retryBackoff != 25*time.Millisecond || !c.quoteIdents || c.zone != time.UTC {
		t.Errorf("Debezium retry/quote keys: %+v", c)
	}
	// The same value under both spellings is fine.
	if _, err := parseConfig(map[string]string{"connection.url": pgURL, "pk.mode": "record_key", "primary.key.mode": "RECORD_KEY"}); err != nil {
		t.Errorf("agreeing twins rejected: %v", err)
	}
}

func TestParseZone(t *testing.T) {
	for in, want := range map[string]int{"UTC": 0, "Z": 0, "+02:00": 7200, "-0530": -19800, "UTC+2": 7200, "GMT-03:30": -12600, "+05": 18000} {
		loc, err := parseZone(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if _, off := time.Date(2024, 1, 1, 0, 0, 0, 0, loc).Zone(); off != want {
			t.Errorf("%s: offset %d, want %d", in, off, want)
		}
	}
	if loc, err := parseZone("America/New_York"); err != nil || loc.String() != "America/New_York" {
		t.Errorf("IANA zone: %v %v", loc, err)
	}
	for _, bad := range []string{"+25:00", "+02:60", "Nowhere/City", "+2:3"} {
		if _, err := parseZone(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestPlugins(t *testing.T) {
	reg, err := connect.NewRegistry(Plugins()...)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"io.confluent.connect.jdbc.JdbcSinkConnector", "JdbcSinkConnector", "io.debezium.connector.jdbc.JdbcSinkConnector"} {
		p, err := reg.Lookup(name, connect.PluginSink)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c, ok := p.New().(connect.SinkConnector)
		if !ok {
			t.Fatalf("%s: New returned %T", name, p.New())
		}
		if _, ok := c.NewTask().(connect.PartitionListener); !ok {
			t.Fatal("the task must implement PartitionListener to seek on Open")
		}
	}
	c := &Connector{}
	if err := c.Start(nil, map[string]string{"connection.url": pgURL, "insert.mode": "upsert"}); err == nil {
		t.Error("Start accepted upsert without a primary key")
	}
	props := map[string]string{"connection.url": pgURL, "pk.mode": "kafka"}
	if err := c.Start(nil, props); err != nil {
		t.Fatal(err)
	}
	tasks, err := c.TaskConfigs(3)
	if err != nil || len(tasks) != 3 || tasks[2]["pk.mode"] != "kafka" {
		t.Fatalf("TaskConfigs = %v, %v", tasks, err)
	}
}

// TestValidate checks the validate endpoint hook: cross-key errors land on their key, and an
// unreachable database on connection.url.
func TestValidate(t *testing.T) {
	c := &Connector{}
	check := func(props map[string]string, key, msg string) {
		t.Helper()
		values := c.Validate(context.Background(), props, c.ConfigDef().Validate(props))
		for _, v := range values {
			if v.Name != key {
				continue
			}
			for _, e := range v.Errors {
				if strings.Contains(e, msg) {
					return
				}
			}
			t.Errorf("%s errors %v do not mention %q", key, v.Errors, msg)
			return
		}
		t.Errorf("no result for %s", key)
	}
	check(map[string]string{"connection.url": pgURL, "delete.enabled": "true"}, "delete.enabled", "record_key")
	check(map[string]string{"connection.url": deadDSN("postgres")}, "connection.url", "cannot connect")
	check(map[string]string{"connection.url": deadDSN("mysql")}, "connection.url", "cannot connect")
}

// TestExampleConfig keeps examples/postgres-to-mysql/sink.properties valid.
func TestExampleConfig(t *testing.T) {
	p, err := properties.ParseFile("../../../examples/postgres-to-mysql/sink.properties")
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseConfig(p.Map())
	if err != nil {
		t.Fatal(err)
	}
	if c.conn.Dialect != jdbcurl.MySQL || c.insertMode != modeUpsert || c.pkMode != pkRecordKey || !c.deleteEnabled || !c.autoCreate {
		t.Errorf("example sink config parsed as %+v", c)
	}
}
