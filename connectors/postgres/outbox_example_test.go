package postgres

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
)

const outboxExampleDir = "../../examples/outbox"

// TestExampleOutbox runs examples/outbox as its README tells: the README shows both configuration
// files verbatim, its SQL runs as written on a real PostgreSQL, and the event it describes
// arrives on the routed topic with the key, headers and value shown, while the outbox row's
// delete produces nothing. Only addresses, credentials, the slot and (so that runs on a shared
// broker do not meet) a prefix to the routed topic are replaced.
func TestExampleOutbox(t *testing.T) {
	cfgs := exampleConfigs(t, outboxExampleDir, "worker.properties", "outbox.properties")
	worker, source := cfgs[0], cfgs[1]
	sql := exampleBlocks(t, outboxExampleDir, "sql")
	plain := exampleBlocks(t, outboxExampleDir, "")
	if len(sql) != 2 || len(plain) != 1 {
		t.Fatalf("README has %d SQL blocks and %d plain ones, want 2 (table, transaction) and 1 (the event)", len(sql), len(plain))
	}
	var wantValue any
	if err := json.Unmarshal([]byte(plain[0]), &wantValue); err != nil {
		t.Fatalf("the README's event value: %v", err)
	}

	pg := newPG(t)
	pg.exec(sql[0])
	dir := t.TempDir()
	wp := workertest.WorkerProps(t, dir)
	for _, k := range []string{"bootstrap.servers", "kconnect.embedded.broker.port", "listeners", "offset.storage.file.filename"} {
		if v, ok := wp[k]; ok {
			worker[k] = v
		} else {
			delete(worker, k)
		}
	}
	u, err := url.Parse(pg.dsn)
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	prefix := fmt.Sprintf("kcob%d", time.Now().UnixNano())
	slot := props(t, pg.dsn)["slot.name"]
	maps.Copy(source, map[string]string{
		"database.hostname": u.Hostname(), "database.port": u.Port(), "database.user": u.User.Username(),
		"database.password": pw, "database.dbname": strings.TrimPrefix(u.Path, "/"), "database.sslmode": "disable",
		"slot.name": slot, "topic.prefix": prefix,
		"transforms.outbox.route.topic.replacement": prefix + "." + source["transforms.outbox.route.topic.replacement"],
	})
	w := workertest.Start(t, dir, worker, source)
	testenv.DeleteTopicsAtCleanup(t, prefix+".")
	// A change is captured once the slot exists; before it, it would be part of the (empty) snapshot.
	w.WaitFor(30*time.Second, "the replication slot", func() bool {
		var n int
		pg.scalar(`SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1`, &n, slot)
		return n == 1
	})
	topic := prefix + ".Order.events"
	events := consumeEvents(t, w.Bootstrap, topic)
	pg.exec(sql[1])
	// A second event after the README's: it arriving right after the first shows the delete in between produced nothing.
	pg.exec(`INSERT INTO outboxevent VALUES ('00000000-0000-0000-0000-000000000002', 'Order', '1002', 'OrderCreated', '{"orderId": 1002}')`)
	w.WaitFor(60*time.Second, "two events on "+topic, func() bool { return events.len() >= 2 })

	first := events.at(0)
	if string(first.Key) != "1001" {
		t.Errorf("key %q, want 1001", first.Key)
	}
	headers := map[string]string{}
	for _, h := range first.Headers {
		headers[h.Key] = string(h.Value)
	}
	if headers["id"] != "6f1e3c62-4b1a-4f63-9a3e-0d5f1d2a8c01" || headers["eventType"] != "OrderCreated" {
		t.Errorf("headers %v, want id and eventType as the README shows", headers)
	}
	var gotValue any
	if err := json.Unmarshal(first.Value, &gotValue); err != nil {
		t.Fatalf("value %s: %v", first.Value, err)
	}
	if !reflect.DeepEqual(gotValue, wantValue) {
		t.Errorf("value %s, want the README's %s", first.Value, plain[0])
	}
	if second := events.at(1); string(second.Key) != "1002" {
		t.Errorf("second event has key %q, want 1002: the outbox delete must produce no event", second.Key)
	}
}
