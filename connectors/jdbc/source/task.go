package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/backoff"
)

// Task reads the tables (or the query) the connector assigned to it. A goroutine runs the
// queries and hands batches to Poll through a bounded channel, so reading the database overlaps
// with the runtime converting and producing the previous batch.
type Task struct {
	cfg *config
	log *slog.Logger
	d   dialect
	// rowsPerPoll is the distribution of rows one read of a table returned.
	rowsPerPoll connect.Histogram

	out    chan []connect.SourceRecord
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	failure error
}

// Version implements connect.Versioned.
func (t *Task) Version() string { return version }

// Start parses the task configuration, connects, and starts reading from the stored offsets.
func (t *Task) Start(ctx connect.SourceTaskContext, props map[string]string) error {
	cfg, err := parseConfig(taskConfigDef(), props)
	if err != nil {
		return fmt.Errorf("jdbc source task: %w", err)
	}
	t.cfg, t.log = cfg, ctx.Logger()
	t.rowsPerPoll = connect.MetricsOf(ctx).Histogram("jdbc_source_rows_per_poll", "Rows one read of a table or query returned.")
	d, err := newDialect(cfg, t.log)
	if err != nil {
		return err
	}
	t.d = d
	bg := context.Background()
	if err := connectWithAttempts(bg, d, cfg, t.log); err != nil {
		return err
	}
	queriers, err := t.queriers(bg, ctx.Offsets())
	if err != nil {
		d.close()
		return err
	}
	buffered := cfg.maxBuffer
	if buffered == 0 {
		buffered = 4 * cfg.batchMaxRows
	}
	t.out = make(chan []connect.SourceRecord, max(1, buffered/cfg.batchMaxRows-1))
	runCtx, cancel := context.WithCancel(bg)
	t.cancel, t.done = cancel, make(chan struct{})
	go func() {
		defer close(t.done)
		err := t.run(runCtx, queriers)
		t.mu.Lock()
		t.failure = err
		t.mu.Unlock()
		close(t.out)
	}()
	t.log.Info("JDBC source task started", "mode", cfg.mode, "tables", len(queriers), "dialect", string(d.name()))
	return nil
}

// connectWithAttempts opens the connection, trying connection.attempts times with
// connection.backoff.ms between attempts, as upstream does.
func connectWithAttempts(ctx context.Context, d dialect, cfg *config, log *slog.Logger) error {
	var err error
	for attempt := 1; attempt <= cfg.attempts; attempt++ {
		if err = d.open(ctx); err == nil {
			return nil
		}
		log.Warn("cannot connect to the database", "attempt", attempt, "of", cfg.attempts, "err", err)
		if attempt < cfg.attempts {
			if !backoff.Sleep(ctx, cfg.backoff) {
				return ctx.Err()
			}
		}
	}
	return fmt.Errorf("connecting to the database (%d attempts): %w", cfg.attempts, err)
}

