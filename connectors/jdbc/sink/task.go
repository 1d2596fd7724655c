package sink

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connectors/jdbc/jdbcurl"
)

const (
	// connectTimeout bounds one connection attempt.
	connectTimeout = 30 * time.Second
	// maxPendingRecords bounds the records Put gathers while a write is running: at most this
	// many wait, plus the batch being written, however far the database falls behind.
	maxPendingRecords = 10_000
)

// Task writes Kafka records into one database. Every write is one transaction holding the rows
// and, unless kconnect.offsets.enabled=false, the Kafka offsets they cover.
type Task struct {
	ctx       connect.SinkTaskContext
	log       *slog.Logger
	cfg       *config
	db        dialect
	connector string
	offsets   tableID
	// rowsPerTx is the distribution of rows one committed transaction wrote.
	rowsPerTx connect.Histogram

	tables      map[string]*tableState
	topicTables map[string]*tableState
	layouts     map[layoutKey]*layout
	envelopes   map[*connect.Schema]*envelope
	// One-entry caches in front of the maps above: consecutive records nearly always share
	// topic and schemas.
	lastTopic      string
	lastTopicTable *tableState
	lastLayoutKey  layoutKey
	lastLayout     *layout
	lastEnvSchema  *connect.Schema
	lastEnv        *envelope

	// committed mirrors the offsets table for the task's partitions: only ever set from what a
	// committed transaction wrote or what was read back, so it never runs ahead of the database.
	committed map[connect.TopicPartition]int64

	// Records are written in the background (see Put). mu guards the fields below it. While the
	// writer runs a write it is the only user of the fields above; every other method waits until
	// it is idle before touching them.
	mu          sync.Mutex
	changed     *sync.Cond           // broadcast whenever a field below changes
	pending     []connect.SinkRecord // records received and not yet taken by the writer
	spare       []connect.SinkRecord // the writer's last batch, emptied, for pending to reuse
	writing     bool                 // the writer is running a write
	failed      error                // a write failed; the task is done
	stopping    bool
	writerDone  chan struct{}
	writeCtx    context.Context
	cancelWrite context.CancelFunc
}

// Version implements connect.Versioned.
func (t *Task) Version() string { return version }

// Start parses the configuration and connects to the database.
func (t *Task) Start(ctx connect.SinkTaskContext, props map[string]string) error {
	cfg, err := parseConfig(props)
	if err != nil {
		return fmt.Errorf("jdbc sink config: %w", err)
	}
	t.ctx, t.cfg = ctx, cfg
	t.log = ctx.Logger()
	t.connector = ctx.ConnectorName()
	t.rowsPerTx = connect.MetricsOf(ctx).Histogram("jdbc_sink_rows_per_transaction", "Rows one committed transaction of the SQL sink wrote.")
	t.db = newDialect(cfg)
	t.tables = map[string]*tableState{}
	t.topicTables = map[string]*tableState{}
	t.layouts = map[layoutKey]*layout{}
	t.envelopes = map[*connect.Schema]*envelope{}
	t.committed = map[connect.TopicPartition]int64{}
	if cfg.offsetsEnabled {
		if t.offsets, err = t.db.parseTable(cfg.offsetsTable, true); err != nil {
			return fmt.Errorf("%s: %w", keyOffsetsTable, err)
		}
	}
	if err := t.ensureOpen(context.Background()); err != nil {
		return fmt.Errorf("jdbc sink: connect to %s database: %w", cfg.conn.Dialect, err)
	}
	t.startWriter()
	t.log.Info("JDBC sink task started", "dialect", string(cfg.conn.Dialect), "insert_mode", cfg.insertMode.String(),
		"pk_mode", cfg.pkMode.String(), "exactly_once", cfg.offsetsEnabled)
	return nil
}

func newDialect(cfg *config) dialect {
	if cfg.conn.Dialect == jdbcurl.MySQL {
		return newMySQL(cfg)
	}
	return newPostgres(cfg)
}

