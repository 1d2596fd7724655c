package testenv

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Kafka returns bootstrap servers: an in-process kfake cluster (closed at
// cleanup, AllowAutoTopicCreation, a DefaultNumPartitions of 1, loopback port
// 0) by default, or the real broker from KCONNECT_TEST_KAFKA when
// KCONNECT_TEST_BROKER=real; kfake keeps the default run fast and hermetic,
// the real broker catches where kfake's protocol emulation differs.
func Kafka(t testing.TB) string {
	t.Helper()
	if RealKafka() {
		return Require(t, envKafka)
	}
	c, err := kfake.NewCluster(
		kfake.Ports(0),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(1),
	)
	if err != nil {
		t.Fatalf("testenv: starting in-process kfake cluster: %v", err)
	}
	t.Cleanup(c.Close)
	return strings.Join(c.ListenAddrs(), ",")
}

// RealKafka reports whether tests run against the real broker
// (KCONNECT_TEST_BROKER=real), for tests that must allow for its slower or
// stricter behaviour.
func RealKafka() bool {
	return os.Getenv(envBroker) == "real"
}

// Topic returns a unique topic name with the given prefix (safe against
// reuse across runs on the real broker); on the real broker the topic is
// also deleted at cleanup, so that the long-lived broker does not pile up
// topics from run after run.
func Topic(t testing.TB, prefix string) string {
	t.Helper()
	name := topicName(prefix, t.Name(), suffix())
	if RealKafka() {
		brokers := Require(t, envKafka)
		t.Cleanup(func() { deleteTopic(t, brokers, name) })
	}
	return name
}

// deleteTopic removes a topic the test may or may not have created.
func deleteTopic(t testing.TB, brokers, topic string) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...))
	if err != nil {
		t.Errorf("testenv: Kafka client for deleting topic %s: %v", topic, err)
		return
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	resp, err := kadm.NewClient(cl).DeleteTopic(ctx, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.UnknownTopicOrPartition) {
		t.Errorf("testenv: deleting topic %s: %v", topic, err)
	}
}

// DeleteTopicsAtCleanup deletes, when the test ends, every topic of the real broker whose name
// starts with prefix: the topics a connector derived from a prefix unique to the test, which the
// long-lived broker would otherwise pile up run after run. On kfake and the embedded broker, which
// end with the test, it does nothing.
func DeleteTopicsAtCleanup(t testing.TB, prefix string) {
	t.Helper()
	if !RealKafka() {
		return
	}
	brokers := Require(t, envKafka)
	t.Cleanup(func() {
		cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...))
		if err != nil {
			t.Errorf("testenv: Kafka client for deleting topics %s*: %v", prefix, err)
			return
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		adm := kadm.NewClient(cl)
		topics, err := adm.ListTopics(ctx)
		if err != nil {
			t.Errorf("testenv: listing topics to delete %s*: %v", prefix, err)
			return
		}
		var mine []string
		for _, name := range topics.Names() {
			if strings.HasPrefix(name, prefix) {
				mine = append(mine, name)
			}
		}
		if len(mine) > 0 {
			if _, err := adm.DeleteTopics(ctx, mine...); err != nil {
				t.Errorf("testenv: deleting topics %v: %v", mine, err)
			}
		}
	})
}

// GroupOffsets returns the sum of a consumer group's committed offsets on topic, or -1 while the
// group has none: what a sink test polls to know every record was delivered and committed.
func GroupOffsets(t testing.TB, bootstrap, group, topic string) int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...))
	if err != nil {
		t.Fatalf("testenv: Kafka client: %v", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	offs, err := kadm.NewClient(cl).FetchOffsets(ctx, group)
	if err != nil {
		return -1
	}
	var sum int64
	offs.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic && o.Err == nil {
			sum += o.At
		}
	})
	return sum
}

// Produce creates topic with the given partitions and writes records 0..n-1 to it, record i
// having the key and value record(i) returns, failing the test on any error.
func Produce(t testing.TB, bootstrap, topic string, partitions int32, n int, record func(i int) (key, value []byte)) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...), kgo.DefaultProduceTopic(topic),
		kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		t.Fatalf("testenv: Kafka client: %v", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("testenv: create topic %s: %v", topic, err)
	}
	var failed atomic.Pointer[error]
	for i := range n {
		k, v := record(i)
		cl.Produce(ctx, &kgo.Record{Key: k, Value: v}, func(_ *kgo.Record, err error) {
			if err != nil {
				failed.CompareAndSwap(nil, &err)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatalf("testenv: produce to %s: %v", topic, err)
	}
	if err := failed.Load(); err != nil {
		t.Fatalf("testenv: produce to %s: %v", topic, *err)
	}
}
