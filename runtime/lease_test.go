package runtime

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/internal/testenv"
)

// testLease is a lease the test moves by hand.
type testLease struct{ until atomic.Pointer[time.Time] }

func (l *testLease) Until() time.Time { return *l.until.Load() }
func (l *testLease) set(t time.Time)  { l.until.Store(&t) }

// lapsedWrites counts the writes a lease held back.
type lapsedWrites struct{ n atomic.Int64 }

func (h *lapsedWrites) OnBrokerWrite(_ kgo.BrokerMetadata, _ int16, _ int, _, _ time.Duration, err error) {
	if errors.Is(err, errLeaseLapsed) {
		h.n.Add(1)
	}
}

// A source producer with a lapsed lease sends nothing: its record waits, held back over and over,
// while a client of the same lease still reads; renewed, the producer delivers the record once.
func TestLeaseHoldsRecordsBackUntilRenewed(t *testing.T) {
	cases := map[string]func(t *testing.T) map[string]string{
		"plaintext": func(t *testing.T) map[string]string { return map[string]string{"bootstrap.servers": testenv.Kafka(t)} },
		"sasl_ssl": func(t *testing.T) map[string]string {
			k := testenv.KafkaSecure(t)
			return map[string]string{
				"bootstrap.servers": k.SASLSSL, "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512",
				"sasl.jaas.config": fmt.Sprintf(`org.apache.kafka.common.security.scram.ScramLoginModule required username=%s password=%s;`,
					strconv.Quote(k.User), strconv.Quote(k.Password)),
				"ssl.truststore.location": k.File("truststore.jks"), "ssl.truststore.type": "JKS", "ssl.truststore.password": k.StorePassword,
			}
		},
	}
	for name, propsOf := range cases {
		t.Run(name, func(t *testing.T) {
			props := propsOf(t)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			topic := testenv.Topic(t, "lease")
			lease := &testLease{}
			lease.set(time.Now().Add(time.Hour))

			opts, err := sourceProducerOpts(props, lease)
			if err != nil {
				t.Fatal(err)
			}
			held := &lapsedWrites{}
			producer, err := kgo.NewClient(append(opts, kgo.WithHooks(held))...)
			if err != nil {
				t.Fatal(err)
			}
			defer producer.Close()
			if _, err := kadm.NewClient(producer).CreateTopic(ctx, 1, -1, nil, topic); err != nil {
				t.Fatalf("create %s: %v", topic, err)
			}
			if err := producer.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("before")}).FirstErr(); err != nil {
				t.Fatalf("produce with a valid lease: %v", err)
			}

			lease.set(time.Now().Add(-time.Millisecond))
			acked := make(chan error, 1)
			producer.Produce(ctx, &kgo.Record{Topic: topic, Value: []byte("held")}, func(_ *kgo.Record, err error) { acked <- err })
			for held.n.Load() < 3 {
				select {
				case err := <-acked:
					t.Fatalf("record acknowledged (err %v) while the lease has lapsed", err)
				case <-ctx.Done():
					t.Fatalf("the producer tried %d times in 60s", held.n.Load())
				case <-time.After(10 * time.Millisecond):
				}
			}
			// A client under the lapsed lease still reads: only the first record is there.
			if got := readAll(t, ctx, props, lease, topic); fmt.Sprint(got) != "[before]" {
				t.Fatalf("topic holds %q while the lease has lapsed, want [before]", got)
			}

			lease.set(time.Now().Add(time.Hour))
			select {
			case err := <-acked:
				if err != nil {
					t.Fatalf("held record failed after the lease was renewed: %v", err)
				}
			case <-ctx.Done():
				t.Fatal("held record not acknowledged within 60s of the renewal")
			}
			if got := readAll(t, ctx, props, lease, topic); fmt.Sprint(got) != "[before held]" {
				t.Fatalf("topic holds %q, want [before held]: the held record exactly once", got)
			}
		})
	}
}

// readAll reads topic to its end through a client whose writes obey lease.
func readAll(t *testing.T, ctx context.Context, props map[string]string, lease Lease, topic string) []string {
	t.Helper()
	opts, err := kafkaClientOpts(props, lease)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(append(opts, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("end offsets of %s: %v", topic, err)
	}
	end, _ := ends.Lookup(topic, 0)
	var out []string
	for int64(len(out)) < end.Offset {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read %s: %d of %d records: %v", topic, len(out), end.Offset, err)
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, string(r.Value)) })
	}
	return out
}
