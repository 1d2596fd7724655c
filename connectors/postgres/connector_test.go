package postgres

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/workertest"
	"github.com/kconnect/kconnect/runtime/herder"
)

func errorsOf(values []connect.ConfigValue) map[string]string {
	out := map[string]string{}
	for _, v := range values {
		if len(v.Errors) > 0 {
			out[v.Name] = strings.Join(v.Errors, "; ")
		}
	}
	return out
}

// The example configuration of Debezium's documentation ("Connector configuration example"),
// copied verbatim, must be accepted as it is.
func TestDebeziumDocumentationConfigVerbatim(t *testing.T) {
	doc := map[string]string{
		"connector.class":    "io.debezium.connector.postgresql.PostgresConnector",
		"database.hostname":  "192.168.99.100",
		"database.port":      "5432",
		"database.user":      "postgres",
		"database.password":  "postgres",
		"database.dbname":    "postgres",
		"topic.prefix":       "fulfillment",
		"table.include.list": "public.inventory",
	}
	if errs := errorsOf(configDef.Validate(doc)); len(errs) > 0 {
		t.Fatalf("documented config rejected: %v", errs)
	}
	cfg, err := parseConfig(doc)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.slot != "debezium" || cfg.publication != "dbz_publication" || cfg.publicationMode != "all_tables" ||
		cfg.snapshotMode != "initial" || cfg.maxBatch != 2048 || cfg.maxQueue != 8192 || !cfg.tombstones ||
		cfg.snapshotFetchSize != 10240 || cfg.snapshotThreads != 1 || cfg.placeholder != "__debezium_unavailable_value" ||
		!cfg.skip['t'] || cfg.skip['c'] || cfg.heartbeatTopic != "__debezium-heartbeat.fulfillment" || cfg.txTopic != "fulfillment.transaction" {
		t.Errorf("defaults differ from Debezium's: %+v", cfg)
	}
	if !cfg.filter.table("public", "inventory") || cfg.filter.table("public", "inventory2") || cfg.filter.table("other", "inventory") {
		t.Error("table.include.list must match schema.table anchored at both ends")
	}
	if plugins := Plugins(); plugins[0].Class != doc["connector.class"] {
		t.Errorf("registered as %s", plugins[0].Class)
	}
}

func TestConfigErrors(t *testing.T) {
	base := map[string]string{"database.hostname": "h", "database.user": "u", "database.dbname": "d", "topic.prefix": "p"}
	for key, val := range map[string]string{
		"plugin.name":                 "decoderbufs",
		"snapshot.mode":               "sometimes",
		"publication.autocreate.mode": "some",
		"slot.name":                   "Bad-Slot",
		"table.include.list":          "public.(",
		"skipped.operations":          "x",
		"decimal.handling.mode":       "float",
	} {
		p := map[string]string{key: val}
		for k, v := range base {
			p[k] = v
		}
		errs := errorsOf(configDef.Validate(p))
		if !strings.Contains(errs[key], val) {
			t.Errorf("%s=%s: errors %v do not name the value", key, val, errs)
		}
	}
	p := map[string]string{"table.include.list": "a", "table.exclude.list": "b"}
	for k, v := range base {
		p[k] = v
	}
	if _, err := parseConfig(p); err == nil || !strings.Contains(err.Error(), "cannot both be set") {
		t.Errorf("include and exclude lists together: %v", err)
	}
}

func TestValidateAgainstServer(t *testing.T) {
	pg := newPG(t)
	pg.exec(`CREATE TABLE keyless (v text)`)
	pg.exec(`CREATE TABLE keyed (id int PRIMARY KEY)`)
	pg.exec(`CREATE ROLE kc_norepl LOGIN PASSWORD 'pw'`)
	t.Cleanup(func() { pg.exec(`DROP OWNED BY kc_norepl`); pg.exec(`DROP ROLE kc_norepl`) })
	p := props(t, pg.dsn, "publication.autocreate.mode", "disabled")
	errs := errorsOf((&Connector{}).Validate(context.Background(), p, configDef.Validate(p)))
	if !strings.Contains(errs["publication.name"], "does not exist") || !strings.Contains(errs["publication.name"], "CREATE PUBLICATION") {
		t.Errorf("missing publication: %q", errs["publication.name"])
	}
	if !strings.Contains(errs["table.include.list"], `"public"."keyless"`) || strings.Contains(errs["table.include.list"], "keyed") ||
		!strings.Contains(errs["table.include.list"], "REPLICA IDENTITY FULL") {
		t.Errorf("keyless table: %q", errs["table.include.list"])
	}
	pg.exec(`ALTER TABLE keyless REPLICA IDENTITY FULL`)
	p = props(t, pg.dsn)
	p["database.user"], p["database.password"] = "kc_norepl", "pw"
	errs = errorsOf((&Connector{}).Validate(context.Background(), p, configDef.Validate(p)))
	if !strings.Contains(errs["database.user"], "ALTER ROLE") {
		t.Errorf("role without REPLICATION: %q", errs["database.user"])
	}
	if _, ok := errs["table.include.list"]; ok {
		t.Errorf("REPLICA IDENTITY FULL table still rejected: %v", errs)
	}
}

// TestIncludeListNamingNoTableWarns: Debezium accepts a table.include.list entry that names no
// table and silently captures nothing for it. kconnect keeps accepting it, but says so as a
// warning in the validate response (not an error: creating the connector still works) and in the
// worker's log, at validation and again when the task starts.
func TestIncludeListNamingNoTableWarns(t *testing.T) {
	pg := newPG(t)
	pg.exec(`CREATE TABLE orders (id int PRIMARY KEY)`)
	p := props(t, pg.dsn, "name", "typo", "table.include.list", "public.orders,public.ordres",
		"key.converter", "org.apache.kafka.connect.json.JsonConverter",
		"value.converter", "org.apache.kafka.connect.json.JsonConverter")
	dir := t.TempDir()
	w := workertest.Start(t, dir, workertest.WorkerProps(t, dir))
	code, body := w.Do(http.MethodPut, "/connector-plugins/PostgresConnector/config/validate", p)
	if code != http.StatusOK {
		t.Fatalf("validate: %d %s", code, body)
	}
	var infos herder.ConfigInfos
	if err := json.Unmarshal(body, &infos); err != nil {
		t.Fatal(err)
	}
	var include *herder.ConfigValueInfo
	for _, ci := range infos.Configs {
		if ci.Value != nil && ci.Value.Name == "table.include.list" {
			include = ci.Value
		}
	}
	if infos.ErrorCount != 0 || include == nil || len(include.Errors) != 0 {
		t.Fatalf("an include list naming a missing table is an error, or the key is missing: %s", body)
	}
	if len(include.Warnings) != 1 || !strings.Contains(include.Warnings[0], "public.ordres") ||
		strings.Contains(include.Warnings[0], "public.orders") {
		t.Fatalf("warnings of table.include.list: %q, want one naming public.ordres only", include.Warnings)
	}
	if !strings.Contains(w.Log(), "level=WARN") || !strings.Contains(w.Log(), "public.ordres") {
		t.Fatalf("validation did not log the warning:\n%s", w.Log())
	}

	w.CreateConnector("typo", p)
	w.WaitFor(30*time.Second, "the task to warn at start", func() bool {
		return strings.Count(w.Log(), "matches no table of database") >= 3 // validate, create's validation, task start
	})
}
