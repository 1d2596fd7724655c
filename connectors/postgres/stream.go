package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/kconnect/kconnect/connect"
)

// streamer decodes the replication slot's pgoutput stream into change events.
//
// Positions: every record's offset carries lsn_commit, the position up to which everything decoded
// has been handed to the queue (the end of the last transaction fully emitted, or an idle position
// the server reported), and txId/lsn_proc, the transaction and the last change of it handed over.
// A new session starts the slot at lsn_commit and skips the changes of transaction txId up to
// lsn_proc, so a restart replays nothing twice and loses nothing. The slot is confirmed only up to
// the lsn_commit of offsets the runtime reported as stored (Commit), never from Poll.
type streamer struct {
	cfg       *config
	log       *slog.Logger
	cat       *catalog
	tm        *typeMapper
	out       *recordQueue
	partition map[string]any
	headers   connect.Headers // the run's context headers, added to every change event

	confirmed atomic.Uint64 // highest LSN the runtime's stored offsets allow to confirm
	// A blocked receive is interrupted by moving the connection's read deadline to now, the way
	// pgconn cancels a context, but without setting up a context watch for every message.
	kickMu    sync.Mutex
	receiving net.Conn // the connection a receive may be blocked on, nil when none
	kicked    bool     // the read deadline was moved to now since it was last set

	// State below is owned by the streaming goroutine.
	processed    pglogrepl.LSN // see type comment; where the next session starts
	resumeXid    uint32
	resumeProc   pglogrepl.LSN
	resumeActive bool
	lastXid      uint32
	lastCommit   pglogrepl.LSN // end of the last transaction committed, Debezium's lastCommitLsn; 0 until known

	rels       map[uint32]*tableSchema // nil entry: relation not captured
	inTx       bool
	xid        uint32
	commitTime time.Time
	prevLSN    pglogrepl.LSN
	pending    []connect.SourceRecord // records of the latest change, held back until the next one
	txOrder    int64
	txColls    []txCollection
	progressed bool

	nextHeartbeat time.Time
	lastSent      pglogrepl.LSN
	conn          *pgconn.PgConn // the open replication connection, for status updates while the queue is full

	// lagMillis and lagBytes are the replication lag gauges, set at commits and keepalives.
	lagMillis, lagBytes connect.Gauge
}

type txCollection struct {
	name  string
	count int64
}

func newStreamer(cfg *config, log *slog.Logger, cat *catalog, tm *typeMapper, out *recordQueue) *streamer {
	discard := connect.DiscardMetrics{}
	return &streamer{cfg: cfg, log: log, cat: cat, tm: tm, out: out, partition: map[string]any{"server": cfg.prefix},
		headers: contextHeaders(cfg), lagMillis: discard.Gauge("", ""), lagBytes: discard.Gauge("", "")}
}

// resumeFrom sets the starting position from a stored streaming offset.
func (s *streamer) resumeFrom(o *storedOffset) {
	s.processed = o.lsnCommit
	if s.processed == 0 {
		s.processed = o.lsn
	}
	// Debezium's offset loader takes the last commit from lsn_commit, else from lsn_proc; it is
	// what the first event's source.sequence reports.
	s.lastCommit = o.lsnCommit
	if s.lastCommit == 0 {
		s.lastCommit = o.lsnProc
	}
	if o.txID != 0 && o.lsnProc != 0 {
		s.resumeXid, s.resumeProc, s.resumeActive = uint32(o.txID), o.lsnProc, true
	}
}

// confirm raises the LSN the slot may be confirmed to; called from Commit.
func (s *streamer) confirm(lsn pglogrepl.LSN) {
	for {
		cur := s.confirmed.Load()
		if uint64(lsn) <= cur {
			return
		}
		if s.confirmed.CompareAndSwap(cur, uint64(lsn)) {
			break
		}
	}
	s.interrupt()
}

