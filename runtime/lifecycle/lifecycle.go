// Package lifecycle is what the standalone and the distributed herders both do with a
// connector: validate its config, start and stop its instance, generate its task configs, start
// and stop its tasks on the worker, and answer the offsets and plugin endpoints. It holds no
// state and takes no lock, so a herder decides which of its locks (if any) these calls run
// under; plugin code runs in every one of them.
package lifecycle

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/runtime"
	"github.com/kconnect/kconnect/runtime/configprovider"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/offsets"
)

// Upstream's messages for the offsets endpoints.
const (
	MsgMustBeStopped = "Connectors must be in the STOPPED state before their offsets can be modified. " +
		"This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/%s/stop' endpoint"
	MsgAltered = "The offsets for this connector have been altered successfully"
	MsgReset   = "The offsets for this connector have been reset successfully"
)

// partitionLookupTimeout bounds counting a sink's partitions.
const partitionLookupTimeout = 10 * time.Second

// Core runs connectors and tasks on one worker.
type Core struct {
	W        *runtime.Worker
	Resolver *configprovider.Resolver
	Log      *slog.Logger
}

// New returns a Core; a nil resolver knows no config provider.
func New(w *runtime.Worker, resolver *configprovider.Resolver, log *slog.Logger) *Core {
	if resolver == nil {
		resolver, _ = configprovider.NewResolver(nil)
	}
	return &Core{W: w, Resolver: resolver, Log: log}
}

// Type returns the type of the connector a config names, Unknown for an unknown class.
func (c *Core) Type(config map[string]string) herder.ConnectorType {
	_, typ, _ := c.W.NewConnector(config)
	return typ
}

// Validate checks a connector config as creating it requires, returning upstream's 400 message
// listing every error.
func (c *Core) Validate(ctx context.Context, name string, config map[string]string) error {
	if name == "" {
		return herder.BadRequest("Connector config %v contains no connector name", configprovider.Redact(config))
	}
	cls := config[runtime.ConnectorClass]
	if cls == "" {
		return herder.BadRequest("Connector config %v contains no connector type", configprovider.Redact(config))
	}
	// Validation sees resolved values, as upstream's does, so a connector can check real credentials.
	resolved, err := c.Resolver.Resolve(config)
	if err != nil {
		return herder.BadRequest("%s", err.Error())
	}
	infos, err := c.W.Validate(ctx, cls, resolved)
	if err != nil {
		return err
	}
	if infos.ErrorCount == 0 {
		return nil
	}
	msg := fmt.Sprintf("Connector configuration is invalid and contains the following %d error(s):", infos.ErrorCount)
	for _, ci := range infos.Configs {
		for _, e := range ci.Value.Errors {
			msg += "\n" + e
		}
	}
	msg += "\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`"
	return herder.BadRequest("%s", msg)
}

// PrepareCreate readies a create request: the config carries name, the initial target state
// defaults to STARTED, and the config is validated.
func (c *Core) PrepareCreate(ctx context.Context, name string, config map[string]string, initial herder.TargetState) (map[string]string, herder.TargetState, error) {
	config = WithName(config, name)
	if initial == "" {
		initial = herder.TargetStarted
	}
	return config, initial, c.Validate(ctx, name, config)
}

// StartConnector instantiates and starts the connector of config. Secrets are resolved only
// now, so the stored and displayed config keeps the references.
func (c *Core) StartConnector(config map[string]string, cctx connect.ConnectorContext) (connect.Connector, error) {
	inst, _, err := c.W.NewConnector(config)
	if err != nil {
		return nil, err
	}
	resolved, err := c.Resolver.Resolve(config)
	if err != nil {
		return nil, fmt.Errorf("resolve config: %w", err)
	}
	if err := inst.Start(cctx, resolved); err != nil {
		return nil, fmt.Errorf("start connector: %w", err)
	}
	return inst, nil
}

// StopConnector stops a connector instance, logging a failure.
func (c *Core) StopConnector(name string, inst connect.Connector) {
	if inst == nil {
		return
	}
	if err := inst.Stop(); err != nil {
		c.Log.Warn("stop connector", "connector", name, "err", err)
	}
}

// TaskClassKey is the task config key naming the task's Java class, which Kafka Connect workers
// add to every task config they generate and need to start a task.
const TaskClassKey = "task.class"

