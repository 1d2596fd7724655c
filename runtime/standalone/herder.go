// Package standalone is the herder of standalone mode: one worker process owns every connector,
// configured from the command line and the REST API. Beyond upstream, connectors created or
// changed through REST persist in a state file, so they survive a restart.
package standalone

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"reflect"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/atomicfile"
	"github.com/kconnect/kconnect/runtime"
	"github.com/kconnect/kconnect/runtime/configprovider"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/lifecycle"
)

// Herder runs connectors on one worker. All methods are safe for concurrent use; lifecycle
// changes are serialized by one mutex, which is fine for the handful of connectors a standalone
// worker runs.
type Herder struct {
	w         *runtime.Worker
	core      *lifecycle.Core
	log       *slog.Logger
	statePath string // "" disables persistence
	clusterID func(context.Context) (string, error)
	health    func() error
	sinkCheck time.Duration // see Options.SinkCheckInterval

	// stopWatch ends watchSinkPartitions, which closes watchDone.
	stopWatch chan struct{}
	watchDone chan struct{}
	stopOnce  sync.Once

	// ready is outside mu: GET /health must answer while startup or a lifecycle change holds mu.
	ready atomic.Bool

	mu         sync.Mutex
	connectors map[string]*connector
	closed     bool
	// idleTargets are the saved paused or stopped states of command-line connectors whose file
	// was not given at this start; they stay saved for a start that gives the file again.
	idleTargets map[string]herder.TargetState

	// Task states have their own lock: tasks report them from their goroutines, including while
	// the herder holds mu waiting for those very tasks to stop.
	statusMu sync.Mutex
	statuses map[herder.TaskID]taskStatus
	runs     atomic.Uint64 // numbers task instances; see taskStatus.run
}

// connector is one connector's configuration and running state.
type connector struct {
	name   string
	config map[string]string
	target herder.TargetState
	typ    herder.ConnectorType

	instance connect.Connector // nil unless started
	state    herder.State
	err      error

	taskConfigs []map[string]string
	tasks       []*runtime.Task // nil entries for tasks that failed to start

	// cmdline marks a connector whose config comes from a file on the command line, not from
	// REST: the state file keeps only its paused or stopped target state.
	cmdline bool
}

type taskStatus struct {
	state herder.State
	err   error
	// run is the task instance the status belongs to. A task that did not stop in time keeps
	// running and reporting after its connector was deleted, reconfigured or restarted; its
	// reports must not become the status of its successor.
	run uint64
}

// Options configures a Herder.
type Options struct {
	// StatePath is the file REST-made changes persist in; "" keeps them in memory only.
	StatePath string
	// ClusterID reports the Kafka cluster id for GET /; nil asks the worker's cluster.
	ClusterID func(context.Context) (string, error)
	// Resolver replaces ${provider:path:key} references when connectors and tasks start; nil
	// knows no provider, as a worker without config.providers.
	Resolver *configprovider.Resolver
	// Health reports a failure of something the worker depends on, such as the embedded broker;
	// GET /health answers 503 while it returns an error. nil reports none.
	Health func() error
	// SinkCheckInterval is how often sinks running fewer tasks than tasks.max look for new
	// partitions; 0 means the worker's consumer.metadata.max.age.ms, 5 minutes by default.
	SinkCheckInterval time.Duration
}

// New returns a herder running connectors on w.
func New(w *runtime.Worker, log *slog.Logger, opts Options) *Herder {
	if opts.SinkCheckInterval <= 0 {
		opts.SinkCheckInterval = lifecycle.SinkCheckInterval(w.Props())
	}
	return &Herder{w: w, core: lifecycle.New(w, opts.Resolver, log), log: log, statePath: opts.StatePath, clusterID: opts.ClusterID, health: opts.Health,
		sinkCheck: opts.SinkCheckInterval,
		stopWatch: make(chan struct{}), watchDone: make(chan struct{}),
		connectors: map[string]*connector{}, idleTargets: map[string]herder.TargetState{}, statuses: map[herder.TaskID]taskStatus{}}
}

// persisted is the state file's shape.
type persisted struct {
	Connectors map[string]persistedConnector `json:"connectors"`
}

// persistedConnector is a connector created or changed through REST, or, without Config, the
// paused or stopped state of a command-line connector.
type persistedConnector struct {
	Config map[string]string  `json:"config,omitempty"`
	Target herder.TargetState `json:"target_state"`
}

