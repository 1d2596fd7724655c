package offsets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/atomicfile"
	"github.com/kconnect/kconnect/internal/javaser"
)

// FileStore keeps offsets in a local file (offset.storage.file.filename), for standalone mode,
// in Kafka Connect's own format: its FileOffsetBackingStore's Java-serialized HashMap of key and
// value JSON bytes, so a user can swap kconnect and Kafka Connect on the same file either way.
// kconnect's earlier JSON file format is still read, and rewritten in Kafka Connect's at open.
// Every Put rewrites the file atomically: write a temporary file, fsync it, rename it over the old
// one and fsync the directory, so a crash leaves either the old or the new offsets.
type FileStore struct {
	path string

	mu      sync.Mutex
	entries map[string]fileValue // canonical key (Key) → stored key and value
}

// fileValue is one stored offset with the key bytes it is written under: those read from the
// file, as Kafka Connect looks its offsets up by exact bytes, or else Key's.
type fileValue struct {
	key   []byte
	value json.RawMessage
}

// jsonFileEntry is an entry of kconnect's earlier JSON file format.
type jsonFileEntry struct {
	Key   json.RawMessage `json:"key"`
	Value json.RawMessage `json:"value"`
}

// OpenFile loads the offsets in path, which need not exist yet. A file in kconnect's earlier JSON
// format is rewritten in Kafka Connect's format before OpenFile returns.
func OpenFile(path string) (*FileStore, error) {
	s := &FileStore{path: path, entries: map[string]fileValue{}}
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load offsets %s: %w", path, err)
	}
	switch {
	case len(data) == 0:
		// Kafka Connect truncates the file before writing it, and reads an empty file as no
		// offsets; refusing it would keep the worker from ever starting again.
		return s, nil
	case javaser.IsStream(data):
		if err := s.loadJava(data); err != nil {
			return nil, fmt.Errorf("load offsets %s (Kafka Connect format): %w", path, err)
		}
		return s, nil
	}
	if err := s.loadJSON(data); err != nil {
		return nil, fmt.Errorf("load offsets %s (kconnect JSON format): %w", path, err)
	}
	if err := s.write(s.entries); err != nil {
		return nil, fmt.Errorf("migrate offsets %s to Kafka Connect's format: %w", path, err)
	}
	return s, nil
}

func (s *FileStore) loadJava(data []byte) error {
	entries, err := javaser.DecodeByteArrayMap(data)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Key == nil {
			return errors.New("an entry has a null key")
		}
		if e.Value == nil {
			continue // Kafka Connect keeps deleted partitions as null values
		}
		if err := s.add(e.Key, e.Value); err != nil {
			return err
		}
	}
	return nil
}

func (s *FileStore) loadJSON(data []byte) error {
	var entries []jsonFileEntry
	if err := json.Unmarshal(data, &entries); err != nil {
		return err
	}
	for _, e := range entries {
		// The file may be indented or written by another tool: re-encode the key so that
		// Kafka Connect finds it.
		name, partition, err := ParseKey(e.Key)
		if err != nil {
			return err
		}
		k, err := Key(name, partition)
		if err != nil {
			return err
		}
		if err := s.add(k, e.Value); err != nil {
			return err
		}
	}
	return nil
}

// add stores value under key, indexed by key's canonical form.
func (s *FileStore) add(key, value []byte) error {
	name, partition, err := ParseKey(key)
	if err != nil {
		return err
	}
	k, err := Key(name, partition)
	if err != nil {
		return err
	}
	s.entries[string(k)] = fileValue{key: key, value: value}
	return nil
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
	return DecodeValue(v.value)
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
		off, err := DecodeValue(s.entries[k].value)
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
	next := make(map[string]fileValue, len(s.entries)+len(offsets))
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
		stored := next[string(k)].key
		if stored == nil {
			if stored, err = Key(connector, o.Partition); err != nil {
				return err
			}
		}
		next[string(k)] = fileValue{key: stored, value: v}
	}
	if err := s.write(next); err != nil {
		return err
	}
	s.entries = next
	return nil
}

func (s *FileStore) write(entries map[string]fileValue) error {
	list := make([]javaser.Entry, 0, len(entries))
	for _, k := range connect.SortedKeys(entries) {
		list = append(list, javaser.Entry{Key: entries[k].key, Value: entries[k].value})
	}
	data, err := javaser.EncodeByteArrayMap(list)
	if err != nil {
		return fmt.Errorf("encode offsets %s: %w", s.path, err)
	}
	if err := atomicfile.WriteFile(s.path, data); err != nil {
		return fmt.Errorf("store offsets: %w", err)
	}
	return nil
}

// Close implements Store.
func (s *FileStore) Close() error { return nil }
