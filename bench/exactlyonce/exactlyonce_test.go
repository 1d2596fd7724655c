// Package exactlyonce benchmarks exactly-once source delivery: records through a worker's source
// loop with exactly.once.source.support=enabled (transaction.boundary=poll, one transaction per
// poll) against the same loop with it disabled, on the broker testenv gives (the real Kafka with
// KCONNECT_TEST_BROKER=real, which is what the ratio is meant for). Two sources:
//
//   - datagen, batch.size records per poll, so per transaction; a run is done when every record
//     is visible to a read_committed reader (the last stable offset);
//
//   - PostgreSQL CDC (pgoutput): b.N rows inserted in 10000-row transactions before the task
//     starts, so the source, not PostgreSQL, is the bottleneck; a poll takes what the capture
//     queued, up to max.batch.size, so that caps the transaction. A run is done when a
//     read_committed consumer has read every change.
//
// Run it with (KCONNECT_TEST_KAFKA=host:port points it at another real broker):
//
//	KCONNECT_TEST_BROKER=real go test ./bench/exactlyonce -run '^$' -bench . -benchtime 300000x
//
// Each size runs off and on five times, alternating, and reports the medians and their ratio
// (and, for CDC, the median records per transaction, from the commit markers in the topic).
// On the loaded 2-core test machine against Kafka 4.3.1 (512-byte datagen records), a
// transaction of 500 records costs 15 to 20 ms, most of it the broker taking its transactional
// produce (a plain produce of the same records took half as long). Writing the
// offsets together with the records instead of after their acknowledgement saves one produce
// round trip: the on-rate rose 14 to 23% and the datagen ratio went from 0.11, 0.60 and 1.16 to
// 0.11, 0.68 and 1.02 at 500, 2000 and 10000 records per transaction (a private broker; 0.37,
// 0.65, 0.96 to 0.43, 0.94, 0.54 on the busier shared one, whose off runs varied twofold).
// CDC, about 20000 changes/s here, kept 0.8 or more at max.batch.size=2048 in most runs (0.76 to
// 1.2), with about 1700 to 2000 records per transaction.
//
// BenchmarkDatagenExactlyOnceBrokerBackoff (with KCONNECT_TEST_BROKER=real only) shows where
// the rest of a small transaction's cost is: with the broker's
// add.partitions.to.txn.retry.backoff.ms at 1 instead of 20, the exactly-once rate at 500
// records per transaction went from 62k-64k to 93k records/s, and at 2000 from 145k-176k to
// 159k-187k (two runs, the same process, two private nodes).
package exactlyonce

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/connectors/postgres"
	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/plugins"
	"github.com/kconnect/kconnect/runtime"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/offsets"
)

const recordSize = 512

// BenchmarkDatagenExactlyOnce runs b.N datagen records with exactly-once off and on per
// transaction size (datagen's batch.size, so records per transaction).
func BenchmarkDatagenExactlyOnce(b *testing.B) {
	addr := testenv.Kafka(b)
	for _, batch := range []int{500, 2000, 10000} {
		b.Run(fmt.Sprintf("txn=%d", batch), func(b *testing.B) { compareDatagen(b, addr, batch) })
	}
}

// BenchmarkDatagenExactlyOnceBrokerBackoff runs the small transactions of
// BenchmarkDatagenExactlyOnce on two private Kafka nodes: one with Kafka's default
// add.partitions.to.txn.retry.backoff.ms (20), one with 1. A transaction's first record that
// reaches a partition while the coordinator still writes the previous commit's markers waits that
// long on the broker (KIP-890's transaction version 2 moved the wait there from the client), and
// a task that commits each poll and polls again at once sends it in that window.
func BenchmarkDatagenExactlyOnceBrokerBackoff(b *testing.B) {
	if !testenv.RealKafka() {
		b.Skip("measures an Apache Kafka setting: run with KCONNECT_TEST_BROKER=real")
	}
	for _, ms := range []int{20, 1} {
		addr := testenv.NewKafkaServer(b, fmt.Sprintf("add.partitions.to.txn.retry.backoff.ms=%d", ms)).Addr()
		for _, batch := range []int{500, 2000} {
			b.Run(fmt.Sprintf("backoff=%dms/txn=%d", ms, batch), func(b *testing.B) { compareDatagen(b, addr, batch) })
		}
	}
}

