package source_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
	"github.com/kconnect/kconnect/runtime/offsets"
)

// These tests run the JDBC source inside the real kconnect binary (internal/workertest) against
// PostgreSQL and MariaDB, and read what it wrote from Kafka with a plain franz-go consumer.

// testDB is a fresh database of one of the two dialects, with the connection settings a Confluent
// configuration would carry (a JDBC URL with connection.user and connection.password).
type testDB struct {
	kind                string // "postgres" or "mariadb"
	dsn                 string
	url, user, password string

	my *sql.DB // MariaDB
	mu sync.Mutex
	pg *pgx.Conn // PostgreSQL, guarded by mu
}

func openPostgres(t *testing.T) *testDB {
	t.Helper()
	dsn, conn := testenv.PostgresConn(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	return &testDB{kind: "postgres", dsn: dsn, pg: conn, url: "jdbc:postgresql://" + u.Host + u.Path + "?sslmode=disable",
		user: u.User.Username(), password: pw}
}

func openMariaDB(t *testing.T) *testDB {
	t.Helper()
	dsn, db := testenv.MySQLConn(t)
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return &testDB{kind: "mariadb", dsn: dsn, my: db, url: "jdbc:mysql://" + cfg.Addr + "/" + cfg.DBName, user: cfg.User, password: cfg.Passwd}
}

// forEachDB runs f as a subtest against each database.
func forEachDB(t *testing.T, f func(t *testing.T, d *testDB)) {
	t.Run("postgres", func(t *testing.T) { f(t, openPostgres(t)) })
	t.Run("mariadb", func(t *testing.T) { f(t, openMariaDB(t)) })
}

func (d *testDB) exec(t *testing.T, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		var err error
		if d.kind == "postgres" {
			d.mu.Lock()
			_, err = d.pg.Exec(context.Background(), s)
			d.mu.Unlock()
		} else {
			_, err = d.my.Exec(s)
		}
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// queryRow returns the columns of the first row of query as text (nil for NULL).
func (d *testDB) queryRow(t *testing.T, query string) []*string {
	t.Helper()
	if d.kind == "postgres" {
		d.mu.Lock()
		defer d.mu.Unlock()
		rows, err := d.pg.Query(context.Background(), query, pgx.QueryResultFormats{pgx.TextFormatCode})
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		defer rows.Close()
		if !rows.Next() {
			t.Fatalf("%s: no row (%v)", query, rows.Err())
		}
		var out []*string
		for _, raw := range rows.RawValues() {
			if raw == nil {
				out = append(out, nil)
				continue
			}
			s := string(raw)
			out = append(out, &s)
		}
		return out
	}
	rows, err := d.my.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() {
		t.Fatalf("%s: no row (%v)", query, rows.Err())
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	out := make([]*string, len(vals))
	for i, v := range vals {
		if v.Valid {
			out[i] = &v.String
		}
	}
	return out
}

// autoID is the column definition of an identity primary key.
func (d *testDB) autoID() string {
	if d.kind == "postgres" {
		return "id bigserial PRIMARY KEY"
	}
	return "id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY"
}

// ids returns the ids committed in table.
func (d *testDB) ids(t *testing.T, table string) map[int64]bool {
	t.Helper()
	out := map[int64]bool{}
	q := "SELECT id FROM " + table
	if d.kind == "postgres" {
		d.mu.Lock()
		defer d.mu.Unlock()
		rows, err := d.pg.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			out[id] = true
		}
		return out
	}
	rows, err := d.my.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// connector returns a JDBC source configuration on d; kv overrides and extends it.
func (d *testDB) connector(name, prefix string, kv ...string) map[string]string {
	c := map[string]string{
		"name":                name,
		"connector.class":     "io.confluent.connect.jdbc.JdbcSourceConnector",
		"tasks.max":           "1",
		"connection.url":      d.url,
		"connection.user":     d.user,
		"connection.password": d.password,
		"topic.prefix":        prefix,
		"poll.interval.ms":    "100",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		c[kv[i]] = kv[i+1]
	}
	return c
}

// topicPrefix returns a topic.prefix unique to this run; on the real broker the topics created
// under it are deleted at cleanup (registered first, so after the worker stopped).
func topicPrefix(t *testing.T) string {
	t.Helper()
	prefix := testenv.Topic(t, "jdbc") + "-"
	testenv.DeleteTopicsAtCleanup(t, prefix)
	return prefix
}

// record is a message of a topic: its Kafka timestamp and its JSON value.
type record struct {
	at    time.Time
	value map[string]any
}

// id reads the "id" field of a value written without schemas.
func (r record) id(t *testing.T) int64 {
	t.Helper()
	n, ok := r.value["id"].(json.Number)
	if !ok {
		t.Fatalf("record value has no numeric id: %v", r.value)
	}
	id, err := n.Int64()
	if err != nil {
		t.Fatalf("id %s: %v", n, err)
	}
	return id
}

// topicReader consumes topics from their start and keeps every record.
type topicReader struct {
	t    *testing.T
	cl   *kgo.Client
	recs map[string][]record
}

func newTopicReader(t *testing.T, bootstrap string, topics ...string) *topicReader {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...), kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.MetadataMinAge(100*time.Millisecond),
		kgo.MetadataMaxAge(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &topicReader{t: t, cl: cl, recs: map[string][]record{}}
}

// poll adds what arrived within 200 ms.
func (r *topicReader) poll() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	fs := r.cl.PollFetches(ctx)
	for _, e := range fs.Errors() {
		if !errors.Is(e.Err, context.DeadlineExceeded) {
			r.t.Logf("fetch %s[%d]: %v", e.Topic, e.Partition, e.Err)
		}
	}
	fs.EachRecord(func(kr *kgo.Record) {
		dec := json.NewDecoder(bytes.NewReader(kr.Value))
		dec.UseNumber()
		var v map[string]any
		if err := dec.Decode(&v); err != nil {
			r.t.Fatalf("topic %s offset %d: value %q is not a JSON object: %v", kr.Topic, kr.Offset, kr.Value, err)
		}
		r.recs[kr.Topic] = append(r.recs[kr.Topic], record{at: kr.Timestamp, value: v})
	})
}

func (r *topicReader) records(topic string) []record { return r.recs[topic] }

// idCounts counts how often each id occurs in recs.
func idCounts(t *testing.T, recs []record) map[int64]int {
	out := map[int64]int{}
	for _, r := range recs {
		out[r.id(t)]++
	}
	return out
}

// missingAndExtra compares the ids seen with the ids of the table.
func missingAndExtra(seen map[int64]int, want map[int64]bool) (missing, extra []int64) {
	for id := range want {
		if seen[id] == 0 {
			missing = append(missing, id)
		}
	}
	for id := range seen {
		if !want[id] {
			extra = append(extra, id)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	return missing, extra
}

func firstFew(ids []int64) []int64 { return ids[:min(10, len(ids))] }

// storedIncrementing reads the incrementing offset stored for connector in the worker's offsets
// file (upstream's standalone format: key [connector, partition], value the offset).
func storedIncrementing(t *testing.T, path, connector string) int64 {
	t.Helper()
	store, err := offsets.OpenFile(path)
	if err != nil {
		t.Fatalf("offsets file: %v", err)
	}
	list, err := store.List(connector)
	if err != nil {
		t.Fatalf("offsets file %s: %v", path, err)
	}
	for _, o := range list {
		if n, ok := o.Offset["incrementing"].(int64); ok {
			return n
		}
	}
	t.Fatalf("no incrementing offset for %s in %s: %v", connector, path, list)
	return 0
}

// writerStats shows the workload produced the hazard under test: transactions committing ids
// below ids that were already committed.
type writerStats struct {
	commits, rollbacks, late atomic.Int64
	mu                       sync.Mutex
	maxID                    int64
}

func (s *writerStats) committed(ids []int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if slices.Min(ids) < s.maxID {
		s.late.Add(1)
	}
	s.maxID = max(s.maxID, slices.Max(ids))
	s.commits.Add(1)
}

// writer is a session inserting into the events table.
type writer struct {
	d  *testDB
	n  int
	pg *pgx.Conn
}

func (d *testDB) newWriter(t *testing.T, n int) *writer {
	t.Helper()
	w := &writer{d: d, n: n}
	if d.kind == "postgres" {
		conn, err := pgx.Connect(context.Background(), d.dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close(context.Background()) })
		w.pg = conn
	}
	return w
}

// writeOnce inserts a few rows in one transaction, holds it open a random while so transactions
// commit in another order than they drew their ids and timestamps, and commits or rolls back.
func (w *writer) writeOnce(ctx context.Context, rng *rand.Rand, stats *writerStats) error {
	var ids []int64
	rows := 1 + rng.IntN(4)
	hold := func() {
		time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond)
	}
	rollback := rng.IntN(10) == 0
	if w.pg != nil {
		tx, err := w.pg.Begin(ctx)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback(context.Background()) }()
		for range rows {
			var id int64
			if err := tx.QueryRow(ctx, "INSERT INTO events (writer, payload) VALUES ($1, $2) RETURNING id", w.n, "p").Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
			time.Sleep(time.Duration(rng.IntN(3)) * time.Millisecond)
		}
		hold()
		if rollback {
			stats.rollbacks.Add(1)
			return tx.Rollback(ctx)
		}
		if err := tx.Commit(ctx); err != nil {
			return err
		}
		stats.committed(ids)
		return nil
	}
	tx, err := w.d.my.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	for range rows {
		res, err := tx.ExecContext(ctx, "INSERT INTO events (writer, payload) VALUES (?, ?)", w.n, "p")
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		ids = append(ids, id)
		time.Sleep(time.Duration(rng.IntN(3)) * time.Millisecond)
	}
	hold()
	if rollback {
		stats.rollbacks.Add(1)
		return tx.Rollback()
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	stats.committed(ids)
	return nil
}

// TestWorkerNoRowSkippedAcrossRestarts runs eight writers whose transactions commit out of order
// while the worker copies their table in incrementing and in timestamp+incrementing mode, is
// stopped gracefully and restarted, then killed with SIGKILL and restarted. Every committed row
// must be in each topic and no rolled-back one; a graceful restart must resume exactly at the
// stored offsets, a kill -9 from the stored offsets (repeating only what came after them).
func TestWorkerNoRowSkippedAcrossRestarts(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *testDB) {
		ts := "ts timestamptz NOT NULL DEFAULT now()"
		if d.kind == "mariadb" {
			ts = "ts datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)"
		}
		d.exec(t, "CREATE TABLE events ("+d.autoID()+", "+ts+", writer int NOT NULL, payload varchar(20) NOT NULL)")

		dir := t.TempDir()
		prefix := topicPrefix(t)
		common := []string{"table.whitelist", "events", "batch.max.rows", "50", "timestamp.delay.interval.ms", "100"}
		inc := d.connector("inc", prefix+"inc-", slices.Concat(common, []string{"mode", "incrementing", "incrementing.column.name", "id"})...)
		tsinc := d.connector("tsinc", prefix+"tsinc-", slices.Concat(common, []string{"mode", "timestamp+incrementing",
			"incrementing.column.name", "id", "timestamp.column.name", "ts"})...)
		topics := map[string]string{"inc": prefix + "inc-events", "tsinc": prefix + "tsinc-events"}
		w := workertest.Start(t, dir, workertest.WorkerProps(t, dir), inc, tsinc)
		offsetsFile := filepath.Join(dir, "connect.offsets")

		// Writers stop between transactions, never inside one: a commit interrupted on the client
		// side may still land on the server after the table was read for the expected ids.
		stats := &writerStats{}
		var stop atomic.Bool
		var wg sync.WaitGroup
		for n := range 8 {
			wr := d.newWriter(t, n)
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(n), uint64(time.Now().UnixNano())))
				for !stop.Load() {
					if err := wr.writeOnce(context.Background(), rng, stats); err != nil {
						t.Errorf("writer %d: %v", n, err)
						return
					}
				}
			})
		}
		stopWriters := func() { stop.Store(true); wg.Wait() }
		defer stopWriters()

		time.Sleep(3 * time.Second)
		if err := w.Stop(); err != nil {
			t.Fatalf("graceful stop: %v\n%s", err, w.Log())
		}
		stoppedAt := time.Now()
		storedAtStop := storedIncrementing(t, offsetsFile, "inc")
		time.Sleep(time.Second)
		restartAt := time.Now()
		w.Restart()

		// A random moment, so that over runs the kill falls at every point of the offset flush cycle.
		time.Sleep(2500*time.Millisecond + rand.N(time.Second))
		w.Kill9()
		killedAt := time.Now()
		storedAtKill := storedIncrementing(t, offsetsFile, "inc")
		time.Sleep(500 * time.Millisecond)
		rekillAt := time.Now()
		w.Restart()

		time.Sleep(2 * time.Second)
		stopWriters()
		if t.Failed() {
			return
		}
		want := d.ids(t, "events")
		t.Logf("writers: %d commits (%d below an id already committed), %d rollbacks, %d rows",
			stats.commits.Load(), stats.late.Load(), stats.rollbacks.Load(), len(want))
		if stats.late.Load() == 0 || stats.rollbacks.Load() == 0 {
			t.Fatal("the workload committed nothing out of order or rolled nothing back, so it cannot show that no row is skipped")
		}

		r := newTopicReader(t, w.Bootstrap, topics["inc"], topics["tsinc"])
		for _, name := range []string{"inc", "tsinc"} {
			topic := topics[name]
			w.WaitFor(60*time.Second, name+": every committed row in "+topic, func() bool {
				r.poll()
				missing, _ := missingAndExtra(idCounts(t, r.records(topic)), want)
				return len(missing) == 0
			})
		}
		time.Sleep(500 * time.Millisecond) // a straggler would show up as an extra
		r.poll()

		for _, name := range []string{"inc", "tsinc"} {
			recs := r.records(topics[name])
			missing, extra := missingAndExtra(idCounts(t, recs), want)
			if len(missing) > 0 || len(extra) > 0 {
				t.Errorf("%s: %d committed rows missing %v, %d ids not in the table %v", name, len(missing), firstFew(missing), len(extra), firstFew(extra))
			}
			// The phases by the records' Kafka timestamps: up to the graceful stop, between the
			// restarts, and after the kill.
			before, between, after := map[int64]int{}, map[int64]int{}, map[int64]int{}
			for _, rec := range recs {
				switch {
				case rec.at.Before(stoppedAt):
					before[rec.id(t)]++
				case rec.at.After(restartAt) && rec.at.Before(killedAt):
					between[rec.id(t)]++
				case rec.at.After(rekillAt):
					after[rec.id(t)]++
				default:
					t.Errorf("%s: record %d produced at %v while the worker was down", name, rec.id(t), rec.at)
				}
			}
			var again []int64
			for id := range between {
				if before[id] > 0 {
					again = append(again, id)
				}
			}
			slices.Sort(again)
			if len(again) > 0 {
				t.Errorf("%s: %d rows sent before the graceful stop were sent again after the restart: %v", name, len(again), firstFew(again))
			}
			dups := 0
			for _, n := range idCounts(t, recs) {
				dups += n - 1
			}
			t.Logf("%s: %d records for %d rows: %d before the stop, %d between the restarts, %d after the kill (%d repeated)",
				name, len(recs), len(want), len(before), len(between), len(after), dups)
			if name != "inc" {
				continue
			}
			// In incrementing mode the stored offset is the last id of the topic before a graceful
			// stop, and a restarted worker only sends ids above what was stored when it went down.
			maxBefore := int64(0)
			for id := range before {
				maxBefore = max(maxBefore, id)
			}
			if storedAtStop != maxBefore {
				t.Errorf("inc: offset stored at the graceful stop %d, last id sent before it %d", storedAtStop, maxBefore)
			}
			for id := range between {
				if id <= storedAtStop {
					t.Errorf("inc: id %d sent after the graceful restart is not above the stored offset %d", id, storedAtStop)
					break
				}
			}
			for id := range after {
				if id <= storedAtKill {
					t.Errorf("inc: id %d sent after the kill -9 is not above the stored offset %d", id, storedAtKill)
					break
				}
			}
		}
	})
}

