package distributed

import (
	"context"
	"maps"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/runtime/configstore"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/lifecycle"
	"github.com/kconnect/kconnect/runtime/statusstore"
)

var (
	_ herder.Herder   = (*Herder)(nil)
	_ herder.Internal = (*Herder)(nil)
)

// msgRebalancing is upstream's answer while no leader is known to forward a request to.
const msgRebalancing = "Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)"

// leaderOnly returns nil on the leader and the error that forwards a request to the leader
// elsewhere (409 while no leader is known yet). A rebalance under way does not stop requests:
// the config topic orders writes, and the leader of the last generation is the one that
// assigns the next.
func (h *Herder) leaderOnly() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.leader != nil:
		return nil
	case h.leaderURL == "":
		return herder.Conflict(msgRebalancing)
	}
	return &herder.ForwardError{URL: h.leaderURL}
}

// Connectors implements herder.Herder.
func (h *Herder) Connectors(context.Context) ([]string, error) {
	return connect.SortedKeys(h.configs.Snapshot().Connectors), nil
}

func (h *Herder) connectorConfig(name string) (configstore.Snapshot, map[string]string, error) {
	snap := h.configs.Snapshot()
	cfg, ok := snap.Connectors[name]
	if !ok {
		return snap, nil, herder.NotFound("Connector %s not found", name)
	}
	return snap, cfg, nil
}

// ConnectorInfo implements herder.Herder.
func (h *Herder) ConnectorInfo(_ context.Context, name string) (herder.ConnectorInfo, error) {
	snap, cfg, err := h.connectorConfig(name)
	if err != nil {
		return herder.ConnectorInfo{}, err
	}
	return h.info(snap, name, cfg), nil
}

func (h *Herder) info(snap configstore.Snapshot, name string, cfg map[string]string) herder.ConnectorInfo {
	n := len(snap.Tasks(name))
	tasks := make([]herder.TaskID, n)
	for i := range tasks {
		tasks[i] = herder.TaskID{Connector: name, Task: i}
	}
	return herder.ConnectorInfo{Name: name, Config: maps.Clone(cfg), Tasks: tasks, Type: h.core.Type(cfg)}
}

// CreateConnector implements herder.Herder.
func (h *Herder) CreateConnector(ctx context.Context, name string, config map[string]string, initial herder.TargetState) (herder.ConnectorInfo, error) {
	if err := h.leaderOnly(); err != nil {
		return herder.ConnectorInfo{}, err
	}
	if h.configs.Contains(name) {
		return herder.ConnectorInfo{}, herder.Conflict("Connector %s already exists", name)
	}
	config, initial, err := h.core.PrepareCreate(ctx, name, config, initial)
	if err != nil {
		return herder.ConnectorInfo{}, err
	}
	if err := h.configs.PutConnectorConfig(ctx, name, config, initial); err != nil {
		return herder.ConnectorInfo{}, err
	}
	return h.info(h.configs.Snapshot(), name, config), nil
}

// PutConnectorConfig implements herder.Herder.
func (h *Herder) PutConnectorConfig(ctx context.Context, name string, config map[string]string) (herder.ConnectorInfo, bool, error) {
	if err := h.leaderOnly(); err != nil {
		return herder.ConnectorInfo{}, false, err
	}
	return h.put(ctx, name, lifecycle.WithName(config, name))
}

func (h *Herder) put(ctx context.Context, name string, config map[string]string) (herder.ConnectorInfo, bool, error) {
	if err := h.core.Validate(ctx, name, config); err != nil {
		return herder.ConnectorInfo{}, false, err
	}
	created := !h.configs.Contains(name)
	var target herder.TargetState
	if created {
		target = herder.TargetStarted
	}
	if err := h.configs.PutConnectorConfig(ctx, name, config, target); err != nil {
		return herder.ConnectorInfo{}, false, err
	}
	return h.info(h.configs.Snapshot(), name, config), created, nil
}

// PatchConnectorConfig implements herder.Herder.
func (h *Herder) PatchConnectorConfig(ctx context.Context, name string, patch map[string]*string) (herder.ConnectorInfo, error) {
	if err := h.leaderOnly(); err != nil {
		return herder.ConnectorInfo{}, err
	}
	_, cfg, err := h.connectorConfig(name)
	if err != nil {
		return herder.ConnectorInfo{}, err
	}
	ci, _, err := h.put(ctx, name, lifecycle.WithName(lifecycle.Patch(cfg, patch), name))
	return ci, err
}

// DeleteConnector implements herder.Herder.
func (h *Herder) DeleteConnector(ctx context.Context, name string) error {
	if err := h.leaderOnly(); err != nil {
		return err
	}
	if _, _, err := h.connectorConfig(name); err != nil {
		return err
	}
	return h.configs.RemoveConnectorConfig(ctx, name)
}

