package runtime_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/runtime"
	"github.com/kconnect/kconnect/runtime/herder"
)

// TestSinkReadsCommittedByDefault writes a topic in transactions, one of them aborted, and runs a
// sink task on it: on an exactly-once worker the sink gets the committed records only by default;
// with consumer.override.isolation.level=read_uncommitted, or on a worker without exactly-once
// (Kafka's default, as upstream), it gets the aborted ones too.
func TestSinkReadsCommittedByDefault(t *testing.T) {
	bootstrap := testenv.Kafka(t)
	topic := testenv.Topic(t, "isolation")
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...), kgo.AllowAutoTopicCreation(),
		kgo.TransactionalID("isolation-"+topic), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	for _, txn := range []struct {
		values []string
		end    kgo.TransactionEndTry
	}{{[]string{"a", "b"}, kgo.TryCommit}, {[]string{"x", "y"}, kgo.TryAbort}, {[]string{"c"}, kgo.TryCommit}} {
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for _, v := range txn.values {
			if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(v)}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		if err := cl.EndTransaction(ctx, txn.end); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		plain     bool // a worker without exactly.once.source.support=enabled
		isolation string
		want      []string
	}{{false, "", []string{"a", "b", "c"}}, {false, "read_uncommitted", []string{"a", "b", "x", "y", "c"}},
		{true, "", []string{"a", "b", "x", "y", "c"}}, {true, "read_committed", []string{"a", "b", "c"}}} {
		t.Run(fmt.Sprintf("plain=%v isolation=%q", tc.plain, tc.isolation), func(t *testing.T) {
			sink := &testSink{n: &instances{}, puts: make(chan []connect.SinkRecord, 100)}
			plugin := connect.Plugin{Class: "TestSink", Type: connect.PluginSink, New: func() any { return sink }}
			var w *runtime.Worker
			if tc.plain {
				w, _ = newLifecycleWorker(t, bootstrap, plugin)
			} else {
				w, _ = newEOSWorker(t, eosProps(bootstrap, "iso-"+topic, testenv.Topic(t, "iso-offsets")), plugin)
			}
			conn := map[string]string{"name": fmt.Sprintf("iso-%v-%s", tc.plain, tc.isolation), "connector.class": "TestSink", "topics": topic}
			if tc.isolation != "" {
				conn["consumer.override.isolation.level"] = tc.isolation
			}
			task, err := w.StartSinkTask(herder.TaskID{Connector: conn["name"]}, conn, map[string]string{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				ctx, cancel := stopContext(w)
				defer cancel()
				_ = task.Stop(ctx)
			}()
			var got []string
			for len(got) < len(tc.want) {
				select {
				case recs := <-sink.puts:
					for _, r := range recs {
						got = append(got, fmt.Sprint(r.Value))
					}
				case <-time.After(60 * time.Second):
					t.Fatalf("sink got %v, want %v", got, tc.want)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("sink got %v, want %v", got, tc.want)
			}
		})
	}
}
