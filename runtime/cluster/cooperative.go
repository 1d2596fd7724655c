package cluster

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/kconnect/kconnect/runtime/herder"
)

// plan is a cooperative round's decision per worker.
type plan struct {
	assigned map[string]work // newly assigned: what each worker starts
	revoked  map[string]work // what each worker stops
	next     []*load         // what each worker runs once both are applied
}

// assignCooperative is upstream's IncrementalCooperativeAssignor.performTaskAssignment for
// members (IDs in order) whose allocations are in r.
func (a *Assignor) assignCooperative(header Assignment, r Round, members []string) Result {
	loads := make([]*load, 0, len(members))
	for _, id := range members {
		l := &load{worker: id}
		for _, m := range r.Members {
			if m.ID == id && m.State.Allocation != nil {
				// A member lists each item once; appendKept also drops repeats.
				l.connectors = appendKept(nil, m.State.Allocation.Connectors, nil)
				l.tasks = appendKept(nil, m.State.Allocation.Tasks, nil)
			}
		}
		loads = append(loads, l)
	}
	p := a.plan(r.Config.work(), r.LastCompletedGeneration, r.Generation, loads)

	res := Result{Assignments: map[string]Assignment{}, ConnectorOwners: map[string]string{}, TaskOwners: map[herder.TaskID]string{}}
	for _, id := range members {
		as := header
		as.Connectors, as.Tasks = p.assigned[id].connectors, p.assigned[id].tasks
		as.RevokedConnectors, as.RevokedTasks = p.revoked[id].connectors, p.revoked[id].tasks
		as.Delay = a.delay
		res.Assignments[id] = as
	}
	for _, l := range p.next {
		for _, c := range l.connectors {
			res.ConnectorOwners[c] = l.worker
		}
		for _, t := range l.tasks {
			res.TaskOwners[t] = l.worker
		}
	}
	return res
}

// plan decides one cooperative round from the configured work and the members' current loads
// (in member ID order), and updates the assignor's memory of it.
func (a *Assignor) plan(configured work, lastCompleted, generation int32, members []*load) plan {
	now := a.now()
	if a.previousGeneration != lastCompleted {
		// The leader missed a round: what it remembers may not be what members were given.
		a.previous = work{}
	}
	active := union(members)
	if !a.previousRevocation.empty() {
		// Some revocation of the last round did not take effect: start over from what runs.
		if a.previousRevocation.overlaps(active) {
			a.previous = active
		}
		a.previousRevocation = work{}
	}

	deleted := a.previous.minus(configured)
	duplicated := duplicates(members)
	lost := a.previous.minus(active, deleted)
	created := configured.minus(a.previous, active)

	current := map[string]work{}
	revoke := map[string]*work{}
	next := make([]*load, len(members))
	for i, m := range members {
		current[m.worker] = work{connectors: without(m.connectors, deleted.connectors), tasks: without(m.tasks, deleted.tasks)}
		gone := m.intersect(deleted)
		gone.add(m.intersect(duplicated))
		revoke[m.worker] = &gone
		next[i] = &load{worker: m.worker, work: m.clone()}
		next[i].remove(gone)
	}

	var toAssign work
	toAssign.add(created)
	toAssign.add(a.reassignLost(now, lost, next))

	if a.delay == 0 {
		balance := balancingRevocations(configured, next)
		switch {
		case a.revokedInPrevious && len(balance) > 0:
			// Revoking round after round: wait, longer each time, unless delays are off.
			a.successiveRevocations++
			a.delay = revocationBackoff(a.maxDelay, a.successiveRevocations)
			if a.delay != 0 {
				a.scheduled = now.Add(a.delay)
			} else {
				applyRevocations(revoke, next, balance)
			}
		case len(balance) > 0:
			applyRevocations(revoke, next, balance)
			a.revokedInPrevious = true
		case a.revokedInPrevious:
			// Balanced again: the next revocation starts a fresh back-off.
			a.revokedInPrevious = false
			a.successiveRevocations = 0
		}
	} else {
		a.revokedInPrevious = false
	}

	assignRoundRobin(next, toAssign.connectors, func(l *load) *[]string { return &l.connectors })
	assignRoundRobin(next, toAssign.tasks, func(l *load) *[]herder.TaskID { return &l.tasks })

	p := plan{assigned: map[string]work{}, revoked: map[string]work{}, next: next}
	a.previous = work{}
	for _, l := range next {
		p.assigned[l.worker] = work{connectors: without(l.connectors, current[l.worker].connectors), tasks: without(l.tasks, current[l.worker].tasks)}
		p.revoked[l.worker] = *revoke[l.worker]
		a.previous.add(l.work)
	}
	for _, r := range revoke {
		a.previous.remove(*r)
		a.previousRevocation.add(*r)
	}
	// Lost work still waiting for its worker stays in the picture until it is reassigned.
	a.previous.add(lost)
	a.previousGeneration = generation
	a.previousMembers = workerIDs(members)
	return p
}

