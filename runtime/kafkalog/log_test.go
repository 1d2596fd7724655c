package kafkalog_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/runtime/kafkalog"
	"github.com/kconnect/kconnect/runtime/kafkalog/kafkalogtest"
)

// applied collects the records a Log applies.
type applied struct {
	mu   sync.Mutex
	keys []string
}

func (a *applied) apply(r *kgo.Record) {
	a.mu.Lock()
	a.keys = append(a.keys, string(r.Key))
	a.mu.Unlock()
}

func (a *applied) get() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.keys...)
}

// A topic written in transactions (upstream's config topic under exactly-once source support)
// ends with a commit marker, which is no record to apply but must count as read.
func TestReadToEndPassesTransactionMarkers(t *testing.T) {
	brokers := testenv.Kafka(t)
	topic := kafkalogtest.Topic(t, kafkalog.ConfigTopic)
	var a applied
	l, err := kafkalog.Open(context.Background(), kafkalogtest.Client(brokers), topic, a.apply, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	tx, err := kgo.NewClient(append(kafkalogtest.Client(brokers), kgo.TransactionalID(topic.Name))...)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := tx.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := tx.ProduceSync(ctx, &kgo.Record{Topic: topic.Name, Key: []byte("k1"), Value: []byte("{}")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := tx.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	if err := l.ReadToEnd(ctx); err != nil {
		t.Fatalf("ReadToEnd after a committed transaction: %v", err)
	}
	if got := a.get(); len(got) != 1 || got[0] != "k1" {
		t.Fatalf("applied %q, want the one record and no marker", got)
	}
}

func TestReadToEndAfterCloseFails(t *testing.T) {
	brokers := testenv.Kafka(t)
	var a applied
	l, err := kafkalog.Open(context.Background(), kafkalogtest.Client(brokers), kafkalogtest.Topic(t, kafkalog.StatusTopic), a.apply, nil)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if err := l.ReadToEnd(context.Background()); !errors.Is(err, kafkalog.ErrClosed) {
		t.Fatalf("ReadToEnd after Close = %v, want ErrClosed", err)
	}
}

// A replication factor the cluster cannot give is an error naming the property to change.
func TestOpenNamesReplicationFactorItCannotMeet(t *testing.T) {
	if !testenv.RealKafka() {
		t.Skip("kfake grants any replication factor; the real broker has one node")
	}
	brokers := testenv.Kafka(t)
	topic := kafkalogtest.Topic(t, kafkalog.ConfigTopic)
	topic.ReplicationFactor = 3
	_, err := kafkalog.Open(context.Background(), kafkalogtest.Client(brokers), topic, func(*kgo.Record) {}, nil)
	if err == nil {
		t.Fatal("a replication factor of 3 on a one-node cluster must fail")
	}
	for _, want := range []string{topic.Name, "config.storage.replication.factor=3"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// Apache Kafka can answer UNKNOWN_TOPIC_OR_PARTITION for a topic created and read a moment
// before; Partitions waits for it rather than fail the store that asked.
func TestPartitionsWaitsForANewTopic(t *testing.T) {
	c, err := kfake.NewCluster(kfake.Ports(0), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	topic := kafkalogtest.Topic(t, kafkalog.ConfigTopic)
	// Metadata no older than 10 ms is served from the client's cache, not asked of the broker.
	client := append(kafkalogtest.Client(c.ListenAddrs()[0]), kgo.MetadataMinAge(10*time.Millisecond))
	l, err := kafkalog.Open(context.Background(), client, topic, func(*kgo.Record) {}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	time.Sleep(20 * time.Millisecond)
	faults := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Metadata}, Topic: topic.Name, Err: kerr.UnknownTopicOrPartition, Count: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := l.Partitions(ctx)
	if err != nil || n != 1 {
		t.Fatalf("Partitions = %d, %v; want 1 once the broker knows the topic", n, err)
	}
	if hits := faults.Hits(); hits != 3 {
		t.Fatalf("the broker answered UNKNOWN_TOPIC_OR_PARTITION %d times, want 3", hits)
	}
}