// TaskConfigs asks a started connector for its task configs, at most TaskCount of them, with
// resolved secrets put back as the references of config. As upstream's worker, it adds the
// task class and the connector's topics or topics.regex to each, so that a Kafka Connect
// worker of the same group can run the tasks too.
func (c *Core) TaskConfigs(ctx context.Context, name string, config map[string]string, typ herder.ConnectorType, inst connect.Connector) ([]map[string]string, error) {
	maxTasks := c.TaskCount(ctx, name, config, typ)
	configs, err := inst.TaskConfigs(maxTasks)
	if err != nil {
		return nil, fmt.Errorf("task configs: %w", err)
	}
	if len(configs) > maxTasks {
		configs = configs[:maxTasks]
	}
	configs = configprovider.Unresolve(config, configs)
	taskClass := ""
	if p, err := c.W.Registry().Lookup(config[runtime.ConnectorClass], connect.PluginSource, connect.PluginSink); err == nil {
		taskClass = p.TaskClassFor(config[runtime.ConnectorClass])
	}
	for i := range configs {
		// Unresolve returned copies, so these writes do not reach the connector's maps.
		if configs[i] == nil {
			configs[i] = map[string]string{}
		}
		if taskClass != "" {
			configs[i][TaskClassKey] = taskClass
		}
		for _, k := range []string{runtime.Topics, runtime.TopicsRegex} {
			if v, ok := config[k]; ok {
				configs[i][k] = v
			}
		}
	}
	return configs, nil
}

// Version is the version of the connector plugin a config names, "" for an unknown class: what
// status records carry as the connector's and its tasks' version, as GET /connector-plugins
// reports it.
func (c *Core) Version(config map[string]string) string {
	p, err := c.W.Registry().Lookup(config[runtime.ConnectorClass], connect.PluginSource, connect.PluginSink)
	if err != nil {
		return ""
	}
	return p.Version
}

// TaskCount is how many tasks a connector may run: its tasks.max, no more than the worker's
// kconnect.tasks.max.limit (a connector stored earlier was accepted under an earlier limit),
// and for a sink no more than its topics have partitions. Upstream starts tasks.max sink tasks
// and the consumer group leaves the surplus idle; here they are not started at all, since each
// would hold connections and memory for nothing.
func (c *Core) TaskCount(ctx context.Context, name string, config map[string]string, typ herder.ConnectorType) int {
	n := TasksMax(config)
	if limit := c.W.TasksMaxLimit(); n > limit {
		c.Log.Warn("tasks.max exceeds the worker's limit; starting fewer tasks", "connector", name,
			runtime.TasksMax, n, runtime.TasksMaxLimit, limit)
		n = limit
	}
	if typ != herder.Sink || n == 1 {
		return n
	}
	props, err := c.Resolver.Resolve(config)
	if err == nil {
		pctx, cancel := context.WithTimeout(ctx, partitionLookupTimeout)
		var partitions int
		partitions, err = c.W.SinkPartitions(pctx, props)
		cancel()
		if err == nil {
			return min(n, max(partitions, 1))
		}
	}
	c.Log.Warn("could not count the partitions of the sink's topics; starting one task for now", "connector", name, "err", err)
	return 1
}

// SinkCheckInterval is how often a herder looks for new partitions of the sinks that run fewer
// tasks than tasks.max: as often as a sink's consumer refreshes its metadata
// (consumer.metadata.max.age.ms, 5 minutes by default), which is also when an idle upstream sink
// task would learn of them.
func SinkCheckInterval(worker map[string]string) time.Duration {
	if ms, err := strconv.ParseInt(worker["consumer.metadata.max.age.ms"], 10, 64); err == nil && ms > 0 {
		return time.Duration(ms) * time.Millisecond
	}
	return 5 * time.Minute
}

// TasksMax is a config's tasks.max, 1 if it is not a positive number.
func TasksMax(config map[string]string) int {
	if v, err := strconv.Atoi(config[runtime.TasksMax]); err == nil && v > 0 {
		return v
	}
	return 1
}

// StartTask starts a task with its connector's and its own config, resolving their secrets.
func (c *Core) StartTask(id herder.TaskID, typ herder.ConnectorType, connConfig, taskConfig map[string]string, listener runtime.StateListener) (*runtime.Task, error) {
	connProps, err := c.Resolver.Resolve(connConfig)
	if err != nil {
		return nil, err
	}
	taskProps, err := c.Resolver.Resolve(taskConfig)
	if err != nil {
		return nil, err
	}
	if typ == herder.Sink {
		return c.W.StartSinkTask(id, connProps, taskProps, listener)
	}
	return c.W.StartSourceTask(id, connProps, taskProps, listener)
}

// StopTask stops a task, waiting up to the graceful shutdown timeout (plus a second).
func (c *Core) StopTask(ctx context.Context, t *runtime.Task) {
	sctx, cancel := context.WithTimeout(ctx, c.W.ShutdownTimeout()+time.Second)
	defer cancel()
	if err := t.Stop(sctx); err != nil {
		id := t.ID()
		c.Log.Error("task did not stop gracefully", "connector", id.Connector, "task", id.Task, "err", err)
	}
}

// StopTasks stops tasks in parallel; nil entries are skipped.
func (c *Core) StopTasks(ctx context.Context, tasks []*runtime.Task) {
	var wg sync.WaitGroup
	for _, t := range tasks {
		if t == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.StopTask(ctx, t)
		}()
	}
	wg.Wait()
}

