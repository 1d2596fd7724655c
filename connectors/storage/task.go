package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connectors/storage/backend"
	"github.com/kconnect/kconnect/connectors/storage/format"
)

// Task is the sink task of every storage connector. Per assigned topic partition it keeps one
// open file per encoded partition, and commits them all together when the partition rotates
// (flush.size records, rotate.interval.ms of record time, the rotate.schedule.interval.ms wall
// clock, or a schema change), so a partition's committed files always end at one offset.
//
// On stores with atomic rename (local, HDFS) files are written under temporary names and
// committed through a write-ahead log; the offsets to resume from are read back from the
// committed file names on Open, and the consumer seeks there. On other stores (S3) each file is
// written once under its final name, which depends only on its first offset, so a file
// rewritten after a crash replaces the same object; the consumer resumes from the offsets
// PreCommit returned, which never pass a committed file. Where the rewritten files end may
// differ from where the lost run's files ended (rotate.schedule.interval.ms and the Wallclock
// extractor depend on the wall clock), so before a partition's first record after Open the
// files starting at or after that record's offset, written after the last offset commit, are
// deleted: the records they hold are about to be written again.
type Task struct {
	v     variant
	cfg   *config
	store backend.Store
	ctx   connect.SinkTaskContext
	log   *slog.Logger
	now   func() time.Time
	tps   map[connect.TopicPartition]*tpWriter
	// The runtime calls PreCommit only every offset.flush.interval.ms and Put only with records,
	// so a timer asks for a commit when the next scheduled rotation is due.
	schedTimer *time.Timer
	schedAt    time.Time
	schedFired atomic.Bool
}

var (
	_ connect.SinkTask          = (*Task)(nil)
	_ connect.PartitionListener = (*Task)(nil)
)

// Version implements connect.Versioned.
func (t *Task) Version() string { return version }

// Start parses the configuration and opens the store.
func (t *Task) Start(ctx connect.SinkTaskContext, props map[string]string) error {
	if t.now == nil {
		t.now = time.Now
	}
	cfg, err := t.v.parse(props, t.now)
	if err != nil {
		return fmt.Errorf("%s task configuration: %w", t.v.name, err)
	}
	st, err := backend.Open(context.Background(), cfg.url, props)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	t.cfg, t.store, t.ctx = cfg, st, ctx
	t.log = ctx.Logger().With("store", st.URL())
	t.tps = map[connect.TopicPartition]*tpWriter{}
	return nil
}

// Open recovers each partition from the store and seeks the consumer to the offset after its
// last committed file.
func (t *Task) Open(ctx context.Context, partitions []connect.TopicPartition) error {
	seek := map[connect.TopicPartition]int64{}
	for _, tp := range partitions {
		if old, ok := t.tps[tp]; ok {
			// Assigned again without a Close: what it had open was never committed.
			if err := old.abort(); err != nil {
				return err
			}
		}
		w := &tpWriter{t: t, tp: tp, files: map[string]*openFile{}, committed: -1, resumed: !t.store.Capabilities().AtomicRename}
		if t.store.Capabilities().AtomicRename {
			next, err := w.recover(ctx)
			if err != nil {
				return fmt.Errorf("recover %s: %w", tp, err)
			}
			if next >= 0 {
				w.committed = next
				seek[tp] = next
			}
			t.log.Info("storage partition recovered", "partition", tp.String(), "next_offset", next)
		}
		t.tps[tp] = w
	}
	if len(seek) > 0 {
		t.ctx.Seek(seek)
	}
	return nil
}

// Close discards the open files of partitions taken away; their records were not committed and
// will be read again by the partition's next owner.
func (t *Task) Close(ctx context.Context, partitions []connect.TopicPartition) error {
	var errs []error
	for _, tp := range partitions {
		if w, ok := t.tps[tp]; ok {
			errs = append(errs, w.abort())
			delete(t.tps, tp)
		}
	}
	return errors.Join(errs...)
}

// Put writes records to their partitions' open files, committing the files whenever a rotation
// condition holds.
func (t *Task) Put(ctx context.Context, records []connect.SinkRecord) error {
	for i := range records {
		rec := &records[i]
		tp := connect.TopicPartition{Topic: rec.Topic, Partition: rec.Partition}
		w, ok := t.tps[tp]
		if !ok {
			return fmt.Errorf("record of %s, which is not assigned to this task", tp)
		}
		if err := w.write(ctx, rec); err != nil {
			return err
		}
	}
	return t.rotateScheduled(ctx)
}

