package faults

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/internal/testenv"
)

// Load rates: modest, so that a loaded two-core machine keeps up and the faults, not the load,
// decide what happens.
const (
	loadInterval = 100 * time.Millisecond
	loadBatch    = 10
	readQuiet    = 3 * time.Second // how long readCommitted waits for more records before it stops
)

// common fault kinds: every pipeline runs a worker, a broker and an offsets file.
var commonKinds = []string{faultWorkerKill, faultWorkerStop, faultBrokerKill, faultDiskFull, faultSlowNetwork}

func pipelines() []*pipeline {
	return []*pipeline{filePipeline(false), filePipeline(true), distributedPipeline(), jdbcSourcePipeline(), cdcPipeline(),
		datagenPipeline(), eosPipeline(false), eosPipeline(true)}
}

// key is the n-th key of a pipeline's load.
func key(n int) string { return fmt.Sprintf("k%08d", n) }

// tick runs fn every loadInterval until ctx ends.
func tick(ctx context.Context, fn func()) {
	t := time.NewTicker(loadInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}

// filePipeline: lines appended to a file → FileStreamSource → Kafka → FileStreamSink → a file.
// A line is its key and the key's checksum. apache runs it on Apache Kafka instead of the
// embedded broker.
func filePipeline(apache bool) *pipeline {
	var input, output string
	written := 0
	name := "file-kafka-file"
	if apache {
		name = "file-apachekafka-file"
	}
	return &pipeline{
		name:   name,
		apache: apache,
		kinds:  commonKinds,
		connectors: func(e *env) []map[string]string {
			input, output = filepath.Join(e.dir, "input.txt"), filepath.Join(e.dir, "output.txt")
			return []map[string]string{
				{"name": "file-source", "connector.class": "FileStreamSource", "file": input, "topic": e.topic},
				{"name": "file-sink", "connector.class": "FileStreamSink", "file": output, "topics": e.topic},
			}
		},
		load:     func(ctx context.Context, e *env) { appendLines(ctx, e, []string{input}, &written) },
		progress: func(*env) (int64, error) { return fileSize(output) },
		verify:   func(*env) (result, error) { return verifyLines(output, written) },
	}
}

// distributedPipeline: lines appended to three files → three FileStreamSource connectors (one
// task each, so that they spread over the workers) → three topics → FileStreamSink with two
// tasks → a file, on a cluster of three distributed workers; the worker faults hit one of them
// at random. At-least-once: duplicates are counted, not failed.
func distributedPipeline() *pipeline {
	const files = 3
	var inputs []string
	var output string
	written := 0
	return &pipeline{
		name:        "file-distributed-file",
		distributed: true,
		kinds:       commonKinds,
		connectors: func(e *env) []map[string]string {
			inputs, output = nil, filepath.Join(e.dir, "output.txt")
			var conns []map[string]string
			var topics []string
			for i := range files {
				input, topic := filepath.Join(e.dir, fmt.Sprintf("input-%d.txt", i)), fmt.Sprintf("%s-%d", e.topic, i)
				inputs, topics = append(inputs, input), append(topics, topic)
				conns = append(conns, map[string]string{"name": fmt.Sprintf("file-source-%d", i),
					"connector.class": "FileStreamSource", "file": input, "topic": topic})
			}
			return append(conns, map[string]string{"name": "file-sink", "connector.class": "FileStreamSink",
				"file": output, "topics": strings.Join(topics, ","), "tasks.max": "2"})
		},
		load:     func(ctx context.Context, e *env) { appendLines(ctx, e, inputs, &written) },
		progress: func(*env) (int64, error) { return fileSize(output) },
		verify:   func(*env) (result, error) { return verifyLines(output, written) },
	}
}

// fileSize is the size of a sink's output file (0 while it does not exist).
func fileSize(path string) (int64, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// verifyLines compares the lines of a sink's output file with the first written keys.
func verifyLines(path string, written int) (result, error) {
	got := map[string]int{}
	f, err := os.Open(path)
	if err != nil {
		return result{}, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, ok := lineKey(sc.Text()); ok {
			got[k]++
		}
	}
	return compare(keys(written), got), sc.Err()
}

// appendLines appends loadBatch lines per tick to one of paths in turn until ctx ends, counting
// them in written: each line is a key and its checksum.
func appendLines(ctx context.Context, e *env, paths []string, written *int) {
	var fs []*os.File
	defer func() {
		for _, f := range fs {
			f.Close()
		}
	}()
	for _, path := range paths {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			e.t.Error(err)
			return
		}
		fs = append(fs, f)
	}
	ticks := 0
	tick(ctx, func() {
		f := fs[ticks%len(fs)]
		ticks++
		var b bytes.Buffer
		for range loadBatch {
			k := key(*written)
			fmt.Fprintf(&b, "%s %s\n", k, checksum(k))
			*written++
		}
		// One write per batch: the source never sees a torn line.
		if _, err := f.Write(b.Bytes()); err != nil {
			e.t.Error(err)
		}
	})
}

// lineKey returns the key of a line appendLines wrote, if its checksum is right.
func lineKey(line string) (string, bool) {
	k, sum, ok := strings.Cut(line, " ")
	return k, ok && sum == checksum(k)
}

// keys returns the first n keys of a load.
func keys(n int) []string {
	ks := make([]string, n)
	for i := range ks {
		ks[i] = key(i)
	}
	return ks
}

// eosPipeline: lines appended to a file → FileStreamSource on an exactly-once worker (one
// transaction per poll, offsets in the offsets topic) → Kafka, read back with
// isolation.level=read_committed: every line must be there exactly once. apache runs it on a
// private Apache Kafka node; otherwise on the worker's embedded broker, which dies with the
// worker.
func eosPipeline(apache bool) *pipeline {
	var input string
	written := 0
	name := "file-embedded-eos"
	kinds := append([]string{faultBrokerFull}, commonKinds...)
	if apache {
		name, kinds = "file-apachekafka-eos", commonKinds
	}
	return &pipeline{
		name:        name,
		apache:      apache,
		embedded:    !apache,
		exactlyOnce: true,
		kinds:       kinds,
		connectors: func(e *env) []map[string]string {
			input = filepath.Join(e.dir, "input.txt")
			return []map[string]string{{"name": "file-source", "connector.class": "FileStreamSource", "file": input,
				"topic": e.topic, "exactly.once.support": "required", "transaction.boundary": "poll"}}
		},
		load:     func(ctx context.Context, e *env) { appendLines(ctx, e, []string{input}, &written) },
		progress: func(e *env) (int64, error) { return topicCommittedEnd(e, e.topic) },
		verify: func(e *env) (result, error) {
			got := map[string]int{}
			where := map[string][]*kgo.Record{}
			err := readCommitted(e, e.topic, func(r *kgo.Record) {
				var line string
				if json.Unmarshal(r.Value, &line) != nil {
					return
				}
				if k, ok := lineKey(line); ok {
					got[k]++
					where[k] = append(where[k], r)
				}
			})
			res := compare(keys(written), got)
			// Where each copy of a duplicated record sits, which producer epoch wrote it and how
			// its transaction ended tell a transaction committed twice from one resent inside a
			// transaction, and from an aborted one a read_committed reader was shown.
			for _, k := range res.firstDuplicated {
				var copies []string
				for _, r := range where[k] {
					copies = append(copies, fmt.Sprintf("%d@%d producer %d epoch %d at %s, %s", r.Partition, r.Offset,
						r.ProducerID, r.ProducerEpoch, r.Timestamp.Format("15:04:05.000"), txnOutcome(e, r)))
				}
				e.t.Logf("%s: copies at %v", k, copies)
			}
			return res, err
		},
	}
}

// txnOutcome says how the transaction that wrote r ended: the first transaction marker of r's
// producer after r in its partition, read with read_uncommitted.
func txnOutcome(e *env, r *kgo.Record) string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokerAddr), kgo.KeepControlRecords(),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{r.Topic: {r.Partition: kgo.NewOffset().At(r.Offset + 1)}}))
	if err != nil {
		return fmt.Sprintf("outcome unknown: %v", err)
	}
	defer cl.Close()
	for {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return "no marker of its producer within 30 s"
		}
		outcome := ""
		fs.EachRecord(func(m *kgo.Record) {
			if outcome != "" || !m.Attrs.IsControl() || m.ProducerID != r.ProducerID || len(m.Key) < 4 {
				return
			}
			kind := "ABORTED"
			if m.Key[3] == 1 {
				kind = "COMMITTED"
			}
			outcome = fmt.Sprintf("%s by the marker at %d (epoch %d)", kind, m.Offset, m.ProducerEpoch)
		})
		if outcome != "" {
			return outcome
		}
	}
}

