package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/kconnect/kconnect/connect"
)

// phase is where a querier stands in its poll cycle.
type phase uint8

const (
	// phaseIdle: waiting for the next poll.
	phaseIdle phase = iota
	// phaseWaiting: a bound is fixed and transactions that may still commit below it are running.
	phaseWaiting
	// phaseReading: the rows below the bound are final and being read.
	phaseReading
)

// Intervals between checks whether a barrier's transactions have ended.
const (
	barrierCheckMin  = 5 * time.Millisecond
	barrierCheckMax  = 250 * time.Millisecond
	barrierReportAge = 30 * time.Second
)

// querier reads one table, or the custom query, in the configured mode.
type querier struct {
	cfg *config
	log *slog.Logger
	// table is nil for the custom query.
	table      *tableID
	name       string
	topic      string
	partition  map[string]any
	schemaName string

	mode   string
	incCol string
	tsCols []string
	// tsKind is the column type of the (first) timestamp column, deciding how bounds are bound.
	tsKind kind
	// from is the SELECT the WHERE clause is appended to; maxSQL finds the incrementing bound.
	from   string
	maxSQL string

	pos position

	phase     phase
	upperInc  int64
	upperTS   time.Time
	bar       barrier
	waitSince time.Time
	waitStep  time.Duration
	reported  bool
	nextDue   time.Time

	catalog []column
	plan    *rowPlan
	incIdx  int
	tsIdx   []int
	vals    []any
}

// newQuerier prepares reading table t (nil for the custom query) from pos, resolving the
// configured column names against the catalog.
func newQuerier(ctx context.Context, d dialect, cfg *config, log *slog.Logger, t *tableID, pos position) (*querier, error) {
	q := &querier{cfg: cfg, mode: cfg.mode, table: t, pos: pos}
	if t == nil {
		q.name = "query"
		q.topic = cfg.topicPrefix
		q.partition = queryPartition()
		q.from = cfg.query
		cols, err := d.describeQuery(ctx, cfg.query, cfg)
		if err != nil {
			return nil, keyErr(cfg.queryKey(), "%w", err)
		}
		if err := q.resolveQueryColumns(cols); err != nil {
			return nil, err
		}
		if q.incCol != "" {
			q.maxSQL = "SELECT MAX(" + d.quote(q.incCol) + ") FROM (" + cfg.query + ") kconnect_q"
		}
	} else {
		q.name = t.fqn()
		q.topic = cfg.topicPrefix + t.name
		q.schemaName = t.name
		q.partition = tablePartition(*t)
		if q.mode == modeBulk {
			q.partition = legacyTablePartition(*t)
		}
		q.from = "SELECT * FROM " + quoteTable(d, *t)
		cols, err := d.columns(ctx, *t)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", t.fqn(), err)
		}
		if err := q.resolveTableColumns(cols); err != nil {
			return nil, err
		}
		q.catalog = cols
		if q.incCol != "" {
			q.maxSQL = "SELECT MAX(" + d.quote(q.incCol) + ") FROM " + quoteTable(d, *t)
		}
	}
	q.log = log.With("table", q.name)
	return q, nil
}

func (q *querier) resolveTableColumns(cols []column) error {
	inc, ts, err := q.cfg.columnsFor(q.table.fqn())
	if err != nil {
		return err
	}
	if q.cfg.usesIncrementing() {
		c, err := incrementingColumn(cols, inc)
		if err != nil {
			return keyErr(keyIncrementingColumn, "table %s: %w", q.table.fqn(), err)
		}
		if c.typ.kind != kindInt && !(c.typ.kind == kindDecimal && c.typ.scale == 0) {
			return keyErr(keyIncrementingColumn, "table %s: column %s has type %s; the incrementing column must be an integer", q.table.fqn(), c.name, c.typ.dbType)
		}
		if q.cfg.validateNonNull && c.nullable {
			return keyErr(keyIncrementingColumn, "table %s: column %s is nullable; rows where it is NULL would never be read (set %s=false to accept that)", q.table.fqn(), c.name, keyValidateNonNull)
		}
		q.incCol = c.name
	}
	if q.cfg.usesTimestamp() {
		anyNotNull := false
		for i, name := range ts {
			c, err := resolveColumn(cols, name)
			if err != nil {
				return keyErr(keyTimestampColumn, "table %s: %w", q.table.fqn(), err)
			}
			switch c.typ.kind {
			case kindTimestamp, kindTimestampTZ, kindDate:
			default:
				return keyErr(keyTimestampColumn, "table %s: column %s has type %s; timestamp columns must be dates or timestamps", q.table.fqn(), c.name, c.typ.dbType)
			}
			if i == 0 {
				q.tsKind = c.typ.kind
			}
			anyNotNull = anyNotNull || !c.nullable
			q.tsCols = append(q.tsCols, c.name)
		}
		if q.cfg.validateNonNull && !anyNotNull {
			return keyErr(keyTimestampColumn, "table %s: columns %s are all nullable; rows where they are all NULL would never be read (set %s=false to accept that)", q.table.fqn(), strings.Join(q.tsCols, ","), keyValidateNonNull)
		}
	}
	return nil
}

