package postgres

import (
	"context"
	"fmt"
	"log/slog"
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
	out       chan<- connect.SourceRecord
	partition map[string]any
	name      string        // exported snapshot
	lsn       pglogrepl.LSN // slot's consistent point
	pgVersion int
	// imported is called once every worker has imported the snapshot, after which the exporting
	// replication connection may be closed.
	imported func()
}

// chunk is a range of heap pages of one table; to < 0 means up to the end of the table.
type chunk struct {
	table    int
	from, to int64
}

// snapItem travels from the workers to the marker: a row's record, or the end of a chunk.
type snapItem struct {
	table int
	rec   *connect.SourceRecord
}

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
	start := time.Now()

	work := make(chan chunk, len(chunks))
	for _, c := range chunks {
		work <- c
	}
	close(work)
	items := make(chan snapItem, sn.cfg.maxQueue)
	threads := min(sn.cfg.snapshotThreads, max(len(chunks), 1))
	var importWG sync.WaitGroup
	importWG.Add(threads)
	g, gctx := errgroup.WithContext(ctx)
	for w := 0; w < threads; w++ {
		g.Go(func() error { return sn.worker(gctx, tables, work, items, &importWG, start) })
	}
	go func() {
		importWG.Wait()
		sn.imported()
	}()
	markDone := make(chan error, 1)
	go func() { markDone <- sn.mark(ctx, tables, chunks, items) }()
	werr := g.Wait()
	close(items)
	merr := <-markDone
	if werr != nil {
		return werr
	}
	if merr != nil {
		return merr
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

func (sn *snapshotter) worker(ctx context.Context, tables []*tableSchema, work <-chan chunk, items chan<- snapItem, imported *sync.WaitGroup, start time.Time) error {
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
	if err := conn.QueryRow(ctx, "SELECT txid_snapshot_xmin(txid_current_snapshot())").Scan(&xmin); err != nil {
		return fmt.Errorf("read snapshot xmin: %w", err)
	}
	once()
	cellBuf := make([]cell, 0, 16)
	for c := range work {
		t := tables[c.table]
		q := selectChunk(t, c)
		rr := conn.PgConn().ExecParams(ctx, q, nil, nil, nil, nil)
		for rr.NextRow() {
			vals := rr.Values()
			cellBuf = cellBuf[:0]
			for _, v := range vals {
				if v == nil {
					cellBuf = append(cellBuf, cell{kind: 'n'})
				} else {
					cellBuf = append(cellBuf, cell{kind: 't', data: v})
				}
			}
			after, key, err := t.rowValues(cellBuf)
			if err != nil {
				rr.Close()
				return err
			}
			src := t.source(sn.cfg, &sourceInfo{snapshot: "true", commitTime: start, txID: xmin, lsn: sn.lsn})
			env := t.envelopeValue(opRead, nil, after, src, nil, time.Now())
			off := map[string]any{
				"lsn": int64(sn.lsn), "txId": xmin, "ts_usec": start.UnixMicro(),
				"snapshot": snapshotOffsetType, "snapshot_completed": false, "last_snapshot_record": false,
			}
			rec := connect.NewSourceRecord(sn.partition, off, t.topic, nil, nil, t.envelope, env)
			if key != nil {
				rec.KeySchema, rec.Key = t.keySchema, key
			}
			select {
			case items <- snapItem{table: c.table, rec: &rec}:
			case <-ctx.Done():
				rr.Close()
				return ctx.Err()
			}
		}
		if _, err := rr.Close(); err != nil {
			return fmt.Errorf("snapshot of %s: %w", t.collection, err)
		}
		select {
		case items <- snapItem{table: c.table}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	_, err = conn.Exec(ctx, "COMMIT")
	return err
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

// mark forwards snapshot records to the queue, holding back the latest record of each table so the
// first and last record of each table, and of the whole snapshot, carry Debezium's snapshot
// markers; the very last one's offset says the snapshot is complete.
func (sn *snapshotter) mark(ctx context.Context, tables []*tableSchema, chunks []chunk, items <-chan snapItem) error {
	outstanding := make([]int, len(tables))
	for _, c := range chunks {
		outstanding[c.table]++
	}
	tablesLeft := 0
	for _, n := range outstanding {
		if n > 0 {
			tablesLeft++
		}
	}
	held := make([]*connect.SourceRecord, len(tables))
	seen := make([]bool, len(tables))
	firstDone := false
	var lastOfTable *connect.SourceRecord // most recent table-final record, held for a possible "last"
	send := func(r *connect.SourceRecord) error {
		select {
		case sn.out <- *r:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for it := range items {
		if it.rec != nil {
			if !seen[it.table] {
				seen[it.table] = true
				if !firstDone {
					setSnapshotMark(it.rec, "first")
					firstDone = true
				} else {
					setSnapshotMark(it.rec, "first_in_data_collection")
				}
			}
			if prev := held[it.table]; prev != nil {
				if err := send(prev); err != nil {
					return err
				}
			}
			held[it.table] = it.rec
			continue
		}
		outstanding[it.table]--
		if outstanding[it.table] > 0 {
			continue
		}
		tablesLeft--
		if r := held[it.table]; r != nil {
			held[it.table] = nil
			setSnapshotMark(r, "last_in_data_collection")
			if lastOfTable != nil {
				if err := send(lastOfTable); err != nil {
					return err
				}
			}
			lastOfTable = r
		}
	}
	if tablesLeft > 0 {
		// The workers stopped early; their error is reported by the caller.
		return nil
	}
	if lastOfTable != nil {
		setSnapshotMark(lastOfTable, "last")
		lastOfTable.SourceOffset["last_snapshot_record"] = true
		lastOfTable.SourceOffset["snapshot_completed"] = true
		return send(lastOfTable)
	}
	return nil
}

func setSnapshotMark(r *connect.SourceRecord, mark string) {
	env := r.Value.(*connect.Struct)
	env.Raw(2).(*connect.Struct).SetAt(srcSnapshot, mark)
}
