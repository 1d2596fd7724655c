package configstore

import (
	"log/slog"
	"reflect"
	"testing"

	"github.com/kconnect/kconnect/runtime/herder"
)

// feed applies records in order, as they would be read from the topic; a "" value is a
// tombstone.
func feed(st *state, records ...[2]string) []Update {
	var all []Update
	for _, r := range records {
		var v []byte
		if r[1] != "" {
			v = []byte(r[1])
		}
		all = append(all, st.apply(max(st.snap.Offset, 0), r[0], v)...)
	}
	return all
}

func TestTaskConfigsApplyOnlyAtTheirCommit(t *testing.T) {
	st := newState(slog.Default())
	feed(st,
		[2]string{"connector-my-conn", `{"properties":{"connector.class":"FileStreamSource","tasks.max":"2"}}`},
		[2]string{"task-my-conn-0", `{"properties":{"file":"a"}}`},
		[2]string{"task-my-conn-1", `{"properties":{"file":"b"}}`},
	)
	if tasks := st.copy().Tasks("my-conn"); tasks != nil {
		t.Fatalf("task configs visible before their commit: %v", tasks)
	}
	updates := feed(st, [2]string{"commit-my-conn", `{"tasks":2}`})
	want := []Update{{Kind: TaskConfigsUpdated, Connector: "my-conn", Tasks: []herder.TaskID{{Connector: "my-conn", Task: 0}, {Connector: "my-conn", Task: 1}}}}
	if !reflect.DeepEqual(updates, want) {
		t.Fatalf("updates = %+v, want %+v", updates, want)
	}
	s := st.copy()
	if tasks := s.Tasks("my-conn"); len(tasks) != 2 || tasks[0]["file"] != "a" || tasks[1]["file"] != "b" {
		t.Fatalf("tasks after commit = %v", tasks)
	}
	if s.TargetStates["my-conn"] != herder.TargetStarted || s.TaskConfigGenerations["my-conn"] != 0 || s.Offset != 4 {
		t.Fatalf("snapshot = %+v", s)
	}

	// A new set that was half written (the leader died) stays invisible; the old set remains.
	feed(st, [2]string{"task-my-conn-0", `{"properties":{"file":"new"}}`})
	if tasks := st.copy().Tasks("my-conn"); tasks[0]["file"] != "a" {
		t.Fatalf("an uncommitted task config leaked: %v", tasks)
	}
}

func TestIncompleteCommitMarksConnectorInconsistent(t *testing.T) {
	st := newState(slog.Default())
	// Compaction removed task-c-1 of the commit of 2 tasks.
	feed(st,
		[2]string{"connector-c", `{"properties":{}}`},
		[2]string{"task-c-0", `{"properties":{"n":"0"}}`},
		[2]string{"commit-c", `{"tasks":2}`},
	)
	s := st.copy()
	if !s.Inconsistent["c"] || s.Tasks("c") != nil {
		t.Fatalf("an incomplete commit must make the connector inconsistent: %+v", s)
	}
	// A complete rewrite repairs it; a lingering task-c-2 of an older, larger set is allowed.
	feed(st,
		[2]string{"task-c-2", `{"properties":{"n":"old"}}`},
		[2]string{"task-c-0", `{"properties":{"n":"0"}}`},
		[2]string{"task-c-1", `{"properties":{"n":"1"}}`},
		[2]string{"commit-c", `{"tasks":2}`},
	)
	s = st.copy()
	if s.Inconsistent["c"] || len(s.Tasks("c")) != 2 || s.Tasks("c")[1]["n"] != "1" {
		t.Fatalf("after a complete commit: %+v", s)
	}
}

