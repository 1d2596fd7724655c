package broker

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kconnect/kconnect/internal/atomicfile"
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
	// Durably, and under a name ending in .tmp until renamed: kfake deletes such leftovers of a
	// crash when it loads.
	return atomicfile.WriteFile(path, mustJSON(file))
}

// parsePartitionDir parses kfake's partition dir names: the URL path
// escaped topic name, a dash and the partition number.
func parsePartitionDir(name string) (topic string, partition int, ok bool) {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return "", 0, false
	}
	partition, err := strconv.Atoi(name[i+1:])
	if err != nil || partition < 0 || strconv.Itoa(partition) != name[i+1:] {
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

// runningFile exists in a data dir while a broker uses it, so that the next
// broker knows whether the last one shut down cleanly.
const runningFile = ".running"

// markRunning creates the running file and reports whether it was already
// there, left by a broker that crashed. The file's directory entry is made
// durable before the broker serves anything: a marker lost with the machine's
// power would make the next start skip recovery.
func markRunning(dir string) (crashed bool, err error) {
	path := filepath.Join(dir, runningFile)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("create %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return false, fmt.Errorf("create %s: %w", path, err)
	}
	return false, atomicfile.SyncDir(dir)
}

// markStopped removes the running file after a clean shutdown, durably, so
// that a power loss right after it does not make the next start recover a
// data dir that needs no recovery.
func markStopped(dir string) error {
	if err := os.Remove(filepath.Join(dir, runningFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove running marker: %w", err)
	}
	return atomicfile.SyncDir(dir)
}

// openTxn is a transaction that has records in a partition but no commit or
// abort marker there.
type openTxn struct {
	topic      string
	partition  int32
	producerID int64
	epoch      int16
}

// recoverPartitions lists the transactions a crash left open: after a crash no
// producer can finish them, so they must be aborted. kfake treats them as
// aborted when it loads a partition by replaying its segments, but it
// writes no abort marker. Consumers reading committed records rely on that
// marker: without it they skip every later record of the same producer in
// the partition, committed or not, and once kfake replays the partition
// again, a later commit marker of the producer commits the aborted records
// too. A transaction a crash cut off while its commit markers were being
// written is aborted in the partitions its marker did not reach: kfake logs
// the commit only after writing every marker, so nothing on disk tells it
// from a transaction that was never committed.
//
// It also repairs the index files a crash left out of step with their
// segments (see repairIndex), and removes the snapshot.json of the
// partitions with open transactions or repaired index files, so that kfake
// replays them rather than trusting a snapshot that predates them: kfake
// restores the last stable offset from the snapshot, and the transaction
// that held it back lived only in memory and in a session file that the
// previous start consumed, so a partition with a transaction open across a
// clean shutdown and then a kill would keep its last stable offset short of
// its end for good (TestReadCommittedAfterKillNine).
func recoverPartitions(dir string, committing *openTxn, log *slog.Logger) ([]openTxn, error) {
	pdirs, err := os.ReadDir(filepath.Join(dir, "partitions"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list partitions: %w", err)
	}
	var txns []openTxn
	for _, d := range pdirs {
		topic, partition, ok := parsePartitionDir(d.Name())
		if !ok || !d.IsDir() {
			continue
		}
		pdir := filepath.Join(dir, "partitions", d.Name())
		open, tail, repaired, err := scanPartition(pdir)
		if err != nil {
			return nil, fmt.Errorf("partition %s-%d: %w", topic, partition, err)
		}
		if repaired {
			log.Warn("embedded broker repaired the index of a partition a crash left out of step with its records", "topic", topic, "partition", partition)
		}
		if len(open) == 0 && !repaired {
			continue
		}
		for pid, epoch := range open {
			if committing != nil && pid == committing.producerID && epoch == committing.epoch {
				if err := tail.appendCommit(pid, epoch); err != nil {
					return nil, fmt.Errorf("partition %s-%d: %w", topic, partition, err)
				}
				log.Warn("completed the commit of a transaction that a crash or a storage failure cut off", "topic", topic, "partition", partition, "producer_id", pid)
				continue
			}
			txns = append(txns, openTxn{topic: topic, partition: int32(partition), producerID: pid, epoch: epoch})
		}
		// Durably: the abort markers written next make the running marker go at
		// shutdown, and a snapshot that came back after a power loss would then
		// be trusted again.
		if err := os.Remove(filepath.Join(pdir, "snapshot.json")); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("partition %s-%d: remove snapshot: %w", topic, partition, err)
		}
		if err := atomicfile.SyncDir(pdir); err != nil {
			return nil, fmt.Errorf("partition %s-%d: %w", topic, partition, err)
		}
	}
	return txns, nil
}

// Record batch header layout, from Kafka's DefaultRecordBatch.
const (
	batchLengthOffset          = 8  // int32, the bytes after this field
	batchLeaderEpochOffset     = 12 // int32
	batchCRCOffset             = 17 // uint32 CRC-32C of the bytes from attributes on
	batchAttributesOffset      = 21 // int16
	batchMaxTimestampOffset    = 35 // int64
	batchLastOffsetDeltaOffset = 23 // int32
	batchProducerIDOffset      = 43 // int64, then int16 producer epoch
	batchHeaderSize            = 61

	attrTransactional = 0x10
	attrControl       = 0x20
)

var crc32c = crc32.MakeTable(crc32.Castagnoli)

// segmentTail is where the next batch of a partition goes: the end of the
// valid batches of its last segment.
type segmentTail struct {
	dat, idx     string // the segment and index files
	size         int64  // bytes of valid batches in dat
	nextOffset   int64
	leaderEpoch  int32
	maxTimestamp int64 // the largest timestamp of the partition so far
}

// scanPartition returns the producers with a transaction open at the end of
// a partition's segments, with the epoch of their last batch, where the next
// batch goes, and whether it had to repair an index file. It stops reading a
// segment at the first batch that is cut short or fails its CRC, where kfake
// truncates the segment when it loads it.
func scanPartition(pdir string) (open map[int64]int16, tail segmentTail, repaired bool, err error) {
	entries, err := os.ReadDir(pdir)
	if err != nil {
		return nil, tail, false, fmt.Errorf("list segments: %w", err)
	}
	var bases []int64
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".dat"); ok {
			if base, err := strconv.ParseInt(name, 10, 64); err == nil {
				bases = append(bases, base)
			}
		}
	}
	slices.Sort(bases)
	open = make(map[int64]int16)
	var maxTimestamp int64
	for _, base := range bases {
		path := filepath.Join(pdir, strconv.FormatInt(base, 10)+".dat")
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, tail, false, fmt.Errorf("read segment: %w", err)
		}
		tail.dat, tail.idx, tail.size = path, filepath.Join(pdir, strconv.FormatInt(base, 10)+".idx"), 0
		var batches []indexedBatch
		for len(raw) >= batchHeaderSize {
			size := 12 + int64(binary.BigEndian.Uint32(raw[batchLengthOffset:]))
			if size < batchHeaderSize || size > int64(len(raw)) {
				break
			}
			batch := raw[:size]
			raw = raw[size:]
			if binary.BigEndian.Uint32(batch[batchCRCOffset:]) != crc32.Checksum(batch[batchAttributesOffset:], crc32c) {
				break
			}
			attrs := binary.BigEndian.Uint16(batch[batchAttributesOffset:])
			pid := int64(binary.BigEndian.Uint64(batch[batchProducerIDOffset:]))
			epoch := int16(binary.BigEndian.Uint16(batch[batchProducerIDOffset+8:]))
			inTxn := false
			switch {
			case attrs&attrControl != 0:
				delete(open, pid)
			case attrs&attrTransactional != 0:
				open[pid] = epoch
				inTxn = true
			}
			maxTimestamp = max(maxTimestamp, int64(binary.BigEndian.Uint64(batch[batchMaxTimestampOffset:])))
			b := indexedBatch{
				leaderEpoch:  int32(binary.BigEndian.Uint32(batch[batchLeaderEpochOffset:])),
				maxTimestamp: maxTimestamp,
				inTxn:        inTxn,
			}
			batches = append(batches, b)
			tail.size += size
			tail.nextOffset = int64(binary.BigEndian.Uint64(batch)) + int64(int32(binary.BigEndian.Uint32(batch[batchLastOffsetDeltaOffset:]))) + 1
			tail.leaderEpoch, tail.maxTimestamp = b.leaderEpoch, maxTimestamp
		}
		fixed, err := repairIndex(tail.idx, batches)
		if err != nil {
			return nil, tail, false, err
		}
		repaired = repaired || fixed
	}
	return open, tail, repaired, nil
}

