// Package exactlyonce benchmarks exactly-once source delivery: datagen records through a worker's
// source loop with exactly.once.source.support=enabled (transaction.boundary=poll, one transaction
// per poll of batch.size records) against the same loop with it disabled, on the broker testenv
// gives (the real Kafka with KCONNECT_TEST_BROKER=real, which is what the ratio is meant for).
// A run is done when every record is visible to a read_committed reader (the last stable offset).
//
//	KCONNECT_TEST_BROKER=real go test ./bench/exactlyonce -run '^$' -bench . -benchtime 300000x
//
// On the shared 2-core test machine against Kafka 4.3.1 (512-byte records), two runs gave on/off
// ratios of 0.13 and 0.33 with 500 records per transaction, 0.40 and 0.49 with 2000, and 0.82 and
// 1.2 with 10000: each transaction costs a few round trips (flush, offsets, EndTxn, markers),
// about 10 ms here, so the 0.8 target needs transactions of about 10000 records (5 MB) per poll.
package exactlyonce

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/plugins"
	"github.com/kconnect/kconnect/runtime"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/offsets"
)

const recordSize = 512

// BenchmarkDatagenExactlyOnce runs b.N datagen records with exactly-once off and on, alternating
// three times per transaction size (datagen's batch.size, so records per transaction), and
// reports the median records/s of each and their ratio.
func BenchmarkDatagenExactlyOnce(b *testing.B) {
	addr := testenv.Kafka(b)
	for _, batch := range []int{500, 2000, 10000} {
		b.Run(fmt.Sprintf("txn=%d", batch), func(b *testing.B) {
			var off, on []float64
			for i := range 3 {
				if i%2 == 0 {
					off = append(off, run(b, addr, b.N, batch, false))
					on = append(on, run(b, addr, b.N, batch, true))
				} else {
					on = append(on, run(b, addr, b.N, batch, true))
					off = append(off, run(b, addr, b.N, batch, false))
				}
			}
			b.ReportMetric(median(off), "off-rec/s")
			b.ReportMetric(median(on), "on-rec/s")
			b.ReportMetric(median(on)/median(off), "ratio")
			b.ReportMetric(0, "ns/op")
		})
	}
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// run sends n datagen records in polls of batch and returns records/s until all are committed.
func run(b *testing.B, addr string, n, batch int, eos bool) float64 {
	b.Helper()
	log := slog.New(slog.DiscardHandler)
	reg, err := plugins.Registry()
	if err != nil {
		b.Fatal(err)
	}
	topic := testenv.Topic(b, "bench-eos")
	props := map[string]string{
		"bootstrap.servers":              addr,
		"key.converter":                  "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable": "false",
		"offset.flush.interval.ms":       "1000",
	}
	var store offsets.Store
	if eos {
		props[runtime.ExactlyOnceSourceSupport] = "enabled"
		props[runtime.GroupID] = "bench-" + topic
		props["offset.storage.topic"] = topic + "-offsets"
		props["offset.storage.replication.factor"] = "1"
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
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(context.Background(), 1, 1, nil, topic); err != nil {
		b.Fatal(err)
	}
	conn := map[string]string{
		"name": "datagen", "connector.class": "DatagenConnector", "kafka.topic": topic, "task.id": "0",
		"iterations": fmt.Sprint(n), "max.interval": "0", "record.size": fmt.Sprint(recordSize), "batch.size": fmt.Sprint(batch),
	}
	failed := make(chan error, 1)
	start := time.Now()
	task, err := w.StartSourceTask(herder.TaskID{Connector: "datagen"}, conn, conn, func(_ herder.TaskID, st herder.State, err error) {
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
	// Done when every record is visible to read_committed readers: the last stable offset,
	// past the records and one commit marker per transaction (a poll of batch records).
	want := int64(n)
	if eos {
		want += int64((n + batch - 1) / batch)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if time.Now().After(deadline) {
			b.Fatalf("%d records not committed after 2 minutes", n)
		}
		select {
		case err := <-failed:
			b.Fatal(err)
		default:
		}
		ends, err := adm.ListCommittedOffsets(context.Background(), topic)
		if err == nil {
			if o, ok := ends.Lookup(topic, 0); ok && o.Err == nil && o.Offset >= want {
				return float64(n) / time.Since(start).Seconds()
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
}
