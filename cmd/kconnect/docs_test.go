package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kconnect/kconnect/internal/workertest"
)

// TestDocsWritesReference runs `kconnect docs DIR` and checks rows against upstream's documented
// keys (Kafka's WorkerConfig, ConnectorConfig, FileStreamSourceConnector), that each page is
// linked from the index, and that a page nothing generates any more is removed.
func TestDocsWritesReference(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "com.example.Gone.md")
	if err := os.WriteFile(stale, []byte("# gone\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(workertest.Binary(t), "docs", dir).CombinedOutput(); err != nil {
		t.Fatalf("kconnect docs: %v\n%s", err, out)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale page %s survived: %v", stale, err)
	}
	for page, rows := range map[string][][]string{
		"worker.md": {
			{"`offset.flush.interval.ms`", "long", "`60000`", "low"},
			{"`key.converter`", "class", "required", "high"},
		},
		"connector-source.md": {
			{"`tasks.max`", "int", "`1`", "high", "[1,...]"},
			{"`errors.tolerance`", "string", "`none`", "medium", "[none, all]"},
		},
		"org.apache.kafka.connect.file.FileStreamSourceConnector.md": {
			{"`topic`", "string", "required", "high"},
			{"`batch.size`", "int", "`2000`", "low"},
		},
	} {
		data, err := os.ReadFile(filepath.Join(dir, page))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range rows {
			if !slices.ContainsFunc(tableRows(string(data)), func(got []string) bool {
				return len(got) >= len(want) && slices.Equal(got[:len(want)], want)
			}) {
				t.Errorf("%s has no row starting %q", page, want)
			}
		}
	}
	index, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	pages, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) < 20 {
		t.Errorf("only %d pages", len(pages))
	}
	for _, p := range pages {
		if name := filepath.Base(p); name != "README.md" && !strings.Contains(string(index), "]("+name+")") {
			t.Errorf("README.md does not link %s", name)
		}
	}
}

// tableRows returns the cells of every Markdown table row of doc.
func tableRows(doc string) [][]string {
	var rows [][]string
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows = append(rows, cells)
	}
	return rows
}