// jdbcSourcePipeline: rows inserted into PostgreSQL → JDBC source (incrementing mode) → Kafka,
// verified by reading the topic. One writer, so ids commit in order.
func jdbcSourcePipeline() *pipeline {
	return &pipeline{
		name:     "jdbc-source-kafka",
		postgres: true,
		kinds:    append([]string{faultPGRestart, faultPGTerminate}, commonKinds...),
		prepare: func(e *env) {
			if err := e.pgExec("CREATE TABLE src (id bigserial PRIMARY KEY, k text NOT NULL, sum text NOT NULL)"); err != nil {
				e.t.Fatal(err)
			}
		},
		connectors: func(e *env) []map[string]string {
			return []map[string]string{{
				"name":                     "jdbc-source",
				"connector.class":          "io.confluent.connect.jdbc.JdbcSourceConnector",
				"connection.url":           fmt.Sprintf("jdbc:postgresql://127.0.0.1:%d/postgres", e.pg.Port()),
				"connection.user":          "kconnect",
				"connection.password":      "kconnect",
				"mode":                     "incrementing",
				"incrementing.column.name": "id",
				"table.whitelist":          "src",
				"topic.prefix":             e.topic + "-",
				"poll.interval.ms":         "200",
			}}
		},
		load: func(ctx context.Context, e *env) { pgWriter(ctx, e, "INSERT INTO src (k, sum) VALUES ($1, $2)", false) },
		progress: func(e *env) (int64, error) {
			return topicEnd(e, e.topic+"-src")
		},
		verify: func(e *env) (result, error) {
			want, err := pgKeys(e, "SELECT k, sum FROM src")
			if err != nil {
				return result{}, err
			}
			got := map[string]int{}
			err = readTopic(e, e.topic+"-src", func(r *kgo.Record) {
				var v struct{ K, Sum string }
				if json.Unmarshal(r.Value, &v) == nil && v.Sum == checksum(v.K) {
					got[v.K]++
				}
			})
			return compare(want, got), err
		},
	}
}

