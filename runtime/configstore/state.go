package configstore

import (
	"encoding/base64"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/kafkalog"
)

// Snapshot is the cluster's configuration as read from the config topic up to Offset. Its maps
// are copies, but the config maps inside them are shared: do not modify them.
type Snapshot struct {
	// Offset is the position in the config topic after the last record applied; workers compare
	// it to agree on which configuration an assignment was made from.
	Offset int64
	// SessionKey is the latest session key, nil if none was written.
	SessionKey *SessionKey
	// Connectors are the connector configurations by name.
	Connectors map[string]map[string]string
	// TargetStates are the states users asked for; every connector has one (STARTED by default).
	TargetStates map[string]herder.TargetState
	// TaskCounts are the task counts of the latest task commit of each connector.
	TaskCounts map[string]int
	// TaskConfigs are the committed task configurations. Configurations of tasks beyond a
	// connector's count may linger; Tasks gives the current ones.
	TaskConfigs map[herder.TaskID]map[string]string
	// AppliedConfigs are the connector configurations as they were when each connector's task
	// configurations were last committed.
	AppliedConfigs map[string]map[string]string
	// TaskCountRecords are the task counts of the tasks-fencing-<name> records (exactly-once
	// source support): how many producers to fence before new task configs may start.
	TaskCountRecords map[string]int
	// TaskConfigGenerations count the task commits read for each connector, from 0.
	TaskConfigGenerations map[string]int
	// PendingFencing are the connectors whose latest task configs came after their task count
	// record.
	PendingFencing map[string]bool
	// Inconsistent are the connectors whose latest task commit did not have all its task
	// configurations (lost to compaction, or a leader died mid-write): their tasks are unusable
	// until the connector's task configs are written again.
	Inconsistent map[string]bool
}

// Tasks returns a connector's current task configurations in task order, or nil when it has
// none or they are inconsistent.
func (s Snapshot) Tasks(connector string) []map[string]string {
	n, ok := s.TaskCounts[connector]
	if !ok || s.Inconsistent[connector] {
		return nil
	}
	out := make([]map[string]string, n)
	for i := range n {
		out[i] = s.TaskConfigs[herder.TaskID{Connector: connector, Task: i}]
	}
	return out
}

// UpdateKind says what an Update reports.
type UpdateKind int

// Kinds of updates.
const (
	ConnectorConfigUpdated UpdateKind = iota + 1
	ConnectorRemoved
	TargetStateChanged
	TaskConfigsUpdated
	RestartRequested
	SessionKeyUpdated
	LoggerLevelChanged
)

// Update reports one change read from the config topic, as upstream's UpdateListener.
type Update struct {
	Kind      UpdateKind
	Connector string          // all but RestartRequested, SessionKeyUpdated, LoggerLevelChanged
	Tasks     []herder.TaskID // TaskConfigsUpdated: the tasks whose configs changed
	Restart   RestartRequest  // RestartRequested
	Namespace string          // LoggerLevelChanged: the logger
	Level     string          // LoggerLevelChanged
}

// state applies config topic records as upstream's KafkaConfigBackingStore does. It is not
// safe for concurrent use; Store guards it.
type state struct {
	log  *slog.Logger
	snap Snapshot
	// deferred holds task configs read but not yet committed, by connector.
	deferred map[string]map[herder.TaskID]map[string]string
}

func newState(log *slog.Logger) *state {
	return &state{log: log, deferred: map[string]map[herder.TaskID]map[string]string{}, snap: Snapshot{
		Offset:                -1,
		Connectors:            map[string]map[string]string{},
		TargetStates:          map[string]herder.TargetState{},
		TaskCounts:            map[string]int{},
		TaskConfigs:           map[herder.TaskID]map[string]string{},
		AppliedConfigs:        map[string]map[string]string{},
		TaskCountRecords:      map[string]int{},
		TaskConfigGenerations: map[string]int{},
		PendingFencing:        map[string]bool{},
		Inconsistent:          map[string]bool{},
	}}
}

func (st *state) copy() Snapshot {
	s := st.snap
	s.Connectors = maps.Clone(s.Connectors)
	s.TargetStates = maps.Clone(s.TargetStates)
	s.TaskCounts = maps.Clone(s.TaskCounts)
	s.TaskConfigs = maps.Clone(s.TaskConfigs)
	s.AppliedConfigs = maps.Clone(s.AppliedConfigs)
	s.TaskCountRecords = maps.Clone(s.TaskCountRecords)
	s.TaskConfigGenerations = maps.Clone(s.TaskConfigGenerations)
	s.PendingFencing = maps.Clone(s.PendingFencing)
	s.Inconsistent = maps.Clone(s.Inconsistent)
	return s
}

