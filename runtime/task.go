package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/metrics"
)

// StateListener hears about a task's state changes; err carries the failure of a FAILED task.
type StateListener func(id herder.TaskID, state herder.State, err error)

// Task is a running source or sink task as the herder sees it.
type Task struct {
	id       herder.TaskID
	log      *slog.Logger
	listener StateListener
	metrics  *metrics.Task

	cancel context.CancelFunc // stops the task loop
	done   chan struct{}      // closed when the loop returned and everything is released

	mu      sync.Mutex
	paused  bool
	resumed chan struct{} // closed on Resume; replaced on Pause
}

func newTask(id herder.TaskID, log *slog.Logger, listener StateListener) *Task {
	t := &Task{id: id, log: log, listener: listener, done: make(chan struct{}), resumed: make(chan struct{})}
	close(t.resumed)
	return t
}

// ID returns the task's id.
func (t *Task) ID() herder.TaskID { return t.id }

// Pause asks the task to stop moving records until Resume; it keeps its resources. The task
// reports PAUSED once its loop has actually paused: a poll already under way still delivers.
func (t *Task) Pause() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.paused {
		t.paused = true
		t.resumed = make(chan struct{})
	}
}

// Resume continues a paused task.
func (t *Task) Resume() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.paused {
		t.paused = false
		close(t.resumed)
	}
}

// waitResumed is called by the task loop between batches: while the task is paused it reports
// PAUSED and blocks, then reports RUNNING again. It returns false when ctx ends first.
func (t *Task) waitResumed(ctx context.Context) bool {
	t.mu.Lock()
	ch, paused := t.resumed, t.paused
	t.mu.Unlock()
	if !paused {
		return ctx.Err() == nil
	}
	t.report(herder.Paused, nil)
	select {
	case <-ch:
		t.report(herder.Running, nil)
		return true
	case <-ctx.Done():
		return false
	}
}

// Stop asks the task to stop gracefully and waits until it has, or until ctx ends.
func (t *Task) Stop(ctx context.Context) error {
	t.cancel()
	select {
	case <-t.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("task %s-%d did not stop in time: %w", t.id.Connector, t.id.Task, ctx.Err())
	}
}

// Done is closed once the task has fully stopped.
func (t *Task) Done() <-chan struct{} { return t.done }

func (t *Task) report(state herder.State, err error) {
	if t.listener != nil {
		t.listener(t.id, state, err)
	}
}

// run executes loop on its own goroutine, turning a panic in plugin code into a FAILED state with
// the stack as trace, so one broken task never takes the worker down.
func (t *Task) run(loop func() error, cleanup func()) {
	go func() {
		defer close(t.done)
		defer cleanup()
		err := func() (err error) {
			defer connect.Recover(&err)
			return loop()
		}()
		if err != nil {
			t.log.Error("task failed", "err", err)
			t.report(herder.Failed, err)
			return
		}
		t.report(herder.Unassigned, nil)
	}()
}

// taskContext implements connect.TaskContext.
type taskContext struct {
	id      herder.TaskID
	log     *slog.Logger
	metrics *metrics.Task
}

func (c taskContext) Logger() *slog.Logger  { return c.log }
func (c taskContext) TaskID() int           { return c.id.Task }
func (c taskContext) ConnectorName() string { return c.id.Connector }
