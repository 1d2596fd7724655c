package offsets

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/javaser"
	"github.com/kconnect/kconnect/internal/testenv"
)

// copyFixture copies a file Kafka Connect's FileOffsetBackingStore wrote (testdata/kafkaconnect,
// see Gen.java there) to a temporary path.
func copyFixture(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "kafkaconnect", name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "connect.offsets")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadsKafkaConnectFile(t *testing.T) {
	s, err := OpenFile(copyFixture(t, "many.offsets"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Get("jdbc", map[string]any{"table": "public.a", "protocol": "1"})
	if err != nil {
		t.Fatal(err)
	}
	if got["incrementing"] != int64(1)<<60 || got["timestamp_nanos"] != int64(5) {
		t.Errorf("jdbc offset = %#v", got)
	}
	if got, _ := s.Get("naïve ☃", map[string]any{"filename": "/tmp/ünïcode.txt"}); got["position"] != int64(7) {
		t.Errorf("non-ASCII connector offset = %#v", got)
	}
	if got, _ := s.Get("pg", map[string]any{"server": "inventory"}); got["lsn"] != int64(24023128) || got["snapshot"] != true {
		t.Errorf("pg offset = %#v", got)
	}
	// Kafka Connect keeps a deleted partition as a null value; it is no offset.
	list, err := s.List("jdbc")
	if err != nil || len(list) != 1 {
		t.Fatalf("List(jdbc) = %v, %v; want only public.a", list, err)
	}
}

// TestKafkaConnectReadsWhatKconnectWrote takes a file from Kafka Connect through kconnect and
// back: Kafka Connect's own reader must find every offset kconnect kept, changed or added.
func TestKafkaConnectReadsWhatKconnectWrote(t *testing.T) {
	classpath := testenv.JavaClients(t)
	path := copyFixture(t, "many.offsets")
	s, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	put := func(connector string, offsets ...connect.SourceOffset) {
		t.Helper()
		if err := s.Put(ctx, connector, offsets); err != nil {
			t.Fatal(err)
		}
	}
	put("file-source", connect.SourceOffset{Partition: map[string]any{"filename": "/tmp/in.txt"}, Offset: map[string]any{"position": int64(43)}})
	// Fields out of sorted order in Java's HashMap, and characters encoding/json escapes.
	put("jdbc", connect.SourceOffset{
		Partition: map[string]any{"protocol": "1", "table": "public.b", "a&b": "<x>"},
		Offset:    map[string]any{"incrementing": int64(9)},
	})
	put("pg", connect.SourceOffset{Partition: map[string]any{"server": "inventory"}})
	put("new", connect.SourceOffset{
		Partition: map[string]any{"topic": "t", "partition": int64(0), "offset": "x", "filename": "f", "position": "p"},
		Offset:    map[string]any{"position": int64(1), "text": "é\u2028"},
	})

	cmd := exec.Command("java", "-XX:TieredStopAtLevel=1", "-cp", classpath,
		filepath.Join("testdata", "kafkaconnect", "Gen.java"), "read", path, "file-source", "jdbc", "pg", "naïve ☃", "new")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("Kafka Connect could not read the file: %v\n%s", err, stderr.String())
	}
	want := strings.Join([]string{
		`file-source	{"filename":"/tmp/in.txt"}	{"position":43}`,
		`jdbc	{"a&b":"<x>","protocol":"1","table":"public.b"}	{"incrementing":9}`,
		`jdbc	{"protocol":"1","table":"public.a"}	{"incrementing":1152921504606846976,"timestamp_nanos":5}`,
		`naïve ☃	{"filename":"/tmp/ünïcode.txt"}	{"position":7}`,
		// Jackson leaves U+2028 unescaped; it is only text in a value, not part of a key.
		"new\t" + `{"filename":"f","offset":"x","partition":0,"position":"p","topic":"t"}` + "\t{\"position\":1,\"text\":\"é\u2028\"}",
	}, "\n") + "\n"
	if string(out) != want {
		t.Fatalf("Kafka Connect read\n%s\nwant\n%s", out, want)
	}
}

func TestMigratesJSONFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "connect.offsets")
	legacy := `[
  {"key": ["jdbc", {"table": "public.a", "protocol": "1"}], "value": {"incrementing": 1152921504606846976}},
  {"key": ["file-source", {"filename": "/tmp/a&b.txt"}], "value": {"position": 42}}
]`
	if err := os.WriteFile(path, []byte(legacy), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFile(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := javaser.DecodeByteArrayMap(data)
	if err != nil {
		t.Fatalf("the JSON file was not rewritten in Kafka Connect's format: %v", err)
	}
	got := map[string]string{}
	for _, e := range entries {
		got[string(e.Key)] = string(e.Value)
	}
	want := map[string]string{
		`["jdbc",{"protocol":"1","table":"public.a"}]`: `{"incrementing": 1152921504606846976}`,
		`["file-source",{"filename":"/tmp/a&b.txt"}]`:  `{"position": 42}`,
	}
	if len(got) != len(want) {
		t.Fatalf("migrated entries %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("migrated %s = %q, want %q", k, got[k], v)
		}
	}
	re, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := re.Get("jdbc", map[string]any{"protocol": "1", "table": "public.a"}); got["incrementing"] != int64(1)<<60 {
		t.Fatalf("after migration jdbc offset = %#v", got)
	}
}

func TestEmptyFileHasNoOffsets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "connect.offsets")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if list, err := s.List("any"); err != nil || len(list) != 0 {
		t.Fatalf("List = %v, %v; want none", list, err)
	}
}