// cdcPipeline: rows inserted into PostgreSQL → Debezium-compatible CDC source → Kafka → JDBC sink
// (upsert) → MariaDB. The sink's upserts hide duplicates, so they are counted in the topic.
func cdcPipeline() *pipeline {
	return &pipeline{
		name:     "postgres-cdc-kafka-mariadb",
		postgres: true,
		mysql:    true,
		schemas:  true,
		kinds:    append([]string{faultPGRestart, faultPGTerminate, faultMySQLRestart}, commonKinds...),
		prepare: func(e *env) {
			if err := e.pgExec("CREATE TABLE src (id integer PRIMARY KEY, k text NOT NULL, sum text NOT NULL)"); err != nil {
				e.t.Fatal(err)
			}
			if _, err := e.my.Open("").Exec("CREATE DATABASE dst"); err != nil {
				e.t.Fatal(err)
			}
		},
		connectors: func(e *env) []map[string]string {
			return []map[string]string{{
				"name":              "cdc-source",
				"connector.class":   "io.debezium.connector.postgresql.PostgresConnector",
				"database.hostname": "127.0.0.1",
				"database.port":     fmt.Sprint(e.pg.Port()),
				"database.user":     "kconnect",
				"database.password": "kconnect",
				"database.dbname":   "postgres",
				"database.sslmode":  "disable",
				"topic.prefix":      e.topic,
				"plugin.name":       "pgoutput",
				"slot.name":         "faults",
				"poll.interval.ms":  "100",
			}, {
				"name":                   "mariadb-sink",
				"connector.class":        "io.debezium.connector.jdbc.JdbcSinkConnector",
				"topics":                 e.topic + ".public.src",
				"connection.url":         fmt.Sprintf("jdbc:mysql://127.0.0.1:%d/dst", e.my.Port()),
				"connection.username":    "kconnect",
				"connection.password":    "kconnect",
				"collection.name.format": "${source.table}",
				"insert.mode":            "upsert",
				"primary.key.mode":       "record_key",
				"schema.evolution":       "basic",
			}}
		},
		load: func(ctx context.Context, e *env) {
			pgWriter(ctx, e, "INSERT INTO src (id, k, sum) VALUES ($3, $1, $2)", true)
		},
		progress: func(e *env) (int64, error) {
			var n int64
			err := e.myDB.QueryRow("SELECT count(*) FROM src").Scan(&n)
			return n, err
		},
		verify: func(e *env) (result, error) {
			want, err := pgKeys(e, "SELECT k, sum FROM src")
			if err != nil {
				return result{}, err
			}
			got := map[string]int{}
			rows, err := e.myDB.Query("SELECT k, sum FROM src")
			if err != nil {
				return result{}, err
			}
			defer rows.Close()
			for rows.Next() {
				var k, sum string
				if err := rows.Scan(&k, &sum); err != nil {
					return result{}, err
				}
				if sum == checksum(k) {
					got[k]++
				}
			}
			if err := rows.Err(); err != nil {
				return result{}, err
			}
			res := compare(want, got)
			// Duplicates: change events beyond one per row in the topic.
			events := map[string]int{}
			err = readTopic(e, e.topic+".public.src", func(r *kgo.Record) {
				var v struct {
					Payload struct {
						After *struct{ K string }
					}
				}
				if json.Unmarshal(r.Value, &v) == nil && v.Payload.After != nil {
					events[v.Payload.After.K]++
				}
			})
			res.Duplicated = compare(want, events).Duplicated
			return res, err
		},
	}
}

