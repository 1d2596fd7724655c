package source

import (
	"testing"
	"time"
)

// TestRowsPerPollMetric reads a table of 250 rows and then one more row: the task reports each
// read of the table with its row count, so the observations add up to 251 and one of them is 1.
func TestRowsPerPollMetric(t *testing.T) {
	pg := newPG(t)
	pg.exec(t,
		`CREATE TABLE polled (id serial PRIMARY KEY, name text NOT NULL)`,
		`INSERT INTO polled (name) SELECT 'a' || g FROM generate_series(1, 250) g`)
	url, user, pw := pg.jdbcURL(t)
	p := props("connection.url", url, "connection.user", user, "connection.password", pw, "poll.interval.ms", "50",
		"mode", "incrementing", "incrementing.column.name", "id", "topic.prefix", "pg-", "table.whitelist", "polled")
	ctx := quietContext(t)
	r := startRunner(t, ctx, taskProps(t, p, 1)[0])
	r.waitCount(250, 20*time.Second)
	pg.exec(t, `INSERT INTO polled (name) VALUES ('late')`)
	r.waitCount(251, 20*time.Second)
	// The read is observed once it returned, which may be just after its records arrived.
	deadline := time.Now().Add(20 * time.Second)
	for {
		var sum float64
		var single bool
		for _, n := range ctx.Observations("jdbc_source_rows_per_poll") {
			sum += n
			single = single || n == 1
		}
		if sum == 251 && single {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("rows per poll %v: sum %v, want 251 with a read of 1", ctx.Observations("jdbc_source_rows_per_poll"), sum)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