// interrupt ends a receive blocked on the replication connection.
func (s *streamer) interrupt() {
	s.kickMu.Lock()
	if s.receiving != nil {
		_ = s.receiving.SetReadDeadline(time.Now())
		s.kicked = true
	}
	s.kickMu.Unlock()
}

// run streams until ctx ends, reconnecting with exponential backoff after failures.
func (s *streamer) run(ctx context.Context) error {
	failures := 0
	delay := 200 * time.Millisecond
	for {
		s.progressed = false
		err := s.session(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if permanentError(err) {
			return err
		}
		if s.progressed {
			failures, delay = 0, 200*time.Millisecond
		}
		failures++
		if failures > s.cfg.maxRetries {
			return fmt.Errorf("replication stream failed %d times in a row, giving up (raise %s to retry longer): %w", failures, cfgSlotMaxRetries, err)
		}
		s.log.Warn("replication stream interrupted; reconnecting", "err", err, "attempt", failures, "delay", delay)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, max(s.cfg.retryDelay, 200*time.Millisecond))
	}
}

// permanentError reports failures a reconnect cannot fix.
func permanentError(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case "28P01", "28000", "42501", "42704", "3D000", "55000":
		return true
	}
	return false
}

func pgQuoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func pgQuoteLiteral(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }

func connectReplication(ctx context.Context, cfg *config) (*pgconn.PgConn, error) {
	cc, err := connConfig(cfg.connString(true))
	if err != nil {
		return nil, fmt.Errorf("replication connection settings: %w", err)
	}
	conn, err := pgconn.ConnectConfig(ctx, &cc.Config)
	if err != nil {
		return nil, fmt.Errorf("open replication connection to %s:%d/%s: %w", cfg.host, cfg.port, cfg.dbname, explain(err, cfg))
	}
	return conn, nil
}

// explain adds the fix to the server errors users run into most.
func explain(err error, cfg *config) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	switch {
	case pe.Code == "55006" || strings.Contains(pe.Message, "is active for PID"):
		return fmt.Errorf("%w (another connector or a stale session uses slot %q: stop it, or give this connector its own %s)", err, cfg.slot, cfgSlotName)
	case pe.Code == "42501" || strings.Contains(pe.Message, "must be superuser or replication role"):
		return fmt.Errorf("%w (grant it with: ALTER ROLE %s WITH REPLICATION)", err, pgQuoteIdent(cfg.user))
	case pe.Code == "55000" && strings.Contains(pe.Message, "wal_level"):
		return fmt.Errorf("%w (set wal_level = logical in postgresql.conf and restart PostgreSQL)", err)
	case pe.Code == "42704" && strings.Contains(pe.Message, "publication"):
		return fmt.Errorf("%w (create it with CREATE PUBLICATION %s FOR ALL TABLES, or set %s=all_tables or filtered)", err, pgQuoteIdent(cfg.publication), cfgPublicationMode)
	case pe.Code == "42704" && strings.Contains(pe.Message, "replication slot"):
		return fmt.Errorf("%w (the slot was dropped; restart the connector to recreate it, with a new snapshot per %s)", err, cfgSnapshotMode)
	}
	return err
}

func (s *streamer) session(ctx context.Context) error {
	conn, err := connectReplication(ctx, s.cfg)
	if err != nil {
		return err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = conn.Close(closeCtx)
		cancel()
	}()
	return s.stream(ctx, conn)
}

