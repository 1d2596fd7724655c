// Package runtime is the kconnect worker: it runs connector and task instances, moves records
// between them and Kafka through converters and transforms, and commits offsets. Herders
// (runtime/standalone, later distributed) decide what runs; this package knows how to run it.
package runtime

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/runtime/kafkalog"
)

// Worker configuration keys (upstream WorkerConfig, StandaloneConfig).
const (
	BootstrapServers        = "bootstrap.servers"
	KeyConverter            = "key.converter"
	ValueConverter          = "value.converter"
	HeaderConverter         = "header.converter"
	OffsetFlushInterval     = "offset.flush.interval.ms"
	OffsetFlushTimeout      = "offset.flush.timeout.ms"
	TaskShutdownTimeout     = "task.shutdown.graceful.timeout.ms"
	OffsetStorageFile       = "offset.storage.file.filename"
	PluginPath              = "plugin.path"
	TopicCreationEnable     = "topic.creation.enable"
	Listeners               = "listeners"
	StateDir                = "kconnect.state.dir"
	TasksMaxLimit           = "kconnect.tasks.max.limit"
	EmbeddedBootstrapServer = "embedded"
	// ExactlyOnceSourceSupport turns on exactly-once delivery for the worker's source tasks (KIP-618).
	ExactlyOnceSourceSupport = "exactly.once.source.support"
	// GroupID names the worker's cluster in distributed mode; it prefixes the transactional ids
	// of exactly-once source tasks in both modes.
	GroupID = "group.id"
)

// DefaultTasksMaxLimit is kconnect.tasks.max.limit's default. A task costs about 7 file
// descriptors (its Kafka connections, and the embedded broker's ends of them) and 1-2 MiB, so one
// connector at the limit stays within a common open-file limit of 1024 and a few hundred MiB.
const DefaultTasksMaxLimit = 100

