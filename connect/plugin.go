package connect

import (
	"context"
	"log/slog"
	"maps"
)

// Versioned is implemented by every plugin.
type Versioned interface {
	// Version returns the plugin's version string, shown by GET /connector-plugins.
	Version() string
}

// Configurable is a plugin that declares its configuration keys.
type Configurable interface {
	// ConfigDef returns the plugin's configuration definition, used both to parse the
	// configuration and by the REST validate endpoint.
	ConfigDef() *ConfigDef
}

// ConfigValidator is optionally implemented by a connector whose validation needs more than its
// ConfigDef, such as connecting to a database to check that a table exists. It is called with the
// results of the ConfigDef validation and may add errors to them.
type ConfigValidator interface {
	Validate(ctx context.Context, props map[string]string, values []ConfigValue) []ConfigValue
}

// ConnectorContext is the runtime's handle given to a connector.
type ConnectorContext interface {
	// RequestTaskReconfiguration asks the runtime to call TaskConfigs again, for example after
	// the connector discovered new tables.
	RequestTaskReconfiguration()
	// RaiseError fails the connector with err.
	RaiseError(err error)
	// Logger returns a logger carrying the connector's name.
	Logger() *slog.Logger
}

// Connector is the part of a connector plugin that turns its configuration into task configurations.
type Connector interface {
	Versioned
	Configurable
	// Start starts the connector with its (already validated) configuration.
	Start(ctx ConnectorContext, props map[string]string) error
	// TaskConfigs returns the configuration of each task, at most maxTasks of them.
	TaskConfigs(maxTasks int) ([]map[string]string, error)
	// Stop stops the connector and releases what Start acquired.
	Stop() error
}

// SourceConnector is a connector whose tasks read from an external system into Kafka.
type SourceConnector interface {
	Connector
	// NewTask returns a new, unstarted task.
	NewTask() SourceTask
}

// SinkConnector is a connector whose tasks write Kafka records to an external system.
type SinkConnector interface {
	Connector
	// NewTask returns a new, unstarted task.
	NewTask() SinkTask
}

// OffsetReader reads the committed offsets of source partitions.
type OffsetReader interface {
	// Offset returns the last committed offset of a source partition, or nil if there is none.
	Offset(partition map[string]any) (map[string]any, error)
}

// TaskContext is what every task gets from the runtime.
type TaskContext interface {
	// Logger returns a logger carrying the connector name and task id.
	Logger() *slog.Logger
	// TaskID returns the task's index within its connector.
	TaskID() int
	// ConnectorName returns the name of the task's connector.
	ConnectorName() string
}

// SourceTaskContext is the runtime's handle given to a source task.
type SourceTaskContext interface {
	TaskContext
	// Offsets reads the committed offsets, so a restarted task resumes where it left off.
	Offsets() OffsetReader
}

// SourceTask reads from an external system. The runtime calls Poll in a loop on one goroutine;
// Commit and CommitRecord may be called from another goroutine concurrently with Poll.
type SourceTask interface {
	Versioned
	// Start starts the task with its task configuration.
	Start(ctx SourceTaskContext, props map[string]string) error
	// Poll returns the next batch of records. It should block until records are available or
	// ctx is done, and return (nil, nil) when it has nothing after a while so the runtime can do
	// its periodic work. A non-retriable error fails the task.
	Poll(ctx context.Context) ([]SourceRecord, error)
	// Commit is called after the runtime durably stored offsets; committed holds, per source
	// partition, the offset just stored. Tasks that acknowledge upstream (a replication slot, a
	// queue) do it here, and only up to these offsets.
	Commit(ctx context.Context, committed []SourceOffset) error
	// Stop signals the task to stop; Poll's context is cancelled first.
	Stop() error
}

// RecordMetadata is what Kafka reported for an acknowledged source record.
type RecordMetadata struct {
	Topic     string
	Partition int32
	Offset    int64
}

// RecordCommitter is optionally implemented by a source task that wants to hear about each record
// Kafka acknowledged (upstream's commitRecord). Called on the producer's callback goroutine.
type RecordCommitter interface {
	CommitRecord(rec *SourceRecord, meta RecordMetadata) error
}

// ErrantRecordReporter sends a record the task could not process to the dead-letter queue
// (or logs it) according to the connector's errors.* configuration, then lets the task go on.
type ErrantRecordReporter interface {
	Report(ctx context.Context, rec *SinkRecord, err error) error
}

