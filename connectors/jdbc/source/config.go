package source

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/kconnect/kconnect/connect"
)

// Configuration keys, named as in Confluent's JdbcSourceConnectorConfig.
const (
	keyConnectionURL         = "connection.url"
	keyConnectionUser        = "connection.user"
	keyConnectionPassword    = "connection.password"
	keyCredentialsProvider   = "jdbc.credentials.provider.class"
	keyConnectionAttempts    = "connection.attempts"
	keyConnectionBackoff     = "connection.backoff.ms"
	keyTableWhitelist        = "table.whitelist"
	keyTableBlacklist        = "table.blacklist"
	keyTableIncludeList      = "table.include.list"
	keyTableExcludeList      = "table.exclude.list"
	keyCatalogPattern        = "catalog.pattern"
	keySchemaPattern         = "schema.pattern"
	keyNumericPrecisionMap   = "numeric.precision.mapping"
	keyNumericMapping        = "numeric.mapping"
	keyDialectName           = "dialect.name"
	keyDateCalendarSystem    = "date.calendar.system"
	keyMode                  = "mode"
	keyIncrementingColumn    = "incrementing.column.name"
	keyTimestampColumn       = "timestamp.column.name"
	keyTimestampColumnsMap   = "timestamp.columns.mapping"
	keyIncrementingColumnMap = "incrementing.column.mapping"
	keyTimestampInitial      = "timestamp.initial"
	keyValidateNonNull       = "validate.non.null"
	keyQuery                 = "query"
	keyQueryMasked           = "query.masked"
	keyQuoteIdentifiers      = "quote.sql.identifiers"
	keyQuerySuffix           = "query.suffix"
	keyIsolationMode         = "transaction.isolation.mode"
	keyQueryRetryAttempts    = "query.retry.attempts"
	keyTableTypes            = "table.types"
	keyPollInterval          = "poll.interval.ms"
	keyBatchMaxRows          = "batch.max.rows"
	keyMaxBufferSize         = "max.buffer.size"
	keyPollLinger            = "poll.linger.ms"
	keyTablePollInterval     = "table.poll.interval.ms"
	keyTopicPrefix           = "topic.prefix"
	keyTimestampDelay        = "timestamp.delay.interval.ms"
	keyDBTimezone            = "db.timezone"
	keyTimestampGranularity  = "timestamp.granularity"

	// Task-only keys, set by the connector in TaskConfigs.
	keyTables        = "tables"
	keyTablesFetched = "tables.fetched"
)

// Modes of the mode key.
const (
	modeBulk                  = "bulk"
	modeIncrementing          = "incrementing"
	modeTimestamp             = "timestamp"
	modeTimestampIncrementing = "timestamp+incrementing"
)

// Values of numeric.mapping.
const (
	numericNone               = "none"
	numericPrecisionOnly      = "precision_only"
	numericBestFit            = "best_fit"
	numericBestFitEagerDouble = "best_fit_eager_double"
)

// Values of timestamp.granularity.
const (
	granConnectLogical  = "connect_logical"
	granMicrosLong      = "micros_long"
	granMicrosString    = "micros_string"
	granMicrosISOString = "micros_iso_datetime_string"
	granNanosLong       = "nanos_long"
	granNanosString     = "nanos_string"
	granNanosISOString  = "nanos_iso_datetime_string"
)

// Dialect names accepted by dialect.name, as upstream's dialect class names.
const (
	dialectPostgres = "PostgreSqlDatabaseDialect"
	dialectMySQL    = "MySqlDatabaseDialect"
)

const defaultCredentialsProvider = "io.confluent.connect.jdbc.util.DefaultJdbcCredentialsProvider"

// Configuration groups, as upstream.
const (
	groupDatabase  = "Database"
	groupMode      = "Mode"
	groupConnector = "Connector"
)

var topicPrefixInvalid = regexp.MustCompile(`[^a-zA-Z0-9._-]`)

