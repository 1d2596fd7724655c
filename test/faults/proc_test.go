package faults

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/kconnect/kconnect/internal/workertest"
)

// proc is a kconnect process (a standalone worker or a broker) that faults kill, stop and
// restart; each start logs to its own file so that a failure shows what the last run said.
type proc struct {
	t      testing.TB
	name   string
	dir    string
	args   []string
	ready  func() error
	cmd    *exec.Cmd
	exited chan struct{}
	runs   int
	log    string
}

// startProc starts the kconnect binary with args and waits until ready succeeds; the process is
// stopped at cleanup.
func startProc(t testing.TB, name, dir string, ready func() error, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: name, dir: dir, args: args, ready: ready}
	p.start()
	t.Cleanup(p.stop)
	return p
}

func (p *proc) start() {
	p.t.Helper()
	p.runs++
	p.log = filepath.Join(p.dir, fmt.Sprintf("%s-%d.log", p.name, p.runs))
	f, err := os.Create(p.log)
	if err != nil {
		p.t.Fatal(err)
	}
	p.cmd = exec.Command(workertest.Binary(p.t), p.args...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("start %s: %v", p.name, err)
	}
	exited := make(chan struct{})
	p.exited = exited
	cmd := p.cmd
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(exited)
	}()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		select {
		case <-exited:
			p.t.Fatalf("%s exited during startup: %v\n%s", p.name, cmd.ProcessState, p.output())
		default:
		}
		err := p.ready()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s not ready after 3m: %v\n%s", p.name, err, p.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// output returns what the current run logged.
func (p *proc) output() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

func (p *proc) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("%s: signal %v: %v", p.name, sig, err)
	}
}

// kill9 kills the process with SIGKILL and waits until it is gone.
func (p *proc) kill9() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// stop asks for a clean exit and kills the process after 30 s; a stopped process stays so.
func (p *proc) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGCONT) // a stopped process does not handle SIGTERM
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		p.kill9()
	}
}

// alive reports whether the process is still running: a worker that exits by itself is a finding.
func (p *proc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// healthy is a worker's readiness check: GET /health answers 200.
func healthy(url string) func() error {
	return func() error {
		c := http.Client{Timeout: 5 * time.Second}
		resp, err := c.Get(url + "/health")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET /health: %s", resp.Status)
		}
		return nil
	}
}

// listening is a broker's readiness check: its port accepts connections.
func listening(addr string) func() error {
	return func() error {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	}
}
