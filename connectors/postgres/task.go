package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/backoff"
)

// Task captures changes from one database: a snapshot when the snapshot mode asks for one, then
// the replication slot's stream.
type Task struct {
	cfg       *config
	log       *slog.Logger
	cat       *catalog
	tm        *typeMapper
	partition map[string]any
	queue     *recordQueue
	streamer  *streamer
	metrics   connect.TaskMetrics

	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	err    error // why the background capture stopped
}

// handoffHook, when a test sets it, runs at each step of the snapshot-to-stream hand-off
// ("slot-creating", "slot-created" with the exported snapshot's name, "snapshot-imported",
// "stream-starting"), so that the test can widen the windows between the steps, stop the server
// inside one, or read the exported snapshot itself; nil outside tests.
var handoffHook func(step, snapshot string)

func handoff(step, snapshot string) {
	if h := handoffHook; h != nil {
		h(step, snapshot)
	}
}

// storedOffset is a committed offset in Debezium's shape.
type storedOffset struct {
	lsn, lsnProc, lsnCommit pglogrepl.LSN
	txID                    int64
	snapshot                bool // written during a snapshot
	snapshotCompleted       bool
}

func offsetLSN(o map[string]any, key string) (pglogrepl.LSN, error) {
	v, _, err := connect.OffsetInt64(o, key)
	return pglogrepl.LSN(v), err
}

func parseOffset(o map[string]any) (*storedOffset, error) {
	if o == nil {
		return nil, nil
	}
	so := &storedOffset{}
	var errs []error
	var err error
	so.lsn, err = offsetLSN(o, "lsn")
	errs = append(errs, err)
	so.lsnProc, err = offsetLSN(o, "lsn_proc")
	errs = append(errs, err)
	so.lsnCommit, err = offsetLSN(o, "lsn_commit")
	errs = append(errs, err)
	so.txID, _, err = connect.OffsetInt64(o, "txId")
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("stored offset %v: %w", o, err)
	}
	// Debezium 1.x wrote snapshot=true; later versions a snapshot type name plus snapshot_completed.
	switch v := o["snapshot"].(type) {
	case bool:
		so.snapshot = v
	case string:
		so.snapshot = v != "" && !strings.EqualFold(v, "false")
	}
	completed, _ := o["snapshot_completed"].(bool)
	last, _ := o["last_snapshot_record"].(bool)
	so.snapshotCompleted = !so.snapshot || completed || last
	return so, nil
}

// Version implements connect.Versioned.
func (t *Task) Version() string { return Version }

// Start connects, prepares the publication and the slot, and starts capturing in the background.
func (t *Task) Start(tctx connect.SourceTaskContext, props map[string]string) error {
	cfg, err := parseConfig(props)
	if err != nil {
		return err
	}
	t.cfg = cfg
	t.log = tctx.Logger().With("slot", cfg.slot)
	t.metrics = connect.MetricsOf(tctx)
	t.partition = map[string]any{"server": cfg.prefix}
	raw, err := tctx.Offsets().Offset(t.partition)
	if err != nil {
		return fmt.Errorf("read stored offset of %v: %w", t.partition, err)
	}
	stored, err := parseOffset(raw)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	t.cat = newCatalog(cfg)
	t.tm = &typeMapper{cfg: cfg, types: t.cat.typeInfo(context.Background())}
	if err := t.preparePublication(ctx); err != nil {
		t.cat.close()
		return err
	}
	t.warnUnmatchedIncludes(ctx)
	t.queue = newRecordQueue(cfg.maxQueue)
	t.streamer = newStreamer(cfg, t.log, t.cat, t.tm, t.queue)
	t.streamer.lagMillis = t.metrics.Gauge("postgres_replication_lag_ms",
		"Age of the last transaction decoded from the replication slot when it was decoded; 0 while the stream is idle.")
	t.streamer.lagBytes = t.metrics.Gauge("postgres_replication_lag_bytes",
		"WAL bytes between the server's current position and the LSN confirmed to the slot.")

	runCtx, runCancel := context.WithCancel(context.Background())
	t.cancel = runCancel
	t.done = make(chan struct{})
	go func() {
		defer close(t.done)
		err := t.capture(runCtx, stored)
		if err != nil && runCtx.Err() == nil {
			t.log.Error("change capture stopped", "err", err)
			t.mu.Lock()
			t.err = err
			t.mu.Unlock()
		}
	}()
	return nil
}

// slotState is what pg_replication_slots says about our slot.
type slotState struct {
	exists    bool
	active    bool
	pid       int32
	confirmed pglogrepl.LSN
}

