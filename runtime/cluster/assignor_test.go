package cluster

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/runtime/herder"
)

// cluster simulates workers that join through the cooperative protocol and apply their
// assignments, with each worker keeping its own assignor for when it leads.
type cluster struct {
	t         *testing.T
	now       time.Time
	maxDelay  time.Duration
	protocol  Protocol
	config    map[string]int
	offset    int64
	gen       int32
	held      map[string]*Assignment // what each worker runs; kept while it is away
	completed map[string]int32       // each worker's last completed generation
	assignors map[string]*Assignor
}

func newCluster(t *testing.T, maxDelay time.Duration) *cluster {
	return &cluster{t: t, now: time.UnixMilli(0), maxDelay: maxDelay, protocol: Sessioned, config: map[string]int{},
		held: map[string]*Assignment{}, completed: map[string]int32{}, assignors: map[string]*Assignor{}}
}

// restart makes a worker come back with nothing and a fresh assignor.
func (c *cluster) restart(w string) {
	delete(c.held, w)
	delete(c.completed, w)
	delete(c.assignors, w)
}

// rebalance runs one generation with members (the first leads) and applies the assignments.
func (c *cluster) rebalance(members ...string) Result {
	c.t.Helper()
	c.gen++
	leader := members[0]
	a := c.assignors[leader]
	if a == nil {
		a = NewAssignor(c.maxDelay, func() time.Time { return c.now })
		c.assignors[leader] = a
	}
	last, ok := c.completed[leader]
	if !ok {
		last = -1
	}
	r := Round{LeaderID: leader, Protocol: c.protocol, Generation: c.gen, LastCompletedGeneration: last,
		Config: ConfigSnapshot{Offset: c.offset, Tasks: maps.Clone(c.config)}}
	for _, m := range members {
		// Through the wire, as the leader would see it.
		st, err := DecodeWorkerState(WorkerState{URL: "http://" + m, ConfigOffset: c.offset, Allocation: c.held[m]}.Encode(c.protocol))
		if err != nil {
			c.t.Fatal(err)
		}
		r.Members = append(r.Members, JoinedMember{ID: m, State: st})
	}
	res, err := a.Assign(r)
	if err != nil {
		c.t.Fatal(err)
	}
	c.checkNoDoubleRun(members, res)
	for _, m := range members {
		got, err := DecodeAssignment(res.Assignments[m].Encode())
		if err != nil {
			c.t.Fatal(err)
		}
		next := got.Apply(c.held[m], c.protocol)
		c.held[m] = &next
		c.completed[m] = c.gen
	}
	return res
}

// checkNoDoubleRun fails if a member is told to start what another member still runs: the
// cooperative protocol only hands out work nobody present holds.
func (c *cluster) checkNoDoubleRun(members []string, res Result) {
	c.t.Helper()
	for _, m := range members {
		for _, o := range members {
			if o == m || c.held[o] == nil {
				continue
			}
			if x := within(res.Assignments[m].Connectors, c.held[o].Connectors); len(x) > 0 {
				c.t.Fatalf("generation %d: %s starts connectors %v that %s still runs", c.gen, m, x, o)
			}
			if x := within(res.Assignments[m].Tasks, c.held[o].Tasks); len(x) > 0 {
				c.t.Fatalf("generation %d: %s starts tasks %v that %s still runs", c.gen, m, x, o)
			}
		}
	}
}

// settle rebalances members until nothing changes, letting any delay pass.
func (c *cluster) settle(members ...string) {
	c.t.Helper()
	for range 12 {
		c.now = c.now.Add(c.maxDelay + time.Second)
		res := c.rebalance(members...)
		quiet := true
		for _, a := range res.Assignments {
			quiet = quiet && len(a.Connectors)+len(a.Tasks)+len(a.RevokedConnectors)+len(a.RevokedTasks) == 0 && a.Delay == 0
		}
		if quiet {
			return
		}
	}
	c.t.Fatalf("generation %d: no stable assignment after 12 rounds", c.gen)
}