// PreCommit commits files whose scheduled rotation passed and returns, per partition, the
// offset after its last committed file.
func (t *Task) PreCommit(ctx context.Context, _ map[connect.TopicPartition]int64) (map[connect.TopicPartition]int64, error) {
	if err := t.rotateScheduled(ctx); err != nil {
		return nil, err
	}
	out := map[connect.TopicPartition]int64{}
	for tp, w := range t.tps {
		if w.committed >= 0 {
			out[tp] = w.committed
		}
	}
	return out, nil
}

func (t *Task) rotateScheduled(ctx context.Context) error {
	if t.cfg.rotateSchedule <= 0 {
		return nil
	}
	now := t.now()
	for _, w := range t.tps {
		if w.count == 0 || w.scheduled.IsZero() {
			continue
		}
		if now.Before(w.scheduled) {
			t.armSchedule(w.scheduled)
			continue
		}
		if err := w.commit(ctx); err != nil {
			return err
		}
	}
	return nil
}

// armSchedule makes sure the runtime calls PreCommit soon after at.
func (t *Task) armSchedule(at time.Time) {
	now := t.now()
	if t.schedTimer != nil && !t.schedFired.Load() && !at.Before(t.schedAt) {
		return
	}
	if t.schedTimer != nil {
		t.schedTimer.Stop()
	}
	t.schedAt = at
	t.schedFired.Store(false)
	// A millisecond late, so that PreCommit finds the rotation due.
	t.schedTimer = time.AfterFunc(max(at.Sub(now), 0)+time.Millisecond, func() {
		t.schedFired.Store(true)
		t.ctx.RequestCommit()
	})
}

// Stop discards open files and closes the store.
func (t *Task) Stop() error {
	if t.schedTimer != nil {
		t.schedTimer.Stop()
	}
	var errs []error
	for _, w := range t.tps {
		errs = append(errs, w.abort())
	}
	t.tps = nil
	if t.store != nil {
		errs = append(errs, t.store.Close())
	}
	return errors.Join(errs...)
}

// openFile is one file being written for one encoded partition.
type openFile struct {
	dir        string // directory of the committed file
	path       string // where it is written: a temporary path, or the final one without atomic rename
	w          backend.Writer
	rw         format.RecordWriter
	start, end int64
}

// tpWriter is the state of one topic partition.
type tpWriter struct {
	t         *Task
	tp        connect.TopicPartition
	files     map[string]*openFile
	schema    *connect.Schema // value schema of the open files
	count     int             // records in the open files
	last      int64           // offset of the last record written
	firstTime time.Time       // rotation time of the first record in the open files
	scheduled time.Time       // wall-clock time of the next scheduled rotation
	committed int64           // offset after the last committed file; -1 when unknown
	// resumed: the partition was opened on a store without atomic rename and its first record,
	// where the consumer resumed, is still to come.
	resumed bool
}