// appendCommit writes the commit marker of producer pid at epoch after the
// valid batches of the segment, and its index entry, as kfake writes one.
// It cuts off the bytes after the valid batches first, which kfake would
// otherwise cut off with the marker when it loads the segment. The writes
// are synced: the abort markers of the same start may make the running
// marker go.
func (t segmentTail) appendCommit(pid int64, epoch int16) error {
	key := kmsg.ControlRecordKey{Type: kmsg.ControlRecordKeyTypeCommit}
	value := kmsg.EndTxnMarker{} // kfake's coordinator epoch is 0
	rec := kmsg.Record{Key: key.AppendTo(nil), Value: value.AppendTo(nil)}
	// The length is a one-byte varint for a record this small.
	rec.Length = int32(len(rec.AppendTo(nil)) - 1)
	now := time.Now().UnixMilli()
	batch := kmsg.RecordBatch{
		FirstOffset:          t.nextOffset,
		PartitionLeaderEpoch: t.leaderEpoch,
		Magic:                2,
		Attributes:           attrControl | attrTransactional,
		FirstTimestamp:       now,
		MaxTimestamp:         now,
		ProducerID:           pid,
		ProducerEpoch:        epoch,
		FirstSequence:        -1,
		NumRecords:           1,
		Records:              rec.AppendTo(nil),
	}
	raw := batch.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[batchLengthOffset:], uint32(len(raw)-12))
	binary.BigEndian.PutUint32(raw[batchCRCOffset:], crc32.Checksum(raw[batchAttributesOffset:], crc32c))
	entry := appendIndexEntry(nil, indexedBatch{leaderEpoch: t.leaderEpoch, maxTimestamp: max(t.maxTimestamp, now)})
	for _, w := range []struct {
		path string
		at   int64
		data []byte
	}{{t.dat, t.size, raw}, {t.idx, -1, entry}} {
		if err := writeTail(w.path, w.at, w.data); err != nil {
			return fmt.Errorf("write commit marker: %w", err)
		}
	}
	return nil
}

