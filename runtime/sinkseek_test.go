package runtime_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/runtime/herder"
)

// storedOffsetsSink is a sink that keeps its own offsets, as the HDFS and Delta Lake sinks do:
// when a partition opens it seeks to where its store says it stopped.
type storedOffsetsSink struct {
	testSink
	stored map[connect.TopicPartition]int64
}

func (c *storedOffsetsSink) NewTask() connect.SinkTask {
	return &storedOffsetsTask{testSinkTask: testSinkTask{c: &c.testSink}, stored: c.stored}
}

type storedOffsetsTask struct {
	testSinkTask
	ctx    connect.SinkTaskContext
	stored map[connect.TopicPartition]int64
}

func (t *storedOffsetsTask) Start(ctx connect.SinkTaskContext, props map[string]string) error {
	t.ctx = ctx
	return t.testSinkTask.Start(ctx, props)
}

func (t *storedOffsetsTask) Open(_ context.Context, tps []connect.TopicPartition) error {
	seek := map[connect.TopicPartition]int64{}
	for _, tp := range tps {
		if o, ok := t.stored[tp]; ok {
			seek[tp] = o
		}
	}
	t.ctx.Seek(seek)
	return nil
}

func (t *storedOffsetsTask) Close(context.Context, []connect.TopicPartition) error { return nil }

// TestSinkCommitsTheOffsetItOpenedAt runs a sink whose store already holds every record of its
// topic: it seeks to the end when the partition opens and never gets a record, and the worker
// must still commit that offset to the consumer group, so the group's lag reads zero and a
// restart's wait on the group ends (the Delta Lake kill test waited on it in vain).
func TestSinkCommitsTheOffsetItOpenedAt(t *testing.T) {
	bootstrap := testenv.Kafka(t)
	topic := testenv.Topic(t, "stored")
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...), kgo.AllowAutoTopicCreation(),
		kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, v := range []string{"a", "b", "c", "d", "e"} {
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Value: []byte(v), Partition: 0}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	sink := &storedOffsetsSink{
		testSink: testSink{n: &instances{}, puts: make(chan []connect.SinkRecord, 100)},
		stored:   map[connect.TopicPartition]int64{{Topic: topic, Partition: 0}: 5},
	}
	plugin := connect.Plugin{Class: "StoredOffsetsSink", Type: connect.PluginSink, New: func() any { return sink }}
	w, _ := newLifecycleWorker(t, bootstrap, plugin)
	name := "stored-" + topic[len(topic)-8:]
	conn := map[string]string{"name": name, "connector.class": "StoredOffsetsSink", "topics": topic}
	task, err := w.StartSinkTask(herder.TaskID{Connector: name}, conn, map[string]string{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := stopContext(w)
		defer cancel()
		_ = task.Stop(ctx)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for testenv.GroupOffsets(t, bootstrap, "connect-"+name, topic) != 5 {
		if time.Now().After(deadline) {
			t.Fatalf("group connect-%s has offset %d, want 5 (where the sink opened)", name,
				testenv.GroupOffsets(t, bootstrap, "connect-"+name, topic))
		}
		time.Sleep(100 * time.Millisecond)
	}
	select {
	case recs := <-sink.puts:
		t.Fatalf("the sink got %d records before the offset it seeked to", len(recs))
	default:
	}
}
