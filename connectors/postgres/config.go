package postgres

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kconnect/kconnect/connect"
)

// Configuration keys, named as Debezium's PostgreSQL connector names them.
const (
	cfgHostname           = "database.hostname"
	cfgPort               = "database.port"
	cfgUser               = "database.user"
	cfgPassword           = "database.password"
	cfgDBName             = "database.dbname"
	cfgSSLMode            = "database.sslmode"
	cfgTopicPrefix        = "topic.prefix"
	cfgPluginName         = "plugin.name"
	cfgSlotName           = "slot.name"
	cfgSlotDropOnStop     = "slot.drop.on.stop"
	cfgPublicationName    = "publication.name"
	cfgPublicationMode    = "publication.autocreate.mode"
	cfgSchemaInclude      = "schema.include.list"
	cfgSchemaExclude      = "schema.exclude.list"
	cfgTableInclude       = "table.include.list"
	cfgTableExclude       = "table.exclude.list"
	cfgColumnInclude      = "column.include.list"
	cfgColumnExclude      = "column.exclude.list"
	cfgSnapshotMode       = "snapshot.mode"
	cfgSnapshotThreads    = "snapshot.max.threads"
	cfgSnapshotFetchSize  = "snapshot.fetch.size"
	cfgDecimalMode        = "decimal.handling.mode"
	cfgTimePrecision      = "time.precision.mode"
	cfgIntervalMode       = "interval.handling.mode"
	cfgBinaryMode         = "binary.handling.mode"
	cfgMoneyDigits        = "money.fraction.digits"
	cfgTombstones         = "tombstones.on.delete"
	cfgHeartbeatInterval  = "heartbeat.interval.ms"
	cfgHeartbeatQuery     = "heartbeat.action.query"
	cfgHeartbeatPrefix    = "topic.heartbeat.prefix"
	cfgTxMetadata         = "provide.transaction.metadata"
	cfgSkippedOps         = "skipped.operations"
	cfgPlaceholder        = "unavailable.value.placeholder"
	cfgMaxBatchSize       = "max.batch.size"
	cfgMaxQueueSize       = "max.queue.size"
	cfgPollInterval       = "poll.interval.ms"
	cfgStatusInterval     = "status.update.interval.ms"
	cfgSlotMaxRetries     = "slot.max.retries"
	cfgSlotRetryDelay     = "slot.retry.delay.ms"
	cfgTopicTransaction   = "topic.transaction"
	cfgIncludeUnknownType = "include.unknown.datatypes"
	cfgExtendedHeaders    = "extended.headers.enabled"
)

// Groups shown by the validate endpoint.
const (
	groupConnection  = "Connection"
	groupReplication = "Replication"
	groupFilters     = "Filters"
	groupSnapshot    = "Snapshot"
	groupEvents      = "Events"
	groupAdvanced    = "Advanced"
)

// snapshot.mode values; never is Debezium's older name of no_data.
const (
	snapshotInitial     = "initial"
	snapshotInitialOnly = "initial_only"
	snapshotNoData      = "no_data"
	snapshotNever       = "never"
	snapshotAlways      = "always"
	snapshotWhenNeeded  = "when_needed"
)

// publication.autocreate.mode values.
const (
	pubAllTables = "all_tables"
	pubFiltered  = "filtered"
	pubDisabled  = "disabled"
	pubNoTables  = "no_tables"
)

func regexListValidator() connect.Validator {
	return connect.ValidatorFunc("comma-separated regular expressions", func(name string, v any) error {
		list, _ := v.([]string)
		for _, p := range list {
			if _, err := regexp.Compile(p); err != nil {
				return fmt.Errorf("Invalid value %s for configuration %s: not a valid regular expression: %v", p, name, err)
			}
		}
		return nil
	})
}

func skippedOpsValidator() connect.Validator {
	return connect.ValidatorFunc("[c, u, d, t, none]", func(name string, v any) error {
		list, _ := v.([]string)
		for _, op := range list {
			switch strings.ToLower(op) {
			case "c", "u", "d", "t", "none":
			default:
				return fmt.Errorf("Invalid value %s for configuration %s: operations are c (create), u (update), d (delete), t (truncate) or none", op, name)
			}
		}
		return nil
	})
}

