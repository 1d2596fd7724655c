// Package distributed is the herder of distributed mode: workers that share a Kafka Connect
// cluster's group and its three internal topics. The config topic says which connectors exist,
// the group's leader assigns connectors and tasks to workers (runtime/cluster), each worker runs
// its share through the shared lifecycle core and writes statuses to the status topic, and
// source offsets live in the offsets topic, all in upstream's formats, so Kafka Connect and
// kconnect workers read each other's state.
//
// Two locks: mu guards the membership view (what this worker holds, who leads) and is never
// held across plugin or Kafka calls; runMu serializes starting and stopping connectors and tasks
// on this worker and is the only lock plugin calls run under. REST requests never take runMu,
// so a slow connector cannot block them.
package distributed

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/runtime"
	"github.com/kconnect/kconnect/runtime/cluster"
	"github.com/kconnect/kconnect/runtime/configprovider"
	"github.com/kconnect/kconnect/runtime/configstore"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/lifecycle"
	"github.com/kconnect/kconnect/runtime/statusstore"
)

// storeTimeout bounds reading an internal topic to its end before acting.
const storeTimeout = 30 * time.Second

// retryPause is how long a failed write of task configs waits before the next attempt.
const retryPause = time.Second

// Options configures a Herder.
type Options struct {
	// Config are the worker's distributed settings.
	Config Config
	// Client are the Kafka client options for the internal topics and the group membership.
	Client []kgo.Opt
	// Resolver replaces ${provider:path:key} references when connectors and tasks start.
	Resolver *configprovider.Resolver
	// Health reports a failure of something the worker depends on; nil reports none.
	Health func() error
	// TrackTopics writes the topics connectors use to the status topic (topic.tracking.enable).
	TrackTopics bool
	// SinkCheckInterval is how often sinks running fewer tasks than tasks.max look for new
	// partitions; 0 means the worker's consumer.metadata.max.age.ms, 5 minutes by default.
	SinkCheckInterval time.Duration
}

// Herder runs this worker's share of a distributed cluster's connectors.
type Herder struct {
	w      *runtime.Worker
	core   *lifecycle.Core
	log    *slog.Logger
	cfg    Config
	client []kgo.Opt
	health func() error
	// sinkCheck is Options.SinkCheckInterval.
	sinkCheck time.Duration
	// trackTopics is Options.TrackTopics; published, owned by the loop, holds the topics this
	// worker wrote to the status topic and read back, by connector.
	trackTopics bool
	published   map[string]map[string]bool

	configs  *configstore.TopicStore
	statuses *statusstore.TopicStore
	member   *cluster.Member
	memberCl *kgo.Client

	wake    chan struct{}
	ready   atomic.Bool
	runs    atomic.Uint64
	cancel  context.CancelFunc
	stopped sync.WaitGroup

	mu       sync.Mutex
	assigned bool // a rebalance completed and nothing revoked everything since
	// revoked is set from a revocation until the assignment that follows it: in between, held
	// still lists the revoked work, and an eager rejoin may be handing it to another worker.
	revoked      bool
	held         cluster.Assignment
	generation   int32
	protocol     cluster.Protocol // the protocol the group agreed on
	leaderURL    string
	leader       *cluster.Result // set while this worker leads
	restarts     []configstore.RestartRequest
	taskRestarts []herder.TaskID // tasks of this worker to restart (POST .../tasks/{n}/restart)
	reconfig     map[string]bool // connectors whose task configs to generate again
	knownConns   map[string]bool // connectors seen in the config topic, to rejoin when that changes
	// fenceRequests are the connectors this worker is having the leader fence (fence.go).
	fenceRequests map[string]bool

	// fenceMu serializes, on the leader, fencing a connector with writing task configs, so that
	// a task count record always follows the task configs it was fenced for.
	fenceMu sync.Mutex

	// runsMu guards current, the newest instance of each task, and local, the tasks running
	// here: tasks report from their own goroutines and REST asks, also while runMu is held
	// waiting for tasks to stop or plugins to answer.
	runsMu  sync.Mutex
	current map[herder.TaskID]uint64
	local   map[herder.TaskID]bool

	// reportMu guards reports, what this worker last wrote of each task it runs; it is held
	// only to look the reports up, never across a write.
	reportMu sync.Mutex
	reports  map[herder.TaskID]*taskReport

	runMu sync.Mutex
	conns map[string]*connRun
	tasks map[herder.TaskID]*taskRun
}

// connRun is a connector instance running on this worker.
type connRun struct {
	config map[string]string
	typ    herder.ConnectorType
	inst   connect.Connector // nil when it failed to start
	target herder.TargetState
}

