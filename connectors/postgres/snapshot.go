package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/kconnect/kconnect/connect"
	"golang.org/x/sync/errgroup"
)

// snapshotter reads every captured table inside the snapshot exported when the slot was created,
// so the rows it emits plus the changes streamed from the slot's consistent point are exactly the
// database's history: nothing is missed or doubled at the hand-off.
type snapshotter struct {
	cfg       *config
	log       *slog.Logger
	cat       *catalog
	tm        *typeMapper
	out       *recordQueue
	partition map[string]any
	headers   connect.Headers // the run's context headers
	name      string          // exported snapshot
	lsn       pglogrepl.LSN   // slot's consistent point
	pgVersion int
	// imported is called once every worker has imported the snapshot, after which the exporting
	// replication connection may be closed.
	imported func()

	logImport sync.Once
	mu        sync.Mutex // serialises deliver
	marks     *snapshotMarks
	// metrics receives the snapshot's progress, updated in deliver.
	metrics  connect.TaskMetrics
	progress connect.Progress
}

// chunk is a range of heap pages of one table; to < 0 means up to the end of the table.
type chunk struct {
	table    int
	from, to int64
}

// snapshotBatch is how many rows a worker decodes before handing them over; the hand-over takes a
// lock, so batching keeps the workers from contending on it per row.
const snapshotBatch = 512

const snapshotOffsetType = "INITIAL"

func (sn *snapshotter) run(ctx context.Context) error {
	infos, err := sn.cat.tables(ctx, sn.cfg.filter, sn.cfg.publication)
	if err != nil {
		return err
	}
	tables := make([]*tableSchema, len(infos))
	var chunks []chunk
	for i, ti := range infos {
		defs, err := sn.cat.columns(ctx, ti.oid)
		if err != nil {
			return err
		}
		if tables[i], err = buildTable(sn.cfg, sn.tm, ti.schema, ti.name, defs); err != nil {
			return err
		}
		chunks = append(chunks, sn.chunks(i, ti)...)
	}
	sn.log.Info("snapshot starting", "tables", len(tables), "chunks", len(chunks), "threads", sn.cfg.snapshotThreads, "lsn", sn.lsn.String())
	sn.progress = connect.Progress{Phase: "snapshot", TablesTotal: int64(len(tables))}
	for _, ti := range infos {
		// reltuples is -1 for a table never vacuumed or analyzed: no estimate.
		sn.progress.RowsEstimated += int64(max(ti.tuples, 0))
	}
	sn.metrics.SetProgress(&sn.progress)
	defer sn.metrics.SetProgress(nil)
	start := time.Now()

	work := make(chan chunk, len(chunks))
	for _, c := range chunks {
		work <- c
	}
	close(work)
	sn.marks = newSnapshotMarks(len(tables), chunks)
	threads := min(sn.cfg.snapshotThreads, max(len(chunks), 1))
	var importWG sync.WaitGroup
	importWG.Add(threads)
	g, gctx := errgroup.WithContext(ctx)
	for w := 0; w < threads; w++ {
		g.Go(func() error { return sn.worker(gctx, tables, work, &importWG, start) })
	}
	go func() {
		var err error
		defer func() {
			if err != nil {
				sn.log.Error("closing the exporting connection failed", "err", err)
			}
		}()
		defer connect.Recover(&err)
		importWG.Wait()
		sn.imported()
	}()
	if err := g.Wait(); err != nil {
		return err
	}
	sn.log.Info("snapshot finished", "tables", len(tables), "duration", time.Since(start))
	return nil
}

// chunks cuts a table into page ranges of about snapshot.fetch.size rows. TID range scans exist
// from PostgreSQL 14; older servers read each table in one query.
func (sn *snapshotter) chunks(table int, ti tableInfo) []chunk {
	if sn.pgVersion < 140000 || ti.pages <= 1 {
		return []chunk{{table: table, from: 0, to: -1}}
	}
	rowsPerPage := 50.0
	if ti.tuples > 0 {
		rowsPerPage = max(ti.tuples/float64(ti.pages), 1)
	}
	step := max(int64(float64(sn.cfg.snapshotFetchSize)/rowsPerPage), 1)
	var out []chunk
	for from := int64(0); from < ti.pages; from += step {
		out = append(out, chunk{table: table, from: from, to: from + step})
	}
	// Pages added after the size was read are still in the snapshot's view of the table.
	out[len(out)-1].to = -1
	return out
}

