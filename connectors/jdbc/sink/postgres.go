package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/kconnect/kconnect/connect"
)

// pgCopyMinRows is the segment size from which COPY into a staging table plus one set-based
// statement beats a pipelined statement per row (BenchmarkPostgresWritePaths; below it the fixed
// cost of the COPY round trips dominates). A variable so the benchmark can force either path.
var pgCopyMinRows = 128

// stageDeleteCol is the staging table's extra column that marks a row as a delete.
const stageDeleteCol = "__kconnect_delete"

// postgres is the PostgreSQL dialect on one pgx connection.
type postgres struct {
	cfg *config

	conn *pgx.Conn
	tx   pgx.Tx
	// gen counts connections and txGen transactions, so per-session state (staging tables) and
	// per-transaction state (a staging table already filled) can be told stale.
	gen, txGen int
	stageSeq   int
}

func newPostgres(cfg *config) *postgres { return &postgres{cfg: cfg} }

func (p *postgres) open(ctx context.Context) error {
	pc, err := pgx.ParseConfig(p.cfg.conn.DSN)
	if err != nil {
		return fmt.Errorf("connection.url: %w", err)
	}
	if pc.RuntimeParams["application_name"] == "" {
		pc.RuntimeParams["application_name"] = "kconnect-jdbc-sink"
	}
	conn, err := pgx.ConnectConfig(ctx, pc)
	if err != nil {
		return err
	}
	p.conn, p.tx = conn, nil
	p.gen++
	return nil
}

func (p *postgres) close() {
	if p.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = p.conn.Close(ctx) // the connection is being discarded; a failed goodbye changes nothing
	p.conn, p.tx = nil, nil
}

func (p *postgres) isOpen() bool { return p.conn != nil && !p.conn.IsClosed() }

func (p *postgres) parseTable(name string, quote bool) (tableID, error) {
	id, err := splitTableName(name, 3)
	if err != nil {
		return id, err
	}
	id.catalog, id.schema, id.name = p.foldIdent(id.catalog, quote), p.foldIdent(id.schema, quote), p.foldIdent(id.name, quote)
	return id, nil
}

// foldIdent lower-cases, as PostgreSQL does with unquoted identifiers.
func (p *postgres) foldIdent(name string, quote bool) string {
	if quote {
		return name
	}
	return strings.ToLower(name)
}

func pgTable(id tableID) string {
	var parts pgx.Identifier
	for _, s := range []string{id.catalog, id.schema, id.name} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return parts.Sanitize()
}

func pgIdent(name string) string { return pgx.Identifier{name}.Sanitize() }

func pgIdents(names []string, prefix string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = prefix + pgIdent(n)
	}
	return strings.Join(q, ", ")
}

func (p *postgres) querier() interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
} {
	if p.tx != nil {
		return p.tx
	}
	return p.conn
}

var pgRelKinds = map[string]string{
	"r": "TABLE", "p": "PARTITIONED_TABLE", "v": "VIEW", "m": "MATERIALIZED_VIEW", "f": "FOREIGN_TABLE",
}