// incrementingColumn resolves the configured column, or finds the auto-increment column when
// none is configured, as upstream does.
func incrementingColumn(cols []column, name string) (column, error) {
	if name != "" {
		return resolveColumn(cols, name)
	}
	for _, c := range cols {
		if c.autoIncrement {
			return c, nil
		}
	}
	return column{}, errors.New("no column is auto-incrementing; set the column to use")
}

func (q *querier) resolveQueryColumns(cols []resultColumn) error {
	p := &rowPlan{columns: cols}
	if q.cfg.usesIncrementing() {
		i := p.index(q.cfg.incColumn)
		if i < 0 {
			return keyErr(keyIncrementingColumn, "the query has no column %q", q.cfg.incColumn)
		}
		if k := cols[i].typ; k.kind != kindInt && !(k.kind == kindDecimal && k.scale == 0) {
			return keyErr(keyIncrementingColumn, "column %s of the query has type %s; the incrementing column must be an integer", cols[i].name, k.dbType)
		}
		q.incCol = cols[i].name
	}
	if q.cfg.usesTimestamp() {
		for n, name := range q.cfg.tsColumns {
			i := p.index(name)
			if i < 0 {
				return keyErr(keyTimestampColumn, "the query has no column %q", name)
			}
			switch cols[i].typ.kind {
			case kindTimestamp, kindTimestampTZ, kindDate:
			default:
				return keyErr(keyTimestampColumn, "column %s of the query has type %s; timestamp columns must be dates or timestamps", cols[i].name, cols[i].typ.dbType)
			}
			if n == 0 {
				q.tsKind = cols[i].typ.kind
			}
			q.tsCols = append(q.tsCols, cols[i].name)
		}
	}
	return nil
}

// tsExpr is the row timestamp: the column, or the COALESCE of the columns.
func (q *querier) tsExpr(d dialect) string {
	if len(q.tsCols) == 1 {
		return d.quote(q.tsCols[0])
	}
	parts := make([]string, len(q.tsCols))
	for i, c := range q.tsCols {
		parts[i] = d.quote(c)
	}
	return "COALESCE(" + strings.Join(parts, ",") + ")"
}

// rangeSQL builds the statement reading the final rows after pos, with upstream's WHERE clauses
// bounded by the upper bound the barrier settled.
func (q *querier) rangeSQL(d dialect) (string, []any) {
	var b strings.Builder
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return d.param(len(args))
	}
	b.WriteString(q.from)
	switch q.mode {
	case modeIncrementing:
		inc := d.quote(q.incCol)
		b.WriteString(" WHERE ")
		if q.pos.hasInc {
			b.WriteString(inc + " > " + arg(q.pos.inc) + " AND ")
		}
		b.WriteString(inc + " <= " + arg(q.upperInc))
		b.WriteString(" ORDER BY " + inc + " ASC")
	case modeTimestamp:
		ts := q.tsExpr(d)
		b.WriteString(" WHERE ")
		if q.pos.hasTS {
			b.WriteString(ts + " > " + arg(d.bindTime(q.pos.ts, q.tsKind, q.cfg.zone)) + " AND ")
		}
		b.WriteString(ts + " < " + arg(d.bindTime(q.upperTS, q.tsKind, q.cfg.zone)))
		b.WriteString(" ORDER BY " + ts + " ASC")
	case modeTimestampIncrementing:
		ts, inc := q.tsExpr(d), d.quote(q.incCol)
		b.WriteString(" WHERE " + ts + " < " + arg(d.bindTime(q.upperTS, q.tsKind, q.cfg.zone)))
		switch {
		case q.pos.hasTS && q.pos.hasInc:
			b.WriteString(" AND ((" + ts + " = " + arg(d.bindTime(q.pos.ts, q.tsKind, q.cfg.zone)) + " AND " + inc + " > " + arg(q.pos.inc) + ") OR " + ts + " > " + arg(d.bindTime(q.pos.ts, q.tsKind, q.cfg.zone)) + ")")
		case q.pos.hasTS:
			// A position without an incrementing value comes from timestamp.initial: rows at exactly
			// that time are included, as upstream's incrementing default of -1 includes them.
			b.WriteString(" AND " + ts + " >= " + arg(d.bindTime(q.pos.ts, q.tsKind, q.cfg.zone)))
		}
		b.WriteString(" ORDER BY " + ts + "," + inc + " ASC")
	}
	if q.cfg.suffix != "" {
		b.WriteString(" " + q.cfg.suffix)
	}
	return b.String(), args
}

