package runtime_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/runtime/herder"
)

// panicKey names the plugin call that panics in the test connectors' configuration.
const panicKey = "panic.in"

func panicDef() *connect.ConfigDef {
	return connect.NewConfigDef().
		Define(connect.ConfigKey{Name: panicKey, Type: connect.ConfigString, Default: "", Importance: connect.High,
			Doc: "The call that panics."}).
		Define(connect.ConfigKey{Name: "topic", Type: connect.ConfigString, Default: "", Importance: connect.High,
			Doc: "The topic of the source's records."})
}

func boom(where string) { panic("boom in " + where) }

// panicSource is a source connector that panics where panic.in says, in the connector, in a
// goroutine of its own, or in its task.
type panicSource struct {
	where string
	props map[string]string
}

func (c *panicSource) Version() string               { return "1" }
func (c *panicSource) ConfigDef() *connect.ConfigDef { return panicDef() }
func (c *panicSource) NewTask() connect.SourceTask   { return &panicSourceTask{} }
func (c *panicSource) Stop() error                   { return nil }

func (c *panicSource) Start(ctx connect.ConnectorContext, props map[string]string) error {
	c.where, c.props = props[panicKey], maps.Clone(props)
	switch c.where {
	case "connector start":
		boom(c.where)
	case "connector goroutine":
		// What a connector's monitor thread does: recover its own panic and raise it.
		go func() {
			if err := func() (err error) {
				defer connect.Recover(&err)
				boom(c.where)
				return nil
			}(); err != nil {
				ctx.RaiseError(err)
			}
		}()
	}
	return nil
}

func (c *panicSource) TaskConfigs(int) ([]map[string]string, error) {
	if c.where == "task configs" {
		boom(c.where)
	}
	return []map[string]string{c.props}, nil
}

type panicSourceTask struct{ where, topic string }

func (t *panicSourceTask) Version() string { return "1" }

func (t *panicSourceTask) Start(_ connect.SourceTaskContext, props map[string]string) error {
	t.where, t.topic = props[panicKey], props["topic"]
	return nil
}

func (t *panicSourceTask) Poll(ctx context.Context) ([]connect.SourceRecord, error) {
	switch t.where {
	case "poll":
		boom(t.where)
	case "commit":
		// One record, so that the runtime has an offset to commit and calls Commit.
		t.where = "commit hook"
		return []connect.SourceRecord{{Record: connect.Record{Topic: t.topic, Value: "v", ValueSchema: connect.StringSchema},
			SourcePartition: map[string]any{"p": 1}, SourceOffset: map[string]any{"o": 1}}}, nil
	}
	select {
	case <-ctx.Done():
	case <-time.After(100 * time.Millisecond):
	}
	return nil, nil
}

func (t *panicSourceTask) Commit(context.Context, []connect.SourceOffset) error {
	if t.where == "commit hook" {
		boom("commit")
	}
	return nil
}

func (t *panicSourceTask) Stop() error { return nil }

// panicSink is a sink connector whose task panics where panic.in says.
type panicSink struct{ where string }

func (c *panicSink) Version() string               { return "1" }
func (c *panicSink) ConfigDef() *connect.ConfigDef { return panicDef() }
func (c *panicSink) NewTask() connect.SinkTask     { return &panicSinkTask{} }
func (c *panicSink) Stop() error                   { return nil }

func (c *panicSink) Start(_ connect.ConnectorContext, props map[string]string) error {
	c.where = props[panicKey]
	return nil
}

func (c *panicSink) TaskConfigs(int) ([]map[string]string, error) {
	return []map[string]string{{panicKey: c.where}}, nil
}

type panicSinkTask struct{ where string }

func (t *panicSinkTask) Version() string { return "1" }

func (t *panicSinkTask) Start(_ connect.SinkTaskContext, props map[string]string) error {
	t.where = props[panicKey]
	return nil
}

func (t *panicSinkTask) Put(context.Context, []connect.SinkRecord) error { return nil }

func (t *panicSinkTask) PreCommit(_ context.Context, cur map[connect.TopicPartition]int64) (map[connect.TopicPartition]int64, error) {
	return cur, nil
}

func (t *panicSinkTask) Stop() error { return nil }

// Open runs on the Kafka client's rebalance goroutine, not the task loop's.
func (t *panicSinkTask) Open(context.Context, []connect.TopicPartition) error {
	if t.where == "open" {
		boom(t.where)
	}
	return nil
}

func (t *panicSinkTask) Close(context.Context, []connect.TopicPartition) error { return nil }

// TestPluginPanicsFailTheirConnectorOrTaskNotTheWorker makes plugin code panic in every place the
// runtime calls it from, or the plugin runs it on a goroutine of its own: each panic fails that
// connector or task with the panic and its stack as the trace, and the worker goes on.
func TestPluginPanicsFailTheirConnectorOrTaskNotTheWorker(t *testing.T) {
	w := startWorker(t, testenv.Kafka(t),
		connect.Plugin{Class: "PanicSource", Type: connect.PluginSource, New: func() any { return &panicSource{} }},
		connect.Plugin{Class: "PanicSink", Type: connect.PluginSink, New: func() any { return &panicSink{} }})
	topic := testenv.Topic(t, "panics")
	for i, c := range []struct {
		class, where string
		task         bool // the task fails, not the connector
	}{
		{"PanicSource", "connector start", false},
		{"PanicSource", "task configs", false},
		{"PanicSource", "connector goroutine", false},
		{"PanicSource", "poll", true},
		{"PanicSource", "commit", true},
		{"PanicSink", "open", true},
	} {
		name := fmt.Sprintf("panics-%d", i)
		cfg := map[string]string{"connector.class": c.class, panicKey: c.where, "topic": topic}
		if c.class == "PanicSink" {
			cfg["topics"] = topic
		}
		w.create(name, cfg)
		var trace string
		w.waitFor(60*time.Second, c.where+" failing "+name, func() bool {
			st := w.status(name)
			if !c.task {
				trace = st.Connector.Trace
				return st.Connector.State == herder.Failed
			}
			if len(st.Tasks) == 0 {
				return false
			}
			trace = st.Tasks[0].Trace
			return st.Tasks[0].State == herder.Failed
		})
		if !strings.Contains(trace, "panic: boom in "+c.where) || !strings.Contains(trace, "panic_test.go") {
			t.Errorf("%s: the trace lacks the panic or its stack:\n%s", c.where, trace)
		}
	}
	// The worker still runs connectors.
	w.create("after", map[string]string{"connector.class": "PanicSource"})
	w.waitFor(30*time.Second, "a healthy connector after the panics", func() bool {
		st := w.status("after")
		return st.Connector.State == herder.Running && len(st.Tasks) == 1 && st.Tasks[0].State == herder.Running
	})
}