// configDef declares every key of Confluent's JDBC source connector with its upstream default.
func configDef() *connect.ConfigDef {
	d := connect.NewConfigDef()
	order := 0
	next := func() int { order++; return order }

	d.Define(connect.ConfigKey{Name: keyConnectionURL, Type: connect.ConfigString, Default: "",
		Validator: connect.NonEmptyString(), Importance: connect.High, Group: groupDatabase, OrderInGroup: next(),
		Width: connect.WidthLong, DisplayName: "JDBC URL", Dependents: []string{keyTableWhitelist, keyTableBlacklist},
		Doc: "Where the database is. Either a JDBC URL (jdbc:postgresql://host:5432/db, jdbc:mysql://host:3306/db, " +
			"jdbc:mariadb://host/db) or a native DSN (postgres://user:pass@host/db, user:pass@tcp(host:3306)/db)."})
	d.Define(connect.ConfigKey{Name: keyConnectionUser, Type: connect.ConfigString, Importance: connect.High,
		Group: groupDatabase, OrderInGroup: next(), Width: connect.WidthLong, DisplayName: "JDBC User",
		Doc: "Database user; overrides a user given in the URL."})
	d.Define(connect.ConfigKey{Name: keyConnectionPassword, Type: connect.ConfigPassword, Importance: connect.High,
		Group: groupDatabase, OrderInGroup: next(), Width: connect.WidthShort, DisplayName: "JDBC Password",
		Doc: "Password of connection.user; overrides a password given in the URL."})
	d.Define(connect.ConfigKey{Name: keyCredentialsProvider, Type: connect.ConfigClass, Default: defaultCredentialsProvider,
		Validator: oneOfExact(defaultCredentialsProvider), Importance: connect.Low, Group: groupDatabase,
		OrderInGroup: next(), Width: connect.WidthLong, DisplayName: "JDBC Credentials Provider Class",
		Doc: "Where credentials come from. Only the default provider, which uses connection.user and " +
			"connection.password, is available."})
	d.Define(connect.ConfigKey{Name: keyConnectionAttempts, Type: connect.ConfigInt, Default: "3",
		Validator: connect.AtLeast(1), Importance: connect.Low, Group: groupDatabase, OrderInGroup: next(),
		Width: connect.WidthShort, DisplayName: "JDBC connection attempts",
		Doc: "How many times to try connecting before the connector or a task gives up at start."})
	d.Define(connect.ConfigKey{Name: keyConnectionBackoff, Type: connect.ConfigLong, Default: "10000",
		Validator: connect.AtLeast(0), Importance: connect.Low, Group: groupDatabase, OrderInGroup: next(),
		Width: connect.WidthShort, DisplayName: "JDBC connection backoff in milliseconds",
		Doc: "The longest pause between connection attempts; retries after a lost connection start faster " +
			"and back off exponentially up to this value."})
	d.Define(connect.ConfigKey{Name: keyTableWhitelist, Type: connect.ConfigList, Default: "",
		Importance: connect.Medium, Group: groupDatabase, OrderInGroup: next(), Width: connect.WidthLong,
		DisplayName: "Table Whitelist",
		Doc: "Tables to copy, by exact name: bare (users), qualified (public.users) or quoted " +
			"(\"public\".\"users\"). Cannot be combined with table.blacklist."})
	d.Define(connect.ConfigKey{Name: keyTableBlacklist, Type: connect.ConfigList, Default: "",
		Importance: connect.Medium, Group: groupDatabase, OrderInGroup: next(), Width: connect.WidthLong,
		DisplayName: "Table Blacklist",
		Doc: "Tables not to copy, named as in table.whitelist; every other table is copied. Cannot be combined " +
			"with table.whitelist."})
	d.Define(connect.ConfigKey{Name: keyTableIncludeList, Type: connect.ConfigList, Default: "",
		Validator: regexListValidator(), Importance: connect.Medium, Group: groupDatabase, OrderInGroup: next(),
		Width: connect.WidthLong, DisplayName: "Tables Included (Regex)",
		Doc: "Regular expressions, each matched against the whole qualified table name (schema.table on " +
			"PostgreSQL, database.table on MySQL), case-sensitively; matching tables are copied. Cannot be " +
			"combined with table.whitelist or table.blacklist."})
	d.Define(connect.ConfigKey{Name: keyTableExcludeList, Type: connect.ConfigList, Default: "",
		Validator: regexListValidator(), Importance: connect.Medium, Group: groupDatabase, OrderInGroup: next(),
		Width: connect.WidthLong, DisplayName: "Tables Excluded (Regex)",
		Doc: "Regular expressions removing tables from those table.include.list selected; requires " +
			"table.include.list."})
	d.Define(connect.ConfigKey{Name: keyCatalogPattern, Type: connect.ConfigString, Importance: connect.Medium,
		Group: groupDatabase, OrderInGroup: next(), Width: connect.WidthShort, DisplayName: "Catalog pattern",
		Doc: "SQL LIKE pattern of the MySQL databases to look for tables in. Unset: the database named in " +
			"connection.url, or every non-system database when the URL names none. Ignored on PostgreSQL, " +
			"where a connection sees one database."})
	d.Define(connect.ConfigKey{Name: keySchemaPattern, Type: connect.ConfigString, Importance: connect.High,
		Group: groupDatabase, OrderInGroup: next(), Width: connect.WidthShort, DisplayName: "Schema pattern",
		Doc: "SQL LIKE pattern of the PostgreSQL schemas to look for tables in. Unset: every schema except " +
			"the system ones. Ignored on MySQL."})
	d.Define(connect.ConfigKey{Name: keyNumericPrecisionMap, Type: connect.ConfigBoolean, Default: "false",
		Importance: connect.Low, Group: groupDatabase, OrderInGroup: next(), Width: connect.WidthShort,
		DisplayName: "Map Numeric Values By Precision (deprecated)",
		Doc:         "Deprecated: true means numeric.mapping=precision_only when numeric.mapping is unset."})
	d.Define(connect.ConfigKey{Name: keyNumericMapping, Type: connect.ConfigString,
		Validator:  connect.OneOf(numericNone, numericPrecisionOnly, numericBestFit, numericBestFitEagerDouble),
		Importance: connect.Low, Group: groupDatabase, OrderInGroup: next(), Width: connect.WidthShort,
		DisplayName: "Map Numeric Values, Integral or Decimal, By Precision and Scale",
		Doc: "How NUMERIC/DECIMAL columns are represented. none (the default): Connect Decimal with the " +
			"column's scale. precision_only: integer types for scale 0 and precision up to 18. best_fit: " +
			"integer types for scale 0 and double for a positive scale, when the precision is at most 18; " +
			"Decimal otherwise. best_fit_eager_double: like best_fit, but double for any positive scale."})
	d.Define(connect.ConfigKey{Name: keyDialectName, Type: connect.ConfigString, Default: "",
		Validator: connect.OneOf("", dialectPostgres, dialectMySQL), Importance: connect.Low,
		Group: groupDatabase, OrderInGroup: next(), Width: connect.WidthLong, DisplayName: "Database Dialect",
		Doc: "Forces the SQL dialect; empty picks it from connection.url."})
	d.Define(connect.ConfigKey{Name: keyDateCalendarSystem, Type: connect.ConfigString, Default: "LEGACY",
		Validator: connect.OneOf("LEGACY", "PROLEPTIC_GREGORIAN"), Importance: connect.Low, Group: groupDatabase,
		OrderInGroup: next(), Width: connect.WidthMedium, DisplayName: "Date Calendar System",
		Doc: "Calendar for converting DATE and TIMESTAMP values before 1582-10-15 to epoch-based Connect " +
			"values. LEGACY (the default, as upstream) reads the stored year-month-day as a Julian date, as " +
			"java.sql.Date does; PROLEPTIC_GREGORIAN keeps the Gregorian calendar the databases use. Later " +
			"values are the same either way."})

	order = 0
	d.Define(connect.ConfigKey{Name: keyMode, Type: connect.ConfigString, Default: "", Validator: modeValidator(),
		Importance: connect.High, Group: groupMode, OrderInGroup: next(), Width: connect.WidthMedium,
		DisplayName: "Table Loading Mode",
		Dependents:  []string{keyIncrementingColumn, keyTimestampColumn, keyIncrementingColumnMap, keyTimestampColumnsMap, keyValidateNonNull},
		Doc: "How each poll finds rows. bulk: the whole table every time. incrementing: rows whose " +
			"incrementing column is above the last one seen (new rows only). timestamp: rows whose timestamp " +
			"is later than the last one seen (new and updated rows). timestamp+incrementing: both, the " +
			"incrementing column ordering rows that share a timestamp."})
	d.Define(connect.ConfigKey{Name: keyIncrementingColumn, Type: connect.ConfigString, Default: "",
		Importance: connect.Medium, Group: groupMode, OrderInGroup: next(), Width: connect.WidthMedium,
		DisplayName: "Incrementing Column Name",
		Doc: "The strictly increasing, non-null column (usually the serial or AUTO_INCREMENT id). Empty: the " +
			"table's auto-incrementing column."})
	d.Define(connect.ConfigKey{Name: keyTimestampColumn, Type: connect.ConfigList, Default: "",
		Importance: connect.Medium, Group: groupMode, OrderInGroup: next(), Width: connect.WidthMedium,
		DisplayName: "Timestamp Column Name",
		Doc: "One or more timestamp columns; a row's timestamp is the first non-null of them (COALESCE). At " +
			"least one should be NOT NULL."})
	d.Define(connect.ConfigKey{Name: keyTimestampColumnsMap, Type: connect.ConfigList, Default: "",
		Validator: mappingValidator(true), Importance: connect.Medium, Group: groupMode, OrderInGroup: next(),
		Width: connect.WidthLong, DisplayName: "Table to timestamp columns mappings",
		Doc: "Timestamp columns per table, as regex:[col1|col2] entries matched against the qualified table " +
			"name; every captured table must match exactly one entry. Use with table.include.list instead of " +
			"timestamp.column.name."})
	d.Define(connect.ConfigKey{Name: keyIncrementingColumnMap, Type: connect.ConfigList, Default: "",
		Validator: mappingValidator(false), Importance: connect.Medium, Group: groupMode, OrderInGroup: next(),
		Width: connect.WidthLong, DisplayName: "Table to incrementing column mappings",
		Doc: "Incrementing column per table, as regex:column entries matched against the qualified table " +
			"name; every captured table must match exactly one entry. Use with table.include.list instead of " +
			"incrementing.column.name."})
	d.Define(connect.ConfigKey{Name: keyTimestampInitial, Type: connect.ConfigLong, Importance: connect.Low,
		Group: groupMode, OrderInGroup: next(), Width: connect.WidthMedium,
		DisplayName: "Unix time value of initial timestamp",
		Doc: "Where timestamp modes start when no offset is stored, in milliseconds since the epoch; -1 means " +
			"the database's current time. Unset: from the earliest row."})
	d.Define(connect.ConfigKey{Name: keyValidateNonNull, Type: connect.ConfigBoolean, Default: "true",
		Importance: connect.Low, Group: groupMode, OrderInGroup: next(), Width: connect.WidthShort,
		DisplayName: "Validate Non Null",
		Doc: "Refuse an incrementing column that allows NULL, and timestamp columns that all allow NULL: rows " +
			"with NULL there are never selected."})
	d.Define(connect.ConfigKey{Name: keyQuery, Type: connect.ConfigString, Default: "", Importance: connect.Medium,
		Group: groupMode, OrderInGroup: next(), Width: connect.WidthShort, DisplayName: "Query",
		Doc: "A SELECT to run instead of copying whole tables; its rows go to the topic named topic.prefix. " +
			"In the incremental modes the connector appends a WHERE clause and ORDER BY, so the query must not " +
			"have its own WHERE."})
	d.Define(connect.ConfigKey{Name: keyQueryMasked, Type: connect.ConfigPassword, Default: "",
		Importance: connect.Medium, Group: groupMode, OrderInGroup: next(), Width: connect.WidthShort,
		DisplayName: "Query (Masked)",
		Doc:         "The same as query, but hidden in logs and the REST API; set one or the other."})
	d.Define(connect.ConfigKey{Name: keyQuoteIdentifiers, Type: connect.ConfigString, Default: "ALWAYS",
		Validator: connect.OneOf("ALWAYS", "NEVER"), Importance: connect.Medium, Group: groupMode,
		OrderInGroup: next(), Width: connect.WidthMedium, DisplayName: "Quote Identifiers",
		Doc: "Accepted for compatibility. Identifiers are always quoted, using the exact names from the " +
			"catalog, which is correct for every table and column name."})
	d.Define(connect.ConfigKey{Name: keyQuerySuffix, Type: connect.ConfigString, Default: "",
		Importance: connect.Low, Group: groupMode, OrderInGroup: next(), Width: connect.WidthMedium,
		DisplayName: "Query suffix", Doc: "Text appended to the end of every generated SELECT."})
	d.Define(connect.ConfigKey{Name: keyIsolationMode, Type: connect.ConfigString, Default: "DEFAULT",
		Validator:  connect.OneOf("DEFAULT", "READ_UNCOMMITTED", "READ_COMMITTED", "REPEATABLE_READ", "SERIALIZABLE", "SQL_SERVER_SNAPSHOT"),
		Importance: connect.Low, Group: groupMode, OrderInGroup: next(), Width: connect.WidthMedium,
		DisplayName: "Transaction Isolation Mode",
		Doc: "Isolation level of the reading session; DEFAULT keeps the database's. SQL_SERVER_SNAPSHOT " +
			"exists only on SQL Server and is refused here."})
	d.Define(connect.ConfigKey{Name: keyQueryRetryAttempts, Type: connect.ConfigInt, Default: "-1",
		Importance: connect.Low, Group: groupMode, OrderInGroup: next(), Width: connect.WidthMedium,
		DisplayName: "Query Retry Attempts",
		Doc: "How many consecutive transient failures (lost connection, deadlock, server restart) a task " +
			"retries before failing; -1 retries for ever."})

	order = 0
	d.Define(connect.ConfigKey{Name: keyTableTypes, Type: connect.ConfigList, Default: "TABLE",
		Importance: connect.Low, Group: groupConnector, OrderInGroup: next(), Width: connect.WidthMedium,
		DisplayName: "Table Types",
		Doc: "Kinds of relations to copy: TABLE, VIEW, and on PostgreSQL also MATERIALIZED VIEW, PARTITIONED " +
			"TABLE and FOREIGN TABLE. Types a database does not have are ignored."})
	d.Define(connect.ConfigKey{Name: keyPollInterval, Type: connect.ConfigInt, Default: "5000",
		Validator: connect.AtLeast(0), Importance: connect.High, Group: groupConnector, OrderInGroup: next(),
		Width: connect.WidthShort, DisplayName: "Poll Interval (ms)",
		Doc: "Pause between the end of one read of a table and the start of the next."})
	d.Define(connect.ConfigKey{Name: keyBatchMaxRows, Type: connect.ConfigInt, Default: "1000",
		Validator: connect.AtLeast(1), Importance: connect.Low, Group: groupConnector, OrderInGroup: next(),
		Width: connect.WidthShort, DisplayName: "Max Rows Per Batch",
		Doc: "Most rows handed to the runtime at once; bounds the memory a task uses."})
	d.Define(connect.ConfigKey{Name: keyMaxBufferSize, Type: connect.ConfigInt, Default: "0",
		Validator: connect.AtLeast(0), Importance: connect.Low, Group: groupConnector, OrderInGroup: next(),
		Width: connect.WidthShort, DisplayName: "Maximum Buffer Size",
		Doc: "Most rows read ahead of the runtime; 0 means four batches."})
	d.Define(connect.ConfigKey{Name: keyPollLinger, Type: connect.ConfigLong, Default: "5000",
		Validator: connect.AtLeast(0), Importance: connect.Low, Group: groupConnector, OrderInGroup: next(),
		Width: connect.WidthShort, DisplayName: "Poll Linger Milliseconds",
		Doc: "Longest time a poll waits for rows before returning empty-handed."})
	d.Define(connect.ConfigKey{Name: keyTablePollInterval, Type: connect.ConfigLong, Default: "60000",
		Validator: connect.AtLeast(1), Importance: connect.Low, Group: groupConnector, OrderInGroup: next(),
		Width: connect.WidthShort, DisplayName: "Metadata Change Monitoring Interval (ms)",
		Doc: "How often the connector looks for created and dropped tables and reassigns tables to tasks " +
			"when the set changed."})
	d.Define(connect.ConfigKey{Name: keyTopicPrefix, Type: connect.ConfigString, Default: "",
		Validator: topicPrefixValidator(), Importance: connect.High, Group: groupConnector, OrderInGroup: next(),
		Width: connect.WidthMedium, DisplayName: "Topic Prefix",
		Doc: "Prepended to the table name to form each table's topic; with query, the whole topic name."})
	d.Define(connect.ConfigKey{Name: keyTimestampDelay, Type: connect.ConfigLong, Default: "0",
		Validator: connect.AtLeast(0), Importance: connect.High, Group: groupConnector, OrderInGroup: next(),
		Width: connect.WidthMedium, DisplayName: "Delay Interval (ms)",
		Doc: "Rows are read only once their timestamp is this much older than the database clock. Covers " +
			"timestamps that run behind their transaction's start (set by the application, rounded, or " +
			"written by a statement that waited); the connector already waits for open transactions itself."})
	d.Define(connect.ConfigKey{Name: keyDBTimezone, Type: connect.ConfigString, Default: "UTC",
		Validator: timezoneValidator(), Importance: connect.Medium, Group: groupConnector, OrderInGroup: next(),
		Width: connect.WidthMedium, DisplayName: "DB time zone",
		Doc: "Time zone of date-times stored without one (PostgreSQL timestamp, MySQL DATETIME and DATE), " +
			"used to read them and to compare them with offsets. IANA names (Europe/Paris) or Java short IDs (PST)."})
	d.Define(connect.ConfigKey{Name: keyTimestampGranularity, Type: connect.ConfigString, Default: granConnectLogical,
		Validator:  connect.OneOf(granConnectLogical, granMicrosLong, granMicrosString, granMicrosISOString, granNanosLong, granNanosString, granNanosISOString),
		Importance: connect.Low, Group: groupConnector, OrderInGroup: next(), Width: connect.WidthMedium,
		DisplayName: "Timestamp granularity for timestamp columns",
		Doc: "How timestamp columns appear in records: connect_logical (Connect Timestamp, milliseconds), " +
			"micros_long or nanos_long (int64 since the epoch), micros_string or nanos_string (the same as " +
			"text), micros_iso_datetime_string or nanos_iso_datetime_string (yyyy-MM-ddTHH:mm:ss with 6 or " +
			"9 fraction digits, in db.timezone)."})
	return d
}

