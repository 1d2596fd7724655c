package source

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connectors/jdbc/jdbcurl"
	"github.com/kconnect/kconnect/internal/backoff"
)

// myDialect reads MySQL and MariaDB through database/sql and go-sql-driver/mysql, on one
// dedicated connection whose session time zone is UTC, so TIMESTAMP values arrive as instants.
type myDialect struct {
	dsnCfg    *mysql.Config
	db        *sql.DB
	conn      *sql.Conn
	database  string
	isolation string
	log       *slog.Logger
	// threadID is our connection's id; nonce numbers our reads of INNODB_TRX.
	threadID int64
	nonce    uint64
	// noTrxView is set once reading information_schema.INNODB_TRX failed for lack of the PROCESS
	// privilege; barriers are then empty and only timestamp.delay.interval.ms protects reads.
	noTrxView bool
}

func newMySQL(conn jdbcurl.Conn, cfg *config, log *slog.Logger) (*myDialect, error) {
	mc, err := mysql.ParseDSN(conn.DSN)
	if err != nil {
		return nil, fmt.Errorf("connection.url: %w", err)
	}
	mc.ParseTime = true
	mc.Loc = time.UTC
	if mc.Params == nil {
		mc.Params = map[string]string{}
	}
	mc.Params["time_zone"] = "'+00:00'"
	return &myDialect{dsnCfg: mc, database: mc.DBName, isolation: cfg.isolation, log: log}, nil
}

func (d *myDialect) name() jdbcurl.Dialect { return jdbcurl.MySQL }

func (d *myDialect) quote(ident string) string { return quoteWith(ident, '`') }

func (d *myDialect) param(int) string { return "?" }

func (d *myDialect) open(ctx context.Context) error {
	d.close()
	connector, err := mysql.NewConnector(d.dsnCfg)
	if err != nil {
		return err
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		_ = db.Close()
		return err
	}
	if level := sqlIsolation(d.isolation); level != "" {
		if _, err := conn.ExecContext(ctx, "SET SESSION TRANSACTION ISOLATION LEVEL "+level); err != nil {
			_ = conn.Close()
			_ = db.Close()
			return fmt.Errorf("setting %s: %w", keyIsolationMode, err)
		}
	}
	if err := conn.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&d.threadID); err != nil {
		_ = conn.Close()
		_ = db.Close()
		return err
	}
	d.db, d.conn = db, conn
	return nil
}

func (d *myDialect) close() {
	if d.conn != nil {
		_ = d.conn.Close()
		d.conn = nil
	}
	if d.db != nil {
		_ = d.db.Close()
		d.db = nil
	}
}

// mySystemSchemas hold the server's own tables.
var mySystemSchemas = []string{"mysql", "information_schema", "performance_schema", "sys"}

// myTableTypes maps table.types onto information_schema.TABLES.TABLE_TYPE.
var myTableTypes = map[string][]string{
	"TABLE": {"BASE TABLE", "SYSTEM VERSIONED"}, "VIEW": {"VIEW"},
}

