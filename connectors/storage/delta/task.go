package delta

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connectors/storage/backend"
	"github.com/kconnect/kconnect/connectors/storage/format"
)

// Task writes the records of its partitions into the table. Records are buffered (append mode:
// streamed into open Parquet files; upsert mode: the last state of each key) until flush.size
// records or the runtime's PreCommit, which commits them all in one Delta commit carrying a txn
// action per Kafka partition.
type Task struct {
	cfg   *config
	store backend.Store
	ctx   connect.SinkTaskContext
	log   *slog.Logger
	name  string
	snap  *snapshot
	tps   map[connect.TopicPartition]*tpState
	// pendingSchema is the table schema the next commit declares when records added columns
	// (or the table has no commit yet).
	pendingSchema *structType
	schemas       map[*connect.Schema]*schemaInfo
	files         map[fileKey]*dataFile
	rows          map[string]*pendingRow
	keyColumns    []string
	buffered      int
}

// fileKey groups rows into files: one per partition directory and record schema.
type fileKey struct {
	dir, schema string
}

// tpState is what the task knows of one assigned partition.
type tpState struct {
	first, last int64 // offsets of the first and last buffered record; -1 when none
	next        int64 // the offset after the last committed record; -1 when unknown
}

// maxCachedSchemas bounds the schema cache, in case a converter makes a new schema per record.
const maxCachedSchemas = 1024

// schemaInfo caches what a record schema means for the table.
type schemaInfo struct {
	delta   *structType
	key     string // the Delta schema's JSON, grouping files by schema
	file    *connect.Schema
	fileIdx []int // record field index of each file field
	// identity: the file holds every record field, in order.
	identity bool
}

// pendingRow is the last state of one key in upsert mode; a nil value deletes the key.
type pendingRow struct {
	value *connect.Struct
	info  *schemaInfo
}

var (
	_ connect.SinkTask          = (*Task)(nil)
	_ connect.PartitionListener = (*Task)(nil)
)

// Version implements connect.Versioned.
func (t *Task) Version() string { return version }

// Start parses the configuration, opens the store and reads the table's log.
func (t *Task) Start(ctx connect.SinkTaskContext, props map[string]string) error {
	cfg, err := parseConfig(props)
	if err != nil {
		return fmt.Errorf("delta lake sink task configuration: %w", err)
	}
	st, err := backend.Open(context.Background(), cfg.tablePath, props)
	if err != nil {
		return fmt.Errorf("open delta table %s: %w", cfg.tablePath, err)
	}
	t.cfg, t.store, t.ctx, t.name = cfg, st, ctx, ctx.ConnectorName()
	t.log = ctx.Logger().With("table", st.URL())
	t.tps = map[connect.TopicPartition]*tpState{}
	t.schemas = map[*connect.Schema]*schemaInfo{}
	t.files = map[fileKey]*dataFile{}
	t.rows = map[string]*pendingRow{}
	t.keyColumns = cfg.keyColumns
	return nil
}

func (t *Task) appID(tp connect.TopicPartition) string {
	return t.name + "-" + tp.Topic + "-" + strconv.Itoa(int(tp.Partition))
}

// Open reads the log and seeks each partition to the offset after the version its txn action
// recorded.
func (t *Task) Open(ctx context.Context, partitions []connect.TopicPartition) error {
	snap, err := loadSnapshot(ctx, t.store)
	if err != nil {
		return fmt.Errorf("read delta log of %s: %w", t.store.URL(), err)
	}
	if t.buffered > 0 {
		// Records buffered for partitions kept over a rebalance stay valid only on the same snapshot.
		t.discard()
	}
	t.snap = snap
	seek := map[connect.TopicPartition]int64{}
	for _, tp := range partitions {
		s := &tpState{first: -1, last: -1, next: -1}
		if v, ok := snap.txns[t.appID(tp)]; ok {
			s.next = v + 1
			seek[tp] = v + 1
		}
		t.tps[tp] = s
		t.log.Info("delta partition opened", "partition", tp.String(), "table_version", snap.version, "next_offset", s.next)
	}
	if len(seek) > 0 {
		t.ctx.Seek(seek)
	}
	return nil
}

// Close forgets partitions taken away; records buffered for them were not committed, and as a
// commit holds all partitions, what is buffered for the others is read again too.
func (t *Task) Close(_ context.Context, partitions []connect.TopicPartition) error {
	lost := false
	for _, tp := range partitions {
		if s, ok := t.tps[tp]; ok && s.last >= 0 {
			lost = true
		}
		delete(t.tps, tp)
	}
	if lost {
		t.discard()
	}
	return nil
}

