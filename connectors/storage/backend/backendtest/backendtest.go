// Package backendtest is the conformance suite every storage backend passes: each method of
// backend.Store and backend.Writer, and each error contract the sink core relies on (visibility
// only after Close where the backend has no atomic rename, Abort discarding, Rename refusing to
// replace, ErrNotExist and ErrExist wrapped so errors.Is finds them, List recursive and sorted,
// concurrent writers).
package backendtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kconnect/kconnect/connectors/storage/backend"
)

// LargeFileSize is the size of the file the suite writes to cross part and packet boundaries:
// above two S3 parts of the 5 MiB minimum, so a backend under test should use that part size.
const LargeFileSize = 11<<20 + 12345

// Run runs the suite. open returns a fresh, empty store of its own for each subtest (a new
// directory or bucket), which Run closes.
func Run(t *testing.T, open func(t *testing.T) backend.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s backend.Store)
	}{
		{"CreateWriteRead", testCreateWriteRead},
		{"CreateReplaces", testCreateReplaces},
		{"EmptyFile", testEmptyFile},
		{"LargeFile", testLargeFile},
		{"VisibleOnlyAfterClose", testVisibleOnlyAfterClose},
		{"AbortDiscards", testAbortDiscards},
		{"WriterUnusableAfterClose", testWriterUnusableAfterClose},
		{"CreateExclusive", testCreateExclusive},
		{"NotExist", testNotExist},
		{"Rename", testRename},
		{"RenameRefusesToReplace", testRenameRefusesToReplace},
		{"Delete", testDelete},
		{"ListRecursiveSorted", testListRecursiveSorted},
		{"ConcurrentWriters", testConcurrentWriters},
		{"URL", testURL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close store: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// write creates path and writes data in chunks of chunk bytes.
func write(t *testing.T, s backend.Store, path string, data []byte, chunk int) {
	t.Helper()
	w, err := s.Create(ctx(t), path)
	if err != nil {
		t.Fatalf("Create %s: %v", path, err)
	}
	for len(data) > 0 {
		n := min(chunk, len(data))
		m, err := w.Write(data[:n])
		if err != nil {
			t.Fatalf("Write %s: %v", path, err)
		}
		if m != n {
			t.Fatalf("Write %s: wrote %d of %d bytes without an error", path, m, n)
		}
		data = data[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close writer %s: %v", path, err)
	}
}

func read(t *testing.T, s backend.Store, path string) []byte {
	t.Helper()
	r, err := s.Open(ctx(t), path)
	if err != nil {
		t.Fatalf("Open %s: %v", path, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return b
}

func wantNotExist(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, backend.ErrNotExist) {
		t.Errorf("%s: got error %v, want one wrapping backend.ErrNotExist", what, err)
	}
}

func paths(infos []backend.FileInfo) []string {
	out := make([]string, len(infos))
	for i, fi := range infos {
		out[i] = fi.Path
	}
	return out
}

func testCreateWriteRead(t *testing.T, s backend.Store) {
	const path = "topics/t1/partition=0/t1+0+0000000000+0000000002.json"
	data := []byte("{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n")
	before := time.Now()
	write(t, s, path, data, 7)
	if got := read(t, s, path); !bytes.Equal(got, data) {
		t.Errorf("read back %q, want %q", got, data)
	}
	fi, err := s.Stat(ctx(t), path)
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if fi.Path != path || fi.Size != int64(len(data)) {
		t.Errorf("Stat = %+v, want path %s size %d", fi, path, len(data))
	}
	// Server clocks may differ a little from ours; a day is far beyond any skew yet catches a
	// zero or unset time.
	if d := fi.ModTime.Sub(before); d < -24*time.Hour || d > 24*time.Hour {
		t.Errorf("Stat ModTime %v is not near now (%v)", fi.ModTime, before)
	}
}

func testCreateReplaces(t *testing.T, s backend.Store) {
	write(t, s, "a/f", []byte("first version, longer"), 1<<10)
	write(t, s, "a/f", []byte("second"), 1<<10)
	if got := string(read(t, s, "a/f")); got != "second" {
		t.Errorf("after replacing, read %q, want %q", got, "second")
	}
}

func testEmptyFile(t *testing.T, s backend.Store) {
	w, err := s.Create(ctx(t), "empty/file")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := s.Stat(ctx(t), "empty/file")
	if err != nil {
		t.Fatalf("Stat of an empty file: %v", err)
	}
	if fi.Size != 0 {
		t.Errorf("empty file has size %d", fi.Size)
	}
	if got := read(t, s, "empty/file"); len(got) != 0 {
		t.Errorf("empty file reads %d bytes", len(got))
	}
}

func testLargeFile(t *testing.T, s backend.Store) {
	data := make([]byte, LargeFileSize)
	rng := rand.NewChaCha8([32]byte{1, 6})
	_, _ = rng.Read(data)
	// An odd chunk size makes writes straddle every part and packet boundary.
	write(t, s, "big/file.bin", data, 300_007)
	got := read(t, s, "big/file.bin")
	if len(got) != len(data) || sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("large file read back %d bytes with a different digest, want %d bytes", len(got), len(data))
	}
	fi, err := s.Stat(ctx(t), "big/file.bin")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size != int64(len(data)) {
		t.Errorf("Stat size %d, want %d", fi.Size, len(data))
	}
}

// testVisibleOnlyAfterClose: without atomic rename the core writes final names directly, so a
// file must not be visible before Close. Backends with atomic rename may show it earlier (the
// core writes those under temporary names).
func testVisibleOnlyAfterClose(t *testing.T, s backend.Store) {
	w, err := s.Create(ctx(t), "v/file")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(bytes.Repeat([]byte("x"), 1<<20)); err != nil {
		t.Fatal(err)
	}
	if !s.Capabilities().AtomicRename {
		_, err := s.Stat(ctx(t), "v/file")
		wantNotExist(t, "Stat before Close", err)
		infos, err := s.List(ctx(t), "")
		if err != nil {
			t.Fatal(err)
		}
		if len(infos) != 0 {
			t.Errorf("List before Close = %v, want nothing", paths(infos))
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := s.Stat(ctx(t), "v/file"); err != nil || fi.Size != 1<<20 {
		t.Errorf("Stat after Close = %+v, %v; want size %d", fi, err, 1<<20)
	}
}

func testAbortDiscards(t *testing.T, s backend.Store) {
	w, err := s.Create(ctx(t), "ab/file")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("doomed")); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	_, err = s.Stat(ctx(t), "ab/file")
	wantNotExist(t, "Stat after Abort", err)
	infos, err := s.List(ctx(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 0 {
		t.Errorf("List after Abort = %v, want nothing", paths(infos))
	}
	// A large aborted file too: for S3 this is a multipart upload with parts already sent.
	w, err = s.Create(ctx(t), "ab/large")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(make([]byte, LargeFileSize)); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("Abort after parts were sent: %v", err)
	}
	_, err = s.Stat(ctx(t), "ab/large")
	wantNotExist(t, "Stat after aborting a large file", err)
}

func testWriterUnusableAfterClose(t *testing.T, s backend.Store) {
	w, err := s.Create(ctx(t), "closed/file")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("data")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("more")); err == nil {
		t.Error("Write after Close succeeded")
	}
	if got := string(read(t, s, "closed/file")); got != "data" {
		t.Errorf("file reads %q after a Write on the closed writer, want %q", got, "data")
	}
}

func testCreateExclusive(t *testing.T, s backend.Store) {
	if err := s.CreateExclusive(ctx(t), "x/y/marker", []byte("one")); err != nil {
		t.Fatalf("CreateExclusive of a new path: %v", err)
	}
	if got := string(read(t, s, "x/y/marker")); got != "one" {
		t.Errorf("read %q, want %q", got, "one")
	}
	err := s.CreateExclusive(ctx(t), "x/y/marker", []byte("two"))
	if !errors.Is(err, backend.ErrExist) {
		t.Errorf("CreateExclusive of an existing path: got %v, want an error wrapping backend.ErrExist", err)
	}
	if got := string(read(t, s, "x/y/marker")); got != "one" {
		t.Errorf("after a refused CreateExclusive, read %q, want %q", got, "one")
	}
	// Exactly one of many racing creators wins where the backend promises atomicity.
	if !s.Capabilities().AtomicCreateExclusive {
		return
	}
	const racers = 8
	var wg sync.WaitGroup
	errs := make([]error, racers)
	for i := range racers {
		wg.Go(func() { errs[i] = s.CreateExclusive(ctx(t), "race/marker", []byte(fmt.Sprint(i))) })
	}
	wg.Wait()
	winners := 0
	for i, err := range errs {
		switch {
		case err == nil:
			winners++
		case !errors.Is(err, backend.ErrExist):
			t.Errorf("racer %d: %v", i, err)
		}
	}
	if winners != 1 {
		t.Errorf("%d of %d racing CreateExclusive calls succeeded, want exactly 1", winners, racers)
	}
	// The losers leave nothing behind that List would report.
	infos, err := s.List(ctx(t), "race")
	if err != nil {
		t.Fatal(err)
	}
	if got := paths(infos); len(got) != 1 || got[0] != "race/marker" {
		t.Errorf("List(\"race\") after the race = %v, want [race/marker]", got)
	}
}

func testNotExist(t *testing.T, s backend.Store) {
	_, err := s.Open(ctx(t), "no/such/file")
	wantNotExist(t, "Open", err)
	_, err = s.Stat(ctx(t), "no/such/file")
	wantNotExist(t, "Stat", err)
	wantNotExist(t, "Rename", s.Rename(ctx(t), "no/such/file", "elsewhere"))
	if err := s.Delete(ctx(t), "no/such/file"); err != nil {
		t.Errorf("Delete of a missing file: %v, want nil", err)
	}
	infos, err := s.List(ctx(t), "no/such/dir")
	if err != nil || len(infos) != 0 {
		t.Errorf("List of a missing directory = %v, %v; want nothing and no error", paths(infos), err)
	}
	// A directory is not a file.
	write(t, s, "dir/inner", []byte("x"), 10)
	_, err = s.Stat(ctx(t), "dir")
	wantNotExist(t, "Stat of a directory", err)
}

func testRename(t *testing.T, s backend.Store) {
	write(t, s, "tmp/abc.tmp", []byte("payload"), 3)
	// The target's directory does not exist yet: the core renames into new partition directories.
	if err := s.Rename(ctx(t), "tmp/abc.tmp", "topics/t/partition=3/t+3+0000000000+0000000009.avro"); err != nil {
		t.Fatalf("Rename: %v", err)
	}
	if got := string(read(t, s, "topics/t/partition=3/t+3+0000000000+0000000009.avro")); got != "payload" {
		t.Errorf("renamed file reads %q", got)
	}
	_, err := s.Stat(ctx(t), "tmp/abc.tmp")
	wantNotExist(t, "Stat of the rename's source", err)
}

func testRenameRefusesToReplace(t *testing.T, s backend.Store) {
	write(t, s, "from", []byte("new"), 10)
	write(t, s, "to/file", []byte("old"), 10)
	err := s.Rename(ctx(t), "from", "to/file")
	if !errors.Is(err, backend.ErrExist) {
		t.Fatalf("Rename onto an existing file: got %v, want an error wrapping backend.ErrExist", err)
	}
	if got := string(read(t, s, "to/file")); got != "old" {
		t.Errorf("target reads %q after a refused Rename, want %q", got, "old")
	}
	if got := string(read(t, s, "from")); got != "new" {
		t.Errorf("source reads %q after a refused Rename, want %q", got, "new")
	}
}

func testDelete(t *testing.T, s backend.Store) {
	write(t, s, "d/one", []byte("1"), 10)
	write(t, s, "d/two", []byte("2"), 10)
	if err := s.Delete(ctx(t), "d/one"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err := s.Stat(ctx(t), "d/one")
	wantNotExist(t, "Stat after Delete", err)
	if got := string(read(t, s, "d/two")); got != "2" {
		t.Errorf("Delete removed a neighbour: d/two reads %q", got)
	}
}

func testListRecursiveSorted(t *testing.T, s backend.Store) {
	// Written out of order, with names whose byte order differs from a naive per-directory walk
	// ("a/b-c" sorts before "a/b/..." because '-' < '/').
	files := []string{
		"topics/t/partition=1/f2", "topics/t/partition=0/f1", "topics/t/partition=0/f0",
		"topics/u/x", "topics/t-extra", "topics/t/partition=10/f", "logs/t/0/log", "root",
		"a/b/c", "a/b-c",
	}
	for i, f := range files {
		write(t, s, f, []byte(strings.Repeat("z", i+1)), 10)
	}
	all, err := s.List(ctx(t), "")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"a/b-c", "a/b/c", "logs/t/0/log", "root", "topics/t-extra", "topics/t/partition=0/f0",
		"topics/t/partition=0/f1", "topics/t/partition=1/f2", "topics/t/partition=10/f", "topics/u/x",
	}
	if got := paths(all); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("List(\"\") = %v\nwant %v", got, want)
	}
	for _, fi := range all {
		for i, f := range files {
			if f == fi.Path && fi.Size != int64(i+1) {
				t.Errorf("List reports %s with size %d, want %d", f, fi.Size, i+1)
			}
		}
	}
	sub, err := s.List(ctx(t), "topics/t")
	if err != nil {
		t.Fatal(err)
	}
	// A directory prefix lists that directory only, not its siblings that share the name's start.
	wantSub := []string{"topics/t/partition=0/f0", "topics/t/partition=0/f1", "topics/t/partition=1/f2", "topics/t/partition=10/f"}
	if got := paths(sub); strings.Join(got, ",") != strings.Join(wantSub, ",") {
		t.Errorf("List(\"topics/t\") = %v\nwant %v", got, wantSub)
	}
	withSlash, err := s.List(ctx(t), "topics/t/")
	if err != nil {
		t.Fatal(err)
	}
	if got := paths(withSlash); strings.Join(got, ",") != strings.Join(wantSub, ",") {
		t.Errorf("List(\"topics/t/\") = %v\nwant %v", got, wantSub)
	}
}

func testConcurrentWriters(t *testing.T, s backend.Store) {
	const writers = 6
	var wg sync.WaitGroup
	ws := make([]backend.Writer, writers)
	for i := range writers {
		w, err := s.Create(ctx(t), fmt.Sprintf("conc/p%d/file", i))
		if err != nil {
			t.Fatal(err)
		}
		ws[i] = w
	}
	errs := make([]error, writers)
	for i, w := range ws {
		wg.Go(func() {
			line := []byte(fmt.Sprintf("writer %d line\n", i))
			for range 2000 {
				if _, err := w.Write(line); err != nil {
					errs[i] = err
					_ = w.Abort()
					return
				}
			}
			if i%3 == 2 {
				errs[i] = w.Abort()
				return
			}
			errs[i] = w.Close()
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	for i := range writers {
		path := fmt.Sprintf("conc/p%d/file", i)
		if i%3 == 2 {
			_, err := s.Stat(ctx(t), path)
			wantNotExist(t, "Stat of an aborted concurrent file", err)
			continue
		}
		want := bytes.Repeat([]byte(fmt.Sprintf("writer %d line\n", i)), 2000)
		if got := read(t, s, path); !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes, not the %d its writer wrote", path, len(got), len(want))
		}
	}
}

func testURL(t *testing.T, s backend.Store) {
	if s.URL() == "" {
		t.Error("URL() is empty")
	}
}