func (d *myDialect) listTables(ctx context.Context, cfg *config) ([]tableID, error) {
	var args []any
	var types []string
	for _, t := range cfg.tableTypes {
		for _, tt := range myTableTypes[strings.ToUpper(strings.TrimSpace(t))] {
			types = append(types, "?")
			args = append(args, tt)
		}
	}
	if len(types) == 0 {
		return nil, nil
	}
	q := "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE IN (" +
		strings.Join(types, ",") + ") AND TABLE_SCHEMA NOT IN (?, ?, ?, ?)"
	for _, s := range mySystemSchemas {
		args = append(args, s)
	}
	switch {
	case cfg.catalogPattern != "":
		q += " AND TABLE_SCHEMA LIKE ?"
		args = append(args, cfg.catalogPattern)
	case d.database != "":
		q += " AND TABLE_SCHEMA = ?"
		args = append(args, d.database)
	}
	rows, err := d.conn.QueryContext(ctx, q+" ORDER BY 1, 2", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []tableID
	for rows.Next() {
		var t tableID
		if err := rows.Scan(&t.ns, &t.name); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func (d *myDialect) columns(ctx context.Context, t tableID) ([]column, error) {
	rows, err := d.conn.QueryContext(ctx, `
		SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE = 'YES', NUMERIC_PRECISION, NUMERIC_SCALE, EXTRA
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, t.ns, t.name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []column
	for rows.Next() {
		var c column
		var dataType, columnType, extra string
		var precision, scale sql.NullInt64
		if err := rows.Scan(&c.name, &dataType, &columnType, &c.nullable, &precision, &scale, &extra); err != nil {
			return nil, err
		}
		c.typ = myCatalogType(dataType, columnType, int(precision.Int64), int(scale.Int64))
		c.autoIncrement = strings.Contains(strings.ToLower(extra), "auto_increment")
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errTableNotFound
	}
	return out, nil
}

// myCatalogType maps information_schema.COLUMNS types.
func myCatalogType(dataType, columnType string, precision, scale int) colType {
	dt := strings.ToLower(dataType)
	ct := colType{dbType: strings.ToUpper(dt), unsigned: strings.Contains(strings.ToLower(columnType), "unsigned")}
	switch dt {
	case "tinyint", "bool", "boolean":
		ct.kind, ct.bits = kindInt, 8
	case "smallint":
		ct.kind, ct.bits = kindInt, 16
	case "mediumint":
		ct.kind, ct.bits = kindInt, 24
	case "int", "integer":
		ct.kind, ct.bits = kindInt, 32
	case "bigint":
		ct.kind, ct.bits = kindInt, 64
	case "decimal", "numeric", "fixed", "dec":
		ct.kind, ct.precision, ct.scale = kindDecimal, precision, scale
	case "float":
		ct.kind = kindFloat32
	case "double", "real", "double precision":
		ct.kind = kindFloat64
	case "bit":
		if strings.ToLower(columnType) == "bit(1)" {
			// Connector/J reports BIT(1) as JDBC BIT, which upstream maps to INT8.
			ct.kind, ct.bits = kindInt, 8
		} else {
			ct.kind = kindBytes
		}
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "geometry", "point",
		"linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection", "vector":
		ct.kind = kindBytes
	case "date", "year":
		ct.kind = kindDate
	case "time":
		ct.kind = kindTime
	case "datetime":
		ct.kind = kindTimestamp
	case "timestamp":
		ct.kind = kindTimestampTZ
	default:
		ct.kind = kindString
	}
	return ct
}

func (d *myDialect) checkReadable(ctx context.Context, t tableID) error {
	rows, err := d.conn.QueryContext(ctx, "SELECT * FROM "+quoteTable(d, t)+" LIMIT 0")
	if err != nil {
		return err
	}
	return rows.Close()
}

func (d *myDialect) describeQuery(ctx context.Context, q string, cfg *config) ([]resultColumn, error) {
	rows, err := d.conn.QueryContext(ctx, "SELECT * FROM ("+q+") kconnect_q LIMIT 0")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	p, err := d.buildPlan(rows, queryOpts{cfg: cfg})
	if err != nil {
		return nil, err
	}
	return p.columns, nil
}

func (d *myDialect) now(ctx context.Context) (time.Time, error) {
	var t time.Time
	err := d.conn.QueryRowContext(ctx, "SELECT UTC_TIMESTAMP(6)").Scan(&t)
	return t, err
}

func (d *myDialect) maxInt(ctx context.Context, q string) (int64, bool, error) {
	var v sql.NullInt64
	if err := d.conn.QueryRowContext(ctx, q).Scan(&v); err != nil {
		return 0, false, err
	}
	return v.Int64, v.Valid, nil
}

// myTrx identifies an InnoDB transaction: its connection and its start (INNODB_TRX shows whole
// seconds, so a later transaction of the same connection in the same second looks the same and
// is waited for too, which is only cautious).
type myTrx struct {
	thread  int64
	started time.Time
}

// myBarrier is the set of InnoDB transactions that were running when it was established. Until
// a fresh read of INNODB_TRX succeeded it is not established, and nothing is final.
type myBarrier struct {
	established bool
	waiting     []myTrx
}

func (b *myBarrier) empty() bool { return b.established && len(b.waiting) == 0 }

func (b *myBarrier) String() string {
	if !b.established {
		return "a current view of information_schema.INNODB_TRX"
	}
	parts := make([]string, len(b.waiting))
	for i, t := range b.waiting {
		parts[i] = fmt.Sprintf("connection %d (started %s)", t.thread, t.started.Format(time.DateTime))
	}
	return "InnoDB transactions of " + strings.Join(parts, ", ")
}

// writerBarrier cannot tell which transactions write a given table on MySQL, so it waits for all.
func (d *myDialect) writerBarrier(ctx context.Context, _ *tableID) (barrier, error) {
	b := &myBarrier{}
	return b, d.establish(ctx, b)
}

// timeBarrier reads the clock before establishing the barrier, so every transaction that started
// before the clock reading and is still running is in it.
func (d *myDialect) timeBarrier(ctx context.Context) (time.Time, barrier, error) {
	var now time.Time
	if err := d.conn.QueryRowContext(ctx, "SELECT UTC_TIMESTAMP(6)").Scan(&now); err != nil {
		return time.Time{}, nil, err
	}
	b := &myBarrier{}
	return now, b, d.establish(ctx, b)
}

func (d *myDialect) barrierDone(ctx context.Context, b barrier) (bool, error) {
	mb := b.(*myBarrier)
	if !mb.established {
		if err := d.establish(ctx, mb); err != nil {
			return false, err
		}
		return mb.empty(), nil
	}
	if len(mb.waiting) == 0 {
		return true, nil
	}
	trxs, _, err := d.readTrx(ctx, false)
	if err != nil || d.noTrxView {
		return d.noTrxView, err
	}
	// The view never goes back in time, so a transaction missing from it has ended.
	still := mb.waiting[:0]
	for _, w := range mb.waiting {
		for _, t := range trxs {
			if t.thread == w.thread && !t.started.After(w.started) {
				still = append(still, w)
				break
			}
		}
	}
	mb.waiting = still
	return len(still) == 0, nil
}

// establish fills b with the transactions running now, if INNODB_TRX can be read fresh.
func (d *myDialect) establish(ctx context.Context, b *myBarrier) error {
	if d.noTrxView {
		b.established = true
		return nil
	}
	trxs, fresh, err := d.readTrx(ctx, true)
	if err != nil || d.noTrxView {
		b.established = d.noTrxView
		return err
	}
	if !fresh {
		return nil
	}
	b.established = true
	for _, t := range trxs {
		if t.thread != d.threadID {
			b.waiting = append(b.waiting, t)
		}
	}
	return nil
}

// trxGate serializes and spaces the reads of INNODB_TRX of a process against one server: InnoDB
// refreshes that view only when nobody read it for 0.1 s, so frequent readers would see it frozen.
type trxGate struct {
	mu   sync.Mutex
	last time.Time
}

const trxReadSpacing = 150 * time.Millisecond

var trxGates sync.Map

// readTrx reads the running InnoDB transactions. With marker set, the read runs inside a
// transaction of our own whose row carries this read's query text only if the view was refreshed
// during the read: fresh reports that, and then the list holds every transaction running since
// before the read began.
func (d *myDialect) readTrx(ctx context.Context, marker bool) (trxs []myTrx, fresh bool, err error) {
	g, _ := trxGates.LoadOrStore(d.dsnCfg.Addr, &trxGate{})
	gate := g.(*trxGate)
	gate.mu.Lock()
	defer gate.mu.Unlock()
	if !backoff.Sleep(ctx, trxReadSpacing-time.Since(gate.last)) {
		return nil, false, ctx.Err()
	}
	defer func() { gate.last = time.Now() }()
	if marker {
		if _, err := d.conn.ExecContext(ctx, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"); err != nil {
			return nil, false, err
		}
		if _, err := d.conn.ExecContext(ctx, "START TRANSACTION WITH CONSISTENT SNAPSHOT"); err != nil {
			return nil, false, err
		}
		defer func() {
			if _, cerr := d.conn.ExecContext(context.WithoutCancel(ctx), "COMMIT"); cerr != nil && err == nil {
				err = cerr
			}
		}()
	}
	d.nonce++
	tag := fmt.Sprintf("kconnect-trx-view-%d-%d", d.threadID, d.nonce)
	// The tag is our own number, part of the statement text so that INNODB_TRX.trx_query shows it.
	rows, err := d.conn.QueryContext(ctx, "SELECT /* "+tag+" */ trx_mysql_thread_id, trx_started, coalesce(trx_query, '') FROM information_schema.INNODB_TRX")
	var me *mysql.MySQLError
	if errors.As(err, &me) && (me.Number == 1227 || me.Number == 1044 || me.Number == 1142) {
		d.noTrxView = true
		d.log.Warn("cannot read information_schema.INNODB_TRX (grant the PROCESS privilege): rows of transactions "+
			"that commit out of order may be skipped unless timestamp.delay.interval.ms exceeds the longest transaction", "err", err)
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	for rows.Next() {
		var t myTrx
		var query string
		if err := rows.Scan(&t.thread, &t.started, &query); err != nil {
			return nil, false, err
		}
		if t.thread == d.threadID && strings.Contains(query, tag) {
			fresh = true
		}
		trxs = append(trxs, t)
	}
	return trxs, fresh, rows.Err()
}

func (d *myDialect) bindTime(t time.Time, k kind, zone *time.Location) any {
	switch k {
	case kindTimestamp:
		return instantToLocal(t, zone)
	case kindDate:
		y, m, day := t.In(zone).Date()
		return time.Date(y, m, day, 0, 0, 0, 0, time.UTC)
	}
	return t.UTC()
}

// MySQL and MariaDB error numbers after which a retry can succeed.
var myTransientErrors = []uint16{
	1040,                                                       // too many connections
	1053,                                                       // server shutdown in progress
	1152, 1153, 1154, 1155, 1156, 1157, 1158, 1159, 1160, 1161, // aborted or failed network I/O
	1205, // lock wait timeout
	1213, // deadlock
	1317, // query interrupted
	1927, // connection killed (MariaDB)
	2006, // server has gone away
	2013, // lost connection during query
	4031, // disconnected for inactivity
}

func (d *myDialect) classify(err error) errClass {
	if errors.Is(err, errTableNotFound) {
		return errMissingTable
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		if me.Number == 1146 {
			return errMissingTable
		}
		if slices.Contains(myTransientErrors, me.Number) {
			return errTransient
		}
		return errFatal
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn) || errors.Is(err, sql.ErrConnDone) ||
		isConnectionError(err) || d.conn == nil {
		return errTransient
	}
	return errFatal
}

// myHow is how a MySQL column is scanned.
type myHow uint8

const (
	myInt myHow = iota + 1
	myUint
	myFloat
	myDecimal
	myText
	myBytes
	myBit
	myDate
	myYear
	myTime
	myDateTime
)

// myResultType maps a result column's driver type name, refined by the catalog when reading a table.
func myResultType(ct *sql.ColumnType, catalog *column) (colType, myHow) {
	name := ct.DatabaseTypeName()
	unsigned := strings.HasPrefix(name, "UNSIGNED ")
	base := strings.TrimPrefix(name, "UNSIGNED ")
	t := colType{dbType: name, unsigned: unsigned}
	switch base {
	case "TINYINT", "SMALLINT", "MEDIUMINT", "INT", "BIGINT":
		t.kind = kindInt
		t.bits = map[string]int{"TINYINT": 8, "SMALLINT": 16, "MEDIUMINT": 24, "INT": 32, "BIGINT": 64}[base]
		if base == "BIGINT" && unsigned {
			return t, myUint
		}
		return t, myInt
	case "DECIMAL":
		t.kind = kindDecimal
		if catalog != nil && catalog.typ.kind == kindDecimal {
			t.precision, t.scale = catalog.typ.precision, catalog.typ.scale
		} else if p, s, ok := ct.DecimalSize(); ok {
			t.precision, t.scale = int(p), int(s)
		}
		return t, myDecimal
	case "FLOAT":
		t.kind = kindFloat32
		return t, myFloat
	case "DOUBLE":
		t.kind = kindFloat64
		return t, myFloat
	case "BIT":
		if catalog != nil && catalog.typ.kind == kindInt {
			t.kind, t.bits = kindInt, 8
			return t, myBit
		}
		t.kind = kindBytes
		return t, myBytes
	case "BINARY", "VARBINARY", "TINYBLOB", "BLOB", "MEDIUMBLOB", "LONGBLOB", "GEOMETRY", "VECTOR":
		t.kind = kindBytes
		return t, myBytes
	case "DATE":
		t.kind = kindDate
		return t, myDate
	case "YEAR":
		t.kind = kindDate
		return t, myYear
	case "TIME":
		t.kind = kindTime
		return t, myTime
	case "DATETIME":
		t.kind = kindTimestamp
		return t, myDateTime
	case "TIMESTAMP":
		t.kind = kindTimestampTZ
		return t, myDateTime
	}
	t.kind = kindString
	return t, myText
}

// myCol holds one column's scan destination.
type myCol struct {
	name   string
	dbType string
	how    myHow
	kind   kind
	tg     *target

	i   sql.NullInt64
	u   sql.Null[uint64]
	f   sql.NullFloat64
	s   sql.NullString
	b   []byte
	tm  sql.NullTime
	sig string
}

func (c *myCol) dest() any {
	switch c.how {
	case myInt, myYear:
		return &c.i
	case myUint:
		return &c.u
	case myFloat:
		return &c.f
	case myBytes, myBit:
		return &c.b
	case myDate, myDateTime:
		return &c.tm
	}
	return &c.s
}

func (c *myCol) value() (any, error) {
	switch c.how {
	case myInt:
		if !c.i.Valid {
			return nil, nil
		}
		return c.tg.fromInt64(c.i.Int64, c.dbType)
	case myUint:
		if !c.u.Valid {
			return nil, nil
		}
		return c.tg.fromUint64(c.u.V, c.dbType)
	case myFloat:
		if !c.f.Valid {
			return nil, nil
		}
		return c.tg.fromFloat64(c.f.Float64, c.dbType)
	case myDecimal:
		if !c.s.Valid {
			return nil, nil
		}
		u, exp, err := parseDecimalText(c.s.String)
		if err != nil {
			return nil, convErr(c.dbType, "%q: %v", c.s.String, err)
		}
		return c.tg.fromDecimal(u, exp, c.dbType)
	case myText:
		if !c.s.Valid {
			return nil, nil
		}
		return c.s.String, nil
	case myBytes:
		if c.b == nil {
			return nil, nil
		}
		return c.b, nil
	case myBit:
		if c.b == nil {
			return nil, nil
		}
		var v int64
		for _, x := range c.b {
			v = v<<8 | int64(x)
		}
		return c.tg.fromInt64(v, c.dbType)
	case myYear:
		if !c.i.Valid {
			return nil, nil
		}
		return c.tg.fromDate(int(c.i.Int64), time.January, 1), nil
	case myTime:
		if !c.s.Valid {
			return nil, nil
		}
		micros, err := parseMySQLTime(c.s.String)
		if err != nil {
			return nil, convErr(c.dbType, "%q: %v", c.s.String, err)
		}
		return c.tg.fromTimeOfDay(micros, c.dbType)
	case myDate:
		if !c.tm.Valid {
			return nil, nil
		}
		if c.tm.Time.IsZero() {
			return nil, convErr(c.dbType, "0000-00-00 is not a date")
		}
		y, m, d := c.tm.Time.Date()
		return c.tg.fromDate(y, m, d), nil
	case myDateTime:
		t, ok, err := c.instant()
		if err != nil || !ok {
			return nil, err
		}
		return c.tg.fromInstant(t), nil
	}
	return nil, convErr(c.dbType, "cannot be converted")
}

// instant reads DATETIME and DATE in db.timezone and TIMESTAMP (sent in the UTC session zone) as is.
func (c *myCol) instant() (time.Time, bool, error) {
	switch c.how {
	case myDate, myDateTime:
	case myYear:
		if !c.i.Valid {
			return time.Time{}, false, nil
		}
		return time.Date(int(c.i.Int64), 1, 1, 0, 0, 0, 0, c.tg.zone), true, nil
	default:
		return time.Time{}, false, convErr(c.dbType, "is not a date or timestamp")
	}
	if !c.tm.Valid {
		return time.Time{}, false, nil
	}
	if c.tm.Time.IsZero() {
		return time.Time{}, false, convErr(c.dbType, "0000-00-00 00:00:00 is not a point in time")
	}
	if c.kind == kindTimestampTZ {
		return c.tm.Time, true, nil
	}
	return localToInstant(c.tm.Time, c.tg.zone), true, nil
}

// parseDecimalText parses a plain decimal literal such as -12.340 into unscaled digits and exponent.
func parseDecimalText(s string) (*big.Int, int32, error) {
	digits := s
	var exp int32
	if i := strings.IndexByte(s, '.'); i >= 0 {
		digits = s[:i] + s[i+1:]
		exp = -int32(len(s) - i - 1)
	}
	u, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		return nil, 0, errors.New("not a decimal number")
	}
	return u, exp, nil
}

// parseMySQLTime parses a TIME value ([-]H:MM:SS[.ffffff], hours up to 838) into microseconds.
func parseMySQLTime(s string) (int64, error) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	frac := int64(0)
	if i := strings.IndexByte(s, '.'); i >= 0 {
		f := s[i+1:]
		for len(f) < 6 {
			f += "0"
		}
		v, err := strconv.ParseInt(f[:6], 10, 64)
		if err != nil {
			return 0, err
		}
		frac, s = v, s[:i]
	}
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return 0, errors.New("not a time")
	}
	var total int64
	for i, p := range parts {
		v, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return 0, err
		}
		total += v * []int64{3600, 60, 1}[i]
	}
	micros := total*1e6 + frac
	if neg {
		micros = -micros
	}
	return micros, nil
}

// myPlan is the MySQL side of a rowPlan.
type myPlan struct {
	rowPlan
	sig  []string
	cols []*myCol
	dest []any
}

func myColumnSig(ct *sql.ColumnType) string {
	nullable, _ := ct.Nullable()
	return ct.Name() + "\x00" + ct.DatabaseTypeName() + "\x00" + strconv.FormatBool(nullable)
}

func (d *myDialect) buildPlan(rows *sql.Rows, o queryOpts) (*myPlan, error) {
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	p := &myPlan{}
	p.impl = p
	sb := connect.StructBuilder()
	if o.schemaName != "" {
		sb.Name(o.schemaName)
	}
	for _, ct := range cts {
		var cat *column
		for i := range o.catalog {
			if o.catalog[i].name == ct.Name() {
				cat = &o.catalog[i]
				break
			}
		}
		typ, how := myResultType(ct, cat)
		nullable, ok := ct.Nullable()
		if cat != nil {
			nullable = cat.nullable
		} else if !ok {
			nullable = true
		}
		tg, err := targetFor(typ, nullable, o.cfg)
		if err != nil {
			return nil, &configProblem{fmt.Errorf("column %s: %w", ct.Name(), err)}
		}
		c := &myCol{name: ct.Name(), dbType: typ.dbType, how: how, kind: typ.kind, tg: tg, sig: myColumnSig(ct)}
		p.cols = append(p.cols, c)
		p.dest = append(p.dest, c.dest())
		p.sig = append(p.sig, c.sig)
		p.columns = append(p.columns, resultColumn{name: c.name, typ: typ, target: tg})
		sb.Field(c.name, tg.schema)
	}
	s, err := sb.Build()
	if err != nil {
		return nil, &configProblem{fmt.Errorf("the rows cannot form a Connect struct: %w", err)}
	}
	p.schema = s
	return p, nil
}

func (d *myDialect) query(ctx context.Context, q string, args []any, o queryOpts) (rowSource, error) {
	rows, err := d.conn.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	cts, err := rows.ColumnTypes()
	if err != nil {
		rows.Close()
		return nil, err
	}
	var p *myPlan
	if o.prev != nil {
		if old, ok := o.prev.impl.(*myPlan); ok && len(old.sig) == len(cts) {
			p = old
			for i, ct := range cts {
				if old.sig[i] != myColumnSig(ct) {
					p = nil
					break
				}
			}
		}
	}
	if p == nil {
		if p, err = d.buildPlan(rows, o); err != nil {
			rows.Close()
			return nil, err
		}
	}
	return &myRows{rows: rows, p: p}, nil
}

// myRows streams a result; go-sql-driver reads rows from the socket as they are consumed.
type myRows struct {
	rows *sql.Rows
	p    *myPlan
	fail error
}

func (r *myRows) plan() *rowPlan { return &r.p.rowPlan }

func (r *myRows) next() bool {
	if r.fail != nil || !r.rows.Next() {
		return false
	}
	if err := r.rows.Scan(r.p.dest...); err != nil {
		r.fail = &rowConversionError{err: err}
		return false
	}
	return true
}

func (r *myRows) decode(vals []any) error {
	for i, c := range r.p.cols {
		v, err := c.value()
		if err != nil {
			return &columnError{column: c.name, err: err}
		}
		vals[i] = v
	}
	return nil
}

func (r *myRows) instant(i int) (time.Time, bool, error) { return r.p.cols[i].instant() }

func (r *myRows) integer(i int) (int64, bool, error) {
	c := r.p.cols[i]
	switch c.how {
	case myInt:
		return c.i.Int64, c.i.Valid, nil
	case myUint:
		if c.u.V > 1<<63-1 {
			return 0, false, convErr(c.dbType, "%d does not fit int64", c.u.V)
		}
		return int64(c.u.V), c.u.Valid, nil
	case myDecimal:
		if !c.s.Valid {
			return 0, false, nil
		}
		u, exp, err := parseDecimalText(c.s.String)
		if err != nil {
			return 0, false, convErr(c.dbType, "%q: %v", c.s.String, err)
		}
		v, ok := rescale(u, exp, 0)
		if !ok || !v.IsInt64() {
			return 0, false, convErr(c.dbType, "%s is not an int64", c.s.String)
		}
		return v.Int64(), true, nil
	}
	return 0, false, convErr(c.dbType, "is not an integer")
}

func (r *myRows) err() error {
	if r.fail != nil {
		return r.fail
	}
	return r.rows.Err()
}

func (r *myRows) close() { _ = r.rows.Close() }