// taskRun is a task running on this worker.
type taskRun struct {
	config     map[string]string
	connConfig map[string]string // the connector config it runs with
	generation int               // the connector's task config generation it started with
	task       *runtime.Task
	paused     bool
}

// taskConnectorConfig is the connector config a connector's tasks run with: the one their task
// configs were generated from, so that a config change that leaves the task configs as they
// were still reaches the tasks once the leader has committed them again.
func taskConnectorConfig(snap configstore.Snapshot, name string) map[string]string {
	if cfg, ok := snap.AppliedConfigs[name]; ok {
		return cfg
	}
	return snap.Connectors[name]
}

// New opens the config and status topics (creating them when missing, rejecting a config
// topic that is not compacted or has several partitions) and returns a herder that runs
// connectors on w, whose offset store must be the offsets topic. Start joins the group.
func New(ctx context.Context, w *runtime.Worker, log *slog.Logger, opts Options) (*Herder, error) {
	if opts.SinkCheckInterval <= 0 {
		opts.SinkCheckInterval = lifecycle.SinkCheckInterval(w.Props())
	}
	h := &Herder{
		w: w, core: lifecycle.New(w, opts.Resolver, log), log: log, cfg: opts.Config, client: opts.Client, health: opts.Health,
		sinkCheck: opts.SinkCheckInterval, trackTopics: opts.TrackTopics, published: map[string]map[string]bool{},
		wake: make(chan struct{}, 1), reconfig: map[string]bool{}, knownConns: map[string]bool{}, fenceRequests: map[string]bool{},
		conns: map[string]*connRun{}, tasks: map[herder.TaskID]*taskRun{}, current: map[herder.TaskID]uint64{}, local: map[herder.TaskID]bool{},
		reports: map[herder.TaskID]*taskReport{},
	}
	statuses, err := statusstore.OpenTopic(ctx, opts.Client, opts.Config.StatusTopic, log)
	if err != nil {
		return nil, fmt.Errorf("open status topic: %w", err)
	}
	h.statuses = statuses
	configs, err := configstore.OpenTopic(ctx, configstore.Options{Client: opts.Client, Topic: opts.Config.ConfigTopic, OnUpdate: h.onConfigUpdate, Log: log})
	if err != nil {
		statuses.Close()
		return nil, fmt.Errorf("open config topic: %w", err)
	}
	h.configs = configs
	for name := range configs.Snapshot().Connectors {
		h.knownConns[name] = true
	}
	return h, nil
}

// Start joins the group as the worker at url (its advertised REST URL) and runs its share of
// the work until Stop.
func (h *Herder) Start(url string) error {
	mc := h.cfg.Member
	mc.URL = url
	mc.Config = h.clusterConfig
	mc.Listener = listener{h}
	mc.Logger = h.log
	cl, err := kgo.NewClient(h.client...)
	if err != nil {
		return fmt.Errorf("group client: %w", err)
	}
	m, err := cluster.NewMember(cl, mc)
	if err != nil {
		cl.Close()
		return err
	}
	h.member, h.memberCl = m, cl
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.stopped.Add(2)
	go func() {
		defer h.stopped.Done()
		if err := m.Run(ctx); err != nil {
			h.log.Error("group membership ended", "err", err)
		}
	}()
	go func() {
		defer h.stopped.Done()
		h.loop(ctx)
	}()
	return nil
}

// Stop leaves the group, stopping everything this worker runs, and closes the topics.
func (h *Herder) Stop() {
	if h.cancel != nil {
		h.cancel()
		h.stopped.Wait()
		h.memberCl.Close()
	}
	h.revokeAll()
	if err := h.statuses.Flush(context.Background()); err != nil {
		h.log.Warn("flush statuses", "err", err)
	}
	h.statuses.Close()
	h.configs.Close()
}

// configReadTimeout bounds reading the config topic to its end when joining and assigning.
const configReadTimeout = 5 * time.Second

// clusterConfig is the member's view of the config topic, read to its end first (as far as
// configReadTimeout allows): a leader behind what a member has read fails the whole round.
func (h *Herder) clusterConfig() cluster.ConfigSnapshot {
	ctx, cancel := context.WithTimeout(context.Background(), configReadTimeout)
	defer cancel()
	if err := h.configs.Refresh(ctx); err != nil {
		h.log.Warn("read config topic to its end", "err", err)
	}
	snap := h.configs.Snapshot()
	out := cluster.ConfigSnapshot{Offset: snap.Offset, Tasks: make(map[string]int, len(snap.Connectors))}
	for name := range snap.Connectors {
		out.Tasks[name] = len(snap.Tasks(name))
	}
	return out
}

