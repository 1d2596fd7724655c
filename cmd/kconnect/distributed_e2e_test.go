package main_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/kafkalog/kafkalogtest"
)

// cluster is three distributed workers sharing one Kafka cluster and one group.
type cluster struct {
	t       *testing.T
	brokers string
	workers []*workertest.Worker
	topics  struct{ config, offsets, status string }
	group   string
}

// startCluster starts a `kconnect broker` (or uses the real Kafka under
// KCONNECT_TEST_BROKER=real) and three workers with a short session timeout and a 3 s
// scheduled.rebalance.max.delay.ms. The first worker is started alone, so it leads.
func startCluster(t *testing.T) *cluster { return startClusterWith(t, nil) }

// startClusterWith is startCluster with extra worker properties.
func startClusterWith(t *testing.T, extra map[string]string) *cluster {
	c := &cluster{t: t}
	if testenv.RealKafka() {
		c.brokers = testenv.Kafka(t)
	} else {
		c.brokers = workertest.StartBroker(t, t.TempDir())
	}
	c.topics.config = testenv.Topic(t, "dist-configs")
	c.topics.offsets = testenv.Topic(t, "dist-offsets")
	c.topics.status = testenv.Topic(t, "dist-status")
	c.group = testenv.Topic(t, "dist-group")
	for i := range 3 {
		props := workertest.WorkerProps(t, t.TempDir())
		delete(props, "offset.storage.file.filename")
		delete(props, "kconnect.embedded.broker.port")
		for k, v := range map[string]string{
			"bootstrap.servers":                 c.brokers,
			"group.id":                          c.group,
			"config.storage.topic":              c.topics.config,
			"offset.storage.topic":              c.topics.offsets,
			"status.storage.topic":              c.topics.status,
			"config.storage.replication.factor": "1",
			"offset.storage.replication.factor": "1",
			"status.storage.replication.factor": "1",
			"offset.storage.partitions":         "5",
			"session.timeout.ms":                "6000",
			"heartbeat.interval.ms":             "1000",
			"scheduled.rebalance.max.delay.ms":  "3000",
			"task.shutdown.graceful.timeout.ms": "2000",
		} {
			props[k] = v
		}
		maps.Copy(props, extra)
		begin := time.Now()
		w := workertest.StartDistributed(t, t.TempDir(), props)
		t.Logf("worker %d ready in %.1fs", i, time.Since(begin).Seconds())
		c.workers = append(c.workers, w)
		if i == 0 {
			w.WaitFor(30*time.Second, "the first worker to lead", func() bool { return strings.Contains(w.Log(), "assigned as leader") })
		}
	}
	return c
}

// status polls a connector's status through worker w until cond holds.
func (c *cluster) waitStatus(w *workertest.Worker, name, what string, cond func(herder.ConnectorStatus) bool) herder.ConnectorStatus {
	c.t.Helper()
	var st herder.ConnectorStatus
	w.WaitFor(60*time.Second, what, func() bool {
		var ok bool
		st, ok = w.Status(name)
		return ok && cond(st)
	})
	return st
}

// allRunning says every task (at least n) and the connector are RUNNING on workers other than
// the excluded one.
func allRunning(n int, excluded string) func(herder.ConnectorStatus) bool {
	return func(st herder.ConnectorStatus) bool {
		if st.Connector.State != herder.Running || st.Connector.WorkerID == excluded || len(st.Tasks) < n {
			return false
		}
		for _, ts := range st.Tasks {
			if ts.State != herder.Running || ts.WorkerID == excluded {
				return false
			}
		}
		return true
	}
}

