package delta

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/kconnect/kconnect/connectors/storage/backend"
)

// optimizeMinFiles is how many files below delta.optimize.target.file.size a partition gathers
// before they are bin-packed: each commit adds a small file, and packing them one by one would
// rewrite the growing bin at every commit.
const optimizeMinFiles = 8

// maybeOptimize bin-packs the small files of each partition directory into files of up to
// delta.optimize.target.file.size bytes, in a commit of remove and add actions with dataChange
// false (Delta's OPTIMIZE). It is best effort: a failure or a lost race only leaves the small
// files for the next commit to pack.
func (t *Task) maybeOptimize(ctx context.Context) {
	if t.cfg.optimizeTarget <= 0 {
		return
	}
	groups := map[string][]*addAction{}
	for _, p := range slices.Sorted(maps.Keys(t.snap.files)) {
		a := t.snap.files[p]
		if a.Size < t.cfg.optimizeTarget {
			k := partitionDir(t.partitionColumns(), a.PartitionValues)
			groups[k] = append(groups[k], a)
		}
	}
	now := time.Now()
	var adds []*addAction
	var removes []*removeAction
	for _, k := range slices.Sorted(maps.Keys(groups)) {
		files := groups[k]
		if len(files) < optimizeMinFiles {
			continue
		}
		for len(files) > 1 {
			var bin []*addAction
			var size int64
			for len(files) > 0 && (len(bin) == 0 || size+files[0].Size <= t.cfg.optimizeTarget) {
				bin, size, files = append(bin, files[0]), size+files[0].Size, files[1:]
			}
			if len(bin) < 2 {
				continue
			}
			add, packed, err := t.pack(ctx, k, bin, now)
			if err != nil {
				t.log.Warn("delta optimize failed", "error", err)
				return
			}
			adds = append(adds, add)
			for _, a := range packed {
				removes = append(removes, &removeAction{Path: a.Path, DeletionTimestamp: now.UnixMilli(), DataChange: false,
					ExtendedFileMetadata: true, PartitionValues: a.PartitionValues, Size: a.Size})
			}
		}
	}
	if len(adds) == 0 {
		return
	}
	acts := []*action{}
	for _, r := range removes {
		acts = append(acts, &action{Remove: r})
	}
	for _, a := range adds {
		acts = append(acts, &action{Add: a})
	}
	acts = append(acts, &action{CommitInfo: map[string]any{"timestamp": now.UnixMilli(), "operation": "OPTIMIZE",
		"operationParameters": map[string]any{"targetSize": t.cfg.optimizeTarget}, "engineInfo": "kconnect/" + version,
		"isBlindAppend": false, "readVersion": t.snap.version}})
	data, err := encodeCommit(acts)
	if err != nil {
		t.log.Warn("delta optimize failed", "error", err)
		return
	}
	v := t.snap.version + 1
	if err := t.store.CreateExclusive(ctx, commitPath(v), data); err != nil {
		if !errors.Is(err, backend.ErrExist) {
			t.log.Warn("delta optimize commit failed", "version", v, "error", err)
		}
		return
	}
	for _, a := range acts {
		t.snap.apply(a)
	}
	t.snap.version = v
	t.log.Info("delta optimize", "version", v, "packed", len(removes), "into", len(adds))
	t.maybeCheckpoint(ctx)
}

// pack writes the rows of files into one file in dir. Files whose Parquet schema differs from
// the first one's (written before the table gained columns) are left out and not returned.
func (t *Task) pack(ctx context.Context, dir string, files []*addAction, now time.Time) (*addAction, []*addAction, error) {
	var schema *parquet.Schema
	var rows []parquet.Row
	var packed []*addAction
	for _, a := range files {
		p, err := unescapePath(a.Path)
		if err != nil {
			return nil, nil, err
		}
		data, err := readAll(ctx, t.store, p)
		if err != nil {
			return nil, nil, fmt.Errorf("read data file: %w", err)
		}
		pf, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return nil, nil, fmt.Errorf("open data file %s: %w", p, err)
		}
		if schema == nil {
			schema = pf.Schema()
		} else if !parquet.SameNodes(schema, pf.Schema()) {
			continue
		}
		if rows, err = readRows(pf, rows); err != nil {
			return nil, nil, fmt.Errorf("read data file %s: %w", p, err)
		}
		packed = append(packed, a)
	}
	add, err := t.writeRows(ctx, dir, schema, rows, files[0].PartitionValues, now)
	if err != nil {
		return nil, nil, err
	}
	add.DataChange = false
	return add, packed, nil
}