func (t *Task) slot(ctx context.Context) (slotState, error) {
	var s slotState
	var pid *int32
	var confirmed *string
	err := t.cat.queryRow(ctx, `SELECT active, active_pid, confirmed_flush_lsn::text FROM pg_catalog.pg_replication_slots
		WHERE slot_name = $1 AND database = current_database()`, []any{t.cfg.slot}, &s.active, &pid, &confirmed)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("read replication slot %s: %w", t.cfg.slot, err)
	}
	s.exists = true
	if pid != nil {
		s.pid = *pid
	}
	if confirmed != nil {
		if s.confirmed, err = pglogrepl.ParseLSN(*confirmed); err != nil {
			return s, fmt.Errorf("slot %s confirmed_flush_lsn %q: %w", t.cfg.slot, *confirmed, err)
		}
	}
	return s, nil
}

// needSnapshot applies snapshot.mode to what is stored and what the server has.
func (t *Task) needSnapshot(stored *storedOffset, slot slotState) bool {
	done := stored != nil && stored.snapshotCompleted
	switch t.cfg.snapshotMode {
	case snapshotAlways:
		return true
	case snapshotNoData:
		return false
	case snapshotWhenNeeded:
		// Without the slot, or with a slot that moved past what was stored, changes are gone.
		return !done || !slot.exists || stored.lsnCommit != 0 && slot.confirmed > stored.lsnCommit
	}
	return !done
}

// freeSlot returns the slot's state once no session holds it. A worker killed a moment before
// can leave its walsender holding the slot until PostgreSQL notices the closed connection, so the
// task waits for it, as Debezium retries a slot in use: up to slot.max.retries times
// slot.retry.delay.ms.
func (t *Task) freeSlot(ctx context.Context) (slotState, error) {
	deadline := time.Now().Add(time.Duration(t.cfg.maxRetries) * t.cfg.retryDelay)
	for waited := false; ; waited = true {
		slot, err := t.slot(ctx)
		if err != nil || !slot.active {
			return slot, err
		}
		if time.Now().After(deadline) {
			return slot, fmt.Errorf("replication slot %q is active for PID %d: another connector or a stale session uses it; stop it (SELECT pg_terminate_backend(%d)) or give this connector its own %s", t.cfg.slot, slot.pid, slot.pid, cfgSlotName)
		}
		if !waited {
			t.log.Info("replication slot held by another session; waiting for it to end", "pid", slot.pid)
		}
		if !backoff.Sleep(ctx, 200*time.Millisecond) {
			return slot, ctx.Err()
		}
	}
}

// capture runs on the task's own goroutine: a panic becomes its error, which fails the task.
func (t *Task) capture(ctx context.Context, stored *storedOffset) (err error) {
	defer connect.Recover(&err)
	slot, err := t.freeSlot(ctx)
	if err != nil {
		return err
	}
	if t.needSnapshot(stored, slot) {
		if err := t.snapshot(ctx, slot); err != nil {
			return err
		}
		if t.cfg.snapshotMode == snapshotInitialOnly {
			t.log.Info("snapshot complete; snapshot.mode=initial_only, so no changes are streamed")
			return nil
		}
		handoff("stream-starting", "")
	} else {
		if t.cfg.snapshotMode == snapshotInitialOnly {
			t.log.Info("snapshot already complete; snapshot.mode=initial_only, so no changes are streamed")
			return nil
		}
		if !slot.exists {
			if err := t.createSlot(ctx); err != nil {
				return err
			}
		}
		if stored != nil && stored.snapshotCompleted {
			t.streamer.resumeFrom(stored)
		}
	}
	return t.streamer.run(ctx)
}

// snapshot (re)creates the slot with an exported snapshot and reads every table in it. An existing
// slot is dropped first: its position does not match a new snapshot, and an interrupted earlier
// snapshot must not leave it holding WAL.
func (t *Task) snapshot(ctx context.Context, slot slotState) error {
	if slot.exists {
		t.log.Info("dropping existing replication slot before a new snapshot", "confirmed_flush_lsn", slot.confirmed.String())
		if err := t.cat.exec(ctx, "SELECT pg_catalog.pg_drop_replication_slot($1)", t.cfg.slot); err != nil {
			return fmt.Errorf("drop replication slot %s: %w", t.cfg.slot, explain(err, t.cfg))
		}
	}
	exp, err := exportSnapshot(ctx, t.cfg)
	if err != nil {
		return err
	}
	defer exp.release()
	handoff("slot-created", exp.name)
	var version int
	if err := t.cat.queryRow(ctx, "SELECT current_setting('server_version_num')::int", nil, &version); err != nil {
		return fmt.Errorf("read server version: %w", err)
	}
	sn := &snapshotter{cfg: t.cfg, log: t.log, cat: t.cat, tm: t.tm, out: t.queue, partition: t.partition, headers: t.streamer.headers,
		name: exp.name, lsn: exp.lsn, pgVersion: version, imported: exp.release, metrics: t.metrics}
	if err := sn.run(ctx); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	t.streamer.processed = exp.lsn
	return nil
}

