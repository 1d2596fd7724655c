package broker

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// txnChild starts a broker on dir, prints "addr ADDR", waits for "go" on
// stdin, commits n transactions over both partitions of topic txn, printing
// "committed VALUE" for each record of each, then writes one more
// transaction, prints "open" and waits to be killed.
func txnChild(dir string, round, n int) error {
	b, err := Start(Options{DataDir: dir, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))})
	if err != nil {
		return err
	}
	fmt.Printf("addr %s\n", b.Addr())
	if line, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil || line != "go\n" {
		return fmt.Errorf("waiting for go: %q, %v", line, err)
	}
	ctx := context.Background()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.TransactionalID("tx"), kgo.DefaultProduceTopic("txn"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return err
	}
	if round == 0 {
		if _, err := kadm.NewClient(cl).CreateTopic(ctx, 2, 1, nil, "txn"); err != nil {
			return err
		}
	}
	for i := 0; ; i++ {
		if err := cl.BeginTransaction(); err != nil {
			return err
		}
		var values []string
		for p := range int32(2) {
			for j := range 3 {
				v := fmt.Sprintf("r%d-t%d-p%d-%d", round, i, p, j)
				if err := cl.ProduceSync(ctx, &kgo.Record{Partition: p, Value: []byte(v)}).FirstErr(); err != nil {
					return err
				}
				values = append(values, v)
			}
		}
		if i == n {
			fmt.Println("open")
			select {}
		}
		if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
			return err
		}
		for _, v := range values {
			fmt.Printf("committed %s\n", v)
		}
	}
}

// TestKillNineMidTransaction kills a broker while a transaction is open,
// several times in a row on one data dir, and checks that consumers reading
// committed records see every committed record and no other.
func TestKillNineMidTransaction(t *testing.T) {
	dir := t.TempDir()
	committed := make(map[string]bool)
	for round := range 3 {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, crashRoundEnv+"="+strconv.Itoa(round), crashTxnsEnv+"="+strconv.Itoa(2+round))
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		timeout := time.AfterFunc(30*time.Second, func() { _ = cmd.Process.Kill() })
		lines := bufio.NewScanner(stdout)
		if !lines.Scan() {
			t.Fatalf("round %d: child exited: %s", round, stderr.String())
		}
		addr, _ := strings.CutPrefix(lines.Text(), "addr ")
		if round > 0 {
			checkCommitted(t, fmt.Sprintf("round %d after kill", round), addr, committed)
		}
		if _, err := io.WriteString(stdin, "go\n"); err != nil {
			t.Fatal(err)
		}
		open := false
		for !open && lines.Scan() {
			if v, ok := strings.CutPrefix(lines.Text(), "committed "); ok {
				committed[v] = true
			}
			open = lines.Text() == "open"
		}
		_ = cmd.Process.Kill() // SIGKILL, while the transaction is open
		_ = cmd.Wait()
		timeout.Stop()
		if !open {
			t.Fatalf("round %d: child exited before opening its last transaction: %s", round, stderr.String())
		}
	}

	b := start(t, Options{DataDir: dir})
	checkCommitted(t, "restart in parent", b.Addr(), committed)

	// The producer's next transaction in the same partitions, on the
	// broker that recovered, is visible once committed.
	cl := newClient(t, b, kgo.TransactionalID("tx"), kgo.DefaultProduceTopic("txn"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for p := range int32(2) {
		v := fmt.Sprintf("after-restart-p%d", p)
		if err := cl.ProduceSync(testContext(t), &kgo.Record{Partition: p, Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		committed[v] = true
	}
	if err := cl.EndTransaction(testContext(t), kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	checkCommitted(t, "after a new transaction", b.Addr(), committed)
}

// checkCommitted checks that a read_committed consumer of topic txn sees
// exactly the want records. It appends a non-transactional record to each
// partition to know when it has read everything; the records earlier calls
// appended are skipped.
func checkCommitted(t *testing.T, when, addr string, want map[string]bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	producer, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("txn"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	end := fmt.Sprintf("end %d", time.Now().UnixNano())
	for p := range int32(2) {
		if err := producer.ProduceSync(ctx, &kgo.Record{Partition: p, Value: []byte(end)}).FirstErr(); err != nil {
			t.Fatalf("%s: produce end marker: %v", when, err)
		}
	}
	consumer, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("txn"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	got := make(map[string]bool)
	ends := 0
	for ends < 2 {
		fs := consumer.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("%s: read %d end markers of 2 before timing out; got %d records", when, ends, len(got))
		}
		fs.EachRecord(func(r *kgo.Record) {
			switch v := string(r.Value); {
			case v == end:
				ends++
				return
			case strings.HasPrefix(v, "end "):
				return
			}
			got[string(r.Value)] = true
		})
	}
	for v := range want {
		if !got[v] {
			t.Errorf("%s: committed record %s is not visible", when, v)
		}
	}
	for v := range got {
		if !want[v] {
			t.Errorf("%s: record %s of an aborted transaction is visible", when, v)
		}
	}
	if t.Failed() {
		t.Logf("%s: visible %v", when, slices.Sorted(maps.Keys(got)))
		t.FailNow()
	}
}