// stream runs START_REPLICATION on an open replication connection and decodes until an error.
func (s *streamer) stream(ctx context.Context, conn *pgconn.PgConn) error {
	s.rels = map[uint32]*tableSchema{}
	s.inTx, s.pending, s.prevLSN = false, s.pending[:0], s.processed
	args := []string{"proto_version '1'", "publication_names " + pgQuoteLiteral(pgQuoteIdent(s.cfg.publication))}
	err := pglogrepl.StartReplication(ctx, conn, s.cfg.slot, s.processed, pglogrepl.StartReplicationOptions{PluginArgs: args})
	if err != nil {
		return fmt.Errorf("start replication from slot %s at %s: %w", s.cfg.slot, s.processed, explain(err, s.cfg))
	}
	s.log.Info("streaming changes", "from", s.processed.String())
	s.conn = conn
	s.kickMu.Lock()
	s.receiving, s.kicked = conn.Conn(), true
	s.kickMu.Unlock()
	stopWatch := context.AfterFunc(ctx, s.interrupt)
	defer func() {
		stopWatch()
		s.kickMu.Lock()
		s.receiving = nil
		s.kickMu.Unlock()
		_ = conn.Conn().SetReadDeadline(time.Time{})
		s.conn = nil
	}()
	s.lastSent = 0
	var readDeadline time.Time
	nextStatus := time.Now()
	if s.cfg.heartbeatInterval > 0 && s.nextHeartbeat.IsZero() {
		s.nextHeartbeat = time.Now().Add(s.cfg.heartbeatInterval)
	}
	for {
		now := time.Now()
		confirmed := pglogrepl.LSN(s.confirmed.Load())
		if !now.Before(nextStatus) || confirmed > s.lastSent {
			if err := s.sendStatus(ctx, conn, confirmed); err != nil {
				return err
			}
			nextStatus = now.Add(s.cfg.statusInterval)
		}
		if s.cfg.heartbeatInterval > 0 && !now.Before(s.nextHeartbeat) && !s.inTx {
			if err := s.heartbeat(ctx); err != nil {
				return err
			}
			s.nextHeartbeat = now.Add(s.cfg.heartbeatInterval)
		}
		deadline := nextStatus
		if s.cfg.heartbeatInterval > 0 && s.nextHeartbeat.Before(deadline) {
			deadline = s.nextHeartbeat
		}
		s.kickMu.Lock()
		if s.kicked || !deadline.Equal(readDeadline) {
			if err := conn.Conn().SetReadDeadline(deadline); err != nil {
				s.kickMu.Unlock()
				return fmt.Errorf("set read deadline on replication connection: %w", err)
			}
			readDeadline, s.kicked = deadline, false
		}
		s.kickMu.Unlock()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if pglogrepl.LSN(s.confirmed.Load()) > s.lastSent {
			continue // a confirmation arrived after the check above: send it before blocking
		}
		msg, err := conn.ReceiveMessage(context.Background())
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if pgconn.Timeout(err) {
				continue
			}
			return fmt.Errorf("receive from replication stream: %w", err)
		}
		switch m := msg.(type) {
		case *pgproto3.CopyData:
			if len(m.Data) == 0 {
				continue
			}
			switch m.Data[0] {
			case pglogrepl.PrimaryKeepaliveMessageByteID:
				pkm, err := pglogrepl.ParsePrimaryKeepaliveMessage(m.Data[1:])
				if err != nil {
					return fmt.Errorf("parse keepalive: %w", err)
				}
				// Between transactions, everything before the server's position has been
				// received, so that position is done as well.
				if !s.inTx && len(s.pending) == 0 && pkm.ServerWALEnd > s.processed {
					s.processed = pkm.ServerWALEnd
					s.lagMillis.Set(0)
				}
				s.reportLag(pkm.ServerWALEnd)
				if pkm.ReplyRequested {
					nextStatus = time.Time{}
				}
			case pglogrepl.XLogDataByteID:
				xld, err := pglogrepl.ParseXLogData(m.Data[1:])
				if err != nil {
					return fmt.Errorf("parse XLogData: %w", err)
				}
				if err := s.handle(ctx, xld); err != nil {
					return err
				}
			}
		case *pgproto3.ErrorResponse:
			return explain(pgconn.ErrorResponseToPgError(m), s.cfg)
		case *pgproto3.CopyDone:
			return errors.New("server ended the replication stream")
		}
	}
}

// reportLag sets the byte lag from the server's WAL position as the stream last reported it.
func (s *streamer) reportLag(serverWALEnd pglogrepl.LSN) {
	if confirmed := pglogrepl.LSN(s.confirmed.Load()); confirmed > 0 && serverWALEnd > confirmed {
		s.lagBytes.Set(float64(serverWALEnd - confirmed))
	} else {
		s.lagBytes.Set(0)
	}
}