// ConnectorStatus implements herder.Herder: the statuses the workers running the connector
// and its tasks wrote to the status topic.
func (h *Herder) ConnectorStatus(_ context.Context, name string) (herder.ConnectorStatus, error) {
	snap := h.configs.Snapshot()
	cfg, ok := snap.Connectors[name]
	if !ok {
		return herder.ConnectorStatus{}, herder.NotFound("No status found for connector %s", name)
	}
	cs, _ := h.statuses.Connector(name)
	st := herder.ConnectorStatus{
		Name:      name,
		Connector: herder.ConnectorState{State: orUnassigned(cs.State), WorkerID: cs.WorkerID, Trace: cs.Trace},
		Tasks:     []herder.TaskState{},
		Type:      h.core.Type(cfg),
	}
	tasks := h.statuses.Tasks(name)
	for i := range len(snap.Tasks(name)) {
		st.Tasks = append(st.Tasks, h.taskState(herder.TaskID{Connector: name, Task: i}, tasks[i]))
	}
	st.Connector.Progress = herder.SumProgress(st.Tasks)
	return st, nil
}

// taskState is the REST view of a task's status. The progress of a task running here is its
// live one; of a task running elsewhere, what its worker last wrote to the status topic.
func (h *Herder) taskState(id herder.TaskID, ts statusstore.Status) herder.TaskState {
	progress := ts.Progress
	if p, local := h.localProgress(id); local {
		progress = p
	}
	if !showsProgress(ts.State) {
		progress = nil
	}
	return herder.TaskState{ID: id.Task, State: orUnassigned(ts.State), WorkerID: ts.WorkerID, Trace: ts.Trace, Progress: progress}
}

func orUnassigned(s herder.State) herder.State {
	if s == "" {
		return herder.Unassigned
	}
	return s
}

// TaskStatus implements herder.Herder.
func (h *Herder) TaskStatus(_ context.Context, id herder.TaskID) (herder.TaskState, error) {
	snap := h.configs.Snapshot()
	if id.Task < 0 || id.Task >= len(snap.Tasks(id.Connector)) {
		return herder.TaskState{}, herder.NotFound("No status found for task %s-%d", id.Connector, id.Task)
	}
	ts, _ := h.statuses.Task(id)
	return h.taskState(id, ts), nil
}

// Tasks implements herder.Herder.
func (h *Herder) Tasks(_ context.Context, name string) ([]herder.TaskInfo, error) {
	snap, _, err := h.connectorConfig(name)
	if err != nil {
		return nil, err
	}
	configs := snap.Tasks(name)
	out := make([]herder.TaskInfo, len(configs))
	for i, tc := range configs {
		out[i] = herder.TaskInfo{ID: herder.TaskID{Connector: name, Task: i}, Config: maps.Clone(tc)}
	}
	return out, nil
}

// RestartConnector implements herder.Herder: the leader writes a restart request to the config
// topic, which the workers running the connector and its tasks carry out.
func (h *Herder) RestartConnector(ctx context.Context, name string, includeTasks, onlyFailed bool) error {
	if err := h.leaderOnly(); err != nil {
		return err
	}
	if _, _, err := h.connectorConfig(name); err != nil {
		return err
	}
	return h.configs.PutRestartRequest(ctx, configstore.RestartRequest{Connector: name, IncludeTasks: includeTasks, OnlyFailed: onlyFailed})
}

