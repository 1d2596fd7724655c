package statusstore

import (
	"fmt"
	"strings"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters/jsonconverter"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/kafkalog"
)

// Record key prefixes of the status topic, as upstream's KafkaStatusBackingStore writes them:
// status-connector-<name>, status-task-<name>-<n> and status-topic-<topic>:connector-<name>.
const (
	ConnectorPrefix      = "status-connector-"
	TaskPrefix           = "status-task-"
	TopicPrefix          = "status-topic-"
	TopicConnectorMarker = ":connector-"
)

// ConnectorKey is the record key of a connector's status.
func ConnectorKey(connector string) string { return ConnectorPrefix + connector }

// TaskKey is the record key of a task's status.
func TaskKey(id herder.TaskID) string { return kafkalog.TaskKey(TaskPrefix, id) }

// TopicKey is the record key of a topic a connector uses.
func TopicKey(connector, topic string) string {
	return TopicPrefix + topic + TopicConnectorMarker + connector
}

// parseTopicKey splits status-topic-<topic>:connector-<connector> as upstream: the topic ends at
// the first colon, which topic names cannot contain.
func parseTopicKey(key string) (connector, topic string, ok bool) {
	rest := strings.TrimPrefix(key, TopicPrefix)
	topic, after, found := strings.Cut(rest, ":")
	if !found || topic == "" {
		return "", "", false
	}
	connector, found = strings.CutPrefix(after, strings.TrimPrefix(TopicConnectorMarker, ":"))
	if !found || connector == "" {
		return "", "", false
	}
	return connector, topic, true
}

// Value schemas, field for field upstream's (Kafka 4.x, with the plugin version of KIP-891),
// written by the JSON converter with schemas.enable=false as upstream configures it.
var (
	statusSchema = statusFields().MustBuild()
	// statusProgressSchema is statusSchema with kconnect's "progress" after upstream's fields,
	// written only while a task reports progress. Upstream's parser looks up the fields it
	// knows by name and ignores the others, so Kafka Connect workers read these records too.
	statusProgressSchema = statusFields().Field("progress", progressSchema).MustBuild()
	progressSchema       = connect.StructBuilder().
				Field("phase", connect.OptionalStringSchema).
				Field("tables_done", connect.Int64Schema).
				Field("tables_total", connect.Int64Schema).
				Field("rows_done", connect.Int64Schema).
				Field("rows_estimated", connect.Int64Schema).MustBuild()
	topicValueSchema = connect.StructBuilder().
				Field("name", connect.StringSchema).
				Field("connector", connect.StringSchema).
				Field("task", connect.Int32Schema).
				Field("discoverTimestamp", connect.Int64Schema).MustBuild()
	topicSchema = connect.MapBuilder(connect.StringSchema, topicValueSchema).MustBuild()
)

// statusFields are the fields of upstream's status values, in upstream's order.
func statusFields() *connect.SchemaBuilder {
	return connect.StructBuilder().
		Field("state", connect.StringSchema).
		Field("trace", connect.OptionalStringSchema).
		Field("worker_id", connect.StringSchema).
		Field("generation", connect.Int32Schema).
		Field("version", connect.OptionalStringSchema)
}

var converter = func() *jsonconverter.Converter {
	c := jsonconverter.New()
	if err := c.Configure(map[string]string{jsonconverter.SchemasEnableConfig: "false"}, false); err != nil {
		panic(err) // a valid constant configuration
	}
	return c
}()

