package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kconnect/kconnect/runtime/herder"
)

// MemberConfig configures a Member; the fields mirror the distributed worker's settings.
type MemberConfig struct {
	// GroupID is group.id.
	GroupID string
	// Protocol is connect.protocol: the newest protocol offered (older ones are offered too).
	Protocol Protocol
	// URL is this worker's advertised REST URL, told to the leader.
	URL string
	// SessionTimeout, HeartbeatInterval and RebalanceTimeout are session.timeout.ms,
	// heartbeat.interval.ms and rebalance.timeout.ms.
	SessionTimeout    time.Duration
	HeartbeatInterval time.Duration
	RebalanceTimeout  time.Duration
	// MaxDelay is scheduled.rebalance.max.delay.ms, used when this worker leads.
	MaxDelay time.Duration
	// RetryBackoff and RetryBackoffMax are retry.backoff.ms and retry.backoff.max.ms: the
	// pause before joining again after a failed attempt doubles from the one to the other.
	RetryBackoff    time.Duration
	RetryBackoffMax time.Duration
	// Config returns the worker's current view of the config topic. It is called when joining
	// (the offset goes into the metadata) and, on the leader, again when assigning.
	Config func() ConfigSnapshot
	// Listener hears what to stop and what to run.
	Listener Listener
	// Logger receives membership events; nil means slog.Default().
	Logger *slog.Logger
	// Now is the assignor's clock; nil means time.Now.
	Now func() time.Time
	// Lease, when set, is renewed and ended by the member, for the worker's producers to check;
	// nil means a lease of the member's own.
	Lease *Lease
}

func (c MemberConfig) validate() error {
	switch {
	case c.GroupID == "":
		return errors.New("group.id: must be set")
	case c.Protocol < Eager || c.Protocol > Sessioned:
		return fmt.Errorf("connect.protocol: unknown protocol %d", c.Protocol)
	case c.SessionTimeout <= 0:
		return fmt.Errorf("session.timeout.ms: must be positive, got %s", c.SessionTimeout)
	case c.HeartbeatInterval <= 0 || c.HeartbeatInterval >= c.SessionTimeout:
		return fmt.Errorf("heartbeat.interval.ms: must be positive and below session.timeout.ms (%s), got %s", c.SessionTimeout, c.HeartbeatInterval)
	case c.RebalanceTimeout <= 0:
		return fmt.Errorf("rebalance.timeout.ms: must be positive, got %s", c.RebalanceTimeout)
	case c.MaxDelay < 0:
		return fmt.Errorf("scheduled.rebalance.max.delay.ms: must not be negative, got %s", c.MaxDelay)
	case c.RetryBackoff < 0:
		return fmt.Errorf("retry.backoff.ms: must not be negative, got %s", c.RetryBackoff)
	case c.RetryBackoffMax <= 0 || c.RetryBackoffMax < c.RetryBackoff:
		return fmt.Errorf("retry.backoff.max.ms: must be positive and at least retry.backoff.ms (%s), got %s", c.RetryBackoff, c.RetryBackoffMax)
	case c.Config == nil || c.Listener == nil:
		return errors.New("cluster member: Config and Listener must be set")
	}
	return nil
}

// Listener is told what the worker must stop and run. Its methods are called one at a time
// from Member.Run, and the member waits for them: heartbeats go on meanwhile, but the next
// rebalance does not start until they return.
type Listener interface {
	// Revoked asks the worker to stop connectors and tasks, returning once they have stopped:
	// nobody else is given them before this worker has rejoined (or its session has expired).
	// It is called for what a new assignment takes away (a cooperative revocation, or what an
	// eager assignment leaves out), for everything before an eager rejoin, and for everything
	// when the member loses its membership or stops.
	Revoked(connectors []string, tasks []herder.TaskID)
	// Assigned reports a completed rebalance. When r.Assignment failed (ConfigMismatch), the
	// worker should read the config topic to the end before returning: the member rejoins as
	// soon as Assigned returns.
	Assigned(r Rebalance)
}

