package source_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
	"github.com/kconnect/kconnect/runtime/herder"
)

// TestWorkerSurvivesPostgresOutage stops a private PostgreSQL under a running JDBC source. An
// outage longer than table.poll.interval.ms used to crash the whole worker: the table monitor
// listed tables on the nil connection a failed reconnect left behind. Now a short outage is
// ridden out, and one longer than the connector's connection.attempts × connection.backoff.ms
// fails the connector with the cause, and a REST restart brings it back.
func TestWorkerSurvivesPostgresOutage(t *testing.T) {
	pg := testenv.NewPostgresServer(t)
	exec := func(stmts ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, pg.DSN())
		if err != nil {
			t.Fatalf("connect to the private server: %v\n%s", err, pg.Log())
		}
		defer conn.Close(ctx)
		for _, s := range stmts {
			if _, err := conn.Exec(ctx, s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
	}
	exec("CREATE TABLE t_one (id serial PRIMARY KEY, v text NOT NULL)",
		"INSERT INTO t_one (v) SELECT 'a' FROM generate_series(1, 3)")

	dir := t.TempDir()
	prefix := topicPrefix(t)
	w := workertest.Start(t, dir, workertest.WorkerProps(t, dir), map[string]string{
		"name":                     "outage",
		"connector.class":          "io.confluent.connect.jdbc.JdbcSourceConnector",
		"connection.url":           fmt.Sprintf("jdbc:postgresql://127.0.0.1:%d/postgres?sslmode=disable", pg.Port()),
		"connection.user":          "kconnect",
		"mode":                     "incrementing",
		"incrementing.column.name": "id",
		"topic.prefix":             prefix,
		"poll.interval.ms":         "100",
		"table.poll.interval.ms":   "500",
		"connection.attempts":      "3",
		"connection.backoff.ms":    "2000",
	})
	waitRows := func(table string, n int) {
		t.Helper()
		r := newTopicReader(t, w.Bootstrap, prefix+table)
		w.WaitFor(30*time.Second, fmt.Sprintf("%d rows of %s", n, table), func() bool {
			r.poll()
			return len(idCounts(t, r.records(prefix+table))) >= n
		})
	}
	waitState := func(want herder.State) herder.ConnectorStatus {
		t.Helper()
		var st herder.ConnectorStatus
		w.WaitFor(60*time.Second, "connector "+string(want), func() bool {
			st, _ = w.Status("outage")
			return st.Connector.State == want
		})
		return st
	}
	waitRows("t_one", 3)

	// Down for several table polls, but back within the connection attempts.
	pg.Stop()
	time.Sleep(2500 * time.Millisecond)
	if st, _ := w.Status("outage"); st.Connector.State != herder.Running {
		t.Fatalf("connector %s during a short outage: %s", st.Connector.State, st.Connector.Trace)
	}
	pg.Start()
	exec("INSERT INTO t_one (v) VALUES ('b')",
		"CREATE TABLE t_two (id serial PRIMARY KEY, v text NOT NULL)", "INSERT INTO t_two (v) VALUES ('c')")
	waitRows("t_one", 4)
	waitRows("t_two", 1) // found by the table monitor after it reconnected
	if st, _ := w.Status("outage"); st.Connector.State != herder.Running {
		t.Fatalf("connector %s after a short outage: %s", st.Connector.State, st.Connector.Trace)
	}

	// Down for longer than the connector's patience.
	pg.Stop()
	st := waitState(herder.Failed)
	if !strings.Contains(st.Connector.Trace, "3 attempts") || !strings.Contains(st.Connector.Trace, "connect") {
		t.Errorf("connector trace does not give the cause: %q", st.Connector.Trace)
	}
	pg.Start()
	if code, body := w.Do(http.MethodPost, "/connectors/outage/restart", nil); code != http.StatusNoContent {
		t.Fatalf("restart: %d %s", code, body)
	}
	waitState(herder.Running)
	exec("INSERT INTO t_two (v) VALUES ('d')")
	waitRows("t_two", 2)
}