func (p *postgres) describe(ctx context.Context, id tableID) (*tableInfo, error) {
	rows, err := p.querier().Query(ctx, `
		SELECT c.relkind::text, a.attname::text
		FROM pg_catalog.pg_class c
		LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		WHERE c.oid = to_regclass($1::text)
		ORDER BY a.attnum`, pgTable(id))
	if err != nil {
		return nil, err
	}
	var kind string
	var cols []string
	found := false
	for rows.Next() {
		var rk string
		var col *string
		if err := rows.Scan(&rk, &col); err != nil {
			rows.Close()
			return nil, err
		}
		found = true
		kind = pgRelKinds[rk]
		if kind == "" {
			kind = "RELKIND_" + strings.ToUpper(rk)
		}
		if col != nil {
			cols = append(cols, *col)
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

func (p *postgres) createTable(ctx context.Context, id tableID, cols []ddlColumn, pk []string) error {
	var b strings.Builder
	b.WriteString("CREATE TABLE IF NOT EXISTS ")
	b.WriteString(pgTable(id))
	b.WriteString(" (")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pgIdent(c.name) + " " + c.sqlType)
		if !c.nullable {
			b.WriteString(" NOT NULL")
		}
	}
	if len(pk) > 0 {
		b.WriteString(", PRIMARY KEY (" + pgIdents(pk, "") + ")")
	}
	b.WriteString(")")
	_, err := p.conn.Exec(ctx, b.String())
	return err
}

func (p *postgres) addColumns(ctx context.Context, id tableID, cols []ddlColumn) error {
	adds := make([]string, len(cols))
	for i, c := range cols {
		adds[i] = "ADD COLUMN IF NOT EXISTS " + pgIdent(c.name) + " " + c.sqlType
	}
	_, err := p.conn.Exec(ctx, "ALTER TABLE "+pgTable(id)+" "+strings.Join(adds, ", "))
	return err
}

// sqlType follows the connector class the user configured, so that a table kconnect creates is
// the one that connector would have created (TestAutoCreateMatchesDebeziumJDBCSink,
// TestConfluentColumnTypes).
func (p *postgres) sqlType(col *column) (string, error) {
	if p.cfg.debezium {
		return pgDebeziumType(col)
	}
	return pgConfluentType(col)
}

// pgDebeziumType is the column type Debezium's JDBC sink creates on PostgreSQL: every time and
// timestamp with microseconds, JSON (not JSONB), XML, MicroDuration as INTERVAL, Bits as
// BIT(length), VariableScaleDecimal as DOUBLE PRECISION, a map as HSTORE (the extension must be
// installed, as for Debezium), and a decimal without a declared precision as NUMERIC(38, scale).
func pgDebeziumType(col *column) (string, error) {
	switch k := col.kind; {
	case k == kindDecimal:
		return "NUMERIC(" + strconv.Itoa(debeziumDecimalPrecision(col.schema)) + "," + decimalScale(col.schema) + ")", nil
	case isDateKind(k):
		return "DATE", nil
	case isTimeKind(k):
		return "TIME(6)", nil
	case isTimestampKind(k):
		return "TIMESTAMP(6)", nil
	case k == kindZonedTimestamp:
		return "TIMESTAMP(6) WITH TIME ZONE", nil
	case k == kindZonedTime:
		return "TIME(6) WITH TIME ZONE", nil
	case k == kindJSON:
		return "JSON", nil
	case k == kindXML:
		return "XML", nil
	case k == kindMicroDuration:
		return "INTERVAL", nil
	case k == kindVarDecimal:
		return "DOUBLE PRECISION", nil
	case k == kindMap:
		return "HSTORE", nil
	case k == kindBits && bitsLength(col.schema) > 0:
		return "BIT(" + strconv.Itoa(bitsLength(col.schema)) + ")", nil
	}
	return pgCommonType(col)
}

// pgConfluentType is the column type Confluent's JDBC sink creates on PostgreSQL
// (PostgreSqlDatabaseDialect.getSqlType): the Connect logical types without precision. Debezium's
// semantic types, which Confluent's sink writes as their plain numbers and strings (or, a
// VariableScaleDecimal struct, rejects), keep typed columns of the precision they carry.
func pgConfluentType(col *column) (string, error) {
	switch k := col.kind; {
	case k == kindDecimal:
		return "DECIMAL", nil
	case isDateKind(k):
		return "DATE", nil
	case k == kindTime:
		return "TIME", nil
	case k == kindTimestamp:
		return "TIMESTAMP", nil
	case isTimeKind(k):
		return "TIME(" + strconv.Itoa(timeFraction(k)) + ")", nil
	case isTimestampKind(k):
		return "TIMESTAMP(" + strconv.Itoa(timeFraction(k)) + ")", nil
	case k == kindZonedTimestamp:
		return "TIMESTAMPTZ", nil
	case k == kindZonedTime:
		return "TEXT", nil
	case k == kindJSON:
		return "JSONB", nil
	case k == kindVarDecimal:
		return "DECIMAL", nil
	}
	return pgCommonType(col)
}

// pgCommonType is the type both connectors give the remaining kinds.
func pgCommonType(col *column) (string, error) {
	s := col.schema
	switch col.kind {
	case kindUUID:
		return "UUID", nil
	case kindArray:
		elem, err := pgPrimitiveType(s.ValSchema.Type)
		if err != nil {
			return "", err
		}
		return elem + "[]", nil
	}
	return pgPrimitiveType(s.Type)
}

func pgPrimitiveType(t connect.Type) (string, error) {
	switch t {
	case connect.TypeInt8, connect.TypeInt16:
		return "SMALLINT", nil
	case connect.TypeInt32:
		return "INT", nil
	case connect.TypeInt64:
		return "BIGINT", nil
	case connect.TypeFloat32:
		return "REAL", nil
	case connect.TypeFloat64:
		return "DOUBLE PRECISION", nil
	case connect.TypeBoolean:
		return "BOOLEAN", nil
	case connect.TypeString:
		return "TEXT", nil
	case connect.TypeBytes:
		return "BYTEA", nil
	}
	return "", fmt.Errorf("no PostgreSQL column type for %s", t)
}

func (p *postgres) bindValue(col *column, v any) (any, error) {
	switch col.kind {
	case kindPlain, kindJSON, kindUUID, kindArray, kindZonedTime, kindYear, kindEnum, kindXML:
		return v, nil
	case kindMap:
		return pgHstore(v)
	case kindVarDecimal:
		d, err := asVarDecimal(v)
		if err != nil {
			return nil, err
		}
		if p.cfg.debezium {
			return d.Float64(), nil // DOUBLE PRECISION, as Debezium's sink writes it
		}
		return pgtype.Numeric{Int: d.Unscaled, Exp: -d.Scale, Valid: true}, nil
	case kindBits:
		b, ok := v.([]byte)
		n := bitsLength(col.schema)
		if !ok || !p.cfg.debezium || n == 0 {
			return v, nil // a BYTEA column
		}
		// BIT(n) lists bit n-1 first, as Debezium's sink renders the set.
		out := pgtype.Bits{Bytes: make([]byte, (n+7)/8), Len: int32(n), Valid: true}
		for j := range n {
			if bitAt(b, n-1-j) {
				out.Bytes[j/8] |= 0x80 >> (j % 8)
			}
		}
		return out, nil
	case kindMicroDuration:
		us, ok := v.(int64)
		if !ok {
			return nil, fmt.Errorf("MicroDuration value must be int64, got %T", v)
		}
		if !p.cfg.debezium {
			return us, nil // a BIGINT column, as for Confluent's sink
		}
		// All in the time part, as PostgreSQL reads Debezium's "<seconds> seconds": no days or
		// months that would depend on the calendar.
		return pgtype.Interval{Microseconds: us, Valid: true}, nil
	case kindDecimal:
		d, ok := v.(connect.Decimal)
		if !ok {
			return nil, fmt.Errorf("decimal value must be connect.Decimal, got %T", v)
		}
		u := d.Unscaled
		if u == nil {
			u = new(big.Int)
		}
		return pgtype.Numeric{Int: u, Exp: -d.Scale, Valid: true}, nil
	}
	switch {
	case isDateKind(col.kind):
		return asDate(col.kind, v)
	case isTimeKind(col.kind):
		if x, ok := v.(int64); ok && col.kind == kindDbzNanoTime {
			// PostgreSQL rounds digits past the microsecond, as it does for Debezium's sink;
			// asTimeOfDay truncates.
			v = x + 500
		}
		us, err := asTimeOfDay(col.kind, v)
		if err != nil {
			return nil, err
		}
		return pgtype.Time{Microseconds: us, Valid: true}, nil
	case isTimestampKind(col.kind):
		if x, ok := v.(time.Time); ok && col.kind == kindTimestamp && x.Location() == p.cfg.zone {
			return v, nil // already in db.timezone: spare the conversion and its allocation
		}
		ts, err := asInstant(col.kind, v)
		if err != nil {
			return nil, err
		}
		// pgx writes a TIMESTAMP (without time zone) column from the wall clock of the time's
		// location, and a TIMESTAMPTZ column from the instant; db.timezone picks the wall clock.
		// pgx truncates to the microsecond where PostgreSQL, given Debezium's nanoseconds, rounds.
		return ts.Round(time.Microsecond).In(p.cfg.zone), nil
	case col.kind == kindZonedTimestamp:
		ts, err := asInstant(col.kind, v)
		return ts.Round(time.Microsecond), err
	}
	return nil, fmt.Errorf("unsupported value kind %d", col.kind)
}

func (p *postgres) begin(ctx context.Context) error {
	tx, err := p.conn.Begin(ctx)
	if err != nil {
		return err
	}
	p.tx = tx
	p.txGen++
	return nil
}

func (p *postgres) commit(ctx context.Context) error {
	tx := p.tx
	p.tx = nil
	return tx.Commit(ctx)
}

func (p *postgres) rollback(ctx context.Context) {
	if p.tx == nil {
		return
	}
	tx := p.tx
	p.tx = nil
	// A failed rollback leaves the connection unusable; pgx closes it, and the next use
	// reconnects. The transaction is gone either way.
	_ = tx.Rollback(ctx)
}

// prepareBinding creates the binding's staging table in this session if it has none yet. It runs
// outside the data transaction, so a rolled-back batch does not take the table with it.
func (p *postgres) prepareBinding(ctx context.Context, ts *tableState, b *binding) error {
	if b.stage != "" && b.stageGen == p.gen {
		return nil
	}
	p.stageSeq++
	name := "kconnect_stage_" + strconv.Itoa(p.stageSeq)
	// CREATE TABLE AS copies the column types but none of the NOT NULL constraints, so delete
	// rows can leave the value columns empty.
	sql := "CREATE TEMP TABLE " + pgIdent(name) + " ON COMMIT DELETE ROWS AS SELECT false AS " + pgIdent(stageDeleteCol) +
		", " + pgIdents(b.cols, "") + " FROM " + pgTable(ts.id) + " WITH NO DATA"
	if _, err := p.conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("create staging table for %s: %w", ts.id, err)
	}
	b.stage, b.stageGen, b.usedTx = name, p.gen, 0
	b.sql = nil
	return nil
}

