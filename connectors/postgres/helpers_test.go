package postgres

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connect/connecttest"
	"github.com/kconnect/kconnect/internal/testenv"
)

// pgEnv is one test's database with a superuser connection for setting up and inspecting it.
type pgEnv struct {
	t    *testing.T
	dsn  string
	conn *pgx.Conn
}

func newPG(t *testing.T) *pgEnv {
	t.Helper()
	dsn, conn := testenv.PostgresConn(t)
	return &pgEnv{t: t, dsn: dsn, conn: conn}
}

func (p *pgEnv) exec(sql string, args ...any) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := p.conn.Exec(ctx, sql, args...); err != nil {
		p.t.Fatalf("%s: %v", sql, err)
	}
}

func (p *pgEnv) scalar(sql string, dest any, args ...any) {
	p.t.Helper()
	if err := p.conn.QueryRow(context.Background(), sql, args...).Scan(dest); err != nil {
		p.t.Fatalf("%s: %v", sql, err)
	}
}

// props returns a connector configuration for dsn's database with a slot unique to the test.
func props(t *testing.T, dsn string, extra ...string) map[string]string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	slot := strings.ToLower(strings.Trim(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, t.Name()), "_"))
	if len(slot) > 50 {
		slot = slot[:50]
	}
	p := map[string]string{
		"connector.class":   ConnectorClass,
		"database.hostname": u.Hostname(),
		"database.port":     u.Port(),
		"database.user":     u.User.Username(),
		"database.password": pw,
		"database.dbname":   strings.TrimPrefix(u.Path, "/"),
		"database.sslmode":  "disable",
		"topic.prefix":      "pgsrv",
		"slot.name":         "kc_" + slot,
		"poll.interval.ms":  "100",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		p[extra[i]] = extra[i+1]
	}
	return p
}

func startTask(t *testing.T, tctx *connecttest.Context, p map[string]string) *Task {
	t.Helper()
	task := (&Connector{}).NewTask().(*Task)
	if err := task.Start(tctx, p); err != nil {
		t.Fatalf("start task: %v", err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = task.Stop()
		}
	})
	return task
}

// pollFor polls until want records that match keep arrived, failing after timeout; it returns every
// record polled (matching or not), in order.
func pollFor(t *testing.T, task *Task, want int, keep func(connect.SourceRecord) bool, timeout time.Duration) []connect.SourceRecord {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var all []connect.SourceRecord
	n := 0
	for n < want {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v with %d of %d records; last: %v", timeout, n, want, describe(all))
		}
		batch, err := task.Poll(context.Background())
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		for _, r := range batch {
			all = append(all, r)
			if keep == nil || keep(r) {
				n++
			}
		}
	}
	return all
}

func isData(r connect.SourceRecord) bool {
	return !strings.HasPrefix(r.Topic, "__debezium-heartbeat") && !strings.HasSuffix(r.Topic, ".transaction")
}

func describe(recs []connect.SourceRecord) string {
	var b strings.Builder
	start := max(0, len(recs)-5)
	for _, r := range recs[start:] {
		fmt.Fprintf(&b, "[%s %v] ", r.Topic, r.Value)
	}
	return b.String()
}

// env returns a record's envelope struct.
func env(t *testing.T, r connect.SourceRecord) *connect.Struct {
	t.Helper()
	st, ok := r.Value.(*connect.Struct)
	if !ok {
		t.Fatalf("record on %s has value %T, not an envelope", r.Topic, r.Value)
	}
	return st
}

func field(t *testing.T, st *connect.Struct, path ...string) any {
	t.Helper()
	var v any = st
	for _, p := range path {
		s, ok := v.(*connect.Struct)
		if !ok {
			t.Fatalf("%v: %s is not a struct", path, p)
		}
		if s.Schema().Field(p) == nil {
			t.Fatalf("%v: no field %s in %s", path, p, s.Schema())
		}
		v = s.Get(p)
	}
	return v
}

func op(t *testing.T, r connect.SourceRecord) string {
	if r.Value == nil {
		return "tombstone"
	}
	return field(t, env(t, r), "op").(string)
}

func fieldNames(s *connect.Schema) []string {
	out := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		out[i] = f.Name
	}
	return out
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func testenvReplDSN(t *testing.T, superDSN string) string {
	t.Helper()
	return testenv.PostgresReplDSN(t, superDSN)
}