// exportedSnapshot is a new slot's consistent point and the snapshot of the database at that
// point, valid until release.
type exportedSnapshot struct {
	name    string        // for SET TRANSACTION SNAPSHOT
	lsn     pglogrepl.LSN // the slot's consistent point: the stream starts here
	release func()        // ends the export; idempotent
}

// exportSnapshot creates the slot with EXPORT_SNAPSHOT while a guard transaction holds back the
// server's xmin horizon, and keeps both open until release.
//
// The guard closes a gap in PostgreSQL (seen on 15.18, present in later releases' code): while the
// walsender creates the slot it is flagged as a logical decoding process, whose own xmin the
// server ignores, and the slot's temporary data xmin protects the rows the snapshot sees. At the
// end of the command the walsender drops that data xmin before it clears the flag, so for a moment
// nothing protects the exported snapshot: a concurrent horizon computation can pass its xmin, and
// pruning then removes the old versions of rows updated after the consistent point. Those rows
// were in neither the snapshot nor the stream (which carries only their update); CI lost 56 of
// them, one heap page, once. The guard's snapshot is older than the exported one, so while it is
// open the horizon cannot pass the exported snapshot's xmin.
func exportSnapshot(ctx context.Context, cfg *config) (*exportedSnapshot, error) {
	cc, err := connConfig(cfg.connString(false))
	if err != nil {
		return nil, err
	}
	guard, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return nil, fmt.Errorf("open snapshot guard connection: %w", err)
	}
	var repl *pgconn.PgConn
	var once sync.Once
	release := func() {
		once.Do(func() {
			c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if repl != nil {
				_ = repl.Close(c)
			}
			_ = guard.Close(c)
		})
	}
	// The first statement of a repeatable read transaction takes its snapshot, and with it the xmin
	// that holds the horizon.
	if _, err := guard.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); err != nil {
		release()
		return nil, fmt.Errorf("begin snapshot guard: %w", err)
	}
	if _, err := guard.Exec(ctx, "SELECT 1"); err != nil {
		release()
		return nil, fmt.Errorf("take snapshot guard: %w", err)
	}
	if repl, err = connectReplication(ctx, cfg); err != nil {
		release()
		return nil, err
	}
	handoff("slot-creating", "")
	res, err := pglogrepl.CreateReplicationSlot(ctx, repl, cfg.slot, "pgoutput",
		pglogrepl.CreateReplicationSlotOptions{Mode: pglogrepl.LogicalReplication, SnapshotAction: "EXPORT_SNAPSHOT"})
	if err != nil {
		release()
		return nil, fmt.Errorf("create replication slot %s: %w", cfg.slot, explain(err, cfg))
	}
	lsn, err := pglogrepl.ParseLSN(res.ConsistentPoint)
	if err != nil {
		release()
		return nil, fmt.Errorf("slot %s consistent point %q: %w", cfg.slot, res.ConsistentPoint, err)
	}
	return &exportedSnapshot{name: res.SnapshotName, lsn: lsn, release: release}, nil
}

