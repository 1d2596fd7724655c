package storage_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
)

// base is the time of record 0; record i is stamped base + (i mod 3) days + i ms, so a load
// spreads over 1, 2 and 3 May 2024 (UTC).
var base = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)

func recordTime(i int) time.Time {
	return base.AddDate(0, 0, i%3).Add(time.Duration(i) * time.Millisecond)
}

var regions = []string{"eu", "us", "ap"}

// envelope is record i as the JsonConverter's schema-and-payload JSON: a versioned struct with a
// Decimal (7 × i cents), a Timestamp and a Date.
func envelope(i int) []byte {
	amount := big.NewInt(int64(7 * i)).Bytes()
	if len(amount) == 0 || amount[0]&0x80 != 0 {
		amount = append([]byte{0}, amount...)
	}
	ts := recordTime(i)
	days := ts.Unix() / 86400
	return fmt.Appendf(nil, `{"schema":{"type":"struct","name":"shop.Order","version":1,"optional":false,"fields":[`+
		`{"field":"id","type":"int64","optional":false},`+
		`{"field":"name","type":"string","optional":true},`+
		`{"field":"region","type":"string","optional":false},`+
		`{"field":"amount","type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}},`+
		`{"field":"ts","type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp","version":1},`+
		`{"field":"day","type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Date","version":1}]},`+
		`"payload":{"id":%d,"name":"name-%d","region":"%s","amount":"%s","ts":%d,"day":%d}}`,
		i, i, regions[i%3], base64.StdEncoding.EncodeToString(amount), ts.UnixMilli(), days)
}

// wantRow is record i as the external readers print it (dump.py): hand-derived from envelope.
func wantRow(i int) string {
	ts := recordTime(i)
	return fmt.Sprintf("id=%d name=name-%d region=%s amount=%d.%02d ts=%s day=%s", i, i, regions[i%3], 7*i/100, 7*i%100,
		ts.Format("2006-01-02T15:04:05.000Z"), ts.Format("2006-01-02"))
}

func rowString(r map[string]any) string {
	return fmt.Sprintf("id=%v name=%v region=%v amount=%v ts=%v day=%v", r["id"], r["name"], r["region"], r["amount"], r["ts"], r["day"])
}

// produce writes records 0..n-1 to a new topic with the given partitions, keyed by id.
func produce(t *testing.T, bootstrap, topic string, partitions int32, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...), kgo.DefaultProduceTopic(topic),
		kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
	var failed atomic.Pointer[error]
	for i := range n {
		cl.Produce(ctx, &kgo.Record{Key: []byte(strconv.Itoa(i)), Value: envelope(i)}, func(_ *kgo.Record, err error) {
			if err != nil {
				failed.CompareAndSwap(nil, &err)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := failed.Load(); err != nil {
		t.Fatalf("produce: %v", *err)
	}
}

// groupOffsets returns the sum of the consumer group's committed offsets on topic.
func groupOffsets(t testing.TB, bootstrap, group, topic string) int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offs, err := kadm.NewClient(cl).FetchOffsets(ctx, group)
	if err != nil {
		return -1
	}
	var sum int64
	offs.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic && o.Err == nil {
			sum += o.At
		}
	})
	return sum
}

func startWorker(t testing.TB) *workertest.Worker {
	t.Helper()
	dir := t.TempDir()
	props := workertest.WorkerProps(t, dir)
	props["value.converter.schemas.enable"] = "true"
	w := workertest.Start(t, dir, props)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("worker log:\n%s", w.Log())
		}
	})
	return w
}

func createConnector(t *testing.T, w *workertest.Worker, name string, config map[string]string) {
	t.Helper()
	code, body := w.Do("POST", "/connectors", map[string]any{"name": name, "config": config})
	if code != 201 {
		t.Fatalf("create connector: %d %s", code, body)
	}
}

func failIfTaskFailed(t *testing.T, w *workertest.Worker, name string) {
	t.Helper()
	st, ok := w.Status(name)
	if !ok {
		return
	}
	if st.Connector.State == "FAILED" {
		t.Fatalf("connector %s failed: %s", name, st.Connector.Trace)
	}
	for _, task := range st.Tasks {
		if task.State == "FAILED" {
			t.Fatalf("task %s-%d failed: %s", name, task.ID, task.Trace)
		}
	}
}