// TestWorkerSplitsTablesAndDiscoversNewOnes starts a connector on a whole database with
// tasks.max=2 and three tables, then creates a fourth table while it runs.
func TestWorkerSplitsTablesAndDiscoversNewOnes(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *testDB) {
		tables := []string{"t_alpha", "t_beta", "t_gamma"}
		for _, tbl := range tables {
			d.exec(t, "CREATE TABLE "+tbl+" ("+d.autoID()+", v varchar(10) NOT NULL)")
			insertRows(t, d, tbl, 10)
		}
		dir := t.TempDir()
		prefix := topicPrefix(t)
		w := workertest.Start(t, dir, workertest.WorkerProps(t, dir), d.connector("all", prefix, "tasks.max", "2",
			"mode", "incrementing", "incrementing.column.name", "id", "table.poll.interval.ms", "500"))

		assigned := taskTables(t, w, "all", 2, tables)
		t.Logf("tasks: %v", assigned)

		topicOf := func(tbl string) string { return prefix + tbl }
		// One reader per topic, made once the topic has rows: a consumer asked for a topic that
		// does not exist yet backs off for seconds before looking again.
		readers := map[string]*topicReader{}
		waitIDs := func(tbl string, n int) {
			t.Helper()
			if readers[tbl] == nil {
				readers[tbl] = newTopicReader(t, w.Bootstrap, topicOf(tbl))
			}
			r := readers[tbl]
			w.WaitFor(30*time.Second, fmt.Sprintf("ids 1..%d in %s", n, topicOf(tbl)), func() bool {
				r.poll()
				return len(idCounts(t, r.records(topicOf(tbl)))) >= n
			})
		}
		for _, tbl := range tables {
			waitIDs(tbl, 10)
		}

		d.exec(t, "CREATE TABLE t_delta ("+d.autoID()+", v varchar(10) NOT NULL)")
		insertRows(t, d, "t_delta", 5)
		waitIDs("t_delta", 5)
		assigned = taskTables(t, w, "all", 2, append(tables, "t_delta"))
		t.Logf("tasks after t_delta was created: %v", assigned)

		// The tasks restarted with the new assignment resume the old tables from their offsets.
		insertRows(t, d, "t_alpha", 3)
		waitIDs("t_alpha", 13)
		time.Sleep(500 * time.Millisecond)
		for _, tbl := range append(tables, "t_delta") {
			r := readers[tbl]
			r.poll()
			want := d.ids(t, tbl)
			seen := idCounts(t, r.records(topicOf(tbl)))
			missing, extra := missingAndExtra(seen, want)
			if len(missing) > 0 || len(extra) > 0 {
				t.Errorf("%s: missing %v, not in the table %v", tbl, missing, extra)
			}
			for id, n := range seen {
				if n > 1 {
					t.Errorf("%s: id %d sent %d times, though the tasks were only reconfigured", tbl, id, n)
				}
			}
		}
	})
}