// apply applies the record at offset with key and value and returns the updates to report.
// Malformed records are logged and skipped, as upstream skips them.
func (st *state) apply(offset int64, key string, value []byte) []Update {
	st.snap.Offset = offset + 1
	v, err := decode(value)
	if err != nil {
		st.log.Error("ignoring config topic record that is not JSON", "key", key, "offset", offset, "err", err)
		return nil
	}
	var fields map[string]any
	if v != nil {
		var ok bool
		if fields, ok = v.(map[string]any); !ok {
			st.log.Error("ignoring config topic record that is not a JSON object", "key", key, "offset", offset)
			return nil
		}
	}
	switch {
	case strings.HasPrefix(key, TargetStatePrefix):
		return st.targetState(strings.TrimPrefix(key, TargetStatePrefix), fields)
	case strings.HasPrefix(key, ConnectorPrefix):
		return st.connectorConfig(strings.TrimPrefix(key, ConnectorPrefix), fields)
	case strings.HasPrefix(key, TaskPrefix):
		id, ok := kafkalog.ParseTaskKey(TaskPrefix, key)
		if !ok {
			st.log.Error("ignoring task configuration with a malformed key", "key", key)
			return nil
		}
		st.taskConfig(id, fields)
		return nil
	case strings.HasPrefix(key, CommitPrefix):
		return st.commit(strings.TrimPrefix(key, CommitPrefix), fields)
	case strings.HasPrefix(key, RestartPrefix):
		return st.restart(strings.TrimPrefix(key, RestartPrefix), fields)
	case strings.HasPrefix(key, TaskCountPrefix):
		st.taskCount(strings.TrimPrefix(key, TaskCountPrefix), fields)
		return nil
	case key == SessionKeyKey:
		return st.sessionKey(fields)
	case strings.HasPrefix(key, LoggerPrefix):
		return st.loggerLevel(strings.TrimPrefix(key, LoggerPrefix), fields)
	}
	st.log.Error("discarding config topic record with an unknown key", "key", key)
	return nil
}

func (st *state) targetState(name string, fields map[string]any) []Update {
	if fields == nil {
		// Deleting a connector also deletes its target state; a connector whose config is
		// still there falls back on STARTED.
		delete(st.snap.TargetStates, name)
		if _, ok := st.snap.Connectors[name]; ok {
			st.snap.TargetStates[name] = herder.TargetStarted
		}
		return nil // the removal of the config itself is reported
	}
	raw, ok := fields["state.v2"].(string)
	if !ok {
		// Written by a worker older than KIP-875, or state.v2 malformed.
		if raw, ok = fields["state"].(string); !ok {
			st.log.Error("ignoring target state without a string 'state' field", "connector", name)
			return nil
		}
	}
	s := herder.TargetState(raw)
	switch s {
	case herder.TargetStarted, herder.TargetPaused, herder.TargetStopped:
	default:
		st.log.Error("ignoring invalid target state", "connector", name, "state", raw)
		return nil
	}
	prev := st.snap.TargetStates[name]
	st.snap.TargetStates[name] = s
	// A target state written with a new connector's config precedes the config: no update.
	if _, exists := st.snap.Connectors[name]; exists && prev != s {
		return []Update{{Kind: TargetStateChanged, Connector: name}}
	}
	return nil
}

func (st *state) connectorConfig(name string, fields map[string]any) []Update {
	if fields == nil {
		st.removeConnector(name)
		return []Update{{Kind: ConnectorRemoved, Connector: name}}
	}
	props, err := stringMap(fields["properties"])
	if err != nil {
		st.log.Error("ignoring malformed connector configuration", "connector", name, "err", err)
		return nil
	}
	st.snap.Connectors[name] = props
	if _, ok := st.snap.TargetStates[name]; !ok {
		st.snap.TargetStates[name] = herder.TargetStarted
	}
	return []Update{{Kind: ConnectorConfigUpdated, Connector: name}}
}

func (st *state) removeConnector(name string) {
	delete(st.snap.Connectors, name)
	delete(st.snap.TaskCounts, name)
	for id := range st.snap.TaskConfigs {
		if id.Connector == name {
			delete(st.snap.TaskConfigs, id)
		}
	}
	delete(st.deferred, name)
	delete(st.snap.AppliedConfigs, name)
}

