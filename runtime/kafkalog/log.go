// Package kafkalog reads and writes one compacted Kafka topic as a log of key/value updates: the
// engine under the Kafka-backed config, offset and status stores of distributed mode (upstream's
// KafkaBasedLog). A Log consumes every partition of its topic from the start on a goroutine of
// its own and hands each record to the store's apply function, in offset order per partition;
// ReadToEnd waits until every record that was in the topic when it was called has been applied,
// which is how a store makes its reads see everything written before them.
package kafkalog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/internal/backoff"
)

// ErrClosed is returned by a Log's methods after Close.
var ErrClosed = errors.New("kafkalog: log closed")

// Log is one internal topic, consumed from the start and applied record by record.
type Log struct {
	topic Topic
	cl    *kgo.Client
	adm   *kadm.Client
	apply func(*kgo.Record)
	log   *slog.Logger

	cancel context.CancelFunc
	done   chan struct{} // closed when the consume loop has returned

	mu       sync.Mutex
	next     map[int32]int64 // per partition: the offset after the last applied record
	progress chan struct{}   // closed and replaced whenever next advances
	fetchErr error           // the last fetch error, to explain a ReadToEnd that times out
}

// Open creates the topic if it is missing (with t's partitions, replication factor and configs,
// always compacted), checks that an existing one is compacted as upstream does, starts
// consuming it from the start and reads it to the end before returning. apply is called for
// every record except transaction markers, on the Log's goroutine, one record at a time; it must
// not call the Log's methods that wait (ReadToEnd, Send). opts are the Kafka client options
// (brokers, security, client id); Open adds its own consume and partitioning options.
func Open(ctx context.Context, opts []kgo.Opt, t Topic, apply func(*kgo.Record), log *slog.Logger) (*Log, error) {
	if t.Name == "" {
		return nil, fmt.Errorf("%s: no topic name given", t.Setting)
	}
	if log == nil {
		log = slog.Default()
	}
	own := []kgo.Opt{
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		// Transaction markers count as records for the positions ReadToEnd compares with end
		// offsets; without them a topic written transactionally (upstream's exactly-once
		// config writer) would never look read to the end.
		kgo.KeepControlRecords(),
		// The Java consumer's fetch.max.wait.ms: a long poll the broker fails to wake (seen on
		// a topic's first records) delays a read to the end by at most this.
		kgo.FetchMaxWait(500 * time.Millisecond),
		// Keys go to the partition Kafka's Java producer picks (murmur2), so that records of
		// one key written by kconnect and by Kafka Connect stay ordered in one partition.
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)),
	}
	if t.ReadCommitted {
		own = append(own, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl, err := kgo.NewClient(append(append([]kgo.Opt{}, opts...), own...)...)
	if err != nil {
		return nil, fmt.Errorf("kafka client for %s topic %s: %w", t.Purpose, t.Name, err)
	}
	l := &Log{topic: t, cl: cl, adm: kadm.NewClient(cl), apply: apply, log: log.With("topic", t.Name),
		done: make(chan struct{}), next: map[int32]int64{}, progress: make(chan struct{})}
	if err := l.ensureTopic(ctx); err != nil {
		cl.Close()
		return nil, err
	}
	// Consuming starts only now: a client that looked the topic up before it existed would
	// wait for its next metadata refresh to find it.
	cl.AddConsumeTopics(t.Name)
	var loopCtx context.Context
	loopCtx, l.cancel = context.WithCancel(context.Background())
	go l.consume(loopCtx)
	if err := l.ReadToEnd(ctx); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// Topic returns the settings the log was opened with.
func (l *Log) Topic() Topic { return l.topic }

// Partitions returns the topic's current partition count, retrying while the topic is too new
// for the broker that answers to know it (Apache Kafka answered UNKNOWN_TOPIC_OR_PARTITION for a
// config topic read to its end a moment before).
func (l *Log) Partitions(ctx context.Context) (int, error) {
	var n int
	err := backoff.Retry(ctx, &backoff.Backoff{}, kerr.IsRetriable, func() error {
		details, err := l.adm.ListTopics(ctx, l.topic.Name)
		if err != nil {
			return err
		}
		td, ok := details[l.topic.Name]
		if !ok {
			return errors.New("not in the metadata response")
		}
		n = len(td.Partitions)
		return td.Err
	})
	if err != nil {
		return 0, fmt.Errorf("describe %s topic %s: %w", l.topic.Purpose, l.topic.Name, err)
	}
	return n, nil
}

func (l *Log) consume(ctx context.Context) {
	defer close(l.done)
	for {
		fs := l.cl.PollFetches(ctx)
		if fs.IsClientClosed() || ctx.Err() != nil {
			return
		}
		fs.EachError(func(topic string, p int32, err error) {
			l.log.Warn("fetch from internal topic failed; retrying", "partition", p, "err", err)
			l.mu.Lock()
			l.fetchErr = fmt.Errorf("partition %d: %w", p, err)
			l.mu.Unlock()
		})
		fs.EachPartition(func(p kgo.FetchTopicPartition) {
			if len(p.Records) == 0 {
				return
			}
			for _, r := range p.Records {
				if !r.Attrs.IsControl() {
					l.apply(r)
				}
			}
			last := p.Records[len(p.Records)-1]
			l.mu.Lock()
			l.next[p.Partition] = last.Offset + 1
			l.fetchErr = nil
			close(l.progress)
			l.progress = make(chan struct{})
			l.mu.Unlock()
		})
	}
}

// ReadToEnd returns once every record in the topic at the time of the call has been applied.
func (l *Log) ReadToEnd(ctx context.Context) error {
	select {
	case <-l.done:
		return ErrClosed
	default:
	}
	ends, err := l.endOffsets(ctx)
	if err != nil {
		return fmt.Errorf("read %s topic %s to the end: list end offsets: %w", l.topic.Purpose, l.topic.Name, err)
	}
	targets := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { targets[o.Partition] = o.Offset })
	if err := l.ReadTo(ctx, targets); err != nil {
		return fmt.Errorf("read %s topic %s to the end: %w", l.topic.Purpose, l.topic.Name, err)
	}
	return nil
}

// ReadTo waits until the log has read every partition of targets up to its offset there.
func (l *Log) ReadTo(ctx context.Context, targets map[int32]int64) error {
	for {
		l.mu.Lock()
		var behind []string
		for p, end := range targets {
			if l.next[p] < end {
				behind = append(behind, fmt.Sprintf("partition %d at %d of %d", p, l.next[p], end))
			}
		}
		progress, fetchErr := l.progress, l.fetchErr
		l.mu.Unlock()
		if len(behind) == 0 {
			return nil
		}
		select {
		case <-progress:
		case <-l.done:
			return ErrClosed
		case <-ctx.Done():
			slices.Sort(behind)
			err := fmt.Errorf("%w (%s)", ctx.Err(), strings.Join(behind, ", "))
			if fetchErr != nil {
				err = fmt.Errorf("%w (last fetch error: %v)", err, fetchErr)
			}
			return err
		}
	}
}

// listEnds lists the offsets a read to the end must reach: the last stable offset when the log
// reads committed records only (Topic.ReadCommitted), as the Java consumer's
// endOffsets does at that isolation level, since such a reader cannot pass a transaction still
// open (a killed task's, until its next instance or the broker aborts it); the high watermark
// otherwise.
func (l *Log) listEnds(ctx context.Context, topic string) (kadm.ListedOffsets, error) {
	if l.topic.ReadCommitted {
		return l.adm.ListCommittedOffsets(ctx, topic)
	}
	return l.adm.ListEndOffsets(ctx, topic)
}

// endOffsets lists the topic's end offsets, retrying the errors of a topic whose metadata has
// not reached every broker yet (just created) or whose leader is moving.
func (l *Log) endOffsets(ctx context.Context) (kadm.ListedOffsets, error) {
	var ends kadm.ListedOffsets
	err := backoff.Retry(ctx, &backoff.Backoff{}, kerr.IsRetriable, func() error {
		var err error
		if ends, err = l.listEnds(ctx, l.topic.Name); err == nil {
			err = ends.Error()
		}
		if err != nil && kerr.IsRetriable(err) {
			l.log.Debug("listing end offsets failed; retrying", "err", err)
		}
		return err
	})
	return ends, err
}

// Send writes records to the topic and returns once all are acknowledged, at the first error,
// or when ctx ends. A record's Topic is set by Send; a nil Value is a tombstone.
//
// Records not acknowledged when ctx ends are still written, ahead of later writes to their
// partitions: once a write is sent, the idempotent producer resends it until Kafka answers
// whatever its context says (for as long as a broker is away, or a worker's lease holds writes
// back), so a context cannot withdraw it; and franz-go fails the records queued behind a record
// whose context ended before it was sent, so each record is produced without the caller's.
func (l *Log) Send(ctx context.Context, recs ...*kgo.Record) error {
	if len(recs) == 0 {
		return nil
	}
	results := make(chan error, len(recs))
	for _, r := range recs {
		r.Topic = l.topic.Name
		l.cl.Produce(context.WithoutCancel(ctx), r, func(_ *kgo.Record, err error) { results <- err })
	}
	for range recs {
		select {
		case err := <-results:
			if err != nil {
				return fmt.Errorf("write to %s topic %s: %w", l.topic.Purpose, l.topic.Name, err)
			}
		case <-ctx.Done():
			return fmt.Errorf("write to %s topic %s: not acknowledged: %w", l.topic.Purpose, l.topic.Name, ctx.Err())
		}
	}
	return nil
}

// SendAsync writes a record without waiting; done, if not nil, gets the outcome. Records sent
// one after the other keep their order within a partition.
func (l *Log) SendAsync(ctx context.Context, r *kgo.Record, done func(error)) {
	r.Topic = l.topic.Name
	l.cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
		if err != nil {
			err = fmt.Errorf("write to %s topic %s: %w", l.topic.Purpose, l.topic.Name, err)
		}
		if done != nil {
			done(err)
		}
	})
}

// Flush waits until every record sent so far is acknowledged or failed.
func (l *Log) Flush(ctx context.Context) error {
	if err := l.cl.Flush(ctx); err != nil {
		return fmt.Errorf("flush writes to %s topic %s: %w", l.topic.Purpose, l.topic.Name, err)
	}
	return nil
}

// Close stops consuming and releases the client; records still being sent are abandoned, so
// callers that need them call Flush first.
func (l *Log) Close() {
	if l.cancel != nil {
		l.cancel()
	}
	l.cl.Close()
	<-l.done
}
