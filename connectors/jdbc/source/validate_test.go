package source

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
)

// validate runs the ConfigDef and the connector's database checks, as the validate endpoint does,
// and returns the errors by key.
func validate(t *testing.T, p map[string]string) map[string][]string {
	t.Helper()
	c := &Connector{}
	values := c.ConfigDef().Validate(p)
	values = c.Validate(context.Background(), p, values)
	out := map[string][]string{}
	for _, v := range values {
		if len(v.Errors) > 0 {
			out[v.Name] = v.Errors
		}
	}
	return out
}

func expectError(t *testing.T, errs map[string][]string, key string, words ...string) {
	t.Helper()
	joined := strings.Join(errs[key], " | ")
	if !contains(joined, words...) {
		t.Errorf("errors on %s = %q; want one mentioning %q (all errors: %v)", key, joined, words, errs)
	}
}

func TestValidateReportsDatabaseProblemsOnTheirKeys(t *testing.T) {
	pg := newPG(t)
	pg.exec(t, `CREATE TABLE orders (id serial PRIMARY KEY, note text, maybe int, created date NOT NULL, label text)`)
	base := func(kv ...string) map[string]string {
		return props(append([]string{"connection.url", pg.dsn, "mode", "incrementing", "topic.prefix", "p-"}, kv...)...)
	}
	if errs := validate(t, base("table.whitelist", "orders", "incrementing.column.name", "id")); len(errs) > 0 {
		t.Fatalf("valid configuration got errors %v", errs)
	}
	t.Run("missing table", func(t *testing.T) {
		expectError(t, validate(t, base("table.whitelist", "orders,public.invoices")), "table.whitelist", "public.invoices", "does not exist")
	})
	t.Run("missing incrementing column", func(t *testing.T) {
		expectError(t, validate(t, base("table.whitelist", "orders", "incrementing.column.name", "seq")),
			"incrementing.column.name", "public.orders", `"seq"`, "does not exist")
	})
	t.Run("nullable incrementing column", func(t *testing.T) {
		expectError(t, validate(t, base("table.whitelist", "orders", "incrementing.column.name", "maybe")),
			"incrementing.column.name", "public.orders", "maybe", "nullable")
	})
	t.Run("missing timestamp column", func(t *testing.T) {
		expectError(t, validate(t, base("mode", "timestamp", "table.whitelist", "orders", "timestamp.column.name", "created,modified")),
			"timestamp.column.name", "public.orders", `"modified"`)
	})
	t.Run("timestamp column of the wrong type", func(t *testing.T) {
		expectError(t, validate(t, base("mode", "timestamp", "table.whitelist", "orders", "timestamp.column.name", "label")),
			"timestamp.column.name", "public.orders", "label", "text")
	})
	t.Run("no auto-increment column to detect", func(t *testing.T) {
		pg.exec(t, `CREATE TABLE plain (code text PRIMARY KEY)`)
		expectError(t, validate(t, base("table.whitelist", "plain")), "incrementing.column.name", "public.plain", "auto-incrementing")
	})
	t.Run("missing privilege", func(t *testing.T) {
		role := fmt.Sprintf("kc_reader_%08x", rand.Uint32())
		pg.exec(t, fmt.Sprintf(`CREATE ROLE %s LOGIN PASSWORD 'pw'`, role))
		t.Cleanup(func() { pg.exec(t, `DROP OWNED BY `+role, `DROP ROLE `+role) })
		u, _ := url.Parse(pg.dsn)
		u.User = url.UserPassword(role, "pw")
		errs := validate(t, props("connection.url", u.String(), "mode", "incrementing", "table.whitelist", "orders"))
		expectError(t, errs, "connection.user", "public.orders", "permission denied")
		pg.exec(t, `GRANT SELECT ON orders TO `+role)
		if errs := validate(t, props("connection.url", u.String(), "mode", "incrementing", "table.whitelist", "orders")); len(errs) > 0 {
			t.Fatalf("after GRANT SELECT: %v", errs)
		}
	})
	t.Run("bad query", func(t *testing.T) {
		expectError(t, validate(t, props("connection.url", pg.dsn, "mode", "bulk", "query", "SELECT nope FROM orders")), "query", "nope")
		expectError(t, validate(t, props("connection.url", pg.dsn, "mode", "incrementing", "query", "SELECT note FROM orders",
			"incrementing.column.name", "id")), "incrementing.column.name", `"id"`)
	})
	t.Run("unreachable database", func(t *testing.T) {
		expectError(t, validate(t, props("connection.url", "jdbc:postgresql://127.0.0.1:1/db", "mode", "bulk")), "connection.url", "cannot connect")
	})
}

