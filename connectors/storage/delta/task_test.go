package delta

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connect/connecttest"
	"github.com/kconnect/kconnect/internal/testenv"
)

// deltaTable is a table as delta-rs reads it (testdata/read_delta.py).
type deltaTable struct {
	Version    int64             `json:"version"`
	Rows       []map[string]any  `json:"rows"`
	History    []map[string]any  `json:"history"`
	Files      int               `json:"files"`
	Schema     map[string]string `json:"schema"`
	Partitions []string          `json:"partitions"`
}

// readDelta reads the table at dir with delta-rs, at version v (-1: the latest).
func readDelta(t testing.TB, uri string, v int64) deltaTable {
	t.Helper()
	args := []string{"testdata/read_delta.py", uri}
	if v >= 0 {
		args = append(args, fmt.Sprint(v))
	}
	cmd := exec.Command(testenv.StoragePython(t), args...)
	cmd.Env = append(os.Environ(), "PYTHONWARNINGS=ignore")
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("read_delta.py %s: %v\n%s", uri, err, msg)
	}
	var d deltaTable
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatalf("read_delta.py output %q: %v", out, err)
	}
	return d
}

var orderSchema = connect.StructBuilder().Name("shop.Order").
	Field("id", connect.Int64Schema).
	Field("name", connect.OptionalStringSchema).
	Field("region", connect.StringSchema).
	Field("amount", connect.DecimalSchema(2).MustBuild()).
	Field("ts", connect.TimestampSchema().MustBuild()).
	Field("day", connect.DateSchema().MustBuild()).
	MustBuild()

var base = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
var regions = []string{"eu", "us", "ap"}

// order is record i: 7 × i cents, stamped base + (i mod 3) days + i ms.
func order(i int) *connect.Struct {
	ts := base.AddDate(0, 0, i%3).Add(time.Duration(i) * time.Millisecond)
	var name any = fmt.Sprintf("name-%d", i)
	if i%10 == 9 {
		name = nil
	}
	return connect.NewStructValues(orderSchema, []any{int64(i), name, regions[i%3],
		connect.Decimal{Unscaled: big.NewInt(int64(7 * i)), Scale: 2}, ts, ts.Truncate(24 * time.Hour)})
}

// wantOrder is order(i) as read_delta.py prints it, derived by hand.
func wantOrder(i int) string {
	ts := base.AddDate(0, 0, i%3).Add(time.Duration(i) * time.Millisecond)
	name := fmt.Sprintf("name-%d", i)
	if i%10 == 9 {
		name = "<nil>"
	}
	return fmt.Sprintf("id=%d name=%s region=%s amount=%d.%02d ts=%s day=%s", i, name, regions[i%3], 7*i/100, 7*i%100,
		ts.Format("2006-01-02T15:04:05.000Z"), ts.Format("2006-01-02"))
}

func orderRow(r map[string]any) string {
	name := r["name"]
	if name == nil {
		name = "<nil>"
	}
	return fmt.Sprintf("id=%v name=%v region=%v amount=%v ts=%v day=%v", r["id"], name, r["region"], r["amount"], r["ts"], r["day"])
}

func startTask(t *testing.T, props map[string]string, tps ...connect.TopicPartition) (*Task, *connecttest.Context) {
	t.Helper()
	ctx := connecttest.New(t)
	ctx.Name = "delta-test"
	task := &Task{}
	if err := task.Start(ctx, props); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = task.Stop() })
	if err := task.Open(context.Background(), tps); err != nil {
		t.Fatal(err)
	}
	return task, ctx
}