// onConfigUpdate hears the config topic. It runs on the store's reading goroutine, so it only
// records what to do and wakes the loop.
func (h *Herder) onConfigUpdate(u configstore.Update) {
	rejoin := false
	h.mu.Lock()
	switch u.Kind {
	case configstore.ConnectorConfigUpdated:
		if !h.knownConns[u.Connector] {
			h.knownConns[u.Connector] = true
			rejoin = true
		}
	case configstore.ConnectorRemoved:
		delete(h.knownConns, u.Connector)
		rejoin = true
	case configstore.TaskConfigsUpdated:
		rejoin = true
	case configstore.RestartRequested:
		h.restarts = append(h.restarts, u.Restart)
	}
	h.mu.Unlock()
	if rejoin && h.member != nil {
		h.member.Rejoin()
	}
	h.poke()
}

// wakeAfter runs the loop again after d.
func (h *Herder) wakeAfter(d time.Duration) { time.AfterFunc(d, h.poke) }

func (h *Herder) poke() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// loop reconciles what runs on this worker with the assignment and the config topic whenever
// either changes, and rotates the session key while this worker leads.
func (h *Herder) loop(ctx context.Context) {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	sinks := time.NewTicker(h.sinkCheck)
	defer sinks.Stop()
	topics := time.NewTicker(topicsInterval)
	defer topics.Stop()
	progress := time.NewTicker(progressInterval / 3)
	defer progress.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.wake:
		case <-tick.C:
		case <-sinks.C:
			h.recheckSinks()
		case <-topics.C:
			h.publishTopics(ctx)
			continue
		case <-progress.C:
			h.publishProgress()
			continue
		}
		h.reconcile(ctx)
		h.rotateSessionKey(ctx)
	}
}

// topicsInterval is how often the topics tasks used are written to the status topic.
const topicsInterval = time.Second

// publishTopics writes a topic-<topic>-connector-<connector> record for each topic the
// connectors' tasks on this worker used (KIP-558), so that every worker answers
// GET /connectors/{c}/topics. When such a record disappears (PUT .../topics/reset on any
// worker), the worker forgets the connector's topics, and records them again once its tasks
// use them again, as upstream's tasks do.
func (h *Herder) publishTopics(ctx context.Context) {
	if !h.trackTopics {
		return
	}
	h.runsMu.Lock()
	tasks := map[string]int{}
	for id := range h.local {
		if cur, ok := tasks[id.Connector]; !ok || id.Task < cur {
			tasks[id.Connector] = id.Task
		}
	}
	h.runsMu.Unlock()
	for conn := range h.published {
		if _, ok := tasks[conn]; !ok {
			delete(h.published, conn)
		}
	}
	wrote := map[string][]string{}
	for conn, task := range tasks {
		recorded := map[string]bool{}
		for _, t := range h.statuses.Topics(conn) {
			recorded[t.Topic] = true
		}
		pub := h.published[conn]
		reset := false
		for topic := range pub {
			reset = reset || !recorded[topic]
		}
		if reset {
			h.w.ResetActiveTopics(conn)
			delete(h.published, conn)
			continue
		}
		for _, topic := range h.w.ActiveTopics(conn) {
			if pub[topic] || recorded[topic] {
				continue
			}
			h.statuses.PutTopic(statusstore.TopicStatus{Topic: topic, Connector: conn, Task: int32(task), DiscoverTimestamp: time.Now().UnixMilli()})
			wrote[conn] = append(wrote[conn], topic)
		}
	}
	if len(wrote) == 0 {
		return
	}
	// Read back, so that a record missing from now on was deleted, not yet unread.
	rctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	if err := h.statuses.Flush(rctx); err != nil {
		h.log.Warn("write topic statuses", "err", err)
		return
	}
	if err := h.statuses.Refresh(rctx); err != nil {
		h.log.Warn("read status topic", "err", err)
		return
	}
	for conn, topics := range wrote {
		if h.published[conn] == nil {
			h.published[conn] = map[string]bool{}
		}
		for _, topic := range topics {
			h.published[conn][topic] = true
		}
	}
}