// taskConfigDef adds the keys the connector sets for each task.
func taskConfigDef() *connect.ConfigDef {
	d := configDef()
	d.Define(connect.ConfigKey{Name: keyTables, Type: connect.ConfigString, Default: "", Importance: connect.High,
		Doc: "Tables this task reads, as quoted qualified names separated by commas."})
	d.Define(connect.ConfigKey{Name: keyTablesFetched, Type: connect.ConfigBoolean, Default: "false",
		Importance: connect.High, Doc: "Whether the connector had listed the tables when it made this configuration."})
	return d
}

// numericMapping says how NUMERIC/DECIMAL columns map to Connect types.
type numericMapping int

const (
	mapNone numericMapping = iota
	mapPrecisionOnly
	mapBestFit
	mapBestFitEagerDouble
)

// columnMapping is one entry of incrementing.column.mapping or timestamp.columns.mapping.
type columnMapping struct {
	re      *regexp.Regexp
	columns []string
}

// config is a parsed connector or task configuration.
type config struct {
	url, user       string
	password        string
	attempts        int
	backoff         time.Duration
	whitelist       []string
	blacklist       []string
	include         []*regexp.Regexp
	exclude         []*regexp.Regexp
	catalogPattern  string
	schemaPattern   string
	numeric         numericMapping
	dialectName     string
	legacyCalendar  bool
	mode            string
	incColumn       string
	tsColumns       []string
	tsMapping       []columnMapping
	incMapping      []columnMapping
	tsInitial       *int64
	validateNonNull bool
	query           string
	queryMasked     bool
	suffix          string
	isolation       string
	retryAttempts   int
	tableTypes      []string
	pollInterval    time.Duration
	batchMaxRows    int
	maxBuffer       int
	linger          time.Duration
	tablePoll       time.Duration
	topicPrefix     string
	delay           time.Duration
	zone            *time.Location
	granularity     string

	tables        string
	tablesFetched bool
}

