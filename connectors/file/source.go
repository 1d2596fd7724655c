package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/kconnect/kconnect/connect"
)

// Configuration keys of the source. file, topic and batch.size are upstream's.
const (
	fileConfig         = "file"
	topicConfig        = "topic"
	batchSizeConfig    = "batch.size"
	maxLineBytesConfig = "max.line.bytes"
)

// Source partition and offset fields, named as upstream's FileStreamSourceTask names them so that
// offsets committed by a Java worker are understood here and the other way round.
const (
	filenameField = "filename"
	positionField = "position"
)

const (
	defaultBatchSize    = 2000
	defaultMaxLineBytes = 16 << 20
	// readBufferSize is the initial read buffer; it grows only while a single line does not fit.
	readBufferSize = 64 << 10
	// idleWait bounds how long Poll waits for new data (or for a missing file to appear) before
	// returning nothing, like upstream's one-second wait, so the runtime gets to its periodic work.
	idleWait = time.Second
	// tailInterval is how often a caught-up task looks for appended data while it waits.
	tailInterval = 100 * time.Millisecond
)

// stdin is what the source reads when no file is configured; tests replace it.
var stdin io.Reader = os.Stdin

func sourceConfigDef() *connect.ConfigDef {
	return connect.NewConfigDef().
		Define(connect.ConfigKey{
			Name: fileConfig, Type: connect.ConfigString, Importance: connect.High,
			Doc: "Path of the file to read. The task follows the file as it grows and resumes after the last committed line when restarted. When unset or empty, standard input is read and no position is tracked.",
		}).
		Define(connect.ConfigKey{
			Name: topicConfig, Type: connect.ConfigString, Required: true, Validator: singleTopic(),
			Importance: connect.High, Doc: "Topic every line is written to.",
		}).
		Define(connect.ConfigKey{
			Name: batchSizeConfig, Type: connect.ConfigInt, Default: fmt.Sprint(defaultBatchSize),
			Validator: connect.AtLeast(1), Importance: connect.Low,
			Doc: "Most lines returned by one poll of the task.",
		}).
		Define(connect.ConfigKey{
			Name: maxLineBytesConfig, Type: connect.ConfigInt, Default: fmt.Sprint(defaultMaxLineBytes),
			Validator: connect.AtLeast(1), Importance: connect.Low,
			Doc: "Longest line, in bytes without its terminator, the task accepts; a longer line fails the task rather than growing its buffer without bound. A kconnect addition.",
		})
}

// singleTopic accepts one non-empty topic name; a comma-separated list, which a sink would
// accept, is a mistake here.
func singleTopic() connect.Validator {
	nonEmpty := connect.NonEmptyString()
	return connect.ValidatorFunc("a single topic name", func(name string, v any) error {
		if err := nonEmpty.Validate(name, v); err != nil {
			return err
		}
		if s, _ := v.(string); strings.Contains(s, ",") {
			return fmt.Errorf("invalid value %s for configuration %s: the file source writes to a single topic, not a list", s, name)
		}
		return nil
	})
}

// SourceConnector is FileStreamSource: one task reading one file or standard input.
type SourceConnector struct {
	props map[string]string
}

var _ connect.SourceConnector = (*SourceConnector)(nil)

// Version implements connect.Versioned.
func (c *SourceConnector) Version() string { return version }

// ConfigDef implements connect.Configurable.
func (c *SourceConnector) ConfigDef() *connect.ConfigDef { return sourceConfigDef() }

// Start checks the configuration and keeps it for the task.
func (c *SourceConnector) Start(ctx connect.ConnectorContext, props map[string]string) error {
	cfg, err := sourceConfigDef().Parse(props)
	if err != nil {
		return fmt.Errorf("file source configuration: %w", err)
	}
	c.props = maps.Clone(props)
	ctx.Logger().Info("starting file source connector", "file", displayName(cfg.String(fileConfig), "standard input"))
	return nil
}

// TaskConfigs returns a single task configuration whatever maxTasks is: a file has one reader.
func (c *SourceConnector) TaskConfigs(int) ([]map[string]string, error) {
	return []map[string]string{maps.Clone(c.props)}, nil
}

// Stop implements connect.Connector; the connector holds no resources.
func (c *SourceConnector) Stop() error { return nil }

// NewTask implements connect.SourceConnector.
func (c *SourceConnector) NewTask() connect.SourceTask { return &SourceTask{} }

func displayName(path, std string) string {
	if path == "" {
		return std
	}
	return path
}

// SourceTask reads lines from a file or standard input. Lines end at LF, CRLF or a lone CR, as
// upstream splits them; each record's offset is the byte position just after its line's
// terminator, so a restart continues with the first line not yet committed.
type SourceTask struct {
	log       *slog.Logger
	path      string // "" reads standard input
	topic     string
	batchSize int
	maxLine   int
	partition map[string]any
	startPos  int64 // committed position to seek to when the file is opened

	mu      sync.Mutex // guards in and stopped against a concurrent Stop
	in      input
	stopped bool
	missing bool // the file was missing at the last attempt to open it

	// buf[r:w] holds bytes read but not yet cut into text.
	buf  []byte
	r, w int
	// text holds whole lines not yet emitted. Lines are cut from it as substrings so that a
	// chunk of lines costs one string allocation rather than one per line.
	text      string
	textValid bool // text is valid UTF-8
	pos       int64
	lastBatch int // records returned by the previous poll, to size the next batch
}