func insertRows(t *testing.T, d *testDB, table string, n int) {
	t.Helper()
	vals := make([]string, n)
	for i := range vals {
		vals[i] = fmt.Sprintf("('v%d')", i)
	}
	d.exec(t, "INSERT INTO "+table+" (v) VALUES "+strings.Join(vals, ", "))
}

// taskTables waits until the connector runs n tasks, each RUNNING, whose "tables" settings
// together name every table of want exactly once; it returns each task's setting.
func taskTables(t *testing.T, w *workertest.Worker, connector string, n int, want []string) []string {
	t.Helper()
	var got []string
	w.WaitFor(30*time.Second, fmt.Sprintf("%d running tasks sharing tables %v", n, want), func() bool {
		status, body := w.Do(http.MethodGet, "/connectors/"+connector+"/tasks", nil)
		if status != http.StatusOK {
			return false
		}
		var tasks []struct {
			Config map[string]string `json:"config"`
		}
		if err := json.Unmarshal(body, &tasks); err != nil {
			t.Fatalf("tasks: %v: %s", err, body)
		}
		got = got[:0]
		for _, task := range tasks {
			got = append(got, task.Config["tables"])
		}
		if len(got) != n {
			return false
		}
		for _, tbl := range want {
			holders := 0
			for _, tables := range got {
				if strings.Contains(tables, tbl) {
					holders++
				}
			}
			if holders != 1 {
				return false
			}
		}
		status, body = w.Do(http.MethodGet, "/connectors/"+connector+"/status", nil)
		var st struct {
			Tasks []struct {
				State string `json:"state"`
			} `json:"tasks"`
		}
		if status != http.StatusOK || json.Unmarshal(body, &st) != nil || len(st.Tasks) != n {
			return false
		}
		for _, task := range st.Tasks {
			if task.State != "RUNNING" {
				return false
			}
		}
		return true
	})
	return got
}

