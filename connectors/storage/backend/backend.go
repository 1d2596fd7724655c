// Package backend is the small storage interface the storage sinks write through. Each backend
// (local files, HDFS, S3) implements Store in a subpackage; the sink core decides how to commit a
// file from what the backend can do atomically (Capabilities).
package backend

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrNotExist is returned (wrapped) by Open, Stat and Rename for a path that does not exist.
var ErrNotExist = errors.New("does not exist")

// FileInfo describes one stored file.
type FileInfo struct {
	// Path is the file's path relative to the store's root, with "/" separators.
	Path    string
	Size    int64
	ModTime time.Time
}

// Writer streams one file into the store. The file becomes visible under its path only when
// Close succeeds (S3 completes the multipart upload then; local and HDFS files exist while being
// written, so the core writes them under temporary names and renames them). Abort discards what
// was written; after Close or Abort the writer must not be used.
type Writer interface {
	io.Writer
	// Close makes the file durable and visible.
	Close() error
	// Abort discards the file.
	Abort() error
}

// Capabilities says what a backend guarantees, so the core can pick its commit protocol.
type Capabilities struct {
	// AtomicRename: Rename atomically replaces nothing and moves a visible file (local, HDFS);
	// the core then writes temporary files and commits them with a write-ahead log of renames.
	// Without it (S3), the core writes each file once under its final, deterministic name.
	AtomicRename bool
	// AtomicCreateExclusive: CreateExclusive fails with ErrExist when the path exists (local,
	// HDFS, S3 with conditional writes); used for put-if-absent commit protocols.
	AtomicCreateExclusive bool
}

// ErrExist is returned (wrapped) by CreateExclusive and Rename when the target already exists.
var ErrExist = errors.New("already exists")

// Store is one storage backend rooted at a base location (a directory, an HDFS path, a bucket
// and prefix). Paths are relative to that root and use "/" separators. Implementations are safe
// for concurrent use by several goroutines.
type Store interface {
	// Capabilities reports the backend's guarantees.
	Capabilities() Capabilities
	// Create starts writing a file at path, replacing any file there when the writer closes.
	// Missing parent directories are created.
	Create(ctx context.Context, path string) (Writer, error)
	// CreateExclusive writes data to path in one step, failing with ErrExist when path exists.
	CreateExclusive(ctx context.Context, path string, data []byte) error
	// Open reads a file.
	Open(ctx context.Context, path string) (io.ReadCloser, error)
	// Stat describes a file.
	Stat(ctx context.Context, path string) (FileInfo, error)
	// List returns every file under prefix (a directory path, or "" for all), recursively,
	// sorted by path.
	List(ctx context.Context, prefix string) ([]FileInfo, error)
	// Rename moves a file, failing with ErrExist when to exists. Backends without AtomicRename
	// may implement it as copy and delete.
	Rename(ctx context.Context, from, to string) error
	// Delete removes a file; deleting a missing file is not an error.
	Delete(ctx context.Context, path string) error
	// URL is the store's root as the user configured it, for logs and errors.
	URL() string
	// Close releases the backend's connections.
	Close() error
}
