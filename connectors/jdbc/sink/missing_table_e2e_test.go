package sink_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
	"github.com/kconnect/kconnect/runtime/herder"
)

// TestE2EMissingTableFailsTheTaskUntilRestarted writes to a table that does not exist with
// auto.create=false. Upstream's sink fails the task at once (the TableAlterOrCreateException is not
// retried); kconnect's sink used to stay RUNNING and log the failed commit every interval, for ever.
// The task must go FAILED with the cause in its trace, and a REST restart once the table exists must
// write the records.
func TestE2EMissingTableFailsTheTaskUntilRestarted(t *testing.T) {
	db := e2ePostgres(t)
	dir := t.TempDir()
	props := workertest.WorkerProps(t, dir)
	props["value.converter.schemas.enable"] = "true"
	w := workertest.Start(t, dir, props)
	topic := testenv.Topic(t, "jdbc-missing")
	name := "missing-" + topic[len(topic)-8:]
	const table = "missing_rows"
	produceLoad(t, w.Bootstrap, topic, 1, 3)
	w.CreateConnector(name, map[string]string{
		"connector.class":     "io.confluent.connect.jdbc.JdbcSinkConnector",
		"topics":              topic,
		"connection.url":      db.url,
		"connection.user":     db.user,
		"connection.password": db.pass,
		"table.name.format":   table,
		"auto.create":         "false",
	})
	taskState := func() herder.TaskState {
		st, _ := w.Status(name)
		if len(st.Tasks) == 0 {
			return herder.TaskState{}
		}
		return st.Tasks[0]
	}
	w.WaitFor(30*time.Second, "the task to fail", func() bool { return taskState().State == herder.Failed })
	if trace := taskState().Trace; !strings.Contains(trace, "does not exist and auto.create is disabled") {
		t.Errorf("the task's trace does not give the cause: %q", trace)
	}

	if _, err := db.pg.Exec(t.Context(), fmt.Sprintf(`CREATE TABLE %s (id bigint PRIMARY KEY, name text NOT NULL,
		qty int NOT NULL, price double precision NOT NULL, note text, created timestamp NOT NULL)`, table)); err != nil {
		t.Fatal(err)
	}
	if code, body := w.Do(http.MethodPost, "/connectors/"+name+"/tasks/0/restart", nil); code != http.StatusNoContent {
		t.Fatalf("restart task: %d %s", code, body)
	}
	w.WaitFor(30*time.Second, "the three records in the table", func() bool { return db.count(t, table) == 3 })
	if st := taskState(); st.State != herder.Running {
		t.Fatalf("task %s after the restart: %s", st.State, st.Trace)
	}
}