func (s *streamer) sendStatus(ctx context.Context, conn *pgconn.PgConn, confirmed pglogrepl.LSN) error {
	err := pglogrepl.SendStandbyStatusUpdate(ctx, conn, pglogrepl.StandbyStatusUpdate{
		WALWritePosition: confirmed, WALFlushPosition: confirmed, WALApplyPosition: confirmed,
	})
	if err != nil {
		return fmt.Errorf("send standby status update: %w", err)
	}
	if confirmed > s.lastSent {
		s.log.Debug("confirmed to slot", "lsn", confirmed.String())
	}
	s.lastSent = confirmed
	return nil
}

// emit hands records to the queue. While the queue is full it keeps the replication connection
// alive with status updates, which also pass on confirmations, so a slow runtime does not make the
// server drop the connection after wal_sender_timeout.
func (s *streamer) emit(ctx context.Context, recs ...connect.SourceRecord) error {
	for {
		ok, err := s.out.put(ctx, recs, min(s.cfg.statusInterval, time.Second))
		if ok || err != nil {
			return err
		}
		if s.conn != nil {
			if err := s.sendStatus(ctx, s.conn, pglogrepl.LSN(s.confirmed.Load())); err != nil {
				return err
			}
		}
	}
}

// flushPending hands over the held-back records of the latest change.
func (s *streamer) flushPending(ctx context.Context) error {
	if err := s.emit(ctx, s.pending...); err != nil {
		return err
	}
	if len(s.pending) > 0 {
		s.progressed = true
		last := s.pending[len(s.pending)-1].SourceOffset
		if s.inTx {
			s.resumeXid, s.resumeActive = s.xid, true
			s.resumeProc = pglogrepl.LSN(last["lsn_proc"].(int64))
		}
	}
	clear(s.pending)
	s.pending = s.pending[:0]
	return nil
}

func (s *streamer) offset(lsn, proc pglogrepl.LSN, msgType string) map[string]any {
	o := map[string]any{
		"lsn":         int64(lsn),
		"lsn_proc":    int64(proc),
		"txId":        int64(s.xid),
		"ts_usec":     s.commitTime.UnixMicro(),
		"messageType": msgType,
	}
	if s.processed != 0 {
		o["lsn_commit"] = int64(s.processed)
	}
	return o
}