func (t *Task) createSlot(ctx context.Context) error {
	conn, err := connectReplication(ctx, t.cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := pglogrepl.CreateReplicationSlot(ctx, conn, t.cfg.slot, "pgoutput",
		pglogrepl.CreateReplicationSlotOptions{Mode: pglogrepl.LogicalReplication, SnapshotAction: "NOEXPORT_SNAPSHOT"}); err != nil {
		return fmt.Errorf("create replication slot %s: %w", t.cfg.slot, explain(err, t.cfg))
	}
	t.log.Info("created replication slot")
	return nil
}

// warnUnmatchedIncludes logs the table.include.list entries that match no table, which validation
// also reports: a connector created from the command line or before its tables is told here.
func (t *Task) warnUnmatchedIncludes(ctx context.Context) {
	if len(t.cfg.filter.tableInc) == 0 {
		return
	}
	all, err := t.cat.tables(ctx, &filter{}, "")
	if err != nil {
		t.log.Warn("cannot check "+cfgTableInclude+" against the tables", "err", err)
		return
	}
	if w := includeWarning(t.cfg, all); w != "" {
		t.log.Warn("connector configuration warning", "key", cfgTableInclude, "warning", w)
	}
}

// preparePublication creates or updates the publication as publication.autocreate.mode says.
func (t *Task) preparePublication(ctx context.Context) error {
	var exists bool
	if err := t.cat.queryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = $1)", []any{t.cfg.publication}, &exists); err != nil {
		return connect.Retriable(fmt.Errorf("look up publication %s: %w", t.cfg.publication, err))
	}
	pub := pgQuoteIdent(t.cfg.publication)
	var stmt string
	switch t.cfg.publicationMode {
	case pubDisabled:
		if !exists {
			return fmt.Errorf("publication %q does not exist and %s=disabled: create it (CREATE PUBLICATION %s FOR ALL TABLES, or FOR TABLE the captured tables) or set %s=all_tables or filtered",
				t.cfg.publication, cfgPublicationMode, pub, cfgPublicationMode)
		}
		return nil
	case pubAllTables:
		if exists {
			return nil
		}
		stmt = "CREATE PUBLICATION " + pub + " FOR ALL TABLES"
	case pubNoTables:
		if exists {
			return nil
		}
		stmt = "CREATE PUBLICATION " + pub
	case pubFiltered:
		tables, err := t.cat.tables(ctx, t.cfg.filter, "")
		if err != nil {
			return err
		}
		names := make([]string, len(tables))
		for i, ti := range tables {
			names[i] = pgQuoteIdent(ti.schema) + "." + pgQuoteIdent(ti.name)
		}
		switch {
		case len(names) == 0 && !exists:
			stmt = "CREATE PUBLICATION " + pub
		case len(names) == 0:
			return nil
		case exists:
			stmt = "ALTER PUBLICATION " + pub + " SET TABLE " + strings.Join(names, ", ")
		default:
			stmt = "CREATE PUBLICATION " + pub + " FOR TABLE " + strings.Join(names, ", ")
		}
	}
	if err := t.cat.exec(ctx, stmt); err != nil {
		hint := ""
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "42501" {
			hint = fmt.Sprintf(" (FOR ALL TABLES needs a superuser and FOR TABLE ownership of the tables: create the publication as such a role and set %s=disabled)", cfgPublicationMode)
		}
		return fmt.Errorf("%s: %w%s", stmt, err, hint)
	}
	t.log.Info("publication prepared", "statement", stmt)
	return nil
}

// Poll returns the records decoded since the last call, waiting up to poll.interval.ms for some.
func (t *Task) Poll(ctx context.Context) ([]connect.SourceRecord, error) {
	timer := time.NewTimer(t.cfg.pollInterval)
	defer timer.Stop()
	for {
		if recs := t.queue.take(t.cfg.maxBatch); recs != nil {
			return recs, nil
		}
		select {
		case <-t.queue.ready:
		case <-t.done:
			if recs := t.queue.take(t.cfg.maxBatch); recs != nil {
				return recs, nil
			}
			t.mu.Lock()
			err := t.err
			t.mu.Unlock()
			if err == nil {
				// initial_only finished: nothing more will come.
				select {
				case <-ctx.Done():
				case <-timer.C:
				}
			}
			return nil, err
		case <-timer.C:
			return nil, nil
		case <-ctx.Done():
			return nil, nil
		}
	}
}

// Commit confirms to the slot the position the stored offset covers; offsets written during a
// snapshot confirm nothing.
func (t *Task) Commit(_ context.Context, committed []connect.SourceOffset) error {
	for _, so := range committed {
		if so.Partition["server"] != t.cfg.prefix {
			continue
		}
		o, err := parseOffset(so.Offset)
		if err != nil {
			return err
		}
		if o == nil || !o.snapshotCompleted || o.lsnCommit == 0 {
			continue
		}
		t.streamer.confirm(o.lsnCommit)
	}
	return nil
}

// Stop ends capturing and releases the connections; with slot.drop.on.stop it drops the slot.
func (t *Task) Stop() error {
	if t.cancel == nil {
		return nil
	}
	t.cancel()
	<-t.done
	defer t.cat.close()
	if !t.cfg.dropSlotOnStop {
		return nil
	}
	// The walsender of the closed stream releases the slot asynchronously.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		slot, err := t.slot(ctx)
		if err != nil || !slot.exists {
			return err
		}
		if !slot.active {
			if err := t.cat.exec(ctx, "SELECT pg_catalog.pg_drop_replication_slot($1)", t.cfg.slot); err != nil {
				return fmt.Errorf("drop replication slot %s: %w", t.cfg.slot, err)
			}
			t.log.Info("dropped replication slot")
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("drop replication slot %s: still active after 30s", t.cfg.slot)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
