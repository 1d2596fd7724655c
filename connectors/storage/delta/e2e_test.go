package delta

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kconnect/kconnect/internal/properties"
	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
)

// event is record i of the load: a JsonConverter envelope of {id, name, region}, keyed by id.
func event(i int) (key, value []byte) {
	return []byte(strconv.Itoa(i)), fmt.Appendf(nil, `{"schema":{"type":"struct","name":"shop.Event","optional":false,"fields":[`+
		`{"field":"id","type":"int64","optional":false},{"field":"name","type":"string","optional":false},`+
		`{"field":"region","type":"string","optional":false}]},"payload":{"id":%d,"name":"name-%d","region":"%s"}}`, i, i, regions[i%3])
}

func startWorker(t testing.TB, keySchemas bool) *workertest.Worker {
	t.Helper()
	dir := t.TempDir()
	props := workertest.WorkerProps(t, dir)
	props["value.converter.schemas.enable"] = "true"
	if keySchemas {
		props["key.converter"] = "org.apache.kafka.connect.json.JsonConverter"
		props["key.converter.schemas.enable"] = "true"
		props["value.converter"] = "org.apache.kafka.connect.json.JsonConverter"
	}
	w := workertest.Start(t, dir, props)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("worker log:\n%s", w.Log())
		}
	})
	return w
}

func commits(t *testing.T, dir string) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "_delta_log", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	return len(m)
}

// TestE2EKill9DuringLoad kills the worker with SIGKILL while two tasks load a topic into one
// table (KCONNECT_DELTA_KILLS times, 2 by default), restarting it each time: delta-rs must read
// every record exactly once, and the log's txn actions must bring the consumer group to the end.
func TestE2EKill9DuringLoad(t *testing.T) {
	kills := testenv.Count(t, "KCONNECT_DELTA_KILLS", 2)
	n := 10_000 * (kills + 1)
	w := startWorker(t, false)
	out := t.TempDir()
	topic := testenv.Topic(t, "delta-kill")
	testenv.Produce(t, w.Bootstrap, topic, 3, n, event)
	name := "dkill-" + topic[len(topic)-8:]
	w.CreateConnector(name, map[string]string{
		"connector.class":                    "DeltaLakeSink",
		"tasks.max":                          "2",
		"topics":                             topic,
		tablePathConfig:                      "file://" + out,
		partitionByConfig:                    "region",
		flushSizeConfig:                      "250",
		checkpointIntervalConfig:             "5",
		"consumer.override.max.poll.records": "100",
	})
	// The load takes about n/250 commits; kill k lands at a random commit inside the k-th of
	// kills+1 equal stretches, watched closely enough that the worker is killed mid-load.
	stretch := n / 250 / (kills + 1)
	for k := range kills {
		target := k*stretch + 1 + rand.IntN(stretch/2)
		deadline := time.Now().Add(3 * time.Minute)
		for commits(t, out) < target {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for delta commit %d\nworker log:\n%s", target, w.Log())
			}
			w.FailIfFailed(name)
			time.Sleep(2 * time.Millisecond)
		}
		w.Kill9()
		seen := commits(t, out)
		// Proves the kill came mid-load: a load that had finished would make this test vacuous.
		if rows := len(readDelta(t, "file://"+out, -1).Rows); rows >= n {
			t.Fatalf("kill %d came after the load finished: %d commits hold %d rows", k+1, seen, rows)
		} else {
			t.Logf("kill %d after %d commits holding %d of %d rows", k+1, seen, rows, n)
		}
		w.Restart()
	}
	w.WaitFor(4*time.Minute, "the consumer group to commit every record", func() bool {
		w.FailIfFailed(name)
		return testenv.GroupOffsets(t, w.Bootstrap, "connect-"+name, topic) == int64(n)
	})
	d := readDelta(t, "file://"+out, -1)
	count := make([]int, n)
	for _, r := range d.Rows {
		id := int(r["id"].(float64))
		if id < 0 || id >= n || r["name"] != fmt.Sprintf("name-%d", id) || r["region"] != regions[id%3] {
			t.Fatalf("unexpected row %v", r)
		}
		count[id]++
	}
	for id, c := range count {
		if c != 1 {
			t.Fatalf("record %d is in the table %d times (%d rows, version %d)", id, c, len(d.Rows), d.Version)
		}
	}
	t.Logf("%d rows in %d files at version %d after %d kills", len(d.Rows), d.Files, d.Version, kills)
	if err := w.Stop(); err != nil {
		t.Errorf("graceful stop: %v", err)
	}
}