// step advances the querier by one unit of work: fixing a bound, checking its barrier, or reading.
// On error the querier keeps its phase, so after a reconnect reading resumes from pos.
func (q *querier) step(ctx context.Context, d dialect, e *emitter) error {
	now := time.Now()
	if q.phase == phaseIdle {
		done, err := q.fixBound(ctx, d, now)
		if err != nil || done {
			return err
		}
	}
	if q.phase == phaseWaiting {
		if !q.bar.empty() {
			ok, err := d.barrierDone(ctx, q.bar)
			if err != nil {
				return err
			}
			if !ok {
				q.waitMore(now)
				return nil
			}
		}
		if q.reported {
			q.log.Info("transactions blocking the read have ended", "waited", time.Since(q.waitSince).Round(time.Millisecond))
		}
		q.phase = phaseReading
	}
	start := e.emitted
	if err := q.read(ctx, d, e); err != nil {
		return err
	}
	if e.rowsPerPoll != nil {
		e.rowsPerPoll.Observe(float64(e.emitted - start))
	}
	q.finishPoll()
	return nil
}

// fixBound picks the upper bound of the next read and the transactions to wait for. It reports
// done when there is nothing to read this time.
func (q *querier) fixBound(ctx context.Context, d dialect, now time.Time) (bool, error) {
	switch q.mode {
	case modeBulk:
		q.phase = phaseReading
		return false, nil
	case modeIncrementing:
		upper, ok, err := d.maxInt(ctx, q.maxSQL)
		if err != nil {
			return false, err
		}
		if !ok || (q.pos.hasInc && upper <= q.pos.inc) {
			q.finishPoll()
			return true, nil
		}
		bar, err := d.writerBarrier(ctx, q.table)
		if err != nil {
			return false, err
		}
		q.upperInc, q.bar = upper, bar
	default:
		dbNow, bar, err := d.timeBarrier(ctx)
		if err != nil {
			return false, err
		}
		upper := dbNow.Add(-q.cfg.delay)
		if q.pos.hasTS && !upper.After(q.pos.ts) {
			q.finishPoll()
			return true, nil
		}
		q.upperTS, q.bar = upper, bar
	}
	q.phase, q.waitSince, q.waitStep, q.reported = phaseWaiting, now, barrierCheckMin, false
	return false, nil
}

func (q *querier) waitMore(now time.Time) {
	q.nextDue = now.Add(q.waitStep)
	q.waitStep = min(q.waitStep*2, barrierCheckMax, max(q.cfg.pollInterval, barrierCheckMin))
	if !q.reported && now.Sub(q.waitSince) > barrierReportAge {
		q.reported = true
		q.log.Warn("waiting for open transactions to end before reading rows they may still commit; long-running transactions delay this table",
			"waiting_for", q.bar.String(), "since", q.waitSince)
	}
}

func (q *querier) finishPoll() {
	q.phase = phaseIdle
	q.bar = nil
	q.nextDue = time.Now().Add(q.cfg.pollInterval)
}