// recheckSinks has the sinks this worker runs with fewer tasks than tasks.max generate their
// task configs again, so that they get more tasks once their topics have more partitions.
func (h *Herder) recheckSinks() {
	snap := h.configs.Snapshot()
	h.runMu.Lock()
	var names []string
	for name, cr := range h.conns {
		if cr.typ == herder.Sink && cr.inst != nil && len(snap.Tasks(name)) < lifecycle.TasksMax(cr.config) {
			names = append(names, name)
		}
	}
	h.runMu.Unlock()
	h.mu.Lock()
	for _, name := range names {
		h.reconfig[name] = true
	}
	h.mu.Unlock()
}

// listener adapts the herder to cluster.Listener without exporting its methods.
type listener struct{ h *Herder }

func (l listener) Revoked(connectors []string, tasks []herder.TaskID) { l.h.revoke(connectors, tasks) }
func (l listener) Assigned(r cluster.Rebalance)                       { l.h.onAssigned(r) }

// onAssigned takes a completed rebalance: the config topic is read to the end first, and an
// assignment made from another view of it starts nothing: the member joins again.
func (h *Herder) onAssigned(r cluster.Rebalance) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := h.configs.Refresh(ctx); err != nil {
		h.log.Warn("read config topic after rebalance", "err", err)
	}
	h.mu.Lock()
	h.held, h.generation, h.leaderURL, h.leader, h.protocol = r.Held, r.Generation, r.Assignment.LeaderURL, r.Leader, r.Protocol
	mismatch := r.Assignment.Failed() || r.Assignment.ConfigOffset != h.configs.Snapshot().Offset
	h.assigned = !mismatch
	h.revoked = false
	h.mu.Unlock()
	if mismatch {
		h.log.Info("assignment made from another view of the config topic; joining again",
			"generation", r.Generation, "assignment_offset", r.Assignment.ConfigOffset)
		if !r.Assignment.Failed() {
			h.member.Rejoin()
		}
		return
	}
	// Ready once it knows its leader: until then requests could not be forwarded.
	h.ready.Store(true)
	h.log.Info("rebalance completed", "generation", r.Generation, "leader", r.Assignment.LeaderURL,
		"connectors", r.Held.Connectors, "tasks", len(r.Held.Tasks))
	h.poke()
}

// revoke stops connectors and tasks and returns once they have stopped.
func (h *Herder) revoke(connectors []string, tasks []herder.TaskID) {
	h.mu.Lock()
	h.revoked = true
	h.mu.Unlock()
	h.runMu.Lock()
	defer h.runMu.Unlock()
	var stop []herder.TaskID
	for _, id := range tasks {
		if h.tasks[id] != nil {
			stop = append(stop, id)
		}
	}
	h.stopTasks(stop)
	for _, name := range connectors {
		h.stopConnector(name, false)
	}
}

// revokeAll stops everything, as when the membership ends.
func (h *Herder) revokeAll() {
	h.mu.Lock()
	h.assigned = false
	h.mu.Unlock()
	h.runMu.Lock()
	defer h.runMu.Unlock()
	h.stopTasks(slices.Collect(maps.Keys(h.tasks)))
	for name := range h.conns {
		h.stopConnector(name, false)
	}
}

// view is what one reconciliation works from.
type view struct {
	snap         configstore.Snapshot
	conns        map[string]bool
	tasks        map[herder.TaskID]bool
	generation   int32
	restarts     []configstore.RestartRequest
	taskRestarts []herder.TaskID
	reconfig     map[string]bool
}

// runnable reports whether task id is assigned here and its connector has it run: its config
// exists and the connector is not stopped.
func (v view) runnable(id herder.TaskID) bool {
	return v.tasks[id] && id.Task < len(v.snap.Tasks(id.Connector)) && v.snap.TargetStates[id.Connector] != herder.TargetStopped
}

func (h *Herder) view() (view, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	// As upstream's herder, which only ticks between rebalances, nothing is reconciled while a
	// rebalance is under way: restart requests wait for the assignment that ends it, rather
	// than being applied to (and used up on) work that was just revoked.
	if !h.assigned || h.revoked {
		return view{}, false
	}
	v := view{snap: h.configs.Snapshot(), conns: map[string]bool{}, tasks: map[herder.TaskID]bool{},
		generation: h.generation, restarts: h.restarts, taskRestarts: h.taskRestarts, reconfig: h.reconfig}
	h.restarts, h.taskRestarts, h.reconfig = nil, nil, map[string]bool{}
	for _, c := range h.held.Connectors {
		v.conns[c] = true
	}
	for _, t := range h.held.Tasks {
		v.tasks[t] = true
	}
	return v, true
}