// ensureOpen connects when there is no connection, trying connection.attempts times.
func (t *Task) ensureOpen(ctx context.Context) error {
	if t.db.isOpen() {
		return nil
	}
	var err error
	for attempt := 1; attempt <= t.cfg.connectionAttempts; attempt++ {
		actx, cancel := context.WithTimeout(ctx, connectTimeout)
		err = t.db.open(actx)
		cancel()
		if err == nil {
			break
		}
		if attempt < t.cfg.connectionAttempts {
			t.log.Warn("database connection failed", "attempt", attempt, "of", t.cfg.connectionAttempts, "err", err)
			if serr := sleep(ctx, t.cfg.connectionBackoff); serr != nil {
				return serr
			}
		}
	}
	if err != nil {
		return err
	}
	if t.cfg.offsetsEnabled {
		if err := t.db.ensureOffsetsTable(ctx, t.offsets); err != nil {
			t.db.close()
			return err
		}
	}
	return nil
}

// resetConnection drops the connection and everything learned through it: table definitions
// may have changed while it was away.
func (t *Task) resetConnection() {
	t.db.close()
	for _, ts := range t.tables {
		ts.setInfo(nil)
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// withRetries runs fn, retrying transient database failures max.retries times on a fresh
// connection after retry.backoff.ms.
func (t *Task) withRetries(ctx context.Context, what string, fn func() error) error {
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", what, ctx.Err())
		}
		var recErr *RecordError
		if errors.As(err, &recErr) || !t.db.transient(err) {
			return err
		}
		if attempt >= t.cfg.maxRetries {
			return fmt.Errorf("%s: giving up after %d retries: %w", what, attempt, err)
		}
		t.log.Warn("transient database failure; reconnecting and retrying", "operation", what,
			"retry", attempt+1, "max_retries", t.cfg.maxRetries, "err", err)
		t.resetConnection()
		if err := sleep(ctx, t.cfg.retryBackoff); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
}

// Open seeks the consumer to the offsets stored in the database for newly assigned partitions.
func (t *Task) Open(ctx context.Context, partitions []connect.TopicPartition) error {
	if err := t.flush(); err != nil {
		return err
	}
	if !t.cfg.offsetsEnabled || len(partitions) == 0 {
		return nil
	}
	var stored map[connect.TopicPartition]int64
	err := t.withRetries(ctx, "read offsets", func() error {
		if err := t.ensureOpen(ctx); err != nil {
			return err
		}
		var err error
		stored, err = t.db.readOffsets(ctx, t.offsets, t.connector)
		return err
	})
	if err != nil {
		return fmt.Errorf("read offsets from %s: %w", t.offsets, err)
	}
	seek := map[connect.TopicPartition]int64{}
	for _, tp := range partitions {
		if off, ok := stored[tp]; ok {
			seek[tp] = off
			t.committed[tp] = off
		}
	}
	if len(seek) > 0 {
		t.log.Info("resuming from offsets stored in the database", "table", t.offsets.String(), "partitions", len(seek))
		t.ctx.Seek(seek)
	}
	return nil
}

// Close writes what it was given, then forgets partitions taken away from the task. Writing
// records of a partition another task now owns is safe: the offsets table serializes the two
// tasks' transactions, and the later one skips what the earlier wrote.
func (t *Task) Close(_ context.Context, partitions []connect.TopicPartition) error {
	if err := t.flush(); err != nil {
		return err
	}
	for _, tp := range partitions {
		delete(t.committed, tp)
	}
	return nil
}

// Put hands records to the background writer and returns, so the runtime converts the next
// records while the database applies these. Records that arrive while a write runs wait, and the
// next write takes them all in one transaction: the slower the database, the larger its
// transactions. Put waits while maxPendingRecords are waiting. A failed write fails the task at
// the next Put, PreCommit, Open or Close; its offsets never became committable.
func (t *Task) Put(_ context.Context, records []connect.SinkRecord) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.failed == nil && len(t.pending) > 0 && len(t.pending)+len(records) > maxPendingRecords {
		t.changed.Wait()
	}
	if t.failed != nil {
		return t.failed
	}
	if t.pending == nil {
		t.pending, t.spare = t.spare, nil
	}
	t.pending = append(t.pending, records...)
	t.changed.Broadcast()
	return nil
}

