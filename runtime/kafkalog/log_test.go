package kafkalog_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

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
