package delta

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/parquet-go/parquet-go"

	"github.com/kconnect/kconnect/connectors/storage/backend"
)

// A checkpoint is a Parquet file with one action per row, in columns named as the actions'
// JSON fields (PROTOCOL.md, "Checkpoint Schema").
type ckRow struct {
	Txn      *ckTxn      `parquet:"txn,optional"`
	Add      *ckAdd      `parquet:"add,optional"`
	Remove   *ckRemove   `parquet:"remove,optional"`
	MetaData *ckMeta     `parquet:"metaData,optional"`
	Protocol *ckProtocol `parquet:"protocol,optional"`
}

type ckTxn struct {
	AppID       string `parquet:"appId"`
	Version     int64  `parquet:"version"`
	LastUpdated *int64 `parquet:"lastUpdated,optional"`
}

type ckAdd struct {
	Path             string            `parquet:"path"`
	PartitionValues  map[string]string `parquet:"partitionValues"`
	Size             int64             `parquet:"size"`
	ModificationTime int64             `parquet:"modificationTime"`
	DataChange       bool              `parquet:"dataChange"`
	Stats            *string           `parquet:"stats,optional"`
}

type ckRemove struct {
	Path              string `parquet:"path"`
	DeletionTimestamp *int64 `parquet:"deletionTimestamp,optional"`
	DataChange        bool   `parquet:"dataChange"`
}

type ckFormat struct {
	Provider string            `parquet:"provider"`
	Options  map[string]string `parquet:"options"`
}

type ckMeta struct {
	ID               string            `parquet:"id"`
	Format           ckFormat          `parquet:"format"`
	SchemaString     string            `parquet:"schemaString"`
	PartitionColumns []string          `parquet:"partitionColumns,list"`
	Configuration    map[string]string `parquet:"configuration"`
	CreatedTime      *int64            `parquet:"createdTime,optional"`
}

type ckProtocol struct {
	MinReaderVersion int32 `parquet:"minReaderVersion"`
	MinWriterVersion int32 `parquet:"minWriterVersion"`
}

// maybeCheckpoint writes a checkpoint of the table every delta.checkpoint.interval versions. A
// failed checkpoint is only logged: readers fall back to the JSON commits.
func (t *Task) maybeCheckpoint(ctx context.Context) {
	v := t.snap.version
	if v == 0 || v%int64(t.cfg.checkpointInterval) != 0 {
		return
	}
	if err := writeCheckpoint(ctx, t, t.snap); err != nil {
		t.log.Warn("delta checkpoint failed", "version", v, "error", err)
		return
	}
	if t.cfg.logRetention >= 0 {
		if err := t.expireLog(ctx, v); err != nil {
			t.log.Warn("delta log cleanup failed", "error", err)
		}
	}
}

// expireLog deletes the commits and checkpoints before checkpoint version cp that are older
// than delta.log.retention.ms; the checkpoint holds what readers need of them.
func (t *Task) expireLog(ctx context.Context, cp int64) error {
	infos, err := t.store.List(ctx, logDir)
	if err != nil {
		return fmt.Errorf("list %s: %w", logDir, err)
	}
	cutoff := time.Now().Add(-t.cfg.logRetention)
	for _, fi := range infos {
		name := path.Base(fi.Path)
		if len(name) < 20 || !strings.HasSuffix(name, ".json") && !strings.HasSuffix(name, ".checkpoint.parquet") {
			continue
		}
		v, err := strconv.ParseInt(name[:20], 10, 64)
		if err != nil || v >= cp || !fi.ModTime.Before(cutoff) {
			continue
		}
		if err := t.store.Delete(ctx, fi.Path); err != nil {
			return fmt.Errorf("delete %s: %w", fi.Path, err)
		}
	}
	return nil
}