// optional maps "" to a JSON null, as upstream writes an absent trace or version.
func optional(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func encodeStatus(s Status) ([]byte, error) {
	schema := statusSchema
	if s.Progress != nil {
		schema = statusProgressSchema
	}
	st := connect.NewStruct(schema)
	st.SetAt(0, string(s.State))
	st.SetAt(1, optional(s.Trace))
	st.SetAt(2, s.WorkerID)
	st.SetAt(3, s.Generation)
	st.SetAt(4, optional(s.Version))
	if p := s.Progress; p != nil {
		ps := connect.NewStruct(progressSchema)
		ps.SetAt(0, optional(p.Phase))
		ps.SetAt(1, p.TablesDone)
		ps.SetAt(2, p.TablesTotal)
		ps.SetAt(3, p.RowsDone)
		ps.SetAt(4, p.RowsEstimated)
		st.SetAt(5, ps)
	}
	b, err := converter.FromConnectData("", schema, st)
	if err != nil {
		return nil, fmt.Errorf("encode status: %w", err)
	}
	return b, nil
}

func encodeTopic(t TopicStatus) ([]byte, error) {
	st := connect.NewStruct(topicValueSchema)
	st.SetAt(0, t.Topic)
	st.SetAt(1, t.Connector)
	st.SetAt(2, t.Task)
	st.SetAt(3, t.DiscoverTimestamp)
	b, err := converter.FromConnectData("", topicSchema, map[string]any{"topic": st})
	if err != nil {
		return nil, fmt.Errorf("encode topic status: %w", err)
	}
	return b, nil
}

// states are the states a status record may carry (upstream's AbstractStatus.State without
// DESTROYED, which is written as a tombstone).
var states = map[herder.State]bool{
	herder.Unassigned: true, herder.Running: true, herder.Paused: true,
	herder.Failed: true, herder.Restarting: true, herder.Stopped: true,
}

func decodeStatus(b []byte) (Status, error) {
	_, v, err := converter.ToConnectData("", b)
	if err != nil {
		return Status{}, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return Status{}, fmt.Errorf("status is a %T, not a JSON object", v)
	}
	var s Status
	state, _ := m["state"].(string)
	if s.State = herder.State(state); !states[s.State] {
		return Status{}, fmt.Errorf("invalid state %q", m["state"])
	}
	if s.WorkerID, ok = m["worker_id"].(string); !ok {
		return Status{}, fmt.Errorf("'worker_id' should be a string but is %T", m["worker_id"])
	}
	gen, ok := m["generation"].(int64)
	if !ok {
		return Status{}, fmt.Errorf("'generation' should be an integer but is %T", m["generation"])
	}
	s.Generation = int32(gen)
	s.Trace, _ = m["trace"].(string)
	s.Version, _ = m["version"].(string)
	if p, ok := m["progress"].(map[string]any); ok {
		s.Progress = decodeProgress(p)
	}
	return s, nil
}

// decodeProgress reads a status's progress; a field that is missing or not a number counts
// as 0, as progress is only shown, never acted on.
func decodeProgress(m map[string]any) *herder.Progress {
	p := &herder.Progress{}
	p.Phase, _ = m["phase"].(string)
	p.TablesDone, _ = m["tables_done"].(int64)
	p.TablesTotal, _ = m["tables_total"].(int64)
	p.RowsDone, _ = m["rows_done"].(int64)
	p.RowsEstimated, _ = m["rows_estimated"].(int64)
	return p
}

func decodeTopic(b []byte) (TopicStatus, error) {
	_, v, err := converter.ToConnectData("", b)
	if err != nil {
		return TopicStatus{}, err
	}
	outer, _ := v.(map[string]any)
	m, ok := outer["topic"].(map[string]any)
	if !ok {
		return TopicStatus{}, fmt.Errorf("topic status has no 'topic' object")
	}
	var t TopicStatus
	var okName, okConn, okTask, okTS bool
	t.Topic, okName = m["name"].(string)
	t.Connector, okConn = m["connector"].(string)
	task, okTask := m["task"].(int64)
	t.Task = int32(task)
	t.DiscoverTimestamp, okTS = m["discoverTimestamp"].(int64)
	if !okName || !okConn || !okTask || !okTS {
		return TopicStatus{}, fmt.Errorf("topic status needs string name and connector, integer task and discoverTimestamp")
	}
	return t, nil
}
