package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
)

// TestOneConnectorCannotExhaustTheWorker runs a worker with 256 file descriptors and checks
// that a connector cannot take it down: a tasks.max beyond kconnect.tasks.max.limit is a 400
// naming the key, a sink starts no more tasks than its topic has partitions, and when a
// connector within the limit does run the process out of descriptors, GET /health says so
// (503), deleting that connector frees them, and the embedded broker and the other connectors
// serve again.
func TestOneConnectorCannotExhaustTheWorker(t *testing.T) {
	dir := t.TempDir()
	w := workertest.StartWithFileLimit(t, dir, 256, workertest.WorkerProps(t, dir))
	// Every request goes over one kept-alive connection: a worker out of descriptors cannot
	// accept another.
	c := keepAlive{t: t, w: w, client: &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}}}

	topic := testenv.Topic(t, "exhaust")
	createTopic(t, w.Bootstrap, topic, 2)
	output := filepath.Join(dir, "out.txt")
	sink := map[string]string{"connector.class": "FileStreamSink", "topics": topic, "file": output}

	sink["tasks.max"] = "100000"
	status, body := c.do("POST", "/connectors", map[string]any{"name": "sink", "config": sink})
	if status != 400 || !strings.Contains(string(body), "Invalid value 100000 for configuration tasks.max") ||
		!strings.Contains(string(body), "kconnect.tasks.max.limit") {
		t.Fatalf("POST a sink with tasks.max=100000: %d %s, want 400 naming tasks.max and kconnect.tasks.max.limit", status, body)
	}

	sink["tasks.max"] = "50"
	if status, body := c.do("POST", "/connectors", map[string]any{"name": "sink", "config": sink}); status != 201 {
		t.Fatalf("POST a sink with tasks.max=50: %d %s", status, body)
	}
	c.waitRunning("sink", 2)
	produce(t, w.Bootstrap, topic, `"before"`)
	waitLines(t, w, output, []string{"before"})

	// 100 source tasks (the default limit) each hold a producer's connections, and with the
	// embedded broker its ends of them too: more than 256 descriptors.
	hog := map[string]string{"connector.class": "DatagenConnector", "kafka.topic": testenv.Topic(t, "hog"), "max.interval": "100", "tasks.max": "100"}
	if status, body := c.do("POST", "/connectors", map[string]any{"name": "hog", "config": hog}); status != 201 {
		t.Fatalf("POST the hog: %d %s", status, body)
	}
	embedded := !testenv.RealKafka()
	if embedded {
		w.WaitFor(30*time.Second, "GET /health 503 naming the embedded broker", func() bool {
			status, body := c.do("GET", "/health", nil)
			return status == 503 && strings.Contains(string(body), `"status":"unhealthy"`) &&
				strings.Contains(string(body), "embedded broker") && strings.Contains(string(body), "too many open files")
		})
	}
	if status, body := c.do("DELETE", "/connectors/hog", nil); status != 204 {
		t.Fatalf("DELETE the hog: %d %s", status, body)
	}
	if status, body := c.do("GET", "/connectors/hog/status", nil); status != 404 {
		t.Errorf("status of the deleted hog: %d %s, want 404", status, body)
	}
	w.WaitFor(30*time.Second, "GET /health 200 after the hog is gone", func() bool {
		status, _ := c.do("GET", "/health", nil)
		return status == 200
	})
	c.waitRunning("sink", 2)
	produce(t, w.Bootstrap, topic, `"after"`)
	waitLines(t, w, output, []string{"before", "after"})
	if embedded && !strings.Contains(w.Log(), `msg="embedded broker cannot accept connections; retrying"`) {
		t.Errorf("worker log does not say that the embedded broker failed:\n%s", w.Log())
	}
}

// keepAlive sends a worker's REST requests over one kept-alive connection.
type keepAlive struct {
	t      *testing.T
	w      *workertest.Worker
	client *http.Client
}

func (k keepAlive) do(method, path string, body any) (int, []byte) {
	k.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(mustJSON(k.t, body))
	}
	req, err := http.NewRequest(method, k.w.URL+path, rd)
	if err != nil {
		k.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		k.t.Fatalf("%s %s: %v\nworker log:\n%s", method, path, err, k.w.Log())
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		k.t.Fatal(err)
	}
	return resp.StatusCode, b
}

// waitRunning waits until the connector and exactly tasks tasks are RUNNING.
func (k keepAlive) waitRunning(name string, tasks int) {
	k.t.Helper()
	k.w.WaitFor(30*time.Second, name+" RUNNING", func() bool {
		status, body := k.do("GET", "/connectors/"+name+"/status", nil)
		var st connectorStatus
		if status != 200 || json.Unmarshal(body, &st) != nil || st.Connector.State != "RUNNING" || len(st.Tasks) != tasks {
			return false
		}
		for _, ts := range st.Tasks {
			if ts.State != "RUNNING" {
				return false
			}
		}
		return true
	})
}

func createTopic(t *testing.T, bootstrap, topic string, partitions int32) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}