// reconcile stops what this worker should no longer run, applies restart requests, and starts
// what it holds and does not run yet, as the config topic describes it.
func (h *Herder) reconcile(ctx context.Context) {
	v, ok := h.view()
	if !ok {
		return
	}
	h.runMu.Lock()
	defer h.runMu.Unlock()

	var stale []herder.TaskID
	for id, tr := range h.tasks {
		configs := v.snap.Tasks(id.Connector)
		if !v.tasks[id] || id.Task >= len(configs) || !maps.Equal(tr.config, configs[id.Task]) ||
			!maps.Equal(tr.connConfig, taskConnectorConfig(v.snap, id.Connector)) ||
			v.snap.TargetStates[id.Connector] == herder.TargetStopped || h.oldGeneration(v.snap, id, tr) {
			stale = append(stale, id)
		}
	}
	h.stopTasks(stale)
	// A task restarts if it is still assigned here, running or not (a rebalance since the
	// request may have stopped it), as upstream's.
	var restart, stop []herder.TaskID
	for _, id := range v.taskRestarts {
		if v.runnable(id) {
			restart = append(restart, id)
			if h.tasks[id] != nil {
				stop = append(stop, id)
			}
		}
	}
	h.stopTasks(stop)
	for _, id := range restart {
		h.statuses.PutTask(id, h.taskStatus(herder.Restarting, v.snap.Connectors[id.Connector], v.generation))
	}
	for name, cr := range h.conns {
		cfg, exists := v.snap.Connectors[name]
		if !v.conns[name] || !exists || !maps.Equal(cr.config, cfg) || v.snap.TargetStates[name] == herder.TargetStopped {
			h.stopConnector(name, !exists)
		}
	}
	for _, r := range v.restarts {
		h.restart(r, v)
	}

	for _, name := range connect.SortedKeys(v.conns) {
		cfg, ok := v.snap.Connectors[name]
		if !ok {
			continue
		}
		target := v.snap.TargetStates[name]
		if target == herder.TargetStopped {
			if cur, _ := h.statuses.Connector(name); cur.State != herder.Stopped || cur.WorkerID != h.w.ID() {
				h.putConnectorStatus(name, cfg, herder.Stopped, nil, v.generation)
			}
			if len(v.snap.Tasks(name)) > 0 {
				h.writeTaskConfigs(ctx, name, []map[string]string{})
			}
			continue
		}
		cr := h.conns[name]
		if cr == nil {
			cr = h.startConnector(name, cfg, target, v.generation)
			v.reconfig[name] = true
		} else if cr.target != target && cr.inst != nil {
			cr.target = target
			h.putConnectorStatus(name, cr.config, runState(target), nil, v.generation)
		}
		if v.reconfig[name] && cr.inst != nil {
			h.generateTaskConfigs(ctx, name, cr, v.snap)
		}
		if _, committed := v.snap.TaskCounts[name]; committed && h.fencing() && cr.typ == herder.Source && v.snap.PendingFencing[name] {
			h.requestFencing(ctx, name)
		}
	}

	waiting := false
	defer func() {
		if waiting {
			h.wakeAfter(fencePoll)
		}
	}()
	for _, id := range sortedTasks(v.tasks) {
		configs := v.snap.Tasks(id.Connector)
		target := v.snap.TargetStates[id.Connector]
		if id.Task >= len(configs) || target == herder.TargetStopped {
			continue
		}
		tr := h.tasks[id]
		connCfg := taskConnectorConfig(v.snap, id.Connector)
		if tr == nil && h.awaitsFencing(v.snap, h.core.Type(connCfg), id.Connector) {
			// As upstream, a task whose connector has not been fenced yet waits; the config
			// topic will have its task count record soon.
			h.log.Debug("not starting the task: the connector has not been fenced yet", "connector", id.Connector, "task", id.Task)
			waiting = true
			continue
		}
		if tr == nil {
			h.startTask(id, connCfg, configs[id.Task], target, v.generation, v.snap.TaskConfigGenerations[id.Connector])
			continue
		}
		if paused := target == herder.TargetPaused; paused != tr.paused && tr.task != nil {
			tr.paused = paused
			if paused {
				tr.task.Pause()
			} else {
				tr.task.Resume()
			}
		}
	}
}

func runState(target herder.TargetState) herder.State {
	if target == herder.TargetPaused {
		return herder.Paused
	}
	return herder.Running
}

func sortedTasks(set map[herder.TaskID]bool) []herder.TaskID {
	out := slices.Collect(maps.Keys(set))
	slices.SortFunc(out, func(a, b herder.TaskID) int {
		if a.Connector != b.Connector {
			if a.Connector < b.Connector {
				return -1
			}
			return 1
		}
		return a.Task - b.Task
	})
	return out
}

