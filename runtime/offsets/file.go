package offsets

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/kconnect/kconnect/connect"
)

// FileStore keeps offsets in a local JSON file (offset.storage.file.filename), for standalone
// mode. Every Put rewrites the file atomically: write a temporary file, fsync it, rename it over
// the old one and fsync the directory, so a crash leaves either the old or the new offsets.
type FileStore struct {
	path string

	mu      sync.Mutex
	entries map[string]json.RawMessage // key bytes → offset value
}

type fileEntry struct {
	Key   json.RawMessage `json:"key"`
	Value json.RawMessage `json:"value"`
}

// OpenFile loads the offsets in path, which need not exist yet.
func OpenFile(path string) (*FileStore, error) {
	s := &FileStore{path: path, entries: map[string]json.RawMessage{}}
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load offsets %s: %w", path, err)
	}
	var entries []fileEntry
	if err := json.Unmarshal(data, &entries); err != nil {
		return nil, fmt.Errorf("load offsets %s: %w", path, err)
	}
	for _, e := range entries {
		// Re-encode keys: the file may be indented or written by another tool, and lookups
		// compare the canonical encoding.
		name, partition, err := ParseKey(e.Key)
		if err != nil {
			return nil, fmt.Errorf("load offsets %s: %w", path, err)
		}
		k, err := Key(name, partition)
		if err != nil {
			return nil, fmt.Errorf("load offsets %s: %w", path, err)
		}
		s.entries[string(k)] = e.Value
	}
	return s, nil
}

// Get implements Store.
func (s *FileStore) Get(connector string, partition map[string]any) (map[string]any, error) {
	k, err := Key(connector, partition)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	v, ok := s.entries[string(k)]
	s.mu.Unlock()
	if !ok {
		return nil, nil
	}
	return DecodeValue(v)
}

// List implements Store.
func (s *FileStore) List(connector string) ([]connect.SourceOffset, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []connect.SourceOffset
	for _, k := range connect.SortedKeys(s.entries) {
		name, partition, err := ParseKey([]byte(k))
		if err != nil {
			return nil, err
		}
		if name != connector {
			continue
		}
		off, err := DecodeValue(s.entries[k])
		if err != nil {
			return nil, err
		}
		out = append(out, connect.SourceOffset{Partition: partition, Offset: off})
	}
	return out, nil
}

// Put implements Store.
func (s *FileStore) Put(_ context.Context, connector string, offsets []connect.SourceOffset) error {
	if len(offsets) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	next := make(map[string]json.RawMessage, len(s.entries)+len(offsets))
	for k, v := range s.entries {
		next[k] = v
	}
	for _, o := range offsets {
		k, err := Key(connector, o.Partition)
		if err != nil {
			return err
		}
		if o.Offset == nil {
			delete(next, string(k))
			continue
		}
		v, err := EncodeValue(o.Offset)
		if err != nil {
			return fmt.Errorf("%s %s: %w", connector, k, err)
		}
		next[string(k)] = v
	}
	if err := s.write(next); err != nil {
		return err
	}
	s.entries = next
	return nil
}

func (s *FileStore) write(entries map[string]json.RawMessage) error {
	list := make([]fileEntry, 0, len(entries))
	for k, v := range entries {
		list = append(list, fileEntry{Key: json.RawMessage(k), Value: v})
	}
	sort.Slice(list, func(i, j int) bool { return string(list[i].Key) < string(list[j].Key) })
	data, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return fmt.Errorf("encode offsets %s: %w", s.path, err)
	}
	if err := WriteFileAtomic(s.path, data); err != nil {
		return fmt.Errorf("store offsets: %w", err)
	}
	return nil
}

// Close implements Store.
func (s *FileStore) Close() error { return nil }

// WriteFileAtomic replaces path with data so that a crash at any moment leaves either the old or
// the new content: temp file in the same directory, fsync, rename, fsync of the directory.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("fsync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rename %s to %s: %w", tmp.Name(), path, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}