// typeCase is a column, a value stored in it, and how to find what the JSON converter must write
// for it: expr is SQL over the column ({c}) whose text result, read back from the database,
// kind turns into the expected JSON value; schema is the field's Connect schema from TYPES.md.
type typeCase struct {
	col, sqlType, literal string
	expr                  string
	kind                  string // int, float32, float64, bool, string, decimal, decimals (a JSON array of them), json
	schema                string // a Connect type, "Decimal:<scale>", Date, Time, Timestamp, or "array:<element>"
}

var pgTypeCases = []typeCase{
	{"c_int2", "smallint", "-32768", "", "int", "int16"},
	{"c_int4", "integer", "2147483647", "", "int", "int32"},
	{"c_int4_nn", "integer NOT NULL", "-7", "", "int", "int32!"},
	{"c_int8", "bigint", "-9223372036854775808", "", "int", "int64"},
	{"c_oid", "oid", "4294967295", "", "int", "int64"},
	{"c_domain", "posint", "42", "", "int", "int32"},
	{"c_num", "numeric(10,2)", "-12345678.91", "", "decimal", "Decimal:2"},
	{"c_num_small", "numeric(5,3)", "0.005", "", "decimal", "Decimal:3"},
	{"c_num_int", "numeric(20,0)", "12345678901234567890", "", "decimal", "Decimal:0"},
	{"c_num_neg", "numeric(20,0)", "-9223372036854775809", "", "decimal", "Decimal:0"},
	{"c_num_free", "numeric", "3.14159265358979323846264338327950288", "", "string", "string"},
	{"c_float4", "real", "0.1", "", "float32", "float32"},
	{"c_float8", "double precision", "3.141592653589793", "", "float64", "float64"},
	{"c_bool", "boolean NOT NULL", "true", "", "bool", "boolean!"},
	{"c_text", "text", `'héllo, "wörld" \ ✓'`, "", "string", "string"},
	{"c_varchar", "varchar(10)", "'abc'", "", "string", "string"},
	{"c_char", "char(5)", "'ab'", "format('%s', {c})", "string", "string"},
	{"c_name", "name", "'a_name'", "", "string", "string"},
	{"c_qchar", `"char"`, "'q'", "", "string", "string"},
	{"c_bytea", "bytea", `'\xdeadbeef00'`, "encode({c}, 'base64')", "string", "bytes"},
	{"c_date", "date", "'2024-02-29'", "({c} - DATE '1970-01-01')::text", "int", "Date"},
	{"c_date_old", "date", "'1969-12-31'", "({c} - DATE '1970-01-01')::text", "int", "Date"},
	{"c_time", "time", "'13:45:30.123456'", "floor(extract(epoch FROM {c}) * 1000)::bigint::text", "int", "Time"},
	{"c_timetz", "timetz", "'10:00:00+02'", "floor(extract(epoch FROM ({c} AT TIME ZONE 'UTC')::time) * 1000)::bigint::text", "int", "Time"},
	{"c_ts", "timestamp", "'2024-03-01 12:34:56.789123'", "floor(extract(epoch FROM {c}) * 1000)::bigint::text", "int", "Timestamp"},
	{"c_ts_old", "timestamp", "'1969-07-20 20:17:40.5'", "floor(extract(epoch FROM {c}) * 1000)::bigint::text", "int", "Timestamp"},
	{"c_tstz", "timestamptz", "'2024-03-01 12:34:56.789+01'", "floor(extract(epoch FROM {c}) * 1000)::bigint::text", "int", "Timestamp"},
	{"c_uuid", "uuid", "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", "", "string", "string"},
	{"c_json", "json", `'{"a":  1}'`, "", "string", "string"},
	{"c_jsonb", "jsonb", `'{"b":[1,2],"a":null}'`, "", "string", "string"},
	{"c_enum", "mood", "'sad'", "", "string", "string"},
	{"c_composite", "pair", "ROW(1, 'x y')", "", "string", "string"},
	{"c_interval", "interval", "'1 day 2 hours'", "", "string", "string"},
	{"c_money", "money", "'12.34'", "", "string", "string"},
	{"c_inet", "inet", "'192.168.0.1/24'", "", "string", "string"},
	{"c_cidr", "cidr", "'10.0.0.0/8'", "", "string", "string"},
	{"c_macaddr", "macaddr", "'08:00:2b:01:02:03'", "", "string", "string"},
	{"c_xml", "xml", "'<a>x</a>'", "", "string", "string"},
	{"c_point", "point", "'(1.5,2)'", "", "string", "string"},
	{"c_tsvector", "tsvector", "'a fat cat'", "", "string", "string"},
	{"c_range", "int4range", "'[1,5)'", "", "string", "string"},
	{"c_bit", "bit(1)", "B'1'", "({c} = B'1')::text", "bool", "boolean"},
	{"c_varbit", "bit varying(8)", "B'101'", "", "string", "string"},
	{"c_int_arr", "integer[]", "'{1,NULL,3}'", "array_to_json({c})::text", "json", "array:int32"},
	{"c_text_arr", "text[]", `'{a,"b c",NULL}'`, "array_to_json({c})::text", "json", "array:string"},
	{"c_bool_arr", "boolean[]", "'{t,f}'", "array_to_json({c})::text", "json", "array:boolean"},
	{"c_float8_arr", "double precision[]", "'{1.5,-2.25}'", "array_to_json({c})::text", "json", "array:float64"},
	{"c_enum_arr", "mood[]", "'{happy,sad}'", "array_to_json({c})::text", "json", "array:string"},
	{"c_uuid_arr", "uuid[]", "'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}'", "array_to_json({c})::text", "json", "array:string"},
	{"c_num_arr", "numeric(4,1)[]", "'{1.5,-2.0}'", "array_to_json({c})::text", "decimals", "array:Decimal:1"},
	{"c_date_arr", "date[]", "'{2024-01-02,1969-12-31}'", "(SELECT json_agg(e - DATE '1970-01-01') FROM unnest({c}) e)::text", "json", "array:Date"},
	{"c_ts_arr", "timestamptz[]", `'{"2024-01-01 00:00:00.25+00"}'`, "(SELECT json_agg(floor(extract(epoch FROM e) * 1000)::bigint) FROM unnest({c}) e)::text", "json", "array:Timestamp"},
	{"c_bytea_arr", "bytea[]", `'{"\\x0102"}'`, "(SELECT json_agg(encode(e, 'base64')) FROM unnest({c}) e)::text", "json", "array:bytes"},
	{"c_interval_arr", "interval[]", "'{1 hour}'", "", "string", "string"},
}

