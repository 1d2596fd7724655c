package source

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connect/connecttest"
	"github.com/kconnect/kconnect/internal/testenv"
)

// pgEnv is a fresh PostgreSQL database with an admin connection for setting up tables.
type pgEnv struct {
	dsn  string
	conn *pgx.Conn
}

func newPG(t *testing.T) *pgEnv {
	t.Helper()
	dsn, conn := testenv.PostgresConn(t)
	return &pgEnv{dsn: dsn, conn: conn}
}

// jdbcURL renders the test DSN as the JDBC URL a Confluent config would carry, with the
// credentials split out as connection.user and connection.password.
func (e *pgEnv) jdbcURL(t *testing.T) (jdbc, user, password string) {
	t.Helper()
	u, err := url.Parse(e.dsn)
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	return "jdbc:postgresql://" + u.Host + u.Path + "?sslmode=disable", u.User.Username(), pw
}

func (e *pgEnv) exec(t testing.TB, sqls ...string) {
	t.Helper()
	for _, s := range sqls {
		if _, err := e.conn.Exec(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// myEnv is a fresh MariaDB database.
type myEnv struct {
	dsn string
	db  *sql.DB
}

func newMy(t *testing.T) *myEnv {
	t.Helper()
	dsn, db := testenv.MySQLConn(t)
	return &myEnv{dsn: dsn, db: db}
}

func (e *myEnv) jdbcURL(t *testing.T) (jdbc, user, password string) {
	t.Helper()
	cfg, err := mysql.ParseDSN(e.dsn)
	if err != nil {
		t.Fatal(err)
	}
	return "jdbc:mysql://" + cfg.Addr + "/" + cfg.DBName, cfg.User, cfg.Passwd
}

func (e *myEnv) exec(t testing.TB, sqls ...string) {
	t.Helper()
	for _, s := range sqls {
		if _, err := e.db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// props builds a configuration from key=value pairs on top of fast test defaults.
func props(kv ...string) map[string]string {
	m := map[string]string{
		"poll.interval.ms": "20",
		"poll.linger.ms":   "50",
		"batch.max.rows":   "100",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// taskProps turns connector properties into the configuration of the connector's first task,
// as the runtime would, by running the connector's TaskConfigs.
func taskProps(t *testing.T, p map[string]string, maxTasks int) []map[string]string {
	t.Helper()
	c := &Connector{}
	cctx := newConnectorContext(t)
	if err := c.Start(cctx, p); err != nil {
		t.Fatalf("connector start: %v", err)
	}
	defer c.Stop()
	cfgs, err := c.TaskConfigs(maxTasks)
	if err != nil {
		t.Fatalf("task configs: %v", err)
	}
	return cfgs
}

// runner drives a task the way the runtime does: polls, records what it got, and commits the
// offsets of every batch to the in-memory offset store.
type runner struct {
	t    *testing.T
	task *Task
	ctx  *connecttest.Context

	// pace is slept after each non-empty batch, to make the runtime slower than the database.
	pace time.Duration

	mu      sync.Mutex
	records []connect.SourceRecord
	err     error
	stop    chan struct{}
	stopped chan struct{}
}

func startRunner(t *testing.T, ctx *connecttest.Context, p map[string]string) *runner {
	t.Helper()
	task := &Task{}
	if err := task.Start(ctx, p); err != nil {
		t.Fatalf("task start: %v", err)
	}
	r := &runner{t: t, task: task, ctx: ctx, stop: make(chan struct{}), stopped: make(chan struct{})}
	go r.loop()
	t.Cleanup(r.close)
	return r
}

func (r *runner) loop() {
	defer close(r.stopped)
	pctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-r.stop
		cancel()
	}()
	for pctx.Err() == nil {
		batch, err := r.task.Poll(pctx)
		if err != nil {
			r.mu.Lock()
			r.err = err
			r.mu.Unlock()
			return
		}
		if len(batch) == 0 {
			continue
		}
		committed := r.ctx.Commit(batch)
		if err := r.task.Commit(pctx, committed); err != nil {
			r.mu.Lock()
			r.err = err
			r.mu.Unlock()
			return
		}
		r.mu.Lock()
		r.records = append(r.records, batch...)
		pace := r.pace
		r.mu.Unlock()
		time.Sleep(pace)
	}
}

func (r *runner) setPace(d time.Duration) {
	r.mu.Lock()
	r.pace = d
	r.mu.Unlock()
}

func (r *runner) close() {
	select {
	case <-r.stop:
		return
	default:
	}
	close(r.stop)
	<-r.stopped
	_ = r.task.Stop()
}

func (r *runner) snapshot() ([]connect.SourceRecord, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]connect.SourceRecord(nil), r.records...), r.err
}

// waitFor polls until cond holds on the records received so far, failing after timeout or on a
// task error.
func (r *runner) waitFor(timeout time.Duration, what string, cond func([]connect.SourceRecord) bool) []connect.SourceRecord {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		recs, err := r.snapshot()
		if err != nil {
			r.t.Fatalf("waiting for %s: task failed: %v", what, err)
		}
		if cond(recs) {
			return recs
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("waiting for %s: timed out with %d records", what, len(recs))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitCount waits for at least n records.
func (r *runner) waitCount(n int, timeout time.Duration) []connect.SourceRecord {
	r.t.Helper()
	return r.waitFor(timeout, fmt.Sprintf("%d records", n), func(rs []connect.SourceRecord) bool { return len(rs) >= n })
}

// waitErr waits for the task to fail and returns the error.
func (r *runner) waitErr(timeout time.Duration) error {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, err := r.snapshot(); err != nil {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.t.Fatalf("task did not fail within %v", timeout)
	return nil
}

// field reads a struct field of a record value.
func field(r connect.SourceRecord, name string) any {
	return r.Value.(*connect.Struct).Get(name)
}

// connectorContext records the connector's requests to the runtime.
type connectorContext struct {
	log      *slog.Logger
	reconfig atomic.Int32
	mu       sync.Mutex
	raised   error
}

func newConnectorContext(t *testing.T) *connectorContext {
	return &connectorContext{log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("connector", t.Name())}
}

func (c *connectorContext) RequestTaskReconfiguration() { c.reconfig.Add(1) }

func (c *connectorContext) RaiseError(err error) {
	c.mu.Lock()
	c.raised = err
	c.mu.Unlock()
}

func (c *connectorContext) Logger() *slog.Logger { return c.log }

// quietContext is a task context logging at INFO, so long tests stay readable.
func quietContext(t *testing.T) *connecttest.Context {
	ctx := connecttest.New(t)
	ctx.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("connector", t.Name())
	return ctx
}

func contains(haystack string, needles ...string) bool {
	for _, n := range needles {
		if !strings.Contains(haystack, n) {
			return false
		}
	}
	return true
}
