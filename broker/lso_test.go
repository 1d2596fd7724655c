package broker

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// serveEnv makes TestMain run the standalone broker on the data dir it names, as
// `kconnect broker --data-dir` does, so that a test can kill it with SIGKILL or stop it with
// SIGTERM while its clients live on in the test process.
const serveEnv = "KCONNECT_BROKER_SERVE_CHILD"

// serveKillOnEnv makes the served broker crash (SIGKILL itself, without halting first) when
// kfake logs a message starting with its value.
const serveKillOnEnv = "KCONNECT_BROKER_SERVE_KILL_ON"

// servedBroker is a standalone broker in a child process.
type servedBroker struct {
	cmd    *exec.Cmd
	addr   string
	stderr *strings.Builder
	exited chan struct{}
}

// serve starts a standalone broker on dir in a child process, with env added to its
// environment.
func serve(t *testing.T, dir string, env ...string) *servedBroker {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(append(os.Environ(), serveEnv+"="+dir), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &servedBroker{cmd: cmd, stderr: new(strings.Builder), exited: make(chan struct{})}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-s.exited
	})
	lines := bufio.NewScanner(stdout)
	scanned := lines.Scan()
	go func() {
		for lines.Scan() { // nothing more is printed, but the pipe must be drained before Wait
		}
		_ = cmd.Wait()
		close(s.exited)
	}()
	if !scanned {
		<-s.exited
		t.Fatalf("broker exited before printing its address: %s", s.stderr)
	}
	s.addr = lines.Text()
	return s
}

// kill9 kills the broker with SIGKILL and waits for it to be gone.
func (s *servedBroker) kill9() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// stop stops the broker with SIGTERM, which saves its state, and fails the test unless it
// exits cleanly.
func (s *servedBroker) stop(t *testing.T) {
	t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("broker did not stop within 30 s of SIGTERM: %s", s.stderr)
	}
	if !s.cmd.ProcessState.Success() {
		t.Fatalf("broker stopped with %v: %s", s.cmd.ProcessState, s.stderr)
	}
}

// checkStable fails the test unless every partition of every topic has its last stable offset
// at its high watermark: nothing is left open that would hold read_committed consumers back.
// It writes nothing, so a broker that only catches its last stable offset up on the next write
// fails it.
func checkStable(t *testing.T, when, addr string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx := testContext(t)
	hwm, err := adm.ListEndOffsets(ctx)
	if err != nil {
		t.Fatalf("%s: list end offsets: %v", when, err)
	}
	lso, err := adm.ListCommittedOffsets(ctx) // read_committed: the last stable offsets
	if err != nil {
		t.Fatalf("%s: list last stable offsets: %v", when, err)
	}
	n := 0
	hwm.Each(func(h kadm.ListedOffset) {
		n++
		l, ok := lso.Lookup(h.Topic, h.Partition)
		switch {
		case h.Err != nil || !ok || l.Err != nil:
			t.Errorf("%s: %s-%d: offsets not listed: %v, %v", when, h.Topic, h.Partition, h.Err, l.Err)
		case l.Offset != h.Offset:
			t.Errorf("%s: %s-%d: last stable offset %d, high watermark %d", when, h.Topic, h.Partition, l.Offset, h.Offset)
		}
	})
	if n == 0 {
		t.Fatalf("%s: no partitions listed", when)
	}
}

// lsoRound writes to topic txn of the broker at addr: a non-transactional record and, under
// transactional id commit, a committed transaction in each partition, then, unless open is
// empty, a transaction under that transactional id that it leaves open. It returns the
// producer holding the open transaction, for the caller to close once the broker is gone.
func lsoRound(t *testing.T, addr, round, commit, open string, committed map[string]bool) *kgo.Client {
	t.Helper()
	plain := txnTopicProducer(t, addr)
	defer plain.Close()
	produceToBoth(t, plain, round+"-plain")
	for p := range 2 {
		committed[fmt.Sprintf("%s-plain-p%d", round, p)] = true
	}
	// Re-initialising the id of a transaction a crash left open must find it aborted, not
	// wait for it or commit it.
	txn := txnTopicProducer(t, addr, kgo.TransactionalID(commit))
	defer txn.Close()
	if err := txn.BeginTransaction(); err != nil {
		t.Fatalf("%s: begin: %v", round, err)
	}
	produceToBoth(t, txn, round+"-committed")
	if err := txn.EndTransaction(testContext(t), kgo.TryCommit); err != nil {
		t.Fatalf("%s: commit: %v", round, err)
	}
	for p := range 2 {
		committed[fmt.Sprintf("%s-committed-p%d", round, p)] = true
	}
	if open == "" {
		return nil
	}
	left := txnTopicProducer(t, addr, kgo.TransactionalID(open))
	if err := left.BeginTransaction(); err != nil {
		t.Fatalf("%s: begin: %v", round, err)
	}
	produceToBoth(t, left, round+"-open")
	return left
}

