package source

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/kconnect/kconnect/internal/properties"
)

// The two configurations of the "Examples" section of Confluent's JDBC source connector
// documentation (kafka-connect-jdbc docs/source_connector.rst, carried into the Confluent
// Platform docs), verbatim. Only the host, port, database and credentials of connection.url are
// pointed at the test database, keeping the URL's form and parameters (ssl=true included).
const confluentWhitelistExample = `
name=mysql-whitelist-timestamp-source
connector.class=io.confluent.connect.jdbc.JdbcSourceConnector
tasks.max=10

connection.url=jdbc:mysql://mysql.example.com:3306/my_database?user=alice&password=secret
table.whitelist=users,products,transactions

mode=timestamp+incrementing
timestamp.column.name=modified
incrementing.column.name=id

topic.prefix=mysql-
`

const confluentQueryExample = `
name=mysql-whitelist-timestamp-source
connector.class=io.confluent.connect.jdbc.JdbcSourceConnector
tasks.max=10

connection.url=jdbc:postgresql://postgres.example.com/test_db?user=bob&password=secret&ssl=true
query=SELECT users.id, users.name, transactions.timestamp, transactions.user_id, transactions.payment FROM users JOIN transactions ON (users.id = transactions.user_id)
mode=timestamp
timestamp.column.name=timestamp

topic.prefix=mysql-joined-data
`

func parseExample(t *testing.T, text string) map[string]string {
	t.Helper()
	p, err := properties.Parse(strings.NewReader(text), "example.properties")
	if err != nil {
		t.Fatal(err)
	}
	return p.Map()
}

func TestConfluentDocumentationWhitelistExampleRunsUnchanged(t *testing.T) {
	my := newMy(t)
	for _, table := range []string{"users", "products", "transactions"} {
		my.exec(t, fmt.Sprintf("CREATE TABLE %s (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, name varchar(20), modified timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3))", table),
			fmt.Sprintf("INSERT INTO %s (name) VALUES ('%s-1'), ('%s-2')", table, table, table))
	}
	cfg := parseExample(t, confluentWhitelistExample)
	dsn, err := mysql.ParseDSN(my.dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg["connection.url"] = strings.NewReplacer("mysql.example.com:3306", dsn.Addr, "my_database", dsn.DBName,
		"user=alice", "user="+url.QueryEscape(dsn.User), "password=secret", "password="+url.QueryEscape(dsn.Passwd)).Replace(cfg["connection.url"])

	if errs := validate(t, cfg); len(errs) > 0 {
		t.Fatalf("validation errors: %v", errs)
	}
	tasks := taskProps(t, cfg, 10)
	if len(tasks) != 3 {
		t.Fatalf("%d tasks for three tables with tasks.max=10, want 3", len(tasks))
	}
	perTopic := map[string]int{}
	for _, tc := range tasks {
		r := startRunner(t, quietContext(t), tc)
		for _, rec := range r.waitCount(2, 20*time.Second) {
			perTopic[rec.Topic]++
		}
	}
	for _, topic := range []string{"mysql-users", "mysql-products", "mysql-transactions"} {
		if perTopic[topic] != 2 {
			t.Errorf("topic %s got %d records, want 2 (all: %v)", topic, perTopic[topic], perTopic)
		}
	}
}

func TestConfluentDocumentationQueryExampleRunsUnchanged(t *testing.T) {
	pg := newPG(t)
	pg.exec(t, `CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL)`,
		`CREATE TABLE transactions (tid serial PRIMARY KEY, user_id int NOT NULL REFERENCES users, payment numeric(10,2), "timestamp" timestamp NOT NULL)`,
		`INSERT INTO users (name) VALUES ('alice'), ('bob')`,
		`INSERT INTO transactions (user_id, payment, "timestamp") VALUES (1, 10.50, '2024-01-01 10:00'), (2, 3.25, '2024-01-01 11:00'), (1, 7.00, '2024-01-02 09:00')`)
	cfg := parseExample(t, confluentQueryExample)
	u, err := url.Parse(pg.dsn)
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	cfg["connection.url"] = strings.NewReplacer("postgres.example.com", u.Host, "test_db", strings.TrimPrefix(u.Path, "/"),
		"user=bob", "user="+url.QueryEscape(u.User.Username()), "password=secret", "password="+url.QueryEscape(pw)).Replace(cfg["connection.url"])

	if errs := validate(t, cfg); len(errs) > 0 {
		t.Fatalf("validation errors: %v", errs)
	}
	tasks := taskProps(t, cfg, 10)
	if len(tasks) != 1 {
		t.Fatalf("%d tasks for a query, want 1", len(tasks))
	}
	r := startRunner(t, quietContext(t), tasks[0])
	recs := r.waitCount(3, 20*time.Second)
	var names []string
	for _, rec := range recs {
		if rec.Topic != "mysql-joined-data" {
			t.Fatalf("topic %s, want mysql-joined-data", rec.Topic)
		}
		names = append(names, field(rec, "name").(string))
	}
	if got := strings.Join(names, ","); got != "alice,bob,alice" {
		t.Fatalf("rows in timestamp order: %s, want alice,bob,alice", got)
	}
	pg.exec(t, `INSERT INTO transactions (user_id, payment, "timestamp") VALUES (2, 1.00, now())`)
	if got := field(r.waitCount(4, 20*time.Second)[3], "name"); got != "bob" {
		t.Fatalf("new joined row name %v", got)
	}
}
