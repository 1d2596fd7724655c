package faults

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
)

// Environment variables of the suite; `make faults` sets them for the long run.
const (
	envFaults = "KCONNECT_FAULTS"        // faults per pipeline
	envSeed   = "KCONNECT_FAULTS_SEED"   // seed of every random choice; printed, so a run can be replayed
	envBudget = "KCONNECT_FAULTS_BUDGET" // time budget per pipeline for injecting faults (a Go duration)
	envReport = "KCONNECT_FAULTS_REPORT" // report path without extension: .json and .md are written
	// envPipelines names the pipelines to run, comma-separated (default all), so that one
	// pipeline's long run need not wait for the others.
	envPipelines = "KCONNECT_FAULTS_PIPELINES"
	// envParallel is how many pipelines run at once (default all): each has its own broker,
	// databases and worker, so they only share the machine. 1 measures each pipeline alone.
	envParallel = "KCONNECT_FAULTS_PARALLEL"
)

// The short run that plain `go test` does: a few faults per pipeline with a fixed seed.
const (
	shortFaults = 2
	shortSeed   = 1
	shortBudget = 40 * time.Second
)

// Fault kinds.
const (
	faultWorkerKill    = "worker kill -9"
	faultWorkerStop    = "worker SIGSTOP/SIGCONT"
	faultBrokerKill    = "broker kill -9 + restart"
	faultPGRestart     = "PostgreSQL restart"
	faultPGTerminate   = "pg_terminate_backend"
	faultMySQLRestart  = "MariaDB restart"
	faultDiskFull      = "disk full (offsets dir)"
	faultBrokerFull    = "disk full (embedded broker data dir)"
	faultSlowNetwork   = "slow network (netem)"
	recoveryTimeout    = 3 * time.Minute
	startTimeout       = 3 * time.Minute // a (re)start of a worker or broker on a loaded machine
	settleTimeout      = 4 * time.Minute
	writerRetryBackoff = 200 * time.Millisecond
)

type config struct {
	faults    int
	seed      uint64
	budget    time.Duration
	report    string
	pipelines map[string]bool // nil: all
	parallel  int             // pipelines at once; 0: all
}

func loadConfig(t *testing.T) config {
	t.Helper()
	c := config{faults: shortFaults, seed: shortSeed, budget: shortBudget}
	if v := os.Getenv(envFaults); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			t.Fatalf("%s=%q: want a number of faults per pipeline", envFaults, v)
		}
		c.faults = n
	}
	if v := os.Getenv(envSeed); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: want an unsigned integer", envSeed, v)
		}
		c.seed = n
	}
	if v := os.Getenv(envBudget); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("%s=%q: want a positive duration such as 20m", envBudget, v)
		}
		c.budget = d
	}
	if v := os.Getenv(envPipelines); v != "" {
		c.pipelines = map[string]bool{}
		var names []string
		for _, p := range pipelines() {
			names = append(names, p.name)
		}
		for n := range strings.SplitSeq(v, ",") {
			n = strings.TrimSpace(n)
			if !slices.Contains(names, n) {
				t.Fatalf("%s=%q: no pipeline %q; the pipelines are %s", envPipelines, v, n, strings.Join(names, ", "))
			}
			c.pipelines[n] = true
		}
	}
	if v := os.Getenv(envParallel); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			t.Fatalf("%s=%q: want how many pipelines run at once (0 for all)", envParallel, v)
		}
		c.parallel = n
	}
	c.report = os.Getenv(envReport)
	if c.report == "" {
		dir, err := os.MkdirTemp("", "kconnect-faults-")
		if err != nil {
			t.Fatal(err)
		}
		c.report = filepath.Join(dir, "faults-report")
	}
	return c
}

// checksum is what the driver expects a record with key k to carry; it derives from the key
// alone, so the expected content never comes from the code under test.
func checksum(k string) string {
	h := sha256.Sum256([]byte(k))
	return hex.EncodeToString(h[:8])
}

