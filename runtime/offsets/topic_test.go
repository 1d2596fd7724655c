package offsets

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/runtime/kafkalog"
	"github.com/kconnect/kconnect/runtime/kafkalog/kafkalogtest"
)

func openTopicStore(t *testing.T, brokers string, topic kafkalog.Topic) *TopicStore {
	return kafkalogtest.Open(t, func(ctx context.Context) (*TopicStore, error) {
		return OpenTopic(ctx, kafkalogtest.Client(brokers), topic, nil)
	})
}

func TestTopicStoreRoundTripAcrossWorkers(t *testing.T) {
	brokers := testenv.Kafka(t)
	topic := kafkalogtest.Topic(t, kafkalog.OffsetTopic)
	topic.Partitions = 3 // a few, for speed on the real broker; 25 are tested below
	a := openTopicStore(t, brokers, topic)
	b := openTopicStore(t, brokers, topic) // another worker on the same topic
	ctx := context.Background()

	pa := map[string]any{"table": "public.a", "protocol": "1"}
	pb := map[string]any{"filename": "/tmp/x & <y>"}
	err := a.Put(ctx, "c1", []connect.SourceOffset{
		{Partition: pa, Offset: map[string]any{"incrementing": int64(1) << 60, "timestamp": 1.5}},
		{Partition: pb, Offset: map[string]any{"position": int64(42)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// b never consumed explicitly: Get reads to the end of the topic first.
	got, err := b.Get("c1", map[string]any{"protocol": "1", "table": "public.a"})
	if err != nil {
		t.Fatal(err)
	}
	if got["incrementing"] != int64(1)<<60 || got["timestamp"] != 1.5 {
		t.Fatalf("offset read by another worker = %#v", got)
	}
	if got, _ := b.Get("c2", pb); got != nil {
		t.Fatalf("c2 sees c1's offset: %v", got)
	}
	list, err := b.List("c1")
	if err != nil || len(list) != 2 {
		t.Fatalf("List(c1) = %v, %v; want 2 entries", list, err)
	}

	// A nil offset writes a tombstone; every reader forgets the partition.
	if err := b.Put(ctx, "c1", []connect.SourceOffset{{Partition: pb}}); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Get("c1", pb); err != nil || got != nil {
		t.Fatalf("deleted offset still present: %v, %v", got, err)
	}

	// The records are Kafka Connect's: the JSON array key, the JSON offset, a null tombstone.
	var keys, values []string
	for _, r := range kafkalogtest.Records(t, brokers, topic.Name) {
		keys = append(keys, string(r.Key))
		values = append(values, string(r.Value))
	}
	wantKeys := []string{`["c1",{"protocol":"1","table":"public.a"}]`, `["c1",{"filename":"/tmp/x & <y>"}]`, `["c1",{"filename":"/tmp/x & <y>"}]`}
	wantValues := []string{`{"incrementing":1152921504606846976,"timestamp":1.5}`, `{"position":42}`, ``}
	slices.Sort(keys)
	slices.Sort(values)
	slices.Sort(wantKeys)
	slices.Sort(wantValues)
	if !slices.Equal(keys, wantKeys) || !slices.Equal(values, wantValues) {
		t.Fatalf("records in the topic:\nkeys %q\nvalues %q\nwant keys %q\nvalues %q", keys, values, wantKeys, wantValues)
	}

	// A restarted worker rebuilds the same state from the topic.
	a.Close()
	c := openTopicStore(t, brokers, topic)
	if got, _ := c.Get("c1", pa); got["incrementing"] != int64(1)<<60 {
		t.Fatalf("after reload: %v", got)
	}
	if got, _ := c.Get("c1", pb); got != nil {
		t.Fatalf("after reload the deleted offset is back: %v", got)
	}
}

// Offsets Kafka Connect wrote with another member order or spacing are the same partition:
// found by Get, and overwritten under the very same key bytes so they stay in one Kafka
// partition.
func TestTopicStoreReusesForeignKeyBytes(t *testing.T) {
	brokers := testenv.Kafka(t)
	topic := kafkalogtest.Topic(t, kafkalog.OffsetTopic)
	topic.Partitions = 3 // a few, for speed on the real broker; 25 are tested below
	s := openTopicStore(t, brokers, topic)
	foreign := []byte(`["jdbc", {"table": "public.t", "protocol": "1"}]`)
	kafkalogtest.Produce(t, brokers, &kgo.Record{Topic: topic.Name, Partition: kafkalogtest.JavaPartition(foreign, topic.Partitions), Key: foreign, Value: []byte(`{"incrementing": 7}`)})

	part := map[string]any{"protocol": "1", "table": "public.t"}
	got, err := s.Get("jdbc", part)
	if err != nil || got["incrementing"] != int64(7) {
		t.Fatalf("Get of a partition Java wrote = %v, %v", got, err)
	}
	if err := s.Put(context.Background(), "jdbc", []connect.SourceOffset{{Partition: part, Offset: map[string]any{"incrementing": int64(8)}}}); err != nil {
		t.Fatal(err)
	}
	recs := kafkalogtest.Records(t, brokers, topic.Name)
	if len(recs) != 2 || string(recs[0].Key) != string(foreign) || string(recs[1].Key) != string(foreign) || recs[0].Partition != recs[1].Partition {
		for _, r := range recs {
			t.Logf("partition %d key %s value %s", r.Partition, r.Key, r.Value)
		}
		t.Fatal("the update must reuse the key bytes (and so the partition) of the record it replaces")
	}
	if got, _ := openTopicStore(t, brokers, topic).Get("jdbc", part); got["incrementing"] != int64(8) {
		t.Fatalf("after reload = %v, want the update", got)
	}
}

// Two records of one source partition under different key bytes can sit in different Kafka
// partitions, where reading order means nothing: the later write wins.
func TestTopicStoreNewerWriteWinsAcrossKafkaPartitions(t *testing.T) {
	brokers := testenv.Kafka(t)
	topic := kafkalogtest.Topic(t, kafkalog.OffsetTopic)
	topic.Partitions = 2
	s := openTopicStore(t, brokers, topic)
	now := time.Now()
	// The newer record goes to partition 0, which this store may well read first.
	kafkalogtest.Produce(t, brokers,
		&kgo.Record{Topic: topic.Name, Partition: 0, Key: []byte(`["c",{"a":1,"b":2}]`), Value: []byte(`{"n":2}`), Timestamp: now},
		&kgo.Record{Topic: topic.Name, Partition: 1, Key: []byte(`["c",{"b":2,"a":1}]`), Value: []byte(`{"n":1}`), Timestamp: now.Add(-time.Minute)},
	)
	got, err := s.Get("c", map[string]any{"a": int64(1), "b": int64(2)})
	if err != nil || got["n"] != int64(2) {
		t.Fatalf("Get = %v, %v; want the newer offset n=2", got, err)
	}
}

func TestTopicStoreCreatesCompactedTopicWithWorkerPartitions(t *testing.T) {
	brokers := testenv.Kafka(t)
	topic := kafkalogtest.Topic(t, kafkalog.OffsetTopic)
	openTopicStore(t, brokers, topic)
	if n := kafkalogtest.Partitions(t, brokers, topic.Name); n != 25 {
		t.Fatalf("offsets topic has %d partitions, want upstream's default 25", n)
	}
	cl, err := kgo.NewClient(kafkalogtest.Client(brokers)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	rcs, err := kadm.NewClient(cl).DescribeTopicConfigs(context.Background(), topic.Name)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On(topic.Name, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rc.Configs {
		if c.Key == "cleanup.policy" && (c.Value == nil || *c.Value != "compact") {
			t.Fatalf("cleanup.policy = %v, want compact", c.MaybeValue())
		}
	}
}

func TestTopicStoreRefusesTopicThatIsNotCompacted(t *testing.T) {
	brokers := testenv.Kafka(t)
	topic := kafkalogtest.Topic(t, kafkalog.OffsetTopic)
	kafkalogtest.CreateTopic(t, brokers, topic.Name, 1, "delete")
	_, err := OpenTopic(context.Background(), kafkalogtest.Client(brokers), topic, nil)
	if err == nil {
		t.Fatal("an offsets topic with cleanup.policy=delete must be refused")
	}
	for _, want := range []string{topic.Name, "offset.storage.topic", "cleanup.policy=compact", "cleanup.policy=delete"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}