// Rebalance is the outcome of one completed rebalance for this worker.
type Rebalance struct {
	// Generation and MemberID identify this worker's membership.
	Generation int32
	MemberID   string
	// Protocol is the protocol the group agreed on.
	Protocol Protocol
	// Assignment is what the leader sent: under the cooperative protocols only the changes.
	Assignment Assignment
	// Held is everything the worker runs from now on (Assignment applied to what it held).
	Held Assignment
	// Leader is set on the leader only: every member's assignment, who runs what and every
	// member's URL, for forwarding requests.
	Leader *Result

	// stop is what the worker ran and no longer holds; again asks for another round at once.
	stop  work
	again bool
}

// Member is a worker's membership in the Connect group: it joins with protocol type "connect",
// assigns when it is elected leader, heartbeats, and tells its Listener what to stop and run.
type Member struct {
	cl       *kgo.Client
	cfg      MemberConfig
	log      *slog.Logger
	assignor *Assignor
	rejoin   chan struct{}

	// lease is renewed by every answer that shows the coordinator counts this worker a member.
	lease *Lease

	// Owned by Run's goroutine. generation is the one memberID last completed a rebalance in,
	// -1 for none (a new member ID).
	memberID      string
	generation    int32
	protocol      Protocol
	held          *Assignment
	lastCompleted int32
}

// NewMember returns a member that talks to the group coordinator through cl (which must not
// itself consume as a group) once Run is called.
func NewMember(cl *kgo.Client, cfg MemberConfig) (*Member, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	lease := cfg.Lease
	if lease == nil {
		lease = NewLease()
	}
	lease.setDuration(cfg.SessionTimeout - cfg.HeartbeatInterval)
	return &Member{
		cl: cl, cfg: cfg, log: log.With("group", cfg.GroupID),
		assignor: NewAssignor(cfg.MaxDelay, cfg.Now),
		rejoin:   make(chan struct{}, 1), lease: lease,
		protocol: cfg.Protocol, generation: -1, lastCompleted: -1,
	}, nil
}

// Rejoin asks for a rebalance, e.g. after the worker saw connectors or tasks added to the
// config topic. It does not wait.
func (m *Member) Rejoin() {
	select {
	case m.rejoin <- struct{}{}:
	default:
	}
}

// errRejoin means: join again now, without backing off.
var errRejoin = errors.New("rejoin needed")

// Run joins the group and keeps the membership until ctx ends; then it revokes everything
// and leaves the group. It returns an error only for failures that retrying cannot fix
// (for example another kind of group already using the group ID).
func (m *Member) Run(ctx context.Context) error {
	defer m.leave()
	var backoff time.Duration
	for ctx.Err() == nil {
		r, err := m.join(ctx)
		switch {
		case err == nil:
			m.hold(ctx, r)
			if !r.Assignment.Failed() {
				backoff = 0
				continue
			}
			// A leader behind the config topic fails round after round until it catches up.
			err = fmt.Errorf("generation %d: the leader had not read the config topic to offset %d", r.Generation, r.Assignment.ConfigOffset)
		case errors.Is(err, errRejoin):
			continue
		case fatal(err):
			return fmt.Errorf("group %s: %w", m.cfg.GroupID, err)
		case ctx.Err() != nil:
			return nil
		}
		backoff = m.pause(ctx, backoff, err)
	}
	return nil
}

// pause waits before the next join after err, twice as long as the previous pause (up to
// RetryBackoffMax), and returns how long it waited.
func (m *Member) pause(ctx context.Context, previous time.Duration, err error) time.Duration {
	// One warning per streak of failures; the retries that follow are debug noise.
	level := slog.LevelDebug
	if previous == 0 {
		level = slog.LevelWarn
	}
	backoff := min(max(2*previous, m.cfg.RetryBackoff), m.cfg.RetryBackoffMax)
	m.log.Log(ctx, level, "rebalance failed, joining again", "err", err, "backoff", backoff)
	m.loseIfExpired()
	select {
	case <-ctx.Done():
	case <-time.After(backoff):
	}
	return backoff
}

