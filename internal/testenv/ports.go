package testenv

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// FreePort returns a loopback TCP port that was free a moment ago and that no other test, in this
// process or another, has been given and still holds. It comes from below the kernel's ephemeral
// range when there is room there: the fault suite restarts servers on their port, and a port
// from the ephemeral range was taken in between by some client's outgoing connection ("could not
// bind ... Address already in use"). A port is held until the test ends: between FreePort and a
// server's bind (seconds for a JVM) another test process picking the same free port made a
// private Kafka fail to start ("Address already in use") when several suites ran at once.
func FreePort(t testing.TB) int {
	t.Helper()
	const lo = 20000 // above the fixed ports of scripts/testenv.sh and its siblings
	if hi := ephemeralStart(); hi-lo >= 1000 {
		for range 100 {
			port := lo + rand.IntN(hi-lo)
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
			if err != nil {
				continue
			}
			l.Close()
			if reservePort(t, port) {
				return port
			}
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// reservePort claims port until the test ends with a file named for it in a directory every
// test process shares, holding the claiming process's pid; a claim whose process is gone is
// stale and taken over.
func reservePort(t testing.TB, port int) bool {
	dir := filepath.Join(os.TempDir(), "kconnect-test-ports")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return true // no shared directory: fall back on the bind check alone
	}
	path := filepath.Join(dir, strconv.Itoa(port))
	for range 2 {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			_, werr := fmt.Fprint(f, os.Getpid())
			if cerr := f.Close(); werr == nil && cerr == nil {
				t.Cleanup(func() { os.Remove(path) })
				return true
			}
			os.Remove(path)
			return false
		}
		b, err := os.ReadFile(path)
		if err != nil {
			continue // released meanwhile
		}
		pid, err := strconv.Atoi(string(b))
		if err == nil && processAlive(pid) {
			return false
		}
		os.Remove(path)
	}
	return false
}

// processAlive reports whether a process with pid exists.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// ephemeralStart is the first port of Linux's ephemeral range, or 0 when it cannot be read.
func ephemeralStart() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	var start, end int
	if _, err := fmt.Sscan(string(b), &start, &end); err != nil {
		return 0
	}
	return start
}
