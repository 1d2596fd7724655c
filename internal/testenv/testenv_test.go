package testenv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// smokeTimeout bounds each smoke test; generous for a cold real broker.
const smokeTimeout = 60 * time.Second

func TestPostgres(t *testing.T) {
	t.Parallel()
	dsn := PostgresDSN(t)
	ctx, cancel := context.WithTimeout(t.Context(), smokeTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)

	var db, walLevel string
	var super bool
	if err := conn.QueryRow(ctx, `SELECT current_database(), current_setting('wal_level'),
		(SELECT rolsuper FROM pg_roles WHERE rolname = current_user)`).Scan(&db, &walLevel, &super); err != nil {
		t.Fatalf("query settings: %v", err)
	}
	if !strings.HasPrefix(db, "kct_testpostgres_") {
		t.Errorf("current_database() = %q, want a fresh kct_testpostgres_* database", db)
	}
	if walLevel != "logical" {
		t.Errorf("wal_level = %q, want logical", walLevel)
	}
	if !super {
		t.Errorf("PostgresDSN logs in as a non-superuser")
	}

	if _, err := conn.Exec(ctx, `CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);
		INSERT INTO items VALUES (1, 'one'), (2, 'two')`); err != nil {
		t.Fatalf("create and fill table: %v", err)
	}
	rows, err := conn.Query(ctx, "SELECT name FROM items ORDER BY id")
	if err != nil {
		t.Fatalf("select: %v", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("read rows: %v", err)
	}
	if got := strings.Join(names, ","); got != "one,two" {
		t.Errorf("read back %q, want one,two", got)
	}
}

// TestPostgresLogicalReplicationAsNonSuperuser checks what CDC needs from the
// REPLICATION-only role: its own tables and publication, slots through both
// the SQL functions and the replication protocol, and a pgoutput stream that
// actually delivers a change.
func TestPostgresLogicalReplicationAsNonSuperuser(t *testing.T) {
	t.Parallel()
	super := PostgresDSN(t)
	dsn := PostgresReplDSN(t, super)
	ctx, cancel := context.WithTimeout(t.Context(), smokeTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect as replication role: %v", err)
	}
	defer conn.Close(ctx)

	var isSuper, isRepl bool
	if err := conn.QueryRow(ctx, "SELECT rolsuper, rolreplication FROM pg_roles WHERE rolname = current_user").
		Scan(&isSuper, &isRepl); err != nil {
		t.Fatalf("query role: %v", err)
	}
	if isSuper || !isRepl {
		t.Fatalf("PostgresReplDSN role: superuser=%v replication=%v, want false/true", isSuper, isRepl)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);
		CREATE PUBLICATION smoke_pub FOR TABLE items`); err != nil {
		t.Fatalf("create table and publication as replication role: %v", err)
	}
	slot := conn.Config().Database // unique per test, and a valid slot name

	t.Run("sql", func(t *testing.T) {
		name := slot + "_sql"
		if _, err := conn.Exec(ctx, "SELECT pg_create_logical_replication_slot($1, 'pgoutput')", name); err != nil {
			t.Fatalf("pg_create_logical_replication_slot: %v", err)
		}
		if _, err := conn.Exec(ctx, "SELECT pg_drop_replication_slot($1)", name); err != nil {
			t.Fatalf("pg_drop_replication_slot: %v", err)
		}
	})

	t.Run("stream", func(t *testing.T) {
		rc, err := pgconn.Connect(ctx, replicationDSN(t, dsn))
		if err != nil {
			t.Fatalf("replication connection: %v", err)
		}
		defer rc.Close(context.Background())
		res, err := pglogrepl.CreateReplicationSlot(ctx, rc, slot, "pgoutput",
			pglogrepl.CreateReplicationSlotOptions{Mode: pglogrepl.LogicalReplication})
		if err != nil {
			t.Fatalf("CREATE_REPLICATION_SLOT: %v", err)
		}
		start, err := pglogrepl.ParseLSN(res.ConsistentPoint)
		if err != nil {
			t.Fatalf("consistent point %q: %v", res.ConsistentPoint, err)
		}
		if _, err := conn.Exec(ctx, "INSERT INTO items VALUES (7, 'seven')"); err != nil {
			t.Fatalf("insert: %v", err)
		}
		if err := pglogrepl.StartReplication(ctx, rc, slot, start, pglogrepl.StartReplicationOptions{
			PluginArgs: []string{"proto_version '1'", "publication_names 'smoke_pub'"},
		}); err != nil {
			t.Fatalf("START_REPLICATION: %v", err)
		}
		if got := receiveInsert(ctx, t, rc); got != "7,seven" {
			t.Errorf("streamed insert = %q, want 7,seven", got)
		}
		if err := rc.Close(ctx); err != nil {
			t.Fatalf("closing replication connection: %v", err)
		}
		dropSlot(ctx, t, conn, slot)
	})
}

// replicationDSN turns a DSN into one for a logical replication connection.
func replicationDSN(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("unparsable DSN: %v", err)
	}
	q := u.Query()
	q.Set("replication", "database")
	u.RawQuery = q.Encode()
	return u.String()
}

// receiveInsert reads the pgoutput stream until the first INSERT and returns
// its column values joined by commas.
func receiveInsert(ctx context.Context, t *testing.T, rc *pgconn.PgConn) string {
	t.Helper()
	for {
		msg, err := rc.ReceiveMessage(ctx)
		if err != nil {
			t.Fatalf("receiving replication message: %v", err)
		}
		switch msg := msg.(type) {
		case *pgproto3.ErrorResponse:
			t.Fatalf("replication error: %s", msg.Message)
		case *pgproto3.CopyData:
			if msg.Data[0] != pglogrepl.XLogDataByteID {
				continue // keepalives: the test finishes long before one needs an answer
			}
			xld, err := pglogrepl.ParseXLogData(msg.Data[1:])
			if err != nil {
				t.Fatalf("parsing XLogData: %v", err)
			}
			lm, err := pglogrepl.Parse(xld.WALData)
			if err != nil {
				t.Fatalf("parsing pgoutput message: %v", err)
			}
			if ins, ok := lm.(*pglogrepl.InsertMessage); ok {
				var vals []string
				for _, c := range ins.Tuple.Columns {
					vals = append(vals, string(c.Data))
				}
				return strings.Join(vals, ",")
			}
		}
	}
}

// dropSlot drops the slot as the replication role, once its walsender has
// let go of it (that happens asynchronously after the connection closes).
func dropSlot(ctx context.Context, t *testing.T, conn *pgx.Conn, slot string) {
	t.Helper()
	for {
		_, err := conn.Exec(ctx, "SELECT pg_drop_replication_slot($1)", slot)
		if err == nil {
			break
		}
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "55006" { // object_in_use: still active
			t.Fatalf("pg_drop_replication_slot: %v", err)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("slot %s still active: %v", slot, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", slot).Scan(&n); err != nil {
		t.Fatalf("counting slots: %v", err)
	}
	if n != 0 {
		t.Errorf("slot %s still exists after drop", slot)
	}
}

// TestPostgresCleanupDropsLeftovers leaves what a failing CDC test might: an
// open session and an active replication slot on its database, and checks
// that PostgresDSN's cleanup still drops the database.
func TestPostgresCleanupDropsLeftovers(t *testing.T) {
	t.Parallel()
	var name string
	var leaked []*pgconn.PgConn
	defer func() {
		for _, c := range leaked {
			c.Close(context.Background())
		}
	}()
	t.Run("leak", func(t *testing.T) {
		dsn := PostgresDSN(t)
		ctx, cancel := context.WithTimeout(t.Context(), smokeTimeout)
		defer cancel()
		session, err := pgconn.Connect(ctx, dsn)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		leaked = append(leaked, session)
		rc, err := pgconn.Connect(ctx, replicationDSN(t, dsn))
		if err != nil {
			t.Fatalf("replication connection: %v", err)
		}
		leaked = append(leaked, rc)
		name = strings.TrimPrefix(must(url.Parse(dsn)).Path, "/") // unique, so also the slot name
		if _, err := pglogrepl.CreateReplicationSlot(ctx, rc, name, "pgoutput",
			pglogrepl.CreateReplicationSlotOptions{Mode: pglogrepl.LogicalReplication}); err != nil {
			t.Fatalf("CREATE_REPLICATION_SLOT: %v", err)
		}
		if err := pglogrepl.StartReplication(ctx, rc, name, 0, pglogrepl.StartReplicationOptions{
			PluginArgs: []string{"proto_version '1'", "publication_names 'none'"},
		}); err != nil {
			t.Fatalf("START_REPLICATION: %v", err)
		}
	})
	if t.Failed() {
		return
	}
	ctx, cancel := context.WithTimeout(t.Context(), smokeTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, Require(t, envPostgresDSN))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var dbs, slots int
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM pg_database WHERE datname = $1),
		(SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1)`, name).Scan(&dbs, &slots); err != nil {
		t.Fatalf("query leftovers: %v", err)
	}
	if dbs != 0 || slots != 0 {
		t.Errorf("after cleanup: %d databases and %d slots named %s remain", dbs, slots, name)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestPostgresServerStopsAndStarts(t *testing.T) {
	t.Parallel()
	s := NewPostgresServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), smokeTimeout)
	defer cancel()
	exec := func(sql string) error {
		conn, err := pgx.Connect(ctx, s.DSN())
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec("CREATE TABLE kept (id int)"); err != nil {
		t.Fatalf("on the started server: %v", err)
	}
	s.Stop()
	if err := exec("SELECT 1"); err == nil {
		t.Fatal("connected to the stopped server")
	}
	s.Start()
	if err := exec("INSERT INTO kept VALUES (1)"); err != nil {
		t.Fatalf("after a restart: %v\n%s", err, s.Log())
	}
}

func TestMySQL(t *testing.T) {
	t.Parallel()
	dsn := MySQLDSN(t)
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("MySQLDSN returned an unparsable DSN %q: %v", dsn, err)
	}
	if !cfg.ParseTime || !cfg.MultiStatements {
		t.Errorf("MySQLDSN %q: want parseTime and multiStatements", dsn)
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(t.Context(), smokeTimeout)
	defer cancel()

	var current string
	if err := db.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&current); err != nil {
		t.Fatalf("SELECT DATABASE(): %v", err)
	}
	if current != cfg.DBName || !strings.HasPrefix(current, "kct_testmysql_") {
		t.Errorf("DATABASE() = %q, want the fresh %q", current, cfg.DBName)
	}
	var name, format string
	if err := db.QueryRowContext(ctx, "SHOW VARIABLES LIKE 'binlog_format'").Scan(&name, &format); err != nil {
		t.Fatalf("SHOW VARIABLES: %v", err)
	}
	if format != "ROW" {
		t.Errorf("binlog_format = %q, want ROW", format)
	}

	// One Exec with two statements needs multiStatements=true.
	if _, err := db.ExecContext(ctx, `CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL, at DATETIME NOT NULL);
		INSERT INTO items VALUES (1, 'one', '2024-05-06 07:08:09')`); err != nil {
		t.Fatalf("create and fill table: %v", err)
	}
	var got string
	var at time.Time // scanning DATETIME into time.Time needs parseTime=true
	if err := db.QueryRowContext(ctx, "SELECT name, at FROM items WHERE id = 1").Scan(&got, &at); err != nil {
		t.Fatalf("read back: %v", err)
	}
	if want := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC); got != "one" || !at.Equal(want) {
		t.Errorf("read back (%q, %v), want (one, %v)", got, at, want)
	}
}