// parseConfig parses props with def and applies the checks that involve several keys.
func parseConfig(def *connect.ConfigDef, props map[string]string) (*config, error) {
	c, err := def.Parse(props)
	if err != nil {
		return nil, err
	}
	cfg := &config{
		url:             c.String(keyConnectionURL),
		user:            c.String(keyConnectionUser),
		password:        c.Password(keyConnectionPassword).Value(),
		attempts:        c.Int(keyConnectionAttempts),
		backoff:         c.Millis(keyConnectionBackoff),
		whitelist:       nonEmpty(c.List(keyTableWhitelist)),
		blacklist:       nonEmpty(c.List(keyTableBlacklist)),
		catalogPattern:  c.String(keyCatalogPattern),
		schemaPattern:   c.String(keySchemaPattern),
		dialectName:     c.String(keyDialectName),
		legacyCalendar:  strings.EqualFold(c.String(keyDateCalendarSystem), "LEGACY"),
		mode:            strings.ToLower(c.String(keyMode)),
		incColumn:       c.String(keyIncrementingColumn),
		tsColumns:       nonEmpty(c.List(keyTimestampColumn)),
		validateNonNull: c.Bool(keyValidateNonNull),
		query:           c.String(keyQuery),
		suffix:          c.String(keyQuerySuffix),
		isolation:       strings.ToUpper(c.String(keyIsolationMode)),
		retryAttempts:   c.Int(keyQueryRetryAttempts),
		tableTypes:      nonEmpty(c.List(keyTableTypes)),
		pollInterval:    c.Millis(keyPollInterval),
		batchMaxRows:    c.Int(keyBatchMaxRows),
		maxBuffer:       c.Int(keyMaxBufferSize),
		linger:          c.Millis(keyPollLinger),
		tablePoll:       c.Millis(keyTablePollInterval),
		topicPrefix:     c.String(keyTopicPrefix),
		delay:           c.Millis(keyTimestampDelay),
		granularity:     strings.ToLower(c.String(keyTimestampGranularity)),
	}
	if masked := c.Password(keyQueryMasked).Value(); masked != "" {
		cfg.query, cfg.queryMasked = masked, true
	}
	if c.IsSet(keyTimestampInitial) {
		v := c.Long(keyTimestampInitial)
		cfg.tsInitial = &v
	}
	cfg.include = mustRegexps(c.List(keyTableIncludeList))
	cfg.exclude = mustRegexps(c.List(keyTableExcludeList))
	cfg.tsMapping = mustMappings(c.List(keyTimestampColumnsMap), true)
	cfg.incMapping = mustMappings(c.List(keyIncrementingColumnMap), false)
	switch strings.ToLower(c.String(keyNumericMapping)) {
	case numericPrecisionOnly:
		cfg.numeric = mapPrecisionOnly
	case numericBestFit:
		cfg.numeric = mapBestFit
	case numericBestFitEagerDouble:
		cfg.numeric = mapBestFitEagerDouble
	case numericNone:
		cfg.numeric = mapNone
	default:
		if c.Bool(keyNumericPrecisionMap) {
			cfg.numeric = mapPrecisionOnly
		}
	}
	cfg.zone, _ = loadZone(c.String(keyDBTimezone))
	if _, ok := def.Key(keyTables); ok {
		cfg.tables = c.String(keyTables)
		cfg.tablesFetched = c.Bool(keyTablesFetched)
	}
	if errs := cfg.crossCheck(); len(errs) > 0 {
		var all []error
		for _, k := range connect.SortedKeys(errs) {
			for _, msg := range errs[k] {
				all = append(all, &connect.FieldError{Name: k, Msg: msg})
			}
		}
		return nil, &connect.ConfigError{Errs: all}
	}
	return cfg, nil
}

