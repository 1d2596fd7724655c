package standalone

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/runtime"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/lifecycle"
)

var _ herder.Herder = (*Herder)(nil)

// Connectors implements herder.Herder.
func (h *Herder) Connectors(context.Context) ([]string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return sortedNames(h.connectors), nil
}

func (h *Herder) get(name string) (*connector, error) {
	c, ok := h.connectors[name]
	if !ok {
		return nil, herder.NotFound("Connector %s not found", name)
	}
	return c, nil
}

// ConnectorInfo implements herder.Herder.
func (h *Herder) ConnectorInfo(_ context.Context, name string) (herder.ConnectorInfo, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, err := h.get(name)
	if err != nil {
		return herder.ConnectorInfo{}, err
	}
	return info(c), nil
}

func info(c *connector) herder.ConnectorInfo {
	tasks := make([]herder.TaskID, len(c.taskConfigs))
	for i := range tasks {
		tasks[i] = herder.TaskID{Connector: c.name, Task: i}
	}
	return herder.ConnectorInfo{Name: c.name, Config: maps.Clone(c.config), Tasks: tasks, Type: c.typ}
}

// CreateConnector implements herder.Herder.
func (h *Herder) CreateConnector(ctx context.Context, name string, config map[string]string, initial herder.TargetState) (herder.ConnectorInfo, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.connectors[name]; ok {
		return herder.ConnectorInfo{}, herder.Conflict("Connector %s already exists", name)
	}
	config, initial, err := h.core.PrepareCreate(ctx, name, config, initial)
	if err != nil {
		return herder.ConnectorInfo{}, err
	}
	c := h.register(name, config, initial, false)
	// Saved before it starts: a connector the client was told failed must not run.
	if err := h.save(); err != nil {
		delete(h.connectors, name)
		return herder.ConnectorInfo{}, err
	}
	h.apply(ctx, c)
	return info(c), nil
}

// PutConnectorConfig implements herder.Herder.
func (h *Herder) PutConnectorConfig(ctx context.Context, name string, config map[string]string) (herder.ConnectorInfo, bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.put(ctx, name, lifecycle.WithName(config, name))
}

func (h *Herder) put(ctx context.Context, name string, config map[string]string) (herder.ConnectorInfo, bool, error) {
	if err := h.core.Validate(ctx, name, config); err != nil {
		return herder.ConnectorInfo{}, false, err
	}
	old, exists := h.connectors[name]
	target := herder.TargetStarted
	if exists {
		target = old.target
	}
	c := h.register(name, config, target, false)
	// Saved before anything changes: on failure the old connector runs on, as the client is told.
	if err := h.save(); err != nil {
		if exists {
			h.connectors[name] = old
		} else {
			delete(h.connectors, name)
		}
		return herder.ConnectorInfo{}, false, err
	}
	if exists {
		h.stopTasks(ctx, old)
		h.stopInstance(old)
	}
	h.apply(ctx, c)
	return info(c), !exists, nil
}

// PatchConnectorConfig implements herder.Herder.
func (h *Herder) PatchConnectorConfig(ctx context.Context, name string, patch map[string]*string) (herder.ConnectorInfo, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, err := h.get(name)
	if err != nil {
		return herder.ConnectorInfo{}, err
	}
	ci, _, err := h.put(ctx, name, lifecycle.WithName(lifecycle.Patch(c.config, patch), name))
	return ci, err
}

// DeleteConnector implements herder.Herder.
func (h *Herder) DeleteConnector(_ context.Context, name string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, err := h.get(name); err != nil {
		return err
	}
	// Stopped before it is saved: deleting a connector that exhausted the process's file
	// descriptors must free them even though saving needs one.
	h.remove(name)
	delete(h.idleTargets, name)
	h.w.ResetActiveTopics(name)
	if err := h.save(); err != nil {
		return fmt.Errorf("connector %s is stopped and deleted, but the state file still holds it, so the next start would restore it: %w", name, err)
	}
	return nil
}

// ConnectorStatus implements herder.Herder.
func (h *Herder) ConnectorStatus(_ context.Context, name string) (herder.ConnectorStatus, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, ok := h.connectors[name]
	if !ok {
		return herder.ConnectorStatus{}, herder.NotFound("No status found for connector %s", name)
	}
	st := herder.ConnectorStatus{
		Name:      name,
		Connector: herder.ConnectorState{State: c.state, WorkerID: h.w.ID(), Trace: lifecycle.Trace(c.err)},
		Tasks:     make([]herder.TaskState, 0, len(c.taskConfigs)),
		Type:      c.typ,
	}
	for i := range c.taskConfigs {
		st.Tasks = append(st.Tasks, h.taskState(c, i))
	}
	st.Connector.Progress = herder.SumProgress(st.Tasks)
	return st, nil
}

func (h *Herder) taskState(c *connector, i int) herder.TaskState {
	// The task's own report: it says PAUSED only once its loop has really stopped moving records.
	s := h.status(herder.TaskID{Connector: c.name, Task: i})
	return herder.TaskState{ID: i, State: s.state, WorkerID: h.w.ID(), Trace: lifecycle.Trace(s.err), Progress: taskProgress(c, i)}
}

// TaskStatus implements herder.Herder.
func (h *Herder) TaskStatus(_ context.Context, id herder.TaskID) (herder.TaskState, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, ok := h.connectors[id.Connector]
	if !ok || id.Task < 0 || id.Task >= len(c.taskConfigs) {
		return herder.TaskState{}, herder.NotFound("No status found for task %s-%d", id.Connector, id.Task)
	}
	return h.taskState(c, id.Task), nil
}