// checkBalanced fails unless members together run every configured connector and task exactly
// once, each within one of the others' counts.
func (c *cluster) checkBalanced(members ...string) {
	c.t.Helper()
	want := ConfigSnapshot{Tasks: c.config}.work()
	var all work
	var nConnectors, nTasks []int
	for _, m := range members {
		h := c.held[m]
		if h == nil {
			h = &Assignment{}
		}
		all.connectors = append(all.connectors, h.Connectors...)
		all.tasks = append(all.tasks, h.Tasks...)
		nConnectors = append(nConnectors, len(h.Connectors))
		nTasks = append(nTasks, len(h.Tasks))
	}
	slices.Sort(all.connectors)
	sortTasks(all.tasks)
	if !slices.Equal(all.connectors, want.connectors) || !slices.Equal(all.tasks, want.tasks) {
		c.t.Fatalf("generation %d: members run %v, configured %v", c.gen, all, want)
	}
	if slices.Max(nConnectors)-slices.Min(nConnectors) > 1 || slices.Max(nTasks)-slices.Min(nTasks) > 1 {
		c.t.Fatalf("generation %d: unbalanced: connectors %v, tasks %v over %v", c.gen, nConnectors, nTasks, members)
	}
}

func (c *cluster) moved(res Result) (assigned, revoked int) {
	for _, a := range res.Assignments {
		assigned += len(a.Connectors) + len(a.Tasks)
		revoked += len(a.RevokedConnectors) + len(a.RevokedTasks)
	}
	return assigned, revoked
}

func TestNewWorkerTakesOnlyItsShare(t *testing.T) {
	c := newCluster(t, 5*time.Minute)
	c.config = map[string]int{"a": 4, "b": 4, "c": 4}
	c.rebalance("w1", "w2", "w3")
	c.checkBalanced("w1", "w2", "w3")
	before := map[string][]herder.TaskID{}
	for _, w := range []string{"w1", "w2", "w3"} {
		before[w] = slices.Clone(c.held[w].Tasks)
	}

	res := c.rebalance("w1", "w2", "w3", "w4")
	if _, revoked := c.moved(res); revoked != 3 {
		t.Fatalf("adding a fourth worker to 12 tasks over 3 revoked %d items, want 3 (one task each)", revoked)
	}
	c.settle("w1", "w2", "w3", "w4")
	c.checkBalanced("w1", "w2", "w3", "w4")
	for w, tasks := range before {
		if kept := within(tasks, c.held[w].Tasks); len(kept) != 3 {
			t.Errorf("%s kept %d of its 4 tasks, want 3", w, len(kept))
		}
	}
}

// w3Leaves starts w1, w2 and w3, then rebalances without w3 a second later, returning what
// w3 ran.
func w3Leaves(t *testing.T, delay time.Duration) (*cluster, Result, Assignment) {
	c := newCluster(t, delay)
	c.config = map[string]int{"a": 3, "b": 3}
	c.rebalance("w1", "w2", "w3")
	lost := *c.held["w3"]
	c.now = c.now.Add(time.Second)
	return c, c.rebalance("w1", "w2"), lost
}

func TestDepartedWorkerLoadWaitsForDelay(t *testing.T) {
	const delay = time.Minute
	c, res, lost := w3Leaves(t, delay)
	if a := res.Assignments["w1"]; a.Delay != delay || len(a.Tasks)+len(a.Connectors) != 0 {
		t.Fatalf("right after w3 left: %+v, want nothing moved and a rejoin delay of %s", a, delay)
	}
	if owner, ok := res.TaskOwners[lost.Tasks[0]]; ok {
		t.Errorf("w3's task %v is owned by %s while w3 may come back", lost.Tasks[0], owner)
	}

	c.now = c.now.Add(20 * time.Second)
	if d := c.rebalance("w1", "w2").Assignments["w2"].Delay; d != delay-20*time.Second {
		t.Fatalf("20s into the delay the rejoin delay is %s, want %s", d, delay-20*time.Second)
	}

	c.now = c.now.Add(delay)
	res = c.rebalance("w1", "w2")
	if assigned, _ := c.moved(res); assigned != len(lost.Connectors)+len(lost.Tasks) {
		t.Fatalf("after the delay %d items were assigned, want w3's %d", assigned, len(lost.Connectors)+len(lost.Tasks))
	}
	c.checkBalanced("w1", "w2")
}