// workerIDs lists the workers of loads in order.
func workerIDs(loads []*load) []string {
	ids := make([]string, len(loads))
	for i, l := range loads {
		ids[i] = l.worker
	}
	return ids
}

// duplicates is what more than one member runs.
func duplicates(members []*load) work {
	connectors, tasks := map[string]int{}, map[herder.TaskID]int{}
	for _, m := range members {
		for _, c := range m.connectors {
			connectors[c]++
		}
		for _, t := range m.tasks {
			tasks[t]++
		}
	}
	var d work
	for c, n := range connectors {
		if n > 1 {
			d.connectors = append(d.connectors, c)
		}
	}
	for t, n := range tasks {
		if n > 1 {
			d.tasks = append(d.tasks, t)
		}
	}
	return d
}

// applyRevocations adds revocations to revoke and takes them out of next.
func applyRevocations(revoke map[string]*work, next []*load, revocations map[string]work) {
	for _, l := range next {
		if r, ok := revocations[l.worker]; ok {
			revoke[l.worker].add(r)
			l.remove(r)
		}
	}
}

// reassignLost decides what happens to work whose worker did not come back (lost), as
// upstream's handleLostAssignments: returns what is to be assigned as if new, may give lost
// work directly to idle workers in next, and runs the scheduled.rebalance.max.delay.ms clock.
func (a *Assignor) reassignLost(now time.Time, lost work, next []*load) work {
	if lost.empty() && !a.revokedInPrevious {
		a.resetDelay()
		return work{}
	}
	present := setOf(workerIDs(next))
	allPresent := true
	for _, m := range a.previousMembers {
		allPresent = allPresent && present[m]
	}
	switch {
	case a.scheduled.IsZero() && allPresent:
		// Nobody left: the work was lost because some member missed the last assignment.
		return lost
	case a.maxDelay == 0:
		return lost
	case !a.scheduled.IsZero() && !now.Before(a.scheduled):
		// The delay is over: hand the work to the workers that were idle meanwhile, or
		// spread it like new work if none of them is still here.
		var idle []*load
		for _, c := range a.candidates {
			if i := slices.IndexFunc(next, func(l *load) bool { return l.worker == c }); i >= 0 {
				idle = append(idle, next[i])
			}
		}
		var toAssign work
		if len(idle) > 0 {
			for i, c := range lost.connectors {
				idle[i%len(idle)].connectors = append(idle[i%len(idle)].connectors, c)
			}
			for i, t := range lost.tasks {
				idle[i%len(idle)].tasks = append(idle[i%len(idle)].tasks, t)
			}
		} else {
			toAssign = lost
		}
		a.resetDelay()
		a.revokedInPrevious = false
		return toAssign
	}
	// Wait for the departed worker: remember who is idle now, and tell everyone when to
	// rejoin.
	for _, l := range next {
		if l.empty() && !slices.Contains(a.candidates, l.worker) {
			a.candidates = append(a.candidates, l.worker)
		}
	}
	if now.Before(a.scheduled) {
		a.delay = min(a.scheduled.Sub(now), a.maxDelay)
	} else {
		a.delay = a.maxDelay
	}
	a.scheduled = now.Add(a.delay)
	return work{}
}