// datagenPipeline: the datagen source → Kafka → JDBC sink (insert, no primary key, so a
// duplicate is a second row) → PostgreSQL, exactly once end to end: the source commits its
// records with their offsets in Kafka transactions, the sink reads read_committed and keeps its
// offsets in PostgreSQL with the rows. The generator's ids are 0, 1, 2, …: every id up to the
// highest one in the topic is expected once, with the one payload the seed gives.
func datagenPipeline() *pipeline {
	const recordSize = 64
	return &pipeline{
		name:        "datagen-kafka-postgres",
		postgres:    true,
		schemas:     true,
		exactlyOnce: true,
		kinds:       append([]string{faultPGRestart, faultPGTerminate}, commonKinds...),
		connectors: func(e *env) []map[string]string {
			return []map[string]string{{
				"name":                 "datagen",
				"connector.class":      "io.confluent.kafka.connect.datagen.DatagenConnector",
				"kafka.topic":          e.topic,
				"max.interval":         "0",
				"rate":                 fmt.Sprint(loadBatch * int(time.Second/loadInterval)),
				"batch.size":           fmt.Sprint(loadBatch),
				"record.size":          fmt.Sprint(recordSize),
				"random.seed":          "1",
				"exactly.once.support": "required",
				"transaction.boundary": "poll",
			}, {
				"name":                "postgres-sink",
				"connector.class":     "io.confluent.connect.jdbc.JdbcSinkConnector",
				"topics":              e.topic,
				"connection.url":      fmt.Sprintf("jdbc:postgresql://127.0.0.1:%d/postgres", e.pg.Port()),
				"connection.user":     "kconnect",
				"connection.password": "kconnect",
				"table.name.format":   "dst",
				"insert.mode":         "insert",
				"pk.mode":             "none",
				"auto.create":         "true",
			}}
		},
		load: func(ctx context.Context, _ *env) { <-ctx.Done() },
		stopLoad: func(e *env) {
			if code, body, err := e.rest("PUT", "/connectors/datagen/pause", nil); err != nil || code >= 300 {
				e.t.Fatalf("pause datagen: %d %s %v", code, body, err)
			}
		},
		progress: func(e *env) (int64, error) {
			var n int64
			err := pgQuery(e, "SELECT count(*) FROM dst", func(r pgx.Rows) error { return r.Scan(&n) })
			return n, err
		},
		verify: func(e *env) (result, error) {
			maxID := int64(-1)
			// Aborted transactions hold ids the source generated again after a fault.
			err := readCommitted(e, e.topic, func(r *kgo.Record) {
				var v struct{ Payload struct{ ID int64 } }
				if json.Unmarshal(r.Value, &v) == nil {
					maxID = max(maxID, v.Payload.ID)
				}
			})
			if err != nil {
				return result{}, err
			}
			want := make([]string, maxID+1)
			for i := range want {
				want[i] = fmt.Sprint(i)
			}
			got := map[string]int{}
			var payload string
			err = pgQuery(e, "SELECT id, payload FROM dst", func(r pgx.Rows) error {
				var id int64
				var p string
				if err := r.Scan(&id, &p); err != nil {
					return err
				}
				if payload == "" {
					payload = p
				}
				if p == payload && len(p) == recordSize-16 {
					got[fmt.Sprint(id)]++
				}
				return nil
			})
			return compare(want, got), err
		},
	}
}

