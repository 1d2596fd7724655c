// Package testenv hands tests the external services they run against —
// PostgreSQL, MySQL/MariaDB and Kafka — each isolated per test (a fresh
// database, a unique topic, an in-process broker) so tests can run in
// parallel and repeatedly against long-lived servers.
//
// The servers come from scripts/testenv.sh (`make testenv`), which writes
// their addresses to an env file, or from KCONNECT_TEST_* variables set by
// the developer; see docs/testing.md. A test whose service is missing is
// skipped locally and fails under CI=true, so CI never passes vacuously.
package testenv

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Environment variables naming the services; scripts/testenv.sh writes the
// same names to its env file.
const (
	envPostgresDSN     = "KCONNECT_TEST_POSTGRES_DSN"
	envPostgresReplDSN = "KCONNECT_TEST_POSTGRES_REPL_DSN"
	envMySQLDSN        = "KCONNECT_TEST_MYSQL_DSN"
	envKafka           = "KCONNECT_TEST_KAFKA"
	envBroker          = "KCONNECT_TEST_BROKER"
	envSchemaRegistry  = "KCONNECT_TEST_SCHEMA_REGISTRY"
	envAvroPython      = "KCONNECT_TEST_AVRO_PYTHON"
	envHDFS            = "KCONNECT_TEST_HDFS"
	envS3              = "KCONNECT_TEST_S3"
)

// Require fails the test when CI=true and the service env var is missing, and
// skips with a message naming the env var and the `make testenv` command
// otherwise; it returns the variable's value, taken from the environment or,
// failing that, from the env file scripts/testenv.sh writes (so a plain
// `go test` works after `make testenv`).
func Require(t testing.TB, envVar string) string {
	t.Helper()
	v, err := lookup(envVar)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	if v != "" {
		return v
	}
	unavailable(t, fmt.Sprintf("testenv: %s is not set; run `make testenv` to provision local services, "+
		"or set %s to your own (see docs/testing.md)", envVar, envVar))
	return ""
}

// unavailable skips the test for a missing service, or fails it under CI=true so that CI cannot
// pass vacuously.
func unavailable(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// lookup returns envVar from the process environment, which always wins, or
// else from the env file.
func lookup(envVar string) (string, error) {
	if v := os.Getenv(envVar); v != "" {
		return v, nil
	}
	vars, err := envFile()
	if err != nil {
		return "", err
	}
	return vars[envVar], nil
}

// envFile reads the env files once per test binary: scripts/testenv.sh's and, beside it, the ones
// scripts/schema-registry.sh, scripts/hdfs.sh and scripts/s3.sh write. A missing file is an empty
// environment, not an error.
var envFile = sync.OnceValues(func() (map[string]string, error) {
	path, err := envFilePath()
	if err != nil {
		return nil, err
	}
	vars := map[string]string{}
	dir := filepath.Dir(path)
	for _, p := range []string{filepath.Join(dir, "schema-registry.env"), filepath.Join(dir, "hdfs.env"),
		filepath.Join(dir, "s3.env"), path} {
		f, err := os.Open(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading test environment: %w", err)
		}
		more, err := parseEnvFile(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", p, err)
		}
		for k, v := range more {
			vars[k] = v
		}
	}
	return vars, nil
})

// envFilePath mirrors scripts/testenv.sh: $KCONNECT_CACHE/testenv.env, with
// KCONNECT_CACHE defaulting to ${XDG_CACHE_HOME:-$HOME/.cache}/kconnect.
func envFilePath() (string, error) {
	dir := os.Getenv("KCONNECT_CACHE")
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("locating the test env file: %w", err)
		}
		dir = filepath.Join(cache, "kconnect")
	}
	return filepath.Join(dir, "testenv.env"), nil
}

// parseEnvFile reads the `export NAME='value'` lines scripts/testenv.sh
// writes (a single quote inside a value is closed, backslash-escaped and
// reopened, the shell way), skipping comments and blank lines.
func parseEnvFile(r io.Reader) (map[string]string, error) {
	vars := make(map[string]string)
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, quoted, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if !ok || len(quoted) < 2 || quoted[0] != '\'' || quoted[len(quoted)-1] != '\'' {
			return nil, fmt.Errorf("line %d: want export NAME='value', got %q", n, line)
		}
		vars[name] = strings.ReplaceAll(quoted[1:len(quoted)-1], `'\''`, `'`)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("scanning: %w", err)
	}
	return vars, nil
}

// suffix returns 8 random hex digits, making names unique across runs
// against the same long-lived server.
func suffix() string {
	return fmt.Sprintf("%08x", rand.Uint32())
}

// sanitize maps s onto the characters keep accepts, replacing the others
// with repl (keep must accept only ASCII), and cuts the result to at most
// limit bytes.
func sanitize(s string, limit int, repl rune, keep func(rune) bool) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= limit {
			break
		}
		if !keep(r) {
			r = repl
		}
		b.WriteRune(r)
	}
	return b.String()
}

// dbName builds a database (and replication slot) name valid unquoted in both
// PostgreSQL and MySQL: lower-case [a-z0-9_], at most 53 bytes (limits: 63
// and 64), readable in server listings because it carries the test name.
func dbName(testName, suffix string) string {
	return "kct_" + sanitize(strings.ToLower(testName), 40, '_', func(r rune) bool {
		return r == '_' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')
	}) + "_" + suffix
}

// topicName builds a Kafka topic name from [a-zA-Z0-9-] (no '.' or '_',
// which Kafka treats as colliding in metric names), well under the 249-byte
// limit.
func topicName(prefix, testName, suffix string) string {
	keep := func(r rune) bool {
		return r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
	}
	return sanitize(prefix, 60, '-', keep) + "-" + sanitize(testName, 120, '-', keep) + "-" + suffix
}
