package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/kafkalog/kafkalogtest"
)

// TestDistributedExactlyOnce runs a three-worker cluster with exactly.once.source.support=enabled.
// Two file sources load while the worker running the first one's task is killed with SIGKILL
// (KCONNECT_EOS_DIST_KILLS times, 2 by default) and restarted; a read_committed reader must then see every line of each file exactly
// once, in order. A datagen connector going from two tasks to three must have its earlier
// producers fenced by the leader before the new tasks start: a transaction opened under the
// transactional id of one of its old tasks can no longer commit, and the config topic holds the
// tasks-fencing record with the new task count. Configurations exactly-once cannot honour are
// rejected through a follower.
func TestDistributedExactlyOnce(t *testing.T) {
	c := startClusterWith(t, map[string]string{"exactly.once.source.support": "enabled"})
	dir := t.TempDir()

	const chunk = 20_000
	names := []string{"eos-a", "eos-b"}
	var inputs []string
	var readers []*committedReader
	for _, name := range names {
		topic := testenv.Topic(t, name)
		input := filepath.Join(dir, name+".txt")
		appendLines(t, input, 0, chunk)
		inputs = append(inputs, input)
		readers = append(readers, newCommittedReader(t, c.brokers, topic))
		code, body := c.workers[1].Do(http.MethodPut, "/connectors/"+name+"/config", map[string]string{
			"connector.class": "FileStreamSource", "file": input, "topic": topic, "batch.size": "200",
			"exactly.once.support": "required"})
		if code != http.StatusCreated {
			t.Fatalf("PUT %s through a follower: %d %s", name, code, body)
		}
	}
	for _, name := range names {
		c.waitStatus(c.workers[0], name, name+" RUNNING", allRunning(1, ""))
	}

	lines := chunk
	midLoad := 0 // kills while lines were still uncommitted
	kills := testenv.Count(t, "KCONNECT_EOS_DIST_KILLS", 2)
	for kill := range kills {
		victim := c.workers[0]
		st, _ := c.workers[0].Status(names[0])
		for _, w := range c.workers {
			if len(st.Tasks) > 0 && st.Tasks[0].WorkerID == workerID(t, w) {
				victim = w
			}
		}
		survivor := c.workers[0]
		if survivor == victim {
			survivor = c.workers[1]
		}
		before := readers[0].drain()
		for _, in := range inputs {
			appendLines(t, in, lines, lines+2*chunk)
		}
		lines += 2 * chunk
		// Kill once the new lines are flowing, with a random part of them committed.
		readers[0].pollUntil(before + 1 + rand.IntN(chunk/2))
		victim.Kill9()
		// Nothing commits eos-a's lines until the task runs elsewhere, seconds later.
		atKill := readers[0].drain()
		if atKill < lines {
			midLoad++
		}
		for _, name := range names {
			c.waitStatus(survivor, name, name+" RUNNING on the survivors", allRunning(1, workerID(t, victim)))
		}
		t.Logf("kill %d/%d: %d/%d lines of %s committed when the worker running its task was killed; the task moved",
			kill+1, kills, atKill, lines, names[0])
		victim.Restart()
	}
	if midLoad == 0 {
		t.Errorf("no kill happened during the load; the test proves nothing")
	}

	for i, r := range readers {
		c.workers[0].WaitFor(time.Duration(40+10*kills)*time.Second, fmt.Sprintf("%d committed lines of %s", lines, names[i]), func() bool {
			return r.drain() >= lines
		})
		r.drain()
		seen := map[string]int{}
		outOfOrder := 0
		for n, v := range r.values {
			seen[v]++
			if v != fmt.Sprintf(`"line %06d"`, n) {
				outOfOrder++
			}
		}
		dups, gaps := lineCounts(seen, lines)
		t.Logf("%s: %d committed records for %d lines: %d duplicates, %d gaps, %d out of place", names[i], len(r.values), lines, dups, gaps, outOfOrder)
		if dups != 0 || gaps != 0 || outOfOrder != 0 || len(r.values) != lines {
			t.Errorf("%s: %d records, %d duplicates, %d gaps, %d out of place; want %d records, none of those", names[i], len(r.values), dups, gaps, outOfOrder, lines)
		}
	}

	c.checkFencing(t)
	c.checkExactlyOnceRejections(t)
}