func (s *streamer) handle(ctx context.Context, xld pglogrepl.XLogData) error {
	msg, err := pglogrepl.Parse(xld.WALData)
	if err != nil {
		return fmt.Errorf("decode pgoutput message at %s: %w", xld.WALStart, err)
	}
	switch m := msg.(type) {
	case *pglogrepl.RelationMessage:
		return s.relation(ctx, m)
	case *pglogrepl.BeginMessage:
		if err := s.flushPending(ctx); err != nil {
			return err
		}
		s.inTx, s.xid, s.commitTime, s.prevLSN = true, m.Xid, m.CommitTime, 0
		s.txOrder, s.txColls = 0, s.txColls[:0]
		if s.resumeActive && m.Xid != s.resumeXid {
			// The server skipped the interrupted transaction because it was confirmed complete.
			s.resumeActive = false
		}
		if s.cfg.txMetadata {
			return s.emit(ctx, s.txEvent("BEGIN", xld.WALStart))
		}
	case *pglogrepl.CommitMessage:
		s.processed, s.lastCommit = m.TransactionEndLSN, m.TransactionEndLSN
		s.lagMillis.Set(float64(max(time.Since(m.CommitTime).Milliseconds(), 0)))
		s.reportLag(xld.ServerWALEnd)
		for _, r := range s.pending {
			r.SourceOffset["lsn_commit"] = int64(m.TransactionEndLSN)
		}
		s.inTx = false
		if err := s.flushPending(ctx); err != nil {
			return err
		}
		s.resumeActive = false
		s.lastXid = s.xid
		s.progressed = true
		if s.cfg.txMetadata {
			return s.emit(ctx, s.txEvent("END", m.CommitLSN))
		}
	case *pglogrepl.InsertMessage:
		return s.change(ctx, xld.WALStart, m.RelationID, func(t *tableSchema) ([]connect.SourceRecord, error) {
			return s.insert(t, xld.WALStart, m)
		})
	case *pglogrepl.UpdateMessage:
		return s.change(ctx, xld.WALStart, m.RelationID, func(t *tableSchema) ([]connect.SourceRecord, error) {
			return s.update(t, xld.WALStart, m)
		})
	case *pglogrepl.DeleteMessage:
		return s.change(ctx, xld.WALStart, m.RelationID, func(t *tableSchema) ([]connect.SourceRecord, error) {
			return s.delete(t, xld.WALStart, m)
		})
	case *pglogrepl.TruncateMessage:
		if err := s.flushPending(ctx); err != nil {
			return err
		}
		if s.skipResumed(xld.WALStart) || s.cfg.skip[opTruncate] {
			s.prevLSN = xld.WALStart
			return nil
		}
		for _, id := range m.RelationIDs {
			t := s.rels[id]
			if t == nil {
				continue
			}
			src := t.source(s.cfg, &sourceInfo{commitTime: s.commitTime, txID: int64(s.xid), lsn: xld.WALStart, lastCommit: s.lastCommit})
			rec := s.record(t, nil, t.envelopeValue(opTruncate, nil, nil, src, s.txBlock(t), stampsAt(time.Now())), s.offset(xld.WALStart, s.prevLSN, "TRUNCATE"))
			s.pending = append(s.pending, rec)
		}
		s.fixProc(xld.WALStart)
	}
	return nil
}

// skipResumed reports whether a change was already handed over before the session restarted.
func (s *streamer) skipResumed(lsn pglogrepl.LSN) bool {
	return s.resumeActive && s.xid == s.resumeXid && lsn <= s.resumeProc
}

// fixProc gives the last record of a change lsn_proc = its LSN (the others keep the previous
// change's), so a restart skips a change only when all its records were stored.
func (s *streamer) fixProc(lsn pglogrepl.LSN) {
	if n := len(s.pending); n > 0 {
		s.pending[n-1].SourceOffset["lsn_proc"] = int64(lsn)
	}
	s.prevLSN = lsn
}

func (s *streamer) change(ctx context.Context, lsn pglogrepl.LSN, relID uint32, build func(*tableSchema) ([]connect.SourceRecord, error)) error {
	if err := s.flushPending(ctx); err != nil {
		return err
	}
	t, known := s.rels[relID]
	if !known {
		return fmt.Errorf("change for relation %d at %s arrived before its Relation message", relID, lsn)
	}
	if t == nil || s.skipResumed(lsn) {
		s.prevLSN = lsn
		return nil
	}
	recs, err := build(t)
	if err != nil {
		return fmt.Errorf("decode change at %s: %w", lsn, err)
	}
	s.pending = append(s.pending, recs...)
	s.fixProc(lsn)
	return nil
}

func (s *streamer) relation(ctx context.Context, m *pglogrepl.RelationMessage) error {
	if !s.cfg.filter.table(m.Namespace, m.RelationName) {
		s.rels[m.RelationID] = nil
		return nil
	}
	s.cat.forget()
	live, err := s.cat.columns(ctx, m.RelationID)
	if err != nil {
		return err
	}
	byName := make(map[string]colDef, len(live))
	for _, d := range live {
		byName[d.name] = d
	}
	defs := make([]colDef, len(m.Columns))
	for i, c := range m.Columns {
		d := colDef{name: c.Name, typeOID: c.DataType, typmod: c.TypeModifier}
		if l, ok := byName[c.Name]; ok {
			// The catalog may already be ahead of the stream; trust it only for the same type.
			if l.typeOID == c.DataType {
				d.notNull, d.pk = l.notNull, l.pk
			}
		}
		defs[i] = d
	}
	t, err := buildTable(s.cfg, s.tm, m.Namespace, m.RelationName, defs)
	if err != nil {
		return err
	}
	if old := s.rels[m.RelationID]; old != nil && !old.valueSchema.Equal(t.valueSchema) {
		s.log.Info("table schema changed", "table", t.collection)
	}
	s.rels[m.RelationID] = t
	return nil
}