// Tasks implements herder.Herder.
func (h *Herder) Tasks(_ context.Context, name string) ([]herder.TaskInfo, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, err := h.get(name)
	if err != nil {
		return nil, err
	}
	out := make([]herder.TaskInfo, len(c.taskConfigs))
	for i, tc := range c.taskConfigs {
		out[i] = herder.TaskInfo{ID: herder.TaskID{Connector: name, Task: i}, Config: maps.Clone(tc)}
	}
	return out, nil
}

// RestartConnector implements herder.Herder.
func (h *Herder) RestartConnector(ctx context.Context, name string, includeTasks, onlyFailed bool) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, err := h.get(name)
	if err != nil {
		return err
	}
	if c.target == herder.TargetStopped {
		return nil
	}
	if !onlyFailed || c.state == herder.Failed {
		h.stopInstance(c)
		c.state, c.err = herder.Restarting, nil
		h.startConnector(ctx, c)
	}
	if !includeTasks {
		return nil
	}
	for i := range c.taskConfigs {
		id := herder.TaskID{Connector: name, Task: i}
		if onlyFailed && h.status(id).state != herder.Failed {
			continue
		}
		h.restartTask(ctx, c, i)
	}
	h.apply(ctx, c)
	return nil
}

// RestartTask implements herder.Herder.
func (h *Herder) RestartTask(ctx context.Context, id herder.TaskID) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, err := h.get(id.Connector)
	if err != nil {
		return err
	}
	if id.Task < 0 || id.Task >= len(c.taskConfigs) {
		return herder.NotFound("Task %s-%d not found", id.Connector, id.Task)
	}
	h.restartTask(ctx, c, id.Task)
	return nil
}

func (h *Herder) restartTask(ctx context.Context, c *connector, i int) {
	if i < len(c.tasks) && c.tasks[i] != nil {
		h.core.StopTask(ctx, c.tasks[i])
		c.tasks[i] = nil
	}
	h.setStatus(herder.TaskID{Connector: c.name, Task: i}, taskStatus{state: herder.Restarting})
	if len(c.tasks) != len(c.taskConfigs) {
		c.tasks = make([]*runtime.Task, len(c.taskConfigs))
	}
	h.startTask(c, i)
}

func (h *Herder) setTarget(ctx context.Context, name string, target herder.TargetState) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, ok := h.connectors[name]
	if !ok {
		return herder.NotFound("Unknown connector %s", name)
	}
	prev := c.target
	c.target = target
	if err := h.save(); err != nil {
		c.target = prev
		return err
	}
	h.apply(ctx, c)
	return nil
}

// PauseConnector implements herder.Herder.
func (h *Herder) PauseConnector(ctx context.Context, name string) error {
	return h.setTarget(ctx, name, herder.TargetPaused)
}

// ResumeConnector implements herder.Herder.
func (h *Herder) ResumeConnector(ctx context.Context, name string) error {
	return h.setTarget(ctx, name, herder.TargetStarted)
}

// StopConnector implements herder.Herder.
func (h *Herder) StopConnector(ctx context.Context, name string) error {
	return h.setTarget(ctx, name, herder.TargetStopped)
}

// ConnectorTopics implements herder.Herder.
func (h *Herder) ConnectorTopics(_ context.Context, name string) ([]string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, err := h.get(name); err != nil {
		return nil, err
	}
	return h.w.ActiveTopics(name), nil
}

// ResetConnectorTopics implements herder.Herder.
func (h *Herder) ResetConnectorTopics(_ context.Context, name string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, err := h.get(name); err != nil {
		return err
	}
	h.w.ResetActiveTopics(name)
	return nil
}

// Offsets implements herder.Herder.
func (h *Herder) Offsets(ctx context.Context, name string) ([]herder.Offset, error) {
	h.mu.Lock()
	c, err := h.get(name)
	var config map[string]string
	if err == nil {
		config = c.config
	}
	h.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return h.core.Offsets(ctx, name, config)
}

// stoppedConnector returns the config of the connector if it is STOPPED, as altering offsets
// requires.
func (h *Herder) stoppedConnector(name string) (map[string]string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, err := h.get(name)
	if err != nil {
		return nil, err
	}
	if c.target != herder.TargetStopped {
		return nil, lifecycle.InvalidOffsetsTarget(name)
	}
	return c.config, nil
}

// AlterOffsets implements herder.Herder.
func (h *Herder) AlterOffsets(ctx context.Context, name string, offs []herder.Offset) (string, error) {
	config, err := h.stoppedConnector(name)
	if err != nil {
		return "", err
	}
	return h.core.AlterOffsets(ctx, name, config, offs)
}

// ResetOffsets implements herder.Herder.
func (h *Herder) ResetOffsets(ctx context.Context, name string) (string, error) {
	config, err := h.stoppedConnector(name)
	if err != nil {
		return "", err
	}
	return h.core.ResetOffsets(ctx, name, config)
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
func (h *Herder) KafkaClusterID(ctx context.Context) (string, error) {
	if h.clusterID == nil {
		return h.w.ClusterID(ctx)
	}
	return h.clusterID(ctx)
}

// Ready implements herder.Herder.
func (h *Herder) Ready(context.Context) error {
	if !h.ready.Load() {
		return errors.New("Worker is still starting up.")
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

// taskProgress is what task i of c last reported of its snapshot or load, if it runs here.
func taskProgress(c *connector, i int) *herder.Progress {
	if i >= len(c.tasks) {
		return nil
	}
	return c.tasks[i].Progress()
}