var mariaDBTypeCases = []typeCase{
	{"c_tiny", "tinyint", "-128", "", "int", "int8"},
	{"c_tiny_u", "tinyint unsigned", "255", "", "int", "int16"},
	{"c_bool", "boolean NOT NULL", "true", "", "int", "int8!"},
	{"c_small", "smallint", "-32768", "", "int", "int16"},
	{"c_small_u", "smallint unsigned", "65535", "", "int", "int32"},
	{"c_medium", "mediumint", "-8388608", "", "int", "int32"},
	{"c_medium_u", "mediumint unsigned", "16777215", "", "int", "int64"},
	{"c_int", "int", "2147483647", "", "int", "int32"},
	{"c_int_nn", "int NOT NULL", "-7", "", "int", "int32!"},
	{"c_int_u", "int unsigned", "4294967295", "", "int", "int64"},
	{"c_big", "bigint", "-9223372036854775808", "", "int", "int64"},
	{"c_big_u", "bigint unsigned", "9223372036854775807", "", "int", "int64"},
	{"c_dec", "decimal(10,2)", "-12345678.91", "", "decimal", "Decimal:2"},
	{"c_dec_small", "decimal(5,3)", "0.005", "", "decimal", "Decimal:3"},
	{"c_dec0", "decimal(20,0)", "12345678901234567890", "", "decimal", "Decimal:0"},
	{"c_numeric", "numeric(6,1)", "-0.5", "", "decimal", "Decimal:1"},
	{"c_float", "float", "0.1", "", "float32", "float32"},
	{"c_double", "double", "3.141592653589793", "", "float64", "float64"},
	{"c_bit1", "bit(1)", "b'1'", "CAST({c} + 0 AS CHAR)", "int", "int8"},
	{"c_bit16", "bit(16)", "b'0000000100000010'", "TO_BASE64({c})", "string", "bytes"},
	{"c_char", "char(5)", "'ab'", "", "string", "string"},
	{"c_varchar", "varchar(40)", `'héllo, "wörld" \\ ✓'`, "", "string", "string"},
	{"c_varchar_empty", "varchar(20)", "''", "", "string", "string"},
	{"c_tinytext", "tinytext", "'tiny'", "", "string", "string"},
	{"c_text", "text", "'long text'", "", "string", "string"},
	{"c_mediumtext", "mediumtext", "'medium'", "", "string", "string"},
	{"c_longtext", "longtext", "'long'", "", "string", "string"},
	{"c_enum", "enum('small','large')", "'large'", "", "string", "string"},
	{"c_set", "set('x','y','z')", "'x,z'", "", "string", "string"},
	{"c_json", "json", `'{"a": [1, 2]}'`, "", "string", "string"},
	{"c_binary", "binary(4)", "x'0102'", "TO_BASE64({c})", "string", "bytes"},
	{"c_varbinary", "varbinary(8)", "x'deadbeef'", "TO_BASE64({c})", "string", "bytes"},
	{"c_tinyblob", "tinyblob", "x'00ff'", "TO_BASE64({c})", "string", "bytes"},
	{"c_blob", "blob", "x''", "TO_BASE64({c})", "string", "bytes"},
	{"c_mediumblob", "mediumblob", "x'0a0b0c'", "TO_BASE64({c})", "string", "bytes"},
	{"c_longblob", "longblob", "x'ff'", "TO_BASE64({c})", "string", "bytes"},
	{"c_point", "point", "ST_GeomFromText('POINT(1 2)')", "TO_BASE64({c})", "string", "bytes"},
	{"c_date", "date", "'2024-02-29'", "CAST(DATEDIFF({c}, '1970-01-01') AS CHAR)", "int", "Date"},
	{"c_date_old", "date", "'1969-12-31'", "CAST(DATEDIFF({c}, '1970-01-01') AS CHAR)", "int", "Date"},
	{"c_year", "year", "2024", "CAST(DATEDIFF(MAKEDATE({c}, 1), '1970-01-01') AS CHAR)", "int", "Date"},
	{"c_time", "time(3)", "'13:45:30.123'", "CAST(FLOOR(TIME_TO_SEC({c}) * 1000) AS CHAR)", "int", "Time"},
	{"c_datetime", "datetime(6)", "'2024-03-01 12:34:56.789123'", "CAST(FLOOR(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', {c}) / 1000) AS CHAR)", "int", "Timestamp"},
	{"c_uuid", "uuid", "'123E4567-E89B-12D3-A456-426655440000'", "", "string", "string"},
	{"c_inet6", "inet6", "'2001:db8::ff00:42:8329'", "", "string", "string"},
	{"c_inet4", "inet4", "'10.1.2.3'", "", "string", "string"},
	{"c_timestamp", "timestamp(3) NULL", "'2024-03-01 12:34:56.789'", "CAST(FLOOR(UNIX_TIMESTAMP({c}) * 1000) AS CHAR)", "int", "Timestamp"},
}

