package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// envPostgresBin names the directory of initdb and pg_ctl for PostgresServer; by default the
// newest /usr/lib/postgresql/*/bin is used.
const envPostgresBin = "KCONNECT_TEST_POSTGRES_BIN"

// PostgresServer is a PostgreSQL server of the test's own, in a data directory under
// t.TempDir(), for tests that stop and start the database: the shared server must stay up for
// everyone else's tests.
type PostgresServer struct {
	t       testing.TB
	bin     string
	dir     string
	data    string
	logFile string
	port    int
	cred    *syscall.Credential // the postgres account when the test runs as root, which initdb refuses
}

// NewPostgresServer initializes and starts a private server listening on a free loopback port; it
// is stopped at cleanup. Durability is off: the data is thrown away with the test.
func NewPostgresServer(t testing.TB) *PostgresServer {
	t.Helper()
	s := &PostgresServer{t: t, bin: postgresBin(t), dir: t.TempDir()}
	s.data, s.logFile = filepath.Join(s.dir, "data"), filepath.Join(s.dir, "postgres.log")
	if os.Geteuid() == 0 {
		s.runAsPostgres()
	}
	s.run("initdb", "--pgdata", s.data, "--username", "kconnect", "--auth", "trust", "--no-sync",
		"--no-instructions", "--encoding", "UTF8", "--locale", "C")
	s.port = FreePort(t)
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// DSN returns the superuser DSN (user kconnect, no password) of database postgres.
func (s *PostgresServer) DSN() string {
	return fmt.Sprintf("postgres://kconnect@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

// Port returns the port the server listens on, the same across restarts.
func (s *PostgresServer) Port() int { return s.port }

// Start starts the stopped server and waits until it accepts connections.
func (s *PostgresServer) Start() {
	s.t.Helper()
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off "+
		"-c synchronous_commit=off -c full_page_writes=off", s.port)
	s.run("pg_ctl", "start", "--pgdata", s.data, "--log", s.logFile, "--wait", "--options", opts)
}

// Stop stops the server at once ("fast" shutdown: open sessions are disconnected), waiting until
// it is down. Stopping a stopped server does nothing.
func (s *PostgresServer) Stop() {
	s.t.Helper()
	if out, err := s.command("pg_ctl", "status", "--pgdata", s.data).CombinedOutput(); err != nil {
		if strings.Contains(string(out), "no server running") {
			return
		}
	}
	s.run("pg_ctl", "stop", "--pgdata", s.data, "--mode", "fast", "--wait")
}

// Log returns what the server logged, for failure messages.
func (s *PostgresServer) Log() string {
	b, _ := os.ReadFile(s.logFile)
	return string(b)
}

func (s *PostgresServer) run(tool string, args ...string) {
	s.t.Helper()
	if out, err := s.command(tool, args...).CombinedOutput(); err != nil {
		s.t.Fatalf("testenv: %s %s: %v\n%s\nserver log:\n%s", tool, strings.Join(args, " "), err, out, s.Log())
	}
}

func (s *PostgresServer) command(tool string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, tool), args...)
	cmd.Dir = s.dir
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	return cmd
}

// runAsPostgres makes the tools run as the postgres account and lets it into the test directory:
// t.TempDir() and its parent are private to root.
func (s *PostgresServer) runAsPostgres() {
	s.t.Helper()
	u, err := user.Lookup("postgres")
	if err != nil {
		s.t.Fatalf("testenv: running as root, and initdb refuses root: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	for _, d := range []string{filepath.Dir(s.dir), s.dir} {
		if err := os.Chmod(d, 0o711); err != nil {
			s.t.Fatalf("testenv: %v", err)
		}
	}
	if err := os.Chown(s.dir, uid, gid); err != nil {
		s.t.Fatalf("testenv: %v", err)
	}
}

// postgresBin finds the PostgreSQL server tools, skipping the test (failing it under CI=true)
// when there are none.
func postgresBin(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv(envPostgresBin); dir != "" {
		return dir
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return va - vb
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "pg_ctl")); err == nil {
			return dirs[i]
		}
	}
	unavailable(t, fmt.Sprintf("testenv: no PostgreSQL server binaries under /usr/lib/postgresql/*/bin; "+
		"run `make testenv` to install them, or set %s to the directory holding initdb and pg_ctl", envPostgresBin))
	return ""
}