func (w *tpWriter) write(ctx context.Context, rec *connect.SinkRecord) error {
	cfg := w.t.cfg
	if w.committed >= 0 && rec.Offset < w.committed {
		// Delivered before the seek to the recovered offset took effect: already committed.
		return nil
	}
	if w.resumed {
		if err := w.discardFrom(ctx, rec.Offset); err != nil {
			return err
		}
		w.resumed = false
	}
	if rec.Value == nil {
		if cfg.ignoreNullValues {
			return nil
		}
		return fmt.Errorf("%s record at offset %d has a null value; set %s=ignore to skip tombstones", w.tp, rec.Offset, nullValuesConfig)
	}
	if cfg.format.NeedsSchema() && rec.ValueSchema == nil {
		return fmt.Errorf("%s record at offset %d has no value schema, which %s files need (use a converter with schemas)", w.tp, rec.Offset, strings.TrimPrefix(cfg.format.Extension(), "."))
	}
	if w.count > 0 {
		change, err := schemaChange(cfg.compatibility, rec.ValueSchema, w.schema)
		if err != nil {
			return fmt.Errorf("%s record at offset %d: %w", w.tp, rec.Offset, err)
		}
		if change {
			if err := w.commit(ctx); err != nil {
				return err
			}
		} else if cfg.compatibility != "NONE" && rec.ValueSchema != w.schema {
			v, err := project(rec.ValueSchema, rec.Value, w.schema)
			if err != nil {
				return fmt.Errorf("%s record at offset %d: project onto the file's schema version %d: %w", w.tp, rec.Offset, w.schema.Version, err)
			}
			projected := *rec
			projected.ValueSchema, projected.Value = w.schema, v
			rec = &projected
		}
	}
	if cfg.rotateInterval > 0 {
		ts, err := w.rotationTime(rec)
		if err != nil {
			return err
		}
		if w.count > 0 && ts.Sub(w.firstTime) >= time.Duration(cfg.rotateInterval)*time.Millisecond {
			if err := w.commit(ctx); err != nil {
				return err
			}
		}
		if w.count == 0 {
			w.firstTime = ts
		}
	}
	if w.count == 0 {
		w.schema = rec.ValueSchema
		if cfg.rotateSchedule > 0 {
			w.scheduled = nextSchedule(w.t.now(), cfg.rotateSchedule, cfg.loc)
			w.t.armSchedule(w.scheduled)
		}
	}
	enc, err := cfg.partitioner.encode(rec)
	if err != nil {
		return fmt.Errorf("%s record at offset %d: %w", w.tp, rec.Offset, err)
	}
	f, ok := w.files[enc]
	if !ok {
		if f, err = w.open(ctx, enc, rec); err != nil {
			return err
		}
		w.files[enc] = f
	}
	if err := f.rw.Write(rec); err != nil {
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	f.end = rec.Offset
	w.last = rec.Offset
	w.count++
	if w.count >= cfg.flushSize {
		return w.commit(ctx)
	}
	return nil
}

// rotationTime is the record's time for rotate.interval.ms: the time-based partitioner's
// timestamp, or the wall clock, as upstream.
func (w *tpWriter) rotationTime(rec *connect.SinkRecord) (time.Time, error) {
	if w.t.cfg.extractor == nil {
		return w.t.now(), nil
	}
	return w.t.cfg.extractor(rec)
}

// nextSchedule is the next multiple of interval (aligned in loc) after now.
func nextSchedule(now time.Time, interval int64, loc *time.Location) time.Time {
	_, off := now.In(loc).Zone()
	local := now.UnixMilli() + int64(off)*1000
	next := local - floorMod(local, interval) + interval
	return time.UnixMilli(next - int64(off)*1000)
}

func (w *tpWriter) open(ctx context.Context, enc string, rec *connect.SinkRecord) (*openFile, error) {
	cfg := w.t.cfg
	dir := cfg.topicsDir + "/" + w.tp.Topic + cfg.delim + enc
	f := &openFile{dir: dir, start: rec.Offset}
	if w.t.store.Capabilities().AtomicRename {
		var rnd [8]byte
		_, _ = rand.Read(rnd[:])
		f.path = fmt.Sprintf("%s/%d/%s_tmp%s", tempDir(cfg, w.tp.Topic), w.tp.Partition, hex.EncodeToString(rnd[:]), cfg.format.Extension())
	} else {
		f.path = dir + "/" + w.fileName(rec.Offset, -1)
	}
	bw, err := w.t.store.Create(ctx, f.path)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", f.path, err)
	}
	rw, err := cfg.format.NewWriter(bw, w.schema)
	if err != nil {
		_ = bw.Abort()
		return nil, fmt.Errorf("%s: %w", w.tp, err)
	}
	f.w, f.rw = bw, rw
	return f, nil
}

func tempDir(cfg *config, topic string) string { return cfg.topicsDir + "/+tmp/" + topic }

// fileName is <topic>+<partition>+<start>+<end><ext>, or <topic>+<partition>+<start><ext> when end
// is -1 (stores without atomic rename), offsets zero-padded.
func (w *tpWriter) fileName(start, end int64) string {
	cfg := w.t.cfg
	padded := func(n int64) string {
		s := strconv.FormatInt(n, 10)
		if len(s) < cfg.padWidth {
			s = strings.Repeat("0", cfg.padWidth-len(s)) + s
		}
		return s
	}
	name := w.tp.Topic + "+" + strconv.Itoa(int(w.tp.Partition)) + "+" + padded(start)
	if end >= 0 {
		name += "+" + padded(end)
	}
	return name + cfg.format.Extension()
}

// commit finishes and commits every open file of the partition.
func (w *tpWriter) commit(ctx context.Context) error {
	if w.count == 0 {
		return nil
	}
	atomic := w.t.store.Capabilities().AtomicRename
	var entries []walEntry
	for enc, f := range w.files {
		if err := f.rw.Close(); err != nil {
			return fmt.Errorf("finish %s: %w", f.path, err)
		}
		if err := f.w.Close(); err != nil {
			return fmt.Errorf("close %s: %w", f.path, err)
		}
		delete(w.files, enc)
		if atomic {
			entries = append(entries, walEntry{Temp: f.path, Final: f.dir + "/" + w.fileName(f.start, f.end)})
		}
	}
	if atomic {
		wal := walPath(w.t.cfg.logsDir, w.tp.Topic, w.tp.Partition)
		if err := writeWAL(ctx, w.t.store, wal, entries); err != nil {
			return err
		}
		if err := applyWAL(ctx, w.t.store, entries); err != nil {
			return err
		}
		if err := w.t.store.Delete(ctx, wal); err != nil {
			return fmt.Errorf("truncate write-ahead log: %w", err)
		}
	}
	w.committed = w.last + 1
	w.count = 0
	w.scheduled = time.Time{}
	w.t.log.Debug("storage files committed", "partition", w.tp.String(), "files", len(entries), "next_offset", w.committed)
	return nil
}