func (p *postgres) write(ctx context.Context, ts *tableState, b *binding, s *segment, mode insertMode) error {
	if len(s.deletes)+len(s.writes) < pgCopyMinRows {
		_, err := p.pipeline(ctx, ts, b, s, mode)
		return err
	}
	return p.copyMerge(ctx, ts, b, s, mode)
}

func (p *postgres) locate(ctx context.Context, ts *tableState, b *binding, s *segment, mode insertMode) (int, error) {
	return p.pipeline(ctx, ts, b, s, mode)
}

// copyMerge streams the segment into the staging table with COPY and applies it with one DELETE
// and one INSERT/UPDATE, sent together.
func (p *postgres) copyMerge(ctx context.Context, ts *tableState, b *binding, s *segment, mode insertMode) error {
	if b.usedTx == p.txGen {
		if _, err := p.tx.Exec(ctx, "TRUNCATE "+pgIdent(b.stage)); err != nil {
			return err
		}
	}
	b.usedTx = p.txGen
	cols := append([]string{stageDeleteCol}, b.cols...)
	src := &copySource{s: s, scratch: make([]any, len(cols)), n: len(s.deletes) + len(s.writes)}
	if _, err := p.tx.CopyFrom(ctx, pgx.Identifier{b.stage}, cols, src); err != nil {
		return err
	}
	batch := &pgx.Batch{}
	if len(s.deletes) > 0 {
		batch.Queue(b.cached("pg.merge.delete", func() string {
			return "DELETE FROM " + pgTable(ts.id) + " AS t USING " + pgIdent(b.stage) + " AS s WHERE s." + pgIdent(stageDeleteCol) +
				" AND " + pgJoin(b.keyCols())
		}))
	}
	if len(s.writes) > 0 {
		if q := b.cached("pg.merge."+mode.String(), func() string { return pgMergeSQL(ts, b, mode) }); q != "" {
			batch.Queue(q)
		}
	}
	return p.runBatch(ctx, batch)
}