func (sn *snapshotter) worker(ctx context.Context, tables []*tableSchema, work <-chan chunk, imported *sync.WaitGroup, start time.Time) (err error) {
	defer connect.Recover(&err)
	once := sync.OnceFunc(imported.Done)
	defer once()
	cc, err := connConfig(sn.cfg.connString(false))
	if err != nil {
		return err
	}
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return fmt.Errorf("snapshot connection: %w", err)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = conn.Close(closeCtx)
		cancel()
	}()
	if _, err := conn.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); err != nil {
		return fmt.Errorf("begin snapshot transaction: %w", err)
	}
	if _, err := conn.Exec(ctx, "SET TRANSACTION SNAPSHOT "+pgQuoteLiteral(sn.name)); err != nil {
		return fmt.Errorf("import snapshot %s: %w", sn.name, err)
	}
	var xmin int64
	var visible string
	if err := conn.QueryRow(ctx, "SELECT txid_snapshot_xmin(s), s::text FROM txid_current_snapshot() s").Scan(&xmin, &visible); err != nil {
		return fmt.Errorf("read imported snapshot: %w", err)
	}
	// xmin:xmax:in-progress ids, the transactions this snapshot sees as not committed: when rows go
	// missing at the hand-off, this and the slot's consistent point are the evidence to compare.
	sn.logImport.Do(func() { sn.log.Info("snapshot imported", "snapshot", visible, "lsn", sn.lsn.String()) })
	once()
	handoff("snapshot-imported", sn.name)
	// Every row of the snapshot has the same offset and, per table, the same source block, so they
	// are built once and shared; marking a record copies what it changes.
	offset := map[string]any{
		"lsn": int64(sn.lsn), "txId": xmin, "ts_usec": start.UnixMicro(),
		"snapshot": snapshotOffsetType, "snapshot_completed": false, "last_snapshot_record": false,
	}
	sources := make([]*connect.Struct, len(tables))
	formats := make([][]int16, len(tables))
	var cells []cell
	for c := range work {
		t := tables[c.table]
		if sources[c.table] == nil {
			sources[c.table] = t.source(sn.cfg, &sourceInfo{snapshot: "true", commitTime: start, txID: xmin, lsn: sn.lsn})
			formats[c.table] = resultFormats(t)
		}
		src, fmts := sources[c.table], formats[c.table]
		rr := conn.PgConn().ExecParams(ctx, selectChunk(t, c), nil, nil, nil, fmts)
		batch := make([]connect.SourceRecord, 0, snapshotBatch)
		ts := stampsAt(time.Now())
		for rr.NextRow() {
			cells = cells[:0]
			for i, v := range rr.Values() {
				switch {
				case v == nil:
					cells = append(cells, cell{kind: 'n'})
				case fmts[i] == pgx.BinaryFormatCode:
					cells = append(cells, cell{kind: 'b', data: v})
				default:
					cells = append(cells, cell{kind: 't', data: v})
				}
			}
			after, key, err := t.rowValues(cells)
			if err != nil {
				rr.Close()
				return err
			}
			rec := connect.NewSourceRecord(sn.partition, offset, t.topic, nil, nil, t.envelope, t.envelopeValue(opRead, nil, after, src, nil, ts))
			rec.Headers = eventHeaders(sn.headers)
			if key != nil {
				rec.KeySchema, rec.Key = t.keySchema, key
			}
			batch = append(batch, rec)
			if len(batch) == snapshotBatch {
				if err := sn.deliver(ctx, c.table, batch, false); err != nil {
					rr.Close()
					return err
				}
				batch = make([]connect.SourceRecord, 0, snapshotBatch)
				ts = stampsAt(time.Now())
			}
		}
		if _, err := rr.Close(); err != nil {
			return fmt.Errorf("snapshot of %s: %w", t.collection, err)
		}
		if err := sn.deliver(ctx, c.table, batch, true); err != nil {
			return err
		}
	}
	_, err = conn.Exec(ctx, "COMMIT")
	return err
}

// resultFormats asks for the binary format of the columns that have a binary decoder: it is cheaper
// for the server to produce and for the task to decode than text.
func resultFormats(t *tableSchema) []int16 {
	f := make([]int16, len(t.cols))
	for i := range t.cols {
		if t.cols[i].decodeBin != nil && (t.cols[i].valueIdx >= 0 || t.cols[i].keyIdx >= 0) {
			f[i] = pgx.BinaryFormatCode
		}
	}
	return f
}