func put(t *testing.T, task *Task, recs ...connect.SinkRecord) {
	t.Helper()
	if err := task.Put(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	if _, err := task.PreCommit(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
}

func checkRows(t *testing.T, rows []map[string]any, ids []int) {
	t.Helper()
	var got, want []string
	for _, r := range rows {
		got = append(got, orderRow(r))
	}
	for _, i := range ids {
		want = append(want, wantOrder(i))
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// orders are records lo..hi-1 of partition p, at offsets lo..hi-1.
func orders(p int32, lo, hi int) []connect.SinkRecord {
	var out []connect.SinkRecord
	for i := lo; i < hi; i++ {
		out = append(out, connect.SinkRecord{Record: connect.Record{Topic: "orders", Partition: p, Offset: int64(i), ValueSchema: orderSchema, Value: order(i)}})
	}
	return out
}

func ids(lo, hi int) []int {
	var out []int
	for i := lo; i < hi; i++ {
		out = append(out, i)
	}
	return out
}

// TestAppendPartitionedCheckpointed appends three commits to a table partitioned by region
// with a checkpoint every two commits: delta-rs reads every row at each version, the history,
// and a restarted task resumes after the last committed offset.
func TestAppendPartitionedCheckpointed(t *testing.T) {
	dir := t.TempDir()
	props := map[string]string{tablePathConfig: "file://" + dir, partitionByConfig: "region", checkpointIntervalConfig: "2"}
	tp := connect.TopicPartition{Topic: "orders", Partition: 3}
	task, _ := startTask(t, props, tp)
	for c := range 3 {
		var recs []connect.SinkRecord
		for i := c * 100; i < (c+1)*100; i++ {
			recs = append(recs, connect.SinkRecord{Record: connect.Record{Topic: tp.Topic, Partition: tp.Partition, Offset: int64(1000 + i), ValueSchema: orderSchema, Value: order(i)}})
		}
		put(t, task, recs...)
	}
	if _, err := os.Stat(filepath.Join(dir, "_delta_log", "00000000000000000002.checkpoint.parquet")); err != nil {
		t.Fatalf("checkpoint: %v", err)
	}
	d := readDelta(t, "file://"+dir, -1)
	if d.Version != 2 || len(d.History) != 3 || strings.Join(d.Partitions, ",") != "region" {
		t.Fatalf("version %d, history %v, partitions %v", d.Version, d.History, d.Partitions)
	}
	checkRows(t, d.Rows, ids(0, 300))
	if d.Files != 9 {
		t.Errorf("%d files, want 3 commits × 3 regions", d.Files)
	}
	checkRows(t, readDelta(t, "file://"+dir, 0).Rows, ids(0, 100))
	checkRows(t, readDelta(t, "file://"+dir, 1).Rows, ids(0, 200))
	if err := task.Stop(); err != nil {
		t.Fatal(err)
	}
	_, ctx := startTask(t, props, tp, connect.TopicPartition{Topic: "orders", Partition: 4})
	if got := ctx.Seeks(); len(got) != 1 || got[tp] != 1300 {
		t.Fatalf("seeks after restart %v, want %s at 1300", got, tp)
	}
}

var keySchema = connect.StructBuilder().Name("shop.OrderKey").Field("id", connect.Int64Schema).MustBuild()

func keyed(i int, value *connect.Struct, offset int64) connect.SinkRecord {
	var v any
	var vs *connect.Schema
	if value != nil {
		v, vs = value, value.Schema()
	}
	return connect.SinkRecord{Record: connect.Record{Topic: "orders", Partition: 0, Offset: offset, KeySchema: keySchema,
		Key: connect.NewStructValues(keySchema, []any{int64(i)}), ValueSchema: vs, Value: v}}
}

// TestUpsertKeyedRecords merges keyed records: updates replace rows, tombstones delete them,
// rows of untouched keys survive their files' rewrites, and records with a new optional field
// add a column under schema.evolution=add.
func TestUpsertKeyedRecords(t *testing.T) {
	dir := t.TempDir()
	task, _ := startTask(t, map[string]string{tablePathConfig: "file://" + dir, modeConfig: modeUpsert, schemaEvolutionConfig: "add"},
		connect.TopicPartition{Topic: "orders", Partition: 0})
	var off int64
	next := func() int64 { off++; return off }
	var recs []connect.SinkRecord
	for i := range 50 {
		recs = append(recs, keyed(i, order(i), next()))
	}
	put(t, task, recs...)
	// Ids 10..19 become orders 110..119 under their old id; 20..24 are deleted; 30 is updated
	// twice in one batch, the last wins.
	recs = nil
	for i := 10; i < 20; i++ {
		o := order(i + 100)
		o.SetAt(0, int64(i))
		recs = append(recs, keyed(i, o, next()))
	}
	for i := 20; i < 25; i++ {
		recs = append(recs, keyed(i, nil, next()))
	}
	o := order(31)
	o.SetAt(0, int64(30))
	recs = append(recs, keyed(30, order(30), next()), keyed(30, o, next()))
	put(t, task, recs...)

	d := readDelta(t, "file://"+dir, -1)
	want := map[int64]string{}
	for i := range 50 {
		want[int64(i)] = wantOrder(i)
	}
	for i := 10; i < 20; i++ {
		want[int64(i)] = strings.Replace(wantOrder(i+100), fmt.Sprintf("id=%d ", i+100), fmt.Sprintf("id=%d ", i), 1)
	}
	for i := 20; i < 25; i++ {
		delete(want, int64(i))
	}
	want[30] = strings.Replace(wantOrder(31), "id=31 ", "id=30 ", 1)
	got := map[int64]string{}
	for _, r := range d.Rows {
		id := int64(r["id"].(float64))
		if _, dup := got[id]; dup {
			t.Fatalf("id %d twice", id)
		}
		got[id] = orderRow(r)
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("id %d: %q, want %q", id, got[id], w)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}

	// A new optional column.
	wider := connect.StructBuilder().Name("shop.Order").Field("id", connect.Int64Schema).Field("name", connect.OptionalStringSchema).
		Field("region", connect.StringSchema).Field("amount", connect.DecimalSchema(2).MustBuild()).Field("ts", connect.TimestampSchema().MustBuild()).
		Field("day", connect.DateSchema().MustBuild()).Field("note", connect.OptionalStringSchema).MustBuild()
	w := connect.NewStructValues(wider, append(order(5).RawValues()[:6:6], "noted"))
	put(t, task, keyed(5, w, next()))
	d = readDelta(t, "file://"+dir, -1)
	if d.Schema["note"] != "string" {
		t.Fatalf("schema %v has no note column", d.Schema)
	}
	notes := 0
	for _, r := range d.Rows {
		if r["note"] != nil {
			notes++
			if r["note"] != "noted" || r["id"].(float64) != 5 {
				t.Errorf("row %v", r)
			}
		}
	}
	if notes != 1 || len(d.Rows) != len(want) {
		t.Fatalf("%d notes, %d rows; want 1 and %d", notes, len(d.Rows), len(want))
	}
	if v1 := readDelta(t, "file://"+dir, 0); len(v1.Rows) != 50 {
		t.Fatalf("version 0 has %d rows", len(v1.Rows))
	}
}

// TestConcurrentWritersRetryOnTop has two tasks of one connector append to a new table, the
// second committing after the first took the versions it expected: its put-if-absent commit
// fails, it reads the winner's commit and commits on top, without a second metaData.
func TestConcurrentWritersRetryOnTop(t *testing.T) {
	dir := t.TempDir()
	props := map[string]string{tablePathConfig: "file://" + dir}
	a, _ := startTask(t, props, connect.TopicPartition{Topic: "orders", Partition: 0})
	b, _ := startTask(t, props, connect.TopicPartition{Topic: "orders", Partition: 1})
	if err := b.Put(context.Background(), orders(1, 100, 150)); err != nil {
		t.Fatal(err)
	}
	put(t, a, orders(0, 0, 50)...)
	put(t, a, orders(0, 50, 100)...)
	put(t, b, orders(1, 150, 200)...)
	d := readDelta(t, "file://"+dir, -1)
	if d.Version != 2 {
		t.Fatalf("version %d, want 2", d.Version)
	}
	checkRows(t, d.Rows, ids(0, 200))
	log, err := os.ReadFile(filepath.Join(dir, "_delta_log", "00000000000000000002.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(log), `"metaData"`) || !strings.Contains(string(log), `"appId":"delta-test-orders-1","version":199`) {
		t.Fatalf("commit 2:\n%s", log)
	}
	// A restarted task of the second writer resumes after its commit.
	_, ctx := startTask(t, props, connect.TopicPartition{Topic: "orders", Partition: 1})
	if got := ctx.Seeks()[connect.TopicPartition{Topic: "orders", Partition: 1}]; got != 200 {
		t.Fatalf("seek %d, want 200", got)
	}
}

// TestOptimizeBinPacks commits ten small files with a target file size far above them: once
// eight have gathered, an OPTIMIZE commit packs them into one, and delta-rs reads every row
// from the fewer files, and the rows of a version before the packing too.
func TestOptimizeBinPacks(t *testing.T) {
	dir := t.TempDir()
	task, _ := startTask(t, map[string]string{tablePathConfig: "file://" + dir, optimizeTargetConfig: "1048576"},
		connect.TopicPartition{Topic: "orders"})
	for c := range 10 {
		put(t, task, orders(0, c*20, (c+1)*20)...)
	}
	d := readDelta(t, "file://"+dir, -1)
	checkRows(t, d.Rows, ids(0, 200))
	// Versions 0..7 add a file each, 8 packs them, 9 and 10 add one each.
	if d.Version != 10 || d.Files != 3 {
		t.Fatalf("version %d with %d files, want 10 with 3", d.Version, d.Files)
	}
	ops := map[float64]any{}
	for _, h := range d.History {
		ops[h["version"].(float64)] = h["operation"]
	}
	if ops[8] != "OPTIMIZE" || ops[7] != "WRITE" {
		t.Fatalf("history %v", d.History)
	}
	checkRows(t, readDelta(t, "file://"+dir, 7).Rows, ids(0, 160))
}

// TestLogRetention keeps no commit older than the newest checkpoint: after five commits with a
// checkpoint every two, only checkpoint 4 and the commits from 4 remain, and delta-rs and a
// restarted task read the table from the checkpoint.
func TestLogRetention(t *testing.T) {
	dir := t.TempDir()
	props := map[string]string{tablePathConfig: "file://" + dir, checkpointIntervalConfig: "2", logRetentionConfig: "0"}
	tp := connect.TopicPartition{Topic: "orders"}
	task, _ := startTask(t, props, tp)
	for c := range 5 {
		put(t, task, orders(0, c*20, (c+1)*20)...)
	}
	m, err := filepath.Glob(filepath.Join(dir, "_delta_log", "0*"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range m {
		names = append(names, filepath.Base(p))
	}
	if got, want := strings.Join(names, " "), "00000000000000000004.checkpoint.parquet 00000000000000000004.json"; got != want {
		t.Fatalf("log holds %s, want %s", got, want)
	}
	d := readDelta(t, "file://"+dir, -1)
	if d.Version != 4 {
		t.Fatalf("version %d", d.Version)
	}
	checkRows(t, d.Rows, ids(0, 100))
	_, ctx := startTask(t, props, tp)
	if got := ctx.Seeks()[tp]; got != 100 {
		t.Fatalf("seek %d, want 100", got)
	}
}

// TestConfigErrorsNameTheKey checks that each invalid setting fails with its key in the error.
func TestConfigErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct {
		props map[string]string
		key   string
	}{
		{map[string]string{}, tablePathConfig},
		{map[string]string{tablePathConfig: "file:///tmp/x", modeConfig: "merge"}, modeConfig},
		{map[string]string{tablePathConfig: "file:///tmp/x", keyColumnsConfig: "id"}, keyColumnsConfig},
		{map[string]string{tablePathConfig: "file:///tmp/x", modeConfig: modeUpsert, keyColumnsConfig: "id", partitionByConfig: "id"}, keyColumnsConfig},
		{map[string]string{tablePathConfig: "file:///tmp/x", schemaEvolutionConfig: "merge"}, schemaEvolutionConfig},
		{map[string]string{tablePathConfig: "file:///tmp/x", checkpointIntervalConfig: "0"}, checkpointIntervalConfig},
		{map[string]string{tablePathConfig: "file:///tmp/x", parquetCodecConfig: "brotli"}, parquetCodecConfig},
	} {
		_, err := parseConfig(tc.props)
		if err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%v: error %v, want one naming %s", tc.props, err, tc.key)
		}
	}
}

// TestSchemaEvolutionNeedsAdd fails a record adding a column to the table unless
// schema.evolution=add, naming the setting.
func TestSchemaEvolutionNeedsAdd(t *testing.T) {
	task, _ := startTask(t, map[string]string{tablePathConfig: "file://" + t.TempDir()}, connect.TopicPartition{Topic: "orders"})
	put(t, task, orders(0, 0, 5)...)
	wider := connect.StructBuilder().Name("shop.Order").Field("id", connect.Int64Schema).Field("region", connect.StringSchema).
		Field("amount", connect.DecimalSchema(2).MustBuild()).Field("ts", connect.TimestampSchema().MustBuild()).
		Field("day", connect.DateSchema().MustBuild()).Field("extra", connect.OptionalStringSchema).MustBuild()
	o := order(5)
	err := task.Put(context.Background(), []connect.SinkRecord{{Record: connect.Record{Topic: "orders", Offset: 5, ValueSchema: wider,
		Value: connect.NewStructValues(wider, []any{int64(5), "eu", o.Get("amount"), o.Get("ts"), o.Get("day"), "x"})}}})
	if err == nil || !strings.Contains(err.Error(), schemaEvolutionConfig) {
		t.Fatalf("error %v, want one naming %s", err, schemaEvolutionConfig)
	}
	// A record without a required column of the table is refused whatever schema.evolution says.
	narrow := connect.StructBuilder().Name("shop.Order").Field("id", connect.Int64Schema).MustBuild()
	err = task.Put(context.Background(), []connect.SinkRecord{{Record: connect.Record{Topic: "orders", Offset: 5, ValueSchema: narrow,
		Value: connect.NewStructValues(narrow, []any{int64(5)})}}})
	if err == nil || !strings.Contains(err.Error(), "non-nullable column region") {
		t.Fatalf("error %v, want one about the missing column", err)
	}
}