// result compares a destination with its source: every expected key must arrive with its
// checksum; a key arriving more than once counts its extra copies as duplicates.
type result struct {
	Expected   int64 `json:"expected"`
	Lost       int64 `json:"lost"`
	Duplicated int64 `json:"duplicated"`
	firstLost  []string
	// firstDuplicated names a few duplicated keys for the failure message.
	firstDuplicated []string
}

// compare counts lost and duplicated keys: want lists the source's keys; got maps each key that
// arrived with a correct checksum to its number of copies.
func compare(want []string, got map[string]int) result {
	r := result{Expected: int64(len(want))}
	for _, k := range want {
		n := got[k]
		if n == 0 {
			r.Lost++
			if len(r.firstLost) < 10 {
				r.firstLost = append(r.firstLost, k)
			}
		}
		if n > 1 {
			r.Duplicated += int64(n - 1)
			if len(r.firstDuplicated) < 10 {
				r.firstDuplicated = append(r.firstDuplicated, k)
			}
		}
	}
	return r
}

// pipeline describes one pipeline of the suite.
type pipeline struct {
	name        string
	postgres    bool // runs a private PostgreSQL the faults restart
	mysql       bool // runs a private MariaDB
	apache      bool // Kafka is a private Apache Kafka node rather than a `kconnect broker` process
	embedded    bool // Kafka is the worker's own embedded broker, so a worker kill -9 kills it too
	distributed bool // three `kconnect distributed` workers in one group; a worker fault hits one at random
	exactlyOnce bool // exactly.once.source.support=enabled, offsets in the offsets topic; a duplicate fails the test
	schemas     bool // JSON converters with schemas (the SQL sinks need them)
	kinds       []string
	connectors  func(e *env) []map[string]string
	prepare     func(e *env)
	load        func(ctx context.Context, e *env)
	stopLoad    func(e *env)
	progress    func(e *env) (int64, error)
	verify      func(e *env) (result, error)
}

// env is the running infrastructure of one pipeline.
type env struct {
	t           *testing.T
	p           *pipeline
	rng         *rand.Rand
	dir         string
	brokerAddr  string
	brokerKill  func()               // kill -9 of the broker
	brokerStart func()               // start of the killed broker on the same port and data
	workers     []*workertest.Worker // one standalone worker, or the distributed cluster's three
	pg          *testenv.PostgresServer
	my          *testenv.MySQLServer
	myDB        *sql.DB // one pool to the MariaDB database dst: a pool per query would exhaust max_connections
	offsetsDir  string
	brokerDir   string // the embedded broker's data directory, on its own tmpfs
	topic       string
	skipped     map[string]string // fault kind → why it is not injected
	connectors  []string

	restarts int // tasks found FAILED and restarted through the REST API
	exits    int // workers that exited by themselves
}

// report is one pipeline's line of the report.
type report struct {
	Pipeline     string            `json:"pipeline"`
	Faults       map[string]int    `json:"faults"`
	Skipped      map[string]string `json:"skipped,omitempty"`
	Injected     int               `json:"injected"`
	Unrecovered  int               `json:"unrecovered"`
	TaskRestarts int               `json:"task_restarts"`
	WorkerExits  int               `json:"worker_exits"`
	RecoveryP50  float64           `json:"recovery_p50_s"`
	RecoveryP99  float64           `json:"recovery_p99_s"`
	Duration     float64           `json:"duration_s"`
	result
}