// Start loads the persisted connectors, then applies the command-line connector configs, which
// win over persisted ones of the same name (keeping a persisted paused or stopped state), and
// starts everything.
func (h *Herder) Start(ctx context.Context, cmdline []map[string]string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	saved, err := h.load()
	if err != nil {
		return err
	}
	var all []*connector
	for _, cfg := range cmdline {
		name := cfg[runtime.ConnectorName]
		target := herder.TargetStarted
		if pc, ok := saved.Connectors[name]; ok {
			target = pc.Target
			if pc.Config != nil && !maps.Equal(pc.Config, cfg) {
				h.log.Info("command-line config replaces the one saved in the state file", "connector", name, "file", h.statePath)
			}
		}
		if err := h.core.Validate(ctx, name, cfg); err != nil {
			return err
		}
		all = append(all, h.register(name, cfg, target, true))
	}
	for _, name := range connect.SortedKeys(saved.Connectors) {
		pc := saved.Connectors[name]
		switch {
		case h.connectors[name] != nil:
			// Given on the command line: its file's config won, its saved target state applies.
		case pc.Config == nil:
			h.idleTargets[name] = pc.Target
		default:
			// Not validated again: it was accepted once, and a database that is down at this
			// start must not make the worker forget it. A connector that cannot start shows FAILED.
			all = append(all, h.register(name, pc.Config, pc.Target, false))
		}
	}
	if err := h.save(); err != nil {
		return err
	}
	for _, c := range all {
		h.apply(ctx, c)
	}
	go h.watchSinkPartitions(h.sinkCheck)
	h.ready.Store(true)
	return nil
}

// Stop stops every connector and task, waiting up to the graceful shutdown timeout for each.
func (h *Herder) Stop(ctx context.Context) {
	h.stopOnce.Do(func() { close(h.stopWatch) })
	if h.ready.Load() {
		// The watcher takes h.mu; it must be gone before Stop takes it for good.
		<-h.watchDone
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	all := make([]*connector, 0, len(h.connectors))
	for _, c := range h.connectors {
		all = append(all, c)
	}
	h.stopTasks(ctx, all...)
	for _, c := range all {
		h.stopInstance(c)
	}
}

// register adds a connector without starting it. Callers hold h.mu.
func (h *Herder) register(name string, config map[string]string, target herder.TargetState, cmdline bool) *connector {
	// A class that is no longer known leaves the type unknown; starting reports the failure.
	c := &connector{name: name, config: config, target: target, typ: h.core.Type(config), state: herder.Unassigned, cmdline: cmdline}
	h.connectors[name] = c
	return c
}

// apply brings a connector to its target state. Callers hold h.mu.
func (h *Herder) apply(ctx context.Context, c *connector) {
	switch c.target {
	case herder.TargetStopped:
		h.stopTasks(ctx, c)
		h.stopInstance(c)
		c.taskConfigs = nil
		c.state = herder.Stopped
	case herder.TargetPaused:
		if c.instance == nil {
			h.startConnector(ctx, c)
		}
		for _, t := range c.tasks {
			if t != nil {
				t.Pause()
			}
		}
		if c.state != herder.Failed {
			c.state = herder.Paused
		}
	default:
		if c.instance == nil {
			h.startConnector(ctx, c)
		}
		for _, t := range c.tasks {
			if t != nil {
				t.Resume()
			}
		}
		if c.state == herder.Paused {
			c.state = herder.Running
		}
	}
}

// startConnector starts the connector instance and its tasks. Callers hold h.mu.
func (h *Herder) startConnector(ctx context.Context, c *connector) {
	inst, err := h.core.StartConnector(c.config, h.connectorContext(c.name, c.config))
	if err != nil {
		h.failConnector(c, err)
		return
	}
	c.instance, c.state, c.err = inst, herder.Running, nil
	h.reconfigure(ctx, c)
}

func (h *Herder) failConnector(c *connector, err error) {
	h.log.Error("connector failed", "connector", c.name, "err", err)
	c.state, c.err = herder.Failed, err
}

// reconfigure asks the connector for task configs and (re)starts the tasks if they changed.
// Callers hold h.mu.
func (h *Herder) reconfigure(ctx context.Context, c *connector) {
	if c.instance == nil || c.target == herder.TargetStopped {
		return
	}
	configs, err := h.core.TaskConfigs(ctx, c.name, c.config, c.typ, c.instance)
	if err != nil {
		h.failConnector(c, err)
		return
	}
	if reflect.DeepEqual(configs, c.taskConfigs) && len(c.tasks) == len(configs) {
		return
	}
	h.stopTasks(ctx, c)
	c.taskConfigs = configs
	c.tasks = make([]*runtime.Task, len(configs))
	for i := range configs {
		h.startTask(c, i)
	}
}

// watchSinkPartitions reconfigures the sinks that run fewer tasks than tasks.max, so that they
// get more tasks once their topics have more partitions.
func (h *Herder) watchSinkPartitions(interval time.Duration) {
	defer close(h.watchDone)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-h.stopWatch:
			return
		case <-ticker.C:
		}
		h.mu.Lock()
		for _, name := range sortedNames(h.connectors) {
			if c := h.connectors[name]; c.typ == herder.Sink && len(c.taskConfigs) < lifecycle.TasksMax(c.config) && !h.closed {
				h.reconfigure(context.Background(), c)
			}
		}
		h.mu.Unlock()
	}
}

// startTask starts task i of c. Callers hold h.mu.
func (h *Herder) startTask(c *connector, i int) {
	id := herder.TaskID{Connector: c.name, Task: i}
	run := h.claimStatus(id)
	listener := func(id herder.TaskID, state herder.State, err error) { h.onTaskState(id, run, state, err) }
	t, err := h.core.StartTask(id, c.typ, c.config, c.taskConfigs[i], listener)
	if err != nil {
		h.log.Error("task failed to start", "connector", c.name, "task", i, "err", err)
		h.onTaskState(id, run, herder.Failed, err)
		return
	}
	c.tasks[i] = t
	if c.target == herder.TargetPaused {
		t.Pause()
	}
}

