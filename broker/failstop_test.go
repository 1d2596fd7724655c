package broker

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/internal/testenv"
)

// TestHaltOnFailedMarkerWrite checks the fail-stop of a broker whose data dir fills up while it
// writes the markers of a transaction: the standalone broker must exit non-zero, naming the data
// dir and the failure, before it serves the transaction as ended, and the next start must
// recover the data dir so that read_committed consumers see a commit in all of its partitions
// and an abort in none. The transaction's segment in partition 1 ends at a page boundary and
// the one in partition 0 does not, so on the full tmpfs the marker write fails in partition 1
// only: whichever partition kfake writes first, a commit is cut off either before any marker
// or between the two.
func TestHaltOnFailedMarkerWrite(t *testing.T) {
	for _, commit := range []bool{true, false} {
		t.Run(fmt.Sprintf("commit=%v", commit), func(t *testing.T) {
			dir := t.TempDir()
			mountSmallTmpfs(t, dir)
			committed := make(map[string]bool)

			s := serve(t, dir)
			createTopics(t, s.addr, "txn")
			lsoRound(t, s.addr, "before", "tx", "", committed)

			written, free := endOnFullDisk(t, dir, s, "failing", commit)
			if code := s.cmd.ProcessState.ExitCode(); code <= 0 {
				t.Errorf("broker exited with %v, want a non-zero exit code", s.cmd.ProcessState)
			}
			for _, want := range []string{dir, "endTx: failed to persist control batch"} {
				if !strings.Contains(s.stderr.String(), want) {
					t.Errorf("broker log does not name %q:\n%s", want, s.stderr)
				}
			}
			free()
			if commit {
				for _, v := range written {
					committed[v] = true
				}
			}
			s = serve(t, dir)
			checkStable(t, "restart after a failed marker write", s.addr)
			checkCommitted(t, "restart after a failed marker write", s.addr, committed)
		})
	}
}

// endOnFullDisk has a producer with transactional id write a transaction to both partitions
// of topic txn on s, whose data dir is on a small tmpfs, with the segment of partition 1 left at
// a page boundary; then fills the disk and ends the transaction, which must fail as s exits on
// the failed marker write of partition 1. It returns the values the transaction wrote and what
// frees the disk.
func endOnFullDisk(t *testing.T, dir string, s *servedBroker, id string, commit bool) (written []string, free func()) {
	t.Helper()
	txn := txnTopicProducer(t, s.addr, kgo.TransactionalID(id), kgo.ProducerBatchCompression(kgo.NoCompression()))
	defer txn.Close()
	if err := txn.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	produceToBoth(t, txn, id)
	padding := padToPage(t, txn, filepath.Join(dir, "partitions", "txn-1", "0.dat"))
	free = testenv.FillDisk(t, dir)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	err := txn.EndTransaction(ctx, kgo.TransactionEndTry(commit))
	cancel()
	if err == nil {
		t.Fatalf("ending the transaction on a full disk succeeded")
	}
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("broker still running 30 s after a marker write failed: %s", s.stderr)
	}
	return append(padding, id+"-p0", id+"-p1"), free
}

// mountSmallTmpfs puts dir on a 1 MiB tmpfs that testenv.FillDisk can fill, as test/faults does
// for its disk-full faults. Mounting needs root: without it the test fails under CI and skips
// elsewhere.
func mountSmallTmpfs(t *testing.T, dir string) {
	t.Helper()
	if err := testenv.MountTmpfs(t, dir, "1m"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

// padToPage produces, in cl's open transaction, a record to partition 1 that makes segment, the
// partition's segment file, end at a page boundary, where the next write needs a page of its
// own. A first record measures what kfake adds to a value. It returns the values of both.
func padToPage(t *testing.T, cl *kgo.Client, segment string) []string {
	t.Helper()
	page := int64(os.Getpagesize())
	produce := func(v string) int64 {
		before := fileSize(t, segment)
		if err := cl.ProduceSync(testContext(t), &kgo.Record{Partition: 1, Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatalf("produce %s: %v", v, err)
		}
		return fileSize(t, segment) - before
	}
	// Values of 64 to 8191 bytes have a length of the same size, so the overhead holds for the
	// pad too.
	const probeLen = 100
	probe := "failing-probe-" + strings.Repeat("x", probeLen-len("failing-probe-"))
	overhead := produce(probe) - probeLen
	gap := (page - fileSize(t, segment)%page) % page
	for gap < overhead+64 {
		gap += page
	}
	pad := "failing-pad-" + strings.Repeat("x", int(gap-overhead)-len("failing-pad-"))
	produce(pad)
	if size := fileSize(t, segment); size%page != 0 {
		t.Fatalf("%s holds %d bytes after the pad, not a whole number of %d byte pages", segment, size, page)
	}
	return []string{probe, pad}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Size()
}

// TestHaltMessagesAreKfakes checks, in the source of the kfake this module builds with, that
// kfake still logs each message the broker halts on, so that an upgrade that rewords one does
// not silently turn its fail-stop off. The kfake.persistState messages are "persist " and the
// name kfake passes it.
func TestHaltMessagesAreKfakes(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/twmb/franz-go/pkg/kfake").Output()
	if err != nil {
		t.Fatalf("go list kfake: %v", err)
	}
	files, err := filepath.Glob(filepath.Join(strings.TrimSpace(string(out)), "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("kfake source not found in %s: %v", out, err)
	}
	var src strings.Builder
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src.Write(b)
	}
	for _, m := range haltMessages {
		logged := strings.Contains(src.String(), `Logf(LogLevelError, "`+m) || strings.Contains(src.String(), `Logf(LogLevelWarn, "`+m)
		if name, ok := strings.CutPrefix(m, "persist "); ok && !logged {
			logged = strings.Contains(src.String(), `Logf(LogLevelWarn, "persist %s: %v", name`) &&
				strings.Contains(src.String(), `persistState("`+name+`"`)
		}
		if !logged {
			t.Errorf("kfake no longer logs %q", m)
		}
	}
}