// fatal reports errors that joining again cannot fix.
func fatal(err error) bool {
	for _, e := range []error{kerr.InconsistentGroupProtocol, kerr.GroupAuthorizationFailed, kerr.InvalidSessionTimeout,
		kerr.InvalidGroupID, kerr.UnsupportedVersion} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// hold runs one generation: it delivers the rebalance to the listener while heartbeating, until
// a rebalance is needed (the coordinator says so, Rejoin, the assignment's delay, revocations,
// a failed assignment) or the membership is lost.
func (m *Member) hold(ctx context.Context, r Rebalance) {
	hbCtx, stop := context.WithCancel(ctx)
	beat := make(chan error, 1)
	rebalancing := make(chan struct{}, 1)
	go func() { beat <- m.heartbeat(hbCtx, m.memberID, r.Generation, rebalancing) }()

	if !r.stop.empty() {
		m.cfg.Listener.Revoked(r.stop.connectors, r.stop.tasks)
	}
	m.cfg.Listener.Assigned(r)

	var delay <-chan time.Time
	if r.Assignment.Delay > 0 {
		delay = time.After(r.Assignment.Delay)
	}
	var err error
	// After a failed assignment, or once revoked work has stopped, the group needs another
	// round at once: that is where the revoked work is handed out (upstream's herder rejoins
	// in both cases too).
	revoked := len(r.Assignment.RevokedConnectors)+len(r.Assignment.RevokedTasks) > 0
	if !r.Assignment.Failed() && !revoked && !r.again {
		select {
		case <-ctx.Done():
		case <-m.rejoin:
		case <-delay:
		case <-rebalancing:
		case err = <-beat:
			beat <- err
		}
	}
	stop()
	if err = <-beat; errors.Is(err, errLost) {
		m.log.Warn("membership lost; stopping all work", "member", m.memberID, "generation", r.Generation)
		m.forget()
		m.revokeAll()
	}
}

// errLost means the coordinator has (or may have) expired this member.
var errLost = errors.New("membership lost")

// heartbeat keeps memberID's generation alive until ctx ends, returning errRejoin when the group
// went on without this generation and errLost when the membership is gone or may soon be. A
// rebalance the coordinator announces is signalled on rebalancing, and the heartbeats go on, as
// upstream's heartbeat thread's do until the member rejoins: the listener may still be stopping
// revoked work, and the coordinator expires a member that has neither rejoined nor heartbeated
// within its session timeout.
func (m *Member) heartbeat(ctx context.Context, memberID string, generation int32, rebalancing chan<- struct{}) error {
	next := time.Now().Add(m.cfg.HeartbeatInterval)
	for {
		deadline := m.expiry()
		wait := time.Until(next)
		if d := time.Until(deadline); d < wait {
			wait = d
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		if !time.Now().Before(deadline) {
			return errLost
		}
		next = time.Now().Add(m.cfg.HeartbeatInterval)
		until := next
		if deadline.Before(until) {
			until = deadline
		}
		sent := time.Now()
		err := m.sendHeartbeat(ctx, memberID, generation, until)
		switch {
		case err == nil:
			m.lease.renew(sent)
		case errors.Is(err, kerr.RebalanceInProgress):
			// Still a member until the rebalance completes: the producers must not stall.
			m.lease.renew(sent)
			select {
			case rebalancing <- struct{}{}:
			default:
			}
		case errors.Is(err, kerr.IllegalGeneration):
			// The group went on without this generation: what it held may be someone else's.
			m.lease.expire()
			return errRejoin
		case errors.Is(err, kerr.UnknownMemberID), errors.Is(err, kerr.FencedInstanceID):
			m.lease.expire()
			return errLost
		case ctx.Err() == nil:
			m.log.Debug("heartbeat failed", "err", err)
		}
	}
}

// sendHeartbeat sends one heartbeat as memberID of generation, waiting for its answer until
// until, and returns the error the coordinator answered.
func (m *Member) sendHeartbeat(ctx context.Context, memberID string, generation int32, until time.Time) error {
	req := kmsg.NewPtrHeartbeatRequest()
	req.Group, req.Generation, req.MemberID = m.cfg.GroupID, generation, memberID
	rctx, cancel := context.WithDeadline(ctx, until)
	defer cancel()
	resp, err := req.RequestWith(rctx, m.cl)
	if err != nil {
		return err
	}
	return kerr.ErrorForCode(resp.ErrorCode)
}

// beatWhileJoining heartbeats as memberID of generation while a JoinGroup or SyncGroup of this
// member waits for the other members, renewing the lease with each answer, so that the
// producers keep writing the work the member still holds through a long rebalance (one waiting
// for a killed worker's session to expire, say). Kafka never expires a member waiting in a join,
// but kfake does once its session timeout passes since the member's last heartbeat, without
// answering the join; the heartbeats keep it in the group. When the coordinator answers that it
// no longer knows the member, giveUp ends the wait. The returned stop ends the heartbeats and
// reports whether that happened.
func (m *Member) beatWhileJoining(ctx context.Context, memberID string, generation int32, giveUp context.CancelFunc) (stop func() (forgotten bool)) {
	if memberID == "" || generation < 0 {
		return func() bool { return false }
	}
	bctx, cancel := context.WithCancel(ctx)
	var forgotten atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-bctx.Done():
				return
			case <-time.After(m.cfg.HeartbeatInterval):
			}
			sent := time.Now()
			err := m.sendHeartbeat(bctx, memberID, generation, sent.Add(m.cfg.HeartbeatInterval))
			switch {
			case err == nil, errors.Is(err, kerr.RebalanceInProgress):
				m.lease.renew(sent)
			case errors.Is(err, kerr.UnknownMemberID), errors.Is(err, kerr.FencedInstanceID):
				forgotten.Store(true)
				giveUp()
				return
			case errors.Is(err, kerr.IllegalGeneration):
				// The group moved to another generation, with or without this member: the
				// join's answer says which.
				return
			}
		}
	}()
	return func() bool {
		cancel()
		<-done
		return forgotten.Load()
	}
}

