package distributed

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/kafkalog/kafkalogtest"
	"github.com/kconnect/kconnect/runtime/statusstore"
)

// progressSource is a source connector whose task n reports a snapshot of tables_total 2,
// tables_done n and rows_estimated 1000*(n+1), one more row done at each poll, and never ends.
type progressSource struct{ props map[string]string }

func (c *progressSource) Version() string               { return "7.7.7" }
func (c *progressSource) ConfigDef() *connect.ConfigDef { return connect.NewConfigDef() }
func (c *progressSource) Start(_ connect.ConnectorContext, props map[string]string) error {
	c.props = props
	return nil
}
func (c *progressSource) Stop() error { return nil }
func (c *progressSource) TaskConfigs(maxTasks int) ([]map[string]string, error) {
	out := make([]map[string]string, maxTasks)
	for i := range out {
		out[i] = map[string]string{"task.n": strconv.Itoa(i)}
	}
	return out, nil
}
func (c *progressSource) NewTask() connect.SourceTask { return &progressTask{} }

type progressTask struct {
	n       int64
	metrics connect.TaskMetrics
	rows    atomic.Int64
}

func (t *progressTask) Version() string { return "7.7.7" }
func (t *progressTask) Start(ctx connect.SourceTaskContext, props map[string]string) error {
	n, err := strconv.ParseInt(props["task.n"], 10, 64)
	t.n, t.metrics = n, connect.MetricsOf(ctx)
	return err
}
func (t *progressTask) Poll(ctx context.Context) ([]connect.SourceRecord, error) {
	t.metrics.SetProgress(&connect.Progress{Phase: "snapshot", TablesDone: t.n, TablesTotal: 2,
		RowsDone: t.rows.Add(1), RowsEstimated: 1000 * (t.n + 1)})
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Millisecond):
	}
	return nil, nil
}
func (t *progressTask) Commit(context.Context, []connect.SourceOffset) error { return nil }
func (t *progressTask) Stop() error                                          { return nil }

// progressSourcePlugin is registered on every test worker.
var progressSourcePlugin = connect.Plugin{Class: "ProgressSource", Type: connect.PluginSource, Version: "7.7.7",
	TaskClass: "com.example.ProgressSourceTask", New: func() any { return &progressSource{} }}

// Every worker's REST API shows the snapshot progress of tasks running on the other worker, as
// it reaches them through the status topic, which holds few of the progress updates of a task
// reporting one every poll; the statuses carry the plugin's version.
func TestProgressOfTasksOnOtherWorkers(t *testing.T) {
	brokers, ws, topics := startWorkers(t, 2, "sessioned")
	if _, err := ws[0].h.CreateConnector(t.Context(), "snap", map[string]string{
		"connector.class": "ProgressSource", "tasks.max": "2"}, herder.TargetStarted); err != nil {
		t.Fatal(err)
	}
	byID := map[string]*testWorker{ws[0].h.WorkerID(): ws[0], ws[1].h.WorkerID(): ws[1]}
	status := func(w *testWorker) herder.ConnectorStatus {
		code, body := w.do(t, http.MethodGet, "/connectors/snap/status", nil)
		var st herder.ConnectorStatus
		if code != http.StatusOK {
			t.Fatalf("GET status on %s: %d %s", w.h.WorkerID(), code, body)
		}
		if err := json.Unmarshal(body, &st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	ws[0].waitStatus(t, "snap", 2, herder.Running)
	for n := range 2 {
		var owner, other *testWorker
		var shown herder.TaskState
		waitFor(t, fmt.Sprintf("task %d's progress shown by the worker not running it", n), func() bool {
			owner = byID[status(ws[0]).Tasks[n].WorkerID]
			if owner == nil {
				return false
			}
			other = ws[0]
			if owner == ws[0] {
				other = ws[1]
			}
			shown = status(other).Tasks[n]
			p := shown.Progress
			return shown.WorkerID == owner.h.WorkerID() && p != nil && p.Phase == "snapshot" && p.TablesDone == int64(n) &&
				p.TablesTotal == 2 && p.RowsEstimated == int64(1000*(n+1)) && p.RowsDone > 0
		})
		first := shown.Progress.RowsDone
		waitFor(t, fmt.Sprintf("task %d's progress updated on the worker not running it", n), func() bool {
			p := status(other).Tasks[n].Progress
			return p != nil && p.RowsDone > first
		})
		if st := status(other); st.Connector.Progress == nil || st.Connector.Progress.TablesTotal != 4 {
			t.Errorf("connector progress on %s = %+v, want the sum over both tasks (tables_total 4)", other.h.WorkerID(), st.Connector.Progress)
		}
	}
	// Each poll, every 10 ms, is a new progress; between its first and last record with
	// progress, a task's status is written at most once per progressInterval (plus once for a
	// state change that came with progress), however long the topic is watched.
	key := func(n int) string { return statusstore.TaskKey(herder.TaskID{Connector: "snap", Task: n}) }
	type written struct {
		count       int
		first, last time.Time
		version     string
	}
	read := func() map[string]*written {
		out := map[string]*written{}
		for _, r := range kafkalogtest.Records(t, brokers, topics["status.storage.topic"]) {
			var v struct {
				Version  *string          `json:"version"`
				Progress *herder.Progress `json:"progress"`
			}
			if err := json.Unmarshal(r.Value, &v); err != nil || v.Version == nil {
				t.Fatalf("status record %s %s has no version (%v)", r.Key, r.Value, err)
			}
			k := string(r.Key)
			if out[k] == nil {
				out[k] = &written{first: r.Timestamp}
			}
			w := out[k]
			w.version = *v.Version
			if v.Progress != nil {
				w.count++
				w.last = r.Timestamp
			}
		}
		return out
	}
	var got map[string]*written
	waitFor(t, "progress written over three intervals", func() bool {
		got = read()
		for n := range 2 {
			if w := got[key(n)]; w == nil || w.last.Sub(w.first) < 3*progressInterval {
				return false
			}
		}
		return true
	})
	for n := range 2 {
		w := got[key(n)]
		if limit := int(w.last.Sub(w.first)/progressInterval) + 2; w.count > limit {
			t.Errorf("%d status records with progress of task %d in %v, want at most %d", w.count, n, w.last.Sub(w.first), limit)
		}
		if w.version != "7.7.7" {
			t.Errorf("task %d's status version %q, want the plugin's 7.7.7", n, w.version)
		}
	}
	if w := got[statusstore.ConnectorKey("snap")]; w == nil || w.version != "7.7.7" {
		t.Errorf("connector status %+v, want the plugin's version 7.7.7", w)
	}
}