// restart applies a restart request to what this worker runs: it stops the connector and the
// tasks the request names, which the rest of the reconciliation starts again. As upstream's, it
// restarts the tasks assigned here, also one that has not started yet (say, newly assigned by
// the rebalance this reconciliation follows): each goes through RESTARTING.
func (h *Herder) restart(r configstore.RestartRequest, v view) {
	name := r.Connector
	if v.conns[name] && h.conns[name] != nil {
		st, _ := h.statuses.Connector(name)
		if !r.OnlyFailed || st.State == herder.Failed {
			h.putConnectorStatus(name, h.conns[name].config, herder.Restarting, nil, v.generation)
			h.stopConnector(name, false)
		}
	}
	if !r.IncludeTasks {
		return
	}
	var stop, restart []herder.TaskID
	for id := range v.tasks {
		if id.Connector != name || !v.runnable(id) {
			continue
		}
		if st, _ := h.statuses.Task(id); r.OnlyFailed && st.State != herder.Failed {
			continue
		}
		restart = append(restart, id)
		if h.tasks[id] != nil {
			stop = append(stop, id)
		}
	}
	h.stopTasks(stop)
	for _, id := range restart {
		h.statuses.PutTask(id, h.taskStatus(herder.Restarting, v.snap.Connectors[name], v.generation))
	}
}

// startConnector starts a connector this worker holds. Callers hold runMu.
func (h *Herder) startConnector(name string, cfg map[string]string, target herder.TargetState, generation int32) *connRun {
	cr := &connRun{config: cfg, typ: h.core.Type(cfg), target: target}
	h.conns[name] = cr
	inst, err := h.core.StartConnector(cfg, h.connectorContext(name, cfg))
	if err != nil {
		h.log.Error("connector failed", "connector", name, "err", err)
		h.putConnectorStatus(name, cfg, herder.Failed, err, generation)
		return cr
	}
	cr.inst = inst
	h.log.Info("connector started", "connector", name)
	h.putConnectorStatus(name, cfg, runState(target), nil, generation)
	return cr
}

// stopConnector stops a connector instance; deleted says its config is gone, so its statuses go
// too. Callers hold runMu.
func (h *Herder) stopConnector(name string, deleted bool) {
	cr := h.conns[name]
	if cr == nil {
		return
	}
	delete(h.conns, name)
	h.core.StopConnector(name, cr.inst)
	if deleted {
		h.statuses.DeleteConnector(name, len(h.statuses.Tasks(name)))
		return
	}
	if cr.inst != nil {
		h.mu.Lock()
		gen := h.generation
		h.mu.Unlock()
		h.statuses.PutConnectorSafe(name, statusstore.Status{State: herder.Unassigned, WorkerID: h.w.ID(), Generation: gen, Version: h.core.Version(cr.config)})
	}
}

// putConnectorStatus writes a status of a connector whose config is config, with its plugin's
// version as upstream's workers write it.
func (h *Herder) putConnectorStatus(name string, config map[string]string, state herder.State, err error, generation int32) {
	h.statuses.PutConnector(name, statusstore.Status{State: state, Trace: lifecycle.Trace(err), WorkerID: h.w.ID(), Generation: generation,
		Version: h.core.Version(config)})
}

// taskStatus is a task's status, the task's connector having config connConfig.
func (h *Herder) taskStatus(state herder.State, connConfig map[string]string, generation int32) statusstore.Status {
	return statusstore.Status{State: state, WorkerID: h.w.ID(), Generation: generation, Version: h.core.Version(connConfig)}
}

// generateTaskConfigs asks a running connector for its task configs and has the leader write
// them when they differ from the committed ones. Callers hold runMu.
func (h *Herder) generateTaskConfigs(ctx context.Context, name string, cr *connRun, snap configstore.Snapshot) {
	configs, err := h.core.TaskConfigs(ctx, name, cr.config, cr.typ, cr.inst)
	if err != nil {
		h.log.Error("connector failed", "connector", name, "err", err)
		h.putConnectorStatus(name, cr.config, herder.Failed, err, h.currentGeneration())
		return
	}
	current := snap.Tasks(name)
	if _, committed := snap.TaskCounts[name]; committed && !snap.Inconsistent[name] && reflect.DeepEqual(withoutTaskClass(configs), withoutTaskClass(current)) &&
		maps.Equal(snap.AppliedConfigs[name], cr.config) {
		return
	}
	h.writeTaskConfigs(ctx, name, configs)
}

