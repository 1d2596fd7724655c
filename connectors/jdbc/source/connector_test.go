package source

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/connect"
)

func TestPluginIsRegisteredUnderUpstreamClassAndAlias(t *testing.T) {
	reg, err := connect.NewRegistry(Plugins()...)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"io.confluent.connect.jdbc.JdbcSourceConnector", "JdbcSourceConnector"} {
		p, err := reg.Lookup(name, connect.PluginSource)
		if err != nil {
			t.Fatalf("lookup %s: %v", name, err)
		}
		if _, ok := p.New().(connect.SourceConnector); !ok {
			t.Fatalf("%s does not make a source connector", name)
		}
	}
}

func TestTablesAreSpreadOverTasksAndEachTaskReadsItsOwn(t *testing.T) {
	pg := newPG(t)
	for i := 1; i <= 5; i++ {
		pg.exec(t, fmt.Sprintf(`CREATE TABLE t%d (id serial PRIMARY KEY, v int)`, i),
			fmt.Sprintf(`INSERT INTO t%d (v) SELECT g FROM generate_series(1, %d) g`, i, i*10))
	}
	cfgs := taskProps(t, props("connection.url", pg.dsn, "mode", "incrementing", "topic.prefix", "s-"), 2)
	if len(cfgs) != 2 {
		t.Fatalf("%d task configs for 5 tables and tasks.max=2, want 2", len(cfgs))
	}
	// Contiguous groups, the first ones one larger, as upstream's ConnectorUtils.groupPartitions.
	if cfgs[0]["tables"] != `"public"."t1","public"."t2","public"."t3"` || cfgs[1]["tables"] != `"public"."t4","public"."t5"` {
		t.Fatalf("tables per task %q and %q", cfgs[0]["tables"], cfgs[1]["tables"])
	}
	perTopic := map[string]int{}
	for n, c := range cfgs {
		r := startRunner(t, quietContext(t), c)
		want := map[int]int{0: 10 + 20 + 30, 1: 40 + 50}[n]
		for _, rec := range r.waitCount(want, 20*time.Second) {
			perTopic[rec.Topic]++
		}
	}
	for i := 1; i <= 5; i++ {
		if got := perTopic[fmt.Sprintf("s-t%d", i)]; got != i*10 {
			t.Errorf("topic s-t%d got %d records, want %d", i, got, i*10)
		}
	}
}

func TestConnectorPicksUpNewTablesAndReleasesDroppedOnes(t *testing.T) {
	pg := newPG(t)
	pg.exec(t, `CREATE TABLE keep (id serial PRIMARY KEY)`, `CREATE TABLE gone (id serial PRIMARY KEY)`,
		`CREATE TABLE ignored (id serial PRIMARY KEY)`)
	c := &Connector{}
	cctx := newConnectorContext(t)
	p := props("connection.url", pg.dsn, "mode", "incrementing", "table.poll.interval.ms", "100",
		"table.include.list", `public\.(keep|gone|fresh.*)`)
	if err := c.Start(cctx, p); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	tablesOf := func() []string {
		cfgs, err := c.TaskConfigs(10)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, cfg := range cfgs {
			if cfg["tables"] != "" {
				out = append(out, strings.Split(cfg["tables"], ",")...)
			}
		}
		sort.Strings(out)
		return out
	}
	if got := strings.Join(tablesOf(), " "); got != `"public"."gone" "public"."keep"` {
		t.Fatalf("initial tables %s", got)
	}
	waitReconfig := func(n int32) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for cctx.reconfig.Load() < n {
			if time.Now().After(deadline) {
				t.Fatalf("no task reconfiguration requested (count %d, want %d)", cctx.reconfig.Load(), n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if n := cctx.reconfig.Load(); n != 0 {
		t.Fatalf("%d reconfigurations requested without a change", n)
	}

	pg.exec(t, `CREATE TABLE fresh_one (id serial PRIMARY KEY, v text)`, `INSERT INTO fresh_one (v) VALUES ('new')`)
	waitReconfig(1)
	if got := strings.Join(tablesOf(), " "); got != `"public"."fresh_one" "public"."gone" "public"."keep"` {
		t.Fatalf("after CREATE TABLE tables %s", got)
	}
	cfgs, _ := c.TaskConfigs(10)
	var freshCfg map[string]string
	for _, cfg := range cfgs {
		if cfg["tables"] == `"public"."fresh_one"` {
			freshCfg = cfg
		}
	}
	if freshCfg == nil {
		t.Fatalf("no task reads the new table: %v", cfgs)
	}
	r := startRunner(t, quietContext(t), freshCfg)
	if got := field(r.waitCount(1, 20*time.Second)[0], "v"); got != "new" {
		t.Fatalf("new table row %v", got)
	}

	pg.exec(t, `DROP TABLE gone`)
	waitReconfig(2)
	if got := strings.Join(tablesOf(), " "); got != `"public"."fresh_one" "public"."keep"` {
		t.Fatalf("after DROP TABLE tables %s", got)
	}
}

func TestDroppedTableDoesNotFailItsTask(t *testing.T) {
	my := newMy(t)
	my.exec(t, "CREATE TABLE a (id int NOT NULL AUTO_INCREMENT PRIMARY KEY)", "CREATE TABLE b (id int NOT NULL AUTO_INCREMENT PRIMARY KEY)",
		"INSERT INTO a () VALUES ()", "INSERT INTO b () VALUES ()")
	r := startRunner(t, quietContext(t), taskProps(t, props("connection.url", my.dsn, "mode", "incrementing"), 1)[0])
	r.waitCount(2, 20*time.Second)
	my.exec(t, "DROP TABLE a")
	time.Sleep(200 * time.Millisecond)
	my.exec(t, "INSERT INTO b () VALUES ()")
	r.waitCount(3, 20*time.Second)
}

func TestDuplicateTableNamesAcrossSchemasAreRefused(t *testing.T) {
	pg := newPG(t)
	pg.exec(t, `CREATE SCHEMA other`, `CREATE TABLE public.users (id serial PRIMARY KEY)`, `CREATE TABLE other.users (id serial PRIMARY KEY)`)
	err := (&Connector{}).Start(newConnectorContext(t), props("connection.url", pg.dsn, "mode", "incrementing"))
	if err == nil || !contains(err.Error(), "public.users", "other.users") {
		t.Fatalf("start error %v; want one naming both users tables", err)
	}
	c := &Connector{}
	if err := c.Start(newConnectorContext(t), props("connection.url", pg.dsn, "mode", "incrementing", "schema.pattern", "oth%")); err != nil {
		t.Fatalf("with schema.pattern narrowing to one schema: %v", err)
	}
	_ = c.Stop()
}
