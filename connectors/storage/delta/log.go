package delta

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/kconnect/kconnect/connectors/storage/backend"
)

// logDir is the directory of a Delta table's transaction log, relative to the table's root.
const logDir = "_delta_log"

// The actions of a Delta log commit: one JSON object per line, each with one of these set.
type action struct {
	Protocol   *protocolAction `json:"protocol,omitempty"`
	MetaData   *metaAction     `json:"metaData,omitempty"`
	Txn        *txnAction      `json:"txn,omitempty"`
	Add        *addAction      `json:"add,omitempty"`
	Remove     *removeAction   `json:"remove,omitempty"`
	CommitInfo map[string]any  `json:"commitInfo,omitempty"`
}

type protocolAction struct {
	MinReaderVersion int `json:"minReaderVersion"`
	MinWriterVersion int `json:"minWriterVersion"`
}

type formatSpec struct {
	Provider string            `json:"provider"`
	Options  map[string]string `json:"options"`
}

type metaAction struct {
	ID               string            `json:"id"`
	Format           formatSpec        `json:"format"`
	SchemaString     string            `json:"schemaString"`
	PartitionColumns []string          `json:"partitionColumns"`
	Configuration    map[string]string `json:"configuration"`
	CreatedTime      int64             `json:"createdTime"`
}

type txnAction struct {
	AppID       string `json:"appId"`
	Version     int64  `json:"version"`
	LastUpdated int64  `json:"lastUpdated,omitempty"`
}

type addAction struct {
	Path             string             `json:"path"`
	PartitionValues  map[string]*string `json:"partitionValues"`
	Size             int64              `json:"size"`
	ModificationTime int64              `json:"modificationTime"`
	DataChange       bool               `json:"dataChange"`
	Stats            string             `json:"stats,omitempty"`
}

type removeAction struct {
	Path                 string             `json:"path"`
	DeletionTimestamp    int64              `json:"deletionTimestamp"`
	DataChange           bool               `json:"dataChange"`
	ExtendedFileMetadata bool               `json:"extendedFileMetadata"`
	PartitionValues      map[string]*string `json:"partitionValues"`
	Size                 int64              `json:"size"`
}

// snapshot is the state of a table at one version, as replaying its log gives it.
type snapshot struct {
	version  int64 // -1 before the first commit
	protocol *protocolAction
	meta     *metaAction
	files    map[string]*addAction // by path
	txns     map[string]int64      // appId → version
}

func newSnapshot() *snapshot {
	return &snapshot{version: -1, files: map[string]*addAction{}, txns: map[string]int64{}}
}

func (s *snapshot) apply(a *action) {
	switch {
	case a.Protocol != nil:
		s.protocol = a.Protocol
	case a.MetaData != nil:
		s.meta = a.MetaData
	case a.Txn != nil:
		s.txns[a.Txn.AppID] = a.Txn.Version
	case a.Add != nil:
		s.files[a.Add.Path] = a.Add
	case a.Remove != nil:
		delete(s.files, a.Remove.Path)
	}
}

func commitPath(version int64) string { return fmt.Sprintf("%s/%020d.json", logDir, version) }

// logVersions lists the versions of the JSON commits and the newest checkpoint in the log.
func logVersions(ctx context.Context, st backend.Store) (commits []int64, checkpoint int64, err error) {
	infos, err := st.List(ctx, logDir)
	if err != nil && !errors.Is(err, backend.ErrNotExist) {
		return nil, -1, fmt.Errorf("list %s: %w", logDir, err)
	}
	checkpoint = -1
	for _, fi := range infos {
		name := path.Base(fi.Path)
		if v, ok := strings.CutSuffix(name, ".json"); ok && len(v) == 20 {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				commits = append(commits, n)
			}
		}
		if v, ok := strings.CutSuffix(name, ".checkpoint.parquet"); ok && len(v) == 20 {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > checkpoint {
				checkpoint = n
			}
		}
	}
	sort.Slice(commits, func(i, j int) bool { return commits[i] < commits[j] })
	return commits, checkpoint, nil
}

// loadSnapshot replays the log: the newest checkpoint, then the JSON commits after it.
func loadSnapshot(ctx context.Context, st backend.Store) (*snapshot, error) {
	commits, cp, err := logVersions(ctx, st)
	if err != nil {
		return nil, err
	}
	s := newSnapshot()
	if cp >= 0 {
		// A checkpoint only saves reading; without a usable one the JSON commits tell all.
		if c, err := readCheckpoint(ctx, st, cp); err == nil && slices.Contains(commits, cp) {
			s = c
		}
	}
	for _, v := range commits {
		if v <= s.version {
			continue
		}
		if v != s.version+1 {
			return nil, fmt.Errorf("delta log of %s: commit %d follows %d", st.URL(), v, s.version)
		}
		if err := replayCommit(ctx, st, s, v); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// catchUp applies the commits after s.version that other writers made.
func catchUp(ctx context.Context, st backend.Store, s *snapshot) ([]*action, error) {
	var seen []*action
	for {
		acts, err := readCommit(ctx, st, s.version+1)
		if errors.Is(err, backend.ErrNotExist) {
			return seen, nil
		}
		if err != nil {
			return nil, err
		}
		for _, a := range acts {
			s.apply(a)
		}
		s.version++
		seen = append(seen, acts...)
	}
}

func replayCommit(ctx context.Context, st backend.Store, s *snapshot, v int64) error {
	acts, err := readCommit(ctx, st, v)
	if err != nil {
		return err
	}
	for _, a := range acts {
		s.apply(a)
	}
	s.version = v
	return nil
}

func readCommit(ctx context.Context, st backend.Store, v int64) ([]*action, error) {
	r, err := st.Open(ctx, commitPath(v))
	if err != nil {
		return nil, fmt.Errorf("read delta commit %d: %w", v, err)
	}
	defer r.Close()
	var acts []*action
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 1<<30)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		a := &action{}
		if err := json.Unmarshal(line, a); err != nil {
			return nil, fmt.Errorf("delta commit %d: %w", v, err)
		}
		acts = append(acts, a)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read delta commit %d: %w", v, err)
	}
	return acts, nil
}

// encodeCommit renders actions as a commit file's lines.
func encodeCommit(acts []*action) ([]byte, error) {
	var buf bytes.Buffer
	for _, a := range acts {
		b, err := json.Marshal(a)
		if err != nil {
			return nil, fmt.Errorf("encode delta action: %w", err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	return buf.Bytes(), nil
}

// readAll reads one file of the store.
func readAll(ctx context.Context, st backend.Store, p string) ([]byte, error) {
	r, err := st.Open(ctx, p)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	return b, nil
}

func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode %T: %w", v, err)
	}
	return string(b), nil
}