// crossCheck returns the problems that involve more than one key, by key.
func (c *config) crossCheck() map[string][]string {
	errs := map[string][]string{}
	add := func(key, msg string) { errs[key] = append(errs[key], msg) }
	if c.mode == "" {
		add(keyMode, "mode must be set to one of bulk, incrementing, timestamp, timestamp+incrementing")
	}
	legacyTables := len(c.whitelist) > 0 || len(c.blacklist) > 0
	newTables := len(c.include) > 0 || len(c.exclude) > 0
	if len(c.whitelist) > 0 && len(c.blacklist) > 0 {
		msg := "table.whitelist and table.blacklist cannot both be set"
		add(keyTableWhitelist, msg)
		add(keyTableBlacklist, msg)
	}
	if legacyTables && newTables {
		msg := "table.whitelist/table.blacklist cannot be combined with table.include.list/table.exclude.list; use one approach"
		for _, k := range []string{keyTableWhitelist, keyTableBlacklist, keyTableIncludeList, keyTableExcludeList} {
			if c.listSet(k) {
				add(k, msg)
			}
		}
	}
	if len(c.exclude) > 0 && len(c.include) == 0 {
		add(keyTableExcludeList, "table.exclude.list requires table.include.list: it only removes tables the include list selected")
	}
	legacyCols := c.incColumn != "" || len(c.tsColumns) > 0
	if legacyCols && (len(c.tsMapping) > 0 || len(c.incMapping) > 0) {
		msg := "incrementing.column.name/timestamp.column.name cannot be combined with incrementing.column.mapping/timestamp.columns.mapping"
		for _, k := range []string{keyIncrementingColumn, keyTimestampColumn, keyIncrementingColumnMap, keyTimestampColumnsMap} {
			if c.listSet(k) {
				add(k, msg)
			}
		}
	}
	if (len(c.tsMapping) > 0 || len(c.incMapping) > 0) && len(c.include) == 0 && c.query == "" {
		msg := "column mappings apply to tables selected by table.include.list, which is not set"
		if len(c.tsMapping) > 0 {
			add(keyTimestampColumnsMap, msg)
		}
		if len(c.incMapping) > 0 {
			add(keyIncrementingColumnMap, msg)
		}
	}
	if c.query != "" {
		if legacyTables || newTables {
			msg := "query cannot be combined with table.whitelist, table.blacklist, table.include.list or table.exclude.list"
			add(keyQuery, msg)
			for _, k := range []string{keyTableWhitelist, keyTableBlacklist, keyTableIncludeList, keyTableExcludeList} {
				if c.listSet(k) {
					add(k, msg)
				}
			}
		}
		if c.usesIncrementing() && c.incColumn == "" {
			add(keyIncrementingColumn, fmt.Sprintf("incrementing.column.name must be set for mode %s with a query: there is no table to find the auto-increment column in", c.mode))
		}
		if c.usesTimestamp() && len(c.tsColumns) == 0 {
			add(keyTimestampColumn, fmt.Sprintf("timestamp.column.name must be set for mode %s with a query", c.mode))
		}
		if c.query != "" && !selectStatement.MatchString(c.query) {
			add(c.queryKey(), "the query must be a SELECT statement")
		}
	}
	if c.usesTimestamp() && c.query == "" && len(c.tsColumns) == 0 && len(c.tsMapping) == 0 {
		add(keyTimestampColumn, fmt.Sprintf("mode %s needs timestamp.column.name (or timestamp.columns.mapping)", c.mode))
	}
	if c.isolation == "SQL_SERVER_SNAPSHOT" {
		add(keyIsolationMode, "SQL_SERVER_SNAPSHOT is only available on SQL Server")
	}
	return errs
}