// committedFiles lists the committed files below dir/topics (temporary files excluded).
func committedFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(dir, "topics"), func(p string, d os.DirEntry, err error) error {
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "+tmp" {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// dumpFiles reads files with the external readers and returns each file's rows.
func dumpFiles(t *testing.T, paths []string) map[string][]map[string]any {
	t.Helper()
	out := map[string][]map[string]any{}
	for len(paths) > 0 {
		batch := paths[:min(len(paths), 200)]
		paths = paths[len(batch):]
		cmd := exec.Command(testenv.StoragePython(t), append([]string{"testdata/dump.py"}, batch...)...)
		res, err := cmd.Output()
		if err != nil {
			t.Fatalf("dump.py: %v", err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(res)), "\n") {
			var d struct {
				File string           `json:"file"`
				Rows []map[string]any `json:"rows"`
			}
			if err := json.Unmarshal([]byte(line), &d); err != nil {
				t.Fatal(err)
			}
			out[d.File] = d.Rows
		}
	}
	return out
}

// checkExactlyOnce fails unless rows hold every record 0..n-1 exactly once with its content.
func checkExactlyOnce(t *testing.T, rows []map[string]any, n int) {
	t.Helper()
	seen := make([]int, n)
	for _, r := range rows {
		id, ok := r["id"].(float64)
		if !ok || id < 0 || int(id) >= n {
			t.Fatalf("unexpected row %v", r)
		}
		seen[int(id)]++
		if got, want := rowString(r), wantRow(int(id)); got != want {
			t.Fatalf("row %s, want %s", got, want)
		}
	}
	var missing, dup []int
	for i, c := range seen {
		switch {
		case c == 0:
			missing = append(missing, i)
		case c > 1:
			dup = append(dup, i)
		}
	}
	if len(missing) > 0 || len(dup) > 0 {
		t.Fatalf("%d records missing (first %v), %d duplicated (first %v)", len(missing), missing[:min(5, len(missing))],
			len(dup), dup[:min(5, len(dup))])
	}
}

func waitCommitted(t *testing.T, w *workertest.Worker, name, topic string, n int) {
	t.Helper()
	w.WaitFor(3*time.Minute, "the consumer group to commit every record", func() bool {
		failIfTaskFailed(t, w, name)
		return groupOffsets(t, w.Bootstrap, "connect-"+name, topic) == int64(n)
	})
}

// load produces n records to a new topic of the given partitions, runs a sink with config (the
// URL key gets file://<out>; topics is set) in a fresh worker until the consumer group committed
// every record, and returns the output directory and the topic.
func load(t *testing.T, prefix string, partitions int32, n int, urlKey string, config map[string]string) (out, topic string) {
	t.Helper()
	w := startWorker(t)
	out = t.TempDir()
	topic = testenv.Topic(t, prefix)
	produce(t, w.Bootstrap, topic, partitions, n)
	name := prefix + "-" + topic[len(topic)-8:]
	config["topics"] = topic
	config[urlKey] = "file://" + out
	createConnector(t, w, name, config)
	waitCommitted(t, w, name, topic, n)
	return out, topic
}

// TestE2EAvroDefaultPartitioner runs Confluent's HDFS 3 sink class on a file:// URL: Avro files
// per Kafka partition, read back with fastavro.
func TestE2EAvroDefaultPartitioner(t *testing.T) {
	const n = 1000
	out, topic := load(t, "st-avro", 2, n, "store.url", map[string]string{
		"connector.class":             "io.confluent.connect.hdfs3.Hdfs3SinkConnector",
		"format.class":                "io.confluent.connect.hdfs3.avro.AvroFormat",
		"avro.codec":                  "snappy",
		"flush.size":                  "100",
		"rotate.schedule.interval.ms": "1000",
		"timezone":                    "UTC",
	})
	files := committedFiles(t, out)
	var rows []map[string]any
	for path, rs := range dumpFiles(t, files) {
		rel, _ := filepath.Rel(out, path)
		var part, start, end int
		if _, err := fmt.Sscanf(filepath.Base(rel), topic+"+%d+%010d+%010d.avro", &part, &start, &end); err != nil {
			t.Fatalf("file name %s: %v", rel, err)
		}
		if dir := fmt.Sprintf("topics/%s/partition=%d", topic, part); filepath.Dir(rel) != dir {
			t.Errorf("file %s not in %s", rel, dir)
		}
		if len(rs) != end-start+1 || len(rs) > 100 {
			t.Errorf("file %s holds %d rows, its name says %d (flush.size 100)", rel, len(rs), end-start+1)
		}
		rows = append(rows, rs...)
	}
	checkExactlyOnce(t, rows, n)
}

// TestE2EParquetDaily writes Parquet files in daily directories from a record field's time.
func TestE2EParquetDaily(t *testing.T) {
	const n = 900
	out, topic := load(t, "st-parquet", 1, n, "store.url", map[string]string{
		"connector.class":             "LocalStorageSink",
		"format.class":                "io.confluent.connect.s3.format.parquet.ParquetFormat",
		"parquet.codec":               "zstd",
		"partitioner.class":           "io.confluent.connect.storage.partitioner.DailyPartitioner",
		"locale":                      "en-US",
		"timezone":                    "UTC",
		"timestamp.extractor":         "RecordField",
		"timestamp.field":             "ts",
		"flush.size":                  "250",
		"rotate.schedule.interval.ms": "1000",
	})
	var rows []map[string]any
	for path, rs := range dumpFiles(t, committedFiles(t, out)) {
		dir, _ := filepath.Rel(out, filepath.Dir(path))
		for _, r := range rs {
			day, _ := time.Parse("2006-01-02T15:04:05.000Z", r["ts"].(string))
			if want := fmt.Sprintf("topics/%s/year=%d/month=%02d/day=%02d", topic, day.Year(), day.Month(), day.Day()); dir != want {
				t.Fatalf("row %v in %s, want %s", r, dir, want)
			}
		}
		rows = append(rows, rs...)
	}
	checkExactlyOnce(t, rows, n)
}

// TestE2EJSONField writes JSON lines in directories named by a field's value.
func TestE2EJSONField(t *testing.T) {
	const n = 600
	out, topic := load(t, "st-json", 1, n, "hdfs.url", map[string]string{
		"connector.class":             "io.confluent.connect.hdfs.HdfsSinkConnector",
		"format.class":                "io.confluent.connect.hdfs.json.JsonFormat",
		"partitioner.class":           "io.confluent.connect.storage.partitioner.FieldPartitioner",
		"partition.field.name":        "region",
		"flush.size":                  "50",
		"rotate.schedule.interval.ms": "1000",
		"timezone":                    "UTC",
	})
	seen := map[int]int{}
	for _, path := range committedFiles(t, out) {
		dir, _ := filepath.Rel(out, filepath.Dir(path))
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			var r struct {
				ID     int    `json:"id"`
				Region string `json:"region"`
				Name   string `json:"name"`
			}
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("%s: %q: %v", path, line, err)
			}
			if want := "topics/" + topic + "/region=" + regions[r.ID%3]; dir != want || r.Region != regions[r.ID%3] || r.Name != fmt.Sprintf("name-%d", r.ID) {
				t.Fatalf("record %+v in %s, want %s", r, dir, want)
			}
			seen[r.ID]++
		}
	}
	for i := range n {
		if seen[i] != 1 {
			t.Fatalf("record %d written %d times", i, seen[i])
		}
	}
}

