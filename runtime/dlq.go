package runtime

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"

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
}

const dlqHeaderPrefix = "__connect.errors."

// send produces the original record synchronously: its consumer offset must not be committed
// before the dead-letter copy is safely in Kafka.
func (q *deadLetterQueue) send(ctx context.Context, orig *kgo.Record, stage string, cause error) error {
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