func cells(td *pglogrepl.TupleData, buf []cell) []cell {
	buf = buf[:0]
	if td == nil {
		return buf
	}
	for _, c := range td.Columns {
		buf = append(buf, cell{data: c.Data, kind: c.DataType})
	}
	return buf
}

// record builds a change event or, with a nil value, a tombstone; own are the event's headers
// before the context headers.
func (s *streamer) record(t *tableSchema, key *connect.Struct, value *connect.Struct, offset map[string]any, own ...connect.Header) connect.SourceRecord {
	var ks *connect.Schema
	var k any
	if key != nil {
		ks, k = t.keySchema, key
	}
	var v any
	if value != nil {
		v = value
	}
	rec := connect.NewSourceRecord(s.partition, offset, t.topic, ks, k, t.envelope, v)
	rec.Headers = eventHeaders(s.headers, own...)
	if value == nil {
		rec.ValueSchema = nil
	}
	return rec
}

func (s *streamer) txBlock(t *tableSchema) *connect.Struct {
	if !s.cfg.txMetadata {
		return nil
	}
	s.txOrder++
	var n int64
	for i := range s.txColls {
		if s.txColls[i].name == t.collection {
			s.txColls[i].count++
			n = s.txColls[i].count
		}
	}
	if n == 0 {
		s.txColls = append(s.txColls, txCollection{name: t.collection, count: 1})
		n = 1
	}
	return connect.NewStruct(txBlockSchema).Set("id", fmt.Sprint(s.xid)).Set("total_order", s.txOrder).Set("data_collection_order", n)
}

func (s *streamer) txEvent(status string, lsn pglogrepl.LSN) connect.SourceRecord {
	id := fmt.Sprint(s.xid)
	v := connect.NewStruct(txValueSchema).Set("status", status).Set("id", id).Set("ts_ms", s.commitTime.UnixMilli())
	if status == "END" {
		v.Set("event_count", s.txOrder)
		colls := make([]any, len(s.txColls))
		for i, c := range s.txColls {
			colls[i] = connect.NewStruct(txCollectionSchema).Set("data_collection", c.name).Set("event_count", c.count)
		}
		v.Set("data_collections", colls)
	}
	return connect.NewSourceRecord(s.partition, s.offset(lsn, s.prevLSN, status), s.cfg.txTopic,
		txKeySchema, connect.NewStruct(txKeySchema).Set("id", id), txValueSchema, v)
}

func (s *streamer) src(t *tableSchema, lsn pglogrepl.LSN) *connect.Struct {
	return t.source(s.cfg, &sourceInfo{commitTime: s.commitTime, txID: int64(s.xid), lsn: lsn, lastCommit: s.lastCommit})
}

func (s *streamer) insert(t *tableSchema, lsn pglogrepl.LSN, m *pglogrepl.InsertMessage) ([]connect.SourceRecord, error) {
	if s.cfg.skip[opCreate] {
		return nil, nil
	}
	after, key, err := t.rowValues(cells(m.Tuple, make([]cell, 0, len(t.cols))))
	if err != nil {
		return nil, err
	}
	env := t.envelopeValue(opCreate, nil, after, s.src(t, lsn), s.txBlock(t), stampsAt(time.Now()))
	return []connect.SourceRecord{s.record(t, key, env, s.offset(lsn, s.prevLSN, "INSERT"))}, nil
}