func (a *Assignor) resetDelay() {
	a.candidates = nil
	a.scheduled = time.Time{}
	a.delay = 0
}

// revocationBackoff is the wait before the n-th successive load-balancing revocation:
// 40^n ms capped at maxDelay, computed as upstream's ExponentialBackoff(1, 40, maxDelay, 0).
func revocationBackoff(maxDelay time.Duration, n int) time.Duration {
	maxMs := maxDelay.Milliseconds()
	initial := min(maxMs, 1)
	if maxMs <= initial {
		return time.Duration(initial) * time.Millisecond
	}
	expMax := math.Log(float64(maxMs)/float64(max(initial, 1))) / math.Log(40)
	ms := int64(float64(initial) * math.Pow(40, math.Min(float64(n), expMax)))
	return time.Duration(min(ms, maxMs)) * time.Millisecond
}

// balancingRevocations is what to take from overloaded workers so that nobody runs more than
// a perfectly balanced share, connectors and tasks counted separately (upstream's
// performLoadBalancingRevocations). Workers are visited in order; the first overloaded ones
// may keep one extra where the total does not divide evenly.
func balancingRevocations(configured work, workers []*load) map[string]work {
	out := map[string]work{}
	if configured.empty() || !slices.ContainsFunc(workers, func(l *load) bool { return !l.empty() }) {
		return out
	}
	for worker, cs := range revokeExcess(len(configured.connectors), workers, func(l *load) []string { return l.connectors }) {
		w := out[worker]
		w.connectors = cs
		out[worker] = w
	}
	for worker, ts := range revokeExcess(len(configured.tasks), workers, func(l *load) []herder.TaskID { return l.tasks }) {
		w := out[worker]
		w.tasks = ts
		out[worker] = w
	}
	return out
}

// revokeExcess balances one kind of work (connectors or tasks) of total items over workers.
func revokeExcess[T any](total int, workers []*load, items func(*load) []T) map[string][]T {
	floor, extra := total/len(workers), total%len(workers)
	atFloor, atExtra := 0, 0
	for _, w := range workers {
		switch len(items(w)) {
		case floor:
			atFloor++
		case floor + 1:
			atExtra++
		}
	}
	if atExtra == extra && atFloor+atExtra == len(workers) {
		return nil
	}
	out := map[string][]T{}
	extras := 0
	for _, w := range workers {
		have := len(items(w))
		if have <= floor {
			continue
		}
		keep := floor
		if extras < extra {
			extras++
			if have == floor+1 {
				continue
			}
			keep = floor + 1
		}
		out[w.worker] = slices.Clone(items(w)[:have-keep])
	}
	return out
}

// assignRoundRobin gives items to the least loaded workers (by the count field returns, ties
// by worker ID), one each among the equally least loaded, then widening to the next level, as
// upstream's assignConnectors and assignTasks.
func assignRoundRobin[T any](workers []*load, items []T, field func(*load) *[]T) {
	slices.SortStableFunc(workers, func(x, y *load) int {
		return cmp.Or(cmp.Compare(len(*field(x)), len(*field(y))), cmp.Compare(x.worker, y.worker))
	})
	first := workers[0]
	for i := 0; i < len(items); {
		level := len(*field(first))
		upTo := slices.IndexFunc(workers, func(l *load) bool { return len(*field(l)) > level })
		if upTo < 0 {
			upTo = len(workers)
		}
		for _, w := range workers[:upTo] {
			*field(w) = append(*field(w), items[i])
			i++
			if i == len(items) {
				break
			}
		}
	}
}
