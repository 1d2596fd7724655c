package configstore

import (
	"encoding/base64"
	"fmt"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters/jsonconverter"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/kafkalog"
)

// Record key prefixes of the config topic, as upstream's KafkaConfigBackingStore writes them:
// connector-<name>, task-<name>-<n>, commit-<name>, target-state-<name>,
// restart-connector-<name>, tasks-fencing-<name>, session-key and logger-cluster-<namespace>.
const (
	ConnectorPrefix   = "connector-"
	TaskPrefix        = "task-"
	CommitPrefix      = "commit-"
	TargetStatePrefix = "target-state-"
	RestartPrefix     = "restart-connector-"
	TaskCountPrefix   = "tasks-fencing-"
	SessionKeyKey     = "session-key"
	LoggerPrefix      = "logger-cluster-"
)

// TaskKey is the record key of a task's configuration.
func TaskKey(id herder.TaskID) string { return kafkalog.TaskKey(TaskPrefix, id) }

// Value schemas of the config topic, field for field upstream's. The values are written with
// the JSON converter configured as upstream configures the one of its internal topics
// (schemas.enable=false): the payload alone, fields in schema order.
var (
	configSchema = connect.StructBuilder().
			Field("properties", connect.MapBuilder(connect.StringSchema, connect.OptionalStringSchema).MustBuild()).MustBuild()
	commitSchema      = connect.StructBuilder().Field("tasks", connect.Int32Schema).MustBuild()
	targetStateSchema = connect.StructBuilder().
				Field("state", connect.StringSchema).
				Field("state.v2", connect.OptionalStringSchema).MustBuild()
	taskCountSchema  = connect.StructBuilder().Field("task-count", connect.Int32Schema).MustBuild()
	sessionKeySchema = connect.StructBuilder().
				Field("key", connect.StringSchema).
				Field("algorithm", connect.StringSchema).
				Field("creation-timestamp", connect.Int64Schema).MustBuild()
	restartSchema = connect.StructBuilder().
			Field("include-tasks", connect.BooleanSchema).
			Field("only-failed", connect.BooleanSchema).MustBuild()
	loggerSchema = connect.StructBuilder().Field("level", connect.StringSchema).MustBuild()
)

// converter is the internal topics' JSON converter: upstream's JsonConverter with
// schemas.enable=false.
var converter = func() *jsonconverter.Converter {
	c := jsonconverter.New()
	if err := c.Configure(map[string]string{jsonconverter.SchemasEnableConfig: "false"}, false); err != nil {
		panic(err) // a valid constant configuration
	}
	return c
}()

func encode(s *connect.Schema, fields ...any) []byte {
	st := connect.NewStruct(s)
	for i, v := range fields {
		st.SetAt(i, v)
	}
	b, err := converter.FromConnectData("", s, st)
	if err != nil {
		// Every value here is built by this package to match its schema.
		panic(fmt.Sprintf("configstore: encode %s: %v", s, err))
	}
	return b
}

func encodeConfig(props map[string]string) []byte {
	m := make(map[string]any, len(props))
	for k, v := range props {
		m[k] = v
	}
	return encode(configSchema, m)
}

// encodeTargetState writes both fields as upstream: "state" for workers older than KIP-875,
// which know no STOPPED and read it as PAUSED, and "state.v2" with the real state.
func encodeTargetState(s herder.TargetState) []byte {
	old := s
	if s == herder.TargetStopped {
		old = herder.TargetPaused
	}
	return encode(targetStateSchema, string(old), string(s))
}

func encodeSessionKey(k SessionKey) []byte {
	return encode(sessionKeySchema, base64.StdEncoding.EncodeToString(k.Key), k.Algorithm, k.Created.UnixMilli())
}

// decode reads a value as upstream's converter does, schemaless; nil stays nil (a tombstone).
func decode(b []byte) (any, error) {
	if b == nil {
		return nil, nil
	}
	_, v, err := converter.ToConnectData("", b)
	return v, err
}

// stringMap converts a decoded "properties" object. A member that is not a string (upstream's
// schema allows null) makes the record unusable.
func stringMap(v any) (map[string]string, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("'properties' field should be a map but is %T", v)
	}
	out := make(map[string]string, len(m))
	for k, x := range m {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("property %q should be a string but is %T", k, x)
		}
		out[k] = s
	}
	return out, nil
}

// intField reads an integer field of a decoded struct.
func intField(m map[string]any, name string) (int, error) {
	switch n := m[name].(type) {
	case int64:
		return int(n), nil
	case int32:
		return int(n), nil
	}
	return 0, fmt.Errorf("'%s' field should be an integer but is %T", name, m[name])
}

// SessionKey is the key the leader signs internal REST requests with (KIP-507).
type SessionKey struct {
	Key       []byte
	Algorithm string // a javax.crypto Mac algorithm, HmacSHA256 by default upstream
	Created   time.Time
}

// RestartRequest asks the worker of a connector to restart it, and maybe its tasks (KIP-745).
type RestartRequest struct {
	Connector    string
	OnlyFailed   bool
	IncludeTasks bool
}
