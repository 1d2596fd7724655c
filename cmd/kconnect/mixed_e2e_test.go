package main_test

import (
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/kafkalog/kafkalogtest"
)

// A rolling migration's middle state: a Kafka Connect 4.3.1 worker and a kconnect worker in one
// group. Under a Java leader, kconnect joins, gets a share of the connectors and tasks, and
// forwards pause/resume to the leader; after the Java worker stops, kconnect leads alone, a new
// Java worker joins under it, gets a share and forwards to it. Both REST APIs agree on every
// status, and the file sources' lines reach Kafka whichever worker runs them. The connectors
// are created while only Java runs: task configs kconnect generates lack the task.class a Java
// worker needs to start a task (TODO(#13), see docs/distributed.md).
func TestMixedKafkaConnectAndKconnectGroup(t *testing.T) {
	classpath := testenv.JavaClients(t)
	brokers := javaTestBroker(t)
	base := javaCompatibleProps(t, brokers, "mix")
	base["scheduled.rebalance.max.delay.ms"] = "3000"
	props := func() map[string]string {
		p := maps.Clone(base)
		port := testenv.FreePort(t)
		p["listeners"] = fmt.Sprintf("http://127.0.0.1:%d", port)
		p["rest.advertised.port"] = fmt.Sprint(port)
		return p
	}
	dir := t.TempDir()
	var topics, files []string
	create := func(via *workertest.Worker, i int) {
		t.Helper()
		topic := testenv.Topic(t, fmt.Sprintf("mix-%d", i))
		kafkalogtest.CreateTopic(t, brokers, topic, 1, "delete")
		in := filepath.Join(dir, fmt.Sprintf("in-%d.txt", i))
		appendLines(t, in, 0, 10)
		topics, files = append(topics, topic), append(files, in)
		via.CreateConnector(fmt.Sprintf("f%d", i), map[string]string{"connector.class": "FileStreamSource", "file": in, "topic": topic})
	}
	// spread waits until every connector so far runs, as both workers' REST APIs agree, with
	// connectors and tasks on both workers.
	spread := func(a, b *workertest.Worker) {
		t.Helper()
		ids := map[string]bool{workerID(t, a): true, workerID(t, b): true}
		var last string
		a.WaitFor(90*time.Second, "every connector RUNNING, on both workers, seen alike by both", func() bool {
			used := map[string]bool{}
			var seen string
			for i := range topics {
				name := fmt.Sprintf("f%d", i)
				sa, okA := a.Status(name)
				sb, okB := b.Status(name)
				seen += fmt.Sprintf("%s: %+v | %+v\n", name, sa, sb)
				if !okA || !okB || !allRunning(1, "")(sa) || !allRunning(1, "")(sb) ||
					sa.Connector.WorkerID != sb.Connector.WorkerID || sa.Tasks[0].WorkerID != sb.Tasks[0].WorkerID {
					if seen != last {
						last = seen
						t.Logf("statuses:\n%s", seen)
					}
					return false
				}
				used[sa.Connector.WorkerID], used[sa.Tasks[0].WorkerID] = true, true
			}
			return maps.Equal(used, ids)
		})
	}
	lines := func(w *workertest.Worker) {
		t.Helper()
		for i, topic := range topics {
			w.WaitFor(time.Minute, fmt.Sprintf("the ten lines of %s", files[i]), func() bool {
				return len(recordValues(t, brokers, topic)) >= 10
			})
		}
	}

	// Kafka Connect generates every task config (with the task.class a Java worker needs, see
	// docs/distributed.md); kconnect joins its group and gets a share.
	java := workertest.StartJavaDistributed(t, classpath, t.TempDir(), props())
	for i := range 4 {
		create(java, i)
	}
	kc := workertest.StartDistributed(t, t.TempDir(), props())
	spread(java, kc)
	lines(kc)
	// A write through kconnect is forwarded to the Java leader.
	targetState := func(via *workertest.Worker, name, action string, want herder.State) {
		t.Helper()
		if code, body := via.Do(http.MethodPut, "/connectors/"+name+"/"+action, nil); code != http.StatusAccepted {
			t.Fatalf("PUT %s/%s through %s: %d %s", name, action, via.URL, code, body)
		}
		via.WaitFor(time.Minute, name+" "+string(want)+" on both workers", func() bool {
			for _, w := range []*workertest.Worker{java, kc} {
				if st, _ := w.Status(name); st.Connector.State != want || len(st.Tasks) != 1 || st.Tasks[0].State != want {
					return false
				}
			}
			return true
		})
	}
	targetState(kc, "f0", "pause", herder.Paused)
	targetState(kc, "f0", "resume", herder.Running)

	// The Java worker leaves; kconnect leads alone, and a new Java worker joins under it.
	if err := java.Stop(); err != nil && err.Error() != "exit status 143" {
		t.Fatalf("Kafka Connect exited with %v", err)
	}
	kc.WaitFor(time.Minute, "kconnect to run every connector alone", func() bool {
		for i := range topics {
			if st, _ := kc.Status(fmt.Sprintf("f%d", i)); !allRunning(1, workerID(t, java))(st) {
				return false
			}
		}
		return true
	})
	java = workertest.StartJavaDistributed(t, classpath, t.TempDir(), props())
	spread(java, kc)
	// A write through the Java worker is forwarded to the kconnect leader.
	targetState(java, "f1", "pause", herder.Paused)
	targetState(java, "f1", "resume", herder.Running)
	for i := range topics {
		appendLines(t, files[i], 10, 20)
	}
	for i, topic := range topics {
		java.WaitFor(time.Minute, fmt.Sprintf("the twenty lines of %s", files[i]), func() bool {
			return len(recordValues(t, brokers, topic)) >= 20
		})
	}
}