// WorkerConfigDef declares the worker keys kconnect interprets; any other key is accepted and
// passed through (producer.*, consumer.*, admin.*, rest.*), as upstream tolerates unknown keys.
func WorkerConfigDef() *connect.ConfigDef {
	return connect.NewConfigDef().
		Define(connect.ConfigKey{Name: BootstrapServers, Type: connect.ConfigList, Default: "localhost:9092", Importance: connect.High,
			Doc: "Kafka brokers to connect to, as host:port pairs; the value \"embedded\" starts an in-process broker whose data lives in the state directory."}).
		Define(connect.ConfigKey{Name: KeyConverter, Type: connect.ConfigClass, Required: true, Importance: connect.High,
			Doc: "Converter class for record keys, unless a connector overrides it."}).
		Define(connect.ConfigKey{Name: ValueConverter, Type: connect.ConfigClass, Required: true, Importance: connect.High,
			Doc: "Converter class for record values, unless a connector overrides it."}).
		Define(connect.ConfigKey{Name: HeaderConverter, Type: connect.ConfigClass, Default: "org.apache.kafka.connect.storage.SimpleHeaderConverter", Importance: connect.Low,
			Doc: "Converter class for header values, unless a connector overrides it."}).
		Define(connect.ConfigKey{Name: OffsetFlushInterval, Type: connect.ConfigLong, Default: "60000", Validator: connect.AtLeast(1), Importance: connect.Low,
			Doc: "How often source offsets and sink consumer offsets are committed, in milliseconds."}).
		Define(connect.ConfigKey{Name: OffsetFlushTimeout, Type: connect.ConfigLong, Default: "5000", Validator: connect.AtLeast(0), Importance: connect.Low,
			Doc: "How long an offset commit may take before it is abandoned and retried at the next interval, in milliseconds."}).
		Define(connect.ConfigKey{Name: TaskShutdownTimeout, Type: connect.ConfigLong, Default: "5000", Validator: connect.AtLeast(0), Importance: connect.Low,
			Doc: "How long a task gets to drain in-flight records and commit on shutdown, in milliseconds."}).
		Define(connect.ConfigKey{Name: OffsetStorageFile, Type: connect.ConfigString, Default: "", Importance: connect.High,
			Doc: "Standalone mode: the file source offsets are stored in."}).
		Define(connect.ConfigKey{Name: PluginPath, Type: connect.ConfigList, Default: "", Importance: connect.Low,
			Doc: "Accepted for compatibility; kconnect's plugins are built in."}).
		Define(connect.ConfigKey{Name: TopicCreationEnable, Type: connect.ConfigBoolean, Default: "true", Importance: connect.Low,
			Doc: "Whether source connectors may create their topics with the topic.creation.* settings."}).
		Define(connect.ConfigKey{Name: Listeners, Type: connect.ConfigList, Default: "http://:8083", Importance: connect.Low,
			Doc: "REST API listeners as protocol://host:port."}).
		Define(connect.ConfigKey{Name: "metrics.listener", Type: connect.ConfigString, Default: "", Importance: connect.Low,
			Doc: "An http://host:port listener serving only GET /metrics (Prometheus text format), besides the REST listeners, which serve it too (kconnect only)."}).
		Define(connect.ConfigKey{Name: StateDir, Type: connect.ConfigString, Default: "", Importance: connect.Low,
			Doc: "Directory for kconnect's own state (standalone connector state, embedded broker data); defaults to the offsets file's directory."}).
		Define(connect.ConfigKey{Name: TasksMaxLimit, Type: connect.ConfigInt, Default: strconv.Itoa(DefaultTasksMaxLimit), Validator: connect.AtLeast(1), Importance: connect.Medium,
			Doc: "The largest tasks.max a connector may ask for; a larger one is rejected, so one request cannot exhaust the worker's file descriptors and memory."}).
		Define(connect.ConfigKey{Name: ExactlyOnceSourceSupport, Type: connect.ConfigString, Default: eosDisabled, Validator: connect.OneOf(eosDisabled, eosPreparing, eosEnabled), Importance: connect.High,
			Doc: "Whether source tasks write their records and offsets in Kafka transactions: disabled; preparing (distributed mode's step of a rolling upgrade: the worker fences zombie tasks but runs tasks without transactions); enabled. Standalone accepts it too: enabled keeps source offsets in offsets.storage.topic instead of the offsets file."})
}

// Connector configuration keys shared by every connector (upstream ConnectorConfig and
// SinkConnectorConfig).
const (
	ConnectorName        = "name"
	ConnectorClass       = "connector.class"
	TasksMax             = "tasks.max"
	Transforms           = "transforms"
	Predicates           = "predicates"
	Topics               = "topics"
	TopicsRegex          = "topics.regex"
	ErrorsTolerance      = "errors.tolerance"
	ErrorsRetryTimeout   = "errors.retry.timeout"
	ErrorsRetryDelayMax  = "errors.retry.delay.max.ms"
	ErrorsLogEnable      = "errors.log.enable"
	ErrorsLogMessages    = "errors.log.include.messages"
	DLQTopic             = "errors.deadletterqueue.topic.name"
	DLQReplicationFactor = "errors.deadletterqueue.topic.replication.factor"
	DLQContextHeaders    = "errors.deadletterqueue.context.headers.enable"
	ConfigActionReload   = "config.action.reload"
	commonGroup          = "Common"
	transformsGroup      = "Transforms"
	predicatesGroup      = "Predicates"
	errorsGroup          = "Error Handling"
)

