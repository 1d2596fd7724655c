package testenv

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// MySQLServer is a MariaDB server of the test's own, with its data directory under t.TempDir(),
// for tests that stop and start the database: the shared server must stay up for everyone else's
// tests. It is configured like the shared one (binlog on, ROW format).
type MySQLServer struct {
	t       testing.TB
	dir     string
	cnf     string
	port    int
	daemon  string
	cmd     *exec.Cmd
	exited  chan struct{}
	logFile string
}

// NewMySQLServer initializes and starts a private mariadbd listening on a free loopback port, with
// user kconnect (password kconnect, all privileges); it is stopped at cleanup. The test is skipped
// (failed under CI=true) when MariaDB's server binaries are missing.
func NewMySQLServer(t testing.TB) *MySQLServer {
	t.Helper()
	daemon, err := exec.LookPath("mariadbd")
	if err != nil {
		daemon = "/usr/sbin/mariadbd"
	}
	if _, err := os.Stat(daemon); err != nil {
		unavailable(t, "testenv: no mariadbd; run `make testenv` to install mariadb-server")
	}
	// The socket path must stay below the 108 bytes of sun_path, which t.TempDir() may exceed.
	dir, err := os.MkdirTemp("", "kcmy-")
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	u, err := user.Current()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	s := &MySQLServer{t: t, dir: dir, cnf: filepath.Join(dir, "my.cnf"), port: FreePort(t), daemon: daemon,
		logFile: filepath.Join(dir, "error.log")}
	cnf := fmt.Sprintf(`[client]
socket = %[1]s/mariadb.sock
[mariadbd]
user = %[2]s
datadir = %[1]s/data
socket = %[1]s/mariadb.sock
pid-file = %[1]s/mariadb.pid
log-error = %[1]s/error.log
bind-address = 127.0.0.1
port = %[3]d
skip-name-resolve
server-id = 1
log-bin = %[1]s/mariadb-bin
binlog-format = ROW
binlog-row-image = FULL
innodb-buffer-pool-size = 32M
innodb-flush-log-at-trx-commit = 2
`, dir, u.Username, s.port)
	if err := os.WriteFile(s.cnf, []byte(cnf), 0o644); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	install := exec.Command("mariadb-install-db", "--defaults-file="+s.cnf, "--auth-root-authentication-method=socket",
		"--skip-test-db")
	if out, err := install.CombinedOutput(); err != nil {
		// The tool's own output only points at the server's log, which says what went wrong.
		log, _ := os.ReadFile(s.logFile)
		t.Fatalf("testenv: mariadb-install-db: %v\n%s\nerror.log:\n%s", err, out, log)
	}
	s.Start()
	t.Cleanup(s.Stop)
	cli := exec.Command("mariadb", "--defaults-file="+s.cnf, "--user=root")
	cli.Stdin = strings.NewReader("CREATE USER 'kconnect'@'%' IDENTIFIED BY 'kconnect';\n" +
		"GRANT ALL PRIVILEGES ON *.* TO 'kconnect'@'%' WITH GRANT OPTION;\n")
	if out, err := cli.CombinedOutput(); err != nil {
		t.Fatalf("testenv: creating user kconnect: %v\n%s", err, out)
	}
	return s
}

// DSN returns a go-sql-driver DSN of user kconnect for database db ("" for none), with parseTime
// and multiStatements on as MySQLDSN's.
func (s *MySQLServer) DSN(db string) string {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = "kconnect", "kconnect", "tcp", fmt.Sprintf("127.0.0.1:%d", s.port), db
	cfg.ParseTime, cfg.MultiStatements = true, true
	return cfg.FormatDSN()
}

// Port returns the port the server listens on, the same across restarts.
func (s *MySQLServer) Port() int { return s.port }

// Start starts the stopped server and waits until it accepts connections.
func (s *MySQLServer) Start() {
	s.t.Helper()
	s.cmd = exec.Command(s.daemon, "--defaults-file="+s.cnf)
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("testenv: starting mariadbd: %v", err)
	}
	s.exited = make(chan struct{})
	go func() {
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			s.t.Fatalf("testenv: mariadbd exited during startup\n%s", s.Log())
		default:
		}
		if s.ping() == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("testenv: mariadbd not accepting connections after 2m\n%s", s.Log())
}

// ping connects through the socket as root, which works before user kconnect exists.
func (s *MySQLServer) ping() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, "mariadb-admin", "--defaults-file="+s.cnf, "--user=root", "--connect-timeout=2", "ping").Run()
}

// Stop shuts the server down (SIGTERM: a clean shutdown that ends open sessions) and waits until
// it exited. Stopping a stopped server does nothing.
func (s *MySQLServer) Stop() {
	s.t.Helper()
	if s.cmd == nil {
		return
	}
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(2 * time.Minute):
		_ = s.cmd.Process.Kill()
		<-s.exited
		s.t.Errorf("testenv: mariadbd did not shut down within 2m after SIGTERM; killed it")
	}
}

// Open returns a connection pool to database db as user kconnect, closed at cleanup.
func (s *MySQLServer) Open(db string) *sql.DB {
	s.t.Helper()
	pool, err := sql.Open("mysql", s.DSN(db))
	if err != nil {
		s.t.Fatalf("testenv: %v", err)
	}
	s.t.Cleanup(func() { pool.Close() })
	return pool
}

// Log returns what the server logged, for failure messages.
func (s *MySQLServer) Log() string {
	b, _ := os.ReadFile(s.logFile)
	return string(b)
}
