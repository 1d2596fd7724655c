package storage_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/connectors/storage"
	"github.com/kconnect/kconnect/connectors/storage/backend"
	_ "github.com/kconnect/kconnect/connectors/storage/backend/hdfs"
	_ "github.com/kconnect/kconnect/connectors/storage/backend/local"
	_ "github.com/kconnect/kconnect/connectors/storage/backend/s3"
	"github.com/kconnect/kconnect/internal/testenv"
)

// target is the store an end-to-end test's sink writes to: a local directory, a fresh directory
// on the test HDFS, or a fresh bucket on the test S3. The test reads the sink's files back through
// the same backend, so what it checks is what the store holds.
type target struct {
	kind  string // "local", "hdfs" or "s3"
	url   string // the store URL a local or HDFS sink is given
	s3    map[string]string
	store backend.Store
}

// targets are the stores every end-to-end test runs on.
var targets = []string{"local", "hdfs", "s3"}

func newTarget(t testing.TB, kind string) *target {
	t.Helper()
	tg := &target{kind: kind}
	openURL, props := "", map[string]string(nil)
	switch kind {
	case "local":
		tg.url = "file://" + t.TempDir()
		openURL = tg.url
	case "hdfs":
		tg.url = fmt.Sprintf("%s/kconnect-e2e/%s-%08x", testenv.HDFS(t), strings.NewReplacer("/", "-", "#", "-").Replace(t.Name()), rand.Uint32())
		openURL = tg.url
	case "s3":
		tg.s3 = storage.NewS3Bucket(t)
		openURL, props = "s3://"+tg.s3["s3.bucket.name"], tg.s3
	default:
		t.Fatalf("unknown target %q", kind)
	}
	st, err := backend.Open(context.Background(), openURL, props)
	if err != nil {
		t.Fatalf("open %s: %v", openURL, err)
	}
	t.Cleanup(func() { st.Close() })
	tg.store = st
	return tg
}

// point sets the keys that send a sink to the target: urlKey (store.url or hdfs.url) for local
// and HDFS, the bucket, endpoint and credentials for S3.
func (tg *target) point(config map[string]string, urlKey string) {
	if tg.kind == "s3" {
		for k, v := range tg.s3 {
			config[k] = v
		}
		return
	}
	config[urlKey] = tg.url
}

// committed lists the committed files below topics/ (temporary files excluded), relative to the
// store's root.
func (tg *target) committed(t testing.TB) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	files, err := tg.store.List(ctx, "topics")
	if err != nil {
		t.Fatalf("list %s: %v", tg.store.URL(), err)
	}
	var out []string
	for _, f := range files {
		if !strings.Contains(f.Path, "/+tmp/") {
			out = append(out, f.Path)
		}
	}
	return out
}

// download copies files (relative paths) out of the store into a temporary directory, keeping
// their relative paths, and returns the local paths in the same order.
func (tg *target) download(t testing.TB, files []string) []string {
	t.Helper()
	dir := t.TempDir()
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = filepath.Join(dir, filepath.FromSlash(f))
		if err := tg.copyOut(f, out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func (tg *target) copyOut(file, dst string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := tg.store.Open(ctx, file)
	if err != nil {
		return fmt.Errorf("open %s: %w", file, err)
	}
	defer r.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return fmt.Errorf("download %s: %w", file, err)
	}
	return f.Close()
}

// rows downloads the committed files and reads them with the external readers (dump.py),
// keyed by their path relative to the store's root.
func (tg *target) rows(t testing.TB) map[string][]map[string]any {
	t.Helper()
	files := tg.committed(t)
	local := tg.download(t, files)
	dumped := dumpFiles(t, local)
	out := make(map[string][]map[string]any, len(files))
	for i, f := range files {
		out[f] = dumped[local[i]]
	}
	return out
}

// allRows is every row of the committed files.
func (tg *target) allRows(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, rs := range tg.rows(t) {
		out = append(out, rs...)
	}
	return out
}