// Three workers share the connectors: one made through a follower runs its tasks on several
// workers, a follower's update and delete take effect, and after a kill -9 the dead worker's
// file source tasks run elsewhere once scheduled.rebalance.max.delay.ms has passed, and every
// line of every file arrives in Kafka, none skipped.
func TestDistributedClusterSharesWorkAndSurvivesKill9(t *testing.T) {
	c := startCluster(t)
	leader, follower, other := c.workers[0], c.workers[2], c.workers[1]
	dir := t.TempDir()

	// Datagen with three tasks, created and changed through followers: they forward to the leader.
	code, body := follower.Do(http.MethodPost, "/connectors", map[string]any{"name": "gen", "config": map[string]string{
		"connector.class": "datagen", "kafka.topic": testenv.Topic(t, "dist-gen"), "tasks.max": "3", "max.interval": "50"}})
	if code != http.StatusCreated {
		t.Fatalf("create through a follower: %d %s", code, body)
	}
	st := c.waitStatus(leader, "gen", "three datagen tasks RUNNING", allRunning(3, ""))
	workersOf := map[string]bool{}
	for _, ts := range st.Tasks {
		workersOf[ts.WorkerID] = true
	}
	if len(workersOf) < 2 {
		t.Errorf("datagen's three tasks all run on %v; the assignment should spread them", workersOf)
	}

	// Three file sources (one task each), so that the killed worker runs at least one of them.
	const perFile = 2000
	var inputs, topics []string
	for i := range 3 {
		topic := testenv.Topic(t, fmt.Sprintf("dist-lines-%d", i))
		topics = append(topics, topic)
		input := filepath.Join(dir, fmt.Sprintf("input-%d.txt", i))
		appendLines(t, input, 0, perFile/2)
		inputs = append(inputs, input)
		code, body := other.Do(http.MethodPut, fmt.Sprintf("/connectors/file-%d/config", i), map[string]string{
			"connector.class": "FileStreamSource", "file": input, "topic": topic})
		if code != http.StatusCreated {
			t.Fatalf("PUT file-%d through a follower: %d %s", i, code, body)
		}
	}
	for i := range 3 {
		c.waitStatus(follower, fmt.Sprintf("file-%d", i), "file source running", allRunning(1, ""))
	}
	// A sink of the first file's topic: its consumer group connect-sink resumes wherever it runs.
	output := filepath.Join(dir, "output.txt")
	code, body = follower.Do(http.MethodPost, "/connectors", map[string]any{"name": "sink", "config": map[string]string{
		"connector.class": "FileStreamSink", "file": output, "topics": topics[0]}})
	if code != http.StatusCreated {
		t.Fatalf("create sink: %d %s", code, body)
	}
	c.checkInternalEndpoint(t, leader)

	// Update through a follower: three tasks become two.
	code, body = other.Do(http.MethodPut, "/connectors/gen/config", map[string]string{
		"connector.class": "datagen", "kafka.topic": testenv.Topic(t, "dist-gen"), "tasks.max": "2", "max.interval": "50"})
	if code != http.StatusOK {
		t.Fatalf("update through a follower: %d %s", code, body)
	}
	c.waitStatus(leader, "gen", "two datagen tasks after the update", func(st herder.ConnectorStatus) bool {
		return len(st.Tasks) == 2 && allRunning(2, "")(st)
	})

	// kill -9 the worker that runs the most file source tasks (the leader may be it too).
	load := map[*workertest.Worker]int{}
	for i := range 3 {
		st, _ := leader.Status(fmt.Sprintf("file-%d", i))
		for _, w := range c.workers {
			if st.Tasks[0].WorkerID == workerID(c.t, w) {
				load[w]++
			}
		}
	}
	victim := other
	for w, n := range load {
		if n > load[victim] && w != leader {
			victim = w
		}
	}
	survivor := leader
	if victim == leader {
		survivor = follower
	}
	for _, in := range inputs {
		appendLines(t, in, perFile/2, perFile*3/4)
	}
	time.Sleep(500 * time.Millisecond)
	killed := time.Now()
	victim.Kill9()
	for _, in := range inputs {
		appendLines(t, in, perFile*3/4, perFile)
	}
	for i := range 3 {
		c.waitStatus(survivor, fmt.Sprintf("file-%d", i), "file sources RUNNING on the survivors", allRunning(1, workerID(t, victim)))
	}
	t.Logf("after kill -9 of the worker running %d file source task(s): all RUNNING elsewhere %.1fs later (session timeout 6s + delay 3s)",
		load[victim], time.Since(killed).Seconds())

	for i, topic := range topics {
		survivor.WaitFor(60*time.Second, "every line of every file in Kafka", func() bool {
			return len(distinct(recordValues(t, c.brokers, topic))) >= perFile
		})
		seen := distinct(recordValues(t, c.brokers, topic))
		for n := range perFile {
			if line := fmt.Sprintf(`"line %06d"`, n); !seen[line] {
				t.Fatalf("%s line %d never reached Kafka", inputs[i], n)
			}
		}
	}

	survivor.WaitFor(60*time.Second, "every line of the first file in the sink's file", func() bool {
		return len(distinct(readLines(t, output))) >= perFile
	})
	got := distinct(readLines(t, output))
	for n := range perFile {
		if line := fmt.Sprintf("line %06d", n); !got[line] {
			t.Fatalf("line %d never reached the sink's file", n)
		}
	}

	// Delete through a follower.
	if code, body := survivor.Do(http.MethodDelete, "/connectors/gen", nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", code, body)
	}
	survivor.WaitFor(30*time.Second, "gen gone on every live worker", func() bool {
		for _, w := range c.workers {
			if w == victim {
				continue
			}
			if _, ok := w.Status("gen"); ok {
				return false
			}
		}
		return true
	})

	c.checkInternalTopics(t, inputs[0])
}