// compareDatagen runs b.N datagen records through the broker at addr, batch records a poll, with
// exactly-once off and on.
func compareDatagen(b *testing.B, addr string, batch int) {
	compare(b, func(eos bool) float64 {
		topic := testenv.Topic(b, "bench-eos")
		defer createTopic(b, addr, topic)()
		conn := map[string]string{
			"name": "datagen", "connector.class": "DatagenConnector", "kafka.topic": topic, "task.id": "0",
			"iterations": fmt.Sprint(b.N), "max.interval": "0", "record.size": fmt.Sprint(recordSize), "batch.size": fmt.Sprint(batch),
		}
		// Done when every record is visible to read_committed readers: the last stable offset,
		// past the records and one commit marker per transaction (a poll of batch records).
		want := int64(b.N)
		if eos {
			want += int64((b.N + batch - 1) / batch)
		}
		adm := admin(b, addr)
		return run(b, addr, eos, conn, b.N, func() bool {
			ends, err := adm.ListCommittedOffsets(context.Background(), topic)
			if err != nil {
				return false
			}
			o, ok := ends.Lookup(topic, 0)
			return ok && o.Err == nil && o.Offset >= want
		})
	})
}

// BenchmarkCDCExactlyOnce streams b.N inserted rows through the PostgreSQL CDC source with
// exactly-once off and on per max.batch.size, the most records a poll, so a transaction, holds.
func BenchmarkCDCExactlyOnce(b *testing.B) {
	addr := testenv.Kafka(b)
	dsn := testenv.PostgresDSN(b)
	db := pgConnect(b, dsn)
	pgExec(b, db, "CREATE TABLE cdc_t (id bigint PRIMARY KEY, name text NOT NULL, amount numeric(12,2), at timestamptz)")
	pgExec(b, db, "CREATE PUBLICATION bench_pub FOR TABLE cdc_t")
	pgExec(b, db, `CREATE PROCEDURE fill(first bigint, n bigint, per bigint) LANGUAGE plpgsql AS $$
		BEGIN
			FOR i IN 0..(n - 1) / per LOOP
				INSERT INTO cdc_t SELECT g, 'name ' || g, g / 100.0, clock_timestamp()
					FROM generate_series(first + i * per, first + least((i + 1) * per, n) - 1) g;
				COMMIT;
			END LOOP;
		END $$`)
	var nextID int64
	for _, batch := range []int{2048, 10000, 30000} {
		b.Run(fmt.Sprintf("max.batch.size=%d", batch), func(b *testing.B) {
			var txnSizes []float64 // records per transaction of the runs with exactly-once on
			compare(b, func(eos bool) float64 {
				prefix := fmt.Sprintf("bench%d", time.Now().UnixNano())
				topic := prefix + ".public.cdc_t"
				defer createTopic(b, addr, topic)()
				// The slot exists before the inserts, so streaming from it yields exactly them.
				pgExec(b, db, "SELECT pg_create_logical_replication_slot($1, 'pgoutput')", prefix)
				pgExec(b, db, "CALL fill($1, $2, 10000)", nextID, b.N)
				nextID += int64(b.N)
				conn := cdcProps(b, dsn, prefix, batch)
				consumer := committedConsumer(b, addr, topic)
				seen := 0
				rate := run(b, addr, eos, conn, b.N, func() bool {
					ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
					defer cancel()
					seen += consumer.PollFetches(ctx).NumRecords()
					if seen > b.N {
						b.Fatalf("%d changes read for %d rows inserted", seen, b.N)
					}
					return seen == b.N
				})
				if eos {
					// Past the records, the topic holds one commit marker per transaction.
					ends, err := admin(b, addr).ListEndOffsets(context.Background(), topic)
					if err != nil {
						b.Fatal(err)
					}
					if o, ok := ends.Lookup(topic, 0); ok && o.Err == nil && o.Offset > int64(b.N) {
						txnSizes = append(txnSizes, float64(b.N)/float64(o.Offset-int64(b.N)))
					}
				}
				return rate
			})
			b.ReportMetric(median(txnSizes), "rec/txn")
		})
	}
}

