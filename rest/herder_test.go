package rest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/runtime/herder"
)

// memHerder is an in-memory herder.Herder for testing the HTTP mapping. It follows upstream's
// herder behaviour where the REST layer's output depends on it (messages, states, 404s), and
// records the calls whose effects are invisible over HTTP.
type memHerder struct {
	mu         sync.Mutex
	connectors map[string]*memConnector
	registry   *connect.Registry
	clusterID  string
	readyErr   error
	readyBlock bool
	restarts   []string
	failWith   error
	panicWith  string
}

type memConnector struct {
	config  map[string]string
	target  herder.TargetState
	failed  bool
	topics  []string
	offsets []herder.Offset
}

// testPlugins stand for real plugins; only their names, types and ConfigDefs matter here.
func testPlugins() []connect.Plugin {
	fileDef := connect.NewConfigDef().
		Define(connect.ConfigKey{Name: "file", Type: connect.ConfigString, Importance: connect.High, Doc: "Source filename.", Group: "File"}).
		Define(connect.ConfigKey{Name: "topic", Type: connect.ConfigString, Required: true, Importance: connect.High, Doc: "The topic to publish data to", Group: "File"}).
		Define(connect.ConfigKey{Name: "batch.size", Type: connect.ConfigInt, Default: "2000", Validator: connect.AtLeast(1), Importance: connect.Low, Doc: "Records per poll"})
	return []connect.Plugin{
		{Class: "org.apache.kafka.connect.file.FileStreamSourceConnector", Aliases: []string{"FileStreamSource"}, Type: connect.PluginSource, Version: "1.0.0", New: func() any { return fileDef }},
		{Class: "org.apache.kafka.connect.file.FileStreamSinkConnector", Aliases: []string{"FileStreamSink"}, Type: connect.PluginSink, Version: "1.0.0", New: func() any { return fileDef }},
		{Class: "org.apache.kafka.connect.json.JsonConverter", Type: connect.PluginConverter, Version: "1.0.0"},
		{Class: "org.apache.kafka.connect.storage.SimpleHeaderConverter", Type: connect.PluginHeaderConverter, Version: "1.0.0"},
		{Class: "org.apache.kafka.connect.transforms.InsertField$Value", Type: connect.PluginTransformation},
		{Class: "org.apache.kafka.connect.transforms.predicates.TopicNameMatches", Type: connect.PluginPredicate},
	}
}

func newMemHerder() *memHerder {
	reg, err := connect.NewRegistry(testPlugins()...)
	if err != nil {
		panic(err)
	}
	return &memHerder{connectors: map[string]*memConnector{}, registry: reg, clusterID: "kfk-cluster-1"}
}

func notFound(name string) error { return herder.NotFound("Connector %s not found", name) }

func (m *memHerder) get(name string) (*memConnector, error) {
	if m.panicWith != "" {
		panic(m.panicWith)
	}
	if m.failWith != nil {
		return nil, m.failWith
	}
	c, ok := m.connectors[name]
	if !ok {
		return nil, notFound(name)
	}
	return c, nil
}

func (m *memHerder) typeOf(c *memConnector) herder.ConnectorType {
	p, err := m.registry.Lookup(c.config["connector.class"])
	if err != nil {
		return herder.Unknown
	}
	return herder.ConnectorType(p.Type)
}

func tasksMax(c *memConnector) int {
	n, err := strconv.Atoi(c.config["tasks.max"])
	if err != nil || n < 1 {
		return 1
	}
	// Bounded so that fuzzed configs cannot make the fake allocate without limit.
	return min(n, 64)
}

func (m *memHerder) info(name string, c *memConnector) herder.ConnectorInfo {
	info := herder.ConnectorInfo{Name: name, Config: map[string]string{}, Type: m.typeOf(c)}
	for k, v := range c.config {
		info.Config[k] = v
	}
	if c.target != herder.TargetStopped {
		for i := range tasksMax(c) {
			info.Tasks = append(info.Tasks, herder.TaskID{Connector: name, Task: i})
		}
	}
	return info
}

func (m *memHerder) Connectors(context.Context) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failWith != nil {
		return nil, m.failWith
	}
	names := make([]string, 0, len(m.connectors))
	for n := range m.connectors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

func (m *memHerder) ConnectorInfo(_ context.Context, name string) (herder.ConnectorInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := m.get(name)
	if err != nil {
		return herder.ConnectorInfo{}, err
	}
	return m.info(name, c), nil
}

