// Package jdbcurl turns the connection settings of JDBC connector configs (connection.url,
// connection.user, connection.password) into a native Go driver DSN. Users copy configs written
// for Java connectors, so JDBC URLs must work; native DSNs are accepted too.
package jdbcurl

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Dialect names a supported database.
type Dialect string

// Supported dialects.
const (
	PostgreSQL Dialect = "postgresql"
	MySQL      Dialect = "mysql"
)

// Conn is a parsed connection: the dialect and a DSN for its Go driver (pgx for PostgreSQL,
// go-sql-driver/mysql for MySQL and MariaDB).
type Conn struct {
	Dialect Dialect
	DSN     string
	// Database is the database (catalog) named in the URL, "" when none.
	Database string
}

// Parse parses connection.url with optional user and password, which override credentials in
// the URL as they do for the JDBC drivers' DriverManager.getConnection(url, user, password).
func Parse(rawURL, user, password string) (Conn, error) {
	u := strings.TrimSpace(rawURL)
	switch {
	case strings.HasPrefix(u, "jdbc:postgresql:"):
		return parsePostgres(strings.TrimPrefix(u, "jdbc:"), user, password)
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		return parsePostgres(u, user, password)
	case strings.HasPrefix(u, "jdbc:mysql:"), strings.HasPrefix(u, "jdbc:mariadb:"):
		return parseJDBCMySQL(strings.TrimPrefix(u, "jdbc:"), user, password)
	case strings.HasPrefix(u, "mysql://"), strings.HasPrefix(u, "mariadb://"):
		return parseJDBCMySQL(u, user, password)
	case strings.Contains(u, "@tcp(") || strings.Contains(u, "@unix("):
		cfg, err := mysql.ParseDSN(u)
		if err != nil {
			return Conn{}, fmt.Errorf("connection.url: invalid MySQL DSN: %w", err)
		}
		return mysqlConn(cfg, user, password), nil
	}
	return Conn{}, fmt.Errorf("connection.url %q: unsupported database; expected jdbc:postgresql://, jdbc:mysql://, jdbc:mariadb://, postgres:// or a MySQL DSN", redact(u))
}

func parsePostgres(u, user, password string) (Conn, error) {
	// JDBC allows jdbc:postgresql:db and jdbc:postgresql:/ (no host); normalize to a URL.
	if !strings.HasPrefix(u, "postgresql://") && !strings.HasPrefix(u, "postgres://") {
		rest := strings.TrimPrefix(u, "postgresql:")
		rest = strings.TrimPrefix(rest, "/")
		u = "postgresql://localhost/" + rest
	}
	pu, err := url.Parse(u)
	if err != nil {
		return Conn{}, fmt.Errorf("connection.url: %w", err)
	}
	q := pu.Query()
	// The JDBC driver takes credentials as query parameters; pgx wants them in the userinfo.
	if qu := q.Get("user"); qu != "" && user == "" {
		user = qu
	}
	if qp := q.Get("password"); qp != "" && password == "" {
		password = qp
	}
	q.Del("user")
	q.Del("password")
	// Translate the JDBC driver's parameters that have a server-side equivalent; pgx would send
	// unknown parameters to the server as run-time settings, which fails for driver-only ones.
	if v := q.Get("ApplicationName"); v != "" {
		q.Set("application_name", v)
	}
	if v := q.Get("currentSchema"); v != "" {
		q.Set("search_path", v)
	}
	for _, jdbcOnly := range []string{"currentSchema", "ApplicationName", "loggerLevel", "reWriteBatchedInserts", "prepareThreshold", "stringtype", "tcpKeepAlive", "ssl"} {
		q.Del(jdbcOnly)
	}
	if q.Get("sslmode") == "" {
		q.Set("sslmode", "prefer")
	}
	switch {
	case user != "" && password != "":
		pu.User = url.UserPassword(user, password)
	case user != "":
		if p, ok := pu.User.Password(); ok && password == "" {
			pu.User = url.UserPassword(user, p)
		} else {
			pu.User = url.User(user)
		}
	}
	pu.Scheme = "postgres"
	pu.RawQuery = q.Encode()
	return Conn{Dialect: PostgreSQL, DSN: pu.String(), Database: strings.TrimPrefix(pu.Path, "/")}, nil
}

func parseJDBCMySQL(u, user, password string) (Conn, error) {
	u = strings.Replace(u, "mariadb://", "mysql://", 1)
	pu, err := url.Parse(u)
	if err != nil {
		return Conn{}, fmt.Errorf("connection.url: %w", err)
	}
	cfg := mysql.NewConfig()
	cfg.Net = "tcp"
	host := pu.Hostname()
	if host == "" {
		host = "localhost"
	}
	port := pu.Port()
	if port == "" {
		port = "3306"
	}
	cfg.Addr = net.JoinHostPort(host, port)
	cfg.DBName = strings.TrimPrefix(pu.Path, "/")
	if pu.User != nil {
		cfg.User = pu.User.Username()
		cfg.Passwd, _ = pu.User.Password()
	}
	q := pu.Query()
	if v := q.Get("user"); v != "" {
		cfg.User = v
	}
	if v := q.Get("password"); v != "" {
		cfg.Passwd = v
	}
	return mysqlConn(cfg, user, password), nil
}

func mysqlConn(cfg *mysql.Config, user, password string) Conn {
	if user != "" {
		cfg.User = user
	}
	if password != "" {
		cfg.Passwd = password
	}
	// Connectors scan DATETIME/TIMESTAMP into time.Time and need UTC to be explicit.
	cfg.ParseTime = true
	if cfg.Loc == nil {
		cfg.Loc = time.UTC
	}
	return Conn{Dialect: MySQL, DSN: cfg.FormatDSN(), Database: cfg.DBName}
}

// redact hides a password embedded in a URL so the error message can be logged.
func redact(u string) string {
	if pu, err := url.Parse(u); err == nil && pu.User != nil {
		if _, ok := pu.User.Password(); ok {
			pu.User = url.UserPassword(pu.User.Username(), "xxxxx")
			return pu.String()
		}
	}
	return u
}