// checkFencing has a datagen connector go from two tasks to three and checks the fencing of its
// first generation's producers.
func (c *cluster) checkFencing(t *testing.T) {
	t.Helper()
	topic := testenv.Topic(t, "eos-gen")
	gen := map[string]string{"connector.class": "datagen", "kafka.topic": topic, "tasks.max": "2", "max.interval": "20",
		"exactly.once.support": "required"}
	if code, body := c.workers[2].Do(http.MethodPut, "/connectors/gen/config", gen); code != http.StatusCreated {
		t.Fatalf("PUT gen: %d %s", code, body)
	}
	c.waitStatus(c.workers[0], "gen", "two datagen tasks RUNNING", allRunning(2, ""))
	c.waitTaskCountRecord(t, "gen", 2)

	// A zombie of the first generation's task 1: a transaction open under its transactional id.
	zombie := openZombieTransaction(t, c.brokers, c.group+"-gen-1", &kgo.Record{Topic: topic, Value: []byte(`"zombie"`)})

	gen["tasks.max"] = "3"
	if code, body := c.workers[1].Do(http.MethodPut, "/connectors/gen/config", gen); code != http.StatusOK {
		t.Fatalf("PUT gen tasks.max=3: %d %s", code, body)
	}
	c.waitTaskCountRecord(t, "gen", 3)
	c.waitStatus(c.workers[0], "gen", "three datagen tasks RUNNING", func(st herder.ConnectorStatus) bool {
		return len(st.Tasks) == 3 && allRunning(3, "")(st)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := zombie.EndTransaction(ctx, kgo.TryCommit); err == nil {
		t.Errorf("a transaction of the first generation's task 1 committed after the leader fenced it")
	} else {
		t.Logf("the zombie's commit failed as it must: %v", err)
	}
	c.checkFencedBeforeStart(t)
	// datagen never stops, so the reader takes what a few polls bring rather than draining.
	r := newCommittedReader(t, c.brokers, topic)
	if r.pollUntil(100); len(r.values) < 100 {
		t.Errorf("only %d datagen records committed within 30s of the new generation", len(r.values))
	}
	if slices.Contains(r.values, `"zombie"`) {
		t.Errorf("a read_committed reader sees the zombie's record")
	}
}

// waitTaskCountRecord waits until the config topic's latest tasks-fencing-<name> record (upstream's
// {"task-count": n}) holds want.
func (c *cluster) waitTaskCountRecord(t *testing.T, name string, want int) {
	t.Helper()
	last := -1
	c.workers[0].WaitFor(60*time.Second, fmt.Sprintf("tasks-fencing-%s with task-count %d", name, want), func() bool {
		for _, r := range kafkalogtest.Records(t, c.brokers, c.topics.config) {
			if string(r.Key) != "tasks-fencing-"+name {
				continue
			}
			var v struct {
				Count int `json:"task-count"`
			}
			if err := json.Unmarshal(r.Value, &v); err != nil {
				t.Fatalf("tasks-fencing-%s value %s: %v", name, r.Value, err)
			}
			last = v.Count
		}
		return last == want
	})
}

// checkExactlyOnceRejections checks that a follower passes on the leader's refusal of connector
// configurations an exactly-once worker cannot honour.
func (c *cluster) checkExactlyOnceRejections(t *testing.T) {
	t.Helper()
	for _, tc := range []struct {
		config map[string]string
		want   string
	}{
		{map[string]string{"connector.class": "FileStreamSource", "topic": "t", "exactly.once.support": "required"},
			"does not support exactly-once semantics"},
		{map[string]string{"connector.class": "FileStreamSource", "topic": "t", "file": "/nonexistent", "transaction.boundary": "connector"},
			"does not support connector-defined transaction boundaries"},
	} {
		code, body := c.workers[2].Do(http.MethodPut, "/connectors/eos-bad/config", tc.config)
		if code != http.StatusBadRequest || !strings.Contains(string(body), tc.want) {
			t.Errorf("PUT %v: %d %s, want 400 saying %q", tc.config, code, body, tc.want)
		}
	}
}

// pollUntil reads until r holds at least n values, for at most 30 s.
func (r *committedReader) pollUntil(n int) {
	for deadline := time.Now().Add(30 * time.Second); len(r.values) < n && time.Now().Before(deadline); {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		r.cl.PollFetches(ctx).EachRecord(func(rec *kgo.Record) { r.values = append(r.values, string(rec.Value)) })
		cancel()
	}
}

// checkFencedBeforeStart checks, in the workers' logs (one clock: they run on this machine), that
// the leader fenced gen for each task count before any task of that count started its
// transactional producer.
func (c *cluster) checkFencedBeforeStart(t *testing.T) {
	t.Helper()
	stamp := func(line string) time.Time {
		ts, err := time.Parse(time.RFC3339Nano, strings.TrimPrefix(strings.Fields(line)[0], "time="))
		if err != nil {
			t.Fatalf("log line without a time: %q", line)
		}
		return ts
	}
	fencedAt := map[string]time.Time{} // by "task_count=n"
	var starts []string
	for _, w := range c.workers {
		for line := range strings.SplitSeq(w.Log(), "\n") {
			switch {
			case strings.Contains(line, "fenced the producers of the connector's earlier tasks") && strings.Contains(line, " connector=gen "):
				for _, f := range strings.Fields(line) {
					if strings.HasPrefix(f, "task_count=") {
						fencedAt[f] = stamp(line)
					}
				}
			case strings.Contains(line, `msg="exactly-once delivery on"`) && strings.Contains(line, " connector=gen "):
				starts = append(starts, line)
			}
		}
	}
	two, ok2 := fencedAt["task_count=2"]
	three, ok3 := fencedAt["task_count=3"]
	if !ok2 || !ok3 {
		t.Fatalf("no worker logged fencing gen for two and for three tasks: %v", fencedAt)
	}
	task2 := 0
	for _, line := range starts {
		at := stamp(line)
		if at.Before(two) {
			t.Errorf("a gen task started before the leader fenced the first generation at %s: %s", two.Format(time.RFC3339Nano), line)
		}
		if strings.Contains(line, " task=2 ") {
			task2++
			if at.Before(three) {
				t.Errorf("gen's task 2 started before the leader fenced for three tasks at %s: %s", three.Format(time.RFC3339Nano), line)
			}
		}
	}
	if task2 == 0 {
		t.Errorf("no worker logged gen's task 2 starting its transactional producer")
	}
}

// lineCounts counts, over the lines 0..lines-1 a file source sent as JSON strings "line %06d",
// those never seen (gaps) and the extra copies of those seen more than once (duplicates).
func lineCounts(seen map[string]int, lines int) (dups, gaps int) {
	for n := range lines {
		switch k := seen[fmt.Sprintf(`"line %06d"`, n)]; {
		case k == 0:
			gaps++
		case k > 1:
			dups += k - 1
		}
	}
	return dups, gaps
}
