package delta

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/parquet-go/parquet-go"

	"github.com/kconnect/kconnect/connect"
)

// upsertRecord keeps the last state of the record's key: a Debezium envelope's after image (or
// a delete for op d), or a keyed record's value (a null value deletes the key).
func (t *Task) upsertRecord(rec *connect.SinkRecord) error {
	if err := t.resolveKeyColumns(rec); err != nil {
		return err
	}
	row, keySrc, ok := t.rowOf(rec)
	if !ok {
		return nil
	}
	key, err := keyOf(keySrc, t.keyColumns)
	if err != nil {
		return err
	}
	p := &pendingRow{value: row}
	if row != nil {
		if p.info, err = t.schemaInfo(row.Schema()); err != nil {
			return err
		}
		for _, c := range t.keyColumns {
			if f := row.Schema().Field(c); f == nil || f.Schema.Optional {
				return fmt.Errorf("key column %s must be a required field of the row", c)
			}
		}
	}
	t.rows[key] = p
	return nil
}

func (t *Task) resolveKeyColumns(rec *connect.SinkRecord) error {
	if len(t.keyColumns) > 0 {
		return nil
	}
	if rec.KeySchema == nil || rec.KeySchema.Type != connect.TypeStruct || len(rec.KeySchema.Fields) == 0 {
		return fmt.Errorf("the record key is not a struct; set %s to name the key columns", keyColumnsConfig)
	}
	for _, f := range rec.KeySchema.Fields {
		if contains(t.partitionColumns(), f.Name) {
			return fmt.Errorf("key column %s is a partition column", f.Name)
		}
		t.keyColumns = append(t.keyColumns, f.Name)
	}
	return nil
}

// rowOf returns the row a record upserts (nil for a delete), the struct its key columns are read
// from, and false for records that change nothing (a tombstone following a Debezium delete).
func (t *Task) rowOf(rec *connect.SinkRecord) (row, keySrc *connect.Struct, ok bool) {
	st, _ := rec.Value.(*connect.Struct)
	recKey, _ := rec.Key.(*connect.Struct)
	if st == nil {
		if recKey == nil {
			return nil, nil, false
		}
		if isEnvelope(rec.ValueSchema) {
			return nil, nil, false
		}
		return nil, recKey, true
	}
	if !isEnvelope(st.Schema()) {
		return st, st, true
	}
	op, _ := st.Get("op").(string)
	after, _ := st.Get("after").(*connect.Struct)
	before, _ := st.Get("before").(*connect.Struct)
	switch op {
	case "d":
		if before != nil {
			return nil, before, true
		}
		return nil, recKey, recKey != nil
	case "c", "r", "u":
		if after != nil {
			return after, after, true
		}
	}
	return nil, nil, false
}

// isEnvelope reports whether s is a Debezium change event's value schema.
func isEnvelope(s *connect.Schema) bool {
	return s != nil && s.Type == connect.TypeStruct && s.Field("op") != nil && s.Field("after") != nil && s.Field("before") != nil
}

// keyOf is the comparable form of a row's key columns; parquetKey gives the same for a row
// read back from a data file.
func keyOf(st *connect.Struct, cols []string) (string, error) {
	if st == nil {
		return "", fmt.Errorf("no key to identify the row by")
	}
	var b strings.Builder
	for _, c := range cols {
		if st.Schema().Field(c) == nil {
			return "", fmt.Errorf("key column %s is not a field of %s", c, st.Schema().Name)
		}
		switch v := st.Get(c).(type) {
		case int8:
			b.WriteString("i" + strconv.FormatInt(int64(v), 10))
		case int16:
			b.WriteString("i" + strconv.FormatInt(int64(v), 10))
		case int32:
			b.WriteString("i" + strconv.FormatInt(int64(v), 10))
		case int64:
			b.WriteString("l" + strconv.FormatInt(v, 10))
		case string:
			b.WriteString("s" + v)
		default:
			return "", fmt.Errorf("key column %s holds %T; key columns must be integers or strings", c, v)
		}
		b.WriteByte(0)
	}
	return b.String(), nil
}