func (m *memHerder) validate(config map[string]string) error {
	if _, err := m.registry.Lookup(config["connector.class"], connect.PluginSource, connect.PluginSink); err != nil {
		return err
	}
	return nil
}

func (m *memHerder) CreateConnector(_ context.Context, name string, config map[string]string, initial herder.TargetState) (herder.ConnectorInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.connectors[name]; ok {
		return herder.ConnectorInfo{}, herder.Conflict("Connector %s already exists", name)
	}
	if err := m.validate(config); err != nil {
		return herder.ConnectorInfo{}, err
	}
	c := &memConnector{config: config, target: initial}
	m.connectors[name] = c
	return m.info(name, c), nil
}

func (m *memHerder) PutConnectorConfig(_ context.Context, name string, config map[string]string) (herder.ConnectorInfo, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.validate(config); err != nil {
		return herder.ConnectorInfo{}, false, err
	}
	c, exists := m.connectors[name]
	if exists {
		c.config = config
	} else {
		c = &memConnector{config: config, target: herder.TargetStarted}
		m.connectors[name] = c
	}
	return m.info(name, c), !exists, nil
}

func (m *memHerder) PatchConnectorConfig(_ context.Context, name string, patch map[string]*string) (herder.ConnectorInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := m.get(name)
	if err != nil {
		return herder.ConnectorInfo{}, err
	}
	for k, v := range patch {
		if v == nil {
			delete(c.config, k)
		} else {
			c.config[k] = *v
		}
	}
	return m.info(name, c), nil
}

func (m *memHerder) DeleteConnector(_ context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.get(name); err != nil {
		return err
	}
	delete(m.connectors, name)
	return nil
}

func (m *memHerder) state(c *memConnector) herder.State {
	switch {
	case c.failed:
		return herder.Failed
	case c.target == herder.TargetPaused:
		return herder.Paused
	case c.target == herder.TargetStopped:
		return herder.Stopped
	}
	return herder.Running
}

func (m *memHerder) ConnectorStatus(_ context.Context, name string) (herder.ConnectorStatus, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := m.get(name)
	if herder.IsNotFound(err) {
		return herder.ConnectorStatus{}, herder.NotFound("No status found for connector %s", name)
	}
	if err != nil {
		return herder.ConnectorStatus{}, err
	}
	st := herder.ConnectorStatus{
		Name:      name,
		Connector: herder.ConnectorState{State: m.state(c), WorkerID: m.WorkerID()},
		Type:      m.typeOf(c),
	}
	if c.target != herder.TargetStopped {
		for i := range tasksMax(c) {
			st.Tasks = append(st.Tasks, herder.TaskState{ID: i, State: m.state(c), WorkerID: m.WorkerID()})
		}
	}
	return st, nil
}

func (m *memHerder) TaskStatus(ctx context.Context, id herder.TaskID) (herder.TaskState, error) {
	st, err := m.ConnectorStatus(ctx, id.Connector)
	if err != nil {
		return herder.TaskState{}, herder.NotFound("No status found for task %s-%d", id.Connector, id.Task)
	}
	for _, t := range st.Tasks {
		if t.ID == id.Task {
			return t, nil
		}
	}
	return herder.TaskState{}, herder.NotFound("No status found for task %s-%d", id.Connector, id.Task)
}

func (m *memHerder) Tasks(_ context.Context, name string) ([]herder.TaskInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := m.get(name)
	if err != nil {
		return nil, err
	}
	var out []herder.TaskInfo
	for _, id := range m.info(name, c).Tasks {
		cfg := map[string]string{"task.class": c.config["connector.class"] + "Task"}
		out = append(out, herder.TaskInfo{ID: id, Config: cfg})
	}
	return out, nil
}

func (m *memHerder) RestartConnector(_ context.Context, name string, includeTasks, onlyFailed bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := m.get(name)
	if err != nil {
		return err
	}
	m.restarts = append(m.restarts, fmt.Sprintf("%s includeTasks=%v onlyFailed=%v", name, includeTasks, onlyFailed))
	if !onlyFailed || c.failed {
		c.failed = false
	}
	return nil
}

func (m *memHerder) RestartTask(_ context.Context, id herder.TaskID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := m.get(id.Connector)
	if err != nil {
		return err
	}
	if id.Task < 0 || id.Task >= len(m.info(id.Connector, c).Tasks) {
		return herder.NotFound("Task %s-%d not found", id.Connector, id.Task)
	}
	m.restarts = append(m.restarts, fmt.Sprintf("%s-%d", id.Connector, id.Task))
	return nil
}

func (m *memHerder) setTarget(name string, t herder.TargetState) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := m.get(name)
	if err != nil {
		return err
	}
	c.target = t
	return nil
}