func pluginValidator() connect.Validator {
	return connect.ValidatorFunc("[pgoutput]", func(name string, v any) error {
		s, _ := v.(string)
		if !strings.EqualFold(s, "pgoutput") {
			return fmt.Errorf("Invalid value %s for configuration %s: kconnect decodes with pgoutput, the logical decoding plugin built into PostgreSQL 10 and later; set %s=pgoutput (decoderbufs and wal2json are not supported)", s, name, name)
		}
		return nil
	})
}

var configDef = buildConfigDef()

func buildConfigDef() *connect.ConfigDef {
	d := connect.NewConfigDef()
	order := 0
	def := func(group string, k connect.ConfigKey) {
		order++
		k.Group = group
		k.OrderInGroup = order
		d.Define(k)
	}
	def(groupConnection, connect.ConfigKey{Name: cfgHostname, Type: connect.ConfigString, Required: true, Validator: connect.NonEmptyString(), Importance: connect.High,
		Doc: "Host name or IP address of the PostgreSQL server to capture changes from."})
	def(groupConnection, connect.ConfigKey{Name: cfgPort, Type: connect.ConfigInt, Default: "5432", Validator: connect.Between(1, 65535), Importance: connect.High,
		Doc: "TCP port of the PostgreSQL server."})
	def(groupConnection, connect.ConfigKey{Name: cfgUser, Type: connect.ConfigString, Required: true, Validator: connect.NonEmptyString(), Importance: connect.High,
		Doc: "Role to log in as; it needs the REPLICATION attribute and SELECT on the captured tables."})
	def(groupConnection, connect.ConfigKey{Name: cfgPassword, Type: connect.ConfigPassword, Importance: connect.High,
		Doc: "Password of the login role."})
	def(groupConnection, connect.ConfigKey{Name: cfgDBName, Type: connect.ConfigString, Required: true, Validator: connect.NonEmptyString(), Importance: connect.High,
		Doc: "Database whose changes are captured; a replication slot belongs to exactly one database."})
	def(groupConnection, connect.ConfigKey{Name: cfgSSLMode, Type: connect.ConfigString, Default: "prefer",
		Validator: connect.OneOf("disable", "allow", "prefer", "require", "verify-ca", "verify-full"), Importance: connect.Medium,
		Doc: "TLS policy for every connection, with libpq's meaning of each mode."})
	def(groupConnection, connect.ConfigKey{Name: cfgTopicPrefix, Type: connect.ConfigString, Required: true, Validator: topicPrefixValidator(), Importance: connect.High,
		Doc: "Logical name of the captured server: the first part of every topic name and of every schema name, and the source partition key of the offsets; never change it once data was captured."})

	def(groupReplication, connect.ConfigKey{Name: cfgPluginName, Type: connect.ConfigString, Default: "pgoutput", Validator: pluginValidator(), Importance: connect.Medium,
		Doc: "Logical decoding output plugin. Only pgoutput is supported; it ships with PostgreSQL 10 and later, so nothing has to be installed on the server. (Debezium defaults to decoderbufs; kconnect defaults to pgoutput.)"})
	def(groupReplication, connect.ConfigKey{Name: cfgSlotName, Type: connect.ConfigString, Default: "debezium", Validator: slotNameValidator(), Importance: connect.Medium,
		Doc: "Replication slot the connector streams from; created on first start. Two connectors must never share a slot."})
	def(groupReplication, connect.ConfigKey{Name: cfgSlotDropOnStop, Type: connect.ConfigBoolean, Default: "false", Importance: connect.Low,
		Doc: "Drop the replication slot when the task stops gracefully. Only for tests: a later start cannot resume and takes a fresh snapshot or misses changes."})
	def(groupReplication, connect.ConfigKey{Name: cfgPublicationName, Type: connect.ConfigString, Default: "dbz_publication", Validator: connect.NonEmptyString(), Importance: connect.Medium,
		Doc: "Publication that selects which tables pgoutput decodes."})
	def(groupReplication, connect.ConfigKey{Name: cfgPublicationMode, Type: connect.ConfigString, Default: pubAllTables,
		Validator: connect.OneOf(pubAllTables, pubFiltered, pubDisabled, pubNoTables), Importance: connect.Low,
		Doc: "What to do about the publication at start: all_tables creates it FOR ALL TABLES when missing (needs a superuser), filtered creates or updates it to list exactly the tables the filters select (needs table ownership), no_tables creates it empty, disabled expects it to exist."})
	def(groupReplication, connect.ConfigKey{Name: cfgStatusInterval, Type: connect.ConfigInt, Default: "10000", Validator: connect.AtLeast(100), Importance: connect.Low,
		Doc: "How often, in milliseconds, a standby status update is sent to the server even when nothing new was confirmed, which keeps idle replication connections from timing out."})
	def(groupReplication, connect.ConfigKey{Name: cfgSlotMaxRetries, Type: connect.ConfigInt, Default: "6", Validator: connect.AtLeast(0), Importance: connect.Low,
		Doc: "How many times in a row to retry connecting the replication stream (after a server restart, a failover, a slot still held by a dying session) before the task fails."})
	def(groupReplication, connect.ConfigKey{Name: cfgSlotRetryDelay, Type: connect.ConfigLong, Default: "10000", Validator: connect.AtLeast(0), Importance: connect.Low,
		Doc: "Longest wait, in milliseconds, between two replication reconnection attempts; waits grow exponentially from 200 ms up to it."})

	def(groupFilters, connect.ConfigKey{Name: cfgSchemaInclude, Type: connect.ConfigList, Validator: regexListValidator(),
		Doc: "Regular expressions matching the schema names to capture; a table in any other schema is ignored. Exclusive with schema.exclude.list."})
	def(groupFilters, connect.ConfigKey{Name: cfgSchemaExclude, Type: connect.ConfigList, Validator: regexListValidator(),
		Doc: "Regular expressions matching schema names never to capture."})
	def(groupFilters, connect.ConfigKey{Name: cfgTableInclude, Type: connect.ConfigList, Validator: regexListValidator(),
		Doc: "Regular expressions matching schemaName.tableName of the tables to capture, anchored at both ends. Exclusive with table.exclude.list."})
	def(groupFilters, connect.ConfigKey{Name: cfgTableExclude, Type: connect.ConfigList, Validator: regexListValidator(),
		Doc: "Regular expressions matching schemaName.tableName of tables never to capture."})
	def(groupFilters, connect.ConfigKey{Name: cfgColumnInclude, Type: connect.ConfigList, Validator: regexListValidator(),
		Doc: "Regular expressions matching schemaName.tableName.columnName of the columns to put in change event values; primary key columns are always in the key. Exclusive with column.exclude.list."})
	def(groupFilters, connect.ConfigKey{Name: cfgColumnExclude, Type: connect.ConfigList, Validator: regexListValidator(),
		Doc: "Regular expressions matching schemaName.tableName.columnName of columns to leave out of change event values."})

	def(groupSnapshot, connect.ConfigKey{Name: cfgSnapshotMode, Type: connect.ConfigString, Default: snapshotInitial,
		Validator: connect.OneOf(snapshotInitial, snapshotInitialOnly, snapshotNoData, snapshotNever, snapshotAlways, snapshotWhenNeeded), Importance: connect.Medium,
		Doc: "When to read the existing rows: initial on first start only, initial_only and then stop, no_data (or never) not at all, always on every start, when_needed on first start or when the stored position is no longer available in the slot."})
	def(groupSnapshot, connect.ConfigKey{Name: cfgSnapshotThreads, Type: connect.ConfigInt, Default: "1", Validator: connect.AtLeast(1), Importance: connect.Medium,
		Doc: "Connections reading the snapshot in parallel; tables are split into ranges of physical pages so one large table also benefits."})
	def(groupSnapshot, connect.ConfigKey{Name: cfgSnapshotFetchSize, Type: connect.ConfigInt, Default: "10240", Validator: connect.AtLeast(1), Importance: connect.Medium,
		Doc: "Rows per snapshot range query; also the size of the page ranges the tables are cut into, estimated from the average row width."})

	def(groupEvents, connect.ConfigKey{Name: cfgDecimalMode, Type: connect.ConfigString, Default: "precise", Validator: connect.OneOf("precise", "double", "string"), Importance: connect.Medium,
		Doc: "How NUMERIC, DECIMAL and MONEY values are represented: precise as Connect Decimal (VariableScaleDecimal when the column has no scale), double as float64, string as their text."})
	def(groupEvents, connect.ConfigKey{Name: cfgTimePrecision, Type: connect.ConfigString, Default: "adaptive",
		Validator: connect.OneOf("adaptive", "adaptive_time_microseconds", "connect", "microseconds"), Importance: connect.Medium,
		Doc: "How DATE, TIME and TIMESTAMP values are represented: adaptive picks millisecond or microsecond types from the column's precision, adaptive_time_microseconds always uses microseconds for TIME, connect uses Kafka Connect's logical types (milliseconds), microseconds always uses microseconds."})
	def(groupEvents, connect.ConfigKey{Name: cfgIntervalMode, Type: connect.ConfigString, Default: "numeric", Validator: connect.OneOf("numeric", "string"), Importance: connect.Low,
		Doc: "INTERVAL as approximate microseconds (numeric, a month counting 365.25/12 days) or as an ISO-8601 duration string."})
	def(groupEvents, connect.ConfigKey{Name: cfgBinaryMode, Type: connect.ConfigString, Default: "bytes", Validator: connect.OneOf("bytes", "base64", "base64-url-safe", "hex"), Importance: connect.Low,
		Doc: "BYTEA as raw bytes or as a base64, URL-safe base64 or hex string."})
	def(groupEvents, connect.ConfigKey{Name: cfgMoneyDigits, Type: connect.ConfigInt, Default: "2", Validator: connect.AtLeast(0), Importance: connect.Low,
		Doc: "Scale of the Decimal that MONEY values become in precise decimal mode."})
	def(groupEvents, connect.ConfigKey{Name: cfgTombstones, Type: connect.ConfigBoolean, Default: "true", Importance: connect.Medium,
		Doc: "Follow each delete event with a record of the same key and a null value, so log compaction can drop the key entirely."})
	def(groupEvents, connect.ConfigKey{Name: cfgSkippedOps, Type: connect.ConfigList, Default: "t", Validator: skippedOpsValidator(), Importance: connect.Low,
		Doc: "Operations not to publish: any of c, u, d, t, or none to publish everything."})
	def(groupEvents, connect.ConfigKey{Name: cfgPlaceholder, Type: connect.ConfigString, Default: "__debezium_unavailable_value", Importance: connect.Low,
		Doc: "Value put in place of a TOASTed column that an update left unchanged, which PostgreSQL does not send unless the table has REPLICA IDENTITY FULL."})
	def(groupEvents, connect.ConfigKey{Name: cfgTxMetadata, Type: connect.ConfigBoolean, Default: "false", Importance: connect.Low,
		Doc: "Publish BEGIN and END markers of each transaction to the transaction topic and add a transaction block (id, total and per-table order) to every change event."})
	def(groupEvents, connect.ConfigKey{Name: cfgTopicTransaction, Type: connect.ConfigString, Default: "transaction", Importance: connect.Low,
		Doc: "Suffix of the transaction metadata topic, which is <topic.prefix>.<topic.transaction>."})
	def(groupEvents, connect.ConfigKey{Name: cfgIncludeUnknownType, Type: connect.ConfigBoolean, Default: "false", Importance: connect.Low,
		Doc: "Publish columns of types without a mapping as their text representation instead of leaving them out of the events."})
	def(groupEvents, connect.ConfigKey{Name: cfgExtendedHeaders, Type: connect.ConfigBoolean, Default: "true", Importance: connect.Low,
		Doc: "Add Debezium's context headers (__debezium.context.connectorLogicalName, taskId, connectorName and runId) to every change event and tombstone."})

	def(groupAdvanced, connect.ConfigKey{Name: cfgHeartbeatInterval, Type: connect.ConfigInt, Default: "0", Validator: connect.AtLeast(0), Importance: connect.Medium,
		Doc: "Milliseconds between heartbeat records (0 disables them). Heartbeats carry the current replication position, so the slot can release WAL even while the captured tables see no changes."})
	def(groupAdvanced, connect.ConfigKey{Name: cfgHeartbeatQuery, Type: connect.ConfigString, Importance: connect.Low,
		Doc: "Statement run at every heartbeat, typically an update of a small captured table, so that a database whose captured tables are idle still produces WAL the connector sees."})
	def(groupAdvanced, connect.ConfigKey{Name: cfgHeartbeatPrefix, Type: connect.ConfigString, Default: "__debezium-heartbeat", Importance: connect.Low,
		Doc: "Prefix of the heartbeat topic, which is <topic.heartbeat.prefix>.<topic.prefix>."})
	def(groupAdvanced, connect.ConfigKey{Name: cfgMaxBatchSize, Type: connect.ConfigInt, Default: "2048", Validator: connect.AtLeast(1), Importance: connect.Low,
		Doc: "Most records one poll returns."})
	def(groupAdvanced, connect.ConfigKey{Name: cfgMaxQueueSize, Type: connect.ConfigInt, Default: "8192", Validator: connect.AtLeast(1), Importance: connect.Low,
		Doc: "Most decoded records buffered between the replication stream and the runtime; reading pauses when it is full, which bounds memory."})
	def(groupAdvanced, connect.ConfigKey{Name: cfgPollInterval, Type: connect.ConfigLong, Default: "500", Validator: connect.AtLeast(1), Importance: connect.Low,
		Doc: "Longest time, in milliseconds, a poll waits for records before returning an empty batch."})
	return d
}