// RestartTask implements herder.Herder: the worker running the task restarts it; the leader
// knows which one that is, so other workers forward the request to the leader first.
func (h *Herder) RestartTask(_ context.Context, id herder.TaskID) error {
	snap := h.configs.Snapshot()
	if _, ok := snap.Connectors[id.Connector]; !ok {
		return herder.NotFound("Connector %s not found", id.Connector)
	}
	if id.Task < 0 || id.Task >= len(snap.Tasks(id.Connector)) {
		return herder.NotFound("Task %s-%d not found", id.Connector, id.Task)
	}
	h.runsMu.Lock()
	local := h.local[id]
	h.runsMu.Unlock()
	if local {
		h.mu.Lock()
		h.taskRestarts = append(h.taskRestarts, id)
		h.mu.Unlock()
		h.poke()
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.leader != nil {
		if owner, ok := h.leader.TaskOwners[id]; ok {
			return &herder.ForwardError{URL: h.leader.URLs[owner]}
		}
		return herder.Conflict(msgRebalancing)
	}
	if h.leaderURL == "" {
		return herder.Conflict(msgRebalancing)
	}
	return &herder.ForwardError{URL: h.leaderURL}
}

func (h *Herder) setTarget(ctx context.Context, name string, target herder.TargetState) error {
	if _, _, err := h.connectorConfig(name); err != nil {
		return herder.NotFound("Unknown connector %s", name)
	}
	return h.configs.PutTargetState(ctx, name, target)
}

// PauseConnector implements herder.Herder; any worker writes the target state.
func (h *Herder) PauseConnector(ctx context.Context, name string) error {
	return h.setTarget(ctx, name, herder.TargetPaused)
}

// ResumeConnector implements herder.Herder; any worker writes the target state.
func (h *Herder) ResumeConnector(ctx context.Context, name string) error {
	return h.setTarget(ctx, name, herder.TargetStarted)
}

// StopConnector implements herder.Herder: on the leader, which also empties the task configs,
// as upstream.
func (h *Herder) StopConnector(ctx context.Context, name string) error {
	if err := h.leaderOnly(); err != nil {
		return err
	}
	if err := h.setTarget(ctx, name, herder.TargetStopped); err != nil {
		return err
	}
	return h.configs.PutTaskConfigs(ctx, name, []map[string]string{})
}

// ConnectorTopics implements herder.Herder: the topics the status topic records for the
// connector, written by the workers running its tasks.
func (h *Herder) ConnectorTopics(_ context.Context, name string) ([]string, error) {
	if _, _, err := h.connectorConfig(name); err != nil {
		return nil, err
	}
	set := map[string]struct{}{}
	for _, t := range h.statuses.Topics(name) {
		set[t.Topic] = struct{}{}
	}
	return connect.SortedKeys(set), nil
}

// ResetConnectorTopics implements herder.Herder: it deletes the connector's topic records;
// the workers running its tasks record the topics again once the tasks use them again.
func (h *Herder) ResetConnectorTopics(_ context.Context, name string) error {
	if _, _, err := h.connectorConfig(name); err != nil {
		return err
	}
	for _, t := range h.statuses.Topics(name) {
		h.statuses.DeleteTopic(name, t.Topic)
	}
	return nil
}

// Offsets implements herder.Herder.
func (h *Herder) Offsets(ctx context.Context, name string) ([]herder.Offset, error) {
	_, cfg, err := h.connectorConfig(name)
	if err != nil {
		return nil, err
	}
	return h.core.Offsets(ctx, name, cfg)
}

// stoppedConnector returns the config of the connector if it is STOPPED, as altering offsets
// requires.
func (h *Herder) stoppedConnector(name string) (map[string]string, error) {
	snap, cfg, err := h.connectorConfig(name)
	if err != nil {
		return nil, err
	}
	if snap.TargetStates[name] != herder.TargetStopped {
		return nil, lifecycle.InvalidOffsetsTarget(name)
	}
	return cfg, nil
}

// AlterOffsets implements herder.Herder.
func (h *Herder) AlterOffsets(ctx context.Context, name string, offs []herder.Offset) (string, error) {
	cfg, err := h.stoppedConnector(name)
	if err != nil {
		return "", err
	}
	return h.core.AlterOffsets(ctx, name, cfg, offs)
}

// ResetOffsets implements herder.Herder.
func (h *Herder) ResetOffsets(ctx context.Context, name string) (string, error) {
	cfg, err := h.stoppedConnector(name)
	if err != nil {
		return "", err
	}
	return h.core.ResetOffsets(ctx, name, cfg)
}

// Plugins implements herder.Herder.
func (h *Herder) Plugins() []connect.Plugin { return h.w.Registry().Plugins() }

// PluginConfig implements herder.Herder.
func (h *Herder) PluginConfig(_ context.Context, class string) ([]herder.ConfigKeyInfo, error) {
	return h.core.PluginConfig(class)
}

// ValidateConfig implements herder.Herder.
func (h *Herder) ValidateConfig(ctx context.Context, class string, config map[string]string) (herder.ConfigInfos, error) {
	return h.w.Validate(ctx, class, config)
}

// KafkaClusterID implements herder.Herder.
func (h *Herder) KafkaClusterID(ctx context.Context) (string, error) { return h.w.ClusterID(ctx) }

// Ready implements herder.Herder: a worker is ready once it has completed its first rebalance.
func (h *Herder) Ready(context.Context) error {
	if !h.ready.Load() {
		return errNotStarted
	}
	if h.health != nil {
		if err := h.health(); err != nil {
			return &herder.UnhealthyError{Msg: err.Error()}
		}
	}
	return nil
}

// WorkerID implements herder.Herder.
func (h *Herder) WorkerID() string { return h.w.ID() }

// PutTaskConfigs implements herder.Internal.
func (h *Herder) PutTaskConfigs(ctx context.Context, name string, configs []map[string]string, sig herder.InternalSignature) error {
	if err := h.internalRequest(name, sig); err != nil {
		return err
	}
	return h.putTaskConfigs(ctx, name, configs)
}

// FenceZombies implements herder.Internal: the leader fences the producers of the connector's
// earlier tasks when its latest task configs are pending fencing (see fence.go).
func (h *Herder) FenceZombies(ctx context.Context, name string, sig herder.InternalSignature) error {
	if err := h.internalRequest(name, sig); err != nil {
		return err
	}
	return h.fence(ctx, name)
}

// internalRequest checks an internal request: its signature, that this worker leads, and that
// the connector exists.
func (h *Herder) internalRequest(name string, sig herder.InternalSignature) error {
	if err := h.verify(sig); err != nil {
		return err
	}
	if err := h.leaderOnly(); err != nil {
		return err
	}
	if !h.configs.Contains(name) {
		return herder.NotFound("Connector %s not found", name)
	}
	return nil
}