// Offsets returns the committed offsets of the connector with config: the sink's consumer group
// offsets, or the source's offsets in its offset store (its own offsets.storage.topic over the
// worker's, as upstream reads them).
func (c *Core) Offsets(ctx context.Context, name string, config map[string]string) ([]herder.Offset, error) {
	if c.Type(config) == herder.Sink {
		return c.W.SinkOffsets(ctx, name)
	}
	store, _, err := c.sourceOffsets(config)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	list, err := store.List(name)
	if err != nil {
		return nil, err
	}
	out := make([]herder.Offset, len(list))
	for i, o := range list {
		out[i] = herder.Offset{Partition: o.Partition, Offset: o.Offset}
	}
	return out, nil
}

// sourceOffsets opens the offset store of the source connector with config, whose secrets it
// resolves first, as the connector's tasks see them; it returns the resolved config too.
func (c *Core) sourceOffsets(config map[string]string) (*offsets.Layered, map[string]string, error) {
	resolved, err := c.Resolver.Resolve(config)
	if err != nil {
		return nil, nil, fmt.Errorf("resolve config: %w", err)
	}
	store, err := c.W.SourceOffsets(resolved, c.Log.With("connector", config[runtime.ConnectorName]))
	return store, resolved, err
}

// AlterOffsets changes the offsets of a stopped connector with config and returns upstream's
// message.
func (c *Core) AlterOffsets(ctx context.Context, name string, config map[string]string, offs []herder.Offset) (string, error) {
	if len(offs) == 0 {
		return "", herder.BadRequest("The offsets to be altered may not be empty")
	}
	if c.Type(config) == herder.Sink {
		return MsgAltered, c.W.AlterSinkOffsets(ctx, name, offs)
	}
	list := make([]connect.SourceOffset, len(offs))
	for i, o := range offs {
		if o.Partition == nil {
			return "", herder.BadRequest("Source partitions may not be null")
		}
		list[i] = connect.SourceOffset{Partition: o.Partition, Offset: o.Offset}
	}
	store, resolved, err := c.sourceOffsets(config)
	if err != nil {
		return "", err
	}
	defer store.Close()
	if err := c.W.PutSourceOffsets(ctx, name, resolved, store, list); err != nil {
		return "", err
	}
	return MsgAltered, nil
}

// ResetOffsets removes every offset of a stopped connector with config, from every store it
// reads, and returns upstream's message.
func (c *Core) ResetOffsets(ctx context.Context, name string, config map[string]string) (string, error) {
	if c.Type(config) == herder.Sink {
		return MsgReset, c.W.ResetSinkOffsets(ctx, name)
	}
	store, resolved, err := c.sourceOffsets(config)
	if err != nil {
		return "", err
	}
	defer store.Close()
	list, err := store.List(name)
	if err != nil {
		return "", err
	}
	for i := range list {
		list[i].Offset = nil
	}
	if err := c.W.PutSourceOffsets(ctx, name, resolved, store, list); err != nil {
		return "", err
	}
	return MsgReset, nil
}

// PluginConfig returns the configuration definition of a plugin.
func (c *Core) PluginConfig(class string) ([]herder.ConfigKeyInfo, error) {
	p, err := c.W.Registry().Lookup(class)
	if err != nil {
		return nil, herder.NotFound("%s", err.Error())
	}
	cfg, ok := p.New().(connect.Configurable)
	if !ok {
		return []herder.ConfigKeyInfo{}, nil
	}
	keys := cfg.ConfigDef().Keys()
	out := make([]herder.ConfigKeyInfo, len(keys))
	for i, k := range keys {
		out[i] = runtime.KeyInfo(k)
	}
	return out, nil
}

// InvalidOffsetsTarget is the error for altering offsets of a connector that is not stopped.
func InvalidOffsetsTarget(name string) error { return herder.BadRequest(MsgMustBeStopped, name) }

// WithName returns a copy of config whose name is name, as the REST API's path gives it.
func WithName(config map[string]string, name string) map[string]string {
	out := make(map[string]string, len(config)+1)
	for k, v := range config {
		out[k] = v
	}
	out[runtime.ConnectorName] = name
	return out
}

// Trace is the status trace of an error, "" for none.
func Trace(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Patch returns config with patch merged in; a nil value removes its key.
func Patch(config map[string]string, patch map[string]*string) map[string]string {
	out := make(map[string]string, len(config)+len(patch))
	for k, v := range config {
		out[k] = v
	}
	for k, v := range patch {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = *v
		}
	}
	return out
}

// ConnectorContext is the connect.ConnectorContext a herder gives a connector: the connector
// may call its methods from any goroutine, also while the herder holds its locks, so the
// herder's callbacks must not block on them.
type ConnectorContext struct {
	Log *slog.Logger
	// Reconfigure asks for the connector's task configs to be generated again.
	Reconfigure func()
	// Fail marks the connector FAILED with err.
	Fail func(err error)
}

// Logger implements connect.ConnectorContext.
func (c *ConnectorContext) Logger() *slog.Logger { return c.Log }

// RequestTaskReconfiguration implements connect.ConnectorContext.
func (c *ConnectorContext) RequestTaskReconfiguration() { c.Reconfigure() }

// RaiseError implements connect.ConnectorContext.
func (c *ConnectorContext) RaiseError(err error) { c.Fail(err) }
