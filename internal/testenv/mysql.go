package testenv

import (
	"context"
	"database/sql"
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
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			t.Errorf("testenv: dropping MySQL database %s: %v", name, err)
		}
	})

	cfg = cfg.Clone()
	cfg.DBName = name
	cfg.ParseTime = true
	cfg.MultiStatements = true
	return cfg.FormatDSN()
}
