package source

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connectors/jdbc/jdbcurl"
)

// pgDialect reads PostgreSQL through pgx's native interface, which decodes the binary protocol
// into typed values without database/sql's per-value conversions.
type pgDialect struct {
	connCfg   *pgx.ConnConfig
	conn      *pgx.Conn
	isolation string
	// types caches pg_type rows by OID; registered holds the OIDs registered in the current
	// connection's type map.
	types      map[uint32]*pgTypeInfo
	registered map[uint32]bool
	// gen counts connections; a plan built on an earlier one has types registered elsewhere.
	gen int
}

type pgTypeInfo struct {
	oid      uint32
	name     string
	nsp      string
	typtype  string
	category string
	elem     uint32
	base     uint32
	typmod   int32
}

func newPostgres(conn jdbcurl.Conn, cfg *config) (*pgDialect, error) {
	cc, err := pgx.ParseConfig(conn.DSN)
	if err != nil {
		return nil, fmt.Errorf("connection.url: %w", err)
	}
	if cc.RuntimeParams["application_name"] == "" {
		cc.RuntimeParams["application_name"] = "kconnect-jdbc-source"
	}
	return &pgDialect{connCfg: cc, isolation: cfg.isolation, types: map[uint32]*pgTypeInfo{}}, nil
}

func (d *pgDialect) name() jdbcurl.Dialect { return jdbcurl.PostgreSQL }

func (d *pgDialect) quote(ident string) string { return quoteWith(ident, '"') }

func (d *pgDialect) param(n int) string { return fmt.Sprintf("$%d", n) }

func (d *pgDialect) open(ctx context.Context) error {
	d.close()
	conn, err := pgx.ConnectConfig(ctx, d.connCfg)
	if err != nil {
		return err
	}
	if level := sqlIsolation(d.isolation); level != "" {
		if _, err := conn.Exec(ctx, "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL "+level); err != nil {
			_ = conn.Close(ctx)
			return fmt.Errorf("setting %s: %w", keyIsolationMode, err)
		}
	}
	d.conn = conn
	d.registered = map[uint32]bool{}
	d.gen++
	return nil
}

// sqlIsolation renders transaction.isolation.mode as SQL, "" for the database default.
func sqlIsolation(mode string) string {
	switch mode {
	case "READ_UNCOMMITTED":
		return "READ UNCOMMITTED"
	case "READ_COMMITTED":
		return "READ COMMITTED"
	case "REPEATABLE_READ":
		return "REPEATABLE READ"
	case "SERIALIZABLE":
		return "SERIALIZABLE"
	}
	return ""
}

func (d *pgDialect) close() {
	if d.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = d.conn.Close(ctx)
		cancel()
		d.conn = nil
	}
}

// pgRelkinds maps table.types onto pg_class.relkind.
var pgRelkinds = map[string]string{
	"TABLE": "r", "VIEW": "v", "MATERIALIZED VIEW": "m", "PARTITIONED TABLE": "p", "FOREIGN TABLE": "f",
}

