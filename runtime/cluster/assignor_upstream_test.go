package cluster

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/runtime/herder"
)

// testdata/assignor.json holds rebalance scenarios (testdata/gen/scenarios.json) played through
// Kafka Connect's own leader logic: per round the members' metadata bytes and the assignment
// each member got. Replaying the same rounds through Assignor must give every member the same
// assignment.
type assignorFixtures struct {
	Scenarios []struct {
		Name       string `json:"name"`
		Protocol   string `json:"protocol"`
		MaxDelayMs int64  `json:"max_delay_ms"`
		Rounds     []struct {
			Generation    int32          `json:"generation"`
			LastCompleted int32          `json:"last_completed"`
			AtMs          int64          `json:"at_ms"`
			Leader        string         `json:"leader"`
			Restarted     []string       `json:"restarted"`
			ConfigOffset  int64          `json:"config_offset"`
			Config        map[string]int `json:"config"`
			Members       []struct {
				ID  string `json:"id"`
				Hex string `json:"hex"`
			} `json:"members"`
			Assignments map[string]struct {
				Hex     string          `json:"hex"`
				Decoded fixtureAssigned `json:"decoded"`
			} `json:"assignments"`
		} `json:"rounds"`
	} `json:"scenarios"`
}

func TestAssignorMatchesUpstreamScenarios(t *testing.T) {
	var f assignorFixtures
	readJSON(t, "testdata/assignor.json", &f)
	if len(f.Scenarios) < 10 {
		t.Fatalf("testdata/assignor.json holds %d scenarios", len(f.Scenarios))
	}
	for _, sc := range f.Scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			protocol, err := ProtocolByName(sc.Protocol)
			if err != nil {
				t.Fatal(err)
			}
			var now time.Time
			clock := func() time.Time { return now }
			// Each worker keeps its own assignor for when it leads, as upstream's coordinator does.
			assignors := map[string]*Assignor{}
			for _, r := range sc.Rounds {
				now = time.UnixMilli(r.AtMs)
				for _, w := range r.Restarted {
					delete(assignors, w)
				}
				a := assignors[r.Leader]
				if a == nil {
					a = NewAssignor(time.Duration(sc.MaxDelayMs)*time.Millisecond, clock)
					assignors[r.Leader] = a
				}
				round := Round{LeaderID: r.Leader, Protocol: protocol, Generation: r.Generation, LastCompletedGeneration: r.LastCompleted,
					Config: ConfigSnapshot{Offset: r.ConfigOffset, Tasks: r.Config}}
				for _, m := range r.Members {
					state, err := DecodeWorkerState(unhex(t, m.Hex))
					if err != nil {
						t.Fatalf("generation %d: member %s: %v", r.Generation, m.ID, err)
					}
					round.Members = append(round.Members, JoinedMember{ID: m.ID, State: state})
				}
				res, err := a.Assign(round)
				if err != nil {
					t.Fatalf("generation %d: %v", r.Generation, err)
				}
				if len(res.Assignments) != len(r.Assignments) {
					t.Errorf("generation %d: %d assignments, upstream %d", r.Generation, len(res.Assignments), len(r.Assignments))
				}
				for id, want := range r.Assignments {
					got, ok := res.Assignments[id]
					if !ok {
						t.Errorf("generation %d: no assignment for %s", r.Generation, id)
						continue
					}
					if g, w := describe(got), describe(want.Decoded.assignment()); g != w {
						t.Errorf("generation %d at %dms, %s:\n got %s\nwant %s", r.Generation, r.AtMs, id, g, w)
					}
					// Our bytes must decode to the same (upstream groups connectors in hash order,
					// so the bytes themselves may differ).
					back, err := DecodeAssignment(got.Encode())
					if err != nil || describe(back) != describe(got) {
						t.Errorf("generation %d, %s: assignment does not survive encoding: %v", r.Generation, id, err)
					}
				}
			}
		})
	}
}

// describe renders an assignment with its lists sorted: upstream's order within them follows
// Java hash sets, and no worker depends on it.
func describe(a Assignment) string {
	sorted := func(xs []string) []string { return slices.Sorted(slices.Values(xs)) }
	tasks := func(ts []herder.TaskID) string {
		ts = slices.Clone(ts)
		sortTasks(ts)
		var b strings.Builder
		for _, t := range ts {
			fmt.Fprintf(&b, " %s-%d", t.Connector, t.Task)
		}
		return b.String()
	}
	return fmt.Sprintf("v%d err=%d leader=%s(%s) offset=%d connectors=%v tasks=[%s] revoked=%v tasks=[%s] delay=%s",
		a.Version, a.Error, a.Leader, a.LeaderURL, a.ConfigOffset, sorted(a.Connectors), tasks(a.Tasks),
		sorted(a.RevokedConnectors), tasks(a.RevokedTasks), a.Delay)
}
