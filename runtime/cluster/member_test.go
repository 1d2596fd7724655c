package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/runtime/herder"
)

// ledger records who runs what across the workers of one test, and every time a worker is
// told to run something another worker has not stopped yet.
type ledger struct {
	mu         sync.Mutex
	owner      map[string]string // "connector" or "connector-n" -> worker
	protocols  map[string]Protocol
	revoked    map[string]int // worker -> number of Revoked calls
	failed     map[string]int // worker -> number of failed assignments
	violations []string
}

func newLedger() *ledger {
	return &ledger{owner: map[string]string{}, protocols: map[string]Protocol{}, revoked: map[string]int{}, failed: map[string]int{}}
}

func keys(connectors []string, tasks []herder.TaskID) []string {
	out := slices.Clone(connectors)
	for _, t := range tasks {
		out = append(out, fmt.Sprintf("%s-%d", t.Connector, t.Task))
	}
	return out
}

// listener is one worker's view of the ledger.
type listener struct {
	l      *ledger
	worker string
}

func (x listener) Revoked(connectors []string, tasks []herder.TaskID) {
	x.l.mu.Lock()
	defer x.l.mu.Unlock()
	x.l.revoked[x.worker]++
	for _, k := range keys(connectors, tasks) {
		if x.l.owner[k] == x.worker {
			delete(x.l.owner, k)
		}
	}
}

func (x listener) Assigned(r Rebalance) {
	x.l.mu.Lock()
	defer x.l.mu.Unlock()
	x.l.protocols[x.worker] = r.Protocol
	if r.Assignment.Failed() {
		x.l.failed[x.worker]++
	}
	held := keys(r.Held.Connectors, r.Held.Tasks)
	for _, k := range held {
		if o, ok := x.l.owner[k]; ok && o != x.worker {
			x.l.violations = append(x.l.violations, fmt.Sprintf("generation %d: %s told to run %s while %s runs it", r.Generation, x.worker, k, o))
		}
		x.l.owner[k] = x.worker
	}
	for k, o := range x.l.owner {
		if o == x.worker && !slices.Contains(held, k) {
			x.l.violations = append(x.l.violations, fmt.Sprintf("generation %d: %s dropped %s without a revocation", r.Generation, x.worker, k))
		}
	}
}

// waitFor polls until every configured item runs on one of workers, balanced within one.
func (l *ledger) waitFor(t *testing.T, cfg ConfigSnapshot, workers ...string) {
	t.Helper()
	want := keys(cfg.work().connectors, cfg.work().tasks)
	deadline := time.Now().Add(45 * time.Second)
	for {
		l.mu.Lock()
		count := map[string]int{}
		missing := 0
		for _, k := range want {
			if o, ok := l.owner[k]; ok && slices.Contains(workers, o) {
				count[o]++
			} else {
				missing++
			}
		}
		state := fmt.Sprintf("owners %v", l.owner)
		violations := slices.Clone(l.violations)
		l.mu.Unlock()
		if len(violations) > 0 {
			t.Fatalf("double runs: %v", violations)
		}
		loads := make([]int, len(workers))
		for i, w := range workers {
			loads[i] = count[w]
		}
		if missing == 0 && slices.Max(loads)-slices.Min(loads) <= 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("work not spread over %v: %d items missing, loads %v; %s", workers, missing, loads, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cutDialer lets a test cut a client off the network.
type cutDialer struct {
	mu    sync.Mutex
	cut   bool
	conns []net.Conn
}

func (d *cutDialer) dial(ctx context.Context, network, host string) (net.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cut {
		return nil, errors.New("network cut by the test")
	}
	c, err := (&net.Dialer{}).DialContext(ctx, network, host)
	if err == nil {
		d.conns = append(d.conns, c)
	}
	return c, err
}

func (d *cutDialer) cutOff() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cut = true
	for _, c := range d.conns {
		c.Close()
	}
}

type testGroup struct {
	t       *testing.T
	brokers []string
	group   string
	ledger  *ledger

	mu     sync.Mutex
	cfg    ConfigSnapshot
	behind map[string]bool // workers that have not read the last config record
}

// config returns worker's view of the config topic.
func (g *testGroup) config(worker string) ConfigSnapshot {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.behind[worker] {
		return ConfigSnapshot{Offset: g.cfg.Offset - 1}
	}
	return g.cfg
}

func (g *testGroup) setBehind(worker string, behind bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.behind[worker] = behind
}

func (g *testGroup) setConfig(cfg ConfigSnapshot) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.cfg = cfg
}

func newTestGroup(t *testing.T, cfg ConfigSnapshot) *testGroup {
	return &testGroup{t: t, brokers: strings.Split(testenv.Kafka(t), ","), ledger: newLedger(), cfg: cfg, behind: map[string]bool{},
		group: fmt.Sprintf("kconnect-cluster-test-%d", time.Now().UnixNano())}
}

// start runs a member named worker until the test ends or the returned stop is called.
func (g *testGroup) start(worker string, p Protocol, maxDelay time.Duration, dialer *cutDialer) (m *Member, stop func()) {
	g.t.Helper()
	return g.startLeased(worker, p, maxDelay, dialer, nil)
}

// startLeased is start with the member renewing lease.
func (g *testGroup) startLeased(worker string, p Protocol, maxDelay time.Duration, dialer *cutDialer, lease *Lease) (m *Member, stop func()) {
	g.t.Helper()
	opts := []kgo.Opt{kgo.SeedBrokers(g.brokers...)}
	if dialer != nil {
		opts = append(opts, kgo.Dialer(dialer.dial))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		g.t.Fatal(err)
	}
	m, err = NewMember(cl, MemberConfig{
		GroupID: g.group, Protocol: p, URL: "http://" + worker + ":8083/",
		SessionTimeout: 6 * time.Second, HeartbeatInterval: 300 * time.Millisecond, RebalanceTimeout: 20 * time.Second,
		RetryBackoff: 50 * time.Millisecond, RetryBackoffMax: time.Second,
		MaxDelay: maxDelay, Config: func() ConfigSnapshot { return g.config(worker) }, Listener: listener{l: g.ledger, worker: worker},
		Lease: lease,
	})
	if err != nil {
		g.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				g.t.Errorf("%s: Run: %v", worker, err)
			}
			cl.Close()
		})
	}
	g.t.Cleanup(stop)
	return m, stop
}

