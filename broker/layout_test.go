package broker

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestKfakeDataDirLayout pins what recover.go assumes about kfake's private data dir layout, so
// that a kfake upgrade that changes it fails here rather than silently disabling recovery:
// meta.json marks a used dir; topics.json is version 1 with name, id (standard base64 of 16
// bytes), partitions and replicas per topic; partition dirs are partitions/<escaped topic>-<n>
// with <base offset>.dat segments of Kafka record batches (v2 header, CRC-32C), <base offset>.idx
// index files of one entry per batch in the format repairIndex writes, and a snapshot.json; a
// leftover *.tmp file is deleted when kfake loads the dir.
func TestKfakeDataDirLayout(t *testing.T) {
	dir := t.TempDir()
	first, err := Start(Options{DataDir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	// The manual partitioner puts the plain records in partition 0, whose segment is checked below.
	cl := newClient(t, first, kgo.AllowAutoTopicCreation(), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	adm := kadm.NewClient(cl)
	const topic = "layout.topic_with-dash"
	if _, err := adm.CreateTopic(testContext(t), 2, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	produce(t, cl, topic, "a", "b")
	producer := newClient(t, first, kgo.TransactionalID("layout-tx"), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err := producer.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := producer.ProduceSync(testContext(t), &kgo.Record{Partition: 1, Value: []byte("open")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	producerID, epoch, err := producer.ProducerID(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	cl.Close()
	if err := first.Close(); err != nil { // the transaction stays open
		t.Fatal(err)
	}

	if _, err := os.Stat(filepath.Join(dir, "meta.json")); err != nil {
		t.Errorf("meta.json: %v", err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "topics.json"))
	if err != nil {
		t.Fatal(err)
	}
	var topics struct {
		Version int                          `json:"version"`
		Topics  []map[string]json.RawMessage `json:"topics"`
	}
	if err := json.Unmarshal(raw, &topics); err != nil {
		t.Fatal(err)
	}
	if topics.Version != topicsFileVersion || len(topics.Topics) != 1 {
		t.Fatalf("topics.json = %s; want version %d with one topic", raw, topicsFileVersion)
	}
	var entry struct {
		Name       string `json:"name"`
		ID         string `json:"id"`
		Partitions int    `json:"partitions"`
		Replicas   int    `json:"replicas"`
	}
	e := topics.Topics[0]
	for _, k := range []string{"name", "id", "partitions", "replicas"} {
		if _, ok := e[k]; !ok {
			t.Errorf("topics.json entry lacks %q: %s", k, raw)
		}
	}
	whole, _ := json.Marshal(e)
	if err := json.Unmarshal(whole, &entry); err != nil {
		t.Fatal(err)
	}
	id, err := base64.StdEncoding.DecodeString(entry.ID)
	if entry.Name != topic || entry.Partitions != 2 || entry.Replicas != 1 || err != nil || len(id) != 16 {
		t.Errorf("topics.json entry %s; want name %s, 2 partitions, 1 replica, a 16-byte standard base64 id", whole, topic)
	}
	if got := newTopicID(); len(got) != len(entry.ID) {
		t.Errorf("newTopicID() = %q, not in kfake's form %q", got, entry.ID)
	}

	pdirs, err := os.ReadDir(filepath.Join(dir, "partitions"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range pdirs {
		names = append(names, d.Name())
		if tp, p, ok := parsePartitionDir(d.Name()); !ok || tp != topic || p > 1 {
			t.Errorf("partition dir %q does not parse as %s-<0|1>", d.Name(), topic)
		}
	}
	if want := []string{topic + "-0", topic + "-1"}; !slices.Equal(names, want) {
		t.Errorf("partition dirs %v, want %v", names, want)
	}
	p0 := filepath.Join(dir, "partitions", topic+"-0")
	seg, err := os.ReadFile(filepath.Join(p0, "0.dat"))
	if err != nil {
		t.Fatal(err)
	}
	// Kafka's v2 record batch: base offset (8), length (4), leader epoch (4), magic 2 at 16.
	if len(seg) < batchHeaderSize || seg[16] != 2 || binary.BigEndian.Uint64(seg) != 0 {
		t.Fatalf("0.dat does not start with a v2 record batch at offset 0: % x", seg[:min(len(seg), batchHeaderSize)])
	}
	if _, err := os.Stat(filepath.Join(p0, "snapshot.json")); err != nil {
		t.Errorf("snapshot.json: %v", err)
	}
	if ok, err := holdsSegments(p0); !ok || err != nil {
		t.Errorf("holdsSegments(%s) = %v, %v; want true", p0, ok, err)
	}
	// The batch layout recover.go reads: CRC, attributes and producer fields at their offsets;
	// and the index entries it checks: kfake's, unchanged, so none is repaired.
	if open, _, repaired, err := scanPartition(p0); err != nil || len(open) != 0 || repaired {
		t.Errorf("partition 0 (no transaction): open %v, index repaired %v, %v", open, repaired, err)
	}
	p1 := filepath.Join(dir, "partitions", topic+"-1")
	open, _, repaired, err := scanPartition(p1)
	if err != nil || len(open) != 1 || open[producerID] != epoch || repaired {
		t.Errorf("partition 1: open transactions %v, index repaired %v, %v; want producer %d epoch %d, no repair", open, repaired, err, producerID, epoch)
	}
	// One index entry per batch, the transactional one flagged.
	if idx, err := os.ReadFile(filepath.Join(p1, "0.idx")); err != nil || len(idx) != indexEntrySize {
		t.Errorf("partition 1 index: %d bytes, %v; want one entry of %d", len(idx), err, indexEntrySize)
	} else if e, ok := indexEntryAt(idx, 0); !ok || !e.inTxn {
		t.Errorf("partition 1 index entry % x: valid %v, in a transaction %v; want both", idx, ok, e.inTxn)
	}

	for _, leftover := range []string{filepath.Join(dir, ".topics.json.123.tmp"), filepath.Join(p0, "snapshot.json.tmp")} {
		if err := os.WriteFile(leftover, []byte("{"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	start(t, Options{DataDir: dir})
	for _, leftover := range []string{filepath.Join(dir, ".topics.json.123.tmp"), filepath.Join(p0, "snapshot.json.tmp")} {
		if _, err := os.Stat(leftover); !os.IsNotExist(err) {
			t.Errorf("%s survived kfake's load: %v", leftover, err)
		}
	}
}