// expiry is when the worker gives up its work if the coordinator stays silent: when its lease
// ends, one heartbeat interval before the coordinator may expire the session, so that the
// worker has stopped before a rebalance can hand its work to others.
func (m *Member) expiry() time.Time { return m.lease.Until() }

// loseIfExpired gives up the work when the coordinator has been silent past expiry.
func (m *Member) loseIfExpired() {
	if m.held != nil && !time.Now().Before(m.expiry()) {
		m.log.Warn("no contact with the group coordinator for too long; stopping all work",
			"session_timeout", m.cfg.SessionTimeout)
		m.forget()
		m.revokeAll()
	}
}

// forget drops the member ID: the coordinator no longer counts this worker a member, and the
// next join is a new member's.
func (m *Member) forget() {
	m.lease.expire()
	m.memberID, m.generation = "", -1
}

// revokeAll tells the listener to stop everything the worker runs.
func (m *Member) revokeAll() {
	if m.held != nil && len(m.held.Connectors)+len(m.held.Tasks) > 0 {
		m.cfg.Listener.Revoked(m.held.Connectors, m.held.Tasks)
	}
	m.held = nil
}

// leave stops all work, then leaves the group so that it rebalances without waiting for the
// session to expire.
func (m *Member) leave() {
	m.lease.expire()
	m.revokeAll()
	if m.memberID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), m.cfg.HeartbeatInterval)
	defer cancel()
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Group, req.MemberID = m.cfg.GroupID, m.memberID
	lm := kmsg.NewLeaveGroupRequestMember()
	lm.MemberID = m.memberID
	lm.Reason = kmsg.StringPtr("the worker is stopping")
	req.Members = []kmsg.LeaveGroupRequestMember{lm}
	resp, err := req.RequestWith(ctx, m.cl)
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
	}
	if err != nil {
		m.log.Warn("leaving the group failed; it will rebalance once the session expires", "member", m.memberID, "err", err)
	}
	m.memberID, m.generation = "", -1
}