// watchLease samples lease until the test ends and returns how often it was found not valid
// after it first was.
func watchLease(t *testing.T, lease *Lease) func() int {
	var lapses atomic.Int64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		seen := false
		for {
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
			if lease.Valid() {
				seen = true
			} else if seen {
				lapses.Add(1)
			}
		}
	}()
	var once sync.Once
	stop := func() { once.Do(func() { close(done); <-stopped }) }
	t.Cleanup(stop)
	return func() int { stop(); return int(lapses.Load()) }
}

func TestMembersShareWorkAndHandOver(t *testing.T) {
	cfg := ConfigSnapshot{Offset: 5, Tasks: map[string]int{"a": 3, "b": 3, "c": 2}}
	g := newTestGroup(t, cfg)
	const delay = time.Second
	// w1's lease stays valid through every cooperative rebalance below: its producers never stall.
	lease1 := NewLease()
	g.startLeased("w1", Sessioned, delay, nil, lease1)
	g.ledger.waitFor(t, cfg, "w1")
	lapses := watchLease(t, lease1)

	_, stop2 := g.start("w2", Sessioned, delay, nil)
	w3, _ := g.start("w3", Sessioned, delay, nil)
	g.ledger.waitFor(t, cfg, "w1", "w2", "w3")

	// A connector added to the config topic: any worker asking for a rebalance gets it placed.
	cfg = ConfigSnapshot{Offset: 6, Tasks: map[string]int{"a": 3, "b": 3, "c": 2, "d": 4}}
	g.setConfig(cfg)
	w3.Rejoin()
	g.ledger.waitFor(t, cfg, "w1", "w2", "w3")

	// w2 stops: it stops its work and leaves; the others take it over after the delay.
	stop2()
	g.ledger.mu.Lock()
	if g.ledger.revoked["w2"] == 0 {
		t.Error("w2 stopped without revoking its work")
	}
	g.ledger.mu.Unlock()
	g.ledger.waitFor(t, cfg, "w1", "w3")
	for w, p := range g.ledger.protocols {
		if p != Sessioned {
			t.Errorf("%s ran protocol %s, want sessioned", w, p)
		}
	}
	if n := lapses(); n > 0 {
		t.Errorf("w1's lease lapsed %d times in rebalances it stayed a member through", n)
	}
}

func TestMixedProtocolsFallBackToEager(t *testing.T) {
	cfg := ConfigSnapshot{Offset: 1, Tasks: map[string]int{"a": 2, "b": 2}}
	g := newTestGroup(t, cfg)
	g.start("w1", Sessioned, time.Second, nil)
	g.ledger.waitFor(t, cfg, "w1")
	g.ledger.waitUntil(t, "w1 runs the sessioned protocol", func(l *ledger) bool { return l.protocols["w1"] == Sessioned })

	// w2 offers only the eager protocol: the group falls back to it while w1 runs everything,
	// and w1 must stop its work before w2 is given any.
	g.start("w2", Eager, time.Second, nil)
	g.ledger.waitUntil(t, "w2 joined", func(l *ledger) bool { return l.protocols["w2"] == Eager })
	g.ledger.waitFor(t, cfg, "w1", "w2")
	g.ledger.mu.Lock()
	defer g.ledger.mu.Unlock()
	for _, w := range []string{"w1", "w2"} {
		if p := g.ledger.protocols[w]; p != Eager {
			t.Errorf("%s: group protocol %s, want eager (the only one w2 offers)", w, p)
		}
	}
}