// TestE2ECDCFromPostgres captures a PostgreSQL table with the Debezium PostgreSQL source and
// applies its change events to a Delta table with examples/cdc-to-delta's sink configuration
// (cdc mode): after the snapshot, and after inserts, updates and deletes, delta-rs reads exactly
// the rows PostgreSQL holds.
func TestE2ECDCFromPostgres(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	pg, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close(context.Background())
	exec := func(sql string) {
		t.Helper()
		if _, err := pg.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL, qty integer, price numeric(10,2))`)
	exec(`INSERT INTO items SELECT g, 'item-' || g, g % 7, g * 1.25 FROM generate_series(1, 300) g`)

	w := startWorker(t, true)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	pass, _ := u.User.Password()
	db := strings.TrimPrefix(u.Path, "/")
	prefix := testenv.Topic(t, "dcdc")
	w.CreateConnector("src-"+prefix[len(prefix)-8:], map[string]string{
		"connector.class": "io.debezium.connector.postgresql.PostgresConnector", "database.hostname": u.Hostname(),
		"database.port": u.Port(), "database.user": u.User.Username(), "database.password": pass, "database.dbname": db,
		"database.sslmode": "disable", "topic.prefix": prefix, "plugin.name": "pgoutput", "slot.name": db,
		"poll.interval.ms": "100",
	})
	out := t.TempDir()
	sink := "sink-" + prefix[len(prefix)-8:]
	topic := prefix + ".public.items"
	// The sink is examples/cdc-to-delta's, on this test's topic and directory.
	ex, err := properties.ParseFile("../../../examples/cdc-to-delta/sink.properties")
	if err != nil {
		t.Fatal(err)
	}
	config := ex.Map()
	if config["connector.class"] != "DeltaLakeSink" || config[modeConfig] != modeCDC {
		t.Fatalf("examples/cdc-to-delta/sink.properties: %v", config)
	}
	delete(config, "name")
	config["topics"], config[tablePathConfig] = topic, "file://"+out
	w.CreateConnector(sink, config)
	// pgRows is the PostgreSQL table as read_delta.py's rows print below.
	pgRows := func() map[int]string {
		want := map[int]string{}
		rows, err := pg.Query(ctx, `SELECT id, name, coalesce(qty::text, '<nil>'), coalesce(price::text, '<nil>') FROM items`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int
			var name, qty, price string
			if err := rows.Scan(&id, &name, &qty, &price); err != nil {
				t.Fatal(err)
			}
			want[id] = fmt.Sprintf("%s qty=%s price=%s", name, qty, price)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return want
	}
	// waitEqual waits until delta-rs reads the PostgreSQL table's rows, and returns the version.
	waitEqual := func(what string) int64 {
		want := pgRows()
		var version int64
		w.WaitFor(3*time.Minute, what, func() bool {
			w.FailIfFailed(sink)
			if commits(t, out) == 0 {
				return false
			}
			d := readDelta(t, "file://"+out, -1)
			got := map[int]string{}
			for _, r := range d.Rows {
				s := func(k string) string {
					if r[k] == nil {
						return "<nil>"
					}
					return fmt.Sprint(r[k])
				}
				got[int(r["id"].(float64))] = fmt.Sprintf("%s qty=%s price=%s", s("name"), s("qty"), s("price"))
			}
			if len(d.Rows) != len(got) {
				t.Fatalf("%d rows but %d distinct ids", len(d.Rows), len(got))
			}
			version = d.Version
			return fmt.Sprint(got) == fmt.Sprint(want)
		})
		return version
	}
	snap := waitEqual("the Delta table to hold the snapshot")
	// Updates and deletes of rows in committed files, and inserts.
	exec(`UPDATE items SET name = name || '-v2', qty = qty + 100 WHERE id % 5 = 0`)
	exec(`DELETE FROM items WHERE id % 11 = 0`)
	exec(`INSERT INTO items SELECT g, 'new-' || g, NULL, NULL FROM generate_series(301, 350) g`)
	exec(`UPDATE items SET price = 0.01 WHERE id BETWEEN 100 AND 120`)
	exec(`DELETE FROM items WHERE id BETWEEN 340 AND 345`)
	final := waitEqual("the Delta table to equal the PostgreSQL table after the changes")
	if final <= snap {
		t.Fatalf("changes committed at version %d, the snapshot at %d", final, snap)
	}
	t.Logf("table equals PostgreSQL: snapshot at version %d, changes at %d", snap, final)
}