func TestConnectorRemovalAndCompactedLeftovers(t *testing.T) {
	st := newState(slog.Default())
	updates := feed(st,
		[2]string{"target-state-c", `{"state":"PAUSED","state.v2":"STOPPED"}`},
		[2]string{"connector-c", `{"properties":{"k":"v"}}`},
		[2]string{"task-c-0", `{"properties":{}}`},
		[2]string{"commit-c", `{"tasks":1}`},
		[2]string{"connector-c", ""},
		[2]string{"target-state-c", ""},
		// A commit of a connector whose config compaction removed altogether is ignored.
		[2]string{"commit-gone", `{"tasks":1}`},
	)
	s := st.copy()
	if len(s.Connectors) != 0 || len(s.TaskConfigs) != 0 || len(s.TaskCounts) != 0 || len(s.TargetStates) != 0 {
		t.Fatalf("after removal: %+v", s)
	}
	kinds := []UpdateKind{}
	for _, u := range updates {
		kinds = append(kinds, u.Kind)
	}
	// The target state written before the config is no update of its own.
	if want := []UpdateKind{ConnectorConfigUpdated, TaskConfigsUpdated, ConnectorRemoved}; !reflect.DeepEqual(kinds, want) {
		t.Fatalf("update kinds = %v, want %v", kinds, want)
	}
}

func TestTargetStatePrefersStateV2AndReadsOlderRecords(t *testing.T) {
	st := newState(slog.Default())
	feed(st, [2]string{"connector-c", `{"properties":{}}`})
	for _, c := range []struct {
		value string
		want  herder.TargetState
	}{
		{`{"state":"PAUSED","state.v2":"STOPPED"}`, herder.TargetStopped},
		{`{"state":"STARTED"}`, herder.TargetStarted}, // a worker older than KIP-875
		{`{"state":"PAUSED","state.v2":null}`, herder.TargetPaused},
		{`{"state":"PAUSED","state.v2":7}`, herder.TargetPaused},
	} {
		feed(st, [2]string{"target-state-c", c.value})
		if got := st.copy().TargetStates["c"]; got != c.want {
			t.Errorf("%s: target state %q, want %q", c.value, got, c.want)
		}
	}
	// Invalid records change nothing.
	feed(st, [2]string{"target-state-c", `{"state":"RUNNING"}`}, [2]string{"target-state-c", `[1]`}, [2]string{"target-state-c", `{`})
	if got := st.copy().TargetStates["c"]; got != herder.TargetPaused {
		t.Errorf("after invalid records: %q", got)
	}
}

func TestRestartSessionKeyAndLoggerRecords(t *testing.T) {
	st := newState(slog.Default())
	updates := feed(st,
		[2]string{"restart-connector-c", `{"include-tasks":true,"only-failed":false}`},
		[2]string{"restart-connector-d", `{"include-tasks":"yes"}`}, // malformed flags mean false, as upstream
		[2]string{"session-key", `{"key":"AAEC","algorithm":"HmacSHA256","creation-timestamp":1700000000123}`},
		[2]string{"logger-cluster-org.apache.kafka", `{"level":"DEBUG"}`},
		[2]string{"tasks-fencing-c", `{"task-count":3}`},
		[2]string{"something-else", `{}`},
	)
	want := []Update{
		{Kind: RestartRequested, Connector: "c", Restart: RestartRequest{Connector: "c", IncludeTasks: true}},
		{Kind: RestartRequested, Connector: "d", Restart: RestartRequest{Connector: "d"}},
		{Kind: SessionKeyUpdated},
		{Kind: LoggerLevelChanged, Namespace: "org.apache.kafka", Level: "DEBUG"},
	}
	if !reflect.DeepEqual(updates, want) {
		t.Fatalf("updates = %+v\nwant %+v", updates, want)
	}
	s := st.copy()
	if k := s.SessionKey; k == nil || string(k.Key) != "\x00\x01\x02" || k.Algorithm != "HmacSHA256" || k.Created.UnixMilli() != 1700000000123 {
		t.Fatalf("session key = %+v", k)
	}
	if s.TaskCountRecords["c"] != 3 {
		t.Fatalf("task count records = %v", s.TaskCountRecords)
	}
}
