package broker

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Fail-stop, as Apache Kafka does when a write to its only log dir fails: kfake
// changes what it serves before it writes it down and, when the write fails,
// logs the failure and serves the changed state anyway. Most visibly it drops
// a transaction from a partition before writing the partition's marker, so a
// failed marker write makes an aborted transaction's records visible to
// read_committed consumers, or commits a transaction in some of its
// partitions only. Exiting the process from the log call stops kfake before
// it serves any of that; the crash recovery of the next start (recover.go)
// then rebuilds what is on disk.

// exitStorageFailure is the exit code of a process halted by a storage failure.
const exitStorageFailure = 1

// intentFile holds the transaction whose commit a storage failure cut off
// between its markers. It is allocated at start so that writing it needs no
// new space on a full disk.
const (
	intentFile = "kconnect-commit-intent"
	intentSize = 4096
)

// haltMessages are the beginnings of the messages haltsOn halts on;
// TestHaltMessagesAreKfakes checks that kfake still logs them.
var haltMessages = []string{
	"endTx: failed to persist control batch", // the transaction is over in memory
	"persist group entry",                    // an acknowledged offset commit
	"persist pid entry",                      // a producer's epoch or transaction outcome
	"persist topics", "persist acls", "persist sasl", "persist broker configs", "persist quotas",
	"rebuildSegments", // compaction rewrites segments in place
	"delete topic",    // the partition dir would bring the topic back
}

// haltsOn reports whether a kfake log message is a failed write after which
// kfake's memory holds state its data dir does not, which clients could see.
// Not listed: "persist batch", a failed record write, after which kfake
// serves nothing new (a Produce fails; a failed marker write is reported
// again as "endTx: ..."); failed compactions of pids.log and groups.log,
// which leave the old files whole; messages of loading, which happen before
// anyone is served; and the state save of Close, which Close reports.
func haltsOn(msg string) bool {
	for _, p := range haltMessages {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// failStop halts the process on a storage failure kfake logs.
type failStop struct {
	dir    string
	intent *os.File

	mu     sync.Mutex
	ending kmsg.EndTxnRequest // the last EndTxn request kfake was handed
}

// newFailStop allocates the intent file of dir.
func newFailStop(dir string) (*failStop, error) {
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
	return &failStop{dir: dir, intent: f}, nil
}

// close closes the intent file; a nil failStop has nothing to close.
func (f *failStop) close() error {
	if f == nil {
		return nil
	}
	return f.intent.Close()
}

// observeEndTxn remembers an EndTxn request, which kfake handles right after
// its control functions return: its marker failures are logged with the
// producer ID only.
func (f *failStop) observeEndTxn(req kmsg.Request) {
	f.mu.Lock()
	f.ending = *req.(*kmsg.EndTxnRequest)
	f.mu.Unlock()
}

// halt writes down the commit a failed marker write cut off, logs why and
// exits the process.
func (f *failStop) halt(l *kfakeLogger, format string, args []any) {
	msg := fmt.Sprintf(format, args...)
	if strings.HasPrefix(format, "endTx:") && len(args) == 3 {
		f.mu.Lock()
		e := f.ending
		f.mu.Unlock()
		if pid, ok := args[2].(int64); ok && e.Commit && e.ProducerID == pid {
			// Kafka's coordinator logs a commit before writing its markers
			// and completes it after a crash; this is that log entry.
			line := fmt.Sprintf("commit %d %d\n", e.ProducerID, e.ProducerEpoch)
			if _, err := f.intent.WriteAt([]byte(line), 0); err != nil {
				msg += fmt.Sprintf("; and writing down the commit in progress failed: %v", err)
			}
		}
	}
	l.log.Error("embedded broker cannot write its data dir and stops the process so that no client sees state that is not on disk; the next start recovers the data dir",
		"data_dir", f.dir, "err", msg, "component", "kfake")
	os.Exit(exitStorageFailure)
}

// readIntent returns the producer whose commit a storage failure cut off,
// if any.
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