func parquetKey(b *strings.Builder, v parquet.Value) {
	switch v.Kind() {
	case parquet.Int32:
		b.WriteString("i" + strconv.FormatInt(int64(v.Int32()), 10))
	case parquet.Int64:
		b.WriteString("l" + strconv.FormatInt(v.Int64(), 10))
	case parquet.ByteArray:
		b.WriteString("s")
		b.Write(v.ByteArray())
	default:
		b.WriteString("?")
	}
	b.WriteByte(0)
}

// merge rewrites the active files holding buffered keys without those rows (remove + add) and
// writes the buffered rows into new files.
func (t *Task) merge(ctx context.Context, now time.Time) ([]*addAction, []*removeAction, error) {
	var adds []*addAction
	var removes []*removeAction
	ranges := t.keyRanges()
	for _, p := range slices.Sorted(maps.Keys(t.snap.files)) {
		a := t.snap.files[p]
		if ranges != nil && !ranges.mayHold(a) {
			continue
		}
		add, hit, err := t.rewrite(ctx, a, now)
		if err != nil {
			return nil, nil, err
		}
		if !hit {
			continue
		}
		removes = append(removes, &removeAction{Path: a.Path, DeletionTimestamp: now.UnixMilli(), DataChange: true,
			ExtendedFileMetadata: true, PartitionValues: a.PartitionValues, Size: a.Size})
		if add != nil {
			adds = append(adds, add)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(t.rows)) {
		r := t.rows[k]
		if r.value == nil {
			continue
		}
		if err := t.writeRow(ctx, &connect.SinkRecord{}, r.value); err != nil {
			return nil, nil, err
		}
	}
	for _, f := range t.files {
		a, err := f.finish(now)
		if err != nil {
			return nil, nil, err
		}
		adds = append(adds, a)
	}
	t.files = map[fileKey]*dataFile{}
	return adds, removes, nil
}

// keyRange prunes the files to read with their stats when the key is one integer column.
type keyRange struct {
	col  string
	keys []int64 // sorted
}

func (t *Task) keyRanges() *keyRange {
	if len(t.keyColumns) != 1 {
		return nil
	}
	kr := &keyRange{col: t.keyColumns[0]}
	for k := range t.rows {
		if len(k) < 2 || (k[0] != 'i' && k[0] != 'l') {
			return nil
		}
		n, err := strconv.ParseInt(k[1:len(k)-1], 10, 64)
		if err != nil {
			return nil
		}
		kr.keys = append(kr.keys, n)
	}
	sort.Slice(kr.keys, func(i, j int) bool { return kr.keys[i] < kr.keys[j] })
	return kr
}

// mayHold reports whether a file's key range, from its stats, includes a buffered key.
func (kr *keyRange) mayHold(a *addAction) bool {
	var st struct {
		Min map[string]json.Number `json:"minValues"`
		Max map[string]json.Number `json:"maxValues"`
	}
	d := json.NewDecoder(strings.NewReader(a.Stats))
	d.UseNumber()
	if a.Stats == "" || d.Decode(&st) != nil {
		return true
	}
	lo, err1 := st.Min[kr.col].Int64()
	hi, err2 := st.Max[kr.col].Int64()
	if err1 != nil || err2 != nil {
		return true
	}
	i := sort.Search(len(kr.keys), func(i int) bool { return kr.keys[i] >= lo })
	return i < len(kr.keys) && kr.keys[i] <= hi
}

// rewrite reads a data file and, when it holds buffered keys, writes its other rows to a new
// file (nil when none remain). hit reports whether the file held a buffered key.
func (t *Task) rewrite(ctx context.Context, a *addAction, now time.Time) (add *addAction, hit bool, err error) {
	p, err := unescapePath(a.Path)
	if err != nil {
		return nil, false, err
	}
	data, err := readAll(ctx, t.store, p)
	if err != nil {
		return nil, false, fmt.Errorf("read data file: %w", err)
	}
	pf, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, false, fmt.Errorf("open data file %s: %w", p, err)
	}
	cols := make([]int, len(t.keyColumns))
	for i, c := range t.keyColumns {
		leaf, ok := pf.Schema().Lookup(c)
		if !ok {
			return nil, false, nil
		}
		cols[i] = leaf.ColumnIndex
	}
	rows, err := readRows(pf, nil)
	if err != nil {
		return nil, false, fmt.Errorf("read data file %s: %w", p, err)
	}
	keep := rows[:0]
	var b strings.Builder
	for _, row := range rows {
		b.Reset()
		for _, c := range cols {
			parquetKey(&b, valueAt(row, c))
		}
		if _, ok := t.rows[b.String()]; ok {
			hit = true
			continue
		}
		keep = append(keep, row)
	}
	if !hit || len(keep) == 0 {
		return nil, hit, nil
	}
	add, err = t.writeRows(ctx, p[:strings.LastIndexByte(p, '/')+1], pf.Schema(), keep, a.PartitionValues, now)
	return add, true, err
}

