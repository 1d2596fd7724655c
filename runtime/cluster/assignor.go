package cluster

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kconnect/kconnect/runtime/herder"
)

// ConfigSnapshot is what the leader has read of the config topic when it assigns.
type ConfigSnapshot struct {
	// Offset is the config topic offset the snapshot reflects.
	Offset int64
	// Tasks maps every configured connector to its number of tasks: tasks 0..n-1 exist. A
	// connector whose task configs are incomplete or inconsistent counts 0, as upstream's
	// ClusterConfigState.tasks reports none for it.
	Tasks map[string]int
}

// work returns the configured connectors and tasks, sorted.
func (c ConfigSnapshot) work() work {
	var w work
	for name := range c.Tasks {
		w.connectors = append(w.connectors, name)
	}
	slices.Sort(w.connectors)
	for _, name := range w.connectors {
		for i := range c.Tasks[name] {
			w.tasks = append(w.tasks, herder.TaskID{Connector: name, Task: i})
		}
	}
	return w
}

// JoinedMember is one group member as the leader learns it from the JoinGroup response.
type JoinedMember struct {
	// ID is the group member ID.
	ID string
	// State is the member's decoded metadata for the chosen protocol.
	State WorkerState
}

// Round is the input of one assignment by the leader.
type Round struct {
	// LeaderID is the leader's own member ID.
	LeaderID string
	// Protocol is the protocol the coordinator chose for this generation.
	Protocol Protocol
	// Members are all members of the generation, the leader included.
	Members []JoinedMember
	// Config is the leader's view of the config topic, read as late as possible: if it is
	// behind the offset some member reports, every member gets a ConfigMismatch assignment.
	Config ConfigSnapshot
	// Generation is the generation being assigned, LastCompletedGeneration the one of the
	// leader's last completed rebalance (-1 if none): when the leader missed a generation its
	// view of the previous assignment is stale and is dropped, as upstream does.
	Generation              int32
	LastCompletedGeneration int32
}

// Result is the outcome of one assignment.
type Result struct {
	// Assignments holds every member's assignment, keyed by member ID.
	Assignments map[string]Assignment
	// ConnectorOwners and TaskOwners name the member that runs each connector and task once
	// the assignments are applied (revoked work is nobody's until the next round). The leader
	// uses them, with the members' URLs, to forward requests as upstream's LeaderState does.
	ConnectorOwners map[string]string
	TaskOwners      map[herder.TaskID]string
	// URLs maps every member ID to the member's REST URL.
	URLs map[string]string
}

// Assignor is the leader's assignor. The eager protocol is assigned round-robin from scratch,
// as upstream's EagerAssignor; the cooperative ones incrementally, as upstream's
// IncrementalCooperativeAssignor (KIP-415): only new, deleted, duplicated and unbalanced work
// moves, and a departed worker's work waits scheduled.rebalance.max.delay.ms for it to return.
// The cooperative assignor remembers the previous round, so a leader keeps one Assignor for
// its whole life; it is not safe for concurrent use.
//
// Where upstream's outcome depends on Java's hash ordering of member IDs (which overloaded
// worker keeps its extra connector, which idle workers take back lost work first), this
// assignor takes members in ID order, which is what upstream does whenever hash and ID order
// agree.
type Assignor struct {
	maxDelay time.Duration
	now      func() time.Time

	// previous is what the last cooperative round left assigned (plus its lost work still
	// waiting), previousRevocation what it revoked.
	previous           work
	previousRevocation work
	previousGeneration int32
	previousMembers    []string
	// revokedInPrevious and successiveRevocations space out load-balancing revocations that
	// follow each other.
	revokedInPrevious     bool
	successiveRevocations int
	// scheduled is when work lost with departed workers will be reassigned (zero: no delay
	// running), delay the rejoin delay sent to members meanwhile, and candidates the workers
	// found idle while waiting, which get that work first.
	scheduled  time.Time
	delay      time.Duration
	candidates []string
}

