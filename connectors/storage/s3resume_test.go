package storage

import (
	"bufio"
	"context"
	"encoding/json"
	"path"
	"sync"
	"testing"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connect/connecttest"
	"github.com/kconnect/kconnect/connectors/storage/backend"
	"github.com/kconnect/kconnect/internal/testenv"
)

// NewS3Bucket creates a fresh bucket on the test S3 (testenv.S3Bucket) and returns the S3 sink keys
// that point at it: bucket, region, endpoint and credentials. The end-to-end tests use it too.
func NewS3Bucket(t testing.TB) map[string]string {
	t.Helper()
	endpoint, bucket := testenv.S3Bucket(t, "kc-sink-")
	return map[string]string{"s3.bucket.name": bucket, "s3.region": "us-east-1", "store.url": endpoint,
		"aws.access.key.id": "test", "aws.secret.access.key": "test"}
}

// clock is a settable time source for the tasks' rotation schedule.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// TestS3CrashAfterUploadBeforeOffsetCommit replays, on the test S3, a worker that dies after
// uploading files but before the consumer committed their offsets, while a file is half written
// (its multipart upload open), and whose scheduled rotation cut the files elsewhere than the
// replay's flush.size does. The replay starts from the last committed offset; the files the bucket
// holds afterwards must hold every record exactly once, for every partitioner.
func TestS3CrashAfterUploadBeforeOffsetCommit(t *testing.T) {
	base := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		props map[string]string
	}{
		{"default", nil},
		{"field", map[string]string{"partitioner.class": fieldPartitionerName, "partition.field.name": "region"}},
		{"daily", map[string]string{"partitioner.class": dailyPartitionerName, "timestamp.extractor": "Record", "locale": "en-US"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			props := NewS3Bucket(t)
			props["format.class"] = "io.confluent.connect.s3.format.json.JsonFormat"
			props["flush.size"] = "3"
			props["rotate.schedule.interval.ms"] = "60000"
			props["timezone"] = "UTC"
			for k, v := range tc.props {
				props[k] = v
			}
			tp := connect.TopicPartition{Topic: "orders", Partition: 0}
			clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			record := func(i int) connect.SinkRecord {
				return connect.SinkRecord{Record: connect.Record{Topic: "orders", Offset: int64(i),
					// Regions alternate and days change every second record, so the two runs'
					// different cuts give files of different first offsets in every partitioner.
					Value:     map[string]any{"id": int64(i), "region": []string{"eu", "us"}[i%2]},
					Timestamp: base.AddDate(0, 0, i/2)}}
			}
			start := func() *Task {
				task := &Task{v: s3Variant, now: clk.now}
				if err := task.Start(connecttest.New(t), props); err != nil {
					t.Fatal(err)
				}
				if err := task.Open(context.Background(), []connect.TopicPartition{tp}); err != nil {
					t.Fatal(err)
				}
				return task
			}

			crashed := start()
			for i := range 3 {
				put(t, crashed, record(i))
			}
			if off := preCommit(t, crashed); off[tp] != 3 {
				t.Fatalf("PreCommit = %v, want 3", off)
			}
			// The consumer commits offset 3. Records 3 and 4 rotate on the schedule, 5..7 on
			// flush.size, 8 stays in an open multipart upload: none of these offsets is committed.
			put(t, crashed, record(3), record(4))
			clk.add(2 * time.Minute)
			preCommit(t, crashed)
			for i := 5; i <= 8; i++ {
				put(t, crashed, record(i))
			}
			if n := len(crashed.tps[tp].files); n == 0 {
				t.Fatal("record 8 is not in an open file")
			}
			// The worker dies: nothing more of crashed runs, and its half-written file is not in
			// the bucket. The replay resumes at offset 3.
			listed, err := crashed.store.List(context.Background(), "topics")
			if err != nil {
				t.Fatal(err)
			}
			for _, fi := range listed {
				if start, _ := parseFileStart(path.Base(fi.Path), tp); start == 8 {
					t.Fatalf("half-written file %s is visible", fi.Path)
				}
			}
			replay := start()
			t.Cleanup(func() { _ = replay.Stop() })
			for i := 3; i <= 8; i++ {
				put(t, replay, record(i))
			}
			if off := preCommit(t, replay); off[tp] != 9 {
				t.Fatalf("PreCommit after the replay = %v, want 9", off)
			}

			seen := map[int64][]string{}
			files, err := replay.store.List(context.Background(), "topics")
			if err != nil {
				t.Fatal(err)
			}
			for _, fi := range files {
				for _, id := range readIDs(t, replay.store, fi.Path) {
					seen[id] = append(seen[id], fi.Path)
				}
			}
			for i := range int64(9) {
				if len(seen[i]) != 1 {
					t.Errorf("record %d is in %d files %v, want exactly one", i, len(seen[i]), seen[i])
				}
			}
			if len(seen) != 9 {
				t.Errorf("files hold ids %v, want 0..8", seen)
			}
		})
	}
}

// readIDs reads the ids of a JSON-lines file from the store.
func readIDs(t *testing.T, st backend.Store, path string) []int64 {
	t.Helper()
	r, err := st.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var ids []int64
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var v struct {
			ID int64 `json:"id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s: %q: %v", path, sc.Text(), err)
		}
		ids = append(ids, v.ID)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}
