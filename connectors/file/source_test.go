package file

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connect/connecttest"
)

const testTopic = "lines"

// startSource starts a source task on path with the given extra properties.
func startSource(t *testing.T, ctx *connecttest.Context, path string, extra ...string) *SourceTask {
	t.Helper()
	props := map[string]string{fileConfig: path, topicConfig: testTopic}
	for i := 0; i+1 < len(extra); i += 2 {
		props[extra[i]] = extra[i+1]
	}
	task := &SourceTask{}
	if err := task.Start(ctx, props); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { task.Stop() })
	return task
}

// pollN polls until n records arrived, failing after a generous limit.
func pollN(t *testing.T, task *SourceTask, n int) []connect.SourceRecord {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out []connect.SourceRecord
	for len(out) < n {
		if ctx.Err() != nil {
			t.Fatalf("got %d of %d records before giving up", len(out), n)
		}
		recs, err := task.Poll(ctx)
		if err != nil {
			t.Fatalf("Poll: %v", err)
		}
		out = append(out, recs...)
	}
	if len(out) != n {
		t.Fatalf("got %d records, want %d", len(out), n)
	}
	return out
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

type line struct {
	value string
	pos   int64
}

// checkLines compares records with the expected lines and their offsets.
func checkLines(t *testing.T, path string, recs []connect.SourceRecord, want []line) {
	t.Helper()
	if len(recs) != len(want) {
		t.Fatalf("got %d records, want %d: %v", len(recs), len(want), values(recs))
	}
	for i, r := range recs {
		if r.Value != want[i].value {
			t.Errorf("record %d: value %q, want %q", i, r.Value, want[i].value)
		}
		if got := r.SourcePartition[filenameField]; got != path {
			t.Errorf("record %d: partition %v, want filename %s", i, r.SourcePartition, path)
		}
		if got := r.SourceOffset[positionField]; got != want[i].pos {
			t.Errorf("record %d (%q): position %v, want %d", i, want[i].value, got, want[i].pos)
		}
		if r.Topic != testTopic || r.ValueSchema != connect.StringSchema || r.Key != nil || r.KeySchema != nil {
			t.Errorf("record %d: topic %q, value schema %v, key %v/%v; want %q, string schema and a null key", i, r.Topic, r.ValueSchema, r.KeySchema, r.Key, testTopic)
		}
	}
}

func values(recs []connect.SourceRecord) []any {
	out := make([]any, len(recs))
	for i, r := range recs {
		out[i] = r.Value
	}
	return out
}

// expectLF returns the lines of an LF-terminated text with the byte position after each line.
func expectLF(start int64, lines ...string) []line {
	out := make([]line, len(lines))
	pos := start
	for i, l := range lines {
		pos += int64(len(l)) + 1
		out[i] = line{l, pos}
	}
	return out
}

func TestSourceReadsLinesWithBytePositions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.txt")
	lines := []string{"first", "second line", "", "héllo wörld", "last"}
	appendFile(t, path, strings.Join(lines, "\n")+"\n")
	task := startSource(t, connecttest.New(t), path)
	checkLines(t, path, connecttest.PollNow(t, task), expectLF(0, lines...))
	if recs := connecttest.PollNow(t, task); len(recs) != 0 {
		t.Fatalf("poll at end of file returned %v", values(recs))
	}
}