func TestReturningWorkerWithinDelayGetsLoadBack(t *testing.T) {
	const delay = time.Minute
	c, _, lost := w3Leaves(t, delay)

	// w3 restarts and rejoins empty before the delay is over: it waits with the others ...
	c.restart("w3")
	c.now = c.now.Add(10 * time.Second)
	if d := c.rebalance("w1", "w2", "w3").Assignments["w3"].Delay; d != delay-10*time.Second {
		t.Fatalf("w3 rejoining 10s in: rejoin delay %s, want %s", d, delay-10*time.Second)
	}
	// ... and when the delay is over it gets its old work back, nobody else moves.
	c.now = c.now.Add(delay)
	res := c.rebalance("w1", "w2", "w3")
	got := res.Assignments["w3"]
	if !sameAssignment(Assignment{Connectors: got.Connectors, Tasks: got.Tasks}, Assignment{Connectors: lost.Connectors, Tasks: lost.Tasks}) {
		t.Fatalf("w3 got %v %v back, it ran %v %v", got.Connectors, got.Tasks, lost.Connectors, lost.Tasks)
	}
	for _, w := range []string{"w1", "w2"} {
		if a := res.Assignments[w]; len(a.Connectors)+len(a.Tasks)+len(a.RevokedConnectors)+len(a.RevokedTasks) != 0 {
			t.Errorf("%s changed: %+v", w, a)
		}
	}
}

func TestConfigChangesMoveOnlyWhatChanged(t *testing.T) {
	c := newCluster(t, time.Minute)
	c.config = map[string]int{"a": 4, "b": 2}
	c.rebalance("w1", "w2")
	c.settle("w1", "w2")

	c.config["a"] = 2 // tasks a-2 and a-3 go away
	c.offset++
	res := c.rebalance("w1", "w2")
	var revoked []herder.TaskID
	for _, a := range res.Assignments {
		revoked = append(revoked, a.RevokedTasks...)
	}
	sortTasks(revoked)
	if want := []herder.TaskID{{Connector: "a", Task: 2}, {Connector: "a", Task: 3}}; !slices.Equal(revoked, want) {
		t.Fatalf("shrinking a to 2 tasks revoked %v, want %v", revoked, want)
	}
	c.settle("w1", "w2")
	c.checkBalanced("w1", "w2")

	delete(c.config, "b")
	c.config["c"] = 3
	c.offset++
	res = c.rebalance("w1", "w2")
	if res.ConnectorOwners["c"] == "" || res.ConnectorOwners["b"] != "" {
		t.Fatalf("owners after replacing b by c: %v", res.ConnectorOwners)
	}
	c.settle("w1", "w2")
	c.checkBalanced("w1", "w2")
}

func TestLeaderBehindConfigAnswersMismatch(t *testing.T) {
	a := NewAssignor(time.Minute, nil)
	res, err := a.Assign(Round{LeaderID: "w1", Protocol: Sessioned, Config: ConfigSnapshot{Offset: 4, Tasks: map[string]int{"a": 1}},
		Members: []JoinedMember{{ID: "w1", State: WorkerState{URL: "u1", ConfigOffset: 4}}, {ID: "w2", State: WorkerState{URL: "u2", ConfigOffset: 6}}}})
	if err != nil {
		t.Fatal(err)
	}
	for id, as := range res.Assignments {
		if as.Error != ConfigMismatch || as.ConfigOffset != 6 || len(as.Connectors)+len(as.Tasks) != 0 || as.LeaderURL != "u1" {
			t.Errorf("%s: %+v, want a config mismatch at offset 6 from u1", id, as)
		}
	}
}