// pgWriter inserts loadBatch rows per tick in one transaction, retrying through the faults;
// withID passes the row number as $3 for a table without a sequence.
func pgWriter(ctx context.Context, e *env, insert string, withID bool) {
	n := 0
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	tick(ctx, func() {
		if conn == nil || conn.IsClosed() {
			c, err := pgx.Connect(ctx, e.pg.DSN())
			if err != nil {
				return
			}
			conn = c
		}
		b := &pgx.Batch{}
		b.Queue("BEGIN")
		for range loadBatch {
			k := key(n)
			if withID {
				b.Queue(insert, k, checksum(k), n)
			} else {
				b.Queue(insert, k, checksum(k))
			}
			n++
		}
		b.Queue("COMMIT")
		// A commit whose outcome is unknown is fine: the source table decides what is expected.
		if err := conn.SendBatch(ctx, b).Close(); err != nil {
			conn.Close(context.Background())
			conn = nil
			time.Sleep(writerRetryBackoff)
		}
	})
}

// pgQuery runs a query on the private PostgreSQL and calls scan for each row.
func pgQuery(e *env, query string, scan func(pgx.Rows) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, e.pg.DSN())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// pgKeys returns the source keys whose stored checksum is right (a wrong one would be the
// driver's own bug, so it fails the test).
func pgKeys(e *env, query string) ([]string, error) {
	var keys []string
	err := pgQuery(e, query, func(r pgx.Rows) error {
		var k, sum string
		if err := r.Scan(&k, &sum); err != nil {
			return err
		}
		if sum != checksum(k) {
			return fmt.Errorf("source row %s has checksum %s, want %s", k, sum, checksum(k))
		}
		keys = append(keys, k)
		return nil
	})
	return keys, err
}

