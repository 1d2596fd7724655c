package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
)

// TestWorkerKill9ExactlyOnceStreaming streams changes with exactly-once on while the standalone
// worker is killed with SIGKILL (KCONNECT_EOS_CDC_KILLS times, 3 by default): a read_committed
// reader sees every change once, none missing, none twice. Each writer transaction inserts a new row and updates an old one with a
// value of its own, so every change is told apart by its value.
func TestWorkerKill9ExactlyOnceStreaming(t *testing.T) {
	pg := newPG(t)
	const rows = 200
	pg.exec(`CREATE TABLE live (id bigint PRIMARY KEY, v text NOT NULL)`)
	pg.exec(`INSERT INTO live SELECT g, 'row ' || g FROM generate_series(1, $1::bigint) g`, rows)
	dir := t.TempDir()
	prefix := fmt.Sprintf("kcpgeos%d", time.Now().UnixNano())
	wp := workertest.WorkerProps(t, dir)
	wp["bootstrap.servers"] = testenv.Kafka(t) // kfake listens on TCP: the worker reaches it
	delete(wp, "kconnect.embedded.broker.port")
	wp["exactly.once.source.support"] = "enabled"
	wp["offset.storage.topic"] = testenv.Topic(t, "pg-eos-offsets")
	wp["offset.storage.replication.factor"] = "1"
	wp["offset.storage.partitions"] = "1"
	p := props(t, pg.dsn, "name", "pg-cdc", "topic.prefix", prefix, "exactly.once.support", "required",
		"key.converter", "org.apache.kafka.connect.json.JsonConverter", "key.converter.schemas.enable", "false",
		"value.converter", "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable", "false")
	w := workertest.Start(t, dir, wp, p)
	testenv.DeleteTopicsAtCleanup(t, prefix+".")
	cl, err := kgo.NewClient(kgo.SeedBrokers(w.Bootstrap), kgo.ConsumeTopics(prefix+".public.live"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	seen := map[string]int{} // after.v → how many committed events carry it
	drain := func() {
		for {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			fs := cl.PollFetches(ctx)
			cancel()
			if fs.NumRecords() == 0 {
				return
			}
			fs.EachRecord(func(r *kgo.Record) {
				var ev struct {
					After struct{ V string }
				}
				if r.Value != nil && json.Unmarshal(r.Value, &ev) == nil {
					seen[ev.After.V]++
				}
			})
		}
	}
	w.WaitFor(60*time.Second, "the snapshot's rows committed", func() bool { drain(); return len(seen) >= rows })

	wr := startWriter(t, pg.dsn, "live", rows+1, rows)
	kills := testenv.Count(t, "KCONNECT_EOS_CDC_KILLS", 3)
	for i := range kills {
		time.Sleep(time.Duration(300+rand.IntN(900)) * time.Millisecond)
		w.Kill9()
		drain()
		t.Logf("kill %d/%d: %d writer transactions, %d distinct values committed", i+1, kills, wr.count.Load(), len(seen))
		w.Restart()
	}
	time.Sleep(time.Second)
	wr.halt(t)
	n := int(wr.count.Load())
	want := rows + 2*n
	w.WaitFor(90*time.Second, fmt.Sprintf("%d distinct values committed", want), func() bool { drain(); return len(seen) >= want })
	drain()
	dups, missing := 0, 0
	check := func(v string) {
		switch c := seen[v]; {
		case c == 0:
			missing++
		case c > 1:
			dups += c - 1
		}
	}
	for i := 1; i <= rows; i++ {
		check(fmt.Sprintf("row %d", i))
	}
	for i := range n {
		check(fmt.Sprintf("new %d", i))
		check(fmt.Sprintf("upd %d", i))
	}
	t.Logf("%d writer transactions, %d kills: %d duplicates, %d missing of %d changes", n, kills, dups, missing, want)
	if dups > 0 || missing > 0 {
		t.Fatalf("%d duplicates and %d missing changes under read_committed\n%s", dups, missing, w.Log())
	}
}