// newEnv starts the pipeline's databases, broker and worker.
func newEnv(t *testing.T, p *pipeline, seed uint64) *env {
	t.Helper()
	h := fnv.New64a()
	h.Write([]byte(p.name))
	e := &env{t: t, p: p, rng: rand.New(rand.NewPCG(seed, h.Sum64())), dir: t.TempDir(), skipped: map[string]string{}}
	e.topic = fmt.Sprintf("faults-%s-%08x", p.name, rand.Uint32())
	if p.postgres {
		e.pg = testenv.NewPostgresServer(t)
		if err := e.pgExec("ALTER SYSTEM SET wal_level = logical"); err != nil {
			t.Fatal(err)
		}
		e.pg.Stop()
		e.pg.Start()
	}
	if p.mysql {
		e.my = testenv.NewMySQLServer(t)
		e.myDB = e.my.Open("dst")
		e.myDB.SetMaxOpenConns(2)
	}
	e.offsetsDir = filepath.Join(e.dir, "offsets")
	if err := os.Mkdir(e.offsetsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	switch {
	case p.exactlyOnce:
		e.skipped[faultDiskFull] = "exactly-once keeps source offsets in the offsets topic; the offsets file is only read at start"
	case p.distributed:
		e.skipped[faultDiskFull] = "distributed workers keep source offsets in the offsets topic, not in a file"
	default:
		e.mountTmpfs(e.offsetsDir, "1m", faultDiskFull)
	}
	if why := netemUnavailable(); why != "" {
		e.skipped[faultSlowNetwork] = why
	}

	embeddedPort := 0
	switch {
	case p.apache:
		k := testenv.NewKafkaServer(t)
		e.brokerAddr, e.brokerKill, e.brokerStart = k.Addr(), k.Kill, k.Start
	case p.embedded:
		embeddedPort = testenv.FreePort(t)
		e.brokerAddr = fmt.Sprintf("127.0.0.1:%d", embeddedPort)
		e.skipped[faultBrokerKill] = "the broker is the worker's own: a worker kill -9 kills it"
		// Room for the records of a long run; the fault fills the rest.
		e.brokerDir = filepath.Join(e.dir, "state")
		if err := os.Mkdir(e.brokerDir, 0o755); err != nil {
			t.Fatal(err)
		}
		e.mountTmpfs(e.brokerDir, "128m", faultBrokerFull)
	default:
		dir := filepath.Join(e.dir, "broker")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		b := workertest.StartBrokerProcess(t, dir)
		b.StartTimeout = startTimeout
		e.brokerAddr, e.brokerKill, e.brokerStart = b.Bootstrap, b.Kill9, b.Restart
	}

	if p.prepare != nil {
		p.prepare(e)
	}
	props := map[string]string{
		"key.converter":                  "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable": "false",
		"offset.storage.file.filename":   filepath.Join(e.offsetsDir, "connect.offsets"),
		"offset.flush.interval.ms":       "500",
		"bootstrap.servers":              e.brokerAddr,
	}
	if p.embedded {
		props["bootstrap.servers"] = "embedded"
		props["kconnect.embedded.broker.port"] = strconv.Itoa(embeddedPort)
		props["kconnect.state.dir"] = e.brokerDir
	}
	if p.exactlyOnce {
		props["exactly.once.source.support"] = "enabled"
		props["offset.storage.topic"] = e.topic + "-offsets"
		props["offset.storage.replication.factor"] = "1"
		props["offset.storage.partitions"] = "3"
	}
	if p.schemas {
		props["key.converter"] = "org.apache.kafka.connect.json.JsonConverter"
		props["key.converter.schemas.enable"] = "true"
		props["value.converter.schemas.enable"] = "true"
	}
	props["listeners"] = fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t))
	conns := p.connectors(e)
	for _, c := range conns {
		e.connectors = append(e.connectors, c["name"])
	}
	if p.distributed {
		e.startCluster(props, conns)
	} else {
		w := workertest.Start(t, e.dir, props, conns...)
		w.StartTimeout = startTimeout
		e.workers = []*workertest.Worker{w}
	}
	t.Cleanup(func() {
		if t.Failed() {
			for i, w := range e.workers {
				t.Logf("last log of worker %d:\n%s", i, tail(w.Log(), 60))
			}
		}
	})
	return e
}