func TestLeaderBehindConfigTopicBacksOffUntilCaughtUp(t *testing.T) {
	cfg := ConfigSnapshot{Offset: 8, Tasks: map[string]int{"a": 2, "b": 1}}
	g := newTestGroup(t, cfg)
	g.setBehind("w1", true)
	g.start("w1", Sessioned, time.Second, nil) // first in: the leader
	g.ledger.waitUntil(t, "w1 completed a rebalance", func(l *ledger) bool { return l.protocols["w1"] == Sessioned })
	g.start("w2", Sessioned, time.Second, nil)
	g.ledger.waitUntil(t, "w2 got a failed assignment", func(l *ledger) bool { return l.failed["w2"] > 0 })

	// Every round fails while the leader is behind w2, and the members back off between
	// rounds rather than spin.
	g.ledger.mu.Lock()
	g.ledger.failed["w2"] = 0
	g.ledger.mu.Unlock()
	time.Sleep(2 * time.Second)
	g.ledger.mu.Lock()
	failed, running := g.ledger.failed["w2"], len(g.ledger.owner)
	g.ledger.mu.Unlock()
	if failed == 0 || failed > 20 || running != 0 {
		t.Fatalf("in 2s behind a lagging leader w2 saw %d failed rounds (want a few, backing off) and %d items ran", failed, running)
	}
	g.setBehind("w1", false)
	g.ledger.waitFor(t, cfg, "w1", "w2")
}

// waitUntil waits until cond holds for the ledger.
func (l *ledger) waitUntil(t *testing.T, what string, cond func(*ledger) bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		l.mu.Lock()
		ok := cond(l)
		l.mu.Unlock()
		if ok {
			return
		}
	}
	t.Fatalf("timed out waiting until %s", what)
}

func TestCutOffMemberStopsBeforeOthersTakeOver(t *testing.T) {
	cfg := ConfigSnapshot{Offset: 1, Tasks: map[string]int{"a": 2, "b": 2}}
	g := newTestGroup(t, cfg)
	g.start("w1", Sessioned, 0, nil)
	net2 := &cutDialer{}
	lease2 := NewLease()
	if lease2.Valid() {
		t.Error("a lease is valid before its member joined")
	}
	_, stop2 := g.startLeased("w2", Sessioned, 0, net2, lease2)
	g.ledger.waitFor(t, cfg, "w1", "w2")
	if !lease2.Valid() {
		t.Error("w2's lease is not valid while it is a member")
	}
	renewed := lease2.Until()
	g.ledger.waitUntil(t, "a heartbeat renewing w2's lease", func(*ledger) bool { return lease2.Until().After(renewed) })

	// With no rebalance delay, w1 gets w2's work as soon as the coordinator expires w2's
	// session; the ledger fails the test if w2 has not stopped it by then, and w2's lease must
	// have lapsed by then too.
	net2.cutOff()
	g.ledger.waitFor(t, cfg, "w1")
	if lease2.Valid() {
		t.Errorf("w2's lease still valid (until %s from now) after w1 took its work over", time.Until(lease2.Until()))
	}
	stop2()
	if lease2.Valid() {
		t.Error("w2's lease valid after it left the group")
	}
	g.ledger.mu.Lock()
	defer g.ledger.mu.Unlock()
	if g.ledger.revoked["w2"] == 0 {
		t.Error("w2 lost its membership without stopping its work")
	}
}