// TestSourceUpstreamLifecycle replays upstream's FileStreamSourceTaskTest.testNormalLifecycle,
// whose expected positions are upstream's.
func TestSourceUpstreamLifecycle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.txt")
	appendFile(t, path, "")
	task := startSource(t, connecttest.New(t), path)
	if recs := connecttest.PollNow(t, task); recs != nil {
		t.Fatalf("empty file gave %v", values(recs))
	}
	appendFile(t, path, "partial line")
	if recs := connecttest.PollNow(t, task); recs != nil {
		t.Fatalf("partial line was emitted: %v", values(recs))
	}
	appendFile(t, path, " finished\n")
	checkLines(t, path, connecttest.PollNow(t, task), []line{{"partial line finished", 22}})
	if recs := connecttest.PollNow(t, task); recs != nil {
		t.Fatalf("got %v after the last line", values(recs))
	}
	// Mixed terminators; the final CR must wait for the next byte.
	appendFile(t, path, "line1\rline2\r\nline3\nline4\n\r")
	checkLines(t, path, connecttest.PollNow(t, task), []line{{"line1", 28}, {"line2", 35}, {"line3", 41}, {"line4", 47}})
	appendFile(t, path, "subsequent text")
	checkLines(t, path, connecttest.PollNow(t, task), []line{{"", 48}})
}

func TestSourceCRLF(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.txt")
	appendFile(t, path, "alpha\r\nbeta\r\n\r\ngamma\r\n")
	task := startSource(t, connecttest.New(t), path)
	// "alpha\r\n" is 7 bytes, "beta\r\n" 6, "\r\n" 2, "gamma\r\n" 7.
	checkLines(t, path, connecttest.PollNow(t, task), []line{{"alpha", 7}, {"beta", 13}, {"", 15}, {"gamma", 22}})
}

func TestSourceWithholdsUnterminatedLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.txt")
	appendFile(t, path, "one\ntwo")
	task := startSource(t, connecttest.New(t), path)
	checkLines(t, path, connecttest.PollNow(t, task), []line{{"one", 4}})
	if recs := connecttest.PollNow(t, task); recs != nil {
		t.Fatalf("unterminated line emitted: %v", values(recs))
	}
	appendFile(t, path, " more\nthree\r")
	checkLines(t, path, connecttest.PollNow(t, task), []line{{"two more", 13}})
	// The CR could still be followed by LF; only the next byte decides.
	if recs := connecttest.PollNow(t, task); recs != nil {
		t.Fatalf("line ending in a lone trailing CR emitted early: %v", values(recs))
	}
	appendFile(t, path, "\n")
	checkLines(t, path, connecttest.PollNow(t, task), []line{{"three", 20}})
}

func TestSourceFollowsGrowingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.txt")
	appendFile(t, path, "a\n")
	task := startSource(t, connecttest.New(t), path)
	checkLines(t, path, connecttest.PollNow(t, task), expectLF(0, "a"))

	// Poll blocks waiting for data; the append happens while it waits.
	go func() {
		time.Sleep(150 * time.Millisecond)
		appendFile(t, path, "b\nc\n")
	}()
	checkLines(t, path, pollN(t, task, 2), expectLF(2, "b", "c"))
}

func TestSourceRestartResumesAfterCommittedLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.txt")
	lines := []string{"l1", "line two", "l3", "line four", "l5"}
	appendFile(t, path, strings.Join(lines, "\n")+"\n")
	ctx := connecttest.New(t)

	first := startSource(t, ctx, path)
	recs := connecttest.PollNow(t, first)
	checkLines(t, path, recs, expectLF(0, lines...))
	// Only the first three lines reach the offset store before the task dies.
	ctx.Commit(recs[:3])
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}

	appendFile(t, path, "l6\n")
	second := startSource(t, ctx, path)
	committed := int64(len("l1\nline two\nl3\n"))
	checkLines(t, path, connecttest.PollNow(t, second), expectLF(committed, "line four", "l5", "l6"))
}

func TestSourceOffsetFromUpstreamJSON(t *testing.T) {
	// A Java worker stores {"position":6} for the partition {"filename":path}.
	path := filepath.Join(t.TempDir(), "in.txt")
	appendFile(t, path, "skip1\nkeep\n")
	ctx := connecttest.New(t)
	raw, err := connect.DecodeJSON([]byte(`{"position":6}`))
	if err != nil {
		t.Fatal(err)
	}
	ctx.SetOffset(map[string]any{"filename": path}, raw.(map[string]any))
	task := startSource(t, ctx, path)
	checkLines(t, path, connecttest.PollNow(t, task), expectLF(6, "keep"))
}

