package broker

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// TestCommitIntentIsWrittenBeforeTheMarkersAndClearedAfter checks the intent's life: kfake
// finds it written down when it handles an EndTxn that commits, and it is clear once the
// producer has the answer, with EndTxn v5 (the epoch moves on with each transaction) and v4
// (it does not, so a stale intent would name the producer's next transaction). Aborts write
// none.
func TestCommitIntentIsWrittenBeforeTheMarkersAndClearedAfter(t *testing.T) {
	for _, endTxnVersion := range []int16{4, 5} {
		t.Run(fmt.Sprintf("EndTxn v%d", endTxnVersion), func(t *testing.T) {
			dir := t.TempDir()
			b := start(t, Options{DataDir: dir})
			versions := kversion.Stable()
			versions.SetMaxKeyVersion(int16(kmsg.EndTxn), endTxnVersion)
			cl := newClient(t, b, kgo.TransactionalID("intent"), kgo.DefaultProduceTopic("intent"),
				kgo.MaxVersions(versions), kgo.AllowAutoTopicCreation())
			seen := make(chan string, 4)
			b.cluster.ControlKey(int16(kmsg.EndTxn), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
				b.cluster.KeepControl()
				req := kreq.(*kmsg.EndTxnRequest)
				pid, epoch, ok, err := readIntent(dir)
				switch {
				case err != nil:
					seen <- err.Error()
				case ok != req.Commit || ok && (pid != req.ProducerID || epoch != req.ProducerEpoch):
					seen <- fmt.Sprintf("EndTxn commit=%v of %d/%d met intent %v %d/%d", req.Commit, req.ProducerID, req.ProducerEpoch, ok, pid, epoch)
				default:
					seen <- ""
				}
				return nil, nil, false
			})
			ctx := testContext(t)
			for _, end := range []kgo.TransactionEndTry{kgo.TryCommit, kgo.TryAbort, kgo.TryCommit, kgo.TryCommit} {
				if err := cl.BeginTransaction(); err != nil {
					t.Fatal(err)
				}
				if err := cl.ProduceSync(ctx, kgo.StringRecord("v")).FirstErr(); err != nil {
					t.Fatal(err)
				}
				if err := cl.EndTransaction(ctx, end); err != nil {
					t.Fatal(err)
				}
				select {
				case msg := <-seen:
					if msg != "" {
						t.Error(msg)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("kfake handled no EndTxn")
				}
				if _, _, ok, err := readIntent(dir); ok || err != nil {
					t.Errorf("after the answer to EndTxn commit=%v the intent is still there (%v)", end, err)
				}
			}
		})
	}
}

// TestCrashBetweenCommitMarkersCompletesTheCommit crashes the broker (SIGKILL, no halt) while
// it writes a committing transaction's markers: a full disk fails the marker write of
// partition 1, and the broker kills itself at kfake's log of that failure. kfake writes the
// markers in random order, so the crash lands either between the two markers or before both;
// the test repeats until it has seen a crash between them, checked on disk. Either way the
// next start must complete the commit where it is open, so read_committed consumers see the
// transaction whole: without the intent, recovery aborted it there.
func TestCrashBetweenCommitMarkersCompletesTheCommit(t *testing.T) {
	between, before := 0, 0
	for attempt := 0; attempt < 16 && between == 0; attempt++ {
		dir := t.TempDir()
		mountSmallTmpfs(t, dir)
		committed := make(map[string]bool)
		s := serve(t, dir, serveKillOnEnv+"=endTx: failed to persist control batch")
		createTopics(t, s.addr, "txn")
		lsoRound(t, s.addr, "before", "tx", "", committed)

		written, free := endOnFullDisk(t, dir, s, "crashing", true)
		free()

		open0, _, _, err := scanPartition(filepath.Join(dir, "partitions", "txn-0"))
		if err != nil {
			t.Fatal(err)
		}
		if len(open0) == 0 {
			between++
		} else {
			before++
		}
		for _, v := range written {
			committed[v] = true
		}
		s = serve(t, dir)
		checkStable(t, "restart after a crash while writing commit markers", s.addr)
		checkCommitted(t, "restart after a crash while writing commit markers", s.addr, committed)
		s.stop(t)
	}
	t.Logf("crashes between the markers: %d, before both: %d", between, before)
	if between == 0 {
		t.Fatal("no crash in 16 landed between the two markers")
	}
}