// writeTail writes data to the file at path, at offset at after cutting the
// file there, or at its end for a negative at, and syncs it.
func writeTail(path string, at int64, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if at < 0 {
		at, err = f.Seek(0, io.SeekEnd)
	} else {
		err = f.Truncate(at)
	}
	if err == nil {
		_, err = f.WriteAt(data, at)
	}
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// kfake's index files, <base offset>.idx beside each segment, hold one entry
// per record batch of the segment, in order: a version byte, the low byte of
// the CRC-32C of the rest, then little-endian the batch's leader epoch
// (int32) and the largest timestamp up to it (int64), and a flags byte whose
// bit 0 says the batch belongs to a transaction. kfake learns which batches
// belong to transactions only from these flags when it replays a partition.
const (
	indexVersion   = 1
	indexEntrySize = 15
	indexFlagTxn   = 1
)

// indexedBatch is what a batch's index entry must say.
type indexedBatch struct {
	leaderEpoch  int32
	maxTimestamp int64 // the largest timestamp of the partition up to this batch
	inTxn        bool
}

// repairIndex makes the index file at path hold one valid entry for each
// of batches, a segment's batches in order, and reports whether it had to
// change it. kfake appends a batch to its segment and then its entry to the
// index: a kill between the two writes leaves the index an entry short (or
// part of one), and kfake, which reads the Nth entry as the Nth batch's,
// then takes the batch for one outside any transaction and appends the next
// batch's entry in its place. A transaction left open by that kill is then
// neither aborted nor hidden from consumers reading committed records, and
// every later batch of the segment inherits the flags of the one after it,
// so records of later aborted transactions become visible too
// (TestReadCommittedAfterKillBetweenBatchAndIndex). Valid entries that agree
// with their batch are kept as kfake wrote them.
func repairIndex(path string, batches []indexedBatch) (bool, error) {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("read index: %w", err)
	}
	idx := make([]byte, 0, len(batches)*indexEntrySize)
	for i, b := range batches {
		if e, ok := indexEntryAt(old, i); ok && e.leaderEpoch == b.leaderEpoch && e.inTxn == b.inTxn {
			idx = append(idx, old[i*indexEntrySize:(i+1)*indexEntrySize]...)
			continue
		}
		idx = appendIndexEntry(idx, b)
	}
	if bytes.Equal(idx, old) {
		return false, nil
	}
	if err := atomicfile.WriteFile(path, idx); err != nil {
		return false, fmt.Errorf("repair index: %w", err)
	}
	return true, nil
}

