package runtime

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
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

	// instances holds every task instance from its start until it finished, so that a task never
	// runs twice on this worker; see claim.
	instancesMu sync.Mutex
	instances   map[herder.TaskID]*Task
	metrics     *metrics.Metrics // nil: no metrics collected
	lease       Lease            // nil: the source producers write whenever they can (SetLease)
	loggers     *logging.Loggers // nil: every connector logs through log
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
	if err := checkExactlyOnceWorker(props, cfg, store); err != nil {
		return nil, fmt.Errorf("worker config: %w", err)
	}
	w := &Worker{props: props, cfg: cfg, registry: reg, offsets: store, log: log, topics: map[string]map[string]struct{}{},
		instances: map[herder.TaskID]*Task{}}
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

// Bounds of the connector calls the herders make through NewConnector's connector. Start and
// TaskConfigs get as long as upstream's REST API waits for a herder's answer; Stop gets upstream's
// Worker.CONNECTOR_GRACEFUL_SHUTDOWN_TIMEOUT_MS.
const (
	connectorCallTimeout = 90 * time.Second
	connectorStopTimeout = 5 * time.Second
)

// NewConnector instantiates the connector a config names. Its Start, TaskConfigs and Stop turn a
// panic into an error (a *connect.PanicError): the herder calls them on its own goroutines, where
// a panic would end the worker. They also give up with an error after a bound (90 s for Start and
// TaskConfigs, 5 s for Stop, as upstream), so one hung connector cannot hold its herder for ever;
// a Start that succeeds after it was given up on is stopped again.
func (w *Worker) NewConnector(props map[string]string) (c connect.Connector, typ herder.ConnectorType, err error) {
	defer connect.Recover(&err)
	c, typ, err = w.newConnector(props)
	if err != nil {
		return nil, typ, err
	}
	return &guardedConnector{Connector: c, log: w.log.With("connector", props[ConnectorName]), metrics: w.metrics}, typ, nil
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

// guardedConnector bounds the connector's lifecycle calls, recovers their panics into errors,
// and counts its starts and stops in the worker's metrics (the herder serializes the two).
type guardedConnector struct {
	connect.Connector
	log     *slog.Logger
	metrics *metrics.Metrics
	running bool
}

func (g *guardedConnector) Start(cctx connect.ConnectorContext, props map[string]string) (err error) {
	defer func() {
		g.metrics.ConnectorStarted(err)
		g.running = err == nil
	}()
	ctx, cancel := context.WithTimeout(context.Background(), connectorCallTimeout)
	defer cancel()
	late, err := boundedCall(ctx, nil, "start connector", func() error {
		return g.Connector.Start(cctx, props)
	})
	if late != nil {
		go func() {
			if <-late == nil {
				g.log.Warn("connector start returned after it was given up on; stopping the connector")
				if err := call(g.Connector.Stop); err != nil {
					g.log.Warn("stop connector", "err", err)
				}
			}
		}()
	}
	return err
}

func (g *guardedConnector) TaskConfigs(maxTasks int) ([]map[string]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), connectorCallTimeout)
	defer cancel()
	var configs []map[string]string // read only once the call returned in time
	if _, err := boundedCall(ctx, nil, "task configs", func() (err error) {
		configs, err = g.Connector.TaskConfigs(maxTasks)
		return err
	}); err != nil {
		return nil, err
	}
	return configs, nil
}

func (g *guardedConnector) Stop() error {
	if g.running {
		g.running = false
		g.metrics.ConnectorStopped()
	}
	ctx, cancel := context.WithTimeout(context.Background(), connectorStopTimeout)
	defer cancel()
	_, err := boundedCall(ctx, nil, "stop connector", g.Connector.Stop)
	return err
}