var _ connect.SourceTask = (*SourceTask)(nil)

// Version implements connect.Versioned.
func (t *SourceTask) Version() string { return version }

// Start parses the configuration and, for a file, reads its committed position. The file itself
// is opened by Poll so that a file that does not exist yet is waited for rather than fatal.
func (t *SourceTask) Start(ctx connect.SourceTaskContext, props map[string]string) error {
	cfg, err := sourceConfigDef().Parse(props)
	if err != nil {
		return fmt.Errorf("file source task configuration: %w", err)
	}
	t.path = cfg.String(fileConfig)
	t.topic = cfg.String(topicConfig)
	t.batchSize = cfg.Int(batchSizeConfig)
	t.maxLine = cfg.Int(maxLineBytesConfig)
	t.log = ctx.Logger().With("file", displayName(t.path, "stdin"))
	t.buf = make([]byte, min(readBufferSize, t.maxLine+2))
	t.r, t.w, t.text, t.pos = 0, 0, "", 0

	if t.path == "" {
		// Upstream tracks no position for standard input: partition and offset carry nulls.
		t.partition = map[string]any{filenameField: nil}
		t.in = newStdinInput(stdin)
		return nil
	}
	t.partition = map[string]any{filenameField: t.path}
	off, err := ctx.Offsets().Offset(t.partition)
	if err != nil {
		return fmt.Errorf("read committed offset of %s: %w", t.path, err)
	}
	pos, ok, err := connect.OffsetInt64(off, positionField)
	if err != nil {
		return fmt.Errorf("committed offset of %s: %w", t.path, err)
	}
	if pos < 0 {
		return fmt.Errorf("committed offset of %s: position %d is negative", t.path, pos)
	}
	t.startPos = pos
	if ok {
		t.log.Debug("resuming after committed position", "position", pos)
	}
	return nil
}

// Poll returns up to batch.size complete lines. When there is nothing to read it waits up to a
// second for the file to grow (or to appear) and then returns nothing. A last line without its
// terminator is held back until the terminator arrives, as upstream does.
func (t *SourceTask) Poll(ctx context.Context) ([]connect.SourceRecord, error) {
	in, err := t.input()
	if err != nil {
		return nil, err
	}
	if in == nil {
		sleep(ctx, idleWait)
		return nil, nil
	}
	var out []connect.SourceRecord
	now := time.Now()
	var deadline time.Time
	for len(out) < t.batchSize {
		if t.text != "" {
			before := len(out)
			if out, err = t.emit(out, now); err != nil {
				return nil, err
			}
			if len(out) == before {
				// Stopped at an over-long line: deliver the lines before it first.
				break
			}
			continue
		}
		if t.cut() {
			continue
		}
		n, err := t.fill(in)
		if err != nil {
			if t.isStopped() {
				return nil, nil
			}
			return nil, err
		}
		if n > 0 {
			continue
		}
		if len(out) > 0 {
			break
		}
		if deadline.IsZero() {
			deadline = now.Add(idleWait)
		}
		remaining := time.Until(deadline)
		if remaining <= 0 || ctx.Err() != nil {
			break
		}
		in.wait(ctx, remaining)
	}
	t.lastBatch = len(out)
	return out, nil
}

// input returns the open input, opening the file on first use; nil means the file does not exist
// yet or the task is stopping.
func (t *SourceTask) input() (input, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.in != nil || t.stopped {
		return t.in, nil
	}
	f, err := os.Open(t.path)
	if errors.Is(err, fs.ErrNotExist) {
		if !t.missing {
			t.log.Warn("file does not exist; waiting for it to be created")
			t.missing = true
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", t.path, err)
	}
	if t.startPos > 0 {
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("stat %s: %w", t.path, err)
		}
		if fi.Size() < t.startPos {
			f.Close()
			return nil, fmt.Errorf("file %s has %d bytes, fewer than its committed position %d: it was truncated or replaced; delete the connector's offsets to read it from the start", t.path, fi.Size(), t.startPos)
		}
		if _, err := f.Seek(t.startPos, io.SeekStart); err != nil {
			f.Close()
			return nil, fmt.Errorf("seek %s to committed position %d: %w", t.path, t.startPos, err)
		}
	}
	t.missing = false
	t.pos = t.startPos
	t.in = &fileInput{f: f, path: t.path, off: t.startPos}
	t.log.Debug("opened file", "position", t.startPos)
	return t.in, nil
}

func (t *SourceTask) isStopped() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stopped
}

