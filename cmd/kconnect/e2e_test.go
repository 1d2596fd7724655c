package main_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
	"github.com/kconnect/kconnect/runtime/offsets"
)

// pipeline returns file source and sink configs that move input to output through topic.
func pipeline(t *testing.T, dir string) (src, sink map[string]string, input, output string) {
	input, output = filepath.Join(dir, "input.txt"), filepath.Join(dir, "output.txt")
	topic := testenv.Topic(t, "e2e")
	src = map[string]string{"name": "source", "connector.class": "FileStreamSource", "file": input, "topic": topic}
	sink = map[string]string{"name": "sink", "connector.class": "FileStreamSink", "file": output, "topics": topic}
	return src, sink, input, output
}

func appendLines(t *testing.T, path string, from, to int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := from; i < to; i++ {
		fmt.Fprintf(w, "line %06d\n", i)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// The JSON converter without schemas writes a string value as a JSON string, and the sink writes
// the value back as plain text, so each line must arrive unchanged.
func TestPipelineMovesLinesInOrder(t *testing.T) {
	dir := t.TempDir()
	src, sink, input, output := pipeline(t, dir)
	const n = 5000
	appendLines(t, input, 0, n)
	w := workertest.Start(t, dir, workertest.WorkerProps(t, dir), src, sink)
	w.WaitFor(60*time.Second, fmt.Sprintf("%d lines in the sink file", n), func() bool { return len(readLines(t, output)) >= n })
	got := readLines(t, output)
	if len(got) != n {
		t.Fatalf("sink wrote %d lines, want exactly %d (no duplicates without a crash)", len(got), n)
	}
	for i, line := range got {
		if want := fmt.Sprintf("line %06d", i); line != want {
			t.Fatalf("line %d = %q, want %q", i, line, want)
		}
	}
	if err := w.Stop(); err != nil {
		t.Fatalf("graceful stop: %v\n%s", err, w.Log())
	}
}

// Killing the worker with SIGKILL mid-stream and restarting it must lose no line: each line
// appears in the output, in order of first appearance; repeats can only come from replaying the
// interval after the last commit.
func TestKill9MidStreamLosesNothing(t *testing.T) {
	dir := t.TempDir()
	src, sink, input, output := pipeline(t, dir)
	const total = 30000
	appendLines(t, input, 0, total/3)
	w := workertest.Start(t, dir, workertest.WorkerProps(t, dir), src, sink)

	w.WaitFor(60*time.Second, "first records in the sink", func() bool { return len(readLines(t, output)) > 1000 })
	appendLines(t, input, total/3, 2*total/3)
	time.Sleep(300 * time.Millisecond)
	w.Kill9()
	killedAt := len(readLines(t, output))
	sourceCommitted := committedPosition(t, filepath.Join(dir, "connect.offsets")) / int64(len("line 000000\n"))

	appendLines(t, input, 2*total/3, total)
	w.Restart()
	w.WaitFor(90*time.Second, "every line after restart", func() bool { return len(distinct(readLines(t, output))) >= total })

	got := readLines(t, output)
	seen := map[string]bool{}
	next := 0
	for i, line := range got {
		if seen[line] {
			continue
		}
		if want := fmt.Sprintf("line %06d", next); line != want {
			t.Fatalf("output line %d: first occurrence %q out of order, want %q", i, line, want)
		}
		seen[line] = true
		next++
	}
	if next != total {
		t.Fatalf("%d distinct lines arrived, want %d", next, total)
	}
	// Duplicates come from two replays: the sink re-delivers what it wrote after its last commit
	// (at most killedAt lines), and the source re-sends what Kafka had beyond its committed file
	// position (at most the 2/3 of the input present at the kill, minus what it had committed).
	dups := len(got) - total
	bound := int64(killedAt) + int64(2*total/3) - sourceCommitted
	t.Logf("killed with %d lines in the sink, source committed %d lines; %d duplicates after restart (bound %d)", killedAt, sourceCommitted, dups, bound)
	if int64(dups) > bound {
		t.Fatalf("%d duplicates exceed the replay windows (%d): replay did not start from the commits", dups, bound)
	}
}

// committedPosition reads the file source's committed byte position from the offsets file.
func committedPosition(t *testing.T, path string) int64 {
	t.Helper()
	if _, err := os.Stat(path); os.IsNotExist(err) {
		return 0 // killed before the first commit: the source replays from the start
	}
	store, err := offsets.OpenFile(path)
	if err != nil {
		t.Fatalf("offsets file after kill -9: %v", err)
	}
	list, err := store.List("source")
	if err != nil || len(list) != 1 {
		t.Fatalf("offsets file %s: %v (%d entries of the source)", path, err, len(list))
	}
	pos, ok := list[0].Offset["position"].(int64)
	if !ok {
		t.Fatalf("offsets file %s: position %#v is not an integer", path, list[0].Offset["position"])
	}
	return pos
}

func distinct(lines []string) map[string]bool {
	m := make(map[string]bool, len(lines))
	for _, l := range lines {
		m[l] = true
	}
	return m
}

// Startup errors in config files must exit non-zero with one line naming file, line and key.
func TestBadConfigFilesFailWithLocation(t *testing.T) {
	bin := workertest.Binary(t)
	dir := t.TempDir()
	worker := workertest.WriteProperties(t, dir, "worker.properties", workertest.WorkerProps(t, dir))

	malformed := filepath.Join(dir, "malformed.properties")
	if err := os.WriteFile(malformed, []byte("name=x\n# comment\nconnector.class=FileStreamSource\nfile=\\u12zz\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	unknown := filepath.Join(dir, "unknown.properties")
	if err := os.WriteFile(unknown, []byte("name=x\n\nconnector.class=FileStreamSorce\ntopic=t\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	props := workertest.WorkerProps(t, dir)
	props["config.providers"] = "vault"
	props["config.providers.vault.class"] = "com.example.VaultConfigProvider"
	badProvider := workertest.WriteProperties(t, dir, "bad-provider.properties", props)
	cases := []struct {
		file string
		args []string
		want []string
	}{
		{malformed, []string{worker, malformed}, []string{malformed + ":4", `"file"`, `\uxxxx`}},
		{unknown, []string{worker, unknown}, []string{unknown + ":3", `"connector.class"`, "FileStreamSorce", "FileStreamSource"}},
		// Keys sort in WriteProperties, so the class is on line 3.
		{badProvider, []string{badProvider}, []string{badProvider + ":3", `"config.providers.vault.class"`, "com.example.VaultConfigProvider"}},
	}
	for _, c := range cases {
		cmd := exec.Command(bin, append([]string{"standalone"}, c.args...)...)
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Fatalf("%s: kconnect exited 0, want a failure", c.file)
		}
		msg := strings.TrimSpace(string(out))
		if strings.Count(msg, "\n") != 0 {
			t.Errorf("%s: error is not one line:\n%s", c.file, msg)
		}
		for _, w := range c.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: error %q lacks %q", c.file, msg, w)
			}
		}
	}
}
