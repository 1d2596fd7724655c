package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// join runs one JoinGroup and SyncGroup round trip, assigning if this member is elected
// leader. Under the eager protocol everything held is revoked first, as upstream does.
func (m *Member) join(ctx context.Context) (Rebalance, error) {
	// A member the coordinator forgot joins as a new one, and others may run its work by now; as
	// upstream's WorkerCoordinator, it stops everything first. Under the eager protocol
	// everything is revoked before every join.
	if m.protocol == Eager || m.memberID == "" {
		m.revokeAll()
	}
	cfg := m.cfg.Config()
	req := kmsg.NewPtrJoinGroupRequest()
	req.Group = m.cfg.GroupID
	req.SessionTimeoutMillis = millis(m.cfg.SessionTimeout)
	req.RebalanceTimeoutMillis = millis(m.cfg.RebalanceTimeout)
	req.MemberID = m.memberID
	req.ProtocolType = ProtocolType
	req.Protocols = JoinProtocols(m.cfg.Protocol, WorkerState{URL: m.cfg.URL, ConfigOffset: cfg.Offset, Allocation: m.held})

	// The coordinator answers once every member has joined, within the rebalance timeout.
	sent := time.Now()
	resp, err := waitAnswer(ctx, m, m.generation, req)
	if err != nil {
		return Rebalance{}, fmt.Errorf("join: %w", err)
	}
	if err := m.outcome("join", resp.ErrorCode, resp.MemberID); err != nil {
		return Rebalance{}, err
	}
	m.lease.renew(sent)
	if resp.MemberID != m.memberID {
		m.memberID, m.generation = resp.MemberID, -1
	}
	protocol, err := ProtocolByName(deref(resp.Protocol))
	if err != nil {
		return Rebalance{}, fmt.Errorf("join: %w", err)
	}
	log := m.log.With("member", m.memberID, "generation", resp.Generation, "protocol", protocol.Name())

	var leader *Result
	sync := kmsg.NewPtrSyncGroupRequest()
	// A group falling back from a cooperative protocol to the eager one (a worker configured
	// eager joined) has members still running their work, which eager members only stop
	// before joining. So the leader hands out nothing this round and rejoins at once: every
	// member stops all its work before the next round's assignment.
	fallback := protocol == Eager && m.protocol != Eager
	if resp.LeaderID == resp.MemberID {
		res, err := m.assign(resp, protocol, fallback)
		if err != nil {
			return Rebalance{}, err
		}
		leader = &res
		for id, a := range res.Assignments {
			ga := kmsg.NewSyncGroupRequestGroupAssignment()
			ga.MemberID, ga.MemberAssignment = id, a.Encode()
			sync.GroupAssignment = append(sync.GroupAssignment, ga)
		}
		log.Info("assigned as leader", "members", len(resp.Members))
	}
	sync.Group, sync.Generation, sync.MemberID = m.cfg.GroupID, resp.Generation, m.memberID
	sync.ProtocolType, sync.Protocol = kmsg.StringPtr(ProtocolType), resp.Protocol
	sent = time.Now()
	sresp, err := waitAnswer(ctx, m, resp.Generation, sync)
	if err != nil {
		return Rebalance{}, fmt.Errorf("sync: %w", err)
	}
	if err := m.outcome("sync", sresp.ErrorCode, m.memberID); err != nil {
		return Rebalance{}, err
	}
	m.lease.renew(sent)
	a, err := DecodeAssignment(sresp.MemberAssignment)
	if err != nil {
		return Rebalance{}, fmt.Errorf("sync: generation %d: %w", resp.Generation, err)
	}
	held := a.Apply(m.held, protocol)
	var stop work
	if m.held != nil {
		stop = work{connectors: without(m.held.Connectors, held.Connectors), tasks: without(m.held.Tasks, held.Tasks)}
	}
	m.held, m.protocol, m.lastCompleted, m.generation = &held, protocol, resp.Generation, resp.Generation
	log.Info("rebalance complete", "leader", a.Leader, "error", a.Error, "delay", a.Delay,
		"connectors", len(held.Connectors), "tasks", len(held.Tasks),
		"revoked", len(a.RevokedConnectors)+len(a.RevokedTasks))
	return Rebalance{Generation: resp.Generation, MemberID: m.memberID, Protocol: protocol, Assignment: a, Held: held, Leader: leader,
		stop: stop, again: fallback && leader != nil}, nil
}

// waitAnswer sends a JoinGroup or SyncGroup request of the member as of generation and waits for
// the coordinator's answer, which comes once every member has joined (or synced) or the
// rebalance timeout has passed, heartbeating meanwhile (see beatWhileJoining). If the
// coordinator forgets the member while it waits, the member joins again as a new one.
func waitAnswer[R any](ctx context.Context, m *Member, generation int32, req interface {
	RequestWith(context.Context, kmsg.Requestor) (R, error)
}) (R, error) {
	wctx, cancel := context.WithTimeout(ctx, m.cfg.RebalanceTimeout+m.cfg.SessionTimeout)
	defer cancel()
	stopBeats := m.beatWhileJoining(wctx, m.memberID, generation, cancel)
	resp, err := req.RequestWith(wctx, m.cl)
	if stopBeats() && err != nil {
		m.log.Warn("the group coordinator forgot this member during a rebalance; joining as a new member", "member", m.memberID)
		m.forget()
		return resp, errRejoin
	}
	return resp, err
}

// outcome maps the error code of a JoinGroup or SyncGroup response to what to do next: nil to
// go on, errRejoin to join again at once (with the member ID the coordinator gave, or none if
// it forgot this member), or the error.
func (m *Member) outcome(step string, code int16, memberID string) error {
	err := kerr.ErrorForCode(code)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, kerr.MemberIDRequired):
		m.memberID, m.generation = memberID, -1
	case errors.Is(err, kerr.UnknownMemberID):
		m.forget()
	case errors.Is(err, kerr.IllegalGeneration):
		m.lease.expire()
	case errors.Is(err, kerr.RebalanceInProgress):
	case errors.Is(err, kerr.FencedInstanceID):
		m.lease.expire()
		return fmt.Errorf("%s: %w", step, err)
	default:
		return fmt.Errorf("%s: %w", step, err)
	}
	return errRejoin
}

// assign computes every member's assignment from the JoinGroup response; with nothing to
// assign when the group is falling back to the eager protocol.
func (m *Member) assign(resp *kmsg.JoinGroupResponse, protocol Protocol, fallback bool) (Result, error) {
	r := Round{LeaderID: resp.LeaderID, Protocol: protocol, Config: m.cfg.Config(),
		Generation: resp.Generation, LastCompletedGeneration: m.lastCompleted}
	if fallback {
		r.Config.Tasks = nil
	}
	for _, jm := range resp.Members {
		st, err := DecodeWorkerState(jm.ProtocolMetadata)
		if err != nil {
			return Result{}, fmt.Errorf("assign generation %d: member %s: %w", resp.Generation, jm.MemberID, err)
		}
		r.Members = append(r.Members, JoinedMember{ID: jm.MemberID, State: st})
	}
	return m.assignor.Assign(r)
}

func millis(d time.Duration) int32 { return int32(d.Milliseconds()) }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