func TestSourceBadCommittedOffset(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.txt")
	for _, off := range []map[string]any{{positionField: "twelve"}, {positionField: 1.5}, {positionField: -3}} {
		ctx := connecttest.New(t)
		ctx.SetOffset(map[string]any{filenameField: path}, off)
		err := (&SourceTask{}).Start(ctx, map[string]string{fileConfig: path, topicConfig: testTopic})
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("offset %v: error %v, want one naming %s", off, err, path)
		}
	}
}

func TestSourceBatchSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.txt")
	var lines []string
	for i := range 10 {
		lines = append(lines, strings.Repeat("x", i))
	}
	appendFile(t, path, strings.Join(lines, "\n")+"\n")
	task := startSource(t, connecttest.New(t), path, batchSizeConfig, "3")
	want := expectLF(0, lines...)
	for _, n := range []int{3, 3, 3, 1} {
		recs := connecttest.PollNow(t, task)
		checkLines(t, path, recs, want[:n])
		want = want[n:]
	}
}

func TestSourceWaitsForMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "later.txt")
	task := startSource(t, connecttest.New(t), path)
	if recs := connecttest.PollNow(t, task); recs != nil {
		t.Fatalf("missing file gave %v", values(recs))
	}
	appendFile(t, path, "hello\n")
	checkLines(t, path, pollN(t, task, 1), expectLF(0, "hello"))
}

func TestSourceTruncatedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.txt")
	appendFile(t, path, "0123456789\n")

	// Truncated while being followed.
	task := startSource(t, connecttest.New(t), path)
	connecttest.PollNow(t, task)
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := task.Poll(ctx); err == nil || !strings.Contains(err.Error(), "truncated") || !strings.Contains(err.Error(), path) {
		t.Fatalf("Poll after truncation: %v, want an error naming the file and the truncation", err)
	}

	// Shorter than the committed position on restart.
	tctx := connecttest.New(t)
	tctx.SetOffset(map[string]any{filenameField: path}, map[string]any{positionField: 11})
	restarted := startSource(t, tctx, path)
	if _, err := restarted.Poll(ctx); err == nil || !strings.Contains(err.Error(), "committed position 11") {
		t.Fatalf("Poll on a file shorter than its offset: %v", err)
	}
}

func TestSourceLongLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.txt")
	long := strings.Repeat("y", 3*readBufferSize+17)
	appendFile(t, path, "short\n"+long+"\nafter\n")
	task := startSource(t, connecttest.New(t), path)
	checkLines(t, path, connecttest.PollNow(t, task), expectLF(0, "short", long, "after"))

	capped := filepath.Join(t.TempDir(), "capped.txt")
	appendFile(t, capped, strings.Repeat("z", 100)+"\n"+strings.Repeat("z", 101)+"\n")
	task = startSource(t, connecttest.New(t), capped, maxLineBytesConfig, "100")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	recs, err := task.Poll(ctx)
	if err != nil {
		t.Fatalf("first Poll: %v", err)
	}
	checkLines(t, capped, recs, expectLF(0, strings.Repeat("z", 100)))
	_, err = task.Poll(ctx)
	if err == nil {
		t.Fatal("a 101-byte line passed max.line.bytes=100")
	}
	for _, want := range []string{capped, "byte 101", maxLineBytesConfig} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestSourceReplacesInvalidUTF8(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.txt")
	// Latin-1 "café" followed by valid text: Java's UTF-8 decoder turns the stray 0xE9 into U+FFFD.
	appendFile(t, path, "caf\xe9\nok\n")
	task := startSource(t, connecttest.New(t), path)
	checkLines(t, path, connecttest.PollNow(t, task), []line{{"caf\uFFFD", 5}, {"ok", 8}})
}

