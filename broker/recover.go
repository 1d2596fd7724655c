package broker

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// topicsFileVersion is the version of kfake's topics.json format that
// adoptOrphanPartitions writes entries for.
const topicsFileVersion = 1

// adoptOrphanPartitions adds to kfake's topics.json the partition dirs that
// hold records but that topics.json does not list. kfake loads only the
// partitions topics.json lists, and a topic created again under the same
// name would append to the old segment files as if they were empty,
// corrupting the partition. Such dirs are left by a crash of a broker that
// auto-created topics with kfake's own auto-creation, which wrote
// topics.json only at shutdown. Those topics had kfake's defaults, which
// are ours: no configs and one replica. Their IDs were never written down,
// so adopted topics get new ones.
func adoptOrphanPartitions(dir string, log *slog.Logger) error {
	if _, err := os.Stat(filepath.Join(dir, "meta.json")); errors.Is(err, fs.ErrNotExist) {
		return nil // a new data dir
	}
	pdirs, err := os.ReadDir(filepath.Join(dir, "partitions"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list partitions: %w", err)
	}

	path := filepath.Join(dir, "topics.json")
	// Entries stay raw maps so that fields this code does not know of
	// are written back as kfake wrote them.
	var file struct {
		Version int                          `json:"version"`
		Topics  []map[string]json.RawMessage `json:"topics"`
	}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		file.Version = topicsFileVersion
	case err != nil:
		return fmt.Errorf("read %s: %w", path, err)
	default:
		if err := json.Unmarshal(data, &file); err != nil {
			return fmt.Errorf("parse %s: %w", path, err)
		}
	}
	if file.Version != topicsFileVersion {
		log.Warn("embedded broker data dir has a topics.json version this kconnect does not know; not checking for partitions missing from it", "path", path, "version", file.Version)
		return nil
	}

	type known struct {
		entry      map[string]json.RawMessage
		partitions int
	}
	topics := make(map[string]*known, len(file.Topics))
	for i, e := range file.Topics {
		var name string
		var partitions int
		if err := json.Unmarshal(e["name"], &name); err != nil {
			return fmt.Errorf("parse %s: topic %d name: %w", path, i, err)
		}
		if err := json.Unmarshal(e["partitions"], &partitions); err != nil {
			return fmt.Errorf("parse %s: topic %s partitions: %w", path, name, err)
		}
		topics[name] = &known{entry: e, partitions: partitions}
	}

	changed := false
	for _, d := range pdirs {
		topic, partition, ok := parsePartitionDir(d.Name())
		if !ok || !d.IsDir() {
			continue
		}
		if k := topics[topic]; k != nil && partition < k.partitions {
			continue
		}
		hasRecords, err := holdsSegments(filepath.Join(dir, "partitions", d.Name()))
		if err != nil {
			return err
		}
		if !hasRecords {
			continue
		}
		k := topics[topic]
		if k == nil {
			k = &known{entry: map[string]json.RawMessage{
				"name":     mustJSON(topic),
				"id":       mustJSON(newTopicID()),
				"replicas": mustJSON(1),
			}}
			topics[topic] = k
			file.Topics = append(file.Topics, k.entry)
		}
		k.partitions = partition + 1
		k.entry["partitions"] = mustJSON(k.partitions)
		changed = true
		log.Warn("embedded broker found records of a topic partition its topic list lacks, left by a crash of an older kconnect; adopting them under a new topic ID", "topic", topic, "partition", partition)
	}
	if !changed {
		return nil
	}
	return writeFileAtomic(path, mustJSON(file))
}

// parsePartitionDir parses kfake's partition dir names: the URL path
// escaped topic name, a dash and the partition number.
func parsePartitionDir(name string) (topic string, partition int, ok bool) {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return "", 0, false
	}
	partition, err := strconv.Atoi(name[i+1:])
	if err != nil || partition < 0 {
		return "", 0, false
	}
	topic, err = url.PathUnescape(name[:i])
	if err != nil || url.PathEscape(topic) != name[:i] {
		return "", 0, false
	}
	return topic, partition, true
}

// holdsSegments reports whether a partition dir holds a non-empty segment.
func holdsSegments(pdir string) (bool, error) {
	entries, err := os.ReadDir(pdir)
	if err != nil {
		return false, fmt.Errorf("list partition dir: %w", err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".dat") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return false, fmt.Errorf("stat segment: %w", err)
		}
		if info.Size() > 0 {
			return true, nil
		}
	}
	return false, nil
}

// newTopicID returns a random topic ID as kfake writes them to
// topics.json: standard base64.
func newTopicID() string {
	var id [16]byte
	_, _ = rand.Read(id[:]) // crypto/rand.Read never fails
	return base64.StdEncoding.EncodeToString(id[:])
}

// mustJSON marshals values that always marshal.
func mustJSON(v any) json.RawMessage {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return data
}

// writeFileAtomic replaces path with data so that a crash leaves either the
// old or the new file: kfake deletes the leftover .tmp file when it loads.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	return nil
}