func (d *pgDialect) listTables(ctx context.Context, cfg *config) ([]tableID, error) {
	var kinds []string
	for _, t := range cfg.tableTypes {
		if k, ok := pgRelkinds[strings.ToUpper(strings.TrimSpace(t))]; ok {
			kinds = append(kinds, k)
		}
	}
	var pattern *string
	if cfg.schemaPattern != "" {
		pattern = &cfg.schemaPattern
	}
	rows, err := d.conn.Query(ctx, `
		SELECT n.nspname, c.relname
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind::text = ANY($1::text[])
		  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
		  AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
		  AND ($2::text IS NULL OR n.nspname LIKE $2::text)
		ORDER BY 1, 2`, kinds, pattern)
	if err != nil {
		return nil, err
	}
	var out []tableID
	for rows.Next() {
		var t tableID
		if err := rows.Scan(&t.ns, &t.name); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// relation finds a table's OID, kind and whether it has inheritance children or partitions.
func (d *pgDialect) relation(ctx context.Context, t tableID) (oid uint32, kind string, children bool, err error) {
	err = d.conn.QueryRow(ctx, `
		SELECT c.oid, c.relkind::text, c.relhassubclass
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relname = $2`, t.ns, t.name).Scan(&oid, &kind, &children)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, "", false, errTableNotFound
	}
	return oid, kind, children, err
}

func (d *pgDialect) columns(ctx context.Context, t tableID) ([]column, error) {
	oid, _, _, err := d.relation(ctx, t)
	if err != nil {
		return nil, err
	}
	rows, err := d.conn.Query(ctx, `
		SELECT a.attname, a.atttypid, a.atttypmod,
		       NOT (a.attnotnull OR coalesce(ty.typnotnull, false)),
		       a.attidentity <> '' OR coalesce(pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) LIKE 'nextval(%', false)
		FROM pg_catalog.pg_attribute a
		LEFT JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
		LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
		WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attnum`, oid)
	if err != nil {
		return nil, err
	}
	type raw struct {
		c      column
		oid    uint32
		typmod int32
	}
	var raws []raw
	for rows.Next() {
		var r raw
		if err := rows.Scan(&r.c.name, &r.oid, &r.typmod, &r.c.nullable, &r.c.autoIncrement); err != nil {
			rows.Close()
			return nil, err
		}
		raws = append(raws, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	oids := make([]uint32, len(raws))
	for i, r := range raws {
		oids[i] = r.oid
	}
	if err := d.ensureTypes(ctx, oids); err != nil {
		return nil, err
	}
	out := make([]column, len(raws))
	for i, r := range raws {
		out[i] = r.c
		out[i].typ = d.pgKind(r.oid, r.typmod).typ
	}
	return out, nil
}

func (d *pgDialect) checkReadable(ctx context.Context, t tableID) error {
	_, err := d.conn.Exec(ctx, "SELECT * FROM "+quoteTable(d, t)+" LIMIT 0")
	return err
}

func (d *pgDialect) describeQuery(ctx context.Context, sql string, cfg *config) ([]resultColumn, error) {
	sd, err := d.conn.Prepare(ctx, sql, sql)
	if err != nil {
		return nil, err
	}
	p, err := d.buildPlan(ctx, sd.Fields, cfg, "")
	if err != nil {
		return nil, err
	}
	return p.columns, nil
}

func (d *pgDialect) now(ctx context.Context) (time.Time, error) {
	var t time.Time
	err := d.conn.QueryRow(ctx, "SELECT now()").Scan(&t)
	return t, err
}

func (d *pgDialect) maxInt(ctx context.Context, sql string) (int64, bool, error) {
	var v any
	if err := d.conn.QueryRow(ctx, sql).Scan(&v); err != nil {
		return 0, false, err
	}
	switch n := v.(type) {
	case nil:
		return 0, false, nil
	case int16:
		return int64(n), true, nil
	case int32:
		return int64(n), true, nil
	case int64:
		return n, true, nil
	case pgtype.Numeric:
		i, err := n.Int64Value()
		if err != nil || !i.Valid {
			return 0, false, fmt.Errorf("maximum of the incrementing column is not an int64: %v", err)
		}
		return i.Int64, true, nil
	}
	return 0, false, fmt.Errorf("maximum of the incrementing column has unexpected type %T", v)
}

// pgBarrier is a set of PostgreSQL virtual transaction IDs (pg_locks.virtualtransaction).
type pgBarrier []string

func (b pgBarrier) empty() bool { return len(b) == 0 }

func (b pgBarrier) String() string { return "virtual transactions " + strings.Join(b, ", ") }

// Lock modes that allow writing rows; an INSERT takes RowExclusiveLock on its table while it
// is parsed, before the incrementing value is drawn, and keeps it until the transaction ends.
const pgWriteLockModes = `'RowExclusiveLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock'`

func (d *pgDialect) writerBarrier(ctx context.Context, t *tableID) (barrier, error) {
	if t != nil {
		oid, kind, children, err := d.relation(ctx, *t)
		if err != nil {
			return nil, err
		}
		// Rows reach a partitioned or inherited table through its children, which writers may lock
		// instead of the parent, and views through their base tables: only a plain table's own lock
		// identifies its writers. The others wait for every transaction.
		if kind == "r" && !children {
			var vxids []string
			err := d.conn.QueryRow(ctx, `
				SELECT coalesce(array_agg(DISTINCT l.virtualtransaction), '{}')
				FROM pg_catalog.pg_locks l
				WHERE l.locktype = 'relation' AND l.relation = $1
				  AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
				  AND l.mode IN (`+pgWriteLockModes+`)
				  AND l.pid IS DISTINCT FROM pg_catalog.pg_backend_pid()`, oid).Scan(&vxids)
			return pgBarrier(vxids), err
		}
	}
	_, b, err := d.timeBarrier(ctx)
	return b, err
}

// timeBarrier lists the transactions of this database's client backends and background workers
// (not autovacuum, which writes no rows) and prepared transactions; the clock is read at the
// start of the same statement, so every transaction that started before it and is still running
// is in the list.
func (d *pgDialect) timeBarrier(ctx context.Context) (time.Time, barrier, error) {
	var now time.Time
	var vxids []string
	err := d.conn.QueryRow(ctx, `
		WITH db AS (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
		SELECT now(), coalesce(array_agg(DISTINCT l.virtualtransaction), '{}')
		FROM pg_catalog.pg_locks l
		LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
		WHERE l.pid IS DISTINCT FROM pg_catalog.pg_backend_pid()
		  AND ((l.locktype = 'virtualxid' AND a.datid = (SELECT oid FROM db)
		        AND coalesce(a.backend_type, 'client backend') IN ('client backend', 'background worker'))
		       OR (l.pid IS NULL AND l.database = (SELECT oid FROM db)))`).Scan(&now, &vxids)
	return now, pgBarrier(vxids), err
}

func (d *pgDialect) barrierDone(ctx context.Context, b barrier) (bool, error) {
	var done bool
	err := d.conn.QueryRow(ctx,
		`SELECT NOT EXISTS (SELECT 1 FROM pg_catalog.pg_locks WHERE virtualtransaction = ANY($1))`,
		[]string(b.(pgBarrier))).Scan(&done)
	return done, err
}

func (d *pgDialect) bindTime(t time.Time, k kind, zone *time.Location) any {
	switch k {
	case kindTimestamp:
		return instantToLocal(t, zone)
	case kindDate:
		y, m, day := t.In(zone).Date()
		return pgtype.Date{Time: time.Date(y, m, day, 0, 0, 0, 0, time.UTC), Valid: true}
	}
	return t
}

func (d *pgDialect) classify(err error) errClass {
	if errors.Is(err, errTableNotFound) {
		return errMissingTable
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "42P01":
			return errMissingTable
		case pgErr.Code == "0A000" && strings.Contains(pgErr.Message, "cached plan"):
			return errPlanChanged
		case strings.HasPrefix(pgErr.Code, "08"), strings.HasPrefix(pgErr.Code, "53"),
			strings.HasPrefix(pgErr.Code, "57P"), pgErr.Code == "40001", pgErr.Code == "40P01",
			pgErr.Code == "55P03", pgErr.Code == "57014", pgErr.Code == "58030":
			return errTransient
		}
		return errFatal
	}
	if isConnectionError(err) || d.conn == nil || d.conn.IsClosed() {
		return errTransient
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return errTransient
	}
	return errFatal
}

// configProblem is a mistake in the configuration found while reading; it fails the task.
type configProblem struct{ err error }

func (e *configProblem) Error() string { return e.err.Error() }

func (e *configProblem) Unwrap() error { return e.err }

// ensureTypes loads the pg_type rows of oids and what they refer to, and registers the domains,
// enums and arrays of them with the connection so pgx decodes them in binary.
func (d *pgDialect) ensureTypes(ctx context.Context, oids []uint32) error {
	for {
		var missing []uint32
		for _, o := range oids {
			if _, ok := d.types[o]; !ok && !slices.Contains(missing, o) {
				missing = append(missing, o)
			}
		}
		if len(missing) == 0 {
			break
		}
		rows, err := d.conn.Query(ctx, `
			SELECT t.oid, t.typname, n.nspname, t.typtype::text, t.typcategory::text, t.typelem, t.typbasetype, t.typtypmod
			FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
			WHERE t.oid = ANY($1)`, missing)
		if err != nil {
			return err
		}
		var next []uint32
		for rows.Next() {
			ti := &pgTypeInfo{}
			if err := rows.Scan(&ti.oid, &ti.name, &ti.nsp, &ti.typtype, &ti.category, &ti.elem, &ti.base, &ti.typmod); err != nil {
				rows.Close()
				return err
			}
			d.types[ti.oid] = ti
			if ti.category == "A" && ti.elem != 0 {
				next = append(next, ti.elem)
			}
			if ti.typtype == "d" {
				next = append(next, ti.base)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, o := range missing {
			if _, ok := d.types[o]; !ok {
				// Not in pg_type (a pseudo-type of an expression): treated as text.
				d.types[o] = &pgTypeInfo{oid: o, name: fmt.Sprintf("oid %d", o), typtype: "p"}
			}
		}
		oids = next
	}
	return nil
}

// register makes pgx decode a domain as its base type, an enum as text and an array of either as
// an array, in the binary format.
func (d *pgDialect) register(oid uint32) bool {
	m := d.conn.TypeMap()
	if _, ok := m.TypeForOID(oid); ok {
		return true
	}
	if d.registered[oid] {
		return false
	}
	d.registered[oid] = true
	ti := d.types[oid]
	if ti == nil {
		return false
	}
	var codec pgtype.Codec
	switch {
	case ti.typtype == "d":
		if !d.register(ti.base) {
			return false
		}
		base, _ := m.TypeForOID(ti.base)
		codec = base.Codec
	case ti.typtype == "e":
		codec = &pgtype.EnumCodec{}
	case ti.category == "A" && ti.elem != 0:
		if !d.register(ti.elem) {
			return false
		}
		elem, _ := m.TypeForOID(ti.elem)
		codec = &pgtype.ArrayCodec{ElementType: elem}
	default:
		return false
	}
	m.RegisterType(&pgtype.Type{Name: ti.nsp + "." + ti.name, OID: oid, Codec: codec})
	return true
}

// pgHow is how a column is scanned and converted.
type pgHow uint8

const (
	pgInt pgHow = iota + 1
	pgFloat
	pgBool
	pgNumeric
	pgText
	pgBytes
	pgUUID
	pgDate
	pgTime
	pgTimeTZ
	pgTimestamp
	pgTimestampTZ
	pgBit
	pgArray
)

// pgKindInfo is what a PostgreSQL type becomes.
type pgKindInfo struct {
	typ colType
	how pgHow
	// textFormat asks the server for the text representation, which is what the column maps to.
	textFormat bool
	// textual marks the character types and enums, whose arrays decode element by element.
	textual bool
	elem    *pgKindInfo
}

// pgKind maps a type (after ensureTypes) to its Connect kind and scanning method.
func (d *pgDialect) pgKind(oid uint32, typmod int32) pgKindInfo {
	ti := d.types[oid]
	str := func(name string) pgKindInfo {
		return pgKindInfo{typ: colType{kind: kindString, dbType: name}, how: pgText, textFormat: true}
	}
	if ti == nil {
		return str(fmt.Sprintf("oid %d", oid))
	}
	switch {
	case ti.typtype == "d":
		d.register(oid)
		if typmod < 0 {
			typmod = ti.typmod
		}
		k := d.pgKind(ti.base, typmod)
		k.typ.dbType = ti.name
		if k.how == pgText || k.how == pgBit || k.how == pgTimeTZ {
			k.textFormat = true
		}
		return k
	case ti.typtype == "e":
		return pgKindInfo{typ: colType{kind: kindString, dbType: ti.name}, how: pgText, textFormat: true, textual: true}
	case ti.category == "A" && ti.elem != 0:
		e := d.pgKind(ti.elem, typmod)
		if !pgArrayElement(e) || !d.register(oid) {
			return str(ti.name)
		}
		et := e.typ
		return pgKindInfo{typ: colType{kind: kindArray, dbType: ti.name, elem: &et}, how: pgArray, elem: &e}
	case ti.nsp != "pg_catalog":
		return str(ti.name)
	}
	ct := colType{dbType: ti.name}
	switch ti.name {
	case "bool":
		ct.kind = kindBool
		return pgKindInfo{typ: ct, how: pgBool}
	case "int2", "int4", "int8", "oid":
		ct.kind, ct.bits = kindInt, map[string]int{"int2": 16, "int4": 32, "int8": 64, "oid": 32}[ti.name]
		ct.unsigned = ti.name == "oid"
		return pgKindInfo{typ: ct, how: pgInt}
	case "float4":
		ct.kind = kindFloat32
		return pgKindInfo{typ: ct, how: pgFloat}
	case "float8":
		ct.kind = kindFloat64
		return pgKindInfo{typ: ct, how: pgFloat}
	case "numeric":
		ct.kind, ct.scale = kindDecimal, -1
		if typmod >= 4 {
			ct.precision = int((typmod - 4) >> 16 & 0xffff)
			// The scale is an 11-bit signed field since PostgreSQL 15 allowed negative scales.
			ct.scale = int(((typmod-4)&0x7ff)^1024) - 1024
		}
		return pgKindInfo{typ: ct, how: pgNumeric}
	case "bytea":
		ct.kind = kindBytes
		return pgKindInfo{typ: ct, how: pgBytes}
	case "uuid":
		ct.kind = kindString
		return pgKindInfo{typ: ct, how: pgUUID}
	case "date":
		ct.kind = kindDate
		return pgKindInfo{typ: ct, how: pgDate}
	case "time":
		ct.kind = kindTime
		return pgKindInfo{typ: ct, how: pgTime}
	case "timetz":
		ct.kind = kindTime
		return pgKindInfo{typ: ct, how: pgTimeTZ, textFormat: true}
	case "timestamp":
		ct.kind = kindTimestamp
		return pgKindInfo{typ: ct, how: pgTimestamp}
	case "timestamptz":
		ct.kind = kindTimestampTZ
		return pgKindInfo{typ: ct, how: pgTimestampTZ}
	case "bit":
		if typmod == 1 {
			ct.kind = kindBool
			return pgKindInfo{typ: ct, how: pgBit, textFormat: true}
		}
	case "text", "varchar", "bpchar", "name", "char":
		ct.kind = kindString
		return pgKindInfo{typ: ct, how: pgText, textual: true}
	}
	return str(ti.name)
}

// pgArrayElement reports whether arrays of k decode element by element.
func pgArrayElement(k pgKindInfo) bool {
	switch k.how {
	case pgInt, pgFloat, pgBool, pgNumeric, pgBytes, pgUUID, pgDate, pgTime, pgTimestamp, pgTimestampTZ:
		return true
	case pgText:
		return k.textual
	}
	return false
}

// pgPlan is the PostgreSQL side of a rowPlan.
type pgPlan struct {
	sig     []pgconn.FieldDescription
	cols    []*pgCol
	formats pgx.QueryResultFormatsByOID
}

func (p *pgPlan) matches(fields []pgconn.FieldDescription) bool {
	if len(fields) != len(p.sig) {
		return false
	}
	for i, f := range fields {
		s := p.sig[i]
		if f.Name != s.Name || f.DataTypeOID != s.DataTypeOID || f.TypeModifier != s.TypeModifier ||
			f.TableOID != s.TableOID || f.TableAttributeNumber != s.TableAttributeNumber {
			return false
		}
	}
	return true
}

// pgRowPlan is a rowPlan with its PostgreSQL part.
type pgRowPlan struct {
	rowPlan
	pg  *pgPlan
	gen int
}

func (d *pgDialect) buildPlan(ctx context.Context, fields []pgconn.FieldDescription, cfg *config, schemaName string) (*pgRowPlan, error) {
	oids := make([]uint32, len(fields))
	var rels []uint32
	for i, f := range fields {
		oids[i] = f.DataTypeOID
		if f.TableOID != 0 && !slices.Contains(rels, f.TableOID) {
			rels = append(rels, f.TableOID)
		}
	}
	if err := d.ensureTypes(ctx, oids); err != nil {
		return nil, err
	}
	notNull := map[[2]uint32]bool{}
	if len(rels) > 0 {
		rows, err := d.conn.Query(ctx, `
			SELECT a.attrelid, a.attnum, a.attnotnull OR coalesce(t.typnotnull, false)
			FROM pg_catalog.pg_attribute a LEFT JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
			WHERE a.attrelid = ANY($1) AND a.attnum > 0`, rels)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var rel uint32
			var num int16
			var nn bool
			if err := rows.Scan(&rel, &num, &nn); err != nil {
				rows.Close()
				return nil, err
			}
			notNull[[2]uint32{rel, uint32(num)}] = nn
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	pp := &pgPlan{sig: slices.Clone(fields), formats: pgx.QueryResultFormatsByOID{}}
	rp := &pgRowPlan{pg: pp, gen: d.gen}
	sb := connect.StructBuilder()
	if schemaName != "" {
		sb.Name(schemaName)
	}
	for _, f := range fields {
		k := d.pgKind(f.DataTypeOID, f.TypeModifier)
		optional := !notNull[[2]uint32{f.TableOID, uint32(f.TableAttributeNumber)}]
		tg, err := targetFor(k.typ, optional, cfg)
		if err != nil {
			return nil, &configProblem{fmt.Errorf("column %s: %w", f.Name, err)}
		}
		if tg.rep == repString && k.how == pgNumeric {
			// An unconstrained numeric is represented by its exact text.
			k.how, k.textFormat = pgText, true
		}
		if k.textFormat {
			pp.formats[f.DataTypeOID] = pgx.TextFormatCode
		}
		c := newPgCol(f.Name, f.DataTypeOID, k, tg)
		pp.cols = append(pp.cols, c)
		rp.columns = append(rp.columns, resultColumn{name: f.Name, typ: k.typ, target: tg})
		sb.Field(f.Name, tg.schema)
	}
	s, err := sb.Build()
	if err != nil {
		return nil, &configProblem{fmt.Errorf("the rows cannot form a Connect struct: %w", err)}
	}
	rp.schema = s
	return rp, nil
}

func (d *pgDialect) query(ctx context.Context, sql string, args []any, o queryOpts) (rowSource, error) {
	sd, err := d.conn.Prepare(ctx, sql, sql)
	if err != nil {
		return nil, err
	}
	var rp *pgRowPlan
	if o.prev != nil {
		if old, ok := o.prev.impl.(*pgRowPlan); ok && old.gen == d.gen && old.pg.matches(sd.Fields) {
			rp = old
		}
	}
	if rp == nil {
		if rp, err = d.buildPlan(ctx, sd.Fields, o.cfg, o.schemaName); err != nil {
			return nil, err
		}
		rp.impl = rp
	}
	full := make([]any, 0, len(args)+1)
	if len(rp.pg.formats) > 0 {
		full = append(full, rp.pg.formats)
	}
	full = append(full, args...)
	rows, err := d.conn.Query(ctx, sql, full...)
	if err != nil {
		if d.classify(err) == errPlanChanged {
			_ = d.conn.Deallocate(ctx, sql)
		}
		return nil, err
	}
	m := d.conn.TypeMap()
	for n, fd := range rows.FieldDescriptions() {
		rp.pg.cols[n].setFormat(fd.Format, m)
	}
	return &pgRows{d: d, sql: sql, rows: rows, rp: rp}, nil
}

// pgRows streams a result; pgx reads it from the socket as rows are consumed, so memory stays
// bounded whatever the result size.
type pgRows struct {
	d    *pgDialect
	sql  string
	rows pgx.Rows
	rp   *pgRowPlan
	fail error
}

func (r *pgRows) plan() *rowPlan { return &r.rp.rowPlan }

// next advances to the next row. Columns of the common types are decoded later straight from
// the row's bytes (valid until the following next); the others go through pgx's scan plans.
func (r *pgRows) next() bool {
	if r.fail != nil || !r.rows.Next() {
		return false
	}
	raws := r.rows.RawValues()
	for i, c := range r.rp.pg.cols {
		c.raw = raws[i]
		if !c.fast {
			if err := c.plan.Scan(raws[i], c.dest()); err != nil {
				r.fail = &rowConversionError{err: &columnError{column: c.name, err: convErr(c.dbType, "cannot be decoded: %v", err)}}
				return false
			}
		}
	}
	return true
}

func (r *pgRows) decode(vals []any) error {
	for i, c := range r.rp.pg.cols {
		v, err := c.value()
		if err != nil {
			return &columnError{column: c.name, err: err}
		}
		vals[i] = v
	}
	return nil
}

func (r *pgRows) instant(i int) (time.Time, bool, error) {
	return r.rp.pg.cols[i].instant()
}

func (r *pgRows) integer(i int) (int64, bool, error) {
	c := r.rp.pg.cols[i]
	if c.fast {
		if c.raw == nil {
			return 0, false, nil
		}
		switch c.how {
		case pgInt:
			return pgBinaryInt(c.raw), true, nil
		case pgNumeric:
			n, err := decodePgNumeric(c.raw)
			if err != nil {
				return 0, false, convErr(c.dbType, "%v", err)
			}
			v, ok := n.int64()
			if !ok {
				return 0, false, convErr(c.dbType, "%s is not an int64", n.text())
			}
			return v, true, nil
		}
	}
	switch c.how {
	case pgInt:
		return c.i8.Int64, c.i8.Valid, nil
	case pgNumeric:
		if !c.num.Valid {
			return 0, false, nil
		}
		v, err := c.num.Int64Value()
		if err != nil {
			return 0, false, convErr(c.dbType, "is not an int64: %v", err)
		}
		return v.Int64, v.Valid, nil
	}
	return 0, false, convErr(c.dbType, "is not an integer")
}

func (r *pgRows) err() error {
	if r.fail != nil {
		return r.fail
	}
	err := r.rows.Err()
	if err != nil && r.d.classify(err) == errPlanChanged {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = r.d.conn.Deallocate(ctx, r.sql)
		cancel()
	}
	return err
}

func (r *pgRows) close() { r.rows.Close() }

// pgCol holds one column's scan destination and converts what was scanned.
type pgCol struct {
	name    string
	dbType  string
	oid     uint32
	how     pgHow
	textual bool
	tg      *target

	// format is the column's wire format in the current result; fast means raw is decoded
	// directly, otherwise plan scans raw into the holder below.
	format     int16
	fast       bool
	raw        []byte
	plan       pgtype.ScanPlan
	planFormat int16

	i8   pgtype.Int8
	f8   pgtype.Float8
	bl   pgtype.Bool
	num  pgtype.Numeric
	txt  pgtype.Text
	byts []byte
	id   pgtype.UUID
	date pgtype.Date
	tod  pgtype.Time
	ts   pgtype.Timestamp
	tstz pgtype.Timestamptz
	arr  pgArrayHolder
}

func newPgCol(name string, oid uint32, k pgKindInfo, tg *target) *pgCol {
	c := &pgCol{name: name, oid: oid, dbType: k.typ.dbType, how: k.how, textual: k.textual, tg: tg, planFormat: -1}
	if k.how == pgArray {
		c.arr = newPgArray(k.elem.how, k.typ.dbType)
	}
	return c
}

// setFormat records the wire format of the column in a result and prepares its decoding.
func (c *pgCol) setFormat(format int16, m *pgtype.Map) {
	c.format = format
	binary := format == pgtype.BinaryFormatCode
	switch c.how {
	case pgInt, pgFloat, pgBool, pgNumeric, pgBytes, pgUUID, pgDate, pgTime, pgTimestamp, pgTimestampTZ:
		c.fast = binary
	case pgText:
		c.fast = !binary || c.textual
	case pgTimeTZ, pgBit:
		c.fast = !binary
	default:
		c.fast = false
	}
	if !c.fast && c.planFormat != format {
		c.plan, c.planFormat = m.PlanScan(c.oid, format, c.dest()), format
	}
}

func (c *pgCol) dest() any {
	switch c.how {
	case pgInt:
		return &c.i8
	case pgFloat:
		return &c.f8
	case pgBool:
		return &c.bl
	case pgNumeric:
		return &c.num
	case pgBytes:
		return &c.byts
	case pgUUID:
		return &c.id
	case pgDate:
		return &c.date
	case pgTime:
		return &c.tod
	case pgTimestamp:
		return &c.ts
	case pgTimestampTZ:
		return &c.tstz
	case pgArray:
		return c.arr.dest()
	}
	return &c.txt
}

func (c *pgCol) value() (any, error) {
	if c.fast {
		return c.fastValue()
	}
	switch c.how {
	case pgInt:
		return pgIntValue(&c.i8, c.tg, c.dbType)
	case pgFloat:
		return pgFloatValue(&c.f8, c.tg, c.dbType)
	case pgBool:
		return pgBoolValue(&c.bl, c.tg, c.dbType)
	case pgNumeric:
		return pgNumericValue(&c.num, c.tg, c.dbType)
	case pgText:
		return pgTextValue(&c.txt, c.tg, c.dbType)
	case pgBytes:
		return pgBytesValue(&c.byts, c.tg, c.dbType)
	case pgUUID:
		return pgUUIDValue(&c.id, c.tg, c.dbType)
	case pgDate:
		return pgDateValue(&c.date, c.tg, c.dbType)
	case pgTime:
		return pgTimeValue(&c.tod, c.tg, c.dbType)
	case pgTimestamp:
		return pgTimestampValue(&c.ts, c.tg, c.dbType)
	case pgTimestampTZ:
		return pgTimestamptzValue(&c.tstz, c.tg, c.dbType)
	case pgArray:
		return c.arr.value(c.tg, c.dbType)
	}
	return nil, convErr(c.dbType, "arrived in an unexpected format")
}

// instant returns a date or timestamp column as a point in time, reading values without zone in
// db.timezone.
func (c *pgCol) instant() (time.Time, bool, error) {
	if c.fast {
		if c.raw == nil {
			return time.Time{}, false, nil
		}
		t, err := pgBinaryInstant(c.how, c.raw, c.tg.zone)
		if err != nil {
			return time.Time{}, false, convErr(c.dbType, "%v cannot be an offset", err)
		}
		return t, true, nil
	}
	switch c.how {
	case pgTimestampTZ:
		if !c.tstz.Valid {
			return time.Time{}, false, nil
		}
		if c.tstz.InfinityModifier != pgtype.Finite {
			return time.Time{}, false, convErr(c.dbType, "infinity cannot be an offset")
		}
		return c.tstz.Time, true, nil
	case pgTimestamp:
		if !c.ts.Valid {
			return time.Time{}, false, nil
		}
		if c.ts.InfinityModifier != pgtype.Finite {
			return time.Time{}, false, convErr(c.dbType, "infinity cannot be an offset")
		}
		return localToInstant(c.ts.Time, c.tg.zone), true, nil
	case pgDate:
		if !c.date.Valid {
			return time.Time{}, false, nil
		}
		if c.date.InfinityModifier != pgtype.Finite {
			return time.Time{}, false, convErr(c.dbType, "infinity cannot be an offset")
		}
		return localToInstant(c.date.Time, c.tg.zone), true, nil
	}
	return time.Time{}, false, convErr(c.dbType, "is not a date or timestamp")
}

func pgIntValue(h *pgtype.Int8, tg *target, db string) (any, error) {
	if !h.Valid {
		return nil, nil
	}
	return tg.fromInt64(h.Int64, db)
}

func pgFloatValue(h *pgtype.Float8, tg *target, db string) (any, error) {
	if !h.Valid {
		return nil, nil
	}
	return tg.fromFloat64(h.Float64, db)
}

func pgBoolValue(h *pgtype.Bool, _ *target, _ string) (any, error) {
	if !h.Valid {
		return nil, nil
	}
	return h.Bool, nil
}

func pgNumericValue(h *pgtype.Numeric, tg *target, db string) (any, error) {
	if !h.Valid {
		return nil, nil
	}
	if h.NaN || h.InfinityModifier != pgtype.Finite {
		special := "NaN"
		f := math.NaN()
		switch h.InfinityModifier {
		case pgtype.Infinity:
			special, f = "Infinity", math.Inf(1)
		case pgtype.NegativeInfinity:
			special, f = "-Infinity", math.Inf(-1)
		}
		switch tg.rep {
		case repString:
			return special, nil
		case repFloat64:
			return f, nil
		}
		return nil, convErr(db, "%s cannot be represented as %s", special, tg)
	}
	return tg.fromDecimal(h.Int, h.Exp, db)
}

func pgTextValue(h *pgtype.Text, _ *target, _ string) (any, error) {
	if !h.Valid {
		return nil, nil
	}
	return h.String, nil
}

func pgBytesValue(h *[]byte, _ *target, _ string) (any, error) {
	if *h == nil {
		return nil, nil
	}
	return *h, nil
}

func pgUUIDValue(h *pgtype.UUID, _ *target, _ string) (any, error) {
	if !h.Valid {
		return nil, nil
	}
	b := h.Bytes
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

func pgDateValue(h *pgtype.Date, tg *target, db string) (any, error) {
	if !h.Valid {
		return nil, nil
	}
	if h.InfinityModifier != pgtype.Finite {
		return nil, convErr(db, "infinity has no Connect Date representation")
	}
	y, m, d := h.Time.Date()
	return tg.fromDate(y, m, d), nil
}

func pgTimeValue(h *pgtype.Time, tg *target, db string) (any, error) {
	if !h.Valid {
		return nil, nil
	}
	return tg.fromTimeOfDay(h.Microseconds, db)
}

func pgTimestampValue(h *pgtype.Timestamp, tg *target, db string) (any, error) {
	if !h.Valid {
		return nil, nil
	}
	if h.InfinityModifier != pgtype.Finite {
		return nil, convErr(db, "infinity has no Connect Timestamp representation")
	}
	return tg.fromInstant(localToInstant(h.Time, tg.zone)), nil
}

func pgTimestamptzValue(h *pgtype.Timestamptz, tg *target, db string) (any, error) {
	if !h.Valid {
		return nil, nil
	}
	if h.InfinityModifier != pgtype.Finite {
		return nil, convErr(db, "infinity has no Connect Timestamp representation")
	}
	return tg.fromInstant(h.Time), nil
}

// parseTimeTZ parses PostgreSQL's text output of a timetz (HH:MM:SS[.ffffff]±HH[:MM[:SS]]) into
// microseconds since midnight UTC.
func parseTimeTZ(s string) (int64, error) {
	i := strings.LastIndexAny(s, "+-")
	if i < 0 {
		return 0, errors.New("no zone offset")
	}
	clock, zone := s[:i], s[i:]
	t, err := time.Parse("15:04:05.999999", clock)
	if err != nil {
		if clock != "24:00:00" {
			return 0, err
		}
		t = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Add(24 * time.Hour)
	}
	sign := int64(1)
	if zone[0] == '-' {
		sign = -1
	}
	parts := strings.Split(zone[1:], ":")
	var offset int64
	for n, p := range parts {
		v := int64(atoiSmall(p))
		offset += v * []int64{3600, 60, 1}[min(n, 2)]
	}
	day := int64(24 * time.Hour / time.Microsecond)
	micros := (int64(t.Hour())*3600+int64(t.Minute())*60+int64(t.Second()))*1e6 + int64(t.Nanosecond()/1000)
	if clock == "24:00:00" {
		micros = day
	}
	micros -= sign * offset * 1e6
	micros %= day
	if micros < 0 {
		micros += day
	}
	return micros, nil
}

// pgArrayHolder scans a one-dimensional array and converts its elements.
type pgArrayHolder interface {
	dest() any
	value(tg *target, dbType string) (any, error)
}

type pgArr[T any] struct {
	a      pgtype.Array[T]
	elemDB string
	conv   func(*T, *target, string) (any, error)
}

func (p *pgArr[T]) dest() any { return &p.a }

func (p *pgArr[T]) value(tg *target, dbType string) (any, error) {
	if !p.a.Valid {
		return nil, nil
	}
	if len(p.a.Dims) > 1 {
		return nil, convErr(dbType, "has %d dimensions; only one-dimensional arrays map to Connect arrays", len(p.a.Dims))
	}
	return tg.convertArray(len(p.a.Elements), func(i int, elem *target) (any, error) {
		return p.conv(&p.a.Elements[i], elem, p.elemDB)
	})
}

func newPgArray(elem pgHow, dbType string) pgArrayHolder {
	db := strings.TrimPrefix(dbType, "_")
	switch elem {
	case pgInt:
		return &pgArr[pgtype.Int8]{elemDB: db, conv: pgIntValue}
	case pgFloat:
		return &pgArr[pgtype.Float8]{elemDB: db, conv: pgFloatValue}
	case pgBool:
		return &pgArr[pgtype.Bool]{elemDB: db, conv: pgBoolValue}
	case pgNumeric:
		return &pgArr[pgtype.Numeric]{elemDB: db, conv: pgNumericValue}
	case pgBytes:
		return &pgArr[[]byte]{elemDB: db, conv: pgBytesValue}
	case pgUUID:
		return &pgArr[pgtype.UUID]{elemDB: db, conv: pgUUIDValue}
	case pgDate:
		return &pgArr[pgtype.Date]{elemDB: db, conv: pgDateValue}
	case pgTime:
		return &pgArr[pgtype.Time]{elemDB: db, conv: pgTimeValue}
	case pgTimestamp:
		return &pgArr[pgtype.Timestamp]{elemDB: db, conv: pgTimestampValue}
	case pgTimestampTZ:
		return &pgArr[pgtype.Timestamptz]{elemDB: db, conv: pgTimestamptzValue}
	}
	return &pgArr[pgtype.Text]{elemDB: db, conv: pgTextValue}
}