// startWriter starts the goroutine that writes pending records. Its writes outlive the Put that
// handed the records over, and the last ones run during shutdown, after the runtime cancelled its
// context; Stop cancels them.
func (t *Task) startWriter() {
	t.changed = sync.NewCond(&t.mu)
	t.writerDone = make(chan struct{})
	t.writeCtx, t.cancelWrite = context.WithCancel(context.Background())
	go t.writeLoop()
}

func (t *Task) writeLoop() {
	defer close(t.writerDone)
	t.mu.Lock()
	defer t.mu.Unlock()
	for {
		for !t.stopping && (len(t.pending) == 0 || t.failed != nil) {
			t.changed.Wait()
		}
		if t.stopping {
			return
		}
		records := t.pending
		t.pending, t.writing = nil, true
		t.mu.Unlock()
		err := t.writeAll(t.writeCtx, records)
		clear(records) // let the records' values go; keep the array
		t.mu.Lock()
		t.writing, t.spare = false, records[:0]
		if err != nil {
			t.failed = err
		}
		t.changed.Broadcast()
	}
}

// flush waits until everything Put was given is written and committed.
func (t *Task) flush() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.failed == nil && (len(t.pending) > 0 || t.writing) {
		t.changed.Wait()
	}
	return t.failed
}

// writeAll writes records in one transaction. A record the database rejects fails the batch with
// the record's coordinates, or goes to the dead-letter queue when one is configured.
//
// It runs on the writer goroutine: a panic becomes its error, which fails the task.
func (t *Task) writeAll(ctx context.Context, records []connect.SinkRecord) (err error) {
	defer connect.Recover(&err)
	skip := map[int]bool{}
	for {
		err := t.withRetries(ctx, "write", func() error { return t.writeBatch(ctx, records, skip) })
		if err == nil {
			return nil
		}
		var recErr *RecordError
		reporter := t.ctx.ErrantRecordReporter()
		if !errors.As(err, &recErr) || reporter == nil || skip[recErr.Index] {
			return fmt.Errorf("jdbc sink: %w", err)
		}
		if rerr := reporter.Report(ctx, &records[recErr.Index], recErr); rerr != nil {
			return fmt.Errorf("jdbc sink: report %v: %w", recErr, rerr)
		}
		skip[recErr.Index] = true
	}
}

// PreCommit writes everything Put was given, then returns the offsets the database holds for the
// task's partitions; with the offsets table turned off every delivered record is now written and
// current is returned as it is.
func (t *Task) PreCommit(_ context.Context, current map[connect.TopicPartition]int64) (map[connect.TopicPartition]int64, error) {
	if err := t.flush(); err != nil {
		return nil, err
	}
	if !t.cfg.offsetsEnabled {
		return current, nil
	}
	out := make(map[connect.TopicPartition]int64, len(current))
	for tp := range current {
		if off, ok := t.committed[tp]; ok {
			out[tp] = off
		}
	}
	return out, nil
}

// Stop abandons the running write and the pending records (none of them were committed to Kafka,
// so they are delivered again) and closes the database connection.
func (t *Task) Stop() error {
	if t.writerDone != nil {
		t.mu.Lock()
		t.stopping = true
		t.changed.Broadcast()
		t.mu.Unlock()
		t.cancelWrite()
		<-t.writerDone
	}
	if t.db != nil {
		t.db.close()
	}
	return nil
}

// stepError is a failed write of one step of a plan.
type stepError struct {
	table, step int
	err         error
}

func (e *stepError) Error() string { return e.err.Error() }
func (e *stepError) Unwrap() error { return e.err }

