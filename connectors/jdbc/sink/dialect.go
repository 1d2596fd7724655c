package sink

import (
	"context"
	"fmt"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connectors/jdbc/jdbcurl"
)

// dialect.name values, as upstream's dialect class names.
const (
	dialectNamePostgres = "PostgreSqlDatabaseDialect"
	dialectNameMySQL    = "MySqlDatabaseDialect"
)

func dialectNameFor(d jdbcurl.Dialect) string {
	if d == jdbcurl.MySQL {
		return dialectNameMySQL
	}
	return dialectNamePostgres
}

// dialect is one database's connection and SQL. A dialect holds a single connection; data
// methods run inside the transaction opened by begin.
type dialect interface {
	// open connects; close disconnects and forgets session state (staging tables, statements).
	open(ctx context.Context) error
	close()
	isOpen() bool

	// parseTable splits a table name into its parts, folding case as unquoted names fold when
	// quoting is off; foldIdent does the same for a column name.
	parseTable(name string, quote bool) (tableID, error)
	foldIdent(name string, quote bool) string

	// describe returns nil, nil when the table does not exist.
	describe(ctx context.Context, id tableID) (*tableInfo, error)
	createTable(ctx context.Context, id tableID, cols []ddlColumn, pk []string) error
	addColumns(ctx context.Context, id tableID, cols []ddlColumn) error
	// sqlType is the column type auto.create and auto.evolve use for a field.
	sqlType(col *column) (string, error)
	// bindValue converts a non-null Connect value of col into what the driver sends.
	bindValue(col *column, v any) (any, error)

	// prepareBinding readies per-session state a binding needs before the data transaction.
	prepareBinding(ctx context.Context, ts *tableState, b *binding) error

	begin(ctx context.Context) error
	commit(ctx context.Context) error
	rollback(ctx context.Context)

	// write applies a finished segment: its deletes, then its writes.
	write(ctx context.Context, ts *tableState, b *binding, s *segment, mode insertMode) error
	// locate applies a segment one row at a time and returns the index in s.ops of the first op
	// that fails, with its error, or -1 when none does.
	locate(ctx context.Context, ts *tableState, b *binding, s *segment, mode insertMode) (int, error)
	truncate(ctx context.Context, ts *tableState) error

	// ensureOffsetsTable creates the offsets table when missing.
	ensureOffsetsTable(ctx context.Context, table tableID) error
	// readOffsets returns the stored offsets of a connector (outside any transaction).
	readOffsets(ctx context.Context, table tableID, connector string) (map[connect.TopicPartition]int64, error)
	// lockOffsets locks the rows of the given partitions for the transaction, creating missing
	// ones, and returns their stored offsets (-1 for new rows).
	lockOffsets(ctx context.Context, table tableID, connector string, tps []connect.TopicPartition) (map[connect.TopicPartition]int64, error)
	storeOffsets(ctx context.Context, table tableID, connector string, offsets map[connect.TopicPartition]int64) error

	// transient reports whether err may go away on a fresh connection: a lost connection, a
	// deadlock, a serialization failure, a server shutting down.
	transient(err error) bool
}

// RecordError is a failure caused by one record: the record cannot be converted, or the database
// rejected its row (a constraint violation, a value out of range). It names the record so the
// error can be acted on, and is what the dead-letter queue receives.
type RecordError struct {
	Topic     string
	Partition int32
	Offset    int64
	// Index is the record's position in the batch being written.
	Index int
	Err   error
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("record topic=%s partition=%d offset=%d: %v", e.Topic, e.Partition, e.Offset, e.Err)
}

// Unwrap returns the underlying error.
func (e *RecordError) Unwrap() error { return e.Err }

// offsetRows is what scanOffsets needs of a result set; database/sql's and pgx's rows both have it.
type offsetRows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// scanOffsets reads (topic, partition, offset) rows of the offsets table. The caller closes rows.
func scanOffsets(rows offsetRows) (map[connect.TopicPartition]int64, error) {
	out := map[connect.TopicPartition]int64{}
	for rows.Next() {
		var tp connect.TopicPartition
		var off int64
		if err := rows.Scan(&tp.Topic, &tp.Partition, &off); err != nil {
			return nil, err
		}
		out[tp] = off
	}
	return out, rows.Err()
}