// read streams the rows between pos and the bound into e.
func (q *querier) read(ctx context.Context, d dialect, e *emitter) error {
	sql, args := q.rangeSQL(d)
	rs, err := d.query(ctx, sql, args, queryOpts{cfg: q.cfg, prev: q.plan, schemaName: q.schemaName, catalog: q.catalog})
	if err != nil {
		return err
	}
	defer rs.close()
	if p := rs.plan(); p != q.plan {
		if err := q.bindPlan(p); err != nil {
			return err
		}
	}
	// Each row is held until the next one is read, which decides the offset it carries. A record
	// may carry an earlier position than its own (a restart from there reads it again) but never a
	// later one. So in timestamp mode a row names its own timestamp only when the next row shows
	// its timestamp group complete, or a restart would skip the rest of the group; in the other
	// modes rows carry the position of the last row that ended a batch, and the row ending a batch
	// (or the read) its own, which saves building an offset per row.
	mark := q.pos
	var shared map[string]any
	var pending *connect.Struct
	var pendingPos position
	emitPending := func(own bool) error {
		var offset map[string]any
		switch {
		case q.mode == modeBulk:
		case own:
			mark, shared = pendingPos, nil
			offset = mark.toMap()
		default:
			if shared == nil {
				shared = mark.toMap()
			}
			offset = shared
		}
		if err := e.emit(ctx, q.record(offset, pending)); err != nil {
			return err
		}
		if q.mode != modeTimestamp || own {
			q.pos = pendingPos
		}
		return nil
	}
	schema := q.plan.schema
	for rs.next() {
		if err := rs.decode(q.vals); err != nil {
			return q.rowError(err)
		}
		st := connect.NewStruct(schema)
		for i, v := range q.vals {
			st.SetAt(i, v)
		}
		pos, err := q.rowPosition(rs)
		if err != nil {
			return err
		}
		if pending != nil {
			own := e.fills()
			if q.mode == modeTimestamp {
				own = pos.ts.After(pendingPos.ts)
			}
			if err := emitPending(own); err != nil {
				return err
			}
		}
		pending, pendingPos = st, pos
	}
	if err := rs.err(); err != nil {
		var rc *rowConversionError
		if errors.As(err, &rc) && rc.table == "" {
			rc.table = q.name
		}
		return err
	}
	if pending != nil {
		// Every row below the bound has been read: the last row's group is complete.
		if err := emitPending(true); err != nil {
			return err
		}
	}
	return e.flush(ctx)
}

// rowPosition is the position of the current row in the querier's mode.
func (q *querier) rowPosition(rs rowSource) (position, error) {
	var p position
	if q.incIdx >= 0 {
		inc, err := q.rowInc(rs)
		if err != nil {
			return p, err
		}
		p.hasInc, p.inc = true, inc
	}
	if len(q.tsIdx) > 0 {
		ts, err := q.rowTS(rs)
		if err != nil {
			return p, err
		}
		p.hasTS, p.ts = true, ts
	}
	return p, nil
}

func (q *querier) record(offset map[string]any, st *connect.Struct) connect.SourceRecord {
	if q.mode == modeBulk {
		offset = nil
	}
	return connect.NewSourceRecord(q.partition, offset, q.topic, nil, nil, st.Schema(), st)
}

// bindPlan locates the offset columns in a new result plan.
func (q *querier) bindPlan(p *rowPlan) error {
	q.plan = p
	q.vals = make([]any, len(p.columns))
	q.incIdx = -1
	q.tsIdx = q.tsIdx[:0]
	if q.incCol != "" {
		if q.incIdx = p.index(q.incCol); q.incIdx < 0 {
			return keyErr(keyIncrementingColumn, "the rows of %s have no column %q", q.name, q.incCol)
		}
	}
	for _, c := range q.tsCols {
		i := p.index(c)
		if i < 0 {
			return keyErr(keyTimestampColumn, "the rows of %s have no column %q", q.name, c)
		}
		q.tsIdx = append(q.tsIdx, i)
	}
	return nil
}

func (q *querier) rowInc(rs rowSource) (int64, error) {
	v, ok, err := rs.integer(q.incIdx)
	if err != nil {
		return 0, q.rowError(&columnError{column: q.incCol, err: err})
	}
	if !ok {
		return 0, fmt.Errorf("table %s: incrementing column %s is NULL in a row; it must not be", q.name, q.incCol)
	}
	return v, nil
}

func (q *querier) rowTS(rs rowSource) (time.Time, error) {
	for n, i := range q.tsIdx {
		t, ok, err := rs.instant(i)
		if err != nil {
			return time.Time{}, q.rowError(&columnError{column: q.tsCols[n], err: err})
		}
		if ok {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("table %s: timestamp columns %s are all NULL in a row selected by them", q.name, strings.Join(q.tsCols, ","))
}

// columnError is a failure to convert one column's value.
type columnError struct {
	column string
	err    error
}

func (e *columnError) Error() string { return fmt.Sprintf("column %s: %v", e.column, e.err) }

func (e *columnError) Unwrap() error { return e.err }

// rowError names the table of a row that cannot be converted; such a row fails the task.
func (q *querier) rowError(err error) error {
	return &rowConversionError{table: q.name, err: err}
}

// rowConversionError fails the task: the row cannot be represented in Connect.
type rowConversionError struct {
	table string
	err   error
}

func (e *rowConversionError) Error() string {
	return fmt.Sprintf("table %s: cannot convert row: %v", e.table, e.err)
}

func (e *rowConversionError) Unwrap() error { return e.err }
