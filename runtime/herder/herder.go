// Package herder defines the Herder: the one interface through which the REST API controls
// connectors, and the types it exchanges. The standalone and distributed modes each implement it.
// The types carry the JSON field names of Kafka Connect's REST API so they serialize as upstream.
package herder

import (
	"context"
	"errors"
	"fmt"

	"github.com/kconnect/kconnect/connect"
)

// State is the runtime state of a connector or task, as reported by the status endpoints.
type State string

// Connector and task states.
const (
	Unassigned State = "UNASSIGNED"
	Running    State = "RUNNING"
	Paused     State = "PAUSED"
	Failed     State = "FAILED"
	Restarting State = "RESTARTING"
	Stopped    State = "STOPPED"
)

// TargetState is the state a user asked a connector to be in.
type TargetState string

// Target states. The REST API's initial_state names STARTED "RUNNING".
const (
	TargetStarted TargetState = "STARTED"
	TargetPaused  TargetState = "PAUSED"
	TargetStopped TargetState = "STOPPED"
)

// ConnectorType says whether a connector is a source or a sink.
type ConnectorType string

// Connector types.
const (
	Source  ConnectorType = "source"
	Sink    ConnectorType = "sink"
	Unknown ConnectorType = "unknown"
)

// TaskID names a task.
type TaskID struct {
	Connector string `json:"connector"`
	Task      int    `json:"task"`
}

// ConnectorInfo is a connector's configuration and tasks (GET /connectors/{c}).
type ConnectorInfo struct {
	Name   string            `json:"name"`
	Config map[string]string `json:"config"`
	Tasks  []TaskID          `json:"tasks"`
	Type   ConnectorType     `json:"type"`
}

// TaskInfo is a task's configuration (GET /connectors/{c}/tasks).
type TaskInfo struct {
	ID     TaskID            `json:"id"`
	Config map[string]string `json:"config"`
}

// ConnectorState is the connector part of a status.
type ConnectorState struct {
	State    State     `json:"state"`
	WorkerID string    `json:"worker_id"`
	Trace    string    `json:"trace,omitempty"`
	Progress *Progress `json:"progress,omitempty"`
}

// TaskState is one task's status.
type TaskState struct {
	ID       int       `json:"id"`
	State    State     `json:"state"`
	WorkerID string    `json:"worker_id"`
	Trace    string    `json:"trace,omitempty"`
	Progress *Progress `json:"progress,omitempty"`
}

// ConnectorStatus is GET /connectors/{c}/status.
type ConnectorStatus struct {
	Name      string         `json:"name"`
	Connector ConnectorState `json:"connector"`
	Tasks     []TaskState    `json:"tasks"`
	Type      ConnectorType  `json:"type"`
}

// Offset is one partition's offset as the offsets endpoints show it. For sink connectors the
// partition is {"kafka_topic","kafka_partition"} and the offset {"kafka_offset"}. A nil Offset in
// an alter request resets that partition.
type Offset struct {
	Partition map[string]any `json:"partition"`
	Offset    map[string]any `json:"offset"`
}

// ConfigKeyInfo describes one configuration key (the "definition" of a validate result). As
// upstream's entity, it writes the key's position within its group as "order" (-1 for a key
// without a group, as upstream's ConfigDef gives such keys).
type ConfigKeyInfo struct {
	Name          string   `json:"name"`
	Type          string   `json:"type"`
	Required      bool     `json:"required"`
	DefaultValue  *string  `json:"default_value"`
	Importance    string   `json:"importance"`
	Documentation string   `json:"documentation"`
	Group         *string  `json:"group"`
	OrderInGroup  int      `json:"order"`
	Width         string   `json:"width"`
	DisplayName   string   `json:"display_name"`
	Dependents    []string `json:"dependents"`
}

// ConfigValueInfo is the validation outcome of one key.
type ConfigValueInfo struct {
	Name              string   `json:"name"`
	Value             *string  `json:"value"`
	RecommendedValues []string `json:"recommended_values"`
	Errors            []string `json:"errors"`
	// Warnings is kconnect's addition, present only when there are some: likely mistakes that do
	// not count in error_count and do not block creating the connector.
	Warnings []string `json:"warnings,omitempty"`
	Visible  bool     `json:"visible"`
}