// TestMySQLCleanupEndsOpenTransactions leaves a transaction open on a table
// of the test database, which would block a plain DROP DATABASE, and checks
// that MySQLDSN's cleanup still drops the database.
func TestMySQLCleanupEndsOpenTransactions(t *testing.T) {
	t.Parallel()
	var name string
	var leaked *sql.DB
	defer func() {
		if leaked != nil {
			leaked.Close()
		}
	}()
	t.Run("leak", func(t *testing.T) {
		dsn := MySQLDSN(t)
		name = must(mysql.ParseDSN(dsn)).DBName
		db, err := sql.Open("mysql", dsn)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		leaked = db
		ctx, cancel := context.WithTimeout(t.Context(), smokeTimeout)
		defer cancel()
		if _, err := db.ExecContext(ctx, "CREATE TABLE items (id INT PRIMARY KEY)"); err != nil {
			t.Fatalf("create table: %v", err)
		}
		// Not ctx: database/sql rolls back when BeginTx's context ends.
		tx, err := db.BeginTx(context.Background(), nil)
		if err != nil {
			t.Fatalf("begin: %v", err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO items VALUES (1)"); err != nil {
			t.Fatalf("insert: %v", err)
		}
		// tx stays open: the subtest's cleanup has to deal with it.
	})
	if t.Failed() {
		return
	}
	cfg := must(mysql.ParseDSN(Require(t, envMySQLDSN)))
	db := sql.OpenDB(must(mysql.NewConnector(cfg)))
	defer db.Close()
	ctx, cancel := context.WithTimeout(t.Context(), smokeTimeout)
	defer cancel()
	var n int
	if err := db.QueryRowContext(ctx,
		"SELECT count(*) FROM information_schema.schemata WHERE schema_name = ?", name).Scan(&n); err != nil {
		t.Fatalf("query schemata: %v", err)
	}
	if n != 0 {
		t.Errorf("database %s still exists after cleanup", name)
	}
}

// TestKafka produces and consumes through whichever broker Kafka returns,
// including a consumer group commit, which needs the offsets topic (and so
// offsets.topic.replication.factor=1 on the single-node real broker).
func TestKafka(t *testing.T) {
	t.Parallel()
	brokers := strings.Split(Kafka(t), ",")
	topic := Topic(t, "smoke")
	group := topic + "-group"
	ctx, cancel := context.WithTimeout(t.Context(), smokeTimeout)
	defer cancel()

	producer, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatalf("producer: %v", err)
	}
	defer producer.Close()
	const n = 10
	var recs []*kgo.Record
	for i := range n {
		recs = append(recs, &kgo.Record{Topic: topic, Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "v%d", i)})
	}
	if err := producer.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}

	consumer, err := kgo.NewClient(kgo.SeedBrokers(brokers...),
		kgo.ConsumeTopics(topic),
		kgo.ConsumerGroup(group),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
	)
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	defer consumer.Close()
	var got []string
	for len(got) < n {
		fetches := consumer.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records: %v", len(got), n, err)
		}
		if errs := fetches.Errors(); len(errs) > 0 {
			t.Fatalf("fetch: %v", errs[0].Err)
		}
		fetches.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Key)+"="+string(r.Value)) })
	}
	for i, kv := range got {
		if want := fmt.Sprintf("k%d=v%d", i, i); kv != want {
			t.Fatalf("record %d = %q, want %q (all: %v)", i, kv, want, got)
		}
	}
	if err := consumer.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("commit: %v", err)
	}
	offsets, err := kadm.NewClient(producer).FetchOffsets(ctx, group)
	if err != nil {
		t.Fatalf("fetch committed offsets: %v", err)
	}
	if o, ok := offsets.Lookup(topic, 0); !ok || o.At != n {
		t.Errorf("committed offset = %+v (found %v), want %d", o, ok, n)
	}
}