func pgJoin(keys []string) string {
	conds := make([]string, len(keys))
	for i, k := range keys {
		conds[i] = "t." + pgIdent(k) + " = s." + pgIdent(k)
	}
	return strings.Join(conds, " AND ")
}

func pgMergeSQL(ts *tableState, b *binding, mode insertMode) string {
	table, stage, all := pgTable(ts.id), pgIdent(b.stage), pgIdents(b.cols, "")
	notDeleted := " WHERE NOT " + pgIdent(stageDeleteCol)
	switch mode {
	case modeUpdate:
		if len(b.valCols()) == 0 {
			return ""
		}
		return "UPDATE " + table + " AS t SET " + pgAssign(b.valCols(), "s.") + " FROM " + stage + " AS s WHERE NOT s." +
			pgIdent(stageDeleteCol) + " AND " + pgJoin(b.keyCols())
	case modeUpsert:
		return "INSERT INTO " + table + " (" + all + ") SELECT " + all + " FROM " + stage + notDeleted + pgOnConflict(b)
	}
	return "INSERT INTO " + table + " (" + all + ") SELECT " + all + " FROM " + stage + notDeleted
}

func pgOnConflict(b *binding) string {
	if len(b.valCols()) == 0 {
		return " ON CONFLICT (" + pgIdents(b.keyCols(), "") + ") DO NOTHING"
	}
	return " ON CONFLICT (" + pgIdents(b.keyCols(), "") + ") DO UPDATE SET " + pgAssign(b.valCols(), "EXCLUDED.")
}

