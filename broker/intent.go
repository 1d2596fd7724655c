package broker

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// kfake writes a commit's markers one partition after another and records
// the decision nowhere first, so a crash between two markers would leave the
// transaction committed in some partitions and, after recovery, aborted in
// the rest: for an exactly-once source, duplicates or a gap. Kafka's
// coordinator logs PrepareCommit before it writes markers and completes the
// commit after a crash. The commit intent is that log entry: written before
// kfake handles an EndTxn that commits, and cleared once kfake's answer
// leaves, before the producer can start its next transaction. kfake handles
// one request at a time, so the intent names the one commit that can be in
// progress. The next start completes a commit the intent names in every
// partition where it is still open (recover.go); a commit kfake had not
// begun is then made whole too, which its producer asked for with every
// record already acknowledged.

// intentFile holds the commit intent. It is allocated at start so that
// writing it needs no new space on a full disk.
const (
	intentFile = "kconnect-commit-intent"
	intentSize = 4096
)

// commitIntent keeps the commit intent of a data dir.
type commitIntent struct {
	path string
	log  *slog.Logger

	mu      sync.Mutex
	f       *os.File
	current *intentEntry // what the file holds; nil when clear
}

type intentEntry struct {
	producerID int64
	epoch      int16
}

// openCommitIntent allocates the intent file of dir.
func openCommitIntent(dir string, log *slog.Logger) (*commitIntent, error) {
	path := filepath.Join(dir, intentFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if info, err := f.Stat(); err != nil || info.Size() != intentSize {
		if _, err := f.WriteAt(make([]byte, intentSize), 0); err != nil {
			return nil, errors.Join(fmt.Errorf("allocate %s: %w", path, err), f.Close())
		}
		if err := f.Sync(); err != nil {
			return nil, errors.Join(fmt.Errorf("allocate %s: %w", path, err), f.Close())
		}
	}
	return &commitIntent{path: path, log: log, f: f}, nil
}

// close closes the intent file; a nil commitIntent has nothing to close.
func (c *commitIntent) close() error {
	if c == nil {
		return nil
	}
	return c.f.Close()
}

// begin writes down the commit an EndTxn request asks for, before kfake
// handles it. Like kfake's own writes it is not synced: it must outlive the
// process, not the machine.
func (c *commitIntent) begin(kreq kmsg.Request) {
	req := kreq.(*kmsg.EndTxnRequest)
	if !req.Commit {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	line := fmt.Sprintf("commit %d %d\n", req.ProducerID, req.ProducerEpoch)
	if _, err := c.f.WriteAt(append([]byte(line), 0), 0); err != nil {
		c.log.Error("embedded broker cannot write down a commit before its markers; a crash while they are written would leave the transaction committed in some partitions only",
			"file", c.path, "producer_id", req.ProducerID, "err", err)
		c.current = nil
		return
	}
	c.current = &intentEntry{req.ProducerID, req.ProducerEpoch}
}

// settle clears the intent once kfake answered the producer's commit,
// unless another commit has been written down since.
func (c *commitIntent) settle(producerID int64, epoch int16) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.current == nil || *c.current != (intentEntry{producerID, epoch}) {
		return
	}
	if _, err := c.f.WriteAt([]byte{0}, 0); err != nil {
		// Left in place, the intent names a commit that is complete: the
		// next start finds none of its transaction open and does nothing.
		c.log.Warn("embedded broker cannot clear a completed commit's intent", "file", c.path, "err", err)
		return
	}
	c.current = nil
}

// readIntent returns the producer whose commit the intent names, if any.
func readIntent(dir string) (pid int64, epoch int16, ok bool, err error) {
	path := filepath.Join(dir, intentFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, fmt.Errorf("read %s: %w", path, err)
	}
	line, _, _ := bytes.Cut(data, []byte{0})
	if len(line) == 0 {
		return 0, 0, false, nil
	}
	if _, err := fmt.Sscanf(string(line), "commit %d %d\n", &pid, &epoch); err != nil {
		return 0, 0, false, fmt.Errorf("parse %s: %q: %w", path, line, err)
	}
	return pid, epoch, true, nil
}

// clearIntent forgets the commit readIntent returned, once it is complete.
func clearIntent(dir string) error {
	path := filepath.Join(dir, intentFile)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("clear %s: %w", path, err)
	}
	_, werr := f.WriteAt(make([]byte, intentSize), 0)
	if werr == nil {
		werr = f.Sync()
	}
	if err := errors.Join(werr, f.Close()); err != nil {
		return fmt.Errorf("clear %s: %w", path, err)
	}
	return nil
}