func topicPrefixValidator() connect.Validator {
	return connect.ValidatorFunc("non-empty, letters, digits, '.', '_' and '-'", func(name string, v any) error {
		s, _ := v.(string)
		if s == "" {
			return fmt.Errorf("Invalid value for configuration %s: String may not be empty", name)
		}
		for _, r := range s {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
				return fmt.Errorf("Invalid value %s for configuration %s: a topic prefix may contain only letters, digits, '.', '_' and '-'", s, name)
			}
		}
		return nil
	})
}

func slotNameValidator() connect.Validator {
	return connect.ValidatorFunc("lower-case letters, digits and '_'", func(name string, v any) error {
		s, _ := v.(string)
		if s == "" || len(s) > 63 {
			return fmt.Errorf("Invalid value %s for configuration %s: a slot name has 1 to 63 characters", s, name)
		}
		for _, r := range s {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
				return fmt.Errorf("Invalid value %s for configuration %s: PostgreSQL slot names may contain only lower-case letters, digits and underscores", s, name)
			}
		}
		return nil
	})
}

// config is the parsed connector configuration.
type config struct {
	host, user, dbname, sslmode string
	password                    string
	port                        int
	prefix                      string
	slot                        string
	dropSlotOnStop              bool
	publication                 string
	publicationMode             string
	filter                      *filter
	snapshotMode                string
	snapshotThreads             int
	snapshotFetchSize           int
	decimalMode                 string
	timePrecision               string
	intervalString              bool
	binaryMode                  string
	moneyDigits                 int
	tombstones                  bool
	heartbeatInterval           time.Duration
	heartbeatQuery              string
	heartbeatTopic              string
	txMetadata                  bool
	txTopic                     string
	skip                        [256]bool
	placeholder                 string
	maxBatch                    int
	maxQueue                    int
	pollInterval                time.Duration
	statusInterval              time.Duration
	maxRetries                  int
	retryDelay                  time.Duration
	includeUnknown              bool
	extendedHeaders             bool
}

