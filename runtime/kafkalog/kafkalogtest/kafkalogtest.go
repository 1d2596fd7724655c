// Package kafkalogtest helps the tests of the internal-topic stores: a unique internal topic on
// the test broker, and plain-client reads and writes of it, as kcat would do them.
package kafkalogtest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/runtime/kafkalog"
)

const timeout = 30 * time.Second

// Client returns client options for brokers (a comma-separated list).
func Client(brokers string) []kgo.Opt {
	return []kgo.Opt{kgo.SeedBrokers(strings.Split(brokers, ",")...)}
}

// Topic returns the settings of an internal topic of kind with a unique name, as a worker with
// only <prefix>topic and a replication factor of 1 (the test brokers have one node) would have.
func Topic(t testing.TB, kind kafkalog.Kind) kafkalog.Topic {
	t.Helper()
	name := testenv.Topic(t, strings.TrimSuffix(strings.ReplaceAll(kind.Prefix, ".", "-"), "-"))
	topic, err := kafkalog.TopicFromWorker(map[string]string{
		kind.Prefix + kafkalog.TopicSuffix: name, kind.Prefix + kafkalog.ReplicationFactorSuffix: "1",
	}, kind)
	if err != nil {
		t.Fatal(err)
	}
	return topic
}

// Open calls open with a bounded context, fails the test on an error and closes the store at
// cleanup.
func Open[S interface{ Close() error }](t testing.TB, open func(ctx context.Context) (S, error)) S {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	s, err := open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Partitions returns the partition count of a topic.
func Partitions(t testing.TB, brokers, topic string) int {
	t.Helper()
	cl := client(t, brokers)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	details, err := kadm.NewClient(cl).ListTopics(ctx, topic)
	if err == nil {
		err = details.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	return len(details[topic].Partitions)
}

// TopicConfig returns the value of the topic config name of topic, "" when it has none.
func TopicConfig(t testing.TB, brokers, topic, name string) string {
	t.Helper()
	cl := client(t, brokers)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rcs, err := kadm.NewClient(cl).DescribeTopicConfigs(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On(topic, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rc.Configs {
		if c.Key == name {
			return c.MaybeValue()
		}
	}
	return ""
}

// CreateTopic creates a topic with the given partitions and cleanup.policy.
func CreateTopic(t testing.TB, brokers, name string, partitions int32, policy string) {
	t.Helper()
	cl := client(t, brokers)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, map[string]*string{"cleanup.policy": &policy}, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatal(err)
	}
}

// Records reads every record of topic, each partition in offset order. A topic written in
// transactions ends in transaction markers, which are read, to reach its end, but not returned.
func Records(t testing.TB, brokers, topic string) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cl := client(t, brokers, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.KeepControlRecords())
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
		}
	})
	var out []*kgo.Record
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read %s: %v", topic, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if !r.Attrs.IsControl() {
				out = append(out, r)
			}
			if r.Offset+1 >= want[r.Partition] {
				delete(want, r.Partition)
			}
		})
	}
	return out
}

// Produce writes records with a plain client; a record goes to its Partition field.
func Produce(t testing.TB, brokers string, recs ...*kgo.Record) {
	t.Helper()
	cl := client(t, brokers, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// JavaPartition is the partition Kafka's Java producer picks for key (murmur2).
func JavaPartition(key []byte, partitions int32) int32 {
	return int32(kgo.StickyKeyPartitioner(nil).ForTopic("").Partition(&kgo.Record{Key: key}, int(partitions)))
}

func client(t testing.TB, brokers string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append(Client(brokers), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}