// emit turns lines of text into records until text is used up or the batch is full. A line over
// max.line.bytes ends the batch before it, and fails the poll that reaches it first.
func (t *SourceTask) emit(out []connect.SourceRecord, now time.Time) ([]connect.SourceRecord, error) {
	if out == nil {
		// Size the batch like the previous one: full batches while catching up on a backlog,
		// small ones while following a file that grows slowly.
		out = make([]connect.SourceRecord, 0, min(t.batchSize, max(t.lastBatch, 64)))
	}
	for t.text != "" && len(out) < t.batchSize {
		line, next := splitLine(t.text)
		if len(line) > t.maxLine {
			if len(out) > 0 {
				return out, nil
			}
			return nil, t.tooLong()
		}
		t.text = t.text[next:]
		var offset map[string]any
		if t.path == "" {
			offset = map[string]any{positionField: nil}
		} else {
			t.pos += int64(next)
			offset = map[string]any{positionField: t.pos}
		}
		if !t.textValid {
			line = replaceInvalidUTF8(line)
		}
		rec := connect.NewSourceRecord(t.partition, offset, t.topic, nil, nil, connect.StringSchema, line)
		rec.Timestamp = now
		out = append(out, rec)
	}
	return out, nil
}

func (t *SourceTask) tooLong() error {
	return fmt.Errorf("read %s: the line starting at byte %d is longer than %s=%d bytes", displayName(t.path, "stdin"), t.pos, maxLineBytesConfig, t.maxLine)
}

// cut moves the whole lines at the front of the buffer into text and reports whether there were any.
func (t *SourceTask) cut() bool {
	b := t.buf[t.r:t.w]
	end := wholeLines(b)
	if end == 0 {
		return false
	}
	t.textValid = utf8.Valid(b[:end])
	t.text = string(b[:end])
	t.r += end
	return true
}

// fill reads more bytes into the buffer, growing it while one line does not fit, and returns how
// many bytes arrived.
func (t *SourceTask) fill(in input) (int, error) {
	if t.r > 0 {
		t.w = copy(t.buf, t.buf[t.r:t.w])
		t.r = 0
	}
	if t.w == len(t.buf) {
		// The buffer holds part of a single line (wholeLines found no end in it).
		limit := t.maxLine + 2
		if len(t.buf) >= limit {
			return 0, t.tooLong()
		}
		grown := make([]byte, min(2*len(t.buf), limit))
		copy(grown, t.buf[:t.w])
		t.buf = grown
	} else if len(t.buf) > readBufferSize && t.w < readBufferSize/2 {
		// A long line made the buffer grow; return to the normal size once it is gone.
		small := make([]byte, readBufferSize)
		t.w = copy(small, t.buf[:t.w])
		t.buf = small
	}
	n, err := in.read(t.buf[t.w:])
	t.w += n
	return n, err
}

// Commit implements connect.SourceTask; a file needs no acknowledgement.
func (t *SourceTask) Commit(context.Context, []connect.SourceOffset) error { return nil }

// Stop closes the input; a Poll in progress returns without error.
func (t *SourceTask) Stop() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped || t.in == nil {
		t.stopped = true
		return nil
	}
	t.stopped = true
	err := t.in.close()
	t.in = nil
	if err != nil {
		return fmt.Errorf("close %s: %w", displayName(t.path, "stdin"), err)
	}
	return nil
}

// wholeLines returns the length of the longest prefix of b made of terminated lines. A CR as the
// very last byte does not end a line yet: the byte after it decides between CR and CRLF.
func wholeLines(b []byte) int {
	i := lastTerminator(b)
	if i < 0 {
		return 0
	}
	if b[i] == '\r' && i == len(b)-1 {
		return lastTerminator(b[:i]) + 1
	}
	return i + 1
}

func lastTerminator(b []byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' || b[i] == '\r' {
			return i
		}
	}
	return -1
}

// splitLine returns the first line of s, which ends with a terminator, and the length of the line
// with its terminator. A CR directly followed by LF is one terminator; a lone CR ends a line too.
func splitLine(s string) (string, int) {
	nl := strings.IndexByte(s, '\n')
	limit := nl
	if nl < 0 {
		limit = len(s)
	}
	if cr := strings.IndexByte(s[:limit], '\r'); cr >= 0 {
		if cr+1 < len(s) && s[cr+1] == '\n' {
			return s[:cr], cr + 2
		}
		return s[:cr], cr + 1
	}
	return s[:nl], nl + 1
}

// replaceInvalidUTF8 replaces each byte that is not part of a valid UTF-8 sequence with U+FFFD.
// Upstream decodes the file as UTF-8 with replacement, so its records never carry invalid text;
// it replaces per malformed sequence, which is the same for the common case of single stray bytes
// (Latin-1 text) and may give fewer replacement characters for truncated multi-byte sequences.
func replaceInvalidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[:size])
		}
		s = s[size:]
	}
	return b.String()
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
}

// ExactlyOnceSupport implements connect.ExactlyOnceConnector as upstream's FileStreamSource: a
// file is read again from the committed position, standard input cannot be.
func (c *SourceConnector) ExactlyOnceSupport(props map[string]string) bool {
	return strings.TrimSpace(props[fileConfig]) != ""
}