func TestTopicIsUniqueAndValid(t *testing.T) {
	a, b := Topic(t, "orders.v1"), Topic(t, "orders.v1")
	if a == b {
		t.Errorf("Topic returned %q twice", a)
	}
	if !regexp.MustCompile(`^orders-v1-TestTopicIsUniqueAndValid-[0-9a-f]{8}$`).MatchString(a) {
		t.Errorf("Topic = %q", a)
	}
}

func TestParseEnvFile(t *testing.T) {
	in := "# comment\n\nexport A='x'\nexport B='it'\\''s=1'\nC=''\n"
	vars, err := parseEnvFile(strings.NewReader(in))
	if err != nil {
		t.Fatalf("parseEnvFile: %v", err)
	}
	if len(vars) != 3 || vars["A"] != "x" || vars["B"] != "it's=1" || vars["C"] != "" {
		t.Errorf("parseEnvFile = %q", vars)
	}
	if _, err := parseEnvFile(strings.NewReader("export A=x\n")); err == nil {
		t.Error("parseEnvFile accepted an unquoted value")
	}
}

var (
	validDBName = regexp.MustCompile(`^kct_[a-z0-9_]{0,40}_[0-9a-f]{8}$`)
	validTopic  = regexp.MustCompile(`^[a-zA-Z0-9-]{1,249}$`)
)

