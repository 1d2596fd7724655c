// Package local is the storage backend for a directory of the local filesystem (store.url
// file:///path). Files are written in place and made durable with fsync of the file and of its
// directory; Rename never replaces a file, so the sink core can commit with renames.
package local

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/kconnect/kconnect/connectors/storage/backend"
)

func init() {
	backend.Register("file", func(_ context.Context, rawURL string, _ map[string]string) (backend.Store, error) {
		return OpenURL(rawURL)
	})
}

// writeBuffer is how much a Writer gathers before a write system call.
const writeBuffer = 256 << 10

// Store is a backend.Store rooted at a local directory.
type Store struct {
	root string
	url  string
}

var _ backend.Store = (*Store)(nil)

// OpenURL opens the store for a file:// URL (file:///abs/path); the directory is created when
// missing.
func OpenURL(rawURL string) (*Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("local storage URL %q: %w", rawURL, err)
	}
	if u.Scheme != "file" || (u.Host != "" && u.Host != "localhost") || u.Path == "" {
		return nil, fmt.Errorf("local storage URL %q: want file:///absolute/path", rawURL)
	}
	s, err := New(u.Path)
	if err != nil {
		return nil, err
	}
	s.url = rawURL
	return s, nil
}

// New opens the store rooted at dir, creating it when missing.
func New(dir string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("local storage directory %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("create local storage directory %s: %w", abs, err)
	}
	return &Store{root: abs, url: "file://" + abs}, nil
}

// Capabilities implements backend.Store: renames are atomic and never replace a file.
func (s *Store) Capabilities() backend.Capabilities {
	return backend.Capabilities{AtomicRename: true, AtomicCreateExclusive: true}
}

// URL implements backend.Store.
func (s *Store) URL() string { return s.url }

// Close implements backend.Store; a local store holds nothing open.
func (s *Store) Close() error { return nil }

// abs maps a store path to a filesystem path, refusing paths that leave the root.
func (s *Store) abs(path string) (string, error) {
	clean := filepath.Clean(filepath.FromSlash("/" + path))
	if clean == string(filepath.Separator) && path != "" {
		return "", fmt.Errorf("invalid storage path %q", path)
	}
	if strings.Contains(path, "\x00") {
		return "", fmt.Errorf("invalid storage path %q", path)
	}
	return filepath.Join(s.root, clean), nil
}

// Create implements backend.Store, writing in place through a buffer.
func (s *Store) Create(_ context.Context, path string) (backend.Writer, error) {
	p, err := s.abs(path)
	if err != nil {
		return nil, err
	}
	if err := mkdirs(filepath.Dir(p)); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", p, err)
	}
	return &writer{f: f, buf: bufio.NewWriterSize(f, writeBuffer)}, nil
}

// CreateExclusive implements backend.Store: data goes to a hidden temporary file first, which is
// then linked under path (link fails when path exists), so path never holds a partial file.
func (s *Store) CreateExclusive(_ context.Context, path string, data []byte) error {
	p, err := s.abs(path)
	if err != nil {
		return err
	}
	dir := filepath.Dir(p)
	if err := mkdirs(dir); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".excl-*")
	if err != nil {
		return fmt.Errorf("create temporary file for %s: %w", p, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err := os.Link(tmp.Name(), p); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create %s: %w", path, backend.ErrExist)
		}
		return fmt.Errorf("link %s: %w", p, err)
	}
	return syncDir(dir)
}

// Open implements backend.Store.
func (s *Store) Open(_ context.Context, path string) (io.ReadCloser, error) {
	p, err := s.abs(path)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, mapErr("open", path, err)
	}
	return f, nil
}

// Stat implements backend.Store.
func (s *Store) Stat(_ context.Context, path string) (backend.FileInfo, error) {
	p, err := s.abs(path)
	if err != nil {
		return backend.FileInfo{}, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return backend.FileInfo{}, mapErr("stat", path, err)
	}
	if fi.IsDir() {
		return backend.FileInfo{}, fmt.Errorf("stat %s: is a directory: %w", path, backend.ErrNotExist)
	}
	return backend.FileInfo{Path: path, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// List implements backend.Store.
func (s *Store) List(_ context.Context, prefix string) ([]backend.FileInfo, error) {
	p, err := s.abs(prefix)
	if err != nil {
		return nil, err
	}
	var out []backend.FileInfo
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".excl-") {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		rel, err := filepath.Rel(s.root, path)
		if err != nil {
			return err
		}
		out = append(out, backend.FileInfo{Path: filepath.ToSlash(rel), Size: fi.Size(), ModTime: fi.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", p, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Rename implements backend.Store with renameat2(RENAME_NOREPLACE), or link and unlink where the
// filesystem lacks it; both fail when to exists. Both directories are synced afterwards.
func (s *Store) Rename(_ context.Context, from, to string) error {
	pf, err := s.abs(from)
	if err != nil {
		return err
	}
	pt, err := s.abs(to)
	if err != nil {
		return err
	}
	if err := mkdirs(filepath.Dir(pt)); err != nil {
		return err
	}
	err = unix.Renameat2(unix.AT_FDCWD, pf, unix.AT_FDCWD, pt, unix.RENAME_NOREPLACE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.ENOTSUP) {
		err = os.Link(pf, pt)
		if err == nil {
			err = os.Remove(pf)
		}
	}
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("rename %s to %s: %w", from, to, backend.ErrExist)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("rename %s to %s: %w", from, to, backend.ErrNotExist)
	default:
		return fmt.Errorf("rename %s to %s: %w", pf, pt, err)
	}
	if err := syncDir(filepath.Dir(pt)); err != nil {
		return err
	}
	return syncDir(filepath.Dir(pf))
}

// Delete implements backend.Store.
func (s *Store) Delete(_ context.Context, path string) error {
	p, err := s.abs(path)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("delete %s: %w", p, err)
	}
	return syncDir(filepath.Dir(p))
}

type writer struct {
	f    *os.File
	buf  *bufio.Writer
	done bool
}

func (w *writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, fmt.Errorf("write %s: %w", w.f.Name(), os.ErrClosed)
	}
	return w.buf.Write(p)
}

// Close flushes, fsyncs the file and its directory, so the file survives a power loss.
func (w *writer) Close() error {
	if w.done {
		return fmt.Errorf("close %s: %w", w.f.Name(), os.ErrClosed)
	}
	w.done = true
	if err := w.buf.Flush(); err != nil {
		w.f.Close()
		return fmt.Errorf("write %s: %w", w.f.Name(), err)
	}
	if err := w.f.Sync(); err != nil {
		w.f.Close()
		return fmt.Errorf("sync %s: %w", w.f.Name(), err)
	}
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", w.f.Name(), err)
	}
	return syncDir(filepath.Dir(w.f.Name()))
}

func (w *writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.f.Close()
	if err := os.Remove(w.f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("abort %s: %w", w.f.Name(), err)
	}
	return nil
}

func mkdirs(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create directory %s: %w", dir, err)
	}
	return nil
}

// syncDir makes a directory entry change (create, rename, delete) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

func mapErr(op, path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s %s: %w", op, path, backend.ErrNotExist)
	}
	return fmt.Errorf("%s %s: %w", op, path, err)
}
