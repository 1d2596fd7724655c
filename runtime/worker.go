package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/logging"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/metrics"
	"github.com/kconnect/kconnect/runtime/offsets"
)

// Worker runs connector tasks against one Kafka cluster. It holds what every task shares: the
// worker configuration, the plugin registry and the source offset store.
type Worker struct {
	id       atomic.Pointer[string]
	props    map[string]string
	cfg      *connect.Config
	registry *connect.Registry
	offsets  offsets.Store
	log      *slog.Logger

	topicsMu  sync.Mutex
	topics    map[string]map[string]struct{} // connector → topics it used (GET /connectors/{c}/topics)
	topicsGen atomic.Int64                   // bumped on reset so tasks forget their caches

	adm admin

	metrics *metrics.Metrics // nil: no metrics collected
	loggers *logging.Loggers // nil: every connector logs through log
}

// NewWorker validates the worker configuration and returns a worker.
func NewWorker(id string, props map[string]string, reg *connect.Registry, store offsets.Store, log *slog.Logger) (*Worker, error) {
	cfg, err := WorkerConfigDef().Parse(props)
	if err != nil {
		return nil, fmt.Errorf("worker config: %w", err)
	}
	for _, key := range []string{KeyConverter, ValueConverter, HeaderConverter} {
		if _, err := reg.Lookup(cfg.String(key), connect.PluginConverter, connect.PluginHeaderConverter); err != nil {
			return nil, fmt.Errorf("worker config %s: %w", key, err)
		}
	}
	w := &Worker{props: props, cfg: cfg, registry: reg, offsets: store, log: log, topics: map[string]map[string]struct{}{}}
	w.SetID(id)
	return w, nil
}

// ID returns the worker id.
func (w *Worker) ID() string { return *w.id.Load() }

// SetID changes the worker id. Upstream names a worker by its advertised REST address, which is
// only known once the listener is bound (port 0), after the worker was created.
func (w *Worker) SetID(id string) { w.id.Store(&id) }

// Registry returns the plugin registry.
func (w *Worker) Registry() *connect.Registry { return w.registry }

// Offsets returns the source offset store.
func (w *Worker) Offsets() offsets.Store { return w.offsets }

// Props returns the worker configuration as given.
func (w *Worker) Props() map[string]string { return w.props }

// TasksMaxLimit is the largest tasks.max a connector may ask for (kconnect.tasks.max.limit).
func (w *Worker) TasksMaxLimit() int { return w.cfg.Int(TasksMaxLimit) }

func (w *Worker) flushInterval() time.Duration { return w.cfg.Millis(OffsetFlushInterval) }
func (w *Worker) flushTimeout() time.Duration  { return w.cfg.Millis(OffsetFlushTimeout) }

// ShutdownTimeout is how long a task may take to stop gracefully.
func (w *Worker) ShutdownTimeout() time.Duration { return w.cfg.Millis(TaskShutdownTimeout) }

// NewConnector instantiates the connector a config names. Its Start, TaskConfigs and Stop turn a
// panic into an error (a *connect.PanicError): the herder calls them on its own goroutines, where
// a panic would end the worker.
func (w *Worker) NewConnector(props map[string]string) (c connect.Connector, typ herder.ConnectorType, err error) {
	defer connect.Recover(&err)
	c, typ, err = w.newConnector(props)
	if err != nil {
		return nil, typ, err
	}
	return &guardedConnector{Connector: c, metrics: w.metrics}, typ, nil
}

// newConnector instantiates the connector a config names, unguarded, for its tasks to be made.
func (w *Worker) newConnector(props map[string]string) (connect.Connector, herder.ConnectorType, error) {
	p, err := w.registry.Lookup(props[ConnectorClass], connect.PluginSource, connect.PluginSink)
	if err != nil {
		return nil, herder.Unknown, err
	}
	c := p.New().(connect.Connector)
	if p.Type == connect.PluginSink {
		return c, herder.Sink, nil
	}
	return c, herder.Source, nil
}

// guardedConnector recovers panics of the connector's lifecycle calls into errors, and counts
// its starts and stops in the worker's metrics (the herder serializes the two).
type guardedConnector struct {
	connect.Connector
	metrics *metrics.Metrics
	running bool
}

func (g *guardedConnector) Start(ctx connect.ConnectorContext, props map[string]string) (err error) {
	defer func() {
		g.metrics.ConnectorStarted(err)
		g.running = err == nil
	}()
	defer connect.Recover(&err)
	return g.Connector.Start(ctx, props)
}

func (g *guardedConnector) TaskConfigs(maxTasks int) (configs []map[string]string, err error) {
	defer connect.Recover(&err)
	return g.Connector.TaskConfigs(maxTasks)
}

func (g *guardedConnector) Stop() (err error) {
	if g.running {
		g.running = false
		g.metrics.ConnectorStopped()
	}
	defer connect.Recover(&err)
	return g.Connector.Stop()
}

// call runs a plugin call made on a goroutine the task loop does not own (a Kafka client
// callback, the offset committer), turning a panic into an error.
func call(f func() error) (err error) {
	defer connect.Recover(&err)
	return f()
}

func (w *Worker) recordTopic(connector, topic string) {
	w.topicsMu.Lock()
	defer w.topicsMu.Unlock()
	set := w.topics[connector]
	if set == nil {
		set = map[string]struct{}{}
		w.topics[connector] = set
	}
	set[topic] = struct{}{}
}

// ActiveTopics returns the topics a connector produced to or consumed from since the last reset.
func (w *Worker) ActiveTopics(connector string) []string {
	w.topicsMu.Lock()
	defer w.topicsMu.Unlock()
	return connect.SortedKeys(w.topics[connector])
}

// ResetActiveTopics forgets a connector's active topics.
func (w *Worker) ResetActiveTopics(connector string) {
	w.topicsMu.Lock()
	defer w.topicsMu.Unlock()
	delete(w.topics, connector)
	w.topicsGen.Add(1)
}

// topicTracker reports each topic a task uses to the worker once, without taking the worker's
// lock per record.
type topicTracker struct {
	w         *Worker
	connector string
	gen       int64
	seen      map[string]struct{}
}

func (t *topicTracker) note(topic string) {
	if g := t.w.topicsGen.Load(); g != t.gen || t.seen == nil {
		t.gen, t.seen = g, map[string]struct{}{}
	}
	if _, ok := t.seen[topic]; ok {
		return
	}
	t.seen[topic] = struct{}{}
	t.w.recordTopic(t.connector, topic)
}

// taskLogger returns a logger carrying the connector and task attributes: the task's named
// logger (see ConnectorLogger) when the worker has loggers.
func (w *Worker) taskLogger(id herder.TaskID, connProps map[string]string) *slog.Logger {
	log := w.log
	if w.loggers != nil {
		w.ConnectorLogger(id.Connector, connProps)
		log = w.loggers.Logger(fmt.Sprintf("%s.task-%d", id.Connector, id.Task))
	}
	return log.With("connector", id.Connector, "task", id.Task)
}

// offsetReader reads one connector's committed source offsets.
type offsetReader struct {
	store     offsets.Store
	connector string
}

func (r offsetReader) Offset(partition map[string]any) (map[string]any, error) {
	return r.store.Get(r.connector, partition)
}

// flushContext bounds one commit by offset.flush.timeout.ms.
func (w *Worker) flushContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), w.flushTimeout())
}
