// Package source is the JDBC polling source connector: it copies new and changed rows of
// PostgreSQL and MySQL/MariaDB tables (or of a custom query) into Kafka by polling, and accepts
// the configurations of Confluent's io.confluent.connect.jdbc.JdbcSourceConnector unchanged: the
// same keys and defaults, the same modes and WHERE clauses, the same topics, record schemas,
// source partitions and offsets, so offsets move between the two.
//
// # Reading
//
// PostgreSQL is read through pgx's native interface (binary protocol), MySQL and
// MariaDB through database/sql and go-sql-driver/mysql; each task holds one connection. A task's
// goroutine steps its tables in order of due time and streams each query's rows (nothing is
// buffered beyond the rows in flight) into batches of batch.max.rows, handed to Poll through a
// channel of max.buffer.size rows, so memory stays bounded whatever the table size and reading
// overlaps with the runtime producing the previous batch. Types map as TYPES.md lists. The
// common PostgreSQL types are decoded straight from the binary row bytes (pgbinary.go).
//
// A record may carry an earlier position than its own, never a later one: restarting from an
// earlier position reads rows again, from a later one would skip them. In incrementing and
// timestamp+incrementing modes the last record of each batch (and of each read) carries its own
// position and the others the position of the previous batch's end, which spares an offset map
// per row; after a crash at most one batch is read twice, on top of what the runtime's periodic
// offset flush already repeats. The task itself resumes from its exact position after a
// reconnect.
//
// # Never skipping a row
//
// Upstream's incremental modes skip rows whose transactions commit out of order: a query reads
// rows up to id 11 while the transaction that drew id 10 is still open, the offset moves to 11, and
// id 10 is never selected once it commits (confluentinc/kafka-connect-jdbc#27, #915, #598). The
// same happens to timestamps, and to rows sharing the timestamp the offset stopped at. Here every
// read is bounded above, and made only once no transaction still running can commit a row below
// the bound; rows above it wait for the next poll. Each poll of a table goes through three phases
// (see querier.step): fix a bound and the set of transactions that could still write below it,
// wait until those transactions have ended (other tables proceed meanwhile), then read everything
// between the offset and the bound. Those rows are final, so the offset may pass all of them.
//
// Incrementing mode bounds the read by M, the largest value committed when the poll starts
// (SELECT MAX). A row with a value at or below M that is not yet visible belongs to a transaction
// that drew the value before M was drawn (sequences, identity and AUTO_INCREMENT hand out values
// in increasing order at insert time) and has not committed. This assumes values are drawn while
// inserting: a sequence with CACHE above 1 gives each session a block of its own, and ids an
// application draws ahead of time can be inserted in any order; only timestamp.delay.interval.ms
// in a timestamp mode can cover those. On PostgreSQL an INSERT takes
// RowExclusiveLock on its table while it is parsed, before the value is drawn, and keeps it until
// the transaction ends; so once M is read, the holders of write locks on the table (pg_locks,
// readable by every user) include every such transaction. The read of (offset, M] waits until
// they have all ended. Transactions that take the lock later draw values above M. Views,
// partitioned and inherited tables (written through other relations) and custom queries wait for
// every transaction of the database instead.
//
// Timestamp modes bound the read by B, the database clock minus timestamp.delay.interval.ms, read
// in the same statement that lists the running transactions of the database (their virtual
// transaction IDs in pg_locks, excluding autovacuum and our own session). A row stamped before B
// that is not yet visible was written by a transaction that started before B, since now(),
// CURRENT_TIMESTAMP, statement_timestamp() and clock_timestamp() never precede their
// transaction's start; that transaction is in the list, and the read of [offset, B) waits until
// the list has ended. The delay is still needed for timestamps that can run behind their
// transaction's start: set by the application, rounded down, or taken by a statement that waited.
// Offsets then advance only past completely read timestamp groups: in timestamp mode a row's
// offset names its own timestamp only when the next row shows the group is complete (a restart
// re-reads a partly read group, never skips it), and timestamp+incrementing resumes inside a group
// by (timestamp, incrementing), as upstream does. A DATE column bounds reads by whole days: rows
// dated today are read once the day is over and the transactions open at midnight have ended.
//
// MySQL has no per-table view of writers and no snapshot horizon, so both modes wait for every
// InnoDB transaction that was running when the bound was fixed (information_schema.INNODB_TRX,
// which needs the PROCESS privilege). An AUTO_INCREMENT value is drawn inside the inserting
// statement after its InnoDB transaction has started, so the incrementing argument holds as on
// PostgreSQL. A row's NOW() is the start of its statement, which precedes the start of its InnoDB
// transaction by the time the statement took to open its tables; the delay must cover that, as it
// covers application-set timestamps. InnoDB refreshes INNODB_TRX only when nobody read it in the
// last 0.1 s, so reads are spaced (process-wide, per server) and checked for freshness: the read
// runs inside a transaction of our own whose row must show the read's own statement text, which
// only a refresh during the read can put there; a stale view is read again later, never trusted.
// Without the PROCESS privilege the task warns and relies on the delay alone, as upstream does.
//
// The cost is latency, not loss: a long-running transaction holds back the rows after the bound
// until it ends (the task logs which transactions it waits for after 30 s). On PostgreSQL only
// transactions writing the table hold back incrementing mode; any transaction of the database
// holds back timestamp modes.
//
// # Faults
//
// A lost connection, a server restart, a deadlock or a terminated backend makes the task
// reconnect with exponential backoff (up to connection.backoff.ms, for ever unless
// query.retry.attempts is set) and resume from the position of the last row it handed out; the
// bound of an interrupted read stays valid, so no barrier is repeated. A table dropped while
// assigned is skipped until the connector reassigns tables; a row that cannot be converted fails
// the task with the table, the column and the database type in the message. Identifiers are
// always quoted from the catalog's names, and every value reaches SQL as a bound parameter.
package source
