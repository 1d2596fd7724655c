package postgres_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
)

// TestPipelineUnwrapAndRouteToMySQL runs the configuration most Debezium-to-JDBC pipelines use,
// verbatim: the PostgreSQL CDC source with Debezium's ExtractNewRecordState ("unwrap", tombstones
// kept so the sink can delete) and a RegexRouter that names the topic after the table, into
// Confluent's JDBC sink, which then sees plain rows. The sink runs a transform of its own
// (ReplaceField drops a column). Rows are compared after the snapshot and after streamed inserts,
// updates and deletes; the routed topic is checked to hold flat rows and tombstones.
func TestPipelineUnwrapAndRouteToMySQL(t *testing.T) {
	e := newPipelineEnv(t)
	testenv.DeleteTopicsAtCleanup(t, e.prefix+".")
	e.pgExec(`CREATE TABLE accounts (
		id integer PRIMARY KEY,
		owner text NOT NULL,
		balance numeric(12,2) NOT NULL,
		note text,
		opened_at timestamptz NOT NULL)`)
	e.pgExec(`INSERT INTO accounts SELECT i, 'owner ' || i, i * 1.5, 'private ' || i, TIMESTAMPTZ '2024-01-01 00:00:00+00' + i * INTERVAL '1 hour'
		FROM generate_series(1, 20) AS i`)

	dir := t.TempDir()
	src := e.sourceConfig("pg-unwrap-source")
	routed := e.prefix + "_accounts"
	for k, v := range map[string]string{
		"transforms":                          "unwrap,route",
		"transforms.unwrap.type":              "io.debezium.transforms.ExtractNewRecordState",
		"transforms.unwrap.drop.tombstones":   "false",
		"transforms.route.type":               "org.apache.kafka.connect.transforms.RegexRouter",
		"transforms.route.regex":              `([^.]+)\.([^.]+)\.([^.]+)`,
		"transforms.route.replacement":        e.prefix + "_$3",
		"transforms.unwrap.add.fields":        "op,source.ts_ms",
		"transforms.unwrap.add.fields.prefix": "cdc_",
	} {
		src[k] = v
	}
	sink := map[string]string{
		"name":                       "mysql-accounts",
		"connector.class":            "io.confluent.connect.jdbc.JdbcSinkConnector",
		"topics":                     routed,
		"connection.url":             "jdbc:mysql://" + e.myDSN.Addr + "/" + e.myDSN.DBName,
		"connection.user":            e.myDSN.User,
		"connection.password":        e.myDSN.Passwd,
		"table.name.format":          "accounts",
		"insert.mode":                "upsert",
		"pk.mode":                    "record_key",
		"delete.enabled":             "true",
		"auto.create":                "true",
		"transforms":                 "private",
		"transforms.private.type":    "org.apache.kafka.connect.transforms.ReplaceField$Value",
		"transforms.private.exclude": "note,cdc_op,cdc_source_ts_ms",
	}
	w := workertest.Start(t, dir, pipelineWorkerProps(t, dir), src, sink)
	waitTopics(t, w, routed)
	names := []string{src["name"], sink["name"]}
	accounts := []mirrored{{
		name: "accounts", pgSource: "public.accounts",
		pg: `SELECT id::text, owner, balance::text, to_char(opened_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM accounts`,
		my: "SELECT CAST(`id` AS CHAR), `owner`, CAST(`balance` AS CHAR), DATE_FORMAT(`opened_at`, '%Y-%m-%d %H:%i:%s.%f') FROM `accounts`",
	}}
	start := time.Now()
	e.waitConverged(w, "snapshot", accounts, names...)
	t.Logf("snapshot mirrored in %v", time.Since(start).Round(time.Millisecond))

	e.pgExec(`INSERT INTO accounts VALUES (21, 'new owner', 0.10, NULL, TIMESTAMPTZ '2025-06-01 12:00:00+00')`)
	e.pgExec(`UPDATE accounts SET balance = balance + 100, note = NULL WHERE id % 3 = 0`)
	e.pgExec(`DELETE FROM accounts WHERE id % 4 = 0`)
	start = time.Now()
	e.waitConverged(w, "streaming", accounts, names...)
	t.Logf("streamed changes mirrored in %v", time.Since(start).Round(time.Millisecond))

	// The routed topic holds plain rows with the added fields, and one tombstone per delete.
	var rows, tombstones, deletes int
	readTopic(t, w.Bootstrap, routed, func(recs []*kgo.Record) bool {
		rows, tombstones, deletes = 0, 0, 0
		for i, r := range recs {
			if r.Value == nil {
				tombstones++
				continue
			}
			var v struct {
				Schema  struct{ Name string } `json:"schema"`
				Payload map[string]any        `json:"payload"`
			}
			if err := json.Unmarshal(r.Value, &v); err != nil {
				t.Fatalf("record %d: %v: %s", i, err, r.Value)
			}
			if _, nested := v.Payload["after"]; nested || v.Payload["owner"] == nil && v.Payload["cdc_op"] != "d" {
				t.Fatalf("record %d is not an unwrapped row: %s", i, r.Value)
			}
			if v.Payload["cdc_source_ts_ms"] == nil {
				t.Fatalf("record %d lacks the added source timestamp: %s", i, r.Value)
			}
			if v.Payload["cdc_op"] == "d" {
				deletes++
			}
			rows++
		}
		return tombstones == 5 && rows >= 20+1+7
	})
	// drop.tombstones=false alone keeps Debezium 2's delete.handling.mode=drop: deletes reach the
	// sink only as tombstones.
	if deletes != 0 {
		t.Errorf("%d delete events passed the unwrap; Debezium drops them under this configuration", deletes)
	}
	if err := w.Stop(); err != nil {
		t.Errorf("graceful stop: %v\n%s", err, w.Log())
	}
}

// readTopic reads topic from the start until done accepts the records read so far, for at most 30s.
func readTopic(t *testing.T, bootstrap, topic string, done func([]*kgo.Record) bool) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for !done(recs) {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("topic %s: %d records after 30s, not what the test waits for", topic, len(recs))
		}
		recs = append(recs, fs.Records()...)
	}
}