// TestWorkerTypesThroughJSONConverter copies a row holding a value of every documented column
// type, and a row of NULLs, through the worker with the JSON converter and schemas enabled, and
// compares each field's schema with TYPES.md and each value with what the database itself
// computes for the column, encoded as Kafka's JsonConverter encodes the Connect type.
func TestWorkerTypesThroughJSONConverter(t *testing.T) {
	forEachDB(t, func(t *testing.T, d *testDB) {
		cases := mariaDBTypeCases
		if d.kind == "postgres" {
			cases = pgTypeCases
			d.exec(t, "CREATE TYPE mood AS ENUM ('happy', 'sad')", "CREATE DOMAIN posint AS integer CHECK (VALUE > 0)",
				"CREATE TYPE pair AS (a int, b text)")
		}
		var defs, cols, lits, exprs []string
		for _, c := range cases {
			defs = append(defs, c.col+" "+c.sqlType)
			cols = append(cols, c.col)
			lits = append(lits, c.literal)
			expr := c.expr
			if expr == "" && d.kind == "postgres" {
				expr = "{c}::text"
			} else if expr == "" {
				expr = "CAST({c} AS CHAR)"
			}
			exprs = append(exprs, strings.ReplaceAll(expr, "{c}", c.col))
		}
		d.exec(t, "CREATE TABLE all_types (id int NOT NULL "+map[string]string{"postgres": "GENERATED ALWAYS AS IDENTITY", "mariadb": "AUTO_INCREMENT"}[d.kind]+
			" PRIMARY KEY, "+strings.Join(defs, ", ")+")")
		// The second row leaves every nullable column NULL.
		var required, zeros []string
		for _, c := range cases {
			if strings.HasSuffix(c.schema, "!") {
				required = append(required, c.col)
				zeros = append(zeros, map[bool]string{true: "false", false: "0"}[c.col == "c_bool"])
			}
		}
		inserts := []string{
			"INSERT INTO all_types (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(lits, ", ") + ")",
			"INSERT INTO all_types (" + strings.Join(required, ", ") + ") VALUES (" + strings.Join(zeros, ", ") + ")",
		}
		if d.kind == "mariadb" {
			// A session zone away from UTC: TIMESTAMP columns store the instant, DATETIME the wall
			// clock. One statement, so the setting holds for the inserts whatever the pooled session.
			inserts = []string{"SET time_zone = '+01:00'; " + strings.Join(inserts, "; ")}
		}
		d.exec(t, inserts...)
		want := d.queryRow(t, "SELECT "+strings.Join(exprs, ", ")+" FROM all_types WHERE id = 1")

		dir := t.TempDir()
		prefix := topicPrefix(t)
		worker := workertest.WorkerProps(t, dir)
		worker["value.converter.schemas.enable"] = "true"
		w := workertest.Start(t, dir, worker, d.connector("types", prefix, "mode", "incrementing",
			"incrementing.column.name", "id", "table.whitelist", "all_types"))
		topic := prefix + "all_types"
		r := newTopicReader(t, w.Bootstrap, topic)
		w.WaitFor(30*time.Second, "two records in "+topic, func() bool { r.poll(); return len(r.records(topic)) >= 2 })
		recs := r.records(topic)

		schema, _ := recs[0].value["schema"].(map[string]any)
		if schema["type"] != "struct" || schema["name"] != "all_types" || schema["optional"] != false {
			t.Fatalf("value schema %v: want a required struct named all_types", schema)
		}
		fields := map[string]map[string]any{}
		for _, f := range schema["fields"].([]any) {
			fm := f.(map[string]any)
			fields[fm["field"].(string)] = fm
		}
		if f := fields["id"]; f == nil || f["type"] != "int32" || f["optional"] != false {
			t.Errorf("id field %v: want a required int32", f)
		}
		row, nulls := recs[0].value["payload"].(map[string]any), recs[1].value["payload"].(map[string]any)
		for i, c := range cases {
			f := fields[c.col]
			if f == nil {
				t.Errorf("%s (%s): no field in the schema", c.col, c.sqlType)
				continue
			}
			if msg := checkSchema(f, c.schema); msg != "" {
				t.Errorf("%s (%s): schema %v: %s", c.col, c.sqlType, f, msg)
			}
			if want[i] == nil {
				t.Fatalf("%s: the database computed NULL for %s", c.col, exprs[i])
			}
			if msg := checkValue(row[c.col], *want[i], c); msg != "" {
				t.Errorf("%s (%s): %s", c.col, c.sqlType, msg)
			}
			if !strings.HasSuffix(c.schema, "!") && nulls[c.col] != nil {
				t.Errorf("%s (%s): NULL written as %v", c.col, c.sqlType, nulls[c.col])
			}
		}
		if len(fields) != len(cases)+1 {
			t.Errorf("schema has %d fields, the table %d columns", len(fields), len(cases)+1)
		}
	})
}