func TestValidateMySQLMissingTableAndColumn(t *testing.T) {
	my := newMy(t)
	my.exec(t, "CREATE TABLE users (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, modified datetime NOT NULL)")
	url, user, pw := my.jdbcURL(t)
	base := func(kv ...string) map[string]string {
		return props(append([]string{"connection.url", url, "connection.user", user, "connection.password", pw}, kv...)...)
	}
	if errs := validate(t, base("mode", "timestamp+incrementing", "table.whitelist", "users", "timestamp.column.name", "modified", "incrementing.column.name", "id")); len(errs) > 0 {
		t.Fatalf("valid configuration got errors %v", errs)
	}
	expectError(t, validate(t, base("mode", "incrementing", "table.whitelist", "users,products")), "table.whitelist", "products", "does not exist")
	expectError(t, validate(t, base("mode", "timestamp", "table.whitelist", "users", "timestamp.column.name", "updated_at")),
		"timestamp.column.name", ".users", `"updated_at"`)
}

func TestValidateStaticRules(t *testing.T) {
	cases := []struct {
		name  string
		props map[string]string
		key   string
		words []string
	}{
		{"mode unset", props("connection.url", "jdbc:postgresql://h/db"), "mode", []string{"mode must be set"}},
		{"unknown mode", props("connection.url", "jdbc:postgresql://h/db", "mode", "full"), "mode", []string{"full"}},
		{"no url", props("mode", "bulk"), "connection.url", []string{"connection.url"}},
		{"whitelist and blacklist", props("connection.url", "jdbc:postgresql://h/db", "mode", "bulk", "table.whitelist", "a", "table.blacklist", "b"),
			"table.blacklist", []string{"cannot both be set"}},
		{"legacy and new filters", props("connection.url", "jdbc:postgresql://h/db", "mode", "bulk", "table.whitelist", "a", "table.include.list", "s\\..*"),
			"table.include.list", []string{"cannot be combined"}},
		{"exclude without include", props("connection.url", "jdbc:postgresql://h/db", "mode", "bulk", "table.exclude.list", "x"),
			"table.exclude.list", []string{"requires table.include.list"}},
		{"bad regex", props("connection.url", "jdbc:postgresql://h/db", "mode", "bulk", "table.include.list", "a(b"),
			"table.include.list", []string{"a(b"}},
		{"query with tables", props("connection.url", "jdbc:postgresql://h/db", "mode", "bulk", "query", "SELECT 1", "table.whitelist", "a"),
			"query", []string{"cannot be combined"}},
		{"query without incrementing column", props("connection.url", "jdbc:postgresql://h/db", "mode", "incrementing", "query", "SELECT 1"),
			"incrementing.column.name", []string{"must be set"}},
		{"timestamp mode without column", props("connection.url", "jdbc:postgresql://h/db", "mode", "timestamp"),
			"timestamp.column.name", []string{"needs timestamp.column.name"}},
		{"bad time zone", props("connection.url", "jdbc:postgresql://h/db", "mode", "bulk", "db.timezone", "Mars/Olympus"),
			"db.timezone", []string{"Mars/Olympus"}},
		{"bad topic prefix", props("connection.url", "jdbc:postgresql://h/db", "mode", "bulk", "topic.prefix", "a b"),
			"topic.prefix", []string{"ASCII alphanumerics"}},
		{"sql server isolation", props("connection.url", "jdbc:postgresql://h/db", "mode", "bulk", "transaction.isolation.mode", "SQL_SERVER_SNAPSHOT"),
			"transaction.isolation.mode", []string{"SQL Server"}},
		{"bad mapping", props("connection.url", "jdbc:postgresql://h/db", "mode", "timestamp", "table.include.list", "a", "timestamp.columns.mapping", "a:col"),
			"timestamp.columns.mapping", []string{"square brackets"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			expectError(t, validate(t, c.props), c.key, c.words...)
		})
	}
}
