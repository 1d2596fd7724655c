package testenv

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// envJavaLibs names a directory of Apache Kafka's Java client jars (tools, Kafka Connect runtime,
// file connectors), as scripts/javaclients.sh fetches them.
const envJavaLibs = "KCONNECT_TEST_JAVA_LIBS"

// JavaClients returns the classpath (a "dir/*" wildcard) of Apache Kafka's own Java clients:
// KCONNECT_TEST_JAVA_LIBS, or else the directory scripts/javaclients.sh fills under the cache.
// Without them the test is skipped, or fails under CI=true, like a missing service.
func JavaClients(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(envJavaLibs)
	if dir == "" {
		if cache, err := envFilePath(); err == nil {
			dir = filepath.Join(filepath.Dir(cache), "javaclients-4.3.1", "libs")
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err != nil && os.Getenv(envJavaLibs) == "" {
		dir = ""
	}
	if dir == "" {
		msg := "testenv: Apache Kafka's Java clients are missing; run scripts/javaclients.sh, or set " +
			envJavaLibs + " to a directory of their jars (see docs/testing.md)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return filepath.Join(dir, "*")
}

// JavaProcess is a JVM started by StartJava.
type JavaProcess struct {
	cmd    *exec.Cmd
	out    lockedBuffer
	exited chan struct{}
	err    error // set before exited closes
}

// StartJava starts `java -cp classpath args...` with a small heap, and stops it at the end of
// the test if it is still running.
func StartJava(t testing.TB, classpath string, args ...string) *JavaProcess {
	t.Helper()
	p := &JavaProcess{exited: make(chan struct{})}
	p.cmd = exec.Command("java", append([]string{"-Xmx384m", "-XX:+UseSerialGC", "-cp", classpath}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("testenv: start java: %v", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() { _ = p.Stop() })
	return p
}

// Exited is closed when the process has ended; Err then says how.
func (p *JavaProcess) Exited() <-chan struct{} { return p.exited }

// Err is the process's exit error, once Exited is closed.
func (p *JavaProcess) Err() error { return p.err }

// Output returns what the process printed so far.
func (p *JavaProcess) Output() string { return p.out.String() }

// Stop asks the process to shut down (SIGTERM, as a user would) and waits up to a minute for it,
// killing it after that.
func (p *JavaProcess) Stop() error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return nil
	case <-time.After(time.Minute):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return errors.New("java did not stop within a minute of SIGTERM")
	}
}

// lockedBuffer is a bytes.Buffer safe for a process to write while a test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
