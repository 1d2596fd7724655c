package testenv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// MySQLDSN returns a go-sql-driver DSN (user:pass@tcp(127.0.0.1:port)/db?parseTime=true&multiStatements=true)
// to a fresh database dropped at cleanup, so tests never share tables.
func MySQLDSN(t testing.TB) string {
	t.Helper()
	base := Require(t, envMySQLDSN)
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		t.Fatalf("testenv: parsing %s: %v", envMySQLDSN, err)
	}
	cfg.DBName = ""
	admin, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatalf("testenv: %s: %v", envMySQLDSN, err)
	}
	db := sql.OpenDB(admin)
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("testenv: closing MySQL admin connection: %v", err)
		}
	})
	name := dbName(t.Name(), suffix())

	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE `"+name+"`"); err != nil {
		t.Fatalf("testenv: creating MySQL database %s (%s): %v", name, envMySQLDSN, err)
	}
	// Registered after the Close above, so it runs first (cleanups are LIFO).
	t.Cleanup(func() {
		if err := dropMySQLDB(db, name); err != nil {
			t.Errorf("testenv: %v", err)
		}
	})

	cfg = cfg.Clone()
	cfg.DBName = name
	cfg.ParseTime = true
	cfg.MultiStatements = true
	return cfg.FormatDSN()
}

// MySQLConn returns the DSN of a fresh database (MySQLDSN) and a handle on it for setting up and
// inspecting the database; the handle closes at cleanup, before the database is dropped.
func MySQLConn(t testing.TB) (dsn string, db *sql.DB) {
	t.Helper()
	dsn = MySQLDSN(t)
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatalf("testenv: opening the test's MySQL database: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return dsn, db
}

// dropMySQLDB removes a test database after ending the sessions still using
// it: a transaction left open on one of its tables would make DROP DATABASE
// wait for the metadata lock (for up to a day by default).
func dropMySQLDB(db *sql.DB, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	rows, err := db.QueryContext(ctx,
		"SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()", name)
	if err != nil {
		return fmt.Errorf("listing sessions of MySQL database %s: %w", name, err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("listing sessions of MySQL database %s: %w", name, err)
		}
		ids = append(ids, id)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("listing sessions of MySQL database %s: %w", name, err)
	}
	for _, id := range ids {
		// A session may end by itself meanwhile; then KILL fails harmlessly.
		_, _ = db.ExecContext(ctx, fmt.Sprintf("KILL %d", id))
	}
	if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
		return fmt.Errorf("dropping MySQL database %s: %w", name, err)
	}
	return nil
}
