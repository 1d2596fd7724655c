package sink

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connectors/jdbc/jdbcurl"
)

// Configuration keys. Confluent's names come first; Debezium's JDBC sink spells several of them
// differently, and both spellings are accepted (see debeziumAliases).
const (
	keyConnectorClass = "connector.class"

	keyConnectionURL      = "connection.url"
	keyConnectionUser     = "connection.user"
	keyConnectionPassword = "connection.password"
	keyDialectName        = "dialect.name"
	keyConnectionAttempts = "connection.attempts"
	keyConnectionBackoff  = "connection.backoff.ms"

	keyInsertMode   = "insert.mode"
	keyBatchSize    = "batch.size"
	keyDeleteEnable = "delete.enabled"
	keyTableTypes   = "table.types"

	keyTableNameFormat = "table.name.format"
	keyPKMode          = "pk.mode"
	keyPKFields        = "pk.fields"
	keyFieldsWhitelist = "fields.whitelist"
	keyDBTimezone      = "db.timezone"

	keyAutoCreate     = "auto.create"
	keyAutoEvolve     = "auto.evolve"
	keyQuoteSQLIdents = "quote.sql.identifiers"

	keyMaxRetries   = "max.retries"
	keyRetryBackoff = "retry.backoff.ms"

	keyOffsetsEnabled = "kconnect.offsets.enabled"
	keyOffsetsTable   = "kconnect.offsets.table"

	// Debezium JDBC sink (io.debezium.connector.jdbc.JdbcSinkConnector) keys.
	keyDbzUsername         = "connection.username"
	keyDbzPKMode           = "primary.key.mode"
	keyDbzPKFields         = "primary.key.fields"
	keyDbzSchemaEvolution  = "schema.evolution"
	keyDbzCollectionFormat = "collection.name.format"
	keyDbzUseTimeZone      = "use.time.zone"
	keyDbzDatabaseTimeZone = "database.time_zone"
	keyDbzFlushMaxRetries  = "flush.max.retries"
	keyDbzFlushRetryDelay  = "flush.retry.delay.ms"
	keyDbzQuoteIdentifiers = "quote.identifiers"
	keyDbzTruncateEnabled  = "truncate.enabled"
	keyDbzFieldInclude     = "field.include.list"
	keyDbzFieldExclude     = "field.exclude.list"
	keyDbzCollectionNaming = "collection.naming.strategy"
	keyDbzColumnNaming     = "column.naming.strategy"
)

// Upstream class names.
const (
	confluentClass = "io.confluent.connect.jdbc.JdbcSinkConnector"
	debeziumClass  = "io.debezium.connector.jdbc.JdbcSinkConnector"

	dbzDefaultCollectionNaming  = "io.debezium.connector.jdbc.naming.DefaultTableNamingStrategy"
	dbzDefaultCollectionNaming2 = "io.debezium.sink.naming.DefaultCollectionNamingStrategy"
	dbzDefaultColumnNaming      = "io.debezium.connector.jdbc.naming.DefaultColumnNamingStrategy"
)

// Names of the Kafka-coordinate primary key columns used with pk.mode=kafka, as upstream.
var defaultKafkaPKNames = []string{"__connect_topic", "__connect_partition", "__connect_offset"}

const (
	groupConnection = "Connection"
	groupWrites     = "Writes"
	groupMapping    = "Data Mapping"
	groupDDL        = "DDL Support"
	groupRetries    = "Retries"
	groupExactly    = "Exactly Once"
	groupDebezium   = "Debezium Compatibility"
)