// SinkTaskContext is the runtime's handle given to a sink task.
type SinkTaskContext interface {
	TaskContext
	// Seek makes the consumer continue partitions at the given offsets (the next offset to
	// read); used by sinks that store their own offsets, called from Start or Open.
	Seek(offsets map[TopicPartition]int64)
	// Assignment returns the partitions currently assigned to the task.
	Assignment() []TopicPartition
	// RequestCommit asks for an offset commit as soon as possible.
	RequestCommit()
	// ErrantRecordReporter returns the dead-letter reporter, or nil when error tolerance is off.
	ErrantRecordReporter() ErrantRecordReporter
}

// SinkTask writes Kafka records to an external system. All methods are called from one goroutine.
type SinkTask interface {
	Versioned
	// Start starts the task with its task configuration.
	Start(ctx SinkTaskContext, props map[string]string) error
	// Put delivers a batch of records. A RetriableError makes the runtime redeliver the same
	// batch after a backoff; any other error fails the task.
	Put(ctx context.Context, records []SinkRecord) error
	// PreCommit flushes what Put delivered and returns the offsets (next offset to read, per
	// partition) that are now durable in the external system and may be committed to Kafka.
	// current holds the offsets following the last records delivered to Put.
	PreCommit(ctx context.Context, current map[TopicPartition]int64) (map[TopicPartition]int64, error)
	// Stop stops the task; no Put follows.
	Stop() error
}

// PartitionListener is optionally implemented by sink tasks that keep per-partition state
// (writers, files, transactions).
type PartitionListener interface {
	// Open is called when partitions are assigned to the task, before any of their records.
	Open(ctx context.Context, partitions []TopicPartition) error
	// Close is called when partitions are taken away, after their last Put and PreCommit.
	Close(ctx context.Context, partitions []TopicPartition) error
}

// Converter turns Connect data into bytes and back (keys and values).
type Converter interface {
	// Configure configures the converter; isKey says whether it converts keys.
	Configure(props map[string]string, isKey bool) error
	// FromConnectData serializes a value with its schema for topic.
	FromConnectData(topic string, schema *Schema, value any) ([]byte, error)
	// ToConnectData deserializes bytes read from topic; nil data is a null value.
	ToConnectData(topic string, data []byte) (*Schema, any, error)
}

// AppendConverter is optionally implemented by converters that can serialize into a buffer the
// caller provides, so the runtime can recycle buffers once Kafka acknowledged a record instead of
// allocating one per record.
type AppendConverter interface {
	// AppendFromConnectData appends the serialized value to dst and returns the result; a null
	// value returns nil.
	AppendFromConnectData(dst []byte, topic string, schema *Schema, value any) ([]byte, error)
}

// HeaderConverter turns header values into bytes and back.
type HeaderConverter interface {
	// Configure configures the converter.
	Configure(props map[string]string) error
	// FromConnectHeader serializes one header value.
	FromConnectHeader(topic, key string, schema *Schema, value any) ([]byte, error)
	// ToConnectHeader deserializes one header value.
	ToConnectHeader(topic, key string, data []byte) (*Schema, any, error)
}

// Transformation is a Single Message Transform. Apply returns rec itself when it leaves the record
// alone, a new record when it changes it (rec is never modified, so the runtime keeps the
// original for error reports and CommitRecord), or nil to drop it. One instance serves one task,
// whose loop calls Apply from one goroutine.
type Transformation interface {
	Configurable
	// Configure configures the transform from its transforms.<alias>.* settings (prefix removed).
	Configure(props map[string]string) error
	// Apply transforms one record.
	Apply(rec *Record) (*Record, error)
	// Close releases what the transform holds; it is called once, when its task stops.
	Close() error
}

// Predicate decides whether a transform applies to a record.
type Predicate interface {
	Configurable
	// Configure configures the predicate from its predicates.<alias>.* settings (prefix removed).
	Configure(props map[string]string) error
	// Test reports whether the predicate holds for rec.
	Test(rec *Record) bool
	// Close releases what the predicate holds; it is called once, when its task stops.
	Close() error
}

// SameTaskConfigs returns maxTasks (at least one) copies of props: the task configurations of a
// connector whose tasks all run the same configuration, as upstream's sinks do.
func SameTaskConfigs(props map[string]string, maxTasks int) []map[string]string {
	out := make([]map[string]string, max(maxTasks, 1))
	for i := range out {
		out[i] = maps.Clone(props)
	}
	return out
}