// queriers builds one querier per assigned table, or one for the query, positioned at the
// stored offsets.
func (t *Task) queriers(ctx context.Context, offsets connect.OffsetReader) ([]*querier, error) {
	cfg := t.cfg
	if cfg.query != "" {
		pos, err := t.startPosition(ctx, offsets, queryPartition(), nil)
		if err != nil {
			return nil, err
		}
		q, err := newQuerier(ctx, t.d, cfg, t.log, nil, pos)
		if err != nil {
			return nil, err
		}
		return []*querier{q}, nil
	}
	tables, err := parseTables(cfg.tables, quoteChar(t.d))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyTables, err)
	}
	if len(tables) == 0 {
		if cfg.tablesFetched {
			t.log.Warn("no tables are assigned to this task; it idles until the connector finds tables")
		} else {
			t.log.Info("waiting for the connector to list the tables")
		}
	}
	var out []*querier
	for i := range tables {
		tbl := tables[i]
		var pos position
		if cfg.mode != modeBulk {
			pos, err = t.startPosition(ctx, offsets, tablePartition(tbl), legacyTablePartition(tbl))
			if err != nil {
				return nil, fmt.Errorf("table %s: %w", tbl.fqn(), err)
			}
		}
		q, err := newQuerier(ctx, t.d, cfg, t.log, &tbl, pos)
		if errors.Is(err, errTableNotFound) {
			// Dropped since the connector listed it; the connector will reassign the tables.
			t.log.Warn("assigned table does not exist; skipping it", "table", tbl.fqn())
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, nil
}

// startPosition reads the stored offset of a partition (falling back to upstream's protocol 0
// partition), or applies timestamp.initial when there is none.
func (t *Task) startPosition(ctx context.Context, offsets connect.OffsetReader, partition, legacy map[string]any) (position, error) {
	stored, err := offsets.Offset(partition)
	if err != nil {
		return position{}, fmt.Errorf("reading offset: %w", err)
	}
	if stored == nil && legacy != nil {
		if stored, err = offsets.Offset(legacy); err != nil {
			return position{}, fmt.Errorf("reading offset: %w", err)
		}
	}
	if stored != nil {
		pos, err := positionFromMap(stored)
		if err != nil {
			return position{}, fmt.Errorf("stored offset %v: %w", stored, err)
		}
		t.log.Info("resuming from stored offset", "partition", partition, "offset", stored)
		return pos, nil
	}
	if t.cfg.tsInitial == nil || !t.cfg.usesTimestamp() {
		return position{}, nil
	}
	initial := time.UnixMilli(*t.cfg.tsInitial)
	if *t.cfg.tsInitial == -1 {
		if initial, err = t.d.now(ctx); err != nil {
			return position{}, fmt.Errorf("reading the database clock for %s=-1: %w", keyTimestampInitial, err)
		}
	}
	return position{hasTS: true, ts: initial}, nil
}

func quoteChar(d dialect) byte { return d.quote("")[0] }

// Poll returns the next batch, waiting at most poll.linger.ms for one.
func (t *Task) Poll(ctx context.Context) ([]connect.SourceRecord, error) {
	if t.out == nil {
		return nil, errors.New("jdbc source task: Poll before a successful Start")
	}
	timer := time.NewTimer(t.cfg.linger)
	defer timer.Stop()
	select {
	case b, ok := <-t.out:
		if !ok {
			t.mu.Lock()
			defer t.mu.Unlock()
			return nil, t.failure
		}
		return b, nil
	case <-timer.C:
		return nil, nil
	case <-ctx.Done():
		return nil, nil
	}
}

// Commit implements connect.SourceTask; the database needs no acknowledgement.
func (t *Task) Commit(context.Context, []connect.SourceOffset) error { return nil }

// Stop stops the reading goroutine and closes the connection.
func (t *Task) Stop() error {
	if t.cancel != nil {
		t.cancel()
		<-t.done
	}
	if t.d != nil {
		t.d.close()
	}
	return nil
}

// emitter collects records into batches of batch.max.rows for Poll.
type emitter struct {
	out   chan<- []connect.SourceRecord
	max   int
	batch []connect.SourceRecord
	// emitted counts every record emitted, for rowsPerPoll (nil: not measured).
	emitted     int64
	rowsPerPoll connect.Histogram
}

func (e *emitter) emit(ctx context.Context, r connect.SourceRecord) error {
	if e.batch == nil {
		e.batch = make([]connect.SourceRecord, 0, e.max)
	}
	e.batch = append(e.batch, r)
	e.emitted++
	if len(e.batch) >= e.max {
		return e.flush(ctx)
	}
	return nil
}

// fills reports whether the next record completes a batch.
func (e *emitter) fills() bool { return len(e.batch)+1 >= e.max }

func (e *emitter) flush(ctx context.Context) error {
	if len(e.batch) == 0 {
		return nil
	}
	select {
	case e.out <- e.batch:
		e.batch = nil
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Retry pacing after transient failures: exponential from retryBackoffMin up to connection.backoff.ms.
const retryBackoffMin = 100 * time.Millisecond

// run steps the queriers in order of due time until ctx ends or a failure is not retriable.
func (t *Task) run(ctx context.Context, qs []*querier) (err error) {
	defer connect.Recover(&err)
	e := &emitter{out: t.out, max: t.cfg.batchMaxRows, rowsPerPoll: t.rowsPerPoll}
	failures := 0
	pace := &backoff.Backoff{Min: retryBackoffMin, Max: max(t.cfg.backoff, 10*time.Millisecond)}
	for ctx.Err() == nil {
		q := earliest(qs)
		if q == nil {
			<-ctx.Done()
			return nil
		}
		if wait := time.Until(q.nextDue); wait > 0 {
			if e.flush(ctx) != nil || !backoff.Sleep(ctx, wait) {
				return nil
			}
		}
		before := q.pos
		err := q.step(ctx, t.d, e)
		if err == nil || q.pos != before {
			// Progress since the last failure: query.retry.attempts counts failures in a row.
			failures = 0
			pace.Reset()
		}
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return nil
		}
		switch t.d.classify(err) {
		case errMissingTable:
			q.log.Warn("table is missing; trying again at the next poll", "err", err)
			q.finishPoll()
			if e.flush(ctx) != nil {
				return nil
			}
		case errPlanChanged:
			failures++
			if failures > 3 {
				return fmt.Errorf("table %s: the result columns keep changing: %w", q.name, err)
			}
			q.log.Info("table columns changed; preparing the query again")
		case errTransient:
			failures++
			if e.flush(ctx) != nil {
				return nil
			}
			if err := t.recover(ctx, q, err, &failures, pace); err != nil {
				return err
			}
		default:
			var rowErr *rowConversionError
			var kErr *keyError
			if errors.As(err, &rowErr) || errors.As(err, &kErr) {
				return err
			}
			return fmt.Errorf("table %s: %w", q.name, err)
		}
	}
	return nil
}

// recover reconnects after a transient failure, backing off exponentially, until it succeeds,
// ctx ends, or query.retry.attempts is exhausted. Reading then resumes from the querier's
// position: every row before it was handed to the runtime.
func (t *Task) recover(ctx context.Context, q *querier, cause error, failures *int, pace *backoff.Backoff) error {
	for {
		if t.cfg.retryAttempts >= 0 && *failures > t.cfg.retryAttempts {
			return fmt.Errorf("table %s: giving up after %d failed attempts (%s=%d): %w", q.name, *failures, keyQueryRetryAttempts, t.cfg.retryAttempts, cause)
		}
		delay := pace.Next()
		t.log.Warn("database error; reconnecting", "table", q.name, "attempt", *failures, "backoff", delay, "err", cause)
		if !backoff.Sleep(ctx, delay) {
			return nil
		}
		err := t.d.open(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		cause = err
		*failures++
	}
}

func earliest(qs []*querier) *querier {
	var best *querier
	for _, q := range qs {
		if best == nil || q.nextDue.Before(best.nextDue) {
			best = q
		}
	}
	return best
}