// selectChunk renders the query of one chunk; unmapped columns are selected as NULL so that the
// row keeps the table's column positions without transferring their data.
func selectChunk(t *tableSchema, c chunk) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, col := range t.cols {
		if i > 0 {
			b.WriteString(", ")
		}
		if col.valueIdx < 0 && col.keyIdx < 0 {
			b.WriteString("NULL")
		} else {
			b.WriteString(pgQuoteIdent(col.name))
		}
	}
	b.WriteString(" FROM ")
	b.WriteString(pgQuoteIdent(t.schema) + "." + pgQuoteIdent(t.name))
	if c.from > 0 || c.to >= 0 {
		fmt.Fprintf(&b, " WHERE ctid >= '(%d,0)'::tid", c.from)
		if c.to >= 0 {
			fmt.Fprintf(&b, " AND ctid < '(%d,0)'::tid", c.to)
		}
	}
	return b.String()
}

// snapshotMarks gives the first and last record of each table, and of the whole snapshot,
// Debezium's snapshot markers; the very last record's offset says the snapshot is complete. It
// holds back the latest record of each table until the next one of that table or the end of the
// table's chunks shows whether it was the table's last.
type snapshotMarks struct {
	outstanding []int // chunks not yet finished, per table
	tablesLeft  int
	held        []*connect.SourceRecord
	seen        []bool
	sent        bool                  // a record was handed to the queue
	lastOfTable *connect.SourceRecord // most recent table-final record, held for a possible "last"
}

func newSnapshotMarks(tables int, chunks []chunk) *snapshotMarks {
	m := &snapshotMarks{outstanding: make([]int, tables), held: make([]*connect.SourceRecord, tables), seen: make([]bool, tables)}
	for _, c := range chunks {
		m.outstanding[c.table]++
	}
	for _, n := range m.outstanding {
		if n > 0 {
			m.tablesLeft++
		}
	}
	return m
}

// deliver marks a worker's batch of rows of one table and hands it to the queue; chunkDone says the
// batch ends a chunk. Deliveries are serialised, so every record is in the queue before the final
// record, whose stored offset ends the snapshot, can be.
func (sn *snapshotter) deliver(ctx context.Context, table int, recs []connect.SourceRecord, chunkDone bool) error {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	m := sn.marks
	sn.progress.RowsDone += int64(len(recs))
	if chunkDone && m.outstanding[table] == 1 {
		sn.progress.TablesDone++
	}
	sn.metrics.SetProgress(&sn.progress)
	send := func(r ...connect.SourceRecord) error {
		if len(r) > 0 && !m.sent {
			// Held-back records go out after later ones, so "first" goes to the first one sent.
			setSnapshotMark(&r[0], "first")
			m.sent = true
		}
		_, err := sn.out.put(ctx, r, 0)
		return err
	}
	if n := len(recs); n > 0 {
		if !m.seen[table] {
			m.seen[table] = true
			setSnapshotMark(&recs[0], "first_in_data_collection")
		}
		if prev := m.held[table]; prev != nil {
			if err := send(*prev); err != nil {
				return err
			}
		}
		if err := send(recs[:n-1]...); err != nil {
			return err
		}
		m.held[table] = &recs[n-1]
	}
	if !chunkDone {
		return nil
	}
	if m.outstanding[table]--; m.outstanding[table] > 0 {
		return nil
	}
	m.tablesLeft--
	if r := m.held[table]; r != nil {
		m.held[table] = nil
		setSnapshotMark(r, "last_in_data_collection")
		if m.lastOfTable != nil {
			if err := send(*m.lastOfTable); err != nil {
				return err
			}
		}
		m.lastOfTable = r
	}
	if m.tablesLeft > 0 || m.lastOfTable == nil {
		return nil
	}
	last := m.lastOfTable
	m.lastOfTable = nil
	setSnapshotMark(last, "last")
	off := maps.Clone(last.SourceOffset)
	off["last_snapshot_record"] = true
	off["snapshot_completed"] = true
	last.SourceOffset = off
	return send(*last)
}

// markRank orders the snapshot markers as Debezium resolves a record that is several things at
// once (the first row of the snapshot that is also its table's only row is "first").
var markRank = map[string]int{"true": 0, "first_in_data_collection": 1, "last_in_data_collection": 2, "first": 3, "last": 4}

// setSnapshotMark sets the snapshot field of a record's source block unless it already holds a
// higher-ranked marker, on a copy because the rows of a table share one source block.
func setSnapshotMark(r *connect.SourceRecord, mark string) {
	env := r.Value.(*connect.Struct)
	shared := env.Raw(2).(*connect.Struct)
	if cur, _ := shared.Raw(srcSnapshot).(string); markRank[cur] >= markRank[mark] {
		return
	}
	src := connect.NewStruct(shared.Schema())
	for i := range shared.Schema().Fields {
		src.SetAt(i, shared.Raw(i))
	}
	src.SetAt(srcSnapshot, mark)
	env.SetAt(2, src)
}