// indexEntryAt decodes the i-th entry of an index file, if it is there and valid.
func indexEntryAt(idx []byte, i int) (indexedBatch, bool) {
	if len(idx) < (i+1)*indexEntrySize {
		return indexedBatch{}, false
	}
	e := idx[i*indexEntrySize : (i+1)*indexEntrySize]
	if e[0] != indexVersion || e[1] != byte(crc32.Checksum(e[2:], crc32c)) {
		return indexedBatch{}, false
	}
	return indexedBatch{
		leaderEpoch:  int32(binary.LittleEndian.Uint32(e[2:])),
		maxTimestamp: int64(binary.LittleEndian.Uint64(e[6:])),
		inTxn:        e[14]&indexFlagTxn != 0,
	}, true
}

// appendIndexEntry appends the index entry for b to idx.
func appendIndexEntry(idx []byte, b indexedBatch) []byte {
	var e [indexEntrySize]byte
	e[0] = indexVersion
	binary.LittleEndian.PutUint32(e[2:], uint32(b.leaderEpoch))
	binary.LittleEndian.PutUint64(e[6:], uint64(b.maxTimestamp))
	if b.inTxn {
		e[14] = indexFlagTxn
	}
	e[1] = byte(crc32.Checksum(e[2:], crc32c))
	return append(idx, e[:]...)
}

// prepareDataDir readies a data dir for kfake to load and returns the
// transactions a crash left open, which the broker must abort.
func prepareDataDir(dir string, log *slog.Logger) ([]openTxn, error) {
	crashed, err := markRunning(dir)
	if err != nil {
		return nil, err
	}
	if err := adoptOrphanPartitions(dir, log); err != nil {
		return nil, err
	}
	// After a clean shutdown kfake keeps open transactions open, and
	// their producers may go on with them.
	if !crashed {
		return nil, nil
	}
	log.Warn("embedded broker did not shut down cleanly last time; recovering", "data_dir", dir)
	// A commit that a crash or a storage failure cut off between its
	// markers is completed rather than aborted (intent.go).
	var committing *openTxn
	pid, epoch, ok, err := readIntent(dir)
	if err != nil {
		return nil, err
	}
	if ok {
		committing = &openTxn{producerID: pid, epoch: epoch}
	}
	txns, err := recoverPartitions(dir, committing, log)
	if err != nil {
		return nil, err
	}
	if ok {
		if err := clearIntent(dir); err != nil {
			return nil, err
		}
	}
	return txns, nil
}

// abortTxns writes abort markers for transactions a crash left open, as
// Kafka's transaction coordinator does for transactions whose producer is
// gone. It runs before the gate opens, so the markers land before anything
// else the producers write.
func (b *Broker) abortTxns(txns []openTxn) error {
	if len(txns) == 0 {
		return nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.addr), kgo.Dialer(b.gate.dial))
	if err != nil {
		return fmt.Errorf("abort transactions left open by a crash: %w", err)
	}
	defer cl.Close()

	type producer struct {
		id    int64
		epoch int16
	}
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	markers := make(map[producer]int)
	for _, t := range txns {
		p := producer{t.producerID, t.epoch}
		i, ok := markers[p]
		if !ok {
			m := kmsg.NewWriteTxnMarkersRequestMarker()
			m.ProducerID, m.ProducerEpoch, m.Committed = t.producerID, t.epoch, false
			req.Markers = append(req.Markers, m)
			i = len(req.Markers) - 1
			markers[p] = i
		}
		mt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
		mt.Topic, mt.Partitions = t.topic, []int32{t.partition}
		req.Markers[i].Topics = append(req.Markers[i].Topics, mt)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return fmt.Errorf("abort transactions left open by a crash: %w", err)
	}
	// A marker that cannot be written leaves consumers of that partition
	// as kfake alone would; that is no reason to refuse to start, unless
	// the broker halts on storage failures: then kfake has already made the
	// transaction's records visible, and the next start tries again.
	var failed []error
	for _, m := range resp.Markers {
		for _, t := range m.Topics {
			for _, p := range t.Partitions {
				attrs := []any{"topic", t.Topic, "partition", p.Partition, "producer_id", m.ProducerID}
				if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
					if b.log.stop != nil {
						failed = append(failed, fmt.Errorf("%s-%d producer %d: %w", t.Topic, p.Partition, m.ProducerID, err))
						continue
					}
					b.log.log.Error("cannot abort a transaction left open by a crash; consumers reading committed records may skip the producer's later records there", append(attrs, "err", err)...)
					continue
				}
				b.log.log.Warn("aborted a transaction left open by a crash", attrs...)
			}
		}
	}
	if err := errors.Join(failed...); err != nil {
		return fmt.Errorf("abort transactions left open by a crash: %w", err)
	}
	return nil
}