// ConfigInfo pairs a key's definition with its validation outcome. Either may be nil, which
// upstream writes as null: Definition for a value no ConfigDef declares (a client override, a
// key whose value was null), Value for a declared key that was not validated.
type ConfigInfo struct {
	Definition *ConfigKeyInfo   `json:"definition"`
	Value      *ConfigValueInfo `json:"value"`
}

// ConfigInfos is the body of PUT /connector-plugins/{p}/config/validate.
type ConfigInfos struct {
	Name       string       `json:"name"`
	ErrorCount int          `json:"error_count"`
	Groups     []string     `json:"groups"`
	Configs    []ConfigInfo `json:"configs"`
}

// PluginInfo is one entry of GET /connector-plugins.
type PluginInfo struct {
	Class   string `json:"class"`
	Type    string `json:"type"`
	Version string `json:"version,omitempty"`
}

// Herder controls connectors. Methods return the errors of this package (NotFoundError,
// ConflictError, BadRequestError) so the REST layer can map them to status codes.
type Herder interface {
	// Connectors lists connector names.
	Connectors(ctx context.Context) ([]string, error)
	// ConnectorInfo returns a connector's config and tasks.
	ConnectorInfo(ctx context.Context, name string) (ConnectorInfo, error)
	// CreateConnector creates a connector; ConflictError if it exists, BadRequestError if its
	// config is invalid.
	CreateConnector(ctx context.Context, name string, config map[string]string, initial TargetState) (ConnectorInfo, error)
	// PutConnectorConfig creates or replaces a connector's config and reports whether it created it.
	PutConnectorConfig(ctx context.Context, name string, config map[string]string) (info ConnectorInfo, created bool, err error)
	// PatchConnectorConfig merges patch into the config; a nil value removes that key.
	PatchConnectorConfig(ctx context.Context, name string, patch map[string]*string) (ConnectorInfo, error)
	// DeleteConnector stops and removes a connector.
	DeleteConnector(ctx context.Context, name string) error
	// ConnectorStatus returns the connector's and its tasks' states.
	ConnectorStatus(ctx context.Context, name string) (ConnectorStatus, error)
	// TaskStatus returns one task's state.
	TaskStatus(ctx context.Context, id TaskID) (TaskState, error)
	// Tasks returns the task configurations.
	Tasks(ctx context.Context, name string) ([]TaskInfo, error)
	// RestartConnector restarts the connector and, if asked, its (failed) tasks.
	RestartConnector(ctx context.Context, name string, includeTasks, onlyFailed bool) error
	// RestartTask restarts one task.
	RestartTask(ctx context.Context, id TaskID) error
	// PauseConnector pauses a connector and its tasks.
	PauseConnector(ctx context.Context, name string) error
	// ResumeConnector resumes a paused or stopped connector.
	ResumeConnector(ctx context.Context, name string) error
	// StopConnector stops a connector and shuts its tasks down, keeping its config.
	StopConnector(ctx context.Context, name string) error
	// ConnectorTopics returns the topics the connector used since the last reset.
	ConnectorTopics(ctx context.Context, name string) ([]string, error)
	// ResetConnectorTopics forgets the connector's active topics.
	ResetConnectorTopics(ctx context.Context, name string) error
	// Offsets returns the connector's committed offsets.
	Offsets(ctx context.Context, name string) ([]Offset, error)
	// AlterOffsets changes committed offsets of a STOPPED connector and returns upstream's message.
	AlterOffsets(ctx context.Context, name string, offsets []Offset) (string, error)
	// ResetOffsets removes every committed offset of a STOPPED connector and returns upstream's message.
	ResetOffsets(ctx context.Context, name string) (string, error)
	// Plugins returns the installed plugins.
	Plugins() []connect.Plugin
	// PluginConfig returns the configuration definition of a plugin.
	PluginConfig(ctx context.Context, class string) ([]ConfigKeyInfo, error)
	// ValidateConfig validates a connector config against the plugin class it names.
	ValidateConfig(ctx context.Context, class string, config map[string]string) (ConfigInfos, error)
	// KafkaClusterID returns the ID of the Kafka cluster the worker uses.
	KafkaClusterID(ctx context.Context) (string, error)
	// Ready reports nil once the herder has started and can serve requests. While it is still
	// starting it must answer at once with an error saying what it is busy with, which GET /health
	// turns into 503 {"status":"starting"}; it must never wait for startup or for a lifecycle
	// change in progress. Once started, an *UnhealthyError says that something the worker
	// depends on is failing (503 {"status":"unhealthy"}). Only a herder that cannot answer at all
	// lets ctx expire, which GET /health reports as 500 {"status":"unhealthy"}.
	Ready(ctx context.Context) error
	// WorkerID returns this worker's id (host:port of its REST listener).
	WorkerID() string
}

