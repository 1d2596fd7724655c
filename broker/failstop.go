package broker

import (
	"fmt"
	"os"
	"strings"
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
	dir string
}

// halt logs why and exits the process. A commit whose markers it cuts off
// is completed by the next start: its intent is on disk (intent.go).
func (f *failStop) halt(l *kfakeLogger, format string, args []any) {
	l.log.Error("embedded broker cannot write its data dir and stops the process so that no client sees state that is not on disk; the next start recovers the data dir",
		"data_dir", f.dir, "err", fmt.Sprintf(format, args...), "component", "kfake")
	os.Exit(exitStorageFailure)
}
