package file

import (
	"context"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connect/connecttest"
)

func startSink(t *testing.T, path string) *SinkTask {
	t.Helper()
	task := &SinkTask{}
	props := map[string]string{fileConfig: path, "topics": "a,b", "topics.regex": ""}
	if err := task.Start(connecttest.New(t), props); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { task.Stop() })
	return task
}

func sinkRecords(tp connect.TopicPartition, first int64, vals ...any) []connect.SinkRecord {
	out := make([]connect.SinkRecord, len(vals))
	for i, v := range vals {
		out[i] = connect.SinkRecord{Record: connect.Record{Topic: tp.Topic, Partition: tp.Partition, Offset: first + int64(i), ValueSchema: connect.OptionalStringSchema, Value: v}}
	}
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

func TestSinkWritesLinesAndPreCommitMakesThemDurable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.txt")
	// Append mode: what the file held before stays.
	if err := os.WriteFile(path, []byte("existing\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	task := startSink(t, path)
	tp := connect.TopicPartition{Topic: "a", Partition: 2}
	if err := task.Put(context.Background(), sinkRecords(tp, 10, "hello", nil, "with\ttab")); err != nil {
		t.Fatal(err)
	}
	if err := task.Put(context.Background(), sinkRecords(tp, 13, int64(42), "")); err != nil {
		t.Fatal(err)
	}
	current := map[connect.TopicPartition]int64{tp: 15}
	got, err := task.PreCommit(context.Background(), current)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[tp] != 15 {
		t.Fatalf("PreCommit returned %v, want %v", got, current)
	}
	// Read through a separate handle while the task still has the file open.
	want := "existing\nhello\nnull\nwith\ttab\n42\n\n"
	if s := readFile(t, path); s != want {
		t.Fatalf("file holds %q, want %q", s, want)
	}
}

func TestSinkLargeBatchesWholeLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.txt")
	task := startSink(t, path)
	tp := connect.TopicPartition{Topic: "a"}
	var want strings.Builder
	var vals []any
	for i := range 5000 {
		v := strings.Repeat(string(rune('a'+i%26)), i%300)
		vals = append(vals, v)
		want.WriteString(v + "\n")
	}
	big := strings.Repeat("B", 5*writeThreshold)
	vals = append(vals, big)
	want.WriteString(big + "\n")
	if err := task.Put(context.Background(), sinkRecords(tp, 0, vals...)); err != nil {
		t.Fatal(err)
	}
	if _, err := task.PreCommit(context.Background(), map[connect.TopicPartition]int64{tp: int64(len(vals))}); err != nil {
		t.Fatal(err)
	}
	if s := readFile(t, path); s != want.String() {
		t.Fatalf("file holds %d bytes, want %d", len(s), want.Len())
	}
}

func TestSinkStopFlushes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.txt")
	task := startSink(t, path)
	if err := task.Put(context.Background(), sinkRecords(connect.TopicPartition{Topic: "a"}, 0, "last words")); err != nil {
		t.Fatal(err)
	}
	if err := task.Stop(); err != nil {
		t.Fatal(err)
	}
	if s := readFile(t, path); s != "last words\n" {
		t.Fatalf("file holds %q", s)
	}
}

func TestSinkOpenError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no-such-dir", "out.txt")
	err := (&SinkTask{}).Start(connecttest.New(t), map[string]string{fileConfig: path})
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Start: %v, want an error naming %s", err, path)
	}
}

func TestSinkConnectorTaskConfigs(t *testing.T) {
	c := &SinkConnector{}
	props := map[string]string{fileConfig: "/tmp/out", "topics": "a"}
	if err := c.Start(nopConnectorContext{t}, props); err != nil {
		t.Fatal(err)
	}
	cfgs, err := c.TaskConfigs(3)
	if err != nil || len(cfgs) != 3 {
		t.Fatalf("TaskConfigs(3) = %v, %v", cfgs, err)
	}
	for _, cfg := range cfgs {
		if cfg[fileConfig] != "/tmp/out" || cfg["topics"] != "a" {
			t.Errorf("task config %v lost keys", cfg)
		}
	}
}

// TestAppendJava checks values against Java's toString output, taken from the JDK documentation
// (Double.toString, BigDecimal.toString, AbstractCollection/AbstractMap.toString, Date.toString)
// and Connect's Struct.toString.
func TestAppendJava(t *testing.T) {
	oldLocal := time.Local
	time.Local = time.UTC
	t.Cleanup(func() { time.Local = oldLocal })

	schema := connect.StructBuilder().
		Field("a", connect.Int32Schema).
		Field("b", connect.OptionalStringSchema).
		Field("c", connect.OptionalStringSchema).
		MustBuild()
	st := connect.NewStruct(schema).Set("a", int32(1)).Set("c", "x")

	dec := func(unscaled int64, scale int32) connect.Decimal {
		return connect.Decimal{Unscaled: big.NewInt(unscaled), Scale: scale}
	}
	tenth := 0.1 // a variable, so that 0.1+0.2 is computed in float64 rather than exactly
	cases := []struct {
		in   any
		want string
	}{
		{nil, "null"},
		{"text", "text"},
		{true, "true"},
		{int8(-8), "-8"},
		{int16(300), "300"},
		{int32(-70000), "-70000"},
		{int64(math.MaxInt64), "9223372036854775807"},
		{1.0, "1.0"},
		{100.0, "100.0"},
		{-2.5, "-2.5"},
		{0.001, "0.001"},
		{0.0001, "1.0E-4"},
		{1234567.0, "1234567.0"},
		{1e7, "1.0E7"},
		{123456789.0, "1.23456789E8"},
		{tenth + 2*tenth, "0.30000000000000004"},
		{1.5e-10, "1.5E-10"},
		{math.Copysign(0, -1), "-0.0"},
		{math.NaN(), "NaN"},
		{math.Inf(1), "Infinity"},
		{math.Inf(-1), "-Infinity"},
		{float32(0.1), "0.1"},
		{float32(1e10), "1.0E10"},
		{float32(3.4028235e38), "3.4028235E38"},
		// BigDecimal.toString examples from its Javadoc.
		{dec(123, 0), "123"},
		{dec(-123, 0), "-123"},
		{dec(123, -1), "1.23E+3"},
		{dec(123, 3), "0.123"},
		{dec(123, 10), "1.23E-8"},
		{dec(-123, 12), "-1.23E-10"},
		{dec(5, -9), "5E+9"},
		{dec(-5, 7), "-5E-7"},
		{dec(-5, 6), "-0.000005"},
		{time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), "Tue Jan 02 03:04:05 UTC 2024"},
		{st, "Struct{a=1,c=x}"},
		{[]any{int32(1), "two", nil, []any{}}, "[1, two, null, []]"},
		{map[string]any{"b": 2.0, "a": int64(1)}, "{a=1, b=2.0}"},
		{map[any]any{int32(2): "y", int32(1): "x"}, "{1=x, 2=y}"},
		{[]byte("raw"), "raw"},
	}
	for _, c := range cases {
		if got := string(appendJava(nil, c.in)); got != c.want {
			t.Errorf("appendJava(%#v) = %q, want %q", c.in, got, c.want)
		}
	}
}