// Connect logical types as the JSON converter names them.
var logicalTypes = map[string][2]string{
	"Decimal":   {"bytes", "org.apache.kafka.connect.data.Decimal"},
	"Date":      {"int32", "org.apache.kafka.connect.data.Date"},
	"Time":      {"int32", "org.apache.kafka.connect.data.Time"},
	"Timestamp": {"int64", "org.apache.kafka.connect.data.Timestamp"},
}

// checkSchema compares a field's JSON schema with a schema spec ("!" marks a required field);
// it returns what differs, or "".
func checkSchema(f map[string]any, spec string) string {
	optional := !strings.HasSuffix(spec, "!")
	spec = strings.TrimSuffix(spec, "!")
	if f["optional"] != optional {
		return fmt.Sprintf("optional=%v, want %v", f["optional"], optional)
	}
	if elem, ok := strings.CutPrefix(spec, "array:"); ok {
		if f["type"] != "array" {
			return "not an array"
		}
		items, _ := f["items"].(map[string]any)
		if msg := checkSchema(items, elem); msg != "" {
			return "items: " + msg
		}
		return ""
	}
	logical, scale, _ := strings.Cut(spec, ":")
	if lt, ok := logicalTypes[logical]; ok {
		if f["type"] != lt[0] || f["name"] != lt[1] {
			return fmt.Sprintf("want %s named %s", lt[0], lt[1])
		}
		if scale != "" {
			params, _ := f["parameters"].(map[string]any)
			if params["scale"] != scale {
				return fmt.Sprintf("scale parameter %v, want %s", params["scale"], scale)
			}
		}
		return ""
	}
	// JsonConverter names FLOAT32 and FLOAT64 "float" and "double".
	if want := map[string]string{"float32": "float", "float64": "double"}[spec]; want != "" {
		spec = want
	}
	if f["type"] != spec || f["name"] != nil {
		return fmt.Sprintf("want plain %s", spec)
	}
	return ""
}