func configDef() *connect.ConfigDef {
	d := connect.NewConfigDef()
	def := func(k connect.ConfigKey) { d.Define(k) }

	def(connect.ConfigKey{Name: keyConnectionURL, Type: connect.ConfigString, Required: true, Importance: connect.High,
		Group: groupConnection, OrderInGroup: 1, Width: connect.WidthLong, DisplayName: "JDBC URL",
		Doc: "Where to write: a JDBC URL (jdbc:postgresql://host:5432/db, jdbc:mysql://host:3306/db, jdbc:mariadb://…), " +
			"a postgres:// URL or a go-sql-driver MySQL DSN."})
	def(connect.ConfigKey{Name: keyConnectionUser, Type: connect.ConfigString, Importance: connect.High,
		Group: groupConnection, OrderInGroup: 2, Width: connect.WidthMedium, DisplayName: "JDBC User",
		Doc: "Database user; overrides a user given in the URL."})
	def(connect.ConfigKey{Name: keyConnectionPassword, Type: connect.ConfigPassword, Importance: connect.High,
		Group: groupConnection, OrderInGroup: 3, Width: connect.WidthMedium, DisplayName: "JDBC Password",
		Doc: "Database password; overrides a password given in the URL."})
	def(connect.ConfigKey{Name: keyDialectName, Type: connect.ConfigString, Default: "", Importance: connect.Low,
		Validator: connect.OneOf("", dialectNamePostgres, dialectNameMySQL),
		Group:     groupConnection, OrderInGroup: 4, Width: connect.WidthLong, DisplayName: "Database Dialect",
		Doc: "Forces the SQL dialect; empty picks it from connection.url. Must agree with the URL."})
	def(connect.ConfigKey{Name: keyConnectionAttempts, Type: connect.ConfigInt, Default: "3", Importance: connect.Low,
		Validator: connect.AtLeast(1), Group: groupConnection, OrderInGroup: 5, Width: connect.WidthShort,
		DisplayName: "JDBC connection attempts",
		Doc:         "How many times to try opening a database connection before giving up."})
	def(connect.ConfigKey{Name: keyConnectionBackoff, Type: connect.ConfigLong, Default: "10000", Importance: connect.Low,
		Validator: connect.AtLeast(0), Group: groupConnection, OrderInGroup: 6, Width: connect.WidthShort,
		DisplayName: "JDBC connection backoff (millis)",
		Doc:         "Pause between connection attempts, in milliseconds."})

	def(connect.ConfigKey{Name: keyInsertMode, Type: connect.ConfigString, Default: "insert", Importance: connect.High,
		Validator: connect.OneOf("insert", "upsert", "update"), Group: groupWrites, OrderInGroup: 1,
		Width: connect.WidthMedium, DisplayName: "Insert Mode",
		Doc: "How rows are written. insert: plain INSERT, a row that already exists is an error. upsert: insert or " +
			"replace by primary key (INSERT … ON CONFLICT on PostgreSQL, INSERT … ON DUPLICATE KEY UPDATE on MySQL). " +
			"update: UPDATE rows matched by primary key, ignoring records whose row does not exist."})
	def(connect.ConfigKey{Name: keyBatchSize, Type: connect.ConfigInt, Default: "3000", Importance: connect.Medium,
		Validator: connect.AtLeast(0), Group: groupWrites, OrderInGroup: 2, Width: connect.WidthShort,
		DisplayName: "Batch Size",
		Doc: "MySQL: the most rows sent in one multi-row statement (0: only max_allowed_packet limits it). " +
			"PostgreSQL streams a table's rows in one COPY, or pipelines one statement per row for short runs, so " +
			"this does not limit it. Either way each Put is written in one transaction."})
	def(connect.ConfigKey{Name: keyDeleteEnable, Type: connect.ConfigBoolean, Default: "false", Importance: connect.Medium,
		Group: groupWrites, OrderInGroup: 3, Width: connect.WidthShort, DisplayName: "Enable deletes",
		Doc: "Delete the row whose key is a record's key when the record's value is null (a tombstone) or a " +
			"Debezium delete event. Needs pk.mode=record_key. When false such records are skipped."})
	def(connect.ConfigKey{Name: keyTableTypes, Type: connect.ConfigList, Default: "TABLE", Importance: connect.Low,
		Validator: connect.OneOf("TABLE", "VIEW", "PARTITIONED_TABLE"), Group: groupWrites, OrderInGroup: 4,
		Width: connect.WidthMedium, DisplayName: "Table Types",
		Doc: "Kinds of relations the sink may write into: any of TABLE, PARTITIONED_TABLE and VIEW. Writing to " +
			"another kind fails with an error naming it."})

	def(connect.ConfigKey{Name: keyTableNameFormat, Type: connect.ConfigString, Default: "${topic}", Importance: connect.Medium,
		Validator: connect.NonEmptyString(), Group: groupMapping, OrderInGroup: 1, Width: connect.WidthLong,
		DisplayName: "Table Name Format",
		Doc: "Destination table for a record, where ${topic} stands for the record's topic (kafka_${topic} writes " +
			"topic orders to table kafka_orders). Dots separate schema (PostgreSQL) or database (MySQL) from the " +
			"table. For Debezium configs the dots of the topic become underscores, and ${source.db}, " +
			"${source.schema} and ${source.table} take values from a change event's source block."})
	def(connect.ConfigKey{Name: keyPKMode, Type: connect.ConfigString, Default: "none", Importance: connect.High,
		Validator: connect.OneOf("none", "kafka", "record_key", "record_value"), Group: groupMapping, OrderInGroup: 2,
		Width: connect.WidthMedium, DisplayName: "Primary Key Mode",
		Doc: "Where the primary key comes from. none: no key. kafka: the record's topic, partition and offset. " +
			"record_key: the record key, a struct or a primitive. record_value: fields of the record value. " +
			"See pk.fields."})
	def(connect.ConfigKey{Name: keyPKFields, Type: connect.ConfigList, Default: "", Importance: connect.Medium,
		Group: groupMapping, OrderInGroup: 3, Width: connect.WidthLong, DisplayName: "Primary Key Fields",
		Doc: "Primary key column names, read according to pk.mode. kafka: empty for __connect_topic, " +
			"__connect_partition, __connect_offset, or exactly three names to use instead. record_key: empty for " +
			"every field of a struct key, or a subset; a primitive key needs exactly one name, its column. " +
			"record_value: empty for every value field, or a subset."})
	def(connect.ConfigKey{Name: keyFieldsWhitelist, Type: connect.ConfigList, Default: "", Importance: connect.Medium,
		Group: groupMapping, OrderInGroup: 4, Width: connect.WidthLong, DisplayName: "Fields Whitelist",
		Doc: "Value fields to write as non-key columns; empty writes them all. Key columns are chosen by pk.fields " +
			"regardless."})
	def(connect.ConfigKey{Name: keyDBTimezone, Type: connect.ConfigString, Default: "UTC", Importance: connect.Medium,
		Validator: connect.ValidatorFunc("time zone id", validateZone), Group: groupMapping, OrderInGroup: 5,
		Width: connect.WidthMedium, DisplayName: "DB Time Zone",
		Doc: "Time zone whose wall-clock time is written into columns without a time zone (PostgreSQL TIMESTAMP, " +
			"MySQL DATETIME): an IANA name such as Europe/Helsinki, UTC, Z, or an offset such as +02:00 or UTC+2."})

	def(connect.ConfigKey{Name: keyAutoCreate, Type: connect.ConfigBoolean, Default: "false", Importance: connect.Medium,
		Group: groupDDL, OrderInGroup: 1, Width: connect.WidthShort, DisplayName: "Auto-Create",
		Doc: "Create a missing destination table from the record schema, with the primary key chosen by pk.mode " +
			"(column types per dialect are listed in the package documentation)."})
	def(connect.ConfigKey{Name: keyAutoEvolve, Type: connect.ConfigBoolean, Default: "false", Importance: connect.Medium,
		Group: groupDDL, OrderInGroup: 2, Width: connect.WidthShort, DisplayName: "Auto-Evolve",
		Doc: "Add a nullable column for each record field the table lacks. Columns are never dropped or changed. " +
			"Without it, a missing column fails the task with the table and column named."})
	def(connect.ConfigKey{Name: keyQuoteSQLIdents, Type: connect.ConfigString, Default: "always", Importance: connect.Medium,
		Validator: connect.OneOf("always", "never"), Group: groupDDL, OrderInGroup: 3, Width: connect.WidthMedium,
		DisplayName: "Quote Identifiers",
		Doc: "always: table and column names keep their case. never: names are folded the way the database folds " +
			"unquoted names (lower case on PostgreSQL). The SQL the sink sends quotes identifiers either way."})

	def(connect.ConfigKey{Name: keyMaxRetries, Type: connect.ConfigInt, Default: "10", Importance: connect.Medium,
		Validator: connect.AtLeast(0), Group: groupRetries, OrderInGroup: 1, Width: connect.WidthShort,
		DisplayName: "Maximum Retries",
		Doc: "How many times a batch is retried after a transient database failure (lost connection, deadlock, " +
			"serialization failure) before the task fails. Each attempt reconnects and rewrites the whole batch."})
	def(connect.ConfigKey{Name: keyRetryBackoff, Type: connect.ConfigInt, Default: "3000", Importance: connect.Medium,
		Validator: connect.AtLeast(0), Group: groupRetries, OrderInGroup: 2, Width: connect.WidthShort,
		DisplayName: "Retry Backoff (millis)",
		Doc:         "Pause before each retry, in milliseconds."})

	def(connect.ConfigKey{Name: keyOffsetsEnabled, Type: connect.ConfigBoolean, Default: "true", Importance: connect.Medium,
		Group: groupExactly, OrderInGroup: 1, Width: connect.WidthShort, DisplayName: "Exactly-once offsets table",
		Doc: "Store the Kafka offsets each batch covers in the destination database, in the same transaction as " +
			"the rows, and resume from them: a crash then neither loses nor duplicates rows. false gives " +
			"upstream's at-least-once behaviour and needs no offsets table."})
	def(connect.ConfigKey{Name: keyOffsetsTable, Type: connect.ConfigString, Default: "kconnect_offsets", Importance: connect.Low,
		Validator: connect.NonEmptyString(), Group: groupExactly, OrderInGroup: 2, Width: connect.WidthMedium,
		DisplayName: "Offsets table",
		Doc: "Name of the offsets table, optionally schema- (PostgreSQL) or database- (MySQL) qualified; created " +
			"when missing. One row per connector, topic and partition."})

	// Debezium's spellings. They have no default so that an unset key defers to its Confluent twin.
	def(connect.ConfigKey{Name: keyDbzUsername, Type: connect.ConfigString, Importance: connect.High,
		Group: groupDebezium, OrderInGroup: 1, Width: connect.WidthShort, DisplayName: "User (Debezium)",
		Doc: "Debezium's name for connection.user."})
	def(connect.ConfigKey{Name: keyDbzPKMode, Type: connect.ConfigString, Importance: connect.High,
		Validator: connect.OneOf("none", "kafka", "record_key", "record_value"), Group: groupDebezium, OrderInGroup: 2,
		Width: connect.WidthShort, DisplayName: "Primary key mode (Debezium)",
		Doc: "Debezium's name for pk.mode."})
	def(connect.ConfigKey{Name: keyDbzPKFields, Type: connect.ConfigList, Importance: connect.Low,
		Group: groupDebezium, OrderInGroup: 3, Width: connect.WidthMedium, DisplayName: "Primary key fields (Debezium)",
		Doc: "Debezium's name for pk.fields."})
	def(connect.ConfigKey{Name: keyDbzSchemaEvolution, Type: connect.ConfigString, Importance: connect.Low,
		Validator: connect.OneOf("none", "basic"), Group: groupDebezium, OrderInGroup: 4, Width: connect.WidthShort,
		DisplayName: "Schema evolution (Debezium)",
		Doc:         "basic turns on both auto.create and auto.evolve; none leaves them as configured."})
	def(connect.ConfigKey{Name: keyDbzCollectionFormat, Type: connect.ConfigString, Importance: connect.Medium,
		Group: groupDebezium, OrderInGroup: 5, Width: connect.WidthMedium, DisplayName: "Collection name format (Debezium)",
		Doc: "Debezium's name for table.name.format."})
	def(connect.ConfigKey{Name: keyDbzUseTimeZone, Type: connect.ConfigString, Importance: connect.Medium,
		Validator: connect.ValidatorFunc("time zone id", validateZone), Group: groupDebezium, OrderInGroup: 6,
		Width: connect.WidthShort, DisplayName: "Time zone (Debezium)",
		Doc: "Debezium's name for db.timezone."})
	def(connect.ConfigKey{Name: keyDbzDatabaseTimeZone, Type: connect.ConfigString, Importance: connect.Low,
		Validator: connect.ValidatorFunc("time zone id", validateZone), Group: groupDebezium, OrderInGroup: 7,
		Width: connect.WidthShort, DisplayName: "Time zone (Debezium, deprecated)",
		Doc: "Older Debezium name for db.timezone."})
	def(connect.ConfigKey{Name: keyDbzFlushMaxRetries, Type: connect.ConfigInt, Importance: connect.Low,
		Validator: connect.AtLeast(0), Group: groupDebezium, OrderInGroup: 8, Width: connect.WidthShort,
		DisplayName: "Max retry count (Debezium)",
		Doc:         "Debezium's name for max.retries; Debezium configs default to 5."})
	def(connect.ConfigKey{Name: keyDbzFlushRetryDelay, Type: connect.ConfigLong, Importance: connect.Low,
		Validator: connect.AtLeast(0), Group: groupDebezium, OrderInGroup: 9, Width: connect.WidthShort,
		DisplayName: "Delay to retry flush (Debezium)",
		Doc:         "Debezium's name for retry.backoff.ms; Debezium configs default to 1000."})
	def(connect.ConfigKey{Name: keyDbzQuoteIdentifiers, Type: connect.ConfigBoolean, Importance: connect.Low,
		Group: groupDebezium, OrderInGroup: 10, Width: connect.WidthShort, DisplayName: "Quote identifiers (Debezium)",
		Doc: "Debezium's form of quote.sql.identifiers: true is always, false is never. Debezium configs default to false."})
	def(connect.ConfigKey{Name: keyDbzTruncateEnabled, Type: connect.ConfigBoolean, Default: "false", Importance: connect.Low,
		Group: groupDebezium, OrderInGroup: 11, Width: connect.WidthShort, DisplayName: "Enable truncates",
		Doc: "Empty the destination table when a Debezium truncate event (op t) arrives; when false they are skipped."})
	def(connect.ConfigKey{Name: keyDbzFieldInclude, Type: connect.ConfigList, Importance: connect.Medium,
		Validator: connect.ValidatorFunc("list of regular expressions", validateRegexList), Group: groupDebezium,
		OrderInGroup: 12, Width: connect.WidthLong, DisplayName: "Include Fields (Debezium)",
		Doc: "Regular expressions matched against topic:field; only matching non-key value fields are written."})
	def(connect.ConfigKey{Name: keyDbzFieldExclude, Type: connect.ConfigList, Importance: connect.Medium,
		Validator: connect.ValidatorFunc("list of regular expressions", validateRegexList), Group: groupDebezium,
		OrderInGroup: 13, Width: connect.WidthLong, DisplayName: "Exclude Fields (Debezium)",
		Doc: "Regular expressions matched against topic:field; matching non-key value fields are not written."})
	def(connect.ConfigKey{Name: keyDbzCollectionNaming, Type: connect.ConfigClass, Importance: connect.Low,
		Validator: connect.OneOf(dbzDefaultCollectionNaming, dbzDefaultCollectionNaming2), Group: groupDebezium,
		OrderInGroup: 14, Width: connect.WidthLong, DisplayName: "Collection naming strategy (Debezium)",
		Doc: "Only Debezium's default strategy is available: topic dots become underscores."})
	def(connect.ConfigKey{Name: keyDbzColumnNaming, Type: connect.ConfigClass, Importance: connect.Low,
		Validator: connect.OneOf(dbzDefaultColumnNaming), Group: groupDebezium, OrderInGroup: 15,
		Width: connect.WidthLong, DisplayName: "Column naming strategy (Debezium)",
		Doc: "Only Debezium's default strategy is available: columns are named after fields."})
	return d
}