func (s *streamer) update(t *tableSchema, lsn pglogrepl.LSN, m *pglogrepl.UpdateMessage) ([]connect.SourceRecord, error) {
	buf := make([]cell, 0, len(t.cols))
	after, key, err := t.rowValues(cells(m.NewTuple, buf))
	if err != nil {
		return nil, err
	}
	var before, oldKey *connect.Struct
	if m.OldTuple != nil {
		if before, oldKey, err = t.rowValues(cells(m.OldTuple, buf)); err != nil {
			return nil, err
		}
	}
	now := stampsAt(time.Now())
	if oldKey != nil && key != nil && !keysEqual(oldKey, key) {
		// A primary key change is a delete of the old key and a create of the new one.
		var recs []connect.SourceRecord
		if !s.cfg.skip[opDelete] {
			// Debezium's tombstone is a copy of the delete with its headers.
			newKey := connect.Header{Key: "__debezium.newkey", Schema: t.keySchema, Value: key}
			recs = append(recs, s.record(t, oldKey, t.envelopeValue(opDelete, before, nil, s.src(t, lsn), s.txBlock(t), now), s.offset(lsn, s.prevLSN, "UPDATE"), newKey))
			if s.cfg.tombstones {
				recs = append(recs, s.record(t, oldKey, nil, s.offset(lsn, s.prevLSN, "UPDATE"), newKey))
			}
		}
		if !s.cfg.skip[opCreate] {
			oldKeyHdr := connect.Header{Key: "__debezium.oldkey", Schema: t.keySchema, Value: oldKey}
			recs = append(recs, s.record(t, key, t.envelopeValue(opCreate, nil, after, s.src(t, lsn), s.txBlock(t), now), s.offset(lsn, s.prevLSN, "UPDATE"), oldKeyHdr))
		}
		return recs, nil
	}
	if s.cfg.skip[opUpdate] {
		return nil, nil
	}
	env := t.envelopeValue(opUpdate, before, after, s.src(t, lsn), s.txBlock(t), now)
	return []connect.SourceRecord{s.record(t, key, env, s.offset(lsn, s.prevLSN, "UPDATE"))}, nil
}

func (s *streamer) delete(t *tableSchema, lsn pglogrepl.LSN, m *pglogrepl.DeleteMessage) ([]connect.SourceRecord, error) {
	if s.cfg.skip[opDelete] {
		return nil, nil
	}
	before, key, err := t.rowValues(cells(m.OldTuple, make([]cell, 0, len(t.cols))))
	if err != nil {
		return nil, err
	}
	env := t.envelopeValue(opDelete, before, nil, s.src(t, lsn), s.txBlock(t), stampsAt(time.Now()))
	recs := []connect.SourceRecord{s.record(t, key, env, s.offset(lsn, s.prevLSN, "DELETE"))}
	if s.cfg.tombstones && key != nil {
		recs = append(recs, s.record(t, key, nil, s.offset(lsn, s.prevLSN, "DELETE")))
	}
	return recs, nil
}

// heartbeat runs the action query and emits a heartbeat record carrying the current position, so
// the slot advances while the captured tables are idle.
func (s *streamer) heartbeat(ctx context.Context) error {
	if s.cfg.heartbeatQuery != "" {
		if err := s.cat.exec(ctx, s.cfg.heartbeatQuery); err != nil {
			s.log.Warn("heartbeat action query failed", "query", s.cfg.heartbeatQuery, "err", err)
		}
	}
	if s.processed == 0 {
		return nil
	}
	now := time.Now()
	off := map[string]any{
		"lsn": int64(s.processed), "lsn_proc": int64(s.processed), "lsn_commit": int64(s.processed),
		"txId": int64(s.lastXid), "ts_usec": now.UnixMicro(),
	}
	key := connect.NewStruct(heartbeatKeySchema).Set("serverName", s.cfg.prefix)
	val := connect.NewStruct(heartbeatValueSchema).Set("ts_ms", now.UnixMilli())
	return s.emit(ctx, connect.NewSourceRecord(s.partition, off, s.cfg.heartbeatTopic, heartbeatKeySchema, key, heartbeatValueSchema, val))
}