// TestE2EKill9DuringLoad kills the worker with SIGKILL while it loads a topic into local Avro
// files (KCONNECT_STORAGE_KILLS times, 2 by default), restarting it each time: the committed
// files must hold every record exactly once, as fastavro counts them.
func TestE2EKill9DuringLoad(t *testing.T) {
	kills := 2
	if v := os.Getenv("KCONNECT_STORAGE_KILLS"); v != "" {
		var err error
		if kills, err = strconv.Atoi(v); err != nil {
			t.Fatalf("KCONNECT_STORAGE_KILLS=%q: %v", v, err)
		}
	}
	n := 20_000 * (kills + 1)
	w := startWorker(t)
	out := t.TempDir()
	topic := testenv.Topic(t, "st-kill")
	produce(t, w.Bootstrap, topic, 3, n)
	name := "kill-" + topic[len(topic)-8:]
	createConnector(t, w, name, map[string]string{
		"connector.class":                    "LocalStorageSink",
		"tasks.max":                          "2",
		"topics":                             topic,
		"store.url":                          "file://" + out,
		"format.class":                       "io.confluent.connect.hdfs3.avro.AvroFormat",
		"flush.size":                         "300",
		"rotate.schedule.interval.ms":        "1000",
		"timezone":                           "UTC",
		"consumer.override.max.poll.records": "100",
	})
	files := 0
	for k := range kills {
		w.WaitFor(3*time.Minute, "more committed files", func() bool {
			failIfTaskFailed(t, w, name)
			return len(committedFiles(t, out)) > files
		})
		// A random pause moves the kill away from the moment a commit finished.
		time.Sleep(time.Duration(rand.IntN(300)) * time.Millisecond)
		files = len(committedFiles(t, out))
		w.Kill9()
		t.Logf("kill %d with %d committed files", k+1, files)
		w.Restart()
	}
	waitCommitted(t, w, name, topic, n)
	var rows []map[string]any
	for _, rs := range dumpFiles(t, committedFiles(t, out)) {
		rows = append(rows, rs...)
	}
	checkExactlyOnce(t, rows, n)
	if err := w.Stop(); err != nil {
		t.Errorf("graceful stop: %v", err)
	}
}