// claimStatus makes a new task instance the owner of id's status and returns its run number;
// the state stays as it is (RESTARTING during a restart) until the task reports.
func (h *Herder) claimStatus(id herder.TaskID) uint64 {
	run := h.runs.Add(1)
	h.statusMu.Lock()
	defer h.statusMu.Unlock()
	st, ok := h.statuses[id]
	if !ok {
		st.state = herder.Unassigned
	}
	st.run = run
	h.statuses[id] = st
	return run
}

func (h *Herder) setStatus(id herder.TaskID, st taskStatus) {
	h.statusMu.Lock()
	defer h.statusMu.Unlock()
	h.statuses[id] = st
}

func (h *Herder) status(id herder.TaskID) taskStatus {
	h.statusMu.Lock()
	defer h.statusMu.Unlock()
	if st, ok := h.statuses[id]; ok {
		return st
	}
	return taskStatus{state: herder.Unassigned}
}

// onTaskState records a state change reported by task instance run, unless a newer instance
// owns the status or the task's connector no longer has it.
func (h *Herder) onTaskState(id herder.TaskID, run uint64, state herder.State, err error) {
	h.statusMu.Lock()
	defer h.statusMu.Unlock()
	cur, ok := h.statuses[id]
	if !ok || cur.run != run {
		return
	}
	// A task that failed stays FAILED until restarted; its shutdown must not hide the failure.
	if cur.state == herder.Failed && state == herder.Unassigned {
		return
	}
	h.statuses[id] = taskStatus{state: state, err: err, run: run}
}

// stopTasks stops every task of the given connectors in parallel and forgets their states.
// Callers hold h.mu.
func (h *Herder) stopTasks(ctx context.Context, cs ...*connector) {
	var all []*runtime.Task
	for _, c := range cs {
		all = append(all, c.tasks...)
	}
	h.core.StopTasks(ctx, all)
	h.statusMu.Lock()
	defer h.statusMu.Unlock()
	for _, c := range cs {
		for i := range c.tasks {
			delete(h.statuses, herder.TaskID{Connector: c.name, Task: i})
		}
		c.tasks = nil
	}
}

func (h *Herder) stopInstance(c *connector) {
	if c.instance == nil {
		return
	}
	h.core.StopConnector(c.name, c.instance)
	c.instance = nil
	if c.state != herder.Failed {
		c.state = herder.Unassigned
	}
}

// remove stops and forgets a connector. Callers hold h.mu.
func (h *Herder) remove(name string) {
	c := h.connectors[name]
	h.stopTasks(context.Background(), c)
	h.stopInstance(c)
	delete(h.connectors, name)
}

// connectorContext is what a connector may call back. It works asynchronously: the connector
// may call from its own goroutines, even while the herder holds its lock.
func (h *Herder) connectorContext(name string, config map[string]string) *lifecycle.ConnectorContext {
	return &lifecycle.ConnectorContext{
		Log: h.w.ConnectorLogger(name, config),
		Reconfigure: func() {
			go func() {
				h.mu.Lock()
				defer h.mu.Unlock()
				if conn, ok := h.connectors[name]; ok && !h.closed {
					h.reconfigure(context.Background(), conn)
				}
			}()
		},
		Fail: func(err error) {
			go func() {
				h.mu.Lock()
				defer h.mu.Unlock()
				if conn, ok := h.connectors[name]; ok {
					h.failConnector(conn, err)
				}
			}()
		},
	}
}

func (h *Herder) load() (persisted, error) {
	p := persisted{Connectors: map[string]persistedConnector{}}
	if h.statePath == "" {
		return p, nil
	}
	data, err := os.ReadFile(h.statePath)
	if errors.Is(err, os.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("load connector state %s: %w", h.statePath, err)
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return p, fmt.Errorf("load connector state %s: %w", h.statePath, err)
	}
	if p.Connectors == nil {
		p.Connectors = map[string]persistedConnector{}
	}
	return p, nil
}

// save persists every connector's config and target state. Callers hold h.mu.
func (h *Herder) save() error {
	if h.statePath == "" {
		return nil
	}
	p := persisted{Connectors: map[string]persistedConnector{}}
	for name, target := range h.idleTargets {
		p.Connectors[name] = persistedConnector{Target: target}
	}
	for name, c := range h.connectors {
		switch {
		case !c.cmdline:
			p.Connectors[name] = persistedConnector{Config: c.config, Target: c.target}
		case c.target != herder.TargetStarted:
			p.Connectors[name] = persistedConnector{Target: c.target}
		}
	}
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("encode connector state: %w", err)
	}
	if err := atomicfile.WriteFile(h.statePath, data); err != nil {
		return fmt.Errorf("save connector state: %w", err)
	}
	return nil
}

func sortedNames(m map[string]*connector) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
