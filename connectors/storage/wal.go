package storage

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/kconnect/kconnect/connectors/storage/backend"
)

// The write-ahead log of one topic partition (logs.dir/<topic>/<partition>/log) makes a commit
// of several files atomic on stores whose renames are atomic, as the HDFS connector's FSWAL does:
// the log is written and made durable with BEGIN, every temp→final pair and END before the
// first rename, and deleted after the last. Recovery redoes the renames of a log that reached
// END (a rename whose temporary file is gone already happened) and ignores one that did not, whose
// temporary files are then deleted as abandoned. Lines are JSON so paths may hold any character.
const (
	walBegin = "BEGIN"
	walEnd   = "END"
)

type walEntry struct {
	Temp  string `json:"temp"`
	Final string `json:"final"`
}

func walPath(logsDir, topic string, partition int32) string {
	return fmt.Sprintf("%s/%s/%d/log", logsDir, topic, partition)
}

// writeWAL stores the log of a commit durably.
func writeWAL(ctx context.Context, st backend.Store, path string, entries []walEntry) error {
	var b strings.Builder
	b.WriteString(walBegin + "\n")
	for _, e := range entries {
		line, err := json.Marshal(e)
		if err != nil {
			return err
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	b.WriteString(walEnd + "\n")
	w, err := st.Create(ctx, path)
	if err != nil {
		return fmt.Errorf("create write-ahead log %s: %w", path, err)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		_ = w.Abort()
		return fmt.Errorf("write write-ahead log %s: %w", path, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("close write-ahead log %s: %w", path, err)
	}
	return nil
}

// readWAL returns the entries of a complete log, or complete=false when there is no log or it
// ends before END (the commit never started its renames).
func readWAL(ctx context.Context, st backend.Store, path string) (entries []walEntry, complete bool, err error) {
	r, err := st.Open(ctx, path)
	if errors.Is(err, backend.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("open write-ahead log %s: %w", path, err)
	}
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	begun := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == walBegin:
			begun, entries = true, nil
		case line == walEnd && begun:
			return entries, true, nil
		case begun:
			var e walEntry
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				// A torn last line: the log never reached END.
				return nil, false, nil
			}
			entries = append(entries, e)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, false, fmt.Errorf("read write-ahead log %s: %w", path, err)
	}
	return nil, false, nil
}

// applyWAL finishes the commit a complete log describes.
func applyWAL(ctx context.Context, st backend.Store, entries []walEntry) error {
	for _, e := range entries {
		err := st.Rename(ctx, e.Temp, e.Final)
		switch {
		case err == nil, errors.Is(err, backend.ErrNotExist):
		case errors.Is(err, backend.ErrExist):
			if err := st.Delete(ctx, e.Temp); err != nil {
				return err
			}
		default:
			return fmt.Errorf("redo commit %s → %s: %w", e.Temp, e.Final, err)
		}
	}
	return nil
}