// startCluster starts three distributed workers in one group on props, each with its own REST
// port and directory, and creates the connectors through the REST API (a worker answers 409
// until the group has formed, so creation is retried).
func (e *env) startCluster(props map[string]string, conns []map[string]string) {
	e.t.Helper()
	delete(props, "offset.storage.file.filename")
	maps.Copy(props, map[string]string{
		"group.id":                          e.topic + "-group",
		"config.storage.topic":              e.topic + "-configs",
		"offset.storage.topic":              e.topic + "-offsets",
		"status.storage.topic":              e.topic + "-status",
		"config.storage.replication.factor": "1",
		"offset.storage.replication.factor": "1",
		"status.storage.replication.factor": "1",
		"offset.storage.partitions":         "3",
		// Short timeouts, so that a killed or frozen worker's tasks move within seconds.
		"session.timeout.ms":                "6000",
		"heartbeat.interval.ms":             "1000",
		"scheduled.rebalance.max.delay.ms":  "3000",
		"task.shutdown.graceful.timeout.ms": "2000",
	})
	for i := range 3 {
		dir := filepath.Join(e.dir, fmt.Sprintf("worker-%d", i))
		if err := os.Mkdir(dir, 0o755); err != nil {
			e.t.Fatal(err)
		}
		wp := maps.Clone(props)
		wp["listeners"] = fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(e.t))
		w := workertest.StartDistributed(e.t, dir, wp)
		w.StartTimeout = startTimeout
		e.workers = append(e.workers, w)
	}
	for _, c := range conns {
		deadline := time.Now().Add(startTimeout)
		for {
			code, body, err := e.rest(http.MethodPost, "/connectors", map[string]any{"name": c["name"], "config": c})
			if err == nil && (code == http.StatusCreated || code == http.StatusConflict && strings.Contains(string(body), "already exists")) {
				break
			}
			if time.Now().After(deadline) {
				e.t.Fatalf("create connector %s: %d %s %v", c["name"], code, body, err)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
}

// worker returns the worker a fault hits: a random one of a cluster's. A standalone pipeline
// draws nothing, so that its seeded sequence of faults stays what it was.
func (e *env) worker() *workertest.Worker {
	if len(e.workers) == 1 {
		return e.workers[0]
	}
	return e.workers[e.rng.IntN(len(e.workers))]
}

func tail(s string, lines int) string {
	l := strings.Split(s, "\n")
	return strings.Join(l[max(0, len(l)-lines):], "\n")
}

// mountTmpfs puts dir on a tmpfs of size, so that the disk-full fault kind fills it without
// touching the machine's disk.
func (e *env) mountTmpfs(dir, size, kind string) {
	if err := testenv.MountTmpfs(e.t, dir, size); err != nil {
		if os.Getenv("CI") == "true" {
			e.t.Fatal(err)
		}
		e.t.Log(kind + " skipped: " + err.Error())
		e.skipped[kind] = err.Error()
	}
}

// loopbackQdisc serialises the pipelines' changes to lo's root qdisc, which they would share.
var loopbackQdisc sync.Mutex

// netemUnavailable says why tc cannot delay loopback traffic here ("" when it can): the slow
// network fault needs the prio and netem queueing disciplines, limited to the broker's port by a
// u32 filter so that nobody else's loopback traffic slows down.
var netemUnavailable = sync.OnceValue(func() string {
	loopbackQdisc.Lock()
	defer loopbackQdisc.Unlock()
	if _, err := exec.LookPath("tc"); err != nil {
		return "tc is not installed"
	}
	if out, err := exec.Command("tc", "qdisc", "add", "dev", "lo", "root", "handle", "1:", "prio").CombinedOutput(); err != nil {
		return fmt.Sprintf("tc cannot add a prio qdisc on lo: %s", strings.TrimSpace(string(out)))
	}
	defer exec.Command("tc", "qdisc", "del", "dev", "lo", "root").Run()
	if out, err := exec.Command("tc", "qdisc", "add", "dev", "lo", "parent", "1:3", "handle", "30:", "netem", "delay", "0ms").CombinedOutput(); err != nil {
		return fmt.Sprintf("tc cannot add a netem qdisc on lo (sch_netem missing?): %s", strings.TrimSpace(string(out)))
	}
	return ""
})

// kinds returns the fault kinds this pipeline injects.
func (e *env) kinds() []string {
	var ks []string
	for _, k := range e.p.kinds {
		if _, skip := e.skipped[k]; !skip {
			ks = append(ks, k)
		}
	}
	return ks
}

// pause sleeps a random time between lo and hi.
func (e *env) pause(lo, hi time.Duration) {
	time.Sleep(lo + time.Duration(e.rng.Int64N(int64(hi-lo))))
}

// inject causes one fault and heals it. It returns when the fault is over, with the moment the
// time to recover counts from: when the fault ended, or for a killed worker when its restart
// began, so that the worker's own start-up counts.
func (e *env) inject(kind string) time.Time {
	e.t.Helper()
	switch kind {
	case faultWorkerKill:
		w := e.worker()
		w.Kill9()
		restart := time.Now()
		w.Restart()
		return restart
	case faultWorkerStop:
		w := e.worker()
		w.Freeze()
		e.pause(time.Second, 6*time.Second)
		w.Thaw()
	case faultBrokerKill:
		e.brokerKill()
		e.pause(500*time.Millisecond, 4*time.Second)
		e.brokerStart()
	case faultPGRestart:
		e.pg.Stop()
		e.pause(500*time.Millisecond, 4*time.Second)
		e.pg.Start()
	case faultMySQLRestart:
		e.my.Stop()
		e.pause(500*time.Millisecond, 4*time.Second)
		e.my.Start()
	case faultPGTerminate:
		if err := e.pgExec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE pid <> pg_backend_pid() AND backend_type IN ('client backend', 'walsender')`); err != nil {
			e.t.Fatal(err)
		}
	case faultDiskFull:
		e.fillDisk(e.offsetsDir)
	case faultBrokerFull:
		e.fillDisk(e.brokerDir)
	case faultSlowNetwork:
		e.slowNetwork()
	default:
		e.t.Fatalf("unknown fault %q", kind)
	}
	return time.Now()
}

// fillDisk fills the tmpfs on dir for a few seconds, then frees it.
func (e *env) fillDisk(dir string) {
	e.t.Helper()
	free := testenv.FillDisk(e.t, dir)
	e.pause(2*time.Second, 8*time.Second)
	free()
}

// slowNetwork delays the broker's loopback traffic by 100 ms for a few seconds; one pipeline at a
// time, as lo has one root qdisc.
func (e *env) slowNetwork() {
	e.t.Helper()
	loopbackQdisc.Lock()
	defer loopbackQdisc.Unlock()
	_, port, _ := strings.Cut(e.brokerAddr, ":")
	cmds := [][]string{
		{"qdisc", "add", "dev", "lo", "root", "handle", "1:", "prio"},
		{"qdisc", "add", "dev", "lo", "parent", "1:3", "handle", "30:", "netem", "delay", "100ms", "20ms"},
		{"filter", "add", "dev", "lo", "parent", "1:0", "protocol", "ip", "prio", "3", "u32", "match", "ip", "dport", port, "0xffff", "flowid", "1:3"},
		{"filter", "add", "dev", "lo", "parent", "1:0", "protocol", "ip", "prio", "3", "u32", "match", "ip", "sport", port, "0xffff", "flowid", "1:3"},
	}
	defer exec.Command("tc", "qdisc", "del", "dev", "lo", "root").Run()
	for _, c := range cmds {
		if out, err := exec.Command("tc", c...).CombinedOutput(); err != nil {
			e.t.Fatalf("tc %s: %v %s", strings.Join(c, " "), err, out)
		}
	}
	e.pause(2*time.Second, 8*time.Second)
}

// awaitRecovery waits until the destination grows past what it held when the fault ended (or
// already holds everything), restarting failed tasks and a worker that exited on its own, each
// counted. It returns how long that took since start, or false after recoveryTimeout.
func (e *env) awaitRecovery(start time.Time, from int64) (time.Duration, bool) {
	for time.Since(start) < recoveryTimeout {
		for i, w := range e.workers {
			if w.Exited() {
				e.exits++
				e.t.Logf("worker %d exited by itself:\n%s", i, tail(w.Log(), 30))
				w.Restart()
			}
		}
		e.restartFailed()
		if n, err := e.p.progress(e); err == nil && n > from {
			return time.Since(start), true
		}
		time.Sleep(200 * time.Millisecond)
	}
	return time.Since(start), false
}

// restartFailed restarts a connector's failed tasks through the REST API, as an operator would.
func (e *env) restartFailed() {
	for _, name := range e.connectors {
		var st struct {
			Connector struct{ State, Trace string }
			Tasks     []struct {
				ID           int
				State, Trace string
			}
		}
		if code, body, err := e.rest(http.MethodGet, "/connectors/"+name+"/status", nil); err != nil || code != 200 || json.Unmarshal(body, &st) != nil {
			continue
		}
		failed := st.Connector.State == "FAILED"
		for _, task := range st.Tasks {
			if task.State == "FAILED" {
				failed = true
				e.t.Logf("%s task %d FAILED: %s", name, task.ID, firstLine(task.Trace))
			}
		}
		if failed {
			e.restarts++
			if code, body, err := e.rest(http.MethodPost, "/connectors/"+name+"/restart?includeTasks=true&onlyFailed=true", nil); err != nil || code >= 300 {
				e.t.Logf("restart %s: %d %s %v", name, code, body, err)
			}
		}
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// rest sends a request with body as JSON (none when nil) to the REST API of the first worker that
// answers: a cluster's followers forward to the leader what they cannot serve.
func (e *env) rest(method, path string, body any) (int, []byte, error) {
	var js []byte
	if body != nil {
		var err error
		if js, err = json.Marshal(body); err != nil {
			return 0, nil, err
		}
	}
	var errs []error
	for _, w := range e.workers {
		code, b, err := restTo(w.URL, method, path, js)
		if err == nil {
			return code, b, nil
		}
		errs = append(errs, err)
	}
	return 0, nil, errors.Join(errs...)
}

func restTo(url, method, path string, body []byte) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// pgExec runs sql on the private PostgreSQL's database postgres.
func (e *env) pgExec(sql string, args ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, e.pg.DSN())
	if err != nil {
		return fmt.Errorf("connect to the private PostgreSQL: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		return fmt.Errorf("PostgreSQL: %s: %w", sql, err)
	}
	return nil
}

// run drives one pipeline: load, random faults until the count or the budget is reached, then
// the comparison of destination and source.
func run(t *testing.T, cfg config, p *pipeline) report {
	began := time.Now()
	e := newEnv(t, p, cfg.seed)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { p.load(ctx, e) })
	stopLoad := sync.OnceFunc(func() {
		cancel()
		wg.Wait()
	})
	defer stopLoad()

	if _, ok := e.awaitRecovery(time.Now(), 0); !ok {
		t.Fatalf("%s: nothing reached the destination within %v", p.name, recoveryTimeout)
	}
	rep := report{Pipeline: p.name, Faults: map[string]int{}, Skipped: e.skipped}
	var recoveries []time.Duration
	kinds := e.kinds()
	faultStart := time.Now()
	for i := 0; i < cfg.faults && time.Since(faultStart) < cfg.budget; i++ {
		e.pause(500*time.Millisecond, 3*time.Second)
		kind := kinds[e.rng.IntN(len(kinds))]
		t.Logf("fault %d: %s", i+1, kind)
		since := e.inject(kind)
		from, err := p.progress(e)
		if err != nil {
			from = 0
		}
		rep.Faults[kind]++
		rep.Injected++
		d, ok := e.awaitRecovery(since, from)
		if !ok {
			rep.Unrecovered++
			t.Errorf("%s: no progress within %v after %s", p.name, recoveryTimeout, kind)
			continue
		}
		recoveries = append(recoveries, d)
	}
	stopLoad()
	if p.stopLoad != nil {
		p.stopLoad(e)
	}

	var res result
	deadline := time.Now().Add(settleTimeout)
	for {
		e.restartFailed()
		r, err := p.verify(e)
		if err == nil {
			res = r
			if res.Lost == 0 || time.Now().After(deadline) {
				break
			}
		} else if time.Now().After(deadline) {
			t.Fatalf("%s: verify: %v", p.name, err)
		}
		time.Sleep(time.Second)
	}
	rep.result = res
	rep.TaskRestarts, rep.WorkerExits = e.restarts, e.exits
	rep.RecoveryP50, rep.RecoveryP99 = percentile(recoveries, 50), percentile(recoveries, 99)
	rep.Duration = time.Since(began).Round(time.Second).Seconds()
	if res.Lost > 0 {
		t.Errorf("%s: %d of %d records lost (first: %v)", p.name, res.Lost, res.Expected, res.firstLost)
	}
	if p.exactlyOnce && res.Duplicated > 0 {
		t.Errorf("%s: %d duplicates of %d records in an exactly-once pipeline (first: %v)", p.name, res.Duplicated,
			res.Expected, res.firstDuplicated)
	}
	if res.Expected == 0 {
		t.Errorf("%s: the source produced no records, so nothing was verified", p.name)
	}
	return rep
}

// percentile is the nearest-rank percentile of ds in seconds (0 for none).
func percentile(ds []time.Duration, pct int) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (pct*len(s) + 99) / 100
	return s[max(i, 1)-1].Round(10 * time.Millisecond).Seconds()
}

// writeReport writes the reports as JSON and Markdown next to each other and returns the
// Markdown.
func writeReport(t *testing.T, cfg config, reps []report) string {
	t.Helper()
	doc := struct {
		Seed      uint64   `json:"seed"`
		Faults    int      `json:"faults_per_pipeline"`
		Budget    string   `json:"budget_per_pipeline"`
		Pipelines []report `json:"pipelines"`
	}{cfg.seed, cfg.faults, cfg.budget.String(), reps}
	js, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Fault-injection report\n\nSeed %d, up to %d faults per pipeline within %v each "+
		"(replay: `make faults FAULTS=%d FAULTS_SEED=%d`).\n\n", cfg.seed, cfg.faults, cfg.budget, cfg.faults, cfg.seed)
	b.WriteString("| Pipeline | Faults injected | Expected | Lost | Duplicated | Recovery p50 | Recovery p99 | Unrecovered | Task restarts | Worker exits |\n")
	b.WriteString("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range reps {
		var kinds []string
		for _, k := range slices.Sorted(maps.Keys(r.Faults)) {
			kinds = append(kinds, fmt.Sprintf("%s: %d", k, r.Faults[k]))
		}
		fmt.Fprintf(&b, "| %s | %d (%s) | %d | %d | %d | %.2fs | %.2fs | %d | %d | %d |\n", r.Pipeline, r.Injected,
			strings.Join(kinds, ", "), r.Expected, r.Lost, r.Duplicated, r.RecoveryP50, r.RecoveryP99, r.Unrecovered, r.TaskRestarts, r.WorkerExits)
	}
	// A fault kind may be left out for different reasons in different pipelines.
	type skip struct{ kind, why string }
	skipped := map[skip][]string{}
	for _, r := range reps {
		for k, why := range r.Skipped {
			skipped[skip{k, why}] = append(skipped[skip{k, why}], r.Pipeline)
		}
	}
	if len(skipped) > 0 {
		b.WriteString("\nNot injected (not counted):\n\n")
		keys := slices.SortedFunc(maps.Keys(skipped), func(a, b skip) int {
			return strings.Compare(a.kind+"\x00"+a.why, b.kind+"\x00"+b.why)
		})
		for _, k := range keys {
			fmt.Fprintf(&b, "- %s (%s): %s\n", k.kind, strings.Join(skipped[k], ", "), k.why)
		}
	}
	md := b.String()
	if err := os.MkdirAll(filepath.Dir(cfg.report), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg.report+".json", append(js, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg.report+".md", []byte(md), 0o644); err != nil {
		t.Fatal(err)
	}
	return md
}