func (t *Task) writeBatch(ctx context.Context, records []connect.SinkRecord, skip map[int]bool) error {
	if err := t.ensureOpen(ctx); err != nil {
		return err
	}
	p, err := t.buildPlan(records, skip, nil)
	if err != nil {
		return err
	}
	if err := t.prepareTables(ctx, p); err != nil {
		return err
	}
	if err := t.db.begin(ctx); err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			t.db.rollback(ctx)
		}
	}()
	var stored map[connect.TopicPartition]int64
	if t.cfg.offsetsEnabled {
		tps := make([]connect.TopicPartition, 0, len(p.next))
		for tp := range p.next {
			tps = append(tps, tp)
		}
		// One lock order for every task, so writers of overlapping partitions cannot deadlock.
		slices.SortFunc(tps, func(a, b connect.TopicPartition) int {
			return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
		})
		if stored, err = t.db.lockOffsets(ctx, t.offsets, t.connector, tps); err != nil {
			return fmt.Errorf("lock offsets in %s: %w", t.offsets, err)
		}
		if coversStored(p, stored) {
			// Part of the batch is already in the database (a retry after an unacknowledged
			// commit, or a redelivery): write only what is not.
			t.log.Info("skipping records already written", "partitions", len(stored))
			if p, err = t.buildPlan(records, skip, stored); err != nil {
				return err
			}
		}
	}
	if err := t.execute(ctx, p, nil); err != nil {
		return t.explain(ctx, records, p, err)
	}
	var advance map[connect.TopicPartition]int64
	if t.cfg.offsetsEnabled {
		advance = map[connect.TopicPartition]int64{}
		for tp, next := range p.next {
			if next > stored[tp] {
				advance[tp] = next
			}
		}
		if err := t.db.storeOffsets(ctx, t.offsets, t.connector, advance); err != nil {
			return fmt.Errorf("store offsets in %s: %w", t.offsets, err)
		}
	}
	committed = true
	if err := t.db.commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	for tp, off := range stored {
		if off >= 0 {
			t.committed[tp] = off
		}
	}
	for tp, off := range advance {
		t.committed[tp] = off
	}
	t.rowsPerTx.Observe(float64(p.rows))
	t.log.Debug("batch written", "records", len(records), "rows", p.rows, "tables", len(p.tables))
	return nil
}

// coversStored reports whether stored offsets say some records of the plan are already written.
func coversStored(p *plan, stored map[connect.TopicPartition]int64) bool {
	for tp, first := range p.first {
		if s, ok := stored[tp]; ok && s > first {
			return true
		}
	}
	return false
}

// execute runs the plan's steps in the open transaction, stopping before stop when it is set.
func (t *Task) execute(ctx context.Context, p *plan, stop *stepError) error {
	for ti, tp := range p.tables {
		ts := tp.table
		if ts.info == nil {
			continue // a missing table that only saw deletes or truncates
		}
		for si, s := range tp.steps {
			if stop != nil && ti == stop.table && si == stop.step {
				return nil
			}
			var err error
			switch {
			case s.truncate:
				err = t.db.truncate(ctx, ts)
			case len(s.deletes)+len(s.writes) > 0:
				err = t.db.write(ctx, ts, ts.bindings[s.layout], s, t.cfg.insertMode)
			}
			if err != nil {
				return &stepError{table: ti, step: si, err: fmt.Errorf("write table %s: %w", ts.id, err)}
			}
		}
	}
	return nil
}

// explain turns a failed statement into an error naming the record behind it: it rolls back,
// replays the batch up to the failed step in a new transaction, applies that step row by row
// and rolls back again. Transient failures are returned as they are, to be retried.
func (t *Task) explain(ctx context.Context, records []connect.SinkRecord, p *plan, err error) error {
	var se *stepError
	if !errors.As(err, &se) || t.db.transient(err) {
		return err
	}
	tp := p.tables[se.table]
	s := tp.steps[se.step]
	if s.truncate {
		return err
	}
	t.db.rollback(ctx)
	if berr := t.db.begin(ctx); berr != nil {
		return fmt.Errorf("%w (and locating the record failed: %v)", err, berr)
	}
	if rerr := t.execute(ctx, p, se); rerr != nil {
		return rerr
	}
	idx, lerr := t.db.locate(ctx, tp.table, tp.table.bindings[s.layout], s, t.cfg.insertMode)
	if t.db.transient(lerr) {
		return lerr // the connection failed while locating: not the record's fault, retry
	}
	if idx < 0 {
		if lerr != nil {
			return lerr
		}
		return err
	}
	i := int(s.ops[idx].rec)
	r := &records[i]
	return &RecordError{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Index: i,
		Err: fmt.Errorf("table %s: %w", tp.table.id, lerr)}
}
