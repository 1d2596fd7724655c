package runtime

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/runtime/herder"
)

// deadLetterQueue sends records a sink could not process to errors.deadletterqueue.topic.name,
// unchanged, with upstream's __connect.errors.* headers when context headers are enabled.
type deadLetterQueue struct {
	client         *kgo.Client
	topic          string
	id             herder.TaskID
	contextHeaders bool
	// replicationFactor is errors.deadletterqueue.topic.replication.factor, used when the topic
	// does not exist yet; admin is the worker's admin client that creates it.
	replicationFactor int16
	admin             func() (*kadm.Client, error)

	setupMu sync.Mutex
	ready   bool // the topic exists
}

// setup creates the topic, with one partition and the configured replication factor, unless it
// exists, before the first record is sent to it, as upstream's DeadLetterQueueReporter does.
func (q *deadLetterQueue) setup(ctx context.Context) error {
	q.setupMu.Lock()
	defer q.setupMu.Unlock()
	if q.ready {
		return nil
	}
	adm, err := q.admin()
	if err != nil {
		return err
	}
	if _, err := createTopicIfMissing(ctx, adm, q.topic, 1, q.replicationFactor, nil); err != nil {
		return fmt.Errorf("dead letter queue (%s=%d): %w", DLQReplicationFactor, q.replicationFactor, err)
	}
	q.ready = true
	return nil
}

const dlqHeaderPrefix = "__connect.errors."

// send produces the original record synchronously: its consumer offset must not be committed
// before the dead-letter copy is safely in Kafka.
func (q *deadLetterQueue) send(ctx context.Context, orig *kgo.Record, stage string, cause error) error {
	if err := q.setup(ctx); err != nil {
		return err
	}
	rec := &kgo.Record{Topic: q.topic, Key: orig.Key, Value: orig.Value, Timestamp: orig.Timestamp,
		Headers: append([]kgo.RecordHeader(nil), orig.Headers...)}
	if q.contextHeaders {
		h := func(k, v string) {
			rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: dlqHeaderPrefix + k, Value: []byte(v)})
		}
		h("topic", orig.Topic)
		h("partition", strconv.Itoa(int(orig.Partition)))
		h("offset", strconv.FormatInt(orig.Offset, 10))
		h("connector.name", q.id.Connector)
		h("task.id", strconv.Itoa(q.id.Task))
		h("stage", stage)
		className := "kconnect"
		var te *transformError
		if errors.As(cause, &te) {
			className = te.class
		}
		h("class.name", className)
		h("exception.class.name", reflect.TypeOf(cause).String())
		h("exception.message", cause.Error())
		h("exception.stacktrace", fmt.Sprintf("%+v", cause))
	}
	return q.client.ProduceSync(ctx, rec).FirstErr()
}

// errantReporter implements connect.ErrantRecordReporter for tasks that reject single records.
type errantReporter struct{ r *sinkRunner }

func (e errantReporter) Report(ctx context.Context, rec *connect.SinkRecord, err error) error {
	if ferr := e.r.tolerance.handle("TASK_PUT", &rec.Record, err); ferr != nil {
		return ferr
	}
	if e.r.dlq == nil {
		return nil
	}
	// The task holds the converted record; send the original bytes by reconverting is not possible,
	// so the dead-letter copy carries the value as the task saw it, serialized by the task's converters.
	key, kerr := e.r.conv.key.FromConnectData(rec.Topic, rec.KeySchema, rec.Key)
	value, verr := e.r.conv.value.FromConnectData(rec.Topic, rec.ValueSchema, rec.Value)
	if kerr != nil || verr != nil {
		return fmt.Errorf("serialize errant record for the dead letter queue: key: %v, value: %v", kerr, verr)
	}
	orig := &kgo.Record{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset, Key: key, Value: value, Timestamp: rec.Timestamp}
	derr := e.r.dlq.send(ctx, orig, "TASK_PUT", err)
	e.r.t.metrics.DeadLettered(derr)
	return derr
}
