package offsets

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/runtime/kafkalog"
)

// ReadTimeout bounds the read to the end of the offsets topic that Get and List do first, as
// upstream bounds its reads and writes of internal topics.
const ReadTimeout = 30 * time.Second

// TopicStore keeps offsets in a compacted Kafka topic (offset.storage.topic), for distributed
// mode, in Kafka Connect's format: key ["<connector>",{partition}], value the offset as JSON, a
// null value deleting the entry. Reads first catch up with the end of the topic, so they see every
// offset written before them, whichever worker wrote it.
//
// Keys are compared by meaning, not bytes: a partition map written by Kafka Connect with its
// members in another order is the same partition. So that the records of one partition always
// share a key and with it a Kafka partition (and the last written wins when the topic is read
// again), a write reuses the exact key bytes last seen for that partition; a key never seen is
// written as Kafka Connect writes a HashMap partition (see Key).
type TopicStore struct {
	log *kafkalog.Log
	lg  *slog.Logger

	mu      sync.Mutex
	entries map[string]*topicEntry // by canonical key (Key of the parsed key)
}

// topicEntry is the latest record of one connector's source partition. Deleted entries stay so
// that later writes reuse their key bytes.
type topicEntry struct {
	connector string
	partition map[string]any
	wire      []byte // the key as written in the topic
	value     []byte // nil once deleted
	timestamp time.Time
}

// OpenTopic opens the offsets topic t, creating it when missing, and reads it to the end. opts
// are the Kafka client options of the worker (brokers, security, client id).
func OpenTopic(ctx context.Context, opts []kgo.Opt, t kafkalog.Topic, log *slog.Logger) (*TopicStore, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &TopicStore{lg: log.With("topic", t.Name), entries: map[string]*topicEntry{}}
	l, err := kafkalog.Open(ctx, opts, t, s.apply, log)
	if err != nil {
		return nil, err
	}
	s.log = l
	return s, nil
}

// Topic returns the name of the topic the store reads and writes.
func (s *TopicStore) Topic() string { return s.log.Topic().Name }

func (s *TopicStore) apply(r *kgo.Record) {
	connector, partition, err := ParseKey(r.Key)
	if err == nil && r.Value != nil {
		_, err = DecodeValue(r.Value)
	}
	if err != nil {
		// Upstream keeps such records but nothing can look them up; say so and move on.
		s.lg.Error("ignoring malformed record in the offsets topic", "partition", r.Partition, "offset", r.Offset, "err", err)
		return
	}
	canon, err := Key(connector, partition)
	if err != nil {
		s.lg.Error("ignoring offsets record whose key cannot be re-encoded", "partition", r.Partition, "offset", r.Offset, "err", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[string(canon)]
	if e != nil && string(e.wire) != string(r.Key) && r.Timestamp.Before(e.timestamp) {
		// The same partition under other key bytes, in another Kafka partition: the order of
		// reading says nothing, so the newer write wins.
		return
	}
	s.entries[string(canon)] = &topicEntry{connector: connector, partition: partition,
		wire: r.Key, value: r.Value, timestamp: r.Timestamp}
}

// ReadToEnd waits until every offset in the topic when it was called has been read.
func (s *TopicStore) ReadToEnd(ctx context.Context) error { return s.log.ReadToEnd(ctx) }

// ReadTo waits until the store has read each partition of targets up to its offset there.
func (s *TopicStore) ReadTo(ctx context.Context, targets map[int32]int64) error {
	return s.log.ReadTo(ctx, targets)
}

// Get implements Store.
func (s *TopicStore) Get(connector string, partition map[string]any) (map[string]any, error) {
	canon, err := Key(connector, partition)
	if err != nil {
		return nil, err
	}
	if err := s.catchUp(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	e := s.entries[string(canon)]
	s.mu.Unlock()
	if e == nil {
		return nil, nil
	}
	return DecodeValue(e.value)
}

// List implements Store.
func (s *TopicStore) List(connector string) ([]connect.SourceOffset, error) {
	if err := s.catchUp(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []connect.SourceOffset
	for _, k := range connect.SortedKeys(s.entries) {
		e := s.entries[k]
		if e.connector != connector || e.value == nil {
			continue
		}
		off, err := DecodeValue(e.value)
		if err != nil {
			return nil, err
		}
		out = append(out, connect.SourceOffset{Partition: e.partition, Offset: off})
	}
	return out, nil
}

func (s *TopicStore) catchUp() error {
	ctx, cancel := context.WithTimeout(context.Background(), ReadTimeout)
	defer cancel()
	return s.log.ReadToEnd(ctx)
}

// Put implements Store: it returns once Kafka has acknowledged every record.
func (s *TopicStore) Put(ctx context.Context, connector string, offsets []connect.SourceOffset) error {
	if len(offsets) == 0 {
		return nil
	}
	recs, err := s.Records(connector, offsets)
	if err != nil {
		return err
	}
	if err := s.log.Send(ctx, recs...); err != nil {
		return fmt.Errorf("store offsets of %s: %w", connector, err)
	}
	return nil
}

// Records returns the records that store offsets, addressed to the store's topic, without
// writing them: an exactly-once source task writes them with its own transactional producer, in
// the transaction of the records they advance past. They are keyed as Put keys them, so a
// producer partitioning by murmur2 of the key (Kafka's default) puts them where Put would.
func (s *TopicStore) Records(connector string, offsets []connect.SourceOffset) ([]*kgo.Record, error) {
	recs := make([]*kgo.Record, 0, len(offsets))
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range offsets {
		canon, err := Key(connector, o.Partition)
		if err != nil {
			return nil, err
		}
		key := canon
		if e := s.entries[string(canon)]; e != nil {
			key = e.wire
		}
		value, err := EncodeValue(o.Offset)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", connector, canon, err)
		}
		recs = append(recs, &kgo.Record{Topic: s.Topic(), Key: key, Value: value})
	}
	return recs, nil
}

// Close implements Store.
func (s *TopicStore) Close() error {
	s.log.Close()
	return nil
}