var selectStatement = regexp.MustCompile(`(?is)^\s*(SELECT|WITH)\b`)

// listSet reports whether a key that the cross checks name holds a non-empty value.
func (c *config) listSet(key string) bool {
	switch key {
	case keyTableWhitelist:
		return len(c.whitelist) > 0
	case keyTableBlacklist:
		return len(c.blacklist) > 0
	case keyTableIncludeList:
		return len(c.include) > 0
	case keyTableExcludeList:
		return len(c.exclude) > 0
	case keyIncrementingColumn:
		return c.incColumn != ""
	case keyTimestampColumn:
		return len(c.tsColumns) > 0
	case keyIncrementingColumnMap:
		return len(c.incMapping) > 0
	case keyTimestampColumnsMap:
		return len(c.tsMapping) > 0
	}
	return false
}

func (c *config) queryKey() string {
	if c.queryMasked {
		return keyQueryMasked
	}
	return keyQuery
}

func (c *config) usesIncrementing() bool {
	return c.mode == modeIncrementing || c.mode == modeTimestampIncrementing
}

func (c *config) usesTimestamp() bool {
	return c.mode == modeTimestamp || c.mode == modeTimestampIncrementing
}

// columnsFor returns the incrementing and timestamp column names configured for a table, whose
// qualified unquoted name is fqn.
func (c *config) columnsFor(fqn string) (inc string, ts []string, err error) {
	inc, ts = c.incColumn, c.tsColumns
	if c.usesIncrementing() && len(c.incMapping) > 0 {
		m, err := matchOne(c.incMapping, fqn, keyIncrementingColumnMap)
		if err != nil {
			return "", nil, err
		}
		inc = m.columns[0]
	}
	if c.usesTimestamp() && len(c.tsMapping) > 0 {
		m, err := matchOne(c.tsMapping, fqn, keyTimestampColumnsMap)
		if err != nil {
			return "", nil, err
		}
		ts = m.columns
	}
	if !c.usesIncrementing() {
		inc = ""
	}
	if !c.usesTimestamp() {
		ts = nil
	}
	return inc, ts, nil
}

