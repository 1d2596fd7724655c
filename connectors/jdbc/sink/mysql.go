package sink

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/kconnect/kconnect/connect"
)

// mysqlPacketMargin is kept free below max_allowed_packet for the statement text around the
// values and for estimation error.
const mysqlPacketMargin = 64 << 10

// mysqlMaxPlaceholders is the server's limit of parameters per prepared statement; the driver
// falls back to a prepared statement when interpolation would exceed the packet size.
const mysqlMaxPlaceholders = 65535

// mysqlDialect is the MySQL and MariaDB dialect on one pinned database/sql connection.
type mysqlDialect struct {
	cfg *config

	db        *sql.DB
	conn      *sql.Conn
	tx        *sql.Tx
	maxPacket int
	args      []any // reused argument buffer
}

func newMySQL(cfg *config) *mysqlDialect { return &mysqlDialect{cfg: cfg} }

func (m *mysqlDialect) open(ctx context.Context) error {
	mc, err := mysql.ParseDSN(m.cfg.conn.DSN)
	if err != nil {
		return fmt.Errorf("connection.url: %w", err)
	}
	// Client-side interpolation sends each multi-row statement in one round trip instead of
	// prepare, execute and close; the driver escapes every value.
	mc.InterpolateParams = true
	mc.MaxAllowedPacket = 0 // learn the server's max_allowed_packet on connect
	connector, err := mysql.NewConnector(mc)
	if err != nil {
		return fmt.Errorf("connection.url: %w", err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		_ = db.Close()
		return err
	}
	var packet int64
	if err := conn.QueryRowContext(ctx, "SELECT @@max_allowed_packet").Scan(&packet); err != nil {
		_ = conn.Close()
		_ = db.Close()
		return fmt.Errorf("read max_allowed_packet: %w", err)
	}
	if err := m.setTimeZone(ctx, conn); err != nil {
		_ = conn.Close()
		_ = db.Close()
		return err
	}
	m.db, m.conn, m.tx = db, conn, nil
	m.maxPacket = int(packet)
	return nil
}

// setTimeZone makes db.timezone the session's time zone. The sink writes wall-clock times of
// db.timezone; a DATETIME column keeps them as they are, but a TIMESTAMP column (Debezium's type
// for ZonedTimestamp) reads them in the session's zone, which would otherwise be the server's.
// A server without time zone tables knows only offsets: the zone's current one is then used.
func (m *mysqlDialect) setTimeZone(ctx context.Context, conn *sql.Conn) error {
	zone := m.cfg.zone.String()
	if zone == "UTC" {
		zone = "+00:00"
	}
	if _, err := conn.ExecContext(ctx, "SET time_zone = ?", zone); err == nil {
		return nil
	}
	_, offset := time.Now().In(m.cfg.zone).Zone()
	if _, err := conn.ExecContext(ctx, "SET time_zone = ?", time.Unix(0, 0).In(time.FixedZone("", offset)).Format("-07:00")); err != nil {
		return fmt.Errorf("set the session time zone to db.timezone %s: %w", m.cfg.zone, err)
	}
	return nil
}

func (m *mysqlDialect) close() {
	if m.conn == nil {
		return
	}
	if m.tx != nil {
		_ = m.tx.Rollback() // the connection is being discarded
	}
	_ = m.conn.Close()
	_ = m.db.Close()
	m.db, m.conn, m.tx = nil, nil, nil
}

func (m *mysqlDialect) isOpen() bool { return m.conn != nil }

func (m *mysqlDialect) parseTable(name string, _ bool) (tableID, error) {
	id, err := splitTableName(name, 2)
	if err != nil {
		return id, fmt.Errorf("%w (MySQL names a table as table or database.table)", err)
	}
	return id, nil
}

// foldIdent keeps names as they are: MySQL's case rules do not depend on quoting.
func (m *mysqlDialect) foldIdent(name string, _ bool) string { return name }

func myIdent(name string) string { return "`" + strings.ReplaceAll(name, "`", "``") + "`" }

func myTable(id tableID) string {
	if id.schema != "" {
		return myIdent(id.schema) + "." + myIdent(id.name)
	}
	return myIdent(id.name)
}

func myIdents(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = myIdent(n)
	}
	return strings.Join(q, ", ")
}

type myQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (m *mysqlDialect) q() myQuerier {
	if m.tx != nil {
		return m.tx
	}
	return m.conn
}

func (m *mysqlDialect) describe(ctx context.Context, id tableID) (*tableInfo, error) {
	var schema any
	if id.schema != "" {
		schema = id.schema
	}
	rows, err := m.q().QueryContext(ctx, `
		SELECT t.TABLE_TYPE, c.COLUMN_NAME
		FROM information_schema.TABLES t
		LEFT JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME
		WHERE t.TABLE_SCHEMA = COALESCE(?, DATABASE()) AND t.TABLE_NAME = ?
		ORDER BY c.ORDINAL_POSITION`, schema, id.name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var kind string
	var cols []string
	found := false
	for rows.Next() {
		var tt string
		var col sql.NullString
		if err := rows.Scan(&tt, &col); err != nil {
			return nil, err
		}
		found = true
		switch tt {
		case "BASE TABLE", "SYSTEM VERSIONED":
			kind = "TABLE"
		default:
			kind = strings.ReplaceAll(tt, " ", "_")
		}
		if col.Valid {
			cols = append(cols, col.String)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if !found {
		return nil, nil
	}
	return newTableInfo(kind, cols), nil
}

func (m *mysqlDialect) createTable(ctx context.Context, id tableID, cols []ddlColumn, pk []string) error {
	var b strings.Builder
	b.WriteString("CREATE TABLE IF NOT EXISTS " + myTable(id) + " (")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(myIdent(c.name) + " " + c.sqlType)
		if c.nullable {
			b.WriteString(" NULL")
		} else {
			b.WriteString(" NOT NULL")
		}
	}
	if len(pk) > 0 {
		b.WriteString(", PRIMARY KEY (" + myIdents(pk) + ")")
	}
	b.WriteString(")")
	_, err := m.conn.ExecContext(ctx, b.String())
	return err
}

func (m *mysqlDialect) addColumns(ctx context.Context, id tableID, cols []ddlColumn) error {
	adds := make([]string, len(cols))
	for i, c := range cols {
		adds[i] = "ADD COLUMN " + myIdent(c.name) + " " + c.sqlType + " NULL"
	}
	_, err := m.conn.ExecContext(ctx, "ALTER TABLE "+myTable(id)+" "+strings.Join(adds, ", "))
	return err
}

// sqlType follows the connector class the user configured, so that a table kconnect creates is
// the one that connector would have created (TestAutoCreateMatchesDebeziumJDBCSink,
// TestConfluentColumnTypes).
func (m *mysqlDialect) sqlType(col *column) (string, error) {
	if col.kind == kindDecimal {
		scale, _ := connect.DecimalScale(col.schema)
		if scale < 0 || scale > 30 {
			return "", fmt.Errorf("decimal scale %d is outside MySQL's 0..30", scale)
		}
	}
	if col.kind == kindArray {
		return "", fmt.Errorf("MySQL has no array column type")
	}
	if m.cfg.debezium {
		return myDebeziumType(col)
	}
	return myConfluentType(col)
}

// myDebeziumType is the column type Debezium's JDBC sink creates on MariaDB: every time and
// timestamp with microseconds, ZonedTimestamp as TIMESTAMP, a UUID as text, Year as YEAR, an Enum
// as ENUM of its allowed values, Bits as BIT(length), VariableScaleDecimal as DOUBLE, a map as a
// JSON object, and a decimal without a declared precision as DECIMAL(38, scale). Debezium cannot create a ZonedTime column
// on MySQL ("time with time zone"); kconnect keeps its text.
func myDebeziumType(col *column) (string, error) {
	switch k := col.kind; {
	case k == kindDecimal:
		return "DECIMAL(" + strconv.Itoa(min(debeziumDecimalPrecision(col.schema), 65)) + "," + decimalScale(col.schema) + ")", nil
	case isDateKind(k):
		return "DATE", nil
	case isTimeKind(k):
		return "TIME(6)", nil
	case isTimestampKind(k):
		return "DATETIME(6)", nil
	case k == kindZonedTimestamp:
		return "TIMESTAMP(6)", nil
	case k == kindJSON:
		return "JSON", nil
	case k == kindYear:
		return "YEAR", nil
	case k == kindVarDecimal:
		return "DOUBLE", nil
	case k == kindMap:
		return "JSON", nil
	case k == kindBits && bitsLength(col.schema) > 0 && bitsLength(col.schema) <= 64:
		return "BIT(" + strconv.Itoa(bitsLength(col.schema)) + ")", nil
	case k == kindEnum:
		if allowed, ok := col.schema.Parameters.Get("allowed"); ok && allowed != "" {
			values := strings.Split(allowed, ",")
			for i, v := range values {
				values[i] = "'" + strings.ReplaceAll(strings.ReplaceAll(v, `\`, `\\`), "'", "''") + "'"
			}
			return "ENUM(" + strings.Join(values, ",") + ")", nil
		}
	}
	switch col.schema.Type {
	case connect.TypeBoolean:
		return "BOOLEAN", nil
	case connect.TypeString:
		// A key column needs a bounded type to be indexed; other text may be long.
		if col.key {
			return "VARCHAR(255)", nil
		}
		return "LONGTEXT", nil
	case connect.TypeBytes:
		if col.key {
			return "VARBINARY(255)", nil
		}
		return "LONGBLOB", nil
	}
	return myNumberType(col.schema.Type)
}

// myConfluentType is the column type Confluent's JDBC sink creates on MySQL
// (MySqlDatabaseDialect.getSqlType), except that a string key is VARCHAR(255) where Confluent's
// TEXT cannot be a key. Debezium's semantic types, which Confluent's sink writes as their plain
// numbers and strings (or, a VariableScaleDecimal struct, rejects), keep typed columns of the
// precision they carry.
func myConfluentType(col *column) (string, error) {
	switch k := col.kind; {
	case k == kindDecimal:
		return "DECIMAL(65," + decimalScale(col.schema) + ")", nil
	case isDateKind(k):
		return "DATE", nil
	case isTimeKind(k):
		return "TIME(" + strconv.Itoa(timeFraction(k)) + ")", nil
	case isTimestampKind(k):
		return "DATETIME(" + strconv.Itoa(timeFraction(k)) + ")", nil
	case k == kindZonedTimestamp:
		return "DATETIME(6)", nil
	case k == kindJSON:
		return "JSON", nil
	case k == kindUUID:
		return "CHAR(36)", nil
	case k == kindVarDecimal:
		return "DECIMAL(65,30)", nil
	}
	switch col.schema.Type {
	case connect.TypeBoolean:
		return "TINYINT", nil
	case connect.TypeString:
		if col.key {
			return "VARCHAR(255)", nil
		}
		return "TEXT", nil
	case connect.TypeBytes:
		return "VARBINARY(1024)", nil
	}
	return myNumberType(col.schema.Type)
}

// myNumberType is the type both connectors give Connect's numeric types.
func myNumberType(t connect.Type) (string, error) {
	switch t {
	case connect.TypeInt8:
		return "TINYINT", nil
	case connect.TypeInt16:
		return "SMALLINT", nil
	case connect.TypeInt32:
		return "INT", nil
	case connect.TypeInt64:
		return "BIGINT", nil
	case connect.TypeFloat32:
		return "FLOAT", nil
	case connect.TypeFloat64:
		return "DOUBLE", nil
	}
	return "", fmt.Errorf("no MySQL column type for %s", t)
}

func (m *mysqlDialect) bindValue(col *column, v any) (any, error) {
	switch col.kind {
	case kindPlain, kindJSON, kindUUID, kindZonedTime, kindYear, kindEnum, kindXML, kindMicroDuration:
		return v, nil
	case kindMap:
		m, err := stringKeyed(v)
		if err != nil {
			return nil, err
		}
		doc, err := json.Marshal(m)
		return string(doc), err
	case kindVarDecimal:
		d, err := asVarDecimal(v)
		if err != nil {
			return nil, err
		}
		if m.cfg.debezium {
			return d.Float64(), nil // DOUBLE, as Debezium's sink writes it
		}
		return d.String(), nil
	case kindBits:
		b, ok := v.([]byte)
		n := bitsLength(col.schema)
		if !ok || !m.cfg.debezium || n == 0 || n > 64 {
			return v, nil // a blob column
		}
		// BIT(n) takes the set as a number, bit i worth 2^i, as Debezium's sink binds it.
		var x uint64
		for i := range n {
			if bitAt(b, i) {
				x |= 1 << i
			}
		}
		return x, nil
	case kindDecimal:
		d, ok := v.(connect.Decimal)
		if !ok {
			return nil, fmt.Errorf("decimal value must be connect.Decimal, got %T", v)
		}
		return d.String(), nil
	case kindArray:
		return nil, fmt.Errorf("MySQL has no array column type")
	}
	switch {
	case isDateKind(col.kind):
		d, err := asDate(col.kind, v)
		if err != nil {
			return nil, err
		}
		return d.Format(time.DateOnly), nil
	case isTimeKind(col.kind):
		us, err := asTimeOfDay(col.kind, v)
		if err != nil {
			return nil, err
		}
		return fmt.Sprintf("%02d:%02d:%02d.%06d", us/3_600_000_000, us/60_000_000%60, us/1_000_000%60, us%1_000_000), nil
	case isTimestampKind(col.kind) || col.kind == kindZonedTimestamp:
		ts, err := asInstant(col.kind, v)
		if err != nil {
			return nil, err
		}
		// DATETIME has no time zone: write the wall clock of db.timezone.
		return ts.In(m.cfg.zone).Format("2006-01-02 15:04:05.999999"), nil
	}
	return nil, fmt.Errorf("unsupported value kind %d", col.kind)
}

func (m *mysqlDialect) prepareBinding(context.Context, *tableState, *binding) error { return nil }

func (m *mysqlDialect) begin(ctx context.Context) error {
	tx, err := m.conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	m.tx = tx
	return nil
}

func (m *mysqlDialect) commit(context.Context) error {
	tx := m.tx
	m.tx = nil
	return tx.Commit()
}

func (m *mysqlDialect) rollback(context.Context) {
	if m.tx == nil {
		return
	}
	tx := m.tx
	m.tx = nil
	_ = tx.Rollback() // on a broken connection the server rolls back by itself
}

func (m *mysqlDialect) write(ctx context.Context, ts *tableState, b *binding, s *segment, mode insertMode) error {
	if len(s.deletes) > 0 {
		if err := m.chunked(ctx, s, s.deletes, b.nkey, func(n int) string { return myDeleteSQL(ts, b, n) }, true); err != nil {
			return err
		}
	}
	if len(s.writes) == 0 || (mode == modeUpdate && len(b.valCols()) == 0) {
		return nil
	}
	return m.chunked(ctx, s, s.writes, len(b.cols), func(n int) string { return myWriteSQL(ts, b, mode, n) }, false)
}

func (m *mysqlDialect) locate(ctx context.Context, ts *tableState, b *binding, s *segment, mode insertMode) (int, error) {
	for _, oi := range s.deletes {
		if _, err := m.tx.ExecContext(ctx, myDeleteSQL(ts, b, 1), s.keyRow(s.ops[oi])...); err != nil {
			return int(oi), err
		}
	}
	if mode == modeUpdate && len(b.valCols()) == 0 {
		return -1, nil
	}
	q := myWriteSQL(ts, b, mode, 1)
	for _, oi := range s.writes {
		if _, err := m.tx.ExecContext(ctx, q, s.row(s.ops[oi])...); err != nil {
			return int(oi), err
		}
	}
	return -1, nil
}

// chunked runs multi-row statements over the ops, each under batch.size rows, the placeholder
// limit and (by estimate) max_allowed_packet.
func (m *mysqlDialect) chunked(ctx context.Context, s *segment, ops []int32, width int, build func(n int) string, keyOnly bool) error {
	maxRows := mysqlMaxPlaceholders / width
	if bs := m.cfg.batchSize; bs > 0 && bs < maxRows {
		maxRows = bs
	}
	maxBytes := m.maxPacket - mysqlPacketMargin
	if maxBytes < 1<<16 {
		maxBytes = 1 << 16
	}
	args := m.args[:0]
	rows, size := 0, 0
	flush := func() error {
		if rows == 0 {
			return nil
		}
		_, err := m.tx.ExecContext(ctx, build(rows), args...)
		args, rows, size = args[:0], 0, 0
		return err
	}
	for _, oi := range ops {
		o := s.ops[oi]
		var vals []any
		if keyOnly {
			vals = s.keyRow(o)
		} else {
			vals = s.row(o)
		}
		est := 3 + 2*len(vals)
		for _, v := range vals {
			est += estimateSQLSize(v)
		}
		if rows > 0 && (rows >= maxRows || size+est > maxBytes) {
			if err := flush(); err != nil {
				m.args = args
				return err
			}
		}
		args = append(args, vals...)
		rows++
		size += est
	}
	err := flush()
	clear(args[:cap(args)])
	m.args = args[:0]
	return err
}

// estimateSQLSize bounds the bytes a value takes once interpolated and escaped.
func estimateSQLSize(v any) int {
	switch x := v.(type) {
	case nil:
		return 4
	case string:
		return 2*len(x) + 2
	case []byte:
		return 2*len(x) + 10
	}
	return 32
}

func myPlaceholders(b *strings.Builder, rows, width int) {
	for r := 0; r < rows; r++ {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := 0; c < width; c++ {
			if c > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('?')
		}
		b.WriteByte(')')
	}
}

func myDeleteSQL(ts *tableState, b *binding, rows int) string {
	var sb strings.Builder
	sb.WriteString("DELETE FROM " + myTable(ts.id) + " WHERE ")
	if b.nkey == 1 {
		sb.WriteString(myIdent(b.cols[0]) + " IN (")
		for r := 0; r < rows; r++ {
			if r > 0 {
				sb.WriteByte(',')
			}
			sb.WriteByte('?')
		}
		sb.WriteByte(')')
		return sb.String()
	}
	sb.WriteString("(" + myIdents(b.keyCols()) + ") IN (")
	myPlaceholders(&sb, rows, b.nkey)
	sb.WriteByte(')')
	return sb.String()
}

func myWriteSQL(ts *tableState, b *binding, mode insertMode, rows int) string {
	var sb strings.Builder
	if mode == modeUpdate {
		// A multi-row UPDATE: join the table to the rows as a derived table.
		sb.WriteString("UPDATE " + myTable(ts.id) + " AS t JOIN (")
		for r := 0; r < rows; r++ {
			if r == 0 {
				sb.WriteString("SELECT ")
				for i, c := range b.cols {
					if i > 0 {
						sb.WriteString(", ")
					}
					sb.WriteString("? AS " + myIdent(c))
				}
				continue
			}
			sb.WriteString(" UNION ALL SELECT ")
			for i := range b.cols {
				if i > 0 {
					sb.WriteByte(',')
				}
				sb.WriteByte('?')
			}
		}
		sb.WriteString(") AS s ON ")
		for i, k := range b.keyCols() {
			if i > 0 {
				sb.WriteString(" AND ")
			}
			sb.WriteString("t." + myIdent(k) + " = s." + myIdent(k))
		}
		sb.WriteString(" SET ")
		for i, c := range b.valCols() {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("t." + myIdent(c) + " = s." + myIdent(c))
		}
		return sb.String()
	}
	sb.WriteString("INSERT INTO " + myTable(ts.id) + " (" + myIdents(b.cols) + ") VALUES ")
	myPlaceholders(&sb, rows, len(b.cols))
	if mode == modeUpsert {
		sb.WriteString(" ON DUPLICATE KEY UPDATE ")
		upd := b.valCols()
		if len(upd) == 0 {
			upd = b.keyCols()
		}
		for i, c := range upd {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(myIdent(c) + "=VALUES(" + myIdent(c) + ")")
		}
	}
	return sb.String()
}

func (m *mysqlDialect) truncate(ctx context.Context, ts *tableState) error {
	// TRUNCATE would commit the transaction implicitly; DELETE keeps it atomic with the offsets.
	_, err := m.tx.ExecContext(ctx, "DELETE FROM "+myTable(ts.id))
	return err
}

func (m *mysqlDialect) ensureOffsetsTable(ctx context.Context, table tableID) error {
	_, err := m.conn.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+myTable(table)+` (
		`+"`connector`"+` VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
		`+"`kafka_topic`"+` VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
		`+"`kafka_partition`"+` INT NOT NULL,
		`+"`kafka_offset`"+` BIGINT NOT NULL,
		`+"`updated_at`"+` TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
		PRIMARY KEY (`+"`connector`, `kafka_topic`, `kafka_partition`"+`)) ENGINE=InnoDB`)
	if err != nil {
		return fmt.Errorf("create offsets table %s: %w", table, err)
	}
	return nil
}

func (m *mysqlDialect) readOffsets(ctx context.Context, table tableID, connector string) (map[connect.TopicPartition]int64, error) {
	rows, err := m.q().QueryContext(ctx, "SELECT `kafka_topic`, `kafka_partition`, `kafka_offset` FROM "+myTable(table)+
		" WHERE `connector` = ? AND `kafka_offset` >= 0", connector)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return scanOffsets(rows)
}

func (m *mysqlDialect) lockOffsets(ctx context.Context, table tableID, connector string, tps []connect.TopicPartition) (map[connect.TopicPartition]int64, error) {
	ins := make([]any, 0, 3*len(tps))
	sel := make([]any, 0, 1+2*len(tps))
	sel = append(sel, connector)
	for _, tp := range tps {
		ins = append(ins, connector, tp.Topic, tp.Partition)
		sel = append(sel, tp.Topic, tp.Partition)
	}
	var sb strings.Builder
	sb.WriteString("INSERT INTO " + myTable(table) + " (`connector`, `kafka_topic`, `kafka_partition`, `kafka_offset`) VALUES ")
	for i := range tps {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString("(?,?,?,-1)")
	}
	// The no-op update takes the row lock, so a second writer of the same partitions waits.
	sb.WriteString(" ON DUPLICATE KEY UPDATE `kafka_offset` = `kafka_offset`")
	if _, err := m.tx.ExecContext(ctx, sb.String(), ins...); err != nil {
		return nil, err
	}
	sb.Reset()
	sb.WriteString("SELECT `kafka_topic`, `kafka_partition`, `kafka_offset` FROM " + myTable(table) +
		" WHERE `connector` = ? AND (`kafka_topic`, `kafka_partition`) IN (")
	myPlaceholders(&sb, len(tps), 2)
	sb.WriteString(") FOR UPDATE")
	rows, err := m.tx.QueryContext(ctx, sb.String(), sel...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return scanOffsets(rows)
}

func (m *mysqlDialect) storeOffsets(ctx context.Context, table tableID, connector string, offsets map[connect.TopicPartition]int64) error {
	if len(offsets) == 0 {
		return nil
	}
	args := make([]any, 0, 4*len(offsets))
	var sb strings.Builder
	sb.WriteString("INSERT INTO " + myTable(table) + " (`connector`, `kafka_topic`, `kafka_partition`, `kafka_offset`) VALUES ")
	first := true
	for tp, o := range offsets {
		if !first {
			sb.WriteByte(',')
		}
		first = false
		sb.WriteString("(?,?,?,?)")
		args = append(args, connector, tp.Topic, tp.Partition, o)
	}
	sb.WriteString(" ON DUPLICATE KEY UPDATE `kafka_offset` = VALUES(`kafka_offset`)")
	_, err := m.tx.ExecContext(ctx, sb.String(), args...)
	return err
}

// myTransientErrors are server error numbers worth a retry on a fresh connection.
var myTransientErrors = map[uint16]bool{
	1040: true,                                     // too many connections
	1053: true,                                     // server shutdown in progress
	1152: true,                                     // aborted connection
	1158: true, 1159: true, 1160: true, 1161: true, // network read/write errors and timeouts
	1205: true, // lock wait timeout
	1213: true, // deadlock
	1317: true, // query interrupted (KILL QUERY)
	1927: true, // MariaDB: connection was killed
	2006: true, // server has gone away
	2013: true, // lost connection during query
	4031: true, // MySQL: disconnected by the server for inactivity
}

func (m *mysqlDialect) transient(err error) bool {
	if err == nil {
		return false
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return myTransientErrors[me.Number]
	}
	var netErr net.Error
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &netErr)
}
