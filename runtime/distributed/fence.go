package distributed

import (
	"context"
	"fmt"
	"time"

	"github.com/kconnect/kconnect/runtime/configstore"
	"github.com/kconnect/kconnect/runtime/herder"
)

// Zombie fencing (KIP-618). Each commit of a source connector's task configs leaves the
// connector pending fencing until a tasks-fencing-<name> record follows it. The worker running
// the connector asks the leader (itself, or through PUT /connectors/{name}/fence) to fence the
// transactional producers of the earlier tasks and write that record; with exactly-once enabled
// no worker starts the new tasks before it, so a task of an old generation that still runs
// somewhere can no longer commit once a new one writes.

// fencing reports whether this worker takes part in fencing (preparing or enabled).
func (h *Herder) fencing() bool { return h.cfg.ExactlyOnce != EOSDisabled }

// awaitsFencing reports whether a task of the connector must not start yet: the worker runs
// source tasks in transactions and the connector's latest task configs have not been fenced.
func (h *Herder) awaitsFencing(snap configstore.Snapshot, typ herder.ConnectorType, name string) bool {
	return h.cfg.ExactlyOnce == EOSEnabled && typ == herder.Source && snap.PendingFencing[name]
}

// requestFencing has the leader fence a source connector this worker holds whose latest task
// configs are pending fencing, in the background: FenceProducers takes a round trip per task.
// Callers run on the loop, which ctx ends.
func (h *Herder) requestFencing(ctx context.Context, name string) {
	h.mu.Lock()
	if h.fenceRequests[name] {
		h.mu.Unlock()
		return
	}
	h.fenceRequests[name] = true
	leading, leaderURL := h.leader != nil, h.leaderURL
	h.mu.Unlock()
	h.stopped.Add(1)
	go func() {
		defer h.stopped.Done()
		var err error
		if leading {
			err = h.fence(ctx, name)
		} else {
			err = h.forwardFence(ctx, leaderURL, name)
		}
		if err == nil {
			rctx, cancel := context.WithTimeout(ctx, storeTimeout)
			err = h.configs.Refresh(rctx)
			cancel()
		}
		h.mu.Lock()
		delete(h.fenceRequests, name)
		h.mu.Unlock()
		if err != nil {
			if ctx.Err() == nil {
				h.log.Warn("could not fence the connector's earlier tasks; retrying", "connector", name, "err", err)
				h.wakeAfter(retryPause)
			}
			return
		}
		h.poke()
	}()
}

// fence fences, on the leader, the producers of a connector's earlier tasks when its latest
// task configs are pending fencing, then writes its tasks-fencing record with their task count.
// It fences as many producers as the last record or the new configs name, whichever is more:
// the new tasks have not started yet, and the ids of the old ones are among them.
func (h *Herder) fence(ctx context.Context, name string) error {
	h.fenceMu.Lock()
	defer h.fenceMu.Unlock()
	rctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	if err := h.configs.Refresh(rctx); err != nil {
		return fmt.Errorf("read config topic: %w", err)
	}
	snap := h.configs.Snapshot()
	count, committed := snap.TaskCounts[name]
	if !snap.PendingFencing[name] || !committed {
		return nil
	}
	n := max(count, snap.TaskCountRecords[name])
	if err := h.w.FenceProducers(ctx, name, n); err != nil {
		return err
	}
	if err := h.configs.PutTaskCountRecord(ctx, name, count); err != nil {
		return fmt.Errorf("write task count record of %s: %w", name, err)
	}
	h.log.Info("fenced the producers of the connector's earlier tasks", "connector", name, "fenced", n, "task_count", count,
		"generation", snap.TaskConfigGenerations[name])
	return nil
}

// fencePoll is how often a worker holding tasks that await fencing looks for the task count
// record: reading it raises no config update.
const fencePoll = 500 * time.Millisecond

// oldGeneration reports whether an exactly-once source task runs task configs of an earlier
// generation than the connector's latest: as upstream, every task of the connector restarts
// then, so that none runs on with a producer the leader is about to fence.
func (h *Herder) oldGeneration(snap configstore.Snapshot, id herder.TaskID, tr *taskRun) bool {
	return h.cfg.ExactlyOnce == EOSEnabled && h.core.Type(tr.connConfig) == herder.Source &&
		tr.generation != snap.TaskConfigGenerations[id.Connector]
}