// recordValues reads every value of topic.
func recordValues(t *testing.T, brokers, topic string) []string {
	var out []string
	for _, r := range kafkalogtest.Records(t, brokers, topic) {
		out = append(out, string(r.Value))
	}
	return out
}

// checkInternalTopics reads the three internal topics as an outside client and checks the keys
// and JSON values the herders wrote against Kafka Connect's formats.
func (c *cluster) checkInternalTopics(t *testing.T, input string) {
	t.Helper()
	latest := func(topic string) map[string][]byte {
		m := map[string][]byte{}
		for _, r := range kafkalogtest.Records(t, c.brokers, topic) {
			m[string(r.Key)] = r.Value
		}
		return m
	}
	cfg := latest(c.topics.config)
	for _, k := range []string{"connector-file-0", "target-state-file-0", "task-file-0-0", "commit-file-0", "session-key"} {
		if _, ok := cfg[k]; !ok {
			t.Errorf("config topic lacks key %q (keys: %v)", k, keysOf(cfg))
		}
	}
	var conn struct {
		Properties map[string]string `json:"properties"`
	}
	decodeJSON(t, cfg["connector-file-0"], &conn)
	if conn.Properties["file"] != input || conn.Properties["name"] != "file-0" {
		t.Errorf("connector-file-0 = %s", cfg["connector-file-0"])
	}
	var commit struct {
		Tasks *int `json:"tasks"`
	}
	decodeJSON(t, cfg["commit-file-0"], &commit)
	if commit.Tasks == nil || *commit.Tasks != 1 {
		t.Errorf("commit-file-0 = %s, want {\"tasks\":1}", cfg["commit-file-0"])
	}
	var target map[string]any
	decodeJSON(t, cfg["target-state-file-0"], &target)
	if target["state.v2"] != "STARTED" {
		t.Errorf("target-state-file-0 = %s, want state.v2 STARTED", cfg["target-state-file-0"])
	}
	if v, ok := cfg["connector-gen"]; !ok || v != nil {
		t.Errorf("connector-gen after delete = %q (present %v), want a tombstone", v, ok)
	}
	var key map[string]any
	decodeJSON(t, cfg["session-key"], &key)
	if key["algorithm"] != "HmacSHA256" || key["key"] == nil || key["creation-timestamp"] == nil {
		t.Errorf("session-key = %s", cfg["session-key"])
	}

	// A worker that lost the connector in the last rebalance may still be writing its
	// UNASSIGNED record; the owner's RUNNING follows it.
	var status map[string][]byte
	var cs map[string]any
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		status = latest(c.topics.status)
		cs = nil
		decodeJSON(t, status["status-connector-file-0"], &cs)
		var task map[string]any
		decodeJSON(t, status["status-task-file-0-0"], &task)
		if cs["state"] == "RUNNING" && task["state"] == "RUNNING" || time.Now().After(deadline) {
			break
		}
	}
	if cs["state"] != "RUNNING" || !slices.ContainsFunc(c.workers, func(w *workertest.Worker) bool { return cs["worker_id"] == workerID(c.t, w) }) {
		t.Errorf("status-connector-file-0 = %s", status["status-connector-file-0"])
	}
	if _, ok := cs["generation"].(float64); !ok {
		t.Errorf("status-connector-file-0 has no generation: %s", status["status-connector-file-0"])
	}
	var ts map[string]any
	decodeJSON(t, status["status-task-file-0-0"], &ts)
	if ts["state"] != "RUNNING" {
		t.Errorf("status-task-file-0-0 = %s", status["status-task-file-0-0"])
	}

	offs := latest(c.topics.offsets)
	wantKey := fmt.Sprintf(`["file-0",{"filename":%q}]`, input)
	v, ok := offs[wantKey]
	if !ok {
		t.Fatalf("offsets topic lacks key %s (keys: %v)", wantKey, keysOf(offs))
	}
	var pos map[string]any
	decodeJSON(t, v, &pos)
	if p, _ := pos["position"].(float64); p <= 0 {
		t.Errorf("offset of file-0 = %s, want a positive position", v)
	}
}

func decodeJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
}

func keysOf(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// A config topic with several partitions or without compaction stops the worker at startup
// with an error naming the topic and what to do.
func TestDistributedRejectsABadConfigTopic(t *testing.T) {
	var brokers string
	if testenv.RealKafka() {
		brokers = testenv.Kafka(t)
	} else {
		brokers = workertest.StartBroker(t, t.TempDir())
	}
	twoPartitions, notCompacted := testenv.Topic(t, "dist-cfg-2p"), testenv.Topic(t, "dist-cfg-del")
	kafkalogtest.CreateTopic(t, brokers, twoPartitions, 2, "compact")
	kafkalogtest.CreateTopic(t, brokers, notCompacted, 1, "delete")
	for topic, want := range map[string]string{twoPartitions: "single partition", notCompacted: "compact"} {
		dir := t.TempDir()
		props := workertest.WorkerProps(t, dir)
		delete(props, "offset.storage.file.filename")
		delete(props, "kconnect.embedded.broker.port")
		for k, v := range map[string]string{
			"bootstrap.servers": brokers, "group.id": testenv.Topic(t, "dist-group"),
			"config.storage.topic": topic, "offset.storage.topic": testenv.Topic(t, "dist-offsets"),
			"status.storage.topic": testenv.Topic(t, "dist-status"), "config.storage.replication.factor": "1",
			"offset.storage.replication.factor": "1", "status.storage.replication.factor": "1",
		} {
			props[k] = v
		}
		cmd := exec.Command(workertest.Binary(t), "distributed", workertest.WriteProperties(t, dir, "worker.properties", props))
		done := make(chan struct{})
		var out []byte
		var err error
		go func() { out, err = cmd.CombinedOutput(); close(done) }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Fatalf("worker with config topic %s still running after 60s:\n%s", topic, out)
		}
		if err == nil {
			t.Fatalf("worker with config topic %s exited 0", topic)
		}
		msg := string(out)
		if !strings.Contains(msg, topic) || !strings.Contains(msg, "config.storage.topic") || !strings.Contains(msg, want) {
			t.Errorf("config topic %s: error lacks the topic, the setting or %q:\n%s", topic, want, msg)
		}
	}
}

