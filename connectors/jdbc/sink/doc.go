// Package sink is the JDBC sink connector: it writes Kafka records into PostgreSQL (through pgx)
// and MySQL or MariaDB (through go-sql-driver/mysql), with insert, upsert and update semantics.
//
// It answers to Confluent's io.confluent.connect.jdbc.JdbcSinkConnector (alias JdbcSinkConnector)
// and to Debezium's io.debezium.connector.jdbc.JdbcSinkConnector, and takes either's
// configuration unchanged.
//
// # Configuration
//
// Confluent's keys keep their upstream meaning and defaults (connection.url, connection.user,
// connection.password, connection.attempts, connection.backoff.ms, dialect.name, insert.mode,
// batch.size, delete.enabled, table.types, table.name.format, pk.mode, pk.fields,
// fields.whitelist, db.timezone, auto.create, auto.evolve, quote.sql.identifiers, max.retries,
// retry.backoff.ms). Debezium's spellings map onto them:
//
//	Debezium                      kconnect / Confluent
//	connection.username           connection.user
//	primary.key.mode              pk.mode
//	primary.key.fields            pk.fields
//	schema.evolution=basic        auto.create=true and auto.evolve=true
//	collection.name.format        table.name.format
//	use.time.zone, database.time_zone   db.timezone
//	flush.max.retries             max.retries
//	flush.retry.delay.ms          retry.backoff.ms
//	quote.identifiers=true|false  quote.sql.identifiers=always|never
//	field.include.list / field.exclude.list   regular expressions over topic:field
//	truncate.enabled              (same key) apply Debezium truncate events
//
// Setting a key and its twin to different values is a configuration error. When connector.class
// is Debezium's, Debezium's defaults apply where they differ: batch.size 500, max.retries 5,
// retry.backoff.ms 1000, identifiers not quoted, and the topic's dots become underscores in the
// table name (Debezium's default naming). Other Debezium keys (connection pool sizes, hibernate.*)
// are accepted and ignored; a naming strategy other than Debezium's default is rejected.
//
// Combinations that cannot work are rejected at validation rather than at the first record:
// delete.enabled without pk.mode=record_key (as upstream), insert.mode upsert or update with
// pk.mode=none, pk.mode=kafka with other than zero or three pk.fields.
//
// # Writing
//
// Put hands records to a writer goroutine and returns, so the runtime decodes the next records
// while the database applies these. Each write is one database transaction holding every record
// that arrived while the previous write ran (at most about 10,000 wait; then Put waits too), so
// transactions grow when the database is the bottleneck and stay small when it keeps up. A failed
// write fails the task at the next Put, PreCommit, Open or Close; PreCommit, Open and Close first
// wait until everything delivered is written. Records are grouped by destination table and, within a
// table, into runs that share key and value schemas (a schema change starts a new run, so
// statements keep the order of the records). Within a run, when the key comes from the record
// key or value, only the last record per key is written; a delete followed by a write of the
// same key becomes a delete and an insert. Deletes run before writes.
//
// PostgreSQL: a run of 128 rows or more is streamed with COPY (binary) into a temporary staging
// table, then applied with one DELETE … USING and one INSERT … SELECT [ON CONFLICT … DO UPDATE] or
// UPDATE … FROM; shorter runs send one statement per row, all pipelined in one round trip. The
// threshold comes from BenchmarkPostgresWritePaths: below it the COPY path's fixed round trips
// cost more than they save. MySQL and MariaDB: multi-row INSERT [… ON DUPLICATE KEY UPDATE
// c=VALUES(c)], DELETE … WHERE key IN (…) and, for update, UPDATE … JOIN over the rows as a derived
// table, each statement holding at most batch.size rows and staying under the server's
// max_allowed_packet. Values are sent as parameters (interpolated and escaped by the MySQL
// driver); identifiers are always quoted.
//
// A record with a null value (tombstone) deletes the row of its key when delete.enabled is set and
// is skipped otherwise.
//
// # Debezium change events
//
// A value that is a Debezium envelope (struct fields before, after and op) is applied natively, with
// no ExtractNewRecordState transform: op c, r and u write the after state according to insert.mode,
// d deletes the record key's row when delete.enabled is set, t truncates the table when
// truncate.enabled is set, and other operations are skipped. Debezium's temporal and semantic types
// (io.debezium.time.Date, MicroTimestamp, ZonedTimestamp, …, io.debezium.data.Json and Uuid) map to
// real column types, so PostgreSQL CDC → Kafka → MySQL needs no transform.
//
// # Column types of auto.create and auto.evolve
//
// A created column has the type the configured connector class would have given it: Confluent's
// JdbcSinkConnector (its dialects' getSqlType, TestConfluentColumnTypes) or Debezium's
// JdbcSinkConnector (what the real Debezium 3.6 sink creates on PostgreSQL and MariaDB,
// TestAutoCreateMatchesDebeziumJDBCSink).
//
//	Connect schema                     Confluent class                  Debezium class
//	                                   PostgreSQL    MySQL/MariaDB      PostgreSQL          MySQL/MariaDB
//	int8                               SMALLINT      TINYINT            SMALLINT            TINYINT
//	int16                              SMALLINT      SMALLINT           SMALLINT            SMALLINT
//	int32                              INT           INT                INT                 INT
//	int64                              BIGINT        BIGINT             BIGINT              BIGINT
//	float32                            REAL          FLOAT              REAL                FLOAT
//	float64                            DOUBLE PRECISION DOUBLE          DOUBLE PRECISION    DOUBLE
//	boolean                            BOOLEAN       TINYINT            BOOLEAN             BOOLEAN (TINYINT(1))
//	string                             TEXT          TEXT ¹             TEXT                LONGTEXT; VARCHAR(255) in a key
//	bytes                              BYTEA         VARBINARY(1024)    BYTEA               LONGBLOB; VARBINARY(255) in a key
//	array of a primitive               element[]     (not supported)    element[]           (not supported)
//	map of primitives                  (rejected)    (rejected)         HSTORE ⁵            JSON
//	Decimal (scale s, precision p)     DECIMAL       DECIMAL(65,s)      NUMERIC(p or 38,s)  DECIMAL(p or 38,s)
//	Date, io.debezium.time.Date        DATE          DATE               DATE                DATE
//	Time                               TIME          TIME(3)            TIME(6)             TIME(6)
//	Timestamp                          TIMESTAMP     DATETIME(3)        TIMESTAMP(6)        DATETIME(6)
//	io.debezium.time.Time              TIME(3) ²     TIME(3) ²          TIME(6)             TIME(6)
//	io.debezium.time.MicroTime, NanoTime  TIME(6) ²  TIME(6) ²          TIME(6)             TIME(6)
//	io.debezium.time.Timestamp         TIMESTAMP(3) ² DATETIME(3) ²     TIMESTAMP(6)        DATETIME(6)
//	io.debezium.time.MicroTimestamp, NanoTimestamp  TIMESTAMP(6) ² DATETIME(6) ²  TIMESTAMP(6)  DATETIME(6)
//	io.debezium.time.ZonedTimestamp    TIMESTAMPTZ ² DATETIME(6) ²      TIMESTAMP(6) WITH TIME ZONE  TIMESTAMP(6)
//	io.debezium.time.ZonedTime         TEXT          TEXT               TIME(6) WITH TIME ZONE  LONGTEXT ³
//	io.debezium.data.Json              JSONB ²       JSON ²             JSON                JSON
//	io.debezium.data.Uuid              UUID ²        CHAR(36) ²         UUID                LONGTEXT; VARCHAR(255) in a key
//	io.debezium.time.Year              INT           INT                INT                 YEAR
//	io.debezium.data.Enum              TEXT          TEXT               TEXT                ENUM(allowed values)
//	io.debezium.data.Xml               TEXT          TEXT               XML                 LONGTEXT
//	io.debezium.time.MicroDuration     BIGINT        BIGINT             INTERVAL            BIGINT
//	io.debezium.data.Bits (length n)   BYTEA         VARBINARY(1024)    BIT(n)              BIT(n) (n ≤ 64)
//	io.debezium.data.VariableScaleDecimal  DECIMAL ⁴ DECIMAL(65,30) ⁴  DOUBLE PRECISION    DOUBLE
//
// ¹ VARCHAR(255) in a key, where Confluent's TEXT fails ("BLOB/TEXT column used in key
// specification without a key length"). ² Confluent's sink knows none of Debezium's semantic
// types and would write their raw numbers and strings into INT, BIGINT and TEXT columns; kconnect
// writes them as the dates, times and documents they are, in either class. ³ Debezium's sink
// types it "time(6) with time zone", which MySQL and MariaDB lack, and fails the table.
// ⁴ Confluent's sink rejects this struct; kconnect keeps the number exact. ⁵ The hstore extension
// must be installed, as for Debezium; kconnect writes a null value as NULL and keeps backslashes,
// where Debezium's sink writes the text "null" and drops them. Other Debezium types
// (geometries, vectors, PostgreSQL's hstore, ranges, …) are written as their plain Connect type
// or rejected as structs and maps, where Debezium's sink has types of its own.
//
// On MySQL and MariaDB the session's time zone is db.timezone, so that a TIMESTAMP column (the
// Debezium class's ZonedTimestamp) reads the wall clock the sink writes as the right instant.
//
// Key columns and required fields are NOT NULL in a created table; the primary key follows
// pk.mode. Columns added by auto.evolve are always nullable, since existing rows have no value.
// Columns are never dropped or retyped. Schema defaults are not written as DEFAULT clauses (the
// sink sends every value, defaults applied). Timestamps go into zone-less columns as the wall
// clock of db.timezone; nanoseconds are rounded to microseconds on PostgreSQL (as PostgreSQL
// rounds surplus digits) and truncated on MySQL and MariaDB (as they do). Maps and nested structs
// are rejected with a hint to flatten them.
//
// # Exactly once into the database
//
// Beyond upstream, which is at-least-once, the sink stores the Kafka offsets a transaction covers
// in the destination database, in that same transaction. The table (kconnect.offsets.table,
// default kconnect_offsets, created when missing, in the connection's default schema or database
// unless qualified) has one row per connector, topic and partition:
//
//	connector        TEXT / VARCHAR(255)  the connector's name
//	kafka_topic      TEXT / VARCHAR(255)
//	kafka_partition  INTEGER
//	kafka_offset     BIGINT               the next offset to consume, as Kafka commits it
//	updated_at       TIMESTAMPTZ / TIMESTAMP(3)
//	PRIMARY KEY (connector, kafka_topic, kafka_partition)
//
// Every transaction first locks the rows of the partitions it writes and reads their offsets,
// then writes only records at or after them, then advances them. So a batch is either entirely in
// the database with its offsets or not at all; a retry after a commit whose acknowledgement was
// lost, a redelivery after a crash, or a second task instance briefly owning the same partition
// writes nothing twice. When partitions are assigned (Open) the task seeks the consumer to the
// stored offsets, and PreCommit returns exactly what the database holds, so the consumer group's
// offsets follow the database. With insert.mode=insert a crash then yields neither lost nor
// duplicated rows. This needs transactional tables (InnoDB on MySQL) in the same database as the
// offsets table.
//
// To reset a connector's position, stop it and delete its rows (DELETE FROM kconnect_offsets WHERE
// connector = '<name>'); offsets stored in the database take precedence over the consumer group's.
// Set kconnect.offsets.enabled=false to turn all of this off: no table is created or read, and the
// sink commits to Kafka what it has written, as upstream does.
//
// # Failures
//
// Lost connections, deadlocks, serialization failures and server shutdowns roll the transaction
// back and retry the whole batch on a new connection, max.retries times, retry.backoff.ms apart;
// then the task fails. Any other database error fails the batch: the sink rolls back, replays the
// batch row by row in a transaction it rolls back again to find the record the database rejects,
// and returns a *RecordError naming its topic, partition and offset with the database's message.
// When the runtime provides an errant record reporter (errors.tolerance=all), that record is
// reported (to the dead-letter queue) and the batch is written without it; records whose schema
// cannot be written take the same path. Records without a value schema (schemaless JSON) are
// rejected with a message to enable schemas or use Avro.
package sink