func pgAssign(cols []string, from string) string {
	sets := make([]string, len(cols))
	for i, c := range cols {
		sets[i] = pgIdent(c) + " = " + from + pgIdent(c)
	}
	return strings.Join(sets, ", ")
}

func (p *postgres) runBatch(ctx context.Context, batch *pgx.Batch) error {
	if batch.Len() == 0 {
		return nil
	}
	br := p.tx.SendBatch(ctx, batch)
	for i := 0; i < batch.Len(); i++ {
		if _, err := br.Exec(); err != nil {
			_ = br.Close() // the first error is the one to report
			return err
		}
	}
	return br.Close()
}

// copySource feeds a segment to COPY: delete rows (key columns only) then write rows, each
// prefixed with the delete flag.
type copySource struct {
	s       *segment
	scratch []any
	i, n    int
}

func (c *copySource) Next() bool {
	c.i++
	return c.i <= c.n
}

func (c *copySource) Values() ([]any, error) {
	i := c.i - 1
	if i < len(c.s.deletes) {
		key := c.s.keyRow(c.s.ops[c.s.deletes[i]])
		c.scratch[0] = true
		copy(c.scratch[1:], key)
		clear(c.scratch[1+len(key):])
		return c.scratch, nil
	}
	c.scratch[0] = false
	copy(c.scratch[1:], c.s.row(c.s.ops[c.s.writes[i-len(c.s.deletes)]]))
	return c.scratch, nil
}

func (c *copySource) Err() error { return nil }

// pipeline sends one statement per op in a single round trip and returns the index in s.ops of
// the first op that failed.
func (p *postgres) pipeline(ctx context.Context, ts *tableState, b *binding, s *segment, mode insertMode) (int, error) {
	batch := &pgx.Batch{}
	var opIdx []int32
	if len(s.deletes) > 0 {
		del := b.cached("pg.row.delete", func() string {
			return "DELETE FROM " + pgTable(ts.id) + " WHERE " + pgWhereKeys(b.keyCols())
		})
		for _, oi := range s.deletes {
			batch.Queue(del, s.keyRow(s.ops[oi])...)
			opIdx = append(opIdx, oi)
		}
	}
	if q := b.cached("pg.row."+mode.String(), func() string { return pgRowSQL(ts, b, mode) }); q != "" {
		for _, oi := range s.writes {
			batch.Queue(q, s.row(s.ops[oi])...)
			opIdx = append(opIdx, oi)
		}
	}
	if batch.Len() == 0 {
		return -1, nil
	}
	br := p.tx.SendBatch(ctx, batch)
	for _, oi := range opIdx {
		if _, err := br.Exec(); err != nil {
			_ = br.Close() // the first error is the one to report
			return int(oi), err
		}
	}
	return -1, br.Close()
}

func pgWhereKeys(keys []string) string {
	conds := make([]string, len(keys))
	for i, k := range keys {
		conds[i] = pgIdent(k) + " = $" + strconv.Itoa(i+1)
	}
	return strings.Join(conds, " AND ")
}

// pgRowSQL is the one-row statement of a mode; its parameters follow the layout order, key
// columns first.
func pgRowSQL(ts *tableState, b *binding, mode insertMode) string {
	if mode == modeUpdate {
		if len(b.valCols()) == 0 {
			return ""
		}
		sets := make([]string, len(b.valCols()))
		for i, c := range b.valCols() {
			sets[i] = pgIdent(c) + " = $" + strconv.Itoa(b.nkey+i+1)
		}
		return "UPDATE " + pgTable(ts.id) + " SET " + strings.Join(sets, ", ") + " WHERE " + pgWhereKeys(b.keyCols())
	}
	params := make([]string, len(b.cols))
	for i := range params {
		params[i] = "$" + strconv.Itoa(i+1)
	}
	q := "INSERT INTO " + pgTable(ts.id) + " (" + pgIdents(b.cols, "") + ") VALUES (" + strings.Join(params, ", ") + ")"
	if mode == modeUpsert {
		q += pgOnConflict(b)
	}
	return q
}

func (p *postgres) truncate(ctx context.Context, ts *tableState) error {
	_, err := p.tx.Exec(ctx, "TRUNCATE TABLE "+pgTable(ts.id))
	return err
}