// NotFoundError means the named connector, task or plugin does not exist (HTTP 404).
type NotFoundError struct{ Msg string }

func (e *NotFoundError) Error() string { return e.Msg }

// ConflictError means the request conflicts with the current state (HTTP 409).
type ConflictError struct{ Msg string }

func (e *ConflictError) Error() string { return e.Msg }

// BadRequestError means the request is invalid (HTTP 400).
type BadRequestError struct{ Msg string }

func (e *BadRequestError) Error() string { return e.Msg }

// UnhealthyError is Ready's answer when the worker has started but something it depends on,
// such as its embedded broker, is failing (HTTP 503 {"status":"unhealthy"} from GET /health).
type UnhealthyError struct{ Msg string }

func (e *UnhealthyError) Error() string { return e.Msg }

// NotFound returns a NotFoundError with a formatted message.
func NotFound(format string, args ...any) error {
	return &NotFoundError{Msg: fmt.Sprintf(format, args...)}
}

// Conflict returns a ConflictError with a formatted message.
func Conflict(format string, args ...any) error {
	return &ConflictError{Msg: fmt.Sprintf(format, args...)}
}

// BadRequest returns a BadRequestError with a formatted message.
func BadRequest(format string, args ...any) error {
	return &BadRequestError{Msg: fmt.Sprintf(format, args...)}
}

// IsNotFound reports whether err is or wraps a NotFoundError.
func IsNotFound(err error) bool {
	var e *NotFoundError
	return errors.As(err, &e)
}

// ForwardError means another worker must answer the request (upstream's NotLeaderException
// and NotAssignedException): the REST layer forwards it to URL, the worker's REST base URL.
type ForwardError struct{ URL string }

func (e *ForwardError) Error() string { return "request must be handled by the worker at " + e.URL }

// ForbiddenError means an internal request's signature did not verify (HTTP 403).
type ForbiddenError struct{ Msg string }

func (e *ForbiddenError) Error() string { return e.Msg }

// The headers of a signed internal request, as upstream's InternalRequestSignature names them.
const (
	SignatureHeader          = "X-Connect-Authorization"
	SignatureAlgorithmHeader = "X-Connect-Request-Signature-Algorithm"
)

// InternalSignature is the signature of an internal request between workers (KIP-507): the
// X-Connect-Authorization and X-Connect-Request-Signature-Algorithm headers and the body they sign.
type InternalSignature struct {
	// Algorithm is the Mac algorithm ("HmacSHA256"); "" when the request carried no signature.
	Algorithm string
	// Signature is the base64-decoded X-Connect-Authorization header.
	Signature []byte
	// Body is the request body as received.
	Body []byte
}

// Internal is implemented by a herder that serves the internal endpoints workers of a cluster
// call on each other: POST /connectors/{c}/tasks and PUT /connectors/{c}/fence.
type Internal interface {
	// PutTaskConfigs writes task configurations a connector's worker generated; only the
	// leader writes them, so a follower answers with a ForwardError.
	PutTaskConfigs(ctx context.Context, name string, configs []map[string]string, sig InternalSignature) error
	// FenceZombies fences the producers of a connector's earlier task generations.
	FenceZombies(ctx context.Context, name string, sig InternalSignature) error
}