// checkInternalEndpoint posts task configs to the leader's internal endpoint as another worker
// does: refused without a signature (400) or with a wrong one (403), accepted when signed with
// HMAC-SHA256 under the session key the leader wrote to the config topic, as upstream's
// InternalRequestSignature signs.
func (c *cluster) checkInternalEndpoint(t *testing.T, leader *workertest.Worker) {
	t.Helper()
	var key []byte
	leader.WaitFor(30*time.Second, "a session key in the config topic", func() bool {
		for _, r := range kafkalogtest.Records(t, c.brokers, c.topics.config) {
			if string(r.Key) != "session-key" {
				continue
			}
			var v struct {
				Key       string `json:"key"`
				Algorithm string `json:"algorithm"`
			}
			decodeJSON(t, r.Value, &v)
			k, err := base64.StdEncoding.DecodeString(v.Key)
			if err != nil || v.Algorithm != "HmacSHA256" {
				t.Fatalf("session-key record %s: %v", r.Value, err)
			}
			key = k
		}
		return key != nil
	})
	code, current := leader.Do(http.MethodGet, "/connectors/gen/tasks", nil)
	if code != http.StatusOK {
		t.Fatalf("GET tasks: %d %s", code, current)
	}
	var infos []herder.TaskInfo
	decodeJSON(t, current, &infos)
	configs := make([]map[string]string, len(infos))
	for i, ti := range infos {
		configs[i] = ti.Config
	}
	body, err := json.Marshal(configs)
	if err != nil {
		t.Fatal(err)
	}
	post := func(sig []byte) int {
		req, err := http.NewRequest(http.MethodPost, leader.URL+"/connectors/gen/tasks?forward=false", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if sig != nil {
			req.Header.Set("X-Connect-Authorization", base64.StdEncoding.EncodeToString(sig))
			req.Header.Set("X-Connect-Request-Signature-Algorithm", "HmacSHA256")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	good := mac.Sum(nil)
	bad := append([]byte{}, good...)
	bad[0] ^= 1
	for _, tc := range []struct {
		name string
		sig  []byte
		want int
	}{{"unsigned", nil, http.StatusBadRequest}, {"wrongly signed", bad, http.StatusForbidden}, {"signed", good, http.StatusNoContent}} {
		if got := post(tc.sig); got != tc.want {
			t.Errorf("%s POST /connectors/gen/tasks: %d, want %d", tc.name, got, tc.want)
		}
	}
}

// A worker frozen (SIGSTOP) past its session timeout loses its task to the others; continued
// (SIGCONT), it stops the task, never claims it again in the status topic, and writes nothing
// after the new owner's first record: its membership lease lapsed during the stop, so its
// producer holds back what it had buffered. The producer id of every record tells which worker
// wrote it.
func TestDistributedFrozenWorkerStopsItsTasks(t *testing.T) {
	c := startCluster(t)
	leader := c.workers[0]
	topic := testenv.Topic(t, "dist-zombie")
	kafkalogtest.CreateTopic(t, c.brokers, topic, 1, "delete")
	code, body := leader.Do(http.MethodPost, "/connectors", map[string]any{"name": "zombie", "config": map[string]string{
		"connector.class": "datagen", "kafka.topic": topic, "tasks.max": "1", "max.interval": "20"}})
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	st := c.waitStatus(leader, "zombie", "the task RUNNING", allRunning(1, ""))
	victim, survivor := c.taskWorker(st)
	survivor.WaitFor(30*time.Second, "records from the first owner", func() bool { return len(kafkalogtest.Records(t, c.brokers, topic)) > 50 })

	victim.Freeze()
	frozen := time.Now()
	st = c.waitStatus(survivor, "zombie", "the task RUNNING on another worker", allRunning(1, workerID(t, victim)))
	owner := st.Tasks[0].WorkerID
	t.Logf("task RUNNING on %s %.1fs after SIGSTOP", owner, time.Since(frozen).Seconds())
	survivor.WaitFor(30*time.Second, "records from the new owner", func() bool {
		recs := kafkalogtest.Records(t, c.brokers, topic)
		return recs[len(recs)-1].ProducerID != recs[0].ProducerID
	})
	thaw(victim)
	time.Sleep(2 * time.Second) // what the thawed worker would still write has had time to arrive
	if st, _ := survivor.Status("zombie"); st.Tasks[0].WorkerID == workerID(t, victim) {
		t.Errorf("the thawed worker claims the task again: %+v\nits log:\n%s", st, victim.Log())
	}

	recs := kafkalogtest.Records(t, c.brokers, topic)
	first := recs[0].ProducerID
	takeover, zombies := -1, 0
	for i, r := range recs {
		if r.ProducerID != first && takeover < 0 {
			takeover = i
		}
		if takeover >= 0 && r.ProducerID == first {
			zombies++
		}
	}
	t.Logf("%d records before the takeover, %d after, %d of them from the thawed worker", takeover, len(recs)-takeover, zombies)
	if zombies > 0 {
		t.Fatalf("the thawed worker's producer wrote %d records after the new owner's first (offset %d)", zombies, recs[takeover].Offset)
	}
}

// taskWorker returns the worker running the first task in st, and another worker.
func (c *cluster) taskWorker(st herder.ConnectorStatus) (runner, other *workertest.Worker) {
	c.t.Helper()
	for _, w := range c.workers {
		if workerID(c.t, w) == st.Tasks[0].WorkerID {
			runner = w
		} else if other == nil {
			other = w
		}
	}
	if runner == nil {
		c.t.Fatalf("task runs on unknown worker %s", st.Tasks[0].WorkerID)
	}
	return runner, other
}

// thaw continues a frozen worker and waits until it has found its membership lost, stopped its
// work and completed a rebalance again.
func thaw(w *workertest.Worker) {
	w.Thaw()
	w.WaitFor(30*time.Second, "the thawed worker to stop its work", func() bool {
		return strings.Contains(w.Log(), "membership lost")
	})
	w.WaitFor(60*time.Second, "the thawed worker back in the group", func() bool {
		l := w.Log()
		return strings.Count(l, "rebalance completed") > strings.Count(l[:strings.Index(l, "membership lost")], "rebalance completed")
	})
}

// Restarting the workers one after the other while lines keep coming loses no line: each
// stopped worker's source task commits, and the task resumes from that commit wherever it runs
// next.
func TestDistributedRollingRestartLosesNothing(t *testing.T) {
	c := startCluster(t)
	dir := t.TempDir()
	const files, batches, perBatch = 3, 4, 500
	var inputs, topics []string
	for i := range files {
		inputs = append(inputs, filepath.Join(dir, fmt.Sprintf("input-%d.txt", i)))
		topics = append(topics, testenv.Topic(t, fmt.Sprintf("dist-roll-%d", i)))
		appendLines(t, inputs[i], 0, perBatch)
		code, body := c.workers[i].Do(http.MethodPut, fmt.Sprintf("/connectors/roll-%d/config", i), map[string]string{
			"connector.class": "FileStreamSource", "file": inputs[i], "topic": topics[i]})
		if code != http.StatusCreated {
			t.Fatalf("PUT roll-%d: %d %s", i, code, body)
		}
	}
	for b := 1; b < batches; b++ {
		w := c.workers[(b-1)%len(c.workers)]
		if err := w.Stop(); err != nil {
			t.Fatalf("stop worker %s: %v\n%s", w.URL, err, w.Log())
		}
		for i := range files {
			appendLines(t, inputs[i], b*perBatch, (b+1)*perBatch)
		}
		w.Restart()
	}
	for i, topic := range topics {
		c.workers[0].WaitFor(60*time.Second, fmt.Sprintf("every line of %s in Kafka", inputs[i]), func() bool {
			return len(distinct(recordValues(t, c.brokers, topic))) >= batches*perBatch
		})
		seen := distinct(recordValues(t, c.brokers, topic))
		for n := range batches * perBatch {
			if line := fmt.Sprintf(`"line %06d"`, n); !seen[line] {
				t.Fatalf("%s line %d never reached Kafka", inputs[i], n)
			}
		}
	}
}