// NewAssignor returns an assignor that holds a departed worker's work for maxDelay
// (scheduled.rebalance.max.delay.ms) and reads the time from now (time.Now if nil).
func NewAssignor(maxDelay time.Duration, now func() time.Time) *Assignor {
	if now == nil {
		now = time.Now
	}
	return &Assignor{maxDelay: maxDelay, now: now, previousGeneration: -1}
}

// Assign computes every member's assignment for round r.
func (a *Assignor) Assign(r Round) (Result, error) {
	leader, members, err := r.leaderAndMembers()
	if err != nil {
		return Result{}, err
	}
	header := Assignment{Version: r.Protocol.Version(), Leader: r.LeaderID, LeaderURL: leader.URL, ConfigOffset: r.Config.Offset}
	var res Result
	switch {
	case r.Protocol < Eager || r.Protocol > Sessioned:
		return Result{}, fmt.Errorf("assign: unknown protocol %d", r.Protocol)
	case r.Config.Offset < r.maxOffset():
		// Members that have read further than the leader must not get work it cannot see.
		header.Error, header.ConfigOffset = ConfigMismatch, r.maxOffset()
		res = uniform(members, header)
	case r.Protocol == Eager:
		res = assignEager(header, members, r.Config)
	default:
		res = a.assignCooperative(header, r, members)
	}
	res.URLs = map[string]string{}
	for _, m := range r.Members {
		res.URLs[m.ID] = m.State.URL
	}
	return res, nil
}

// leaderAndMembers checks r and returns the leader's state and the member IDs in order.
func (r Round) leaderAndMembers() (WorkerState, []string, error) {
	var leader *WorkerState
	ids := make([]string, 0, len(r.Members))
	for i, m := range r.Members {
		if m.ID == r.LeaderID {
			leader = &r.Members[i].State
		}
		ids = append(ids, m.ID)
	}
	slices.Sort(ids)
	if len(ids) == 0 {
		return WorkerState{}, nil, errors.New("assign: no members")
	}
	if len(slices.Compact(slices.Clone(ids))) != len(ids) {
		return WorkerState{}, nil, fmt.Errorf("assign: duplicate member IDs in %v", ids)
	}
	if leader == nil {
		return WorkerState{}, nil, fmt.Errorf("assign: leader %q is not among the members %v", r.LeaderID, ids)
	}
	return *leader, ids, nil
}

// maxOffset is the furthest config offset any member has read.
func (r Round) maxOffset() int64 {
	maxOffset := r.Members[0].State.ConfigOffset
	for _, m := range r.Members[1:] {
		maxOffset = max(maxOffset, m.State.ConfigOffset)
	}
	return maxOffset
}

// uniform gives every member the same assignment (used for errors).
func uniform(members []string, a Assignment) Result {
	res := Result{Assignments: map[string]Assignment{}}
	for _, m := range members {
		res.Assignments[m] = a
	}
	return res
}

// assignEager deals the connectors, then their tasks, round-robin over the members in ID
// order, one deal continuing into the other as upstream's EagerAssignor does.
func assignEager(header Assignment, members []string, cfg ConfigSnapshot) Result {
	res := Result{Assignments: map[string]Assignment{}, ConnectorOwners: map[string]string{}, TaskOwners: map[herder.TaskID]string{}}
	for _, m := range members {
		res.Assignments[m] = header
	}
	configured := cfg.work()
	next := 0
	deal := func() (string, Assignment) {
		m := members[next%len(members)]
		next++
		return m, res.Assignments[m]
	}
	for _, c := range configured.connectors {
		m, as := deal()
		as.Connectors = append(as.Connectors, c)
		res.Assignments[m] = as
		res.ConnectorOwners[c] = m
	}
	for _, t := range configured.tasks {
		m, as := deal()
		as.Tasks = append(as.Tasks, t)
		res.Assignments[m] = as
		res.TaskOwners[t] = m
	}
	return res
}