func (p *postgres) ensureOffsetsTable(ctx context.Context, table tableID) error {
	_, err := p.conn.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+pgTable(table)+` (
		"connector" TEXT NOT NULL,
		"kafka_topic" TEXT NOT NULL,
		"kafka_partition" INTEGER NOT NULL,
		"kafka_offset" BIGINT NOT NULL,
		"updated_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
		PRIMARY KEY ("connector", "kafka_topic", "kafka_partition"))`)
	if err != nil {
		// Two tasks creating it at once: one loses on the catalog's unique index, which is fine
		// as long as the table is there now.
		if info, derr := p.describe(ctx, table); derr == nil && info != nil {
			return nil
		}
		return fmt.Errorf("create offsets table %s: %w", table, err)
	}
	return nil
}

func (p *postgres) readOffsets(ctx context.Context, table tableID, connector string) (map[connect.TopicPartition]int64, error) {
	rows, err := p.querier().Query(ctx, `SELECT "kafka_topic", "kafka_partition", "kafka_offset" FROM `+pgTable(table)+
		` WHERE "connector" = $1 AND "kafka_offset" >= 0`, connector)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return scanOffsets(rows)
}

func (p *postgres) lockOffsets(ctx context.Context, table tableID, connector string, tps []connect.TopicPartition) (map[connect.TopicPartition]int64, error) {
	topics, parts := make([]string, len(tps)), make([]int32, len(tps))
	for i, tp := range tps {
		topics[i], parts[i] = tp.Topic, tp.Partition
	}
	// The no-op update locks existing rows, the insert creates (and locks) missing ones, so a
	// second writer of the same partitions waits here and then sees this transaction's offsets.
	rows, err := p.tx.Query(ctx, `INSERT INTO `+pgTable(table)+` AS o ("connector", "kafka_topic", "kafka_partition", "kafka_offset")
		SELECT $1, u.t, u.p, -1 FROM unnest($2::text[], $3::int4[]) AS u(t, p)
		ON CONFLICT ("connector", "kafka_topic", "kafka_partition") DO UPDATE SET "kafka_offset" = o."kafka_offset"
		RETURNING "kafka_topic", "kafka_partition", "kafka_offset"`, connector, topics, parts)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return scanOffsets(rows)
}

func (p *postgres) storeOffsets(ctx context.Context, table tableID, connector string, offsets map[connect.TopicPartition]int64) error {
	if len(offsets) == 0 {
		return nil
	}
	topics, parts, offs := make([]string, 0, len(offsets)), make([]int32, 0, len(offsets)), make([]int64, 0, len(offsets))
	for tp, o := range offsets {
		topics, parts, offs = append(topics, tp.Topic), append(parts, tp.Partition), append(offs, o)
	}
	_, err := p.tx.Exec(ctx, `INSERT INTO `+pgTable(table)+` AS o ("connector", "kafka_topic", "kafka_partition", "kafka_offset", "updated_at")
		SELECT $1, u.t, u.p, u.n, now() FROM unnest($2::text[], $3::int4[], $4::int8[]) AS u(t, p, n)
		ON CONFLICT ("connector", "kafka_topic", "kafka_partition")
		DO UPDATE SET "kafka_offset" = EXCLUDED."kafka_offset", "updated_at" = EXCLUDED."updated_at"`, connector, topics, parts, offs)
	return err
}

// pgTransientCodes are SQLSTATEs worth a retry on a fresh connection.
var pgTransientCodes = map[string]bool{
	"40001": true, // serialization_failure
	"40P01": true, // deadlock_detected
	"55P03": true, // lock_not_available
	"57P01": true, // admin_shutdown (also pg_terminate_backend)
	"57P02": true, // crash_shutdown
	"57P03": true, // cannot_connect_now
	"53300": true, // too_many_connections
	"53400": true, // configuration_limit_exceeded
}

func (p *postgres) transient(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return strings.HasPrefix(pgErr.Code, "08") || pgTransientCodes[pgErr.Code]
	}
	var connErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connErr), errors.As(err, &netErr), pgconn.SafeToRetry(err), pgconn.Timeout(err),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	}
	// Whatever the error says, a connection that died under it is worth a fresh one.
	return p.conn == nil || p.conn.IsClosed()
}

// pgHstore renders a map as hstore text, which the server parses into the HSTORE column
// Debezium's class creates for it (pgx cannot encode hstore, an extension type, by itself).
func pgHstore(v any) (string, error) {
	m, err := stringKeyed(v)
	if err != nil {
		return "", err
	}
	quote := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(`"` + quote.Replace(k) + `"=>`)
		if m[k] == nil {
			b.WriteString("NULL")
		} else {
			b.WriteString(`"` + quote.Replace(fmt.Sprint(m[k])) + `"`)
		}
	}
	return b.String(), nil
}
