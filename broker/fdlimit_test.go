//go:build unix

package broker

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// fdLimitChildEnv makes TestMain run fdLimitChild with this open-file limit.
const fdLimitChildEnv = "KCONNECT_BROKER_FDLIMIT_CHILD"

// fdLimitChild lowers its open-file limit, starts a broker, prints "addr ADDR" and then a line
// whenever Err changes: "failing ERR" or "serving". It runs until it is killed.
func fdLimitChild(limit uint64) error {
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: limit, Max: limit}); err != nil {
		return fmt.Errorf("lower the open-file limit: %w", err)
	}
	b, err := Start(Options{Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		return err
	}
	fmt.Printf("addr %s\n", b.Addr())
	last := ""
	for {
		state := "serving"
		if err := b.Err(); err != nil {
			state = "failing " + err.Error()
		}
		if state != last {
			fmt.Println(state)
			last = state
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestAcceptSurvivesRunningOutOfFileDescriptors checks that a broker whose process runs out of
// file descriptors says so in its log and through Err, and serves again once descriptors are
// free: kfake alone stops accepting connections for good at the first failure.
func TestAcceptSurvivesRunningOutOfFileDescriptors(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fdLimitChildEnv+"=64")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	await := func(prefix string) string {
		t.Helper()
		timeout := time.After(20 * time.Second)
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatalf("child exited waiting for %q: %v\n%s", prefix, cmd.Wait(), stderr.String())
				}
				if strings.HasPrefix(line, prefix) {
					return line
				}
			case <-timeout:
				t.Fatalf("no %q line from the child in 20s\n%s", prefix, stderr.String())
			}
		}
	}
	addr := strings.TrimPrefix(await("addr "), "addr ")
	await("serving")

	// Each connection costs the broker a descriptor; 64 cannot hold them all. The kernel
	// completes the connections the broker cannot accept in its listen backlog.
	var conns []net.Conn
	for range 100 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	if line := await("failing "); !strings.Contains(line, "too many open files") || !strings.Contains(line, addr) {
		t.Errorf("Err = %q, want the address and the cause", line)
	}
	for _, c := range conns {
		c.Close()
	}
	await("serving")

	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "after", Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatalf("produce after the descriptors were freed: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{`level=ERROR msg="embedded broker cannot accept connections; retrying"`, `level=WARN msg="embedded broker accepts connections again"`} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("broker log lacks %s:\n%s", want, stderr.String())
		}
	}
}

// runFDLimitChild runs fdLimitChild and exits when TestMain runs as its child.
func runFDLimitChild() {
	v := os.Getenv(fdLimitChildEnv)
	if v == "" {
		return
	}
	limit, err := strconv.ParseUint(v, 10, 64)
	if err == nil {
		err = fdLimitChild(limit)
	}
	fmt.Fprintln(os.Stderr, "fd limit child:", err)
	os.Exit(1)
}