func matchOne(ms []columnMapping, fqn, key string) (columnMapping, error) {
	var found []columnMapping
	for _, m := range ms {
		if m.re.MatchString(fqn) {
			found = append(found, m)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return columnMapping{}, keyErr(key, "table %s matches no entry", fqn)
	}
	return columnMapping{}, keyErr(key, "table %s matches %d entries; it must match exactly one", fqn, len(found))
}

func nonEmpty(list []string) []string {
	var out []string
	for _, s := range list {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// anchored compiles a Java-style regular expression that must match the whole input, as
// String.matches does.
func anchored(expr string) (*regexp.Regexp, error) {
	return regexp.Compile(`^(?:` + expr + `)$`)
}

func mustRegexps(list []string) []*regexp.Regexp {
	var out []*regexp.Regexp
	for _, s := range nonEmpty(list) {
		re, err := anchored(s)
		if err != nil {
			// The validator rejected invalid expressions before Parse returned.
			panic(err)
		}
		out = append(out, re)
	}
	return out
}

func parseMapping(entry string, multi bool) (columnMapping, error) {
	i := strings.LastIndex(entry, ":")
	if i <= 0 {
		if multi {
			return columnMapping{}, fmt.Errorf("%q: expected regex:[col1|col2|...]", entry)
		}
		return columnMapping{}, fmt.Errorf("%q: expected regex:column", entry)
	}
	re, err := anchored(strings.TrimSpace(entry[:i]))
	if err != nil {
		return columnMapping{}, fmt.Errorf("%q: invalid regular expression: %v", entry, err)
	}
	cols := strings.TrimSpace(entry[i+1:])
	if !multi {
		if cols == "" {
			return columnMapping{}, fmt.Errorf("%q: column name cannot be empty", entry)
		}
		return columnMapping{re: re, columns: []string{cols}}, nil
	}
	if !strings.HasPrefix(cols, "[") || !strings.HasSuffix(cols, "]") {
		return columnMapping{}, fmt.Errorf("%q: columns list must be enclosed in square brackets", entry)
	}
	var out []string
	for _, col := range strings.Split(cols[1:len(cols)-1], "|") {
		col = strings.TrimSpace(col)
		if col == "" {
			return columnMapping{}, fmt.Errorf("%q: every column name must be non-empty", entry)
		}
		out = append(out, col)
	}
	return columnMapping{re: re, columns: out}, nil
}

func mustMappings(list []string, multi bool) []columnMapping {
	var out []columnMapping
	for _, s := range nonEmpty(list) {
		m, err := parseMapping(s, multi)
		if err != nil {
			panic(err)
		}
		out = append(out, m)
	}
	return out
}

func oneOfExact(values ...string) connect.Validator {
	return connect.ValidatorFunc("["+strings.Join(values, ", ")+"]", func(name string, v any) error {
		s, _ := v.(string)
		for _, ok := range values {
			if s == ok {
				return nil
			}
		}
		return fmt.Errorf("Invalid value %s for configuration %s: only %s is supported", s, name, strings.Join(values, ", "))
	})
}

func modeValidator() connect.Validator {
	modes := []string{modeBulk, modeIncrementing, modeTimestamp, modeTimestampIncrementing}
	return connect.ValidatorFunc("[bulk, incrementing, timestamp, timestamp+incrementing]", func(name string, v any) error {
		s, _ := v.(string)
		if s == "" {
			// Reported by crossCheck, so the validate endpoint shows it with the other problems.
			return nil
		}
		for _, m := range modes {
			if strings.EqualFold(s, m) {
				return nil
			}
		}
		return fmt.Errorf("Invalid value %s for configuration %s: String must be one of: %s", s, name, strings.Join(modes, ", "))
	})
}

func regexListValidator() connect.Validator {
	return connect.ValidatorFunc("a comma-separated list of regular expressions", func(name string, v any) error {
		list, _ := v.([]string)
		for _, s := range list {
			if s == "" {
				continue
			}
			if _, err := anchored(s); err != nil {
				return fmt.Errorf("Invalid value %s for configuration %s: invalid regular expression: %v", s, name, err)
			}
		}
		return nil
	})
}

func mappingValidator(multi bool) connect.Validator {
	desc := "a list of regex:column entries"
	if multi {
		desc = "a list of regex:[col1|col2|...] entries"
	}
	return connect.ValidatorFunc(desc, func(name string, v any) error {
		list, _ := v.([]string)
		for _, s := range list {
			if s == "" {
				continue
			}
			if _, err := parseMapping(s, multi); err != nil {
				return fmt.Errorf("Invalid value for configuration %s: %v", name, err)
			}
		}
		return nil
	})
}

func topicPrefixValidator() connect.Validator {
	return connect.ValidatorFunc("ASCII alphanumerics, '.', '_' and '-', at most 249 characters", func(name string, v any) error {
		s, _ := v.(string)
		if len(s) > 249 {
			return fmt.Errorf("Invalid value %s for configuration %s: Topic prefix length must not exceed max topic name length, 249 chars", s, name)
		}
		if topicPrefixInvalid.MatchString(s) {
			return fmt.Errorf("Invalid value %s for configuration %s: Topic prefix must not contain any character other than ASCII alphanumerics, '.', '_' and '-'.", s, name)
		}
		return nil
	})
}

func timezoneValidator() connect.Validator {
	return connect.ValidatorFunc("a time zone ID", func(name string, v any) error {
		s, _ := v.(string)
		if _, err := loadZone(s); err != nil {
			return fmt.Errorf("Invalid value %s for configuration %s: %v", s, name, err)
		}
		return nil
	})
}

// javaShortIDs are the abbreviations java.time.ZoneId.SHORT_IDS accepts, which upstream falls back to.
var javaShortIDs = map[string]string{
	"ACT": "Australia/Darwin", "AET": "Australia/Sydney", "AGT": "America/Argentina/Buenos_Aires",
	"ART": "Africa/Cairo", "AST": "America/Anchorage", "BET": "America/Sao_Paulo", "BST": "Asia/Dhaka",
	"CAT": "Africa/Harare", "CNT": "America/St_Johns", "CST": "America/Chicago", "CTT": "Asia/Shanghai",
	"EAT": "Africa/Addis_Ababa", "ECT": "Europe/Paris", "IET": "America/Indiana/Indianapolis",
	"IST": "Asia/Kolkata", "JST": "Asia/Tokyo", "MIT": "Pacific/Apia", "NET": "Asia/Yerevan",
	"NST": "Pacific/Auckland", "PLT": "Asia/Karachi", "PNT": "America/Phoenix", "PRT": "America/Puerto_Rico",
	"PST": "America/Los_Angeles", "SST": "Pacific/Guadalcanal", "VST": "Asia/Ho_Chi_Minh",
}

// javaFixedShortIDs are the SHORT_IDS that Java maps to fixed offsets.
var javaFixedShortIDs = map[string]int{"EST": -5 * 3600, "MST": -7 * 3600, "HST": -10 * 3600}

func loadZone(name string) (*time.Location, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, errors.New("time zone must not be empty")
	}
	if secs, ok := javaFixedShortIDs[name]; ok {
		return time.FixedZone(name, secs), nil
	}
	if loc, err := time.LoadLocation(name); err == nil {
		return loc, nil
	}
	if full, ok := javaShortIDs[name]; ok {
		return time.LoadLocation(full)
	}
	if loc, ok := parseOffsetZone(name); ok {
		return loc, nil
	}
	return nil, fmt.Errorf("unknown time zone %q", name)
}

// offsetZone matches the offset forms java.time.ZoneId.of accepts: Z, +h, +hh, +hh:mm, +hhmm, and
// the same after a UTC, GMT or UT prefix.
var offsetZone = regexp.MustCompile(`^(?:UTC|GMT|UT)?([+-])(\d{1,2})(?::?(\d{2}))?$`)

func parseOffsetZone(s string) (*time.Location, bool) {
	if s == "Z" {
		return time.UTC, true
	}
	m := offsetZone.FindStringSubmatch(s)
	if m == nil {
		return nil, false
	}
	h := atoiSmall(m[2])
	mins := 0
	if m[3] != "" {
		mins = atoiSmall(m[3])
	}
	if h > 18 || mins > 59 {
		return nil, false
	}
	secs := h*3600 + mins*60
	if m[1] == "-" {
		secs = -secs
	}
	return time.FixedZone(s, secs), true
}

func atoiSmall(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}