func (st *state) taskConfig(id herder.TaskID, fields map[string]any) {
	if fields == nil {
		st.log.Error("ignoring null task configuration", "connector", id.Connector, "task", id.Task)
		return
	}
	props, err := stringMap(fields["properties"])
	if err != nil {
		st.log.Error("ignoring malformed task configuration", "connector", id.Connector, "task", id.Task, "err", err)
		return
	}
	d := st.deferred[id.Connector]
	if d == nil {
		d = map[herder.TaskID]map[string]string{}
		st.deferred[id.Connector] = d
	}
	d[id] = props
}

// commit applies the task configs read since the last commit of a connector, all at once, if
// they are the complete set the commit counts; otherwise the connector is inconsistent.
func (st *state) commit(name string, fields map[string]any) []Update {
	config, exists := st.snap.Connectors[name]
	if !exists {
		// Deleted before its tasks were committed, and compaction removed every trace of it.
		st.removeConnector(name)
		return nil
	}
	if fields == nil {
		st.log.Error("ignoring null task commit", "connector", name)
		return nil
	}
	count, err := intField(fields, "tasks")
	if err != nil {
		st.log.Error("ignoring malformed task commit", "connector", name, "err", err)
		return nil
	}
	deferred := st.deferred[name]
	var updated []herder.TaskID
	if complete(deferred, count) {
		for id, props := range deferred {
			st.snap.TaskConfigs[id] = props
			updated = append(updated, id)
		}
		if deferred != nil {
			if g, ok := st.snap.TaskConfigGenerations[name]; ok {
				st.snap.TaskConfigGenerations[name] = g + 1
			} else {
				st.snap.TaskConfigGenerations[name] = 0
			}
		}
		delete(st.snap.Inconsistent, name)
		st.snap.AppliedConfigs[name] = config
	} else {
		st.log.Debug("incomplete task configurations at a commit, probably lost to compaction", "connector", name, "tasks", count)
		st.snap.Inconsistent[name] = true
	}
	// Deferred configs never outlive a commit: an incomplete set needs a fresh one.
	delete(st.deferred, name)
	st.snap.TaskCounts[name] = count
	st.snap.PendingFencing[name] = true
	slices.SortFunc(updated, func(a, b herder.TaskID) int { return a.Task - b.Task })
	return []Update{{Kind: TaskConfigsUpdated, Connector: name, Tasks: updated}}
}

// complete reports whether configs has tasks 0..count-1; configs of higher tasks may remain
// from an older, larger commit, as upstream allows.
func complete(configs map[herder.TaskID]map[string]string, count int) bool {
	have := map[int]bool{}
	for id := range configs {
		have[id.Task] = true
	}
	for i := range count {
		if !have[i] {
			return false
		}
	}
	return true
}

func (st *state) restart(name string, fields map[string]any) []Update {
	if fields == nil {
		return nil
	}
	r := RestartRequest{Connector: name}
	// As upstream, a missing or malformed flag means false.
	r.OnlyFailed, _ = fields["only-failed"].(bool)
	r.IncludeTasks, _ = fields["include-tasks"].(bool)
	return []Update{{Kind: RestartRequested, Connector: name, Restart: r}}
}

func (st *state) taskCount(name string, fields map[string]any) {
	if fields == nil {
		return
	}
	n, err := intField(fields, "task-count")
	if err != nil {
		st.log.Error("ignoring malformed task count record", "connector", name, "err", err)
		return
	}
	st.snap.TaskCountRecords[name] = n
	delete(st.snap.PendingFencing, name)
}

func (st *state) sessionKey(fields map[string]any) []Update {
	if fields == nil {
		st.log.Error("ignoring null session key")
		return nil
	}
	enc, ok1 := fields["key"].(string)
	alg, ok2 := fields["algorithm"].(string)
	created, ok3 := fields["creation-timestamp"].(int64)
	if !ok1 || !ok2 || !ok3 {
		st.log.Error("ignoring malformed session key")
		return nil
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		st.log.Error("ignoring session key that is not base64", "err", err)
		return nil
	}
	st.snap.SessionKey = &SessionKey{Key: key, Algorithm: alg, Created: time.UnixMilli(created)}
	return []Update{{Kind: SessionKeyUpdated}}
}

func (st *state) loggerLevel(namespace string, fields map[string]any) []Update {
	level, ok := fields["level"].(string)
	if !ok {
		st.log.Error("ignoring malformed logger level", "namespace", namespace)
		return nil
	}
	return []Update{{Kind: LoggerLevelChanged, Namespace: namespace, Level: level}}
}
