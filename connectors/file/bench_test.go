package file

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/kconnect/kconnect/connect/connecttest"
)

// BenchmarkSourceRead100MB reads a 100 MiB file of 100-byte lines from start to end; one op is
// the whole file. Run with: go test -run '^$' -bench SourceRead100MB -benchtime 5x ./connectors/file/
func BenchmarkSourceRead100MB(b *testing.B) {
	const size, lineLen = 100 << 20, 100
	path := filepath.Join(b.TempDir(), "big.txt")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	pad := strings.Repeat("x", lineLen)
	lines := size / lineLen
	for i := range lines {
		prefix := fmt.Sprintf("line %09d ", i)
		w.WriteString(prefix)
		w.WriteString(pad[:lineLen-1-len(prefix)])
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}

	ctx := context.Background()
	props := map[string]string{fileConfig: path, topicConfig: testTopic}
	b.SetBytes(int64(lines * lineLen))
	b.ReportAllocs()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	records := 0
	for b.Loop() {
		task := &SourceTask{}
		tctx := connecttest.New(b)
		tctx.Log = slog.New(slog.DiscardHandler)
		if err := task.Start(tctx, props); err != nil {
			b.Fatal(err)
		}
		for n := 0; n < lines; {
			recs, err := task.Poll(ctx)
			if err != nil {
				b.Fatal(err)
			}
			n += len(recs)
			records += len(recs)
		}
		task.Stop()
	}
	runtime.ReadMemStats(&ms1)
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(records), "allocs/record")
}