// compare runs measure off and on five times, alternating which goes first, and reports the
// median records/s of each and their ratio.
func compare(b *testing.B, measure func(eos bool) float64) {
	var off, on []float64
	for i := range 5 {
		if i%2 == 0 {
			off = append(off, measure(false))
			on = append(on, measure(true))
		} else {
			on = append(on, measure(true))
			off = append(off, measure(false))
		}
	}
	b.ReportMetric(median(off), "off-rec/s")
	b.ReportMetric(median(on), "on-rec/s")
	b.ReportMetric(median(on)/median(off), "ratio")
	b.ReportMetric(0, "ns/op")
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// run runs the source task conn in a worker with exactly-once on or off and returns n divided by
// the seconds until done reports every record delivered.
func run(b *testing.B, addr string, eos bool, conn map[string]string, n int, done func() bool) float64 {
	b.Helper()
	log := slog.New(slog.DiscardHandler)
	reg, err := plugins.Registry()
	if err != nil {
		b.Fatal(err)
	}
	name := conn["name"]
	props := map[string]string{
		"bootstrap.servers":              addr,
		"key.converter":                  "org.apache.kafka.connect.json.JsonConverter",
		"key.converter.schemas.enable":   "false",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable": "false",
		"offset.flush.interval.ms":       "1000",
	}
	var store offsets.Store
	if eos {
		offsetsTopic := testenv.Topic(b, "bench-eos-offsets")
		props[runtime.ExactlyOnceSourceSupport] = "enabled"
		props[runtime.GroupID] = "bench-" + offsetsTopic
		props["offset.storage.topic"] = offsetsTopic
		props["offset.storage.replication.factor"] = "1"
		props["offset.storage.partitions"] = "1"
		t, err := runtime.OffsetTopicSettings(props, "")
		if err != nil {
			b.Fatal(err)
		}
		opts, err := runtime.OffsetTopicClientOpts(props)
		if err != nil {
			b.Fatal(err)
		}
		ts, err := offsets.OpenTopic(context.Background(), opts, t, log)
		if err != nil {
			b.Fatal(err)
		}
		store = ts
	} else if store, err = offsets.OpenFile(filepath.Join(b.TempDir(), "offsets")); err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	w, err := runtime.NewWorker("bench", props, reg, store, log)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	failed := make(chan error, 1)
	start := time.Now()
	task, err := w.StartSourceTask(herder.TaskID{Connector: name}, conn, conn, func(_ herder.TaskID, st herder.State, err error) {
		if st == herder.Failed {
			failed <- err
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = task.Stop(ctx)
	}()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if time.Now().After(deadline) {
			b.Fatalf("%d records not delivered after 2 minutes", n)
		}
		select {
		case err := <-failed:
			b.Fatal(err)
		default:
		}
		if done() {
			return float64(n) / time.Since(start).Seconds()
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func admin(b *testing.B, addr string) *kadm.Client {
	b.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// createTopic creates a one-partition topic and waits until the broker serves it: a producer that
// sees it missing right after the creation fails its records. It returns what deletes the topic,
// which the caller runs as soon as the run is measured, so that the runs' records do not pile up
// on the broker's disk.
func createTopic(b *testing.B, addr, topic string) (remove func()) {
	b.Helper()
	adm := admin(b, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, topic); err != nil {
		b.Fatal(err)
	}
	remove = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = adm.DeleteTopic(ctx, topic)
	}
	for {
		ends, err := adm.ListEndOffsets(ctx, topic)
		if err == nil {
			if o, ok := ends.Lookup(topic, 0); ok && o.Err == nil {
				return remove
			}
		}
		if ctx.Err() != nil {
			b.Fatalf("topic %s not served 30 s after its creation: %v", topic, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// committedConsumer reads topic from the start as a downstream read_committed consumer does.
func committedConsumer(b *testing.B, addr, topic string) *kgo.Client {
	b.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(50*time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cl.Close)
	return cl
}

// cdcProps configures the CDC source to stream from slot, created beforehand, without a snapshot.
func cdcProps(b *testing.B, dsn, slot string, batch int) map[string]string {
	b.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		b.Fatal(err)
	}
	return map[string]string{
		"name": "cdc", "connector.class": postgres.ConnectorClass,
		"database.hostname": cfg.Host, "database.port": fmt.Sprint(cfg.Port), "database.user": cfg.User,
		"database.password": cfg.Password, "database.dbname": cfg.Database, "database.sslmode": "disable",
		"topic.prefix": slot, "slot.name": slot, "slot.drop.on.stop": "true", "publication.name": "bench_pub",
		"publication.autocreate.mode": "disabled", "snapshot.mode": "no_data",
		"max.batch.size": fmt.Sprint(batch), "max.queue.size": fmt.Sprint(4 * batch), "poll.interval.ms": "100",
	}
}

func pgConnect(b *testing.B, dsn string) *pgx.Conn {
	b.Helper()
	db, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close(context.Background()) })
	return db
}

func pgExec(b *testing.B, db *pgx.Conn, sql string, args ...any) {
	b.Helper()
	if _, err := db.Exec(context.Background(), sql, args...); err != nil {
		b.Fatalf("%s: %v", sql, err)
	}
}
