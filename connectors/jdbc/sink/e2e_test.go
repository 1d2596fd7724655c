package sink_test

import (
	"context"
	"crypto/md5"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
)

// e2eDB is a fresh destination database for a sink running in a separate worker process: the
// sink's connection settings in the JDBC form a Confluent configuration carries, and a
// connection for the test to look at the result.
type e2eDB struct {
	kind string // "postgres" or "mysql"
	url  string // connection.url
	user string
	pass string
	pg   *pgx.Conn
	my   *sql.DB
}

// each runs query and calls fn with a scan function for every row.
func (d *e2eDB) each(query string, fn func(scan func(dest ...any) error) error, args ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if d.kind == "mysql" {
		rows, err := d.my.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		return eachRow(rows, fn)
	}
	rows, err := d.pg.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	return eachRow(rows, fn)
}

// eachRow calls fn with a scan function for every row of a database/sql or pgx result.
func eachRow(rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}, fn func(scan func(dest ...any) error) error) error {
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

// scalar reads the one value of a one-row query.
func (d *e2eDB) scalar(query string, dest any, args ...any) error {
	return d.each(query, func(scan func(...any) error) error { return scan(dest) }, args...)
}

func e2ePostgres(t *testing.T) *e2eDB {
	t.Helper()
	dsn, conn := testenv.PostgresConn(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	pass, _ := u.User.Password()
	return &e2eDB{kind: "postgres", url: "jdbc:postgresql://" + u.Host + u.Path, user: u.User.Username(), pass: pass, pg: conn}
}

func e2eMySQL(t *testing.T) *e2eDB {
	t.Helper()
	dsn, db := testenv.MySQLConn(t)
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return &e2eDB{kind: "mysql", url: "jdbc:mysql://" + cfg.Addr + "/" + cfg.DBName, user: cfg.User, pass: cfg.Passwd, my: db}
}

// q quotes an identifier for the database.
func (d *e2eDB) q(name string) string {
	if d.kind == "mysql" {
		return "`" + strings.ReplaceAll(name, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// count returns the rows of table, or -1 while the table does not exist yet.
func (d *e2eDB) count(t *testing.T, table string) int64 {
	t.Helper()
	var n int64
	if err := d.scalar("SELECT COUNT(*) FROM "+d.q(table), &n); err != nil {
		if strings.Contains(err.Error(), "does not exist") || strings.Contains(err.Error(), "doesn't exist") {
			return -1
		}
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// storedOffsets sums the next offsets the sink recorded for a connector in its offsets table
// (0 while the table does not exist).
func (d *e2eDB) storedOffsets(t *testing.T, connector string) int64 {
	t.Helper()
	var n int64
	query := `SELECT CAST(COALESCE(SUM("kafka_offset"), 0) AS BIGINT) FROM "kconnect_offsets" WHERE "connector" = $1`
	if d.kind == "mysql" {
		query = "SELECT CAST(COALESCE(SUM(`kafka_offset`), 0) AS SIGNED) FROM `kconnect_offsets` WHERE `connector` = ?"
	}
	if err := d.scalar(query, &n, connector); err != nil {
		if strings.Contains(err.Error(), "does not exist") || strings.Contains(err.Error(), "doesn't exist") {
			return 0
		}
		t.Fatalf("read offsets table: %v", err)
	}
	return n
}

// loadRow is the i-th produced record's value; every field is derived from i so the test can
// recompute what the table must hold.
type loadRow struct {
	id      int64
	name    string
	qty     int32
	price   float64 // a multiple of 1/4, exact in binary and in decimal text
	note    *string // null for every seventh row
	created time.Time
}

var loadEpoch = time.Date(2024, 2, 29, 23, 59, 58, 0, time.UTC)

func makeLoadRow(i int) loadRow {
	r := loadRow{
		id:      int64(i),
		name:    fmt.Sprintf("name-%07d-%s", i, strings.Repeat("x", i%17)),
		qty:     int32(i%1000 - 500),
		price:   float64(i%4000) / 4,
		created: loadEpoch.Add(time.Duration(i) * 1013 * time.Millisecond),
	}
	if i%7 != 0 {
		n := fmt.Sprintf("note 'quoted' \"%d\" ü", i)
		r.note = &n
	}
	return r
}

// canonical renders a row the same way whether it came from the generator or the database.
func (r loadRow) canonical() string {
	note := "NULL"
	if r.note != nil {
		note = strconv.Quote(*r.note)
	}
	return fmt.Sprintf("%d|%s|%d|%s|%s|%d\n", r.id, r.name, r.qty, strconv.FormatFloat(r.price, 'g', -1, 64), note, r.created.UnixMilli())
}

// loadValueSchema is the Kafka Connect JSON converter's schema for the records, with a
// Timestamp logical type and an optional field so that both reach the database.
var loadValueSchema = json.RawMessage(`{"type":"struct","name":"e2e.Load","optional":false,"fields":[
	{"field":"id","type":"int64","optional":false},
	{"field":"name","type":"string","optional":false},
	{"field":"qty","type":"int32","optional":false},
	{"field":"price","type":"double","optional":false},
	{"field":"note","type":"string","optional":true},
	{"field":"created","type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp","version":1}]}`)

func (r loadRow) jsonValue() []byte {
	b, err := json.Marshal(map[string]any{
		"schema": loadValueSchema,
		"payload": map[string]any{
			"id": r.id, "name": r.name, "qty": r.qty, "price": r.price, "note": r.note, "created": r.created.UnixMilli(),
		},
	})
	if err != nil {
		panic(err)
	}
	return b
}

// expectedDigest is the MD5 of the canonical rows 0..n-1 in id order.
func expectedDigest(n int) string {
	h := md5.New()
	for i := range n {
		h.Write([]byte(makeLoadRow(i).canonical()))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// tableDigest reads the whole table in id order and returns the MD5 of its canonical rows,
// plus the ids that appear more than once and how many distinct ids it holds.
func (d *e2eDB) tableDigest(t *testing.T, table string) (digest string, dups []int64, distinct int) {
	t.Helper()
	h := md5.New()
	last := int64(-1)
	err := d.each(fmt.Sprintf("SELECT %s, %s, %s, %s, %s, %s FROM %s ORDER BY %s",
		d.q("id"), d.q("name"), d.q("qty"), d.q("price"), d.q("note"), d.q("created"), d.q(table), d.q("id")),
		func(scan func(...any) error) error {
			var r loadRow
			if err := scan(&r.id, &r.name, &r.qty, &r.price, &r.note, &r.created); err != nil {
				return err
			}
			if r.id == last {
				dups = append(dups, r.id)
			} else {
				distinct++
			}
			last = r.id
			h.Write([]byte(r.canonical()))
			return nil
		})
	if err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	return hex.EncodeToString(h.Sum(nil)), dups, distinct
}

// produceLoad writes records 0..n-1 to topic, keyed by id (the partitioner spreads them), and
// returns each partition's end offset.
func produceLoad(t *testing.T, bootstrap, topic string, partitions int32, n int) map[int32]int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...), kgo.DefaultProduceTopic(topic),
		kgo.ProducerLinger(5*time.Millisecond), kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	adm := kadm.NewClient(cl)
	resp, err := adm.CreateTopic(ctx, partitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
	var failed atomic.Pointer[error]
	for i := range n {
		r := makeLoadRow(i)
		cl.Produce(ctx, &kgo.Record{Key: []byte(strconv.FormatInt(r.id, 10)), Value: r.jsonValue()}, func(_ *kgo.Record, err error) {
			if err != nil {
				failed.CompareAndSwap(nil, &err)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatalf("flush producer: %v", err)
	}
	if err := failed.Load(); err != nil {
		t.Fatalf("produce to %s: %v", topic, *err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("end offsets of %s: %v", topic, err)
	}
	out := map[int32]int64{}
	var total int64
	ends.Each(func(o kadm.ListedOffset) {
		out[o.Partition] = o.Offset
		total += o.Offset
	})
	if total != int64(n) {
		t.Fatalf("topic %s holds %d records after producing %d", topic, total, n)
	}
	return out
}

// TestE2EKill9DuringInsertLoad loads N records from a three-partition topic in insert mode
// through the real binary (three sink tasks), kills the worker with SIGKILL while rows are being
// inserted and restarts it. The offsets table written in each batch's transaction must make the
// restarted sink continue exactly where the database is: at the kill the rows match the stored
// offsets, and the table ends with exactly N rows, each produced row once, with the produced
// content. PostgreSQL runs with pk.mode=none (a duplicate would be a second row), MariaDB with
// pk.mode=kafka (a duplicate would violate the primary key and fail the task).
func TestE2EKill9DuringInsertLoad(t *testing.T) {
	const n = 200_000
	want := expectedDigest(n)
	for _, c := range []struct {
		kind   string
		open   func(*testing.T) *e2eDB
		pkMode string
	}{
		{"postgres", e2ePostgres, "none"},
		{"mysql", e2eMySQL, "kafka"},
	} {
		t.Run(c.kind, func(t *testing.T) {
			db := c.open(t)
			dir := t.TempDir()
			props := workertest.WorkerProps(t, dir)
			props["value.converter.schemas.enable"] = "true"
			w := workertest.Start(t, dir, props)
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("worker log:\n%s", w.Log())
				}
			})

			topic := testenv.Topic(t, "jdbc-load")
			name := "load-" + topic[len(topic)-8:]
			const table = "load_rows"
			start := time.Now()
			ends := produceLoad(t, w.Bootstrap, topic, 3, n)
			t.Logf("produced %d records to %d partitions in %v", n, len(ends), time.Since(start).Round(time.Millisecond))

			w.CreateConnector(name, map[string]string{
				"connector.class":     "io.confluent.connect.jdbc.JdbcSinkConnector",
				"tasks.max":           "3",
				"topics":              topic,
				"connection.url":      db.url,
				"connection.user":     db.user,
				"connection.password": db.pass,
				"table.name.format":   table,
				"insert.mode":         "insert",
				"pk.mode":             c.pkMode,
				"auto.create":         "true",
			})
			loadStart := time.Now()
			var atKill int64
			w.WaitFor(5*time.Minute, "the table to hold between 10% and 90% of the records", func() bool {
				w.FailIfFailed(name)
				atKill = db.count(t, table)
				return atKill >= n/10 && atKill <= n*9/10
			})
			w.Kill9()
			afterKill := db.count(t, table)
			storedAtKill := db.storedOffsets(t, name)
			t.Logf("killed after %v with %d rows in the table (%d after the kill settled), offsets table at %d",
				time.Since(loadStart).Round(time.Millisecond), atKill, afterKill, storedAtKill)
			if afterKill != storedAtKill {
				t.Errorf("after the kill the table has %d rows but the offsets table covers %d records: rows and offsets were not committed together",
					afterKill, storedAtKill)
			}

			w.Restart()
			w.WaitFor(5*time.Minute, "the offsets table to reach the end of every partition", func() bool {
				w.FailIfFailed(name)
				return db.storedOffsets(t, name) == n
			})
			t.Logf("load finished %v after the first start", time.Since(loadStart).Round(time.Millisecond))

			if got := db.count(t, table); got != n {
				t.Errorf("table has %d rows, want exactly %d", got, n)
			}
			digest, dups, distinct := db.tableDigest(t, table)
			if len(dups) > 0 {
				t.Errorf("%d ids written twice, first %v", len(dups), dups[:min(len(dups), 10)])
			}
			if distinct != n {
				t.Errorf("%d distinct ids in the table, want %d", distinct, n)
			}
			if digest != want {
				t.Errorf("table digest %s, want %s (the produced rows)", digest, want)
			}
			t.Logf("rows=%d distinct=%d md5=%s", n, distinct, digest)

			// The consumer group follows the database (PreCommit returns the stored offsets).
			group := "connect-" + name
			w.WaitFor(30*time.Second, "the consumer group to commit the end offsets", func() bool {
				return testenv.GroupOffsets(t, w.Bootstrap, group, topic) == n
			})
			if err := w.Stop(); err != nil {
				t.Errorf("graceful stop: %v\n%s", err, w.Log())
			}
		})
	}
}