func validateZone(name string, v any) error {
	s, _ := v.(string)
	if s == "" {
		return nil
	}
	if _, err := parseZone(s); err != nil {
		return &connect.FieldError{Name: name, Msg: fmt.Sprintf("Invalid value %s for configuration %s: %v", s, name, err)}
	}
	return nil
}

func validateRegexList(name string, v any) error {
	list, _ := v.([]string)
	for _, p := range list {
		if _, err := regexp.Compile(p); err != nil {
			return &connect.FieldError{Name: name, Msg: fmt.Sprintf("Invalid value %s for configuration %s: %v", p, name, err)}
		}
	}
	return nil
}

// parseZone accepts what Java's ZoneId.of accepts in practice: IANA names, Z, UTC/GMT, and fixed
// offsets with or without a UTC/GMT prefix.
func parseZone(s string) (*time.Location, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "Z", "UTC", "GMT", "UT":
		return time.UTC, nil
	}
	off := s
	for _, p := range []string{"UTC", "GMT", "UT"} {
		if strings.HasPrefix(off, p) && len(off) > len(p) && (off[len(p)] == '+' || off[len(p)] == '-') {
			off = off[len(p):]
			break
		}
	}
	if off != "" && (off[0] == '+' || off[0] == '-') {
		secs, err := parseOffset(off)
		if err != nil {
			return nil, fmt.Errorf("invalid time zone offset %q", s)
		}
		return time.FixedZone(s, secs), nil
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q", s)
	}
	return loc, nil
}

