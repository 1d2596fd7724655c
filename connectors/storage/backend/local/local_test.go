package local

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/kconnect/kconnect/connectors/storage/backend"
)

func write(t *testing.T, s *Store, path, data string) {
	t.Helper()
	w, err := s.Create(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, s *Store, path string) string {
	t.Helper()
	r, err := s.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestOpenThroughRegistry(t *testing.T) {
	dir := t.TempDir()
	st, err := backend.Open(context.Background(), "file://"+dir+"/root", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Capabilities().AtomicRename {
		t.Error("local store must report AtomicRename")
	}
	if fi, err := os.Stat(filepath.Join(dir, "root")); err != nil || !fi.IsDir() {
		t.Errorf("root directory not created: %v", err)
	}
	for _, bad := range []string{"file://host/x", "file:", "hdfs:///x"} {
		if _, err := OpenURL(bad); err == nil {
			t.Errorf("OpenURL(%q) succeeded", bad)
		}
	}
}

func TestCreateRenameListDelete(t *testing.T) {
	ctx := context.Background()
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	write(t, s, "a/+tmp/x_tmp.avro", "one")
	write(t, s, "a/b/existing.avro", "two")
	if err := s.Rename(ctx, "a/+tmp/x_tmp.avro", "a/b/existing.avro"); !errors.Is(err, backend.ErrExist) {
		t.Fatalf("rename onto an existing file: %v, want ErrExist", err)
	}
	if got := read(t, s, "a/b/existing.avro"); got != "two" {
		t.Fatalf("rename replaced the target: %q", got)
	}
	if err := s.Rename(ctx, "a/+tmp/x_tmp.avro", "a/c/new.avro"); err != nil {
		t.Fatal(err)
	}
	if got := read(t, s, "a/c/new.avro"); got != "one" {
		t.Fatalf("renamed file holds %q", got)
	}
	if _, err := s.Stat(ctx, "a/+tmp/x_tmp.avro"); !errors.Is(err, backend.ErrNotExist) {
		t.Fatalf("source still there after rename: %v", err)
	}
	if err := s.Rename(ctx, "a/missing", "a/other"); !errors.Is(err, backend.ErrNotExist) {
		t.Fatalf("rename of a missing file: %v", err)
	}
	list, err := s.List(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, fi := range list {
		paths = append(paths, fi.Path)
	}
	if len(paths) != 2 || paths[0] != "a/b/existing.avro" || paths[1] != "a/c/new.avro" || list[0].Size != 3 {
		t.Fatalf("List = %v", list)
	}
	if l, err := s.List(ctx, "nowhere"); err != nil || len(l) != 0 {
		t.Fatalf("List of a missing prefix = %v, %v", l, err)
	}
	if err := s.Delete(ctx, "a/c/new.avro"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "a/c/new.avro"); err != nil {
		t.Fatalf("deleting a missing file: %v", err)
	}
	if _, err := s.Open(ctx, "a/c/new.avro"); !errors.Is(err, backend.ErrNotExist) {
		t.Fatalf("open after delete: %v", err)
	}
	if _, err := s.Create(ctx, "../escape"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(s.root), "escape")); err == nil {
		t.Fatal("a path with .. escaped the root")
	}
}

func TestCreateExclusiveAndAbort(t *testing.T) {
	ctx := context.Background()
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateExclusive(ctx, "logs/lock", []byte("first")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateExclusive(ctx, "logs/lock", []byte("second")); !errors.Is(err, backend.ErrExist) {
		t.Fatalf("second CreateExclusive: %v, want ErrExist", err)
	}
	if got := read(t, s, "logs/lock"); got != "first" {
		t.Fatalf("lock holds %q", got)
	}
	w, err := s.Create(ctx, "t/aborted")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(ctx, "t/aborted"); !errors.Is(err, backend.ErrNotExist) {
		t.Fatalf("aborted file exists: %v", err)
	}
	list, err := s.List(ctx, "")
	if err != nil || len(list) != 1 {
		t.Fatalf("List = %v, %v; want only the lock (no temporary files)", list, err)
	}
}