func TestSourceStdin(t *testing.T) {
	r, w := io.Pipe()
	old := stdin
	stdin = r
	t.Cleanup(func() { stdin = old; w.Close() })
	task := &SourceTask{}
	if err := task.Start(connecttest.New(t), map[string]string{topicConfig: testTopic}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { task.Stop() })
	go w.Write([]byte("from\r\nstdin\npartial"))
	recs := pollN(t, task, 2)
	for i, want := range []string{"from", "stdin"} {
		r := recs[i]
		if r.Value != want {
			t.Errorf("record %d: %q, want %q", i, r.Value, want)
		}
		if v, ok := r.SourcePartition[filenameField]; !ok || v != nil {
			t.Errorf("record %d: partition %v, want filename null", i, r.SourcePartition)
		}
		if v, ok := r.SourceOffset[positionField]; !ok || v != nil {
			t.Errorf("record %d: offset %v, want position null", i, r.SourceOffset)
		}
	}
}

func TestSourceConfigErrors(t *testing.T) {
	cases := []struct {
		props map[string]string
		key   string
	}{
		{map[string]string{fileConfig: "/tmp/x"}, topicConfig},
		{map[string]string{topicConfig: " "}, topicConfig},
		{map[string]string{topicConfig: "a,b"}, topicConfig},
		{map[string]string{topicConfig: "t", batchSizeConfig: "0"}, batchSizeConfig},
		{map[string]string{topicConfig: "t", batchSizeConfig: "many"}, batchSizeConfig},
		{map[string]string{topicConfig: "t", maxLineBytesConfig: "-1"}, maxLineBytesConfig},
	}
	for _, c := range cases {
		err := (&SourceConnector{}).Start(nopConnectorContext{t}, c.props)
		var fe *connect.FieldError
		if !errors.As(err, &fe) || fe.Name != c.key || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%v: error %v, want one naming %s", c.props, err, c.key)
		}
		if err := (&SourceTask{}).Start(connecttest.New(t), c.props); err == nil {
			t.Errorf("%v: task started", c.props)
		}
	}
}

func TestSourceConnectorOneTask(t *testing.T) {
	c := &SourceConnector{}
	props := map[string]string{fileConfig: "/var/log/app.log", topicConfig: "t", "tasks.max": "8"}
	if err := c.Start(nopConnectorContext{t}, props); err != nil {
		t.Fatal(err)
	}
	cfgs, err := c.TaskConfigs(8)
	if err != nil || len(cfgs) != 1 || cfgs[0][fileConfig] != "/var/log/app.log" || cfgs[0][topicConfig] != "t" {
		t.Fatalf("TaskConfigs(8) = %v, %v; want the connector's configuration once", cfgs, err)
	}
}

func TestPlugins(t *testing.T) {
	reg, err := connect.NewRegistry(Plugins()...)
	if err != nil {
		t.Fatal(err)
	}
	for name, typ := range map[string]connect.PluginType{
		"FileStreamSource": connect.PluginSource, "FileStreamSourceConnector": connect.PluginSource, sourceClass: connect.PluginSource,
		"FileStreamSink": connect.PluginSink, "FileStreamSinkConnector": connect.PluginSink, sinkClass: connect.PluginSink,
	} {
		p, err := reg.Lookup(name, typ)
		if err != nil {
			t.Errorf("Lookup(%s): %v", name, err)
			continue
		}
		inst := p.New()
		switch typ {
		case connect.PluginSource:
			_, ok := inst.(connect.SourceConnector)
			if !ok {
				t.Errorf("%s: %T is not a source connector", name, inst)
			}
		case connect.PluginSink:
			_, ok := inst.(connect.SinkConnector)
			if !ok {
				t.Errorf("%s: %T is not a sink connector", name, inst)
			}
		}
	}
}

// nopConnectorContext is a connector context for starting connectors in tests.
type nopConnectorContext struct{ t testing.TB }

func (nopConnectorContext) RequestTaskReconfiguration() {}

func (c nopConnectorContext) RaiseError(err error) { c.t.Errorf("connector raised %v", err) }

func (c nopConnectorContext) Logger() *slog.Logger { return slog.New(slog.DiscardHandler) }
