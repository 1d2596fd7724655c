package jdbcurl

import (
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
)

func TestParsePostgres(t *testing.T) {
	cases := []struct {
		url, user, pass             string
		wantUser, wantPass, wantDB  string
		wantHost                    string
		wantPort                    uint16
		wantSearchPath, wantSSLMode string
	}{
		{url: "jdbc:postgresql://db.example:5433/shop", user: "u", pass: "p", wantUser: "u", wantPass: "p", wantDB: "shop", wantHost: "db.example", wantPort: 5433, wantSSLMode: "prefer"},
		{url: "jdbc:postgresql://h/shop?user=a&password=b&currentSchema=inv&sslmode=disable", wantUser: "a", wantPass: "b", wantDB: "shop", wantHost: "h", wantPort: 5432, wantSearchPath: "inv", wantSSLMode: "disable"},
		{url: "jdbc:postgresql://h/shop?user=a&password=b", user: "c", pass: "d", wantUser: "c", wantPass: "d", wantDB: "shop", wantHost: "h", wantPort: 5432, wantSSLMode: "prefer"},
		{url: "postgres://x:y@h:6000/d?sslmode=disable", wantUser: "x", wantPass: "y", wantDB: "d", wantHost: "h", wantPort: 6000, wantSSLMode: "disable"},
		{url: "jdbc:postgresql:shop", user: "u", wantUser: "u", wantDB: "shop", wantHost: "localhost", wantPort: 5432, wantSSLMode: "prefer"},
	}
	for _, c := range cases {
		conn, err := Parse(c.url, c.user, c.pass)
		if err != nil {
			t.Fatalf("%s: %v", c.url, err)
		}
		if conn.Dialect != PostgreSQL || conn.Database != c.wantDB {
			t.Errorf("%s: got dialect %s db %q", c.url, conn.Dialect, conn.Database)
		}
		cfg, err := pgx.ParseConfig(conn.DSN)
		if err != nil {
			t.Fatalf("%s: pgx rejects %q: %v", c.url, conn.DSN, err)
		}
		if cfg.User != c.wantUser || cfg.Password != c.wantPass || cfg.Database != c.wantDB || cfg.Host != c.wantHost || cfg.Port != c.wantPort {
			t.Errorf("%s: pgx config user=%q pass=%q db=%q host=%q port=%d", c.url, cfg.User, cfg.Password, cfg.Database, cfg.Host, cfg.Port)
		}
		if got := cfg.RuntimeParams["search_path"]; got != c.wantSearchPath {
			t.Errorf("%s: search_path %q, want %q", c.url, got, c.wantSearchPath)
		}
		if !strings.Contains(conn.DSN, "sslmode="+c.wantSSLMode) {
			t.Errorf("%s: DSN %q lacks sslmode=%s", c.url, conn.DSN, c.wantSSLMode)
		}
	}
}

func TestParseMySQL(t *testing.T) {
	cases := []struct{ url, user, pass, wantAddr, wantUser, wantPass, wantDB string }{
		{"jdbc:mysql://db:3307/shop", "u", "p", "db:3307", "u", "p", "shop"},
		{"jdbc:mariadb://db/shop?user=a&password=b", "", "", "db:3306", "a", "b", "shop"},
		{"u:p@tcp(127.0.0.1:3306)/x", "", "", "127.0.0.1:3306", "u", "p", "x"},
		{"u:p@tcp(127.0.0.1:3306)/x", "v", "q", "127.0.0.1:3306", "v", "q", "x"},
	}
	for _, c := range cases {
		conn, err := Parse(c.url, c.user, c.pass)
		if err != nil {
			t.Fatalf("%s: %v", c.url, err)
		}
		cfg, err := mysql.ParseDSN(conn.DSN)
		if err != nil {
			t.Fatalf("%s: driver rejects %q: %v", c.url, conn.DSN, err)
		}
		if conn.Dialect != MySQL || cfg.Addr != c.wantAddr || cfg.User != c.wantUser || cfg.Passwd != c.wantPass || cfg.DBName != c.wantDB || !cfg.ParseTime {
			t.Errorf("%s: got %+v", c.url, cfg)
		}
	}
}

func TestParseRejectsUnknownAndRedacts(t *testing.T) {
	_, err := Parse("jdbc:oracle://u:secret@h/db", "", "")
	if err == nil || !strings.Contains(err.Error(), "unsupported database") {
		t.Fatalf("want unsupported-database error, got %v", err)
	}
	_, err = Parse("sqlserver://u:secret@h/db", "", "")
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("error must not leak the password: %v", err)
	}
}
