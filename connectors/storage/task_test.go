package storage

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connect/connecttest"
	"github.com/kconnect/kconnect/connectors/storage/backend"
	"github.com/kconnect/kconnect/connectors/storage/backend/local"
	"github.com/kconnect/kconnect/internal/testenv"
)

// startTask starts a local storage sink task on a fresh directory with the given settings on
// top of JSON files and flush.size 3, and opens partitions.
func startTask(t *testing.T, dir string, now func() time.Time, kv map[string]string, tps ...connect.TopicPartition) (*Task, *connecttest.Context) {
	t.Helper()
	props := map[string]string{
		"store.url":    "file://" + dir,
		"format.class": "io.confluent.connect.s3.format.json.JsonFormat",
		"flush.size":   "3",
	}
	for k, v := range kv {
		props[k] = v
	}
	ctx := connecttest.New(t)
	task := &Task{v: localVariant, now: now}
	if err := task.Start(ctx, props); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = task.Stop() })
	if err := task.Open(context.Background(), tps); err != nil {
		t.Fatal(err)
	}
	return task, ctx
}

func rec(topic string, partition int32, offset int64, schema *connect.Schema, value any) connect.SinkRecord {
	return connect.SinkRecord{Record: connect.Record{Topic: topic, Partition: partition, Offset: offset,
		ValueSchema: schema, Value: value, Timestamp: time.UnixMilli(1_700_000_000_000 + offset*1000)}}
}

// files lists the files below dir relative to it.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func put(t *testing.T, task *Task, recs ...connect.SinkRecord) {
	t.Helper()
	if err := task.Put(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
}