// FuzzNames checks that any test name and prefix yield identifiers the
// servers accept unquoted.
func FuzzNames(f *testing.F) {
	f.Add("orders", "TestX/sub_test#01")
	f.Add("", "")
	f.Add("ü.ß", strings.Repeat("Ω", 300))
	f.Fuzz(func(t *testing.T, prefix, testName string) {
		if db := dbName(testName, suffix()); !validDBName.MatchString(db) {
			t.Errorf("dbName(%q) = %q", testName, db)
		}
		if topic := topicName(prefix, testName, suffix()); !validTopic.MatchString(topic) {
			t.Errorf("topicName(%q, %q) = %q", prefix, testName, topic)
		}
	})
}

// Ports FreePort hands out are held until their test ends, across test processes: none is given
// twice while held, each claim names this process, and the claims go when the test ends.
func TestFreePortHoldsItsPortsUntilTheTestEnds(t *testing.T) {
	var claims []string
	t.Run("hold", func(t *testing.T) {
		seen := map[int]bool{}
		for range 200 {
			p := FreePort(t)
			if seen[p] {
				t.Fatalf("port %d handed out twice while held", p)
			}
			seen[p] = true
			claim := filepath.Join(os.TempDir(), "kconnect-test-ports", strconv.Itoa(p))
			b, err := os.ReadFile(claim)
			if err != nil || string(b) != strconv.Itoa(os.Getpid()) {
				t.Fatalf("claim of port %d: %q, %v; want this process's pid", p, b, err)
			}
			claims = append(claims, claim)
		}
	})
	for _, c := range claims {
		if _, err := os.Stat(c); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("claim %s still there after its test ended: %v", c, err)
		}
	}
}