// parseOffset parses +h, +hh, +hh:mm, +hhmm and +hh:mm:ss into seconds east of UTC.
func parseOffset(s string) (int, error) {
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	parts := strings.Split(s[1:], ":")
	if len(parts) == 1 && len(parts[0]) == 4 {
		parts = []string{parts[0][:2], parts[0][2:]}
	}
	if len(parts) > 3 || parts[0] == "" || len(parts[0]) > 2 {
		return 0, fmt.Errorf("bad offset")
	}
	limits := []int{18, 59, 59}
	mult := []int{3600, 60, 1}
	total := 0
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > limits[i] || (i > 0 && len(p) != 2) {
			return 0, fmt.Errorf("bad offset")
		}
		total += n * mult[i]
	}
	return sign * total, nil
}

type insertMode int

const (
	modeInsert insertMode = iota
	modeUpsert
	modeUpdate
)

func (m insertMode) String() string { return [...]string{"insert", "upsert", "update"}[m] }

type pkMode int

const (
	pkNone pkMode = iota
	pkKafka
	pkRecordKey
	pkRecordValue
)

func (m pkMode) String() string { return [...]string{"none", "kafka", "record_key", "record_value"}[m] }

func parsePKMode(s string) pkMode {
	switch strings.ToLower(s) {
	case "kafka":
		return pkKafka
	case "record_key":
		return pkRecordKey
	case "record_value":
		return pkRecordValue
	}
	return pkNone
}

