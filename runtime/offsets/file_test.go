package offsets

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kconnect/kconnect/connect"
)

func TestFileStoreRoundTripAndReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "connect.offsets")
	s, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pa := map[string]any{"table": "public.a", "protocol": "1"}
	pb := map[string]any{"filename": "/tmp/x"}
	err = s.Put(ctx, "c1", []connect.SourceOffset{
		{Partition: pa, Offset: map[string]any{"incrementing": int64(1) << 60, "timestamp_nanos": int64(5)}},
		{Partition: pb, Offset: map[string]any{"position": int64(42)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "c2", []connect.SourceOffset{{Partition: pb, Offset: map[string]any{"position": int64(7)}}}); err != nil {
		t.Fatal(err)
	}

	re, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := re.Get("c1", map[string]any{"protocol": "1", "table": "public.a"})
	if err != nil {
		t.Fatal(err)
	}
	// 2^60 does not survive a float64 round trip exactly; integers must stay int64.
	if got["incrementing"] != int64(1)<<60 {
		t.Fatalf("incrementing = %#v, want int64 2^60", got["incrementing"])
	}
	if got, _ := re.Get("c2", pb); got["position"] != int64(7) {
		t.Fatalf("c2 offset = %v, connectors must not share offsets", got)
	}
	list, err := re.List("c1")
	if err != nil || len(list) != 2 {
		t.Fatalf("List(c1) = %v, %v; want 2 entries", list, err)
	}
	// A nil offset deletes the partition.
	if err := re.Put(ctx, "c1", []connect.SourceOffset{{Partition: pb}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := re.Get("c1", pb); got != nil {
		t.Fatalf("deleted offset still present: %v", got)
	}
}

func TestKeyFormatMatchesKafkaConnect(t *testing.T) {
	k, err := Key("jdbc", map[string]any{"table": "public.t", "protocol": "1"})
	if err != nil {
		t.Fatal(err)
	}
	// Kafka Connect's key: a JSON array of the connector name and the partition object.
	if want := `["jdbc",{"protocol":"1","table":"public.t"}]`; string(k) != want {
		t.Fatalf("key = %s, want %s", k, want)
	}
	name, part, err := ParseKey([]byte(`["pg", {"server": "inventory"}]`))
	if err != nil || name != "pg" || part["server"] != "inventory" {
		t.Fatalf("ParseKey = %q %v %v", name, part, err)
	}
	for _, bad := range []string{`{}`, `["x"]`, `[1, {}]`, `["x", 3]`, `not json`} {
		if _, _, err := ParseKey([]byte(bad)); err == nil {
			t.Errorf("ParseKey(%s) accepted a malformed key", bad)
		}
	}
}

func TestOpenFileRejectsCorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "connect.offsets")
	if err := os.WriteFile(path, []byte(`[{"key": "garbage"`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFile(path); err == nil {
		t.Fatal("a truncated offsets file must be an error, not silently empty offsets")
	}
	java, err := os.ReadFile(filepath.Join("testdata", "kafkaconnect", "many.offsets"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, java[:len(java)-1], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFile(path); err == nil || !strings.Contains(err.Error(), "Kafka Connect format") {
		t.Fatalf("a truncated Kafka Connect file: err = %v, want an error naming the format", err)
	}
}

// writerEnv makes the test binary act as a process that stores offsets in a tight loop, so the
// parent can kill it with SIGKILL at arbitrary moments.
const writerEnv = "KCONNECT_OFFSETS_CRASH_WRITER"

func TestMain(m *testing.M) {
	if path := os.Getenv(writerEnv); path != "" {
		crashWriter(path)
		return
	}
	os.Exit(m.Run())
}

func crashWriter(path string) {
	s, err := OpenFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	start := int64(0)
	if got, _ := s.Get("crash", map[string]any{"p": "x"}); got != nil {
		start = got["n"].(int64)
	}
	for n := start + 1; ; n++ {
		// Two partitions written together: a torn write would show them disagreeing.
		offs := []connect.SourceOffset{
			{Partition: map[string]any{"p": "x"}, Offset: map[string]any{"n": n}},
			{Partition: map[string]any{"p": "y"}, Offset: map[string]any{"n": n}},
		}
		if err := s.Put(context.Background(), "crash", offs); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(n)
	}
}

// Killing a process mid-write at random moments must always leave a loadable file whose offsets
// are a complete earlier write, never older than one the writer had finished.
func TestFileStoreSurvivesKill9(t *testing.T) {
	path := filepath.Join(t.TempDir(), "connect.offsets")
	last := int64(0)
	for round := 0; round < 15; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), writerEnv+"="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64<<10)
		deadline := time.Now().Add(time.Duration(20+round*7) * time.Millisecond)
		var acked int64
		var tail []byte
		for time.Now().Before(deadline) {
			n, err := out.Read(buf)
			tail = append(tail, buf[:n]...)
			if err != nil {
				break
			}
		}
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		// The last complete line is the last write the writer saw succeed.
		lines := splitLines(tail)
		if len(lines) > 0 {
			acked, _ = strconv.ParseInt(lines[len(lines)-1], 10, 64)
		}
		s, err := OpenFile(path)
		if err != nil {
			t.Fatalf("round %d: offsets file unreadable after kill -9: %v", round, err)
		}
		x, _ := s.Get("crash", map[string]any{"p": "x"})
		y, _ := s.Get("crash", map[string]any{"p": "y"})
		if x == nil || y == nil {
			if acked > 0 || last > 0 {
				t.Fatalf("round %d: offsets lost after kill -9 (acked %d)", round, acked)
			}
			continue
		}
		nx, ny := x["n"].(int64), y["n"].(int64)
		if nx != ny {
			t.Fatalf("round %d: torn write: partitions at %d and %d", round, nx, ny)
		}
		if nx < acked || nx < last {
			t.Fatalf("round %d: stored offset %d is older than the acknowledged %d", round, nx, max(acked, last))
		}
		last = nx
	}
	if last == 0 {
		t.Fatal("the writer never stored anything; the test proved nothing")
	}
}

func splitLines(b []byte) []string {
	var out []string
	start := 0
	for i, c := range b {
		if c == '\n' {
			out = append(out, string(b[start:i]))
			start = i + 1
		}
	}
	return out
}