// readRows appends the rows of a Parquet file to rows.
func readRows(pf *parquet.File, rows []parquet.Row) ([]parquet.Row, error) {
	buf := make([]parquet.Row, 256)
	for _, rg := range pf.RowGroups() {
		rr := rg.Rows()
		for {
			n, err := rr.ReadRows(buf)
			for _, row := range buf[:n] {
				rows = append(rows, row.Clone())
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rr.Close()
				return nil, err
			}
		}
		rr.Close()
	}
	return rows, nil
}

// writeRows writes rows of schema into a new data file in dir and returns its add action.
func (t *Task) writeRows(ctx context.Context, dir string, schema *parquet.Schema, rows []parquet.Row, pvals map[string]*string, now time.Time) (*addAction, error) {
	np := dir + "part-00000-" + uuid.NewString() + "-c000" + t.cfg.format.Extension()
	w, err := t.store.Create(ctx, np)
	if err != nil {
		return nil, fmt.Errorf("create data file %s: %w", np, err)
	}
	cw := &countingWriter{w: w}
	pw := parquet.NewGenericWriter[any](cw, schema, parquet.Compression(t.cfg.codec), parquet.CreatedBy("kconnect", "", ""))
	if _, err := pw.WriteRows(rows); err != nil {
		_ = w.Abort()
		return nil, fmt.Errorf("write %s: %w", np, err)
	}
	if err := pw.Close(); err != nil {
		_ = w.Abort()
		return nil, fmt.Errorf("write %s: %w", np, err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("close data file %s: %w", np, err)
	}
	keyCol := -1
	if len(t.keyColumns) == 1 {
		if leaf, ok := schema.Lookup(t.keyColumns[0]); ok {
			keyCol = leaf.ColumnIndex
		}
	}
	return &addAction{Path: logPath(np), PartitionValues: pvals, Size: cw.n, ModificationTime: now.UnixMilli(),
		DataChange: true, Stats: t.rewrittenStats(rows, keyCol)}, nil
}

// rewrittenStats are the stats of a rewritten file: its row count and, for one integer key
// column, the key's range (what pruning reads).
func (t *Task) rewrittenStats(rows []parquet.Row, keyCol int) string {
	out := map[string]any{"numRecords": len(rows)}
	if keyCol >= 0 && len(rows) > 0 {
		if lo, ok := intValue(valueAt(rows[0], keyCol)); ok {
			hi := lo
			for _, r := range rows {
				v, _ := intValue(valueAt(r, keyCol))
				lo, hi = min(lo, v), max(hi, v)
			}
			c := t.keyColumns[0]
			out["minValues"] = map[string]any{c: lo}
			out["maxValues"] = map[string]any{c: hi}
			out["nullCount"] = map[string]any{c: 0}
		}
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// valueAt is the value of a top-level, non-repeated column of a row.
func valueAt(row parquet.Row, col int) parquet.Value {
	if col < len(row) && row[col].Column() == col {
		return row[col]
	}
	for _, v := range row {
		if v.Column() == col {
			return v
		}
	}
	return parquet.Value{}
}

func intValue(v parquet.Value) (int64, bool) {
	switch v.Kind() {
	case parquet.Int32:
		return int64(v.Int32()), true
	case parquet.Int64:
		return v.Int64(), true
	}
	return 0, false
}

func unescapePath(p string) (string, error) {
	u, err := url.PathUnescape(p)
	if err != nil {
		return "", fmt.Errorf("data file path %q: %w", p, err)
	}
	return u, nil
}