func preCommit(t *testing.T, task *Task) map[connect.TopicPartition]int64 {
	t.Helper()
	got, err := task.PreCommit(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestRotationByFlushSizeAndNames(t *testing.T) {
	dir := t.TempDir()
	tp := connect.TopicPartition{Topic: "orders", Partition: 2}
	task, _ := startTask(t, dir, time.Now, map[string]string{"filename.offset.zero.pad.width": "4"}, tp)
	for i := range 7 {
		put(t, task, rec("orders", 2, int64(10+i), nil, map[string]any{"n": int64(i)}))
	}
	want := []string{
		"topics/orders/partition=2/orders+2+0010+0012.json",
		"topics/orders/partition=2/orders+2+0013+0015.json",
	}
	got := files(t, dir)
	if len(got) != 3 || !reflect.DeepEqual(got[1:], want) || !strings.HasPrefix(got[0], "topics/+tmp/orders/2/") {
		t.Fatalf("files %v, want %v and one temporary file", got, want)
	}
	if c := readFile(t, filepath.Join(dir, want[1])); c != "{\"n\":3}\n{\"n\":4}\n{\"n\":5}\n" {
		t.Errorf("second file holds %q", c)
	}
	if off := preCommit(t, task); !reflect.DeepEqual(off, map[connect.TopicPartition]int64{tp: 16}) {
		t.Errorf("PreCommit = %v, want offset 16 (after the last committed file; offset 16 is in an open file)", off)
	}
}

func TestRecoveryFinishesLoggedCommitAndSeeks(t *testing.T) {
	dir := t.TempDir()
	tp := connect.TopicPartition{Topic: "t", Partition: 0}
	task, _ := startTask(t, dir, time.Now, nil, tp)
	put(t, task, rec("t", 0, 0, nil, "a"), rec("t", 0, 1, nil, "b"), rec("t", 0, 2, nil, "c"))
	// A crash after the log was written, before its renames: a complete log and its temp file.
	tmp := "topics/+tmp/t/0/dead_tmp.json"
	if err := os.WriteFile(filepath.Join(dir, tmp), []byte("\"d\"\n\"e\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	logDir := filepath.Join(dir, "logs/t/0")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	walText := "BEGIN\n{\"temp\":\"" + tmp + "\",\"final\":\"topics/t/partition=0/t+0+0000000003+0000000004.json\"}\nEND\n"
	if err := os.WriteFile(filepath.Join(logDir, "log"), []byte(walText), 0o644); err != nil {
		t.Fatal(err)
	}
	// And an abandoned temporary file of a commit that never logged.
	if err := os.WriteFile(filepath.Join(dir, "topics/+tmp/t/0/lost_tmp.json"), []byte("\"x\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = task.Stop()

	task2, ctx := startTask(t, dir, time.Now, nil, tp)
	if got := ctx.Seeks(); !reflect.DeepEqual(got, map[connect.TopicPartition]int64{tp: 5}) {
		t.Errorf("seeks %v, want t-0 at 5", got)
	}
	want := []string{"topics/t/partition=0/t+0+0000000000+0000000002.json", "topics/t/partition=0/t+0+0000000003+0000000004.json"}
	if got := files(t, dir); !reflect.DeepEqual(got, want) {
		t.Fatalf("files after recovery %v, want %v", got, want)
	}
	// Records before the seek took effect are skipped, the rest continue the partition.
	put(t, task2, rec("t", 0, 3, nil, "d"), rec("t", 0, 5, nil, "f"), rec("t", 0, 6, nil, "g"), rec("t", 0, 7, nil, "h"))
	if got := files(t, dir); len(got) != 3 || got[2] != "topics/t/partition=0/t+0+0000000005+0000000007.json" {
		t.Errorf("files %v", got)
	}

	// A log without END is discarded with its temporary files.
	_ = task2.Stop()
	tmp2 := "topics/+tmp/t/0/half_tmp.json"
	_ = os.WriteFile(filepath.Join(dir, tmp2), []byte("\"i\"\n"), 0o644)
	_ = os.WriteFile(filepath.Join(logDir, "log"), []byte("BEGIN\n{\"temp\":\""+tmp2+"\",\"final\":\"topics/t/partition=0/t+0+0000000008+0000000008.json\"}\n"), 0o644)
	_, ctx = startTask(t, dir, time.Now, nil, tp)
	if got := ctx.Seeks(); got[tp] != 8 {
		t.Errorf("seek %v, want 8", got)
	}
	if got := files(t, dir); len(got) != 3 {
		t.Errorf("files after discarding a half-written log: %v", got)
	}
}

func TestPartitioners(t *testing.T) {
	st := connect.StructBuilder().Name("r").Field("region", connect.StringSchema).Field("shard", connect.Int32Schema).
		Field("at", connect.TimestampSchema().MustBuild()).MustBuild()
	value := connect.NewStruct(st).Set("region", "eu").Set("shard", int32(7)).
		Set("at", time.Date(2024, 3, 10, 23, 30, 0, 0, time.UTC))
	for _, c := range []struct {
		name string
		kv   map[string]string
		want string
	}{
		{"field", map[string]string{"partitioner.class": fieldPartitionerName, "partition.field.name": "region,shard"},
			"topics/t/region=eu/shard=7/"},
		// 23:30 UTC on 10 March is 00:30 on 11 March in Berlin (UTC+1 in winter).
		{"daily-record-field", map[string]string{"partitioner.class": dailyPartitionerName, "locale": "en-US",
			"timezone": "Europe/Berlin", "timestamp.extractor": "RecordField", "timestamp.field": "at"},
			"topics/t/year=2024/month=03/day=11/"},
		// Record timestamp 1700000000000 + 0 s = 2023-11-14T22:13:20Z; 6-hour buckets in UTC start at 18:00.
		{"timebased-record", map[string]string{"partitioner.class": timePartitionerName, "locale": "en-US",
			"timezone": "UTC", "timestamp.extractor": "Record", "partition.duration.ms": "21600000",
			"path.format": "'dt'=YYYY-MM-dd/'h'=HH", "directory.delim": "/"},
			"topics/t/dt=2023-11-14/h=18/"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			c.kv["flush.size"] = "1"
			task, _ := startTask(t, dir, time.Now, c.kv, connect.TopicPartition{Topic: "t"})
			put(t, task, rec("t", 0, 0, st, value))
			got := files(t, dir)
			if len(got) != 1 || got[0] != c.want+"t+0+0000000000+0000000000.json" {
				t.Errorf("files %v, want one in %s", got, c.want)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		kv   map[string]string
		want string
	}{
		{map[string]string{"partitioner.class": fieldPartitionerName}, "partition.field.name"},
		{map[string]string{"partitioner.class": dailyPartitionerName, "locale": "en"}, "timezone"},
		{map[string]string{"partitioner.class": timePartitionerName, "locale": "en", "timezone": "UTC", "path.format": "YYYY"}, "partition.duration.ms"},
		{map[string]string{"partitioner.class": hourlyPartitionerName, "locale": "en", "timezone": "Mars/Base"}, "timezone"},
		{map[string]string{"format.class": "io.confluent.connect.s3.format.orc.OrcFormat"}, "format.class"},
		{map[string]string{"schema.compatibility": "SOMETIMES"}, "schema.compatibility"},
		{map[string]string{"flush.size": "0"}, "flush.size"},
		{map[string]string{"store.kafka.keys": "true"}, "store.kafka.keys"},
		{map[string]string{"partitioner.class": timePartitionerName, "locale": "de-DE", "timezone": "UTC",
			"partition.duration.ms": "1000", "path.format": "'m'=MMM"}, "locale"},
	} {
		props := map[string]string{"store.url": "file:///tmp/x", "format.class": "io.confluent.connect.s3.format.json.JsonFormat", "flush.size": "3"}
		for k, v := range c.kv {
			props[k] = v
		}
		_, err := localVariant.parse(props, time.Now)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one naming %s", c.kv, err, c.want)
		}
	}
}

func TestRotateSchedule(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2024, 1, 1, 10, 0, 20, 0, time.UTC)
	clock := func() time.Time { return now }
	tp := connect.TopicPartition{Topic: "t"}
	task, _ := startTask(t, dir, clock, map[string]string{"rotate.schedule.interval.ms": "60000", "flush.size": "100"}, tp)
	put(t, task, rec("t", 0, 0, nil, "a"))
	if off := preCommit(t, task); len(off) != 0 {
		t.Fatalf("committed %v before the schedule", off)
	}
	now = now.Add(40 * time.Second) // 10:01:00, the next minute boundary
	if off := preCommit(t, task); off[tp] != 1 {
		t.Fatalf("PreCommit at the boundary = %v, want the idle file committed (offset 1)", off)
	}
}

func TestRotateIntervalByRecordTime(t *testing.T) {
	dir := t.TempDir()
	tp := connect.TopicPartition{Topic: "t"}
	task, _ := startTask(t, dir, time.Now, map[string]string{"rotate.interval.ms": "2000", "flush.size": "100",
		"partitioner.class": hourlyPartitionerName, "locale": "en", "timezone": "UTC", "timestamp.extractor": "Record"}, tp)
	// rec() stamps offset n at base + n seconds: offsets 0-1 share a file, 2 starts the next.
	put(t, task, rec("t", 0, 0, nil, "a"), rec("t", 0, 1, nil, "b"), rec("t", 0, 2, nil, "c"))
	if off := preCommit(t, task); off[tp] != 2 {
		t.Fatalf("PreCommit = %v, want 2", off)
	}
}

// dumpRows reads Avro files with fastavro (testdata/dump.py) and returns their rows per file.
func dumpRows(t *testing.T, paths ...string) [][]map[string]any {
	t.Helper()
	py := testenv.StoragePython(t)
	out, err := exec.Command(py, append([]string{"testdata/dump.py"}, paths...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("dump.py: %v\n%s", err, out)
	}
	var all [][]map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var d struct {
			Rows []map[string]any `json:"rows"`
		}
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatalf("dump.py output %q: %v", line, err)
		}
		all = append(all, d.Rows)
	}
	return all
}

func TestSchemaCompatibility(t *testing.T) {
	v1 := connect.StructBuilder().Name("user").Version(1).Field("id", connect.Int32Schema).MustBuild()
	v2 := connect.StructBuilder().Name("user").Version(2).Field("id", connect.Int32Schema).
		Field("email", connect.NewSchemaBuilder(connect.TypeString).Optional().Default("none").MustBuild()).MustBuild()
	r1 := func(off int64, id int32) connect.SinkRecord {
		return rec("u", 0, off, v1, connect.NewStruct(v1).Set("id", id))
	}
	r2 := func(off int64, id int32, email string) connect.SinkRecord {
		return rec("u", 0, off, v2, connect.NewStruct(v2).Set("id", id).Set("email", email))
	}
	for _, c := range []struct {
		compat string
		want   [][]map[string]any // rows per committed file, in offset order
	}{
		// NONE: every change of schema starts a file.
		{"NONE", [][]map[string]any{{{"id": 1.0}}, {{"id": 2.0, "email": "b@x"}}, {{"id": 3.0}}}},
		// BACKWARD: the newer v2 starts a file; the older v1 record is projected onto v2, taking
		// the default of the field it lacks.
		{"BACKWARD", [][]map[string]any{{{"id": 1.0}}, {{"id": 2.0, "email": "b@x"}, {"id": 3.0, "email": "none"}}}},
		// FORWARD: v2 is projected onto the open v1 file (email dropped); v1 after it stays.
		{"FORWARD", [][]map[string]any{{{"id": 1.0}, {"id": 2.0}, {"id": 3.0}}}},
	} {
		t.Run(c.compat, func(t *testing.T) {
			dir := t.TempDir()
			tp := connect.TopicPartition{Topic: "u"}
			task, _ := startTask(t, dir, time.Now, map[string]string{"schema.compatibility": c.compat, "flush.size": "100",
				"format.class": "io.confluent.connect.hdfs3.avro.AvroFormat"}, tp)
			put(t, task, r1(0, 1), r2(1, 2, "b@x"), r1(2, 3))
			// Commit the last open file as a rotation would.
			if err := task.tps[tp].commit(context.Background()); err != nil {
				t.Fatal(err)
			}
			var paths []string
			for _, f := range files(t, dir) {
				paths = append(paths, filepath.Join(dir, f))
			}
			if got := dumpRows(t, paths...); !reflect.DeepEqual(got, c.want) {
				t.Errorf("rows per file %v, want %v", got, c.want)
			}
		})
	}
	dir := t.TempDir()
	task, _ := startTask(t, dir, time.Now, map[string]string{"schema.compatibility": "BACKWARD"}, connect.TopicPartition{Topic: "u"})
	unversioned := connect.StructBuilder().Field("id", connect.Int32Schema).MustBuild()
	err := task.Put(context.Background(), []connect.SinkRecord{r1(0, 1), rec("u", 0, 1, unversioned, connect.NewStruct(unversioned).Set("id", int32(2)))})
	if err == nil || !strings.Contains(err.Error(), "schema version required") {
		t.Errorf("unversioned schema under BACKWARD: %v", err)
	}
}

// nonAtomicStore is the local store with AtomicRename turned off, so the core takes the path it
// takes on S3: every file written once under its final name.
type nonAtomicStore struct{ *local.Store }

func (nonAtomicStore) Capabilities() backend.Capabilities { return backend.Capabilities{} }

func init() {
	backend.Register("test-nonatomic", func(_ context.Context, rawURL string, _ map[string]string) (backend.Store, error) {
		s, err := local.New(strings.TrimPrefix(rawURL, "test-nonatomic://"))
		return nonAtomicStore{s}, err
	})
}

func TestWithoutAtomicRenameNamesAreDeterministic(t *testing.T) {
	dir := t.TempDir()
	tp := connect.TopicPartition{Topic: "s", Partition: 1}
	start := func() *Task {
		task := &Task{v: localVariant, now: time.Now}
		if err := task.Start(connecttest.New(t), map[string]string{"store.url": "test-nonatomic://" + dir,
			"format.class": "io.confluent.connect.s3.format.json.JsonFormat", "flush.size": "3"}); err != nil {
			t.Fatal(err)
		}
		if err := task.Open(context.Background(), []connect.TopicPartition{tp}); err != nil {
			t.Fatal(err)
		}
		return task
	}
	task := start()
	for i := range 7 {
		put(t, task, rec("s", 1, int64(i), nil, int64(i)))
	}
	if off := preCommit(t, task); off[tp] != 6 {
		t.Fatalf("PreCommit = %v, want 6", off)
	}
	_ = task.Stop()
	want := []string{"topics/s/partition=1/s+1+0000000000.json", "topics/s/partition=1/s+1+0000000003.json"}
	if got := files(t, dir); !reflect.DeepEqual(got, want) {
		t.Fatalf("files %v, want %v (the open file of offset 6 aborted)", got, want)
	}
	// A crash before the consumer committed offset 6: the group resumes at 3 and the task writes
	// the same file again, replacing it.
	task = start()
	for i := 3; i < 6; i++ {
		put(t, task, rec("s", 1, int64(i), nil, int64(i)))
	}
	if got := files(t, dir); !reflect.DeepEqual(got, want) {
		t.Fatalf("files after the replay %v, want %v", got, want)
	}
	if c := readFile(t, filepath.Join(dir, want[1])); c != "3\n4\n5\n" {
		t.Errorf("replayed file holds %q", c)
	}
}

func TestValidateReportsWholeConfigErrors(t *testing.T) {
	c := &Connector{v: localVariant}
	props := map[string]string{"store.url": "file:///tmp/x", "format.class": "io.confluent.connect.s3.format.json.JsonFormat",
		"flush.size": "3", "partitioner.class": fieldPartitionerName}
	values := c.Validate(context.Background(), props, c.ConfigDef().Validate(props))
	for _, v := range values {
		if v.Name == partitionFieldNameConfig {
			if len(v.Errors) != 1 || !strings.Contains(v.Errors[0], "at least one field") {
				t.Errorf("partition.field.name errors %v", v.Errors)
			}
			return
		}
	}
	t.Fatal("no partition.field.name in the validation result")
}

// commitSignal is a task context that reports RequestCommit calls on a channel.
type commitSignal struct {
	*connecttest.Context
	requested chan struct{}
}

func (c commitSignal) RequestCommit() {
	select {
	case c.requested <- struct{}{}:
	default:
	}
}

func TestRotateScheduleRequestsCommitWhenIdle(t *testing.T) {
	dir := t.TempDir()
	tp := connect.TopicPartition{Topic: "t"}
	ctx := commitSignal{Context: connecttest.New(t), requested: make(chan struct{}, 1)}
	task := &Task{v: localVariant}
	if err := task.Start(ctx, map[string]string{"store.url": "file://" + dir, "flush.size": "100",
		"format.class": "io.confluent.connect.s3.format.json.JsonFormat", "rotate.schedule.interval.ms": "200"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = task.Stop() })
	if err := task.Open(context.Background(), []connect.TopicPartition{tp}); err != nil {
		t.Fatal(err)
	}
	put(t, task, rec("t", 0, 0, nil, "a"))
	select {
	case <-ctx.requested:
	case <-time.After(30 * time.Second):
		t.Fatal("no commit requested for the scheduled rotation of an idle file")
	}
	if off := preCommit(t, task); off[tp] != 1 {
		t.Fatalf("PreCommit after the requested commit = %v, want offset 1", off)
	}
}