// abort discards the open files.
func (w *tpWriter) abort() error {
	var errs []error
	for enc, f := range w.files {
		errs = append(errs, f.w.Abort())
		delete(w.files, enc)
	}
	w.count = 0
	return errors.Join(errs...)
}

// recover finishes or discards a commit a crash interrupted, deletes abandoned temporary files
// and returns the offset after the partition's last committed file (-1 when it has none).
func (w *tpWriter) recover(ctx context.Context) (int64, error) {
	st, cfg := w.t.store, w.t.cfg
	wal := walPath(cfg.logsDir, w.tp.Topic, w.tp.Partition)
	entries, complete, err := readWAL(ctx, st, wal)
	if err != nil {
		return -1, err
	}
	if complete {
		if err := applyWAL(ctx, st, entries); err != nil {
			return -1, err
		}
	}
	if err := st.Delete(ctx, wal); err != nil {
		return -1, err
	}
	temps, err := st.List(ctx, fmt.Sprintf("%s/%d", tempDir(cfg, w.tp.Topic), w.tp.Partition))
	if err != nil {
		return -1, err
	}
	for _, fi := range temps {
		if err := st.Delete(ctx, fi.Path); err != nil {
			return -1, err
		}
	}
	files, err := st.List(ctx, w.filesPrefix())
	if err != nil {
		return -1, err
	}
	next := int64(-1)
	for _, fi := range files {
		if _, end, ok := parseFileName(path.Base(fi.Path), w.tp); ok && end+1 > next {
			next = end + 1
		}
	}
	return next, nil
}

// filesPrefix is the directory below which the partition's committed files lie.
func (w *tpWriter) filesPrefix() string {
	prefix := w.t.cfg.topicsDir
	if w.t.cfg.delim == "/" {
		prefix += "/" + w.tp.Topic
	}
	return prefix
}

// discardFrom deletes the partition's committed files whose first offset is at or after offset,
// the one the consumer resumed from on a store without atomic rename.
func (w *tpWriter) discardFrom(ctx context.Context, offset int64) error {
	files, err := w.t.store.List(ctx, w.filesPrefix())
	if err != nil {
		return fmt.Errorf("list the files of %s: %w", w.tp, err)
	}
	for _, fi := range files {
		start, ok := parseFileStart(path.Base(fi.Path), w.tp)
		if !ok || start < offset {
			continue
		}
		if err := w.t.store.Delete(ctx, fi.Path); err != nil {
			return fmt.Errorf("delete %s, written after the last offset commit of %s: %w", fi.Path, w.tp, err)
		}
		w.t.log.Info("storage file written after the last offset commit deleted", "partition", w.tp.String(), "file", fi.Path, "resume_offset", offset)
	}
	return nil
}

// parseFileStart reads the first offset of a committed file name of tp, with or without its end
// offset.
func parseFileStart(name string, tp connect.TopicPartition) (int64, bool) {
	rest, found := strings.CutPrefix(name, tp.Topic+"+"+strconv.Itoa(int(tp.Partition))+"+")
	if !found {
		return 0, false
	}
	digits := rest[:len(rest)-len(strings.TrimLeft(rest, "0123456789"))]
	start, err := strconv.ParseInt(digits, 10, 64)
	return start, err == nil
}

// parseFileName reads the offsets of a committed file name of tp.
func parseFileName(name string, tp connect.TopicPartition) (start, end int64, ok bool) {
	rest, found := strings.CutPrefix(name, tp.Topic+"+"+strconv.Itoa(int(tp.Partition))+"+")
	if !found {
		return 0, 0, false
	}
	parts := strings.SplitN(rest, "+", 2)
	if len(parts) != 2 {
		return 0, 0, false
	}
	endText, _, _ := strings.Cut(parts[1], ".")
	var err1, err2 error
	start, err1 = strconv.ParseInt(parts[0], 10, 64)
	end, err2 = strconv.ParseInt(endText, 10, 64)
	return start, end, err1 == nil && err2 == nil
}