// withoutTaskClass is configs without lifecycle.TaskClassKey. Task configs are compared without
// it, so that the ones a Kafka Connect worker or an older kconnect wrote, whose task class may be
// named otherwise or missing, are kept when the rest is the same: a rewrite would restart the
// tasks after a migration.
func withoutTaskClass(configs []map[string]string) []map[string]string {
	out := make([]map[string]string, len(configs))
	for i, c := range configs {
		out[i] = c
		if _, ok := c[lifecycle.TaskClassKey]; ok {
			out[i] = maps.Clone(c)
			delete(out[i], lifecycle.TaskClassKey)
		}
	}
	return out
}

// writeTaskConfigs writes task configs directly on the leader and through the leader's
// internal endpoint elsewhere; a failure is retried shortly.
func (h *Herder) writeTaskConfigs(ctx context.Context, name string, configs []map[string]string) {
	h.mu.Lock()
	leading, leaderURL := h.leader != nil, h.leaderURL
	h.mu.Unlock()
	var err error
	if leading {
		err = h.putTaskConfigs(ctx, name, configs)
	} else {
		err = h.forwardTaskConfigs(ctx, leaderURL, name, configs)
	}
	if err == nil {
		return
	}
	h.log.Warn("could not write task configs; retrying", "connector", name, "err", err)
	time.AfterFunc(retryPause, func() {
		h.mu.Lock()
		h.reconfig[name] = true
		h.mu.Unlock()
		h.poke()
	})
}

// putTaskConfigs writes task configs on the leader, never while it fences.
func (h *Herder) putTaskConfigs(ctx context.Context, name string, configs []map[string]string) error {
	h.fenceMu.Lock()
	defer h.fenceMu.Unlock()
	return h.configs.PutTaskConfigs(ctx, name, configs)
}

// leading reports whether this worker leads the group after a rebalance it acted on.
func (h *Herder) leading() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.leader != nil && h.assigned
}

// sessioned reports whether the group agreed on the sessioned protocol, whose internal
// requests are signed.
func (h *Herder) sessioned() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.protocol >= cluster.Sessioned
}

func (h *Herder) currentGeneration() int32 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.generation
}

// startTask starts a task this worker holds. Callers hold runMu.
func (h *Herder) startTask(id herder.TaskID, connCfg, taskCfg map[string]string, target herder.TargetState, generation int32, taskGeneration int) {
	run := h.runs.Add(1)
	h.runsMu.Lock()
	h.current[id] = run
	h.local[id] = true
	h.runsMu.Unlock()
	tr := &taskRun{config: taskCfg, connConfig: connCfg, generation: taskGeneration}
	h.tasks[id] = tr
	rep := &taskReport{run: run, version: h.core.Version(connCfg)}
	h.reportMu.Lock()
	h.reports[id] = rep
	h.reportMu.Unlock()
	listener := func(id herder.TaskID, state herder.State, err error) { h.onTaskState(id, rep, state, err) }
	t, err := h.core.StartTask(id, h.core.Type(connCfg), connCfg, taskCfg, listener)
	if err != nil {
		h.log.Error("task failed to start", "connector", id.Connector, "task", id.Task, "err", err)
		st := h.taskStatus(herder.Failed, connCfg, generation)
		st.Trace = err.Error()
		h.statuses.PutTask(id, st)
		return
	}
	tr.task = t
	rep.task.Store(t)
	if target == herder.TargetPaused {
		tr.paused = true
		t.Pause()
	}
}

// onTaskState writes a task's state change to the status topic, unless a newer instance of the
// task runs here: a task that was slow to stop must not overwrite its successor's status.
func (h *Herder) onTaskState(id herder.TaskID, rep *taskReport, state herder.State, err error) {
	h.runsMu.Lock()
	cur := h.current[id]
	h.runsMu.Unlock()
	// A task that ends after its connector was deleted must not bring its status back.
	if cur != rep.run || !h.configs.Contains(id.Connector) {
		return
	}
	st := statusstore.Status{State: state, Trace: lifecycle.Trace(err), WorkerID: h.w.ID(), Generation: h.currentGeneration(), Version: rep.version}
	// Under the report's lock, so that a progress update never overtakes a state change.
	rep.mu.Lock()
	defer rep.mu.Unlock()
	if showsProgress(state) {
		st.Progress = rep.task.Load().Progress()
	}
	rep.last, rep.written = st, time.Now()
	if state == herder.Unassigned {
		h.statuses.PutTaskSafe(id, st)
		return
	}
	h.statuses.PutTask(id, st)
}