func (m *memHerder) PauseConnector(_ context.Context, name string) error {
	return m.setTarget(name, herder.TargetPaused)
}

func (m *memHerder) ResumeConnector(_ context.Context, name string) error {
	return m.setTarget(name, herder.TargetStarted)
}

func (m *memHerder) StopConnector(_ context.Context, name string) error {
	return m.setTarget(name, herder.TargetStopped)
}

func (m *memHerder) ConnectorTopics(_ context.Context, name string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := m.get(name)
	if err != nil {
		return nil, err
	}
	return c.topics, nil
}

func (m *memHerder) ResetConnectorTopics(_ context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := m.get(name)
	if err != nil {
		return err
	}
	c.topics = nil
	return nil
}

func (m *memHerder) Offsets(_ context.Context, name string) ([]herder.Offset, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := m.get(name)
	if err != nil {
		return nil, err
	}
	return c.offsets, nil
}

func (m *memHerder) stopped(name string) (*memConnector, error) {
	c, err := m.get(name)
	if err != nil {
		return nil, err
	}
	if c.target != herder.TargetStopped {
		return nil, herder.BadRequest("Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/%s/stop' endpoint", name)
	}
	return c, nil
}

func (m *memHerder) AlterOffsets(_ context.Context, name string, offsets []herder.Offset) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := m.stopped(name)
	if err != nil {
		return "", err
	}
	c.offsets = append(c.offsets, offsets...)
	return "The offsets for this connector have been altered successfully", nil
}

func (m *memHerder) ResetOffsets(_ context.Context, name string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := m.stopped(name)
	if err != nil {
		return "", err
	}
	c.offsets = nil
	return "The offsets for this connector have been reset successfully", nil
}

func (m *memHerder) Plugins() []connect.Plugin { return m.registry.Plugins() }

func (m *memHerder) configDef(class string) (connect.Plugin, *connect.ConfigDef, error) {
	p, err := m.registry.Lookup(class)
	if err != nil {
		return p, nil, err
	}
	def := connect.NewConfigDef()
	if p.New != nil {
		def = p.New().(*connect.ConfigDef)
	}
	return p, def, nil
}

func keyInfo(k connect.ConfigKey) herder.ConfigKeyInfo {
	ki := herder.ConfigKeyInfo{Name: k.Name, Type: string(k.Type), Required: k.Required, Importance: string(k.Importance),
		Documentation: k.Doc, Width: string(k.Width), DisplayName: k.DisplayName, Dependents: k.Dependents,
		OrderInGroup: k.OrderInGroup}
	if k.Default != nil {
		d := fmt.Sprint(k.Default)
		ki.DefaultValue = &d
	}
	if k.Group != "" {
		g := k.Group
		ki.Group = &g
	}
	return ki
}

func (m *memHerder) PluginConfig(_ context.Context, class string) ([]herder.ConfigKeyInfo, error) {
	_, def, err := m.configDef(class)
	if err != nil {
		return nil, herder.NotFound("Unknown plugin %s.", class)
	}
	var out []herder.ConfigKeyInfo
	for _, k := range def.Keys() {
		out = append(out, keyInfo(k))
	}
	return out, nil
}

func (m *memHerder) ValidateConfig(_ context.Context, class string, config map[string]string) (herder.ConfigInfos, error) {
	p, def, err := m.configDef(class)
	if err != nil {
		return herder.ConfigInfos{}, err
	}
	infos := herder.ConfigInfos{Name: p.Class, Groups: def.Groups()}
	for _, v := range def.Validate(config) {
		k, _ := def.Key(v.Name)
		vi := herder.ConfigValueInfo{Name: v.Name, RecommendedValues: v.RecommendedValues, Errors: v.Errors, Visible: v.Visible}
		if v.Value != nil {
			s := fmt.Sprint(v.Value)
			vi.Value = &s
		}
		infos.ErrorCount += len(v.Errors)
		ki := keyInfo(k)
		infos.Configs = append(infos.Configs, herder.ConfigInfo{Definition: &ki, Value: &vi})
	}
	return infos, nil
}

func (m *memHerder) KafkaClusterID(context.Context) (string, error) { return m.clusterID, nil }

func (m *memHerder) Ready(ctx context.Context) error {
	if m.readyBlock {
		<-ctx.Done()
		return ctx.Err()
	}
	return m.readyErr
}

func (m *memHerder) WorkerID() string { return "worker-1:8083" }

var errBoom = errors.New("boom: storage unavailable")