func writeCheckpoint(ctx context.Context, t *Task, s *snapshot) error {
	var rows []ckRow
	rows = append(rows, ckRow{Protocol: &ckProtocol{MinReaderVersion: int32(s.protocol.MinReaderVersion), MinWriterVersion: int32(s.protocol.MinWriterVersion)}})
	m := s.meta
	ct := m.CreatedTime
	rows = append(rows, ckRow{MetaData: &ckMeta{ID: m.ID, Format: ckFormat{Provider: m.Format.Provider, Options: m.Format.Options},
		SchemaString: m.SchemaString, PartitionColumns: m.PartitionColumns, Configuration: m.Configuration, CreatedTime: &ct}})
	for _, a := range slices.Sorted(maps.Keys(s.txns)) {
		rows = append(rows, ckRow{Txn: &ckTxn{AppID: a, Version: s.txns[a]}})
	}
	for _, p := range slices.Sorted(maps.Keys(s.files)) {
		a := s.files[p]
		pv := map[string]string{}
		for k, v := range a.PartitionValues {
			if v != nil {
				pv[k] = *v
			}
		}
		stats := a.Stats
		rows = append(rows, ckRow{Add: &ckAdd{Path: a.Path, PartitionValues: pv, Size: a.Size, ModificationTime: a.ModificationTime,
			DataChange: false, Stats: &stats}})
	}
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[ckRow](&buf, parquet.Compression(&parquet.Snappy))
	if _, err := w.Write(rows); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	final := fmt.Sprintf("%s/%020d.checkpoint.parquet", logDir, s.version)
	if err := putFile(ctx, t, final, buf.Bytes()); err != nil {
		return err
	}
	last, _ := json.Marshal(map[string]any{"version": s.version, "size": len(rows)})
	return putFile(ctx, t, logDir+"/_last_checkpoint", last)
}

// putFile makes data visible at p in one step: through a temporary file and a rename on stores
// with atomic rename (their files are visible while being written), directly elsewhere.
func putFile(ctx context.Context, t *Task, p string, data []byte) error {
	target := p
	if t.store.Capabilities().AtomicRename {
		target = logDir + "/.tmp-" + uuid.NewString()
	}
	w, err := t.store.Create(ctx, target)
	if err != nil {
		return fmt.Errorf("create %s: %w", target, err)
	}
	if _, err := w.Write(data); err != nil {
		_ = w.Abort()
		return fmt.Errorf("write %s: %w", target, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("close %s: %w", target, err)
	}
	if target == p {
		return nil
	}
	if err := t.store.Delete(ctx, p); err != nil {
		return err
	}
	if err := t.store.Rename(ctx, target, p); err != nil {
		return fmt.Errorf("rename %s to %s: %w", target, p, err)
	}
	return nil
}

// readCheckpoint loads the snapshot a checkpoint holds.
func readCheckpoint(ctx context.Context, st backend.Store, v int64) (*snapshot, error) {
	data, err := readAll(ctx, st, fmt.Sprintf("%s/%020d.checkpoint.parquet", logDir, v))
	if err != nil {
		return nil, fmt.Errorf("read checkpoint %d: %w", v, err)
	}
	rows, err := parquet.Read[ckRow](bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("read checkpoint %d of %s: %w", v, st.URL(), err)
	}
	s := newSnapshot()
	s.version = v
	for _, r := range rows {
		switch {
		case r.Protocol != nil:
			s.protocol = &protocolAction{MinReaderVersion: int(r.Protocol.MinReaderVersion), MinWriterVersion: int(r.Protocol.MinWriterVersion)}
		case r.MetaData != nil:
			m := r.MetaData
			ma := &metaAction{ID: m.ID, Format: formatSpec{Provider: m.Format.Provider, Options: m.Format.Options},
				SchemaString: m.SchemaString, PartitionColumns: m.PartitionColumns, Configuration: m.Configuration}
			if m.CreatedTime != nil {
				ma.CreatedTime = *m.CreatedTime
			}
			s.meta = ma
		case r.Txn != nil:
			s.txns[r.Txn.AppID] = r.Txn.Version
		case r.Add != nil:
			a := r.Add
			pv := map[string]*string{}
			for k, v := range a.PartitionValues {
				pv[k] = &v
			}
			aa := &addAction{Path: a.Path, PartitionValues: pv, Size: a.Size, ModificationTime: a.ModificationTime, DataChange: a.DataChange}
			if a.Stats != nil {
				aa.Stats = *a.Stats
			}
			s.files[a.Path] = aa
		}
	}
	if s.protocol == nil || s.meta == nil {
		return nil, fmt.Errorf("checkpoint %d of %s has no protocol or metaData", v, st.URL())
	}
	return s, nil
}