// discard drops every buffered record and rewinds the consumer to the first of them.
func (t *Task) discard() {
	for _, f := range t.files {
		f.abort()
	}
	t.files = map[fileKey]*dataFile{}
	t.rows = map[string]*pendingRow{}
	t.schemas = map[*connect.Schema]*schemaInfo{}
	t.pendingSchema = nil
	t.buffered = 0
	seek := map[connect.TopicPartition]int64{}
	for tp, s := range t.tps {
		if s.first >= 0 {
			seek[tp] = s.first
		}
		s.first, s.last = -1, -1
	}
	if len(seek) > 0 && t.ctx != nil {
		t.ctx.Seek(seek)
	}
}

// Put buffers records and commits once flush.size records are buffered.
func (t *Task) Put(ctx context.Context, records []connect.SinkRecord) error {
	for i := range records {
		rec := &records[i]
		tp := connect.TopicPartition{Topic: rec.Topic, Partition: rec.Partition}
		s, ok := t.tps[tp]
		if !ok {
			return fmt.Errorf("record of %s, which is not assigned to this task", tp)
		}
		var err error
		if t.cfg.mode == modeAppend {
			err = t.appendRecord(ctx, rec)
		} else {
			err = t.upsertRecord(rec)
		}
		if err != nil {
			return fmt.Errorf("delta sink: %s offset %d: %w", tp, rec.Offset, err)
		}
		if s.first < 0 {
			s.first = rec.Offset
		}
		s.last = rec.Offset
		t.buffered++
		if t.buffered >= t.cfg.flushSize {
			if err := t.commit(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// PreCommit commits what is buffered and returns the offsets the log holds.
func (t *Task) PreCommit(ctx context.Context, _ map[connect.TopicPartition]int64) (map[connect.TopicPartition]int64, error) {
	if err := t.commit(ctx); err != nil {
		return nil, err
	}
	out := map[connect.TopicPartition]int64{}
	for tp, s := range t.tps {
		if s.next >= 0 {
			out[tp] = s.next
		}
	}
	return out, nil
}

// Stop discards what is buffered and closes the store.
func (t *Task) Stop() error {
	for _, f := range t.files {
		f.abort()
	}
	if t.store != nil {
		return t.store.Close()
	}
	return nil
}

// tableSchema is the schema the table has, or will have after the pending commit.
func (t *Task) tableSchema() (*structType, error) {
	if t.pendingSchema != nil {
		return t.pendingSchema, nil
	}
	if t.snap.meta == nil {
		return nil, nil
	}
	return parseSchemaString(t.snap.meta.SchemaString)
}

// schemaInfo checks a record schema against the table, evolving the pending table schema when
// it adds columns.
func (t *Task) schemaInfo(s *connect.Schema) (*schemaInfo, error) {
	if si, ok := t.schemas[s]; ok {
		return si, nil
	}
	if s == nil || s.Type != connect.TypeStruct {
		return nil, fmt.Errorf("delta tables hold struct values with a schema, not %v", s)
	}
	ds, err := structOf(s)
	if err != nil {
		return nil, err
	}
	if len(t.schemas) >= maxCachedSchemas {
		t.schemas = map[*connect.Schema]*schemaInfo{}
	}
	table, err := t.tableSchema()
	if err != nil {
		return nil, err
	}
	if table == nil {
		for _, c := range t.cfg.partitionBy {
			f := s.Field(c)
			if f == nil || !f.Schema.Type.IsPrimitive() {
				return nil, fmt.Errorf("%s column %s is not a primitive field of the record", partitionByConfig, c)
			}
		}
		t.pendingSchema = ds
	} else {
		merged, err := mergeSchema(table, ds, t.cfg.evolve)
		if err != nil {
			return nil, err
		}
		if merged != nil {
			t.pendingSchema = merged
		}
	}
	fs, idx, err := fileSchema(s, t.partitionColumns())
	if err != nil {
		return nil, err
	}
	si := &schemaInfo{delta: ds, key: typeJSON(ds), file: fs, fileIdx: idx, identity: len(idx) == len(s.Fields)}
	t.schemas[s] = si
	return si, nil
}

// partitionColumns are the table's, or partition.by for a new table.
func (t *Task) partitionColumns() []string {
	if t.snap.meta != nil {
		return t.snap.meta.PartitionColumns
	}
	return t.cfg.partitionBy
}

func (t *Task) appendRecord(ctx context.Context, rec *connect.SinkRecord) error {
	st, ok := rec.Value.(*connect.Struct)
	if !ok {
		if rec.Value == nil {
			return fmt.Errorf("a null value (tombstone) in append mode")
		}
		return fmt.Errorf("a %T value; delta tables hold structs", rec.Value)
	}
	return t.writeRow(ctx, rec, st)
}

// writeRow adds a row to the open file of its partition values and schema.
func (t *Task) writeRow(ctx context.Context, rec *connect.SinkRecord, st *connect.Struct) error {
	si, err := t.schemaInfo(st.Schema())
	if err != nil {
		return err
	}
	pcols := t.partitionColumns()
	var pvals map[string]*string
	var dir string
	if len(pcols) > 0 {
		pvals = make(map[string]*string, len(pcols))
		for _, c := range pcols {
			f := st.Schema().Field(c)
			if f == nil {
				pvals[c] = nil
				continue
			}
			if pvals[c], err = partitionValue(f.Schema, st.GetAt(f.Index)); err != nil {
				return fmt.Errorf("partition column %s: %w", c, err)
			}
		}
		dir = partitionDir(pcols, pvals)
	}
	key := fileKey{dir, si.key}
	f, ok := t.files[key]
	if !ok {
		if f, err = t.newDataFile(ctx, dir, si.file, pvals); err != nil {
			return err
		}
		t.files[key] = f
	}
	if si.identity {
		// The Parquet writer reads fields by index, so a record laid out as the file needs no copy.
		return f.write(rec, st)
	}
	vals := make([]any, len(si.fileIdx))
	for i, j := range si.fileIdx {
		vals[i] = st.GetAt(j)
	}
	return f.write(rec, connect.NewStructValues(si.file, vals))
}

// dataFile is a Parquet data file being written.
type dataFile struct {
	path   string
	w      backend.Writer
	cw     *countingWriter
	rw     format.RecordWriter
	stats  []*columnStats
	statAt []int
	n      int64
	pvals  map[string]*string
	rec    connect.SinkRecord
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func (t *Task) newDataFile(ctx context.Context, dir string, schema *connect.Schema, pvals map[string]*string) (*dataFile, error) {
	p := dir + "part-00000-" + uuid.NewString() + "-c000" + t.cfg.format.Extension()
	w, err := t.store.Create(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("create data file %s: %w", p, err)
	}
	f := &dataFile{path: p, w: w, cw: &countingWriter{w: w}, pvals: pvals}
	if f.rw, err = t.cfg.format.NewWriter(f.cw, schema); err != nil {
		_ = w.Abort()
		return nil, fmt.Errorf("data file %s: %w", p, err)
	}
	for _, fl := range schema.Fields {
		if fl.Schema.Type.IsPrimitive() {
			f.stats = append(f.stats, newColumnStats(fl))
			f.statAt = append(f.statAt, fl.Index)
		}
	}
	return f, nil
}

func (f *dataFile) write(rec *connect.SinkRecord, st *connect.Struct) error {
	f.rec = *rec
	f.rec.Value = st
	f.rec.ValueSchema = st.Schema()
	if err := f.rw.Write(&f.rec); err != nil {
		return err
	}
	for i, c := range f.stats {
		c.add(st.GetAt(f.statAt[i]))
	}
	f.n++
	return nil
}

// finish closes the file and returns its add action.
func (f *dataFile) finish(now time.Time) (*addAction, error) {
	if err := f.rw.Close(); err != nil {
		_ = f.w.Abort()
		return nil, err
	}
	if err := f.w.Close(); err != nil {
		return nil, fmt.Errorf("close data file %s: %w", f.path, err)
	}
	pv := f.pvals
	if pv == nil {
		pv = map[string]*string{}
	}
	return &addAction{Path: logPath(f.path), PartitionValues: pv, Size: f.cw.n, ModificationTime: now.UnixMilli(),
		DataChange: true, Stats: statsJSON(f.n, f.stats)}, nil
}

func (f *dataFile) abort() {
	_ = f.rw.Close()
	_ = f.w.Abort()
}

// commit writes the buffered records' files and commits them with the txn actions of their
// partitions, retrying on top of other writers' commits.
func (t *Task) commit(ctx context.Context) error {
	if t.buffered == 0 {
		return nil
	}
	start := time.Now()
	var adds []*addAction
	var removes []*removeAction
	var err error
	if t.cfg.mode == modeAppend {
		for _, f := range t.files {
			a, err := f.finish(start)
			if err != nil {
				t.discardAndReseek()
				return fmt.Errorf("delta sink: %w", err)
			}
			adds = append(adds, a)
		}
		t.files = map[fileKey]*dataFile{}
	}
	for attempt := 0; ; attempt++ {
		if t.cfg.mode != modeAppend && (attempt == 0 || !t.stillActive(removes)) {
			if adds, removes, err = t.merge(ctx, start); err != nil {
				t.discardAndReseek()
				return fmt.Errorf("delta sink merge: %w", err)
			}
		}
		acts, err := t.actions(adds, removes, start)
		if err != nil {
			return err
		}
		data, err := encodeCommit(acts)
		if err != nil {
			return err
		}
		v := t.snap.version + 1
		err = t.store.CreateExclusive(ctx, commitPath(v), data)
		if err == nil {
			for _, a := range acts {
				t.snap.apply(a)
			}
			t.snap.version = v
			t.committed()
			t.log.Info("delta commit", "version", v, "adds", len(adds), "removes", len(removes), "duration", time.Since(start))
			t.maybeCheckpoint(ctx)
			t.maybeOptimize(ctx)
			return nil
		}
		if !errors.Is(err, backend.ErrExist) {
			return fmt.Errorf("delta commit %d: %w", v, err)
		}
		// Another writer took the version: read what it committed and retry on top.
		if _, err := catchUp(ctx, t.store, t.snap); err != nil {
			return err
		}
		for tp, s := range t.tps {
			if v, ok := t.snap.txns[t.appID(tp)]; ok && s.first >= 0 && v >= s.first {
				t.discardAndReseek()
				return fmt.Errorf("delta sink: another writer committed offsets up to %d of %s, which this task also holds", v, tp)
			}
		}
		t.log.Info("delta commit lost a race; retrying on top", "version", v, "attempt", attempt+1)
	}
}

// discardAndReseek drops the buffered records and rewinds the consumer to the offsets the log
// holds, where another writer may have advanced them.
func (t *Task) discardAndReseek() {
	t.discard()
	seek := map[connect.TopicPartition]int64{}
	for tp, s := range t.tps {
		if v, ok := t.snap.txns[t.appID(tp)]; ok {
			s.next = v + 1
			seek[tp] = v + 1
		}
	}
	if len(seek) > 0 {
		t.ctx.Seek(seek)
	}
}

func (t *Task) stillActive(removes []*removeAction) bool {
	for _, r := range removes {
		if _, ok := t.snap.files[r.Path]; !ok {
			return false
		}
	}
	return true
}

// actions is the commit of adds and removes: protocol and metaData when the table is new or
// its schema grew, a txn per partition with buffered records, and commitInfo.
func (t *Task) actions(adds []*addAction, removes []*removeAction, now time.Time) ([]*action, error) {
	var acts []*action
	op := "WRITE"
	if t.snap.version < 0 {
		acts = append(acts, &action{Protocol: &protocolAction{MinReaderVersion: 1, MinWriterVersion: 2}})
		op = "CREATE TABLE"
	}
	if meta, err := t.metaUpdate(now); err != nil {
		return nil, err
	} else if meta != nil {
		acts = append(acts, &action{MetaData: meta})
	}
	for tp, s := range t.tps {
		if s.last >= 0 {
			acts = append(acts, &action{Txn: &txnAction{AppID: t.appID(tp), Version: s.last, LastUpdated: now.UnixMilli()}})
		}
	}
	for _, r := range removes {
		acts = append(acts, &action{Remove: r})
	}
	for _, a := range adds {
		acts = append(acts, &action{Add: a})
	}
	mode := "Append"
	if t.cfg.mode != modeAppend {
		mode = "Merge"
		if t.snap.version >= 0 {
			op = "MERGE"
		}
	}
	info := map[string]any{"timestamp": now.UnixMilli(), "operation": op, "operationParameters": map[string]any{"mode": mode},
		"engineInfo": "kconnect/" + version, "isBlindAppend": t.cfg.mode == modeAppend}
	if t.snap.version >= 0 {
		info["readVersion"] = t.snap.version
	}
	acts = append(acts, &action{CommitInfo: info})
	return acts, nil
}

// metaUpdate is the metaData action of the next commit: the table's first, or the current one
// with the columns the buffered records add (nil when they add none, also when another writer
// added them first).
func (t *Task) metaUpdate(now time.Time) (*metaAction, error) {
	if t.pendingSchema == nil {
		return nil, nil
	}
	schema := t.pendingSchema
	meta := &metaAction{ID: uuid.NewString(), Format: formatSpec{Provider: "parquet", Options: map[string]string{}},
		PartitionColumns: append([]string{}, t.cfg.partitionBy...), Configuration: map[string]string{}, CreatedTime: now.UnixMilli()}
	if t.snap.meta != nil {
		cur, err := parseSchemaString(t.snap.meta.SchemaString)
		if err != nil {
			return nil, err
		}
		if schema, err = mergeSchema(cur, t.pendingSchema, t.cfg.evolve); err != nil {
			return nil, fmt.Errorf("delta sink: %w", err)
		}
		if schema == nil {
			return nil, nil
		}
		m := *t.snap.meta
		meta = &m
	}
	b, err := jsonString(schema)
	if err != nil {
		return nil, err
	}
	meta.SchemaString = b
	return meta, nil
}

// committed moves the buffered offsets to committed.
func (t *Task) committed() {
	for _, s := range t.tps {
		if s.last >= 0 {
			s.next = s.last + 1
		}
		s.first, s.last = -1, -1
	}
	t.pendingSchema = nil
	t.buffered = 0
	t.rows = map[string]*pendingRow{}
}