// progressInterval is how often at most a task's progress is written to the status topic
// between its state changes, so that a snapshot reporting every batch does not flood the topic.
const progressInterval = 3 * time.Second

// taskReport is what this worker last wrote of the status of a task instance it runs. Its mu
// orders the task's status writes and guards last and written.
type taskReport struct {
	run     uint64
	version string
	task    atomic.Pointer[runtime.Task] // nil until the task has started

	mu      sync.Mutex
	last    statusstore.Status
	written time.Time
}

// showsProgress reports whether a status of state carries the task's progress: only a task
// that runs (or is paused in the middle of its work) has any.
func showsProgress(state herder.State) bool { return state == herder.Running || state == herder.Paused }

// publishProgress writes the status of each task running here whose progress changed since its
// status was last written, at most once per progressInterval per task. The write repeats the
// last status with the new progress, safely: a worker that lost the task to a newer
// generation's owner must not overwrite its status.
func (h *Herder) publishProgress() {
	h.reportMu.Lock()
	reports := maps.Clone(h.reports)
	h.reportMu.Unlock()
	for id, rep := range reports {
		h.publishTaskProgress(id, rep)
	}
}

// publishTaskProgress is publishProgress for one task.
func (h *Herder) publishTaskProgress(id herder.TaskID, rep *taskReport) {
	rep.mu.Lock()
	defer rep.mu.Unlock()
	now := time.Now()
	if rep.written.IsZero() || !showsProgress(rep.last.State) || now.Sub(rep.written) < progressInterval {
		return
	}
	p := rep.task.Load().Progress()
	if p == rep.last.Progress || p != nil && rep.last.Progress != nil && *p == *rep.last.Progress {
		return
	}
	rep.last.Progress, rep.written = p, now
	h.statuses.PutTaskSafe(id, rep.last)
}

// localProgress is the live progress of a task running here, and whether it runs here.
func (h *Herder) localProgress(id herder.TaskID) (*herder.Progress, bool) {
	h.reportMu.Lock()
	rep := h.reports[id]
	h.reportMu.Unlock()
	if rep == nil || rep.task.Load() == nil {
		return nil, false
	}
	return rep.task.Load().Progress(), true
}

// stopTasks stops tasks in parallel and forgets them, returning once each has finished or been
// abandoned (cancelled, its producer closed, its offsets uncommitted; the worker then refuses to
// start it again until it has finished). Callers hold runMu.
func (h *Herder) stopTasks(ids []herder.TaskID) {
	if len(ids) == 0 {
		return
	}
	if err := h.w.StopTasks(context.Background(), ids); err != nil {
		h.log.Error("tasks did not stop gracefully", "err", err)
	}
	h.runsMu.Lock()
	for _, id := range ids {
		delete(h.tasks, id)
		delete(h.local, id)
	}
	h.runsMu.Unlock()
	h.reportMu.Lock()
	for _, id := range ids {
		delete(h.reports, id)
	}
	h.reportMu.Unlock()
}

// rotateSessionKey writes a new session key when this worker leads a sessioned group and the
// current key is missing or older than inter.worker.key.ttl.ms.
func (h *Herder) rotateSessionKey(ctx context.Context) {
	if !h.leading() || !h.sessioned() {
		return
	}
	if k := h.configs.Snapshot().SessionKey; k != nil && time.Since(k.Created) < h.cfg.KeyTTL {
		return
	}
	key := make([]byte, h.cfg.KeyBytes)
	if _, err := rand.Read(key); err != nil {
		h.log.Error("generate session key", "err", err)
		return
	}
	err := h.configs.PutSessionKey(ctx, configstore.SessionKey{Key: key, Algorithm: h.cfg.KeyAlgorithm, Created: time.Now()})
	if err != nil {
		h.log.Warn("write session key", "err", err)
	}
}

// connectorContext is what a connector may call back, from any goroutine.
func (h *Herder) connectorContext(name string, config map[string]string) *lifecycle.ConnectorContext {
	log := h.w.ConnectorLogger(name, config)
	return &lifecycle.ConnectorContext{
		Log: log,
		Reconfigure: func() {
			h.mu.Lock()
			h.reconfig[name] = true
			h.mu.Unlock()
			h.poke()
		},
		Fail: func(err error) {
			log.Error("connector failed", "err", err)
			h.putConnectorStatus(name, config, herder.Failed, err, h.currentGeneration())
		},
	}
}

// errNotStarted is Ready's answer before the first rebalance, upstream's words for it.
var errNotStarted = errors.New("Worker is still starting up.")