// topicEnd returns the sum of a topic's end offsets (0 while it does not exist).
func topicEnd(e *env, topic string) (int64, error) {
	return sumOffsets(e, func(ctx context.Context, adm *kadm.Client) (kadm.ListedOffsets, error) {
		return adm.ListEndOffsets(ctx, topic)
	})
}

// topicCommittedEnd returns the sum of a topic's last stable offsets: it grows only when a
// transaction commits.
func topicCommittedEnd(e *env, topic string) (int64, error) {
	return sumOffsets(e, func(ctx context.Context, adm *kadm.Client) (kadm.ListedOffsets, error) {
		return adm.ListCommittedOffsets(ctx, topic)
	})
}

func sumOffsets(e *env, list func(context.Context, *kadm.Client) (kadm.ListedOffsets, error)) (int64, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokerAddr))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ends, err := list(ctx, kadm.NewClient(cl))
	if err != nil {
		return 0, err
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			n += o.Offset
		}
	})
	return n, nil
}

// readTopic reads a topic from the start to its current end.
func readTopic(e *env, topic string, fn func(*kgo.Record)) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin, err := kgo.NewClient(kgo.SeedBrokers(e.brokerAddr))
	if err != nil {
		return err
	}
	ends, err := kadm.NewClient(admin).ListEndOffsets(ctx, topic)
	admin.Close()
	if err != nil {
		return err
	}
	remaining := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil && o.Offset > 0 {
			remaining[o.Partition] = o.Offset
		}
	})
	if len(remaining) == 0 {
		return nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokerAddr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return err
	}
	defer cl.Close()
	for len(remaining) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("reading %s: %w", topic, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			fn(r)
			if end, ok := remaining[r.Partition]; ok && r.Offset+1 >= end {
				delete(remaining, r.Partition)
			}
		})
	}
	return nil
}

// readCommitted reads a topic from the start with isolation.level=read_committed until no record
// has come for readQuiet: a read_committed reader's last records are followed by transaction
// markers, so it cannot stop at the end offsets as readTopic does. A read cut short by a slow
// broker only undercounts, which the verifying loop retries.
func readCommitted(e *env, topic string, fn func(*kgo.Record)) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokerAddr), kgo.ConsumeTopics(topic),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(500*time.Millisecond))
	if err != nil {
		return err
	}
	defer cl.Close()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), readQuiet)
		fs := cl.PollFetches(ctx)
		cancel()
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				ferr = fmt.Errorf("reading %s partition %d: %w", t, p, err)
			}
		})
		if ferr != nil {
			return ferr
		}
		if fs.NumRecords() == 0 {
			return nil
		}
		fs.EachRecord(fn)
	}
	return fmt.Errorf("reading %s: still reading after 2m", topic)
}

// TestTxnOutcomeNamesTheMarker checks the duplicate report's reading of how a transaction ended:
// one committed and one aborted transaction of one producer, each named by its marker.
func TestTxnOutcomeNamesTheMarker(t *testing.T) {
	e := &env{t: t, brokerAddr: testenv.Kafka(t)}
	topic := testenv.Topic(t, "outcome")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokerAddr), kgo.TransactionalID(topic), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	var written []*kgo.Record
	for _, end := range []kgo.TransactionEndTry{kgo.TryCommit, kgo.TryAbort} {
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		r, err := cl.ProduceSync(ctx, kgo.StringRecord(fmt.Sprint(end))).First()
		if err != nil {
			t.Fatal(err)
		}
		written = append(written, r)
		if err := cl.EndTransaction(ctx, end); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range []string{"COMMITTED by the marker at 1", "ABORTED by the marker at 3"} {
		if got := txnOutcome(e, written[i]); !strings.HasPrefix(got, want) {
			t.Errorf("transaction %d: %q, want %q", i, got, want)
		}
	}
}