func parseConfig(props map[string]string) (*config, error) {
	c, err := configDef.Parse(props)
	if err != nil {
		return nil, err
	}
	f, err := newFilter(c)
	if err != nil {
		return nil, err
	}
	cfg := &config{
		host: c.String(cfgHostname), port: c.Int(cfgPort), user: c.String(cfgUser), password: c.Password(cfgPassword).Value(),
		dbname: c.String(cfgDBName), sslmode: strings.ToLower(c.String(cfgSSLMode)), prefix: c.String(cfgTopicPrefix),
		slot: c.String(cfgSlotName), dropSlotOnStop: c.Bool(cfgSlotDropOnStop),
		publication: c.String(cfgPublicationName), publicationMode: strings.ToLower(c.String(cfgPublicationMode)),
		filter:       f,
		snapshotMode: strings.ToLower(c.String(cfgSnapshotMode)), snapshotThreads: c.Int(cfgSnapshotThreads), snapshotFetchSize: c.Int(cfgSnapshotFetchSize),
		decimalMode: strings.ToLower(c.String(cfgDecimalMode)), timePrecision: strings.ToLower(c.String(cfgTimePrecision)),
		intervalString: strings.EqualFold(c.String(cfgIntervalMode), "string"), binaryMode: strings.ToLower(c.String(cfgBinaryMode)),
		moneyDigits: c.Int(cfgMoneyDigits), tombstones: c.Bool(cfgTombstones),
		heartbeatInterval: c.Millis(cfgHeartbeatInterval), heartbeatQuery: c.String(cfgHeartbeatQuery),
		heartbeatTopic: c.String(cfgHeartbeatPrefix) + "." + c.String(cfgTopicPrefix),
		txMetadata:     c.Bool(cfgTxMetadata), txTopic: c.String(cfgTopicPrefix) + "." + c.String(cfgTopicTransaction),
		placeholder: c.String(cfgPlaceholder), maxBatch: c.Int(cfgMaxBatchSize), maxQueue: c.Int(cfgMaxQueueSize),
		pollInterval: c.Millis(cfgPollInterval), statusInterval: c.Millis(cfgStatusInterval),
		maxRetries: c.Int(cfgSlotMaxRetries), retryDelay: c.Millis(cfgSlotRetryDelay), includeUnknown: c.Bool(cfgIncludeUnknownType),
		extendedHeaders: c.Bool(cfgExtendedHeaders),
	}
	if cfg.snapshotMode == snapshotNever {
		cfg.snapshotMode = snapshotNoData
	}
	for _, op := range c.List(cfgSkippedOps) {
		if op = strings.ToLower(op); op != "none" && len(op) == 1 {
			cfg.skip[op[0]] = true
		}
	}
	return cfg, nil
}