// config is the parsed and cross-checked connector configuration.
type config struct {
	debezium bool // configured as io.debezium.connector.jdbc.JdbcSinkConnector

	conn               jdbcurl.Conn
	connectionAttempts int
	connectionBackoff  time.Duration

	insertMode      insertMode
	batchSize       int
	deleteEnabled   bool
	truncateEnabled bool
	tableTypes      map[string]bool

	tableNameFormat string
	// sourcePlaceholders is set when tableNameFormat refers to a Debezium source block, so the
	// table depends on each record rather than on its topic alone.
	sourcePlaceholders bool
	pkMode             pkMode
	pkFields           []string
	fieldsWhitelist    map[string]bool
	fieldInclude       []*regexp.Regexp
	fieldExclude       []*regexp.Regexp
	zone               *time.Location

	autoCreate  bool
	autoEvolve  bool
	quoteIdents bool

	maxRetries   int
	retryBackoff time.Duration

	offsetsEnabled bool
	offsetsTable   string
}

// parseConfig parses props and checks the rules that span several keys, returning every problem
// as a *connect.ConfigError of FieldErrors.
func parseConfig(props map[string]string) (*config, error) {
	pc, err := configDef().Parse(props)
	if err != nil {
		return nil, err
	}
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &connect.FieldError{Name: key, Msg: fmt.Sprintf(format, args...)})
	}
	c := &config{debezium: strings.TrimSpace(props[keyConnectorClass]) == debeziumClass}

	// twin returns the value of a Confluent key or its Debezium spelling, rejecting a config that
	// sets both to different values.
	twin := func(confluent, debezium string, same func(a, b string) bool) (string, string) {
		cv, dv := props[confluent], props[debezium]
		if pc.IsSet(confluent) && pc.IsSet(debezium) {
			if !same(strings.TrimSpace(cv), strings.TrimSpace(dv)) {
				bad(debezium, "%s=%s conflicts with %s=%s; set only one of them", debezium, dv, confluent, cv)
			}
			return confluent, cv
		}
		if pc.IsSet(debezium) {
			return debezium, dv
		}
		return confluent, cv
	}
	exact := func(a, b string) bool { return a == b }
	fold := strings.EqualFold
	listEq := func(a, b string) bool { return strings.Join(splitList(a), ",") == strings.Join(splitList(b), ",") }

	user := pc.String(keyConnectionUser)
	if k, v := twin(keyConnectionUser, keyDbzUsername, exact); k == keyDbzUsername {
		user = strings.TrimSpace(v)
	}
	conn, cerr := jdbcurl.Parse(pc.String(keyConnectionURL), user, pc.Password(keyConnectionPassword).Value())
	if cerr != nil {
		bad(keyConnectionURL, "%v", cerr)
	}
	c.conn = conn
	if dn := pc.String(keyDialectName); dn != "" && cerr == nil && dialectNameFor(conn.Dialect) != dn {
		bad(keyDialectName, "%s=%s does not match connection.url, which is a %s URL", keyDialectName, dn, conn.Dialect)
	}
	c.connectionAttempts = pc.Int(keyConnectionAttempts)
	c.connectionBackoff = pc.Millis(keyConnectionBackoff)

	switch strings.ToLower(pc.String(keyInsertMode)) {
	case "upsert":
		c.insertMode = modeUpsert
	case "update":
		c.insertMode = modeUpdate
	default:
		c.insertMode = modeInsert
	}
	c.batchSize = pc.Int(keyBatchSize)
	if c.debezium && !pc.IsSet(keyBatchSize) {
		c.batchSize = 500
	}
	c.deleteEnabled = pc.Bool(keyDeleteEnable)
	c.truncateEnabled = pc.Bool(keyDbzTruncateEnabled)
	c.tableTypes = map[string]bool{}
	for _, t := range pc.List(keyTableTypes) {
		c.tableTypes[strings.ToUpper(t)] = true
	}

	c.tableNameFormat = pc.String(keyTableNameFormat)
	if k, v := twin(keyTableNameFormat, keyDbzCollectionFormat, exact); k == keyDbzCollectionFormat {
		c.tableNameFormat = strings.TrimSpace(v)
		if c.tableNameFormat == "" {
			bad(keyDbzCollectionFormat, "Invalid value for configuration %s: String may not be empty", keyDbzCollectionFormat)
		}
	}
	c.sourcePlaceholders = strings.Contains(c.tableNameFormat, "${source.")
	pkKey, pkRaw := twin(keyPKMode, keyDbzPKMode, fold)
	if pkKey == keyPKMode {
		pkRaw = pc.String(keyPKMode)
	}
	c.pkMode = parsePKMode(pkRaw)
	pkFieldsKey, _ := twin(keyPKFields, keyDbzPKFields, listEq)
	c.pkFields = pc.List(pkFieldsKey)
	c.fieldsWhitelist = map[string]bool{}
	for _, f := range pc.List(keyFieldsWhitelist) {
		c.fieldsWhitelist[f] = true
	}
	for _, p := range pc.List(keyDbzFieldInclude) {
		c.fieldInclude = append(c.fieldInclude, regexp.MustCompile("^(?:"+p+")$"))
	}
	for _, p := range pc.List(keyDbzFieldExclude) {
		c.fieldExclude = append(c.fieldExclude, regexp.MustCompile("^(?:"+p+")$"))
	}
	if len(c.fieldInclude) > 0 && len(c.fieldExclude) > 0 {
		bad(keyDbzFieldExclude, "%s and %s cannot both be set", keyDbzFieldInclude, keyDbzFieldExclude)
	}

	zoneKey := keyDBTimezone
	if k, _ := twin(keyDBTimezone, keyDbzUseTimeZone, exact); k == keyDbzUseTimeZone {
		zoneKey = keyDbzUseTimeZone
	} else if !pc.IsSet(keyDBTimezone) && pc.IsSet(keyDbzDatabaseTimeZone) {
		zoneKey = keyDbzDatabaseTimeZone
	}
	c.zone, _ = parseZone(pc.String(zoneKey)) // the validator already vetted it

	c.autoCreate = pc.Bool(keyAutoCreate)
	c.autoEvolve = pc.Bool(keyAutoEvolve)
	if strings.EqualFold(pc.String(keyDbzSchemaEvolution), "basic") {
		c.autoCreate, c.autoEvolve = true, true
	}
	c.quoteIdents = strings.EqualFold(pc.String(keyQuoteSQLIdents), "always")
	switch {
	case pc.IsSet(keyDbzQuoteIdentifiers):
		q := pc.Bool(keyDbzQuoteIdentifiers)
		if pc.IsSet(keyQuoteSQLIdents) && q != c.quoteIdents {
			bad(keyDbzQuoteIdentifiers, "%s=%v conflicts with %s=%s; set only one of them",
				keyDbzQuoteIdentifiers, q, keyQuoteSQLIdents, pc.String(keyQuoteSQLIdents))
		}
		c.quoteIdents = q
	case c.debezium && !pc.IsSet(keyQuoteSQLIdents):
		c.quoteIdents = false
	}

	c.maxRetries = pc.Int(keyMaxRetries)
	if k, _ := twin(keyMaxRetries, keyDbzFlushMaxRetries, exact); k == keyDbzFlushMaxRetries {
		c.maxRetries = pc.Int(keyDbzFlushMaxRetries)
	} else if c.debezium && !pc.IsSet(keyMaxRetries) {
		c.maxRetries = 5
	}
	c.retryBackoff = pc.Millis(keyRetryBackoff)
	if k, _ := twin(keyRetryBackoff, keyDbzFlushRetryDelay, exact); k == keyDbzFlushRetryDelay {
		c.retryBackoff = pc.Millis(keyDbzFlushRetryDelay)
	} else if c.debezium && !pc.IsSet(keyRetryBackoff) {
		c.retryBackoff = time.Second
	}

	c.offsetsEnabled = pc.Bool(keyOffsetsEnabled)
	c.offsetsTable = pc.String(keyOffsetsTable)
	if parts := strings.Split(c.offsetsTable, "."); len(parts) > 2 || slicesContainEmpty(parts) {
		bad(keyOffsetsTable, "Invalid value %s for configuration %s: expected table or schema.table", c.offsetsTable, keyOffsetsTable)
	}

	// Rules that involve several keys, as upstream's JdbcSinkConfig and Debezium's validators.
	if c.deleteEnabled && c.pkMode != pkRecordKey {
		bad(keyDeleteEnable, "Primary key mode must be 'record_key' when delete support is enabled (%s=%s)", pkKey, c.pkMode)
	}
	if c.insertMode != modeInsert && c.pkMode == pkNone {
		bad(keyInsertMode, "%s=%s needs a primary key to match rows on, but %s=none; set %s to kafka, record_key or record_value",
			keyInsertMode, c.insertMode, pkKey, pkKey)
	}
	if c.pkMode == pkKafka && len(c.pkFields) != 0 && len(c.pkFields) != 3 {
		bad(pkFieldsKey, "%s=kafka needs either no field names (for %s) or exactly three, got %d: %s",
			pkKey, strings.Join(defaultKafkaPKNames, ","), len(c.pkFields), strings.Join(c.pkFields, ","))
	}
	if len(errs) > 0 {
		return nil, &connect.ConfigError{Errs: errs}
	}
	return c, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func slicesContainEmpty(parts []string) bool {
	for _, p := range parts {
		if strings.TrimSpace(p) == "" {
			return true
		}
	}
	return false
}

// keepField reports whether a non-key value field is written, per fields.whitelist and
// Debezium's field.include.list / field.exclude.list (matched against topic:field).
func (c *config) keepField(topic, field string) bool {
	if len(c.fieldsWhitelist) > 0 && !c.fieldsWhitelist[field] {
		return false
	}
	if len(c.fieldInclude) == 0 && len(c.fieldExclude) == 0 {
		return true
	}
	qualified := topic + ":" + field
	if len(c.fieldInclude) > 0 {
		for _, re := range c.fieldInclude {
			if re.MatchString(qualified) {
				return true
			}
		}
		return false
	}
	for _, re := range c.fieldExclude {
		if re.MatchString(qualified) {
			return false
		}
	}
	return true
}
