package offsets

import (
	"context"
	"fmt"

	"github.com/kconnect/kconnect/connect"
)

// Connectors returns the names of the connectors with offsets in the file, sorted.
func (s *FileStore) Connectors() ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]struct{}{}
	for k := range s.entries {
		name, _, err := ParseKey([]byte(k))
		if err != nil {
			return nil, err
		}
		seen[name] = struct{}{}
	}
	return connect.SortedKeys(seen), nil
}

// Migrate copies the offsets of the file into to, skipping the source partitions to already has
// an entry for (even a deleted one's is not recreated), so a standalone worker switched to an
// offsets topic resumes where the file says, and running it again writes nothing. It returns how
// many offsets it wrote.
func Migrate(ctx context.Context, from *FileStore, to *TopicStore) (int, error) {
	names, err := from.Connectors()
	if err != nil {
		return 0, err
	}
	if err := to.catchUp(); err != nil {
		return 0, err
	}
	n := 0
	for _, name := range names {
		offs, err := from.List(name)
		if err != nil {
			return n, err
		}
		var missing []connect.SourceOffset
		to.mu.Lock()
		for _, o := range offs {
			canon, err := Key(name, o.Partition)
			if err != nil {
				to.mu.Unlock()
				return n, err
			}
			if _, ok := to.entries[string(canon)]; !ok {
				missing = append(missing, o)
			}
		}
		to.mu.Unlock()
		if err := to.Put(ctx, name, missing); err != nil {
			return n, fmt.Errorf("migrate offsets of %s from %s to topic %s: %w", name, from.path, to.Topic(), err)
		}
		n += len(missing)
	}
	return n, nil
}