// checkValue compares a payload value with the expected value computed by the database; it
// returns what differs, or "".
func checkValue(got any, dbText string, c typeCase) string {
	var want any
	switch c.kind {
	case "int":
		n, ok := got.(json.Number)
		wantN, ok2 := new(big.Int).SetString(strings.TrimSpace(dbText), 10)
		if !ok || !ok2 {
			return fmt.Sprintf("got %#v, want the integer %s", got, dbText)
		}
		gotN, ok := new(big.Int).SetString(n.String(), 10)
		if !ok || gotN.Cmp(wantN) != 0 {
			return fmt.Sprintf("got %s, want %s", n, dbText)
		}
		return ""
	case "float32", "float64":
		bits := 64
		if c.kind == "float32" {
			bits = 32
		}
		n, ok := got.(json.Number)
		wantF, err := strconv.ParseFloat(dbText, bits)
		if !ok || err != nil {
			return fmt.Sprintf("got %#v, want the number %s", got, dbText)
		}
		if gotF, err := strconv.ParseFloat(n.String(), bits); err != nil || gotF != wantF {
			return fmt.Sprintf("got %s, want %s", n, dbText)
		}
		return ""
	case "bool":
		want = dbText == "true" || dbText == "t" || dbText == "1"
	case "string":
		want = dbText
	case "decimal":
		_, scale, _ := strings.Cut(c.schema, ":")
		want = decimalBase64(dbText, scale)
	case "decimals":
		_, scale, _ := strings.Cut(strings.TrimPrefix(c.schema, "array:"), ":")
		var nums []json.Number
		if err := json.Unmarshal([]byte(dbText), &nums); err != nil {
			return fmt.Sprintf("database gave %s: %v", dbText, err)
		}
		var elems []any
		for _, n := range nums {
			elems = append(elems, decimalBase64(n.String(), scale))
		}
		want = elems
	case "json":
		dec := json.NewDecoder(strings.NewReader(dbText))
		dec.UseNumber()
		if err := dec.Decode(&want); err != nil {
			return fmt.Sprintf("database gave %s: %v", dbText, err)
		}
	default:
		panic("unknown kind " + c.kind)
	}
	gotJSON, _ := json.Marshal(got)
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		return fmt.Sprintf("got %s, want %s (database: %s)", gotJSON, wantJSON, dbText)
	}
	return ""
}

// decimalBase64 encodes a decimal's text at the given scale the way Connect's Decimal logical type
// travels in JSON: the unscaled value as big-endian two's complement in the fewest bytes (Java's
// BigInteger.toByteArray), base64-encoded.
func decimalBase64(text, scale string) string {
	s, err := strconv.Atoi(scale)
	if err != nil {
		panic(err)
	}
	text = strings.TrimSpace(text)
	whole, frac, _ := strings.Cut(text, ".")
	if len(frac) > s {
		panic(fmt.Sprintf("%s has more than %d decimals", text, s))
	}
	unscaled, ok := new(big.Int).SetString(whole+frac+strings.Repeat("0", s-len(frac)), 10)
	if !ok {
		panic("not a decimal: " + text)
	}
	var b []byte
	if unscaled.Sign() >= 0 {
		b = unscaled.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
	} else {
		// -n in two's complement is the bitwise complement of n-1.
		m := new(big.Int).Neg(unscaled)
		b = m.Sub(m, big.NewInt(1)).Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		for i := range b {
			b[i] = ^b[i]
		}
	}
	return base64.StdEncoding.EncodeToString(b)
}