func TestNewMemberRejectsBadSettings(t *testing.T) {
	good := MemberConfig{GroupID: "g", Protocol: Sessioned, SessionTimeout: 10 * time.Second, HeartbeatInterval: 3 * time.Second,
		RebalanceTimeout: time.Minute, MaxDelay: 5 * time.Minute, RetryBackoff: 100 * time.Millisecond, RetryBackoffMax: time.Second,
		Config: func() ConfigSnapshot { return ConfigSnapshot{} }, Listener: listener{l: newLedger()}}
	if _, err := NewMember(nil, good); err != nil {
		t.Fatalf("valid settings rejected: %v", err)
	}
	cases := map[string]func(*MemberConfig){
		"group.id":                         func(c *MemberConfig) { c.GroupID = "" },
		"connect.protocol":                 func(c *MemberConfig) { c.Protocol = 3 },
		"session.timeout.ms":               func(c *MemberConfig) { c.SessionTimeout = 0 },
		"heartbeat.interval.ms":            func(c *MemberConfig) { c.HeartbeatInterval = c.SessionTimeout },
		"rebalance.timeout.ms":             func(c *MemberConfig) { c.RebalanceTimeout = -time.Second },
		"scheduled.rebalance.max.delay.ms": func(c *MemberConfig) { c.MaxDelay = -1 },
		"retry.backoff.ms":                 func(c *MemberConfig) { c.RetryBackoff = -1 },
		"retry.backoff.max.ms":             func(c *MemberConfig) { c.RetryBackoffMax = 0 },
		"Listener":                         func(c *MemberConfig) { c.Listener = nil },
	}
	for key, breakIt := range cases {
		cfg := good
		breakIt(&cfg)
		if _, err := NewMember(nil, cfg); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("breaking %s: error %v, want one naming it", key, err)
		}
	}
}

// joinDead makes a worker named worker join g's group with raw requests and take part in one
// rebalance, then heartbeat once after wait and fall silent, as a worker killed with kill -9.
func (g *testGroup) joinDead(worker string, wait time.Duration) {
	g.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(g.brokers...))
	if err != nil {
		g.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	join := kmsg.NewPtrJoinGroupRequest()
	join.Group, join.ProtocolType = g.group, ProtocolType
	join.SessionTimeoutMillis, join.RebalanceTimeoutMillis = 6000, 20000
	join.Protocols = JoinProtocols(Sessioned, WorkerState{URL: "http://" + worker + ":8083/", ConfigOffset: g.config(worker).Offset})
	var resp *kmsg.JoinGroupResponse
	for {
		if resp, err = join.RequestWith(ctx, cl); err != nil {
			g.t.Fatalf("%s: join: %v", worker, err)
		}
		if resp.ErrorCode != kerr.MemberIDRequired.Code {
			break
		}
		join.MemberID = resp.MemberID
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		g.t.Fatalf("%s: join: %v", worker, err)
	}
	sync := kmsg.NewPtrSyncGroupRequest()
	sync.Group, sync.Generation, sync.MemberID = g.group, resp.Generation, resp.MemberID
	sync.ProtocolType, sync.Protocol = kmsg.StringPtr(ProtocolType), resp.Protocol
	sresp, err := sync.RequestWith(ctx, cl)
	if err == nil {
		err = kerr.ErrorForCode(sresp.ErrorCode)
	}
	// The leader may have started the next rebalance already (to hand out what it revoked):
	// the dead worker is in the group either way.
	if err != nil && !errors.Is(err, kerr.RebalanceInProgress) {
		g.t.Fatalf("%s: sync: %v", worker, err)
	}
	time.Sleep(wait)
	beat := kmsg.NewPtrHeartbeatRequest()
	beat.Group, beat.Generation, beat.MemberID = g.group, resp.Generation, resp.MemberID
	if _, err := beat.RequestWith(ctx, cl); err != nil {
		g.t.Fatalf("%s: heartbeat: %v", worker, err)
	}
}

// A rebalance that waits for a worker killed just before it (here one that joined and took part
// in one rebalance) lasts until the coordinator expires that worker's session. The member
// waiting in it keeps its work meanwhile, so its lease must stay valid throughout (the
// producers would otherwise stall), and it must still be in the group when the rebalance
// completes: kfake expires a member waiting in a join once its own session timeout passes,
// without answering the join, which a member that heartbeats while it waits never reaches.
func TestJoinWaitingForAKilledWorkerKeepsTheLease(t *testing.T) {
	cfg := ConfigSnapshot{Offset: 3, Tasks: map[string]int{"a": 3, "b": 3}}
	g := newTestGroup(t, cfg)
	lease := NewLease()
	g.startLeased("w1", Sessioned, 0, nil, lease)
	g.ledger.waitFor(t, cfg, "w1")
	lapses := watchLease(t, lease)

	// The dead worker's join makes w1 revoke half its work and rejoin at once: that join waits
	// for the dead worker, whose last heartbeat comes after w1's last contact.
	began := time.Now()
	g.joinDead("dead", 300*time.Millisecond)
	g.ledger.waitUntil(t, "w1 to hand work to the dead worker", func(l *ledger) bool { return l.revoked["w1"] > 0 })
	g.ledger.waitFor(t, cfg, "w1")
	t.Logf("w1 runs everything again %.1fs after the dead worker joined (session timeout 6s)", time.Since(began).Seconds())
	if n := lapses(); n > 0 {
		t.Errorf("w1's lease lapsed (%d samples) while it waited in a rebalance as a member", n)
	}
}