// txnTopicProducer returns a producer to topic txn of the broker at addr, unless opts name
// another, that picks partitions by the record's Partition.
func txnTopicProducer(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("txn"),
		kgo.RecordPartitioner(kgo.ManualPartitioner())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// produceToBoth produces the record prefix-p<N> to each of partitions 0 and 1.
func produceToBoth(t *testing.T, cl *kgo.Client, prefix string) {
	t.Helper()
	for p := range int32(2) {
		v := fmt.Sprintf("%s-p%d", prefix, p)
		if err := cl.ProduceSync(testContext(t), &kgo.Record{Partition: p, Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatalf("produce %s: %v", v, err)
		}
	}
}

// TestReadCommittedAfterKillNine checks that after a kill -9 of a broker with a data dir, a
// read_committed consumer reads every committed record up to the high watermark at once:
// non-transactional records, committed transactions, transactions left open by the kill
// (aborted during recovery, also when re-initialised by their producer), transactions open
// across a clean shutdown and then left open by a kill, and two kills with no write between.
func TestReadCommittedAfterKillNine(t *testing.T) {
	dir := t.TempDir()
	committed := make(map[string]bool)

	s := serve(t, dir)
	// Topic plain never sees a transaction; checkStable checks it along with txn.
	createTopics(t, s.addr, "txn", "plain")
	plain := txnTopicProducer(t, s.addr, kgo.DefaultProduceTopic("plain"))
	produceToBoth(t, plain, "plain")
	plain.Close()
	lsoRound(t, s.addr, "r0", "tx", "", committed)
	s.kill9()
	s = serve(t, dir)
	checkStable(t, "non-transactional and committed records, then kill -9", s.addr)
	checkCommitted(t, "non-transactional and committed records, then kill -9", s.addr, committed)

	left := lsoRound(t, s.addr, "r1", "tx", "tx", committed)
	s.kill9()
	left.Close()
	s = serve(t, dir)
	checkStable(t, "kill -9 with a transaction open", s.addr)
	checkCommitted(t, "kill -9 with a transaction open", s.addr, committed)

	// Re-initialises tx, the id of the transaction the last kill left open.
	left = lsoRound(t, s.addr, "r2", "tx", "tx2", committed)
	s.stop(t)
	left.Close()
	s = serve(t, dir)
	// The transaction open across the clean shutdown is still open, so no stability check
	// here; the kill leaves it open with no write since the snapshot the shutdown saved.
	s.kill9()
	s = serve(t, dir)
	checkStable(t, "clean shutdown and kill -9 with a transaction open across both", s.addr)
	s.kill9()
	s = serve(t, dir)
	checkStable(t, "second kill -9 with no write between", s.addr)
	checkCommitted(t, "second kill -9 with no write between", s.addr, committed)

	// Re-initialises tx2, the id of the transaction open across the shutdown and the kill.
	lsoRound(t, s.addr, "r3", "tx2", "", committed)
	checkStable(t, "new transactions after recovery", s.addr)
	checkCommitted(t, "new transactions after recovery", s.addr, committed)
}

// createTopics creates topics with two partitions on the broker at addr.
func createTopics(t *testing.T, addr string, topics ...string) {
	t.Helper()
	cl := txnTopicProducer(t, addr)
	defer cl.Close()
	resp, err := kadm.NewClient(cl).CreateTopics(testContext(t), 2, 1, nil, topics...)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
}

// runServeChild runs the standalone broker when the test binary is started by serve.
func runServeChild() {
	dir := os.Getenv(serveEnv)
	if dir == "" {
		return
	}
	if prefix := os.Getenv(serveKillOnEnv); prefix != "" {
		// A crash at the moment kfake logs the message: no halt, and nothing
		// after the log call runs.
		log := slog.New(killOn{slog.NewTextHandler(os.Stderr, nil), prefix})
		ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		defer cancel()
		if err := run(ctx, []string{"-port", "0", "-data-dir", dir}, os.Stdout, os.Stderr, Options{Logger: log}); err != nil {
			fmt.Fprintln(os.Stderr, "serve child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if err := Main([]string{"-port", "0", "-data-dir", dir}); err != nil {
		fmt.Fprintln(os.Stderr, "serve child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// killOn is a log handler that kills the process with SIGKILL on a message
// starting with prefix, after writing it.
type killOn struct {
	slog.Handler
	prefix string
}

func (k killOn) Handle(ctx context.Context, r slog.Record) error {
	err := k.Handler.Handle(ctx, r)
	if strings.HasPrefix(r.Message, k.prefix) {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	return err
}

// TestReadCommittedAfterKillBetweenBatchAndIndex checks the state a kill -9 leaves when it lands
// between kfake's two writes of a batch: the record batch is in the segment, the entry of
// kfake's index file that marks it transactional is not. Read_committed consumers must still
// see every committed record and none of the transaction the kill left open, then and after
// more writes and another kill.
func TestReadCommittedAfterKillBetweenBatchAndIndex(t *testing.T) {
	dir := t.TempDir()
	committed := make(map[string]bool)

	s := serve(t, dir)
	createTopics(t, s.addr, "txn")
	left := lsoRound(t, s.addr, "r0", "tx", "tx", committed)
	s.kill9()
	left.Close()
	for p := range 2 {
		dropLastIndexEntry(t, filepath.Join(dir, "partitions", fmt.Sprintf("txn-%d", p)))
	}
	s = serve(t, dir)
	checkStable(t, "kill -9 before the index entry of an open transaction's batch", s.addr)
	checkCommitted(t, "kill -9 before the index entry of an open transaction's batch", s.addr, committed)

	left = lsoRound(t, s.addr, "r1", "tx", "tx2", committed)
	s.kill9()
	left.Close()
	s = serve(t, dir)
	checkStable(t, "another kill -9 with a transaction open", s.addr)
	checkCommitted(t, "another kill -9 with a transaction open", s.addr, committed)
}

// dropLastIndexEntry removes the last entry of the index file of a partition's first segment,
// the only one of the few records these tests write.
func dropLastIndexEntry(t *testing.T, pdir string) {
	t.Helper()
	path := filepath.Join(pdir, "0.idx")
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() < indexEntrySize {
		t.Fatalf("%s holds %d bytes, less than one entry", path, info.Size())
	}
	if err := os.Truncate(path, info.Size()-indexEntrySize); err != nil {
		t.Fatal(err)
	}
}