// boundedCall runs plugin call f on its own goroutine, turning a panic into an error, and waits
// until it returns or ctx ends. The runtime holds no lock meanwhile. A call given up on goes on:
// late then delivers its result, and calls, if set, counts it until it returns, for whoever must
// wait for it before releasing what it uses.
func boundedCall(ctx context.Context, calls *sync.WaitGroup, what string, f func() error) (late <-chan error, err error) {
	res := make(chan error, 1)
	if calls != nil {
		calls.Add(1)
	}
	go func() {
		if calls != nil {
			defer calls.Done()
		}
		res <- call(f)
	}()
	select {
	case err := <-res:
		return nil, err
	case <-ctx.Done():
		return res, fmt.Errorf("%s did not return: %w", what, context.Cause(ctx))
	}
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

// claim registers t as the running instance of its task. An earlier instance that is stopping,
// or whose loop ended, is waited for until ctx ends; one that runs and was not asked to stop is an
// error, as is one that has not finished when ctx ends: the task never runs twice here.
func (w *Worker) claim(ctx context.Context, t *Task) error {
	for {
		w.instancesMu.Lock()
		prev := w.instances[t.id]
		if prev == nil {
			w.instances[t.id] = t
			w.instancesMu.Unlock()
			return nil
		}
		w.instancesMu.Unlock()
		if !prev.stopping.Load() {
			return fmt.Errorf("task %s-%d is already running on this worker; stop it before starting it again",
				t.id.Connector, t.id.Task)
		}
		select {
		case <-prev.done:
		case <-ctx.Done():
			if prev.abandoned.Load() {
				return fmt.Errorf("task %s-%d not started: its previous instance on this worker is still running (%w): %w",
					t.id.Connector, t.id.Task, ErrTaskAbandoned, ctx.Err())
			}
			return fmt.Errorf("task %s-%d not started: its previous instance on this worker is still stopping: %w",
				t.id.Connector, t.id.Task, ctx.Err())
		}
	}
}

// release forgets t once it finished.
func (w *Worker) release(t *Task) {
	w.instancesMu.Lock()
	defer w.instancesMu.Unlock()
	if w.instances[t.id] == t {
		delete(w.instances, t.id)
	}
}

// Tasks returns the ids of the task instances on this worker that have not finished, including
// those stopping, ordered by connector and task.
func (w *Worker) Tasks() []herder.TaskID {
	w.instancesMu.Lock()
	ids := make([]herder.TaskID, 0, len(w.instances))
	for id := range w.instances {
		ids = append(ids, id)
	}
	w.instancesMu.Unlock()
	slices.SortFunc(ids, func(a, b herder.TaskID) int {
		return cmp.Or(strings.Compare(a.Connector, b.Connector), cmp.Compare(a.Task, b.Task))
	})
	return ids
}

// StopTasks stops the instances of the given tasks on this worker in parallel, as Task.Stop does,
// and returns once each has either finished or been abandoned: cancelled after
// task.shutdown.graceful.timeout.ms (or when ctx ended), with its producer closed and none of
// its records that Kafka did not acknowledge committed, but its goroutine still in plugin code
// that ignores its context. An abandoned instance stays registered, so the task cannot start
// again on this worker until it has finished; a sink stuck that way keeps its consumer until
// then, which cannot commit once another worker's instance took over its static group
// membership. The error joins those of the abandoned instances (each wraps ErrTaskAbandoned).
// Ids not running here are skipped. A distributed herder calls it when it loses its assignment,
// before anyone else may start the tasks.
func (w *Worker) StopTasks(ctx context.Context, ids []herder.TaskID) error {
	w.instancesMu.Lock()
	var ts []*Task
	for _, id := range ids {
		if t := w.instances[id]; t != nil {
			ts = append(ts, t)
		}
	}
	w.instancesMu.Unlock()
	errs := make([]error, len(ts))
	var wg sync.WaitGroup
	for i, t := range ts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = t.Stop(ctx)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// startContext bounds how long StartSourceTask and StartSinkTask wait for a previous instance of
// the task to finish: the graceful timeout, which its stop already waited out once.
func (w *Worker) startContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), w.ShutdownTimeout())
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