// ConnectorConfigDef declares the keys every connector of the given type accepts.
func ConnectorConfigDef(sink bool) *connect.ConfigDef {
	d := connect.NewConfigDef().
		Define(connect.ConfigKey{Name: ConnectorName, Type: connect.ConfigString, Required: true, Validator: connect.NonEmptyString(), Importance: connect.High, Group: commonGroup, OrderInGroup: 1, Width: connect.WidthMedium, DisplayName: "Connector name",
			Doc: "Globally unique name of the connector."}).
		Define(connect.ConfigKey{Name: ConnectorClass, Type: connect.ConfigString, Required: true, Importance: connect.High, Group: commonGroup, OrderInGroup: 2, Width: connect.WidthLong, DisplayName: "Connector class",
			Doc: "The connector's class: its upstream Java class name or its short alias."}).
		Define(connect.ConfigKey{Name: TasksMax, Type: connect.ConfigInt, Default: "1", Validator: connect.AtLeast(1), Importance: connect.High, Group: commonGroup, OrderInGroup: 3, Width: connect.WidthShort, DisplayName: "Tasks max",
			Doc: "The most tasks the connector may run."}).
		Define(connect.ConfigKey{Name: KeyConverter, Type: connect.ConfigClass, Importance: connect.Low, Group: commonGroup, OrderInGroup: 5, Width: connect.WidthShort, DisplayName: "Key converter class",
			Doc: "Converter for record keys; overrides the worker's."}).
		Define(connect.ConfigKey{Name: ValueConverter, Type: connect.ConfigClass, Importance: connect.Low, Group: commonGroup, OrderInGroup: 6, Width: connect.WidthShort, DisplayName: "Value converter class",
			Doc: "Converter for record values; overrides the worker's."}).
		Define(connect.ConfigKey{Name: HeaderConverter, Type: connect.ConfigClass, Importance: connect.Low, Group: commonGroup, OrderInGroup: 7, Width: connect.WidthShort, DisplayName: "Header converter class",
			Doc: "Converter for header values; overrides the worker's."}).
		Define(connect.ConfigKey{Name: ConfigActionReload, Type: connect.ConfigString, Default: "restart", Validator: connect.OneOf("none", "restart"), Importance: connect.Low, Group: commonGroup, OrderInGroup: 8, Width: connect.WidthMedium, DisplayName: "Reload action",
			Doc: "What to do when a config provider says a value it resolved expires: restart the connector, or none. As upstream, only a provider that returns a time to live triggers it, and none of the built-in providers (env, file, directory) does, so with them the value is validated and has nothing to act on."}).
		Define(connect.ConfigKey{Name: Transforms, Type: connect.ConfigList, Default: "", Importance: connect.Low, Group: transformsGroup, OrderInGroup: 1, Width: connect.WidthLong, DisplayName: "Transforms",
			Doc: "Aliases of the transforms to apply to records, in order."}).
		Define(connect.ConfigKey{Name: Predicates, Type: connect.ConfigList, Default: "", Importance: connect.Low, Group: predicatesGroup, OrderInGroup: 1, Width: connect.WidthLong, DisplayName: "Predicates",
			Doc: "Aliases of the predicates transforms may refer to."}).
		Define(connect.ConfigKey{Name: ErrorsRetryTimeout, Type: connect.ConfigLong, Default: "0", Validator: connect.AtLeast(-1), Importance: connect.Medium, Group: errorsGroup, OrderInGroup: 1, Width: connect.WidthMedium, DisplayName: "Retry Timeout for Errors",
			Doc: "How long, in milliseconds, a task keeps retrying what fails for a reason that may pass (a retriable error from the task, Kafka being unreachable) before it fails with the cause; -1 retries for ever. 0, the default, allows 120000 ms, as long as upstream's producer gives a source task (delivery.timeout.ms)."}).
		Define(connect.ConfigKey{Name: ErrorsRetryDelayMax, Type: connect.ConfigLong, Default: "60000", Validator: connect.AtLeast(0), Importance: connect.Medium, Group: errorsGroup, OrderInGroup: 2, Width: connect.WidthMedium, DisplayName: "Maximum Delay Between Retries for Errors",
			Doc: "Upper bound of the exponential backoff between retries, in milliseconds. Unset, kconnect waits at most 10000 ms, below upstream's 60000, so a task notices soon that what failed works again; a value set is used as given."}).
		Define(connect.ConfigKey{Name: ErrorsTolerance, Type: connect.ConfigString, Default: "none", Validator: connect.OneOf("none", "all"), Importance: connect.Medium, Group: errorsGroup, OrderInGroup: 3, Width: connect.WidthShort, DisplayName: "Error Tolerance",
			Doc: "none fails the task on the first conversion or transform error; all skips (or dead-letters) bad records."}).
		Define(connect.ConfigKey{Name: ErrorsLogEnable, Type: connect.ConfigBoolean, Default: "false", Importance: connect.Medium, Group: errorsGroup, OrderInGroup: 4, Width: connect.WidthShort, DisplayName: "Log Errors",
			Doc: "Whether to log each tolerated error."}).
		Define(connect.ConfigKey{Name: ErrorsLogMessages, Type: connect.ConfigBoolean, Default: "false", Importance: connect.Medium, Group: errorsGroup, OrderInGroup: 5, Width: connect.WidthShort, DisplayName: "Log Error Details",
			Doc: "Whether logged errors include the record's topic, partition and offset."})
	if !sink {
		defineExactlyOnceKeys(d)
		d.Define(connect.ConfigKey{Name: TopicCreationGroups, Type: connect.ConfigList, Default: "", Validator: uniqueList(), Importance: connect.Low, Group: topicCreationGroupTag, OrderInGroup: 1, Width: connect.WidthLong, DisplayName: "Topic Creation Groups",
			Doc: "Groups of topic.creation.<group>.* settings for the topics this connector creates, besides the default group, which always exists; the first group whose include matches a topic creates it."})
	}
	if sink {
		d.Define(connect.ConfigKey{Name: Topics, Type: connect.ConfigList, Default: "", Importance: connect.High, Group: commonGroup, OrderInGroup: 4, Width: connect.WidthLong, DisplayName: "Topics",
			Doc: "Topics to consume; exactly one of topics and topics.regex must be set."}).
			Define(connect.ConfigKey{Name: TopicsRegex, Type: connect.ConfigString, Default: "", Importance: connect.High, Group: commonGroup, OrderInGroup: 4, Width: connect.WidthLong, DisplayName: "Topics regex",
				Doc: "Regular expression of the topics to consume."}).
			Define(connect.ConfigKey{Name: DLQTopic, Type: connect.ConfigString, Default: "", Importance: connect.Medium, Group: errorsGroup, OrderInGroup: 6, Width: connect.WidthMedium, DisplayName: "Dead Letter Queue Topic Name",
				Doc: "Topic that receives records that failed conversion or transformation when errors.tolerance=all."}).
			Define(connect.ConfigKey{Name: DLQReplicationFactor, Type: connect.ConfigShort, Default: "3", Validator: kafkalog.MinusOneOrPositive, Importance: connect.Medium, Group: errorsGroup, OrderInGroup: 7, Width: connect.WidthMedium, DisplayName: "Dead Letter Queue Topic Replication Factor",
				Doc: "Replication factor of the dead letter queue topic, created with one partition before the first record is sent to it unless it exists; -1 uses the broker's default."}).
			Define(connect.ConfigKey{Name: DLQContextHeaders, Type: connect.ConfigBoolean, Default: "false", Importance: connect.Medium, Group: errorsGroup, OrderInGroup: 8, Width: connect.WidthMedium, DisplayName: "Enable Error Context Headers",
				Doc: "Whether dead-lettered records carry __connect.errors.* headers describing the failure."})
	}
	return d
}

// uniqueList rejects a list that names an element twice.
func uniqueList() connect.Validator {
	return connect.ValidatorFunc("unique aliases", func(name string, v any) error {
		items, _ := v.([]string)
		seen := map[string]bool{}
		for _, it := range items {
			if seen[it] {
				return fmt.Errorf("Invalid value %s for configuration %s: Duplicate alias provided.", strings.Join(items, ","), name)
			}
			seen[it] = true
		}
		return nil
	})
}
