package testenv

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// setupTimeout bounds each provisioning or cleanup step, so a hung server
// fails the test instead of eating the whole `go test -timeout`.
const setupTimeout = 30 * time.Second

// PostgresDSN returns a pgx-style DSN (postgres://user:pass@127.0.0.1:port/db?sslmode=disable)
// to a fresh database created for this test and dropped at t.Cleanup, as the
// superuser, so tests never see each other's tables, slots or publications.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := Require(t, envPostgresDSN)
	u, err := parsePostgresURL(envPostgresDSN, base)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	name := dbName(t.Name(), suffix())

	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("testenv: connecting to PostgreSQL (%s): %v", envPostgresDSN, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("testenv: creating PostgreSQL database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := dropPostgresDB(base, name); err != nil {
			t.Errorf("testenv: %v", err)
		}
	})

	u.Path = "/" + name
	return u.String()
}

// PostgresConn returns the DSN of a fresh database (PostgresDSN) and a connection to it, as the
// superuser, for setting up and inspecting the database; the connection closes at cleanup, before
// the database is dropped.
func PostgresConn(t testing.TB) (dsn string, conn *pgx.Conn) {
	t.Helper()
	dsn = PostgresDSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("testenv: connecting to the test's PostgreSQL database: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return dsn, conn
}

// PostgresReplDSN returns a DSN for the same database as the given superuser
// DSN, logged in as the non-superuser REPLICATION role, after granting it
// CREATE on the database and ALL on schema public (so it can create
// publications for its own tables), which proves CDC code works with the
// privileges a production replication user has.
func PostgresReplDSN(t testing.TB, superDSN string) string {
	t.Helper()
	repl := Require(t, envPostgresReplDSN)
	su, err := parsePostgresURL("superDSN", superDSN)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	ru, err := parsePostgresURL(envPostgresReplDSN, repl)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	role := ru.User.Username()
	if role == "" {
		t.Fatalf("testenv: %s names no user", envPostgresReplDSN)
	}
	db := strings.TrimPrefix(su.Path, "/") // url.Parse has decoded it
	if db == "" {
		t.Fatalf("testenv: superDSN names no database")
	}

	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, superDSN)
	if err != nil {
		t.Fatalf("testenv: connecting to PostgreSQL as superuser: %v", err)
	}
	defer conn.Close(ctx)
	roleID := pgx.Identifier{role}.Sanitize()
	for _, stmt := range []string{
		"GRANT CREATE ON DATABASE " + pgx.Identifier{db}.Sanitize() + " TO " + roleID,
		"GRANT ALL ON SCHEMA public TO " + roleID,
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Fatalf("testenv: %s: %v", stmt, err)
		}
	}

	ru.Path = "/" + db
	return ru.String()
}

// parsePostgresURL accepts only URL-form DSNs, because the per-test database
// is substituted into the URL path.
func parsePostgresURL(what, dsn string) (*url.URL, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, fmt.Errorf("%s is not a postgres:// URL: %w", what, err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return nil, fmt.Errorf("%s must be a postgres://user:pass@host:port/db URL, got scheme %q", what, u.Scheme)
	}
	return u, nil
}

// dropPostgresDB removes a test database even when the test left a
// replication connection or slot behind: both would block DROP DATABASE.
// Walsenders release their slots asynchronously after being terminated,
// hence the retry loop.
func dropPostgresDB(base, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return fmt.Errorf("connecting to PostgreSQL to drop %s: %w", name, err)
	}
	defer conn.Close(ctx)

	for {
		err = dropPostgresDBOnce(ctx, conn, name)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("dropping PostgreSQL database %s: %w", name, errors.Join(err, ctx.Err()))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func dropPostgresDBOnce(ctx context.Context, conn *pgx.Conn, name string) error {
	if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = $1 AND pid <> pg_backend_pid()`, name); err != nil {
		return fmt.Errorf("terminating sessions: %w", err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
		WHERE database = $1 AND NOT active`, name); err != nil {
		return fmt.Errorf("dropping replication slots: %w", err)
	}
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("dropping database: %w", err)
	}
	return nil
}