func TestAssignRejectsBadRounds(t *testing.T) {
	m := func(id string) JoinedMember { return JoinedMember{ID: id, State: WorkerState{URL: "u"}} }
	cases := []struct {
		round Round
		want  string
	}{
		{Round{LeaderID: "w1", Protocol: Sessioned}, "no members"},
		{Round{LeaderID: "w9", Protocol: Sessioned, Members: []JoinedMember{m("w1")}}, `leader "w9" is not among the members`},
		{Round{LeaderID: "w1", Protocol: Sessioned, Members: []JoinedMember{m("w1"), m("w1")}}, "duplicate member IDs"},
		{Round{LeaderID: "w1", Protocol: 7, Members: []JoinedMember{m("w1")}}, "unknown protocol"},
	}
	for _, tc := range cases {
		if _, err := NewAssignor(0, nil).Assign(tc.round); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Assign(%+v) error = %v, want %q", tc.round, err, tc.want)
		}
	}
}

// TestRandomMembershipAndConfigChanges plays random joins, departures, restarts, leader
// changes and config changes: no member is ever told to start what another present member
// runs, and once things calm down every connector and task runs exactly once, balanced.
func TestRandomMembershipAndConfigChanges(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 13))
			c := newCluster(t, time.Duration(rng.IntN(3))*30*time.Second)
			workers := []string{"w1", "w2", "w3", "w4", "w5"}
			present := map[string]bool{"w1": true, "w2": true}
			for i := range 40 {
				switch rng.IntN(6) {
				case 0:
					present[workers[rng.IntN(len(workers))]] = true
				case 1:
					if len(present) > 1 {
						delete(present, workers[rng.IntN(len(workers))])
					}
				case 2:
					w := workers[rng.IntN(len(workers))]
					c.restart(w)
					present[w] = true
				case 3:
					c.config[fmt.Sprintf("c%d", rng.IntN(8))] = rng.IntN(6)
					c.offset++
				case 4:
					delete(c.config, fmt.Sprintf("c%d", rng.IntN(8)))
					c.offset++
				}
				c.now = c.now.Add(time.Duration(rng.IntN(40)) * time.Second)
				members := slices.Sorted(maps.Keys(present))
				// Each member leads in turn.
				k := i % len(members)
				c.rebalance(append(slices.Clone(members[k:]), members[:k]...)...)
			}
			members := slices.Sorted(maps.Keys(present))
			c.settle(members...)
			c.checkBalanced(members...)
		})
	}
}

// BenchmarkAssignNewWorker measures the leader's cooperative assignment for the issue's
// rebalance scenario: 200 connectors with 4 tasks each over 3 workers, a fourth joining.
func BenchmarkAssignNewWorker(b *testing.B) {
	cfg := ConfigSnapshot{Offset: 1, Tasks: map[string]int{}}
	for i := range 200 {
		cfg.Tasks[fmt.Sprintf("connector-%03d", i)] = 4
	}
	first, err := NewAssignor(time.Minute, nil).Assign(Round{LeaderID: "w1", Protocol: Sessioned, Config: cfg,
		Members: []JoinedMember{{ID: "w1"}, {ID: "w2"}, {ID: "w3"}}})
	if err != nil {
		b.Fatal(err)
	}
	// A leader that has not led before: it works from the members' allocations alone.
	round := Round{LeaderID: "w1", Protocol: Sessioned, Config: cfg, Generation: 2, LastCompletedGeneration: -1}
	for _, id := range []string{"w1", "w2", "w3", "w4"} {
		a := first.Assignments[id]
		round.Members = append(round.Members, JoinedMember{ID: id, State: WorkerState{URL: id, ConfigOffset: 1, Allocation: &a}})
	}
	for b.Loop() {
		if _, err := NewAssignor(time.Minute, nil).Assign(round); err != nil {
			b.Fatal(err)
		}
	}
}