// connString renders the libpq URL for a normal (replication=false) or logical replication connection.
func (c *config) connString(replication bool) string {
	u := url.URL{Scheme: "postgres", Host: net.JoinHostPort(c.host, strconv.Itoa(c.port)), Path: "/" + c.dbname}
	u.User = url.UserPassword(c.user, c.password)
	q := url.Values{}
	q.Set("sslmode", c.sslmode)
	q.Set("application_name", "kconnect-"+c.prefix)
	if replication {
		q.Set("replication", "database")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// filter decides which tables and columns are captured, with Debezium's semantics: every pattern is
// anchored and matched against schema, schema.table or schema.table.column.
type filter struct {
	schemaInc, schemaExc, tableInc, tableExc, colInc, colExc []*regexp.Regexp
}

func compileAll(key string, patterns []string) ([]*regexp.Regexp, error) {
	out := make([]*regexp.Regexp, 0, len(patterns))
	for _, p := range patterns {
		if p == "" {
			continue
		}
		re, err := regexp.Compile("^(?:" + p + ")$")
		if err != nil {
			return nil, &connect.FieldError{Name: key, Msg: fmt.Sprintf("Invalid value %s for configuration %s: %v", p, key, err)}
		}
		out = append(out, re)
	}
	return out, nil
}

func newFilter(c *connect.Config) (*filter, error) {
	f := &filter{}
	var errs []error
	for _, x := range []struct {
		key string
		dst *[]*regexp.Regexp
	}{
		{cfgSchemaInclude, &f.schemaInc}, {cfgSchemaExclude, &f.schemaExc}, {cfgTableInclude, &f.tableInc},
		{cfgTableExclude, &f.tableExc}, {cfgColumnInclude, &f.colInc}, {cfgColumnExclude, &f.colExc},
	} {
		res, err := compileAll(x.key, c.List(x.key))
		if err != nil {
			errs = append(errs, err)
		}
		*x.dst = res
	}
	for _, pair := range [][2]string{{cfgSchemaInclude, cfgSchemaExclude}, {cfgTableInclude, cfgTableExclude}, {cfgColumnInclude, cfgColumnExclude}} {
		if len(c.List(pair[0])) > 0 && len(c.List(pair[1])) > 0 {
			errs = append(errs, &connect.FieldError{Name: pair[1], Msg: fmt.Sprintf("%s and %s cannot both be set; use one of them", pair[0], pair[1])})
		}
	}
	if len(errs) > 0 {
		return nil, &connect.ConfigError{Errs: errs}
	}
	return f, nil
}

func matchAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// table reports whether the table schema.name is captured; PostgreSQL's own catalogs never are.
func (f *filter) table(schema, name string) bool {
	if schema == "pg_catalog" || schema == "information_schema" || strings.HasPrefix(schema, "pg_toast") {
		return false
	}
	if len(f.schemaInc) > 0 && !matchAny(f.schemaInc, schema) || matchAny(f.schemaExc, schema) {
		return false
	}
	full := schema + "." + name
	if len(f.tableInc) > 0 && !matchAny(f.tableInc, full) || matchAny(f.tableExc, full) {
		return false
	}
	return true
}

// column reports whether a column goes into the value schema.
func (f *filter) column(schema, table, col string) bool {
	full := schema + "." + table + "." + col
	if len(f.colInc) > 0 && !matchAny(f.colInc, full) {
		return false
	}
	return !matchAny(f.colExc, full)
}
