package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/runtime/herder"
)

// StateListener hears about a task's state changes; err carries the failure of a FAILED task.
type StateListener func(id herder.TaskID, state herder.State, err error)

// ErrTaskAbandoned is wrapped by the error of a stop whose task was cancelled after its graceful
// timeout but has not finished yet, because plugin code does not heed its context. Its work is
// cancelled (Poll's and Put's contexts; a source's producer is closed, a sink's consumer closes
// when the plugin returns) and no offset of records Kafka did not acknowledge, or of a cancelled
// Put, is committed; the worker keeps the instance registered, so the task cannot start again on
// this worker until the plugin code returns.
var ErrTaskAbandoned = errors.New("task cancelled but not finished")

// Task is one running instance of a source or sink task as the herder sees it.
type Task struct {
	id       herder.TaskID
	w        *Worker
	log      *slog.Logger
	listener StateListener

	cancel context.CancelFunc // the stop signal: ends the task loop
	// work is the context of the task's work (Put, produce waits, lifecycle plugin calls); it is
	// cancelled only when a stop outlasts the graceful timeout.
	work        context.Context
	cancelWork  context.CancelFunc
	abandonWork func() // what else the runner gives up on cancellation (its producer); may be nil
	abandoned   atomic.Bool
	stopping    atomic.Bool // Stop was called, or the loop ended on its own
	calls       sync.WaitGroup
	done        chan struct{} // closed when the instance finished and the worker released it

	mu      sync.Mutex
	paused  bool
	resumed chan struct{} // closed on Resume; replaced on Pause
}

func newTask(w *Worker, id herder.TaskID, log *slog.Logger, listener StateListener) *Task {
	t := &Task{id: id, w: w, log: log, listener: listener, done: make(chan struct{}), resumed: make(chan struct{})}
	t.work, t.cancelWork = context.WithCancel(context.Background())
	close(t.resumed)
	return t
}

// StartTask starts a task of the connector described by connProps with its task configuration
// taskProps: a source or a sink task, as the connector is. A previous instance of the task that
// is still stopping on this worker is waited for until ctx ends; if it has not finished by then,
// or if it runs and was not asked to stop, StartTask fails rather than run the task twice.
// Failures after this returns are reported to listener; a panic of plugin code (the task's
// constructor, converters, transforms) while starting is returned as an error.
func (w *Worker) StartTask(ctx context.Context, id herder.TaskID, connProps, taskProps map[string]string, listener StateListener) (*Task, error) {
	return w.startTask(ctx, herder.Unknown, id, connProps, taskProps, listener)
}

// StartSourceTask starts a source task as StartTask does, waiting for a previous instance at most
// task.shutdown.graceful.timeout.ms.
func (w *Worker) StartSourceTask(id herder.TaskID, connProps, taskProps map[string]string, listener StateListener) (*Task, error) {
	ctx, cancel := w.startContext()
	defer cancel()
	return w.startTask(ctx, herder.Source, id, connProps, taskProps, listener)
}

// StartSinkTask starts a sink task as StartTask does, waiting for a previous instance at most
// task.shutdown.graceful.timeout.ms.
func (w *Worker) StartSinkTask(id herder.TaskID, connProps, taskProps map[string]string, listener StateListener) (*Task, error) {
	ctx, cancel := w.startContext()
	defer cancel()
	return w.startTask(ctx, herder.Sink, id, connProps, taskProps, listener)
}

// startTask starts a task whose connector must be of type want, or of either type for Unknown.
func (w *Worker) startTask(ctx context.Context, want herder.ConnectorType, id herder.TaskID, connProps, taskProps map[string]string, listener StateListener) (_ *Task, err error) {
	defer connect.Recover(&err)
	conn, typ, err := w.newConnector(connProps)
	if err != nil {
		return nil, err
	}
	if want != herder.Unknown && typ != want {
		return nil, fmt.Errorf("connector %s is not a %s connector", connProps[ConnectorClass], want)
	}
	sink, isSink := conn.(connect.SinkConnector)
	source, isSource := conn.(connect.SourceConnector)
	if typ == herder.Sink && !isSink || typ == herder.Source && !isSource {
		return nil, fmt.Errorf("connector %s does not implement a %s connector", connProps[ConnectorClass], typ)
	}
	t := newTask(w, id, w.taskLogger(id), listener)
	if err := w.claim(ctx, t); err != nil {
		return nil, err
	}
	if typ == herder.Sink {
		err = w.startSink(t, sink, connProps, taskProps)
	} else {
		err = w.startSource(t, source, connProps, taskProps)
	}
	if err != nil {
		w.release(t)
		return nil, err
	}
	return t, nil
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

// Stop stops the task. It asks the task to stop gracefully: Poll's context ends, in-flight
// records are drained and their offsets committed, and waits up to task.shutdown.graceful.timeout.ms
// (less if ctx ends sooner). A task still running then has its work cancelled, with a WARN: Put's
// context, produce calls waiting for buffer space and the records buffered for Kafka, whose
// offsets are not committed; Stop then waits for it to finish, at most offset.flush.timeout.ms
// more (its final commit of what Kafka acknowledged) and no longer than ctx.
//
// Stop returns nil once the instance finished and the worker released it. Otherwise its error
// wraps ErrTaskAbandoned, or ctx's error when ctx ended before the graceful timeout did.
func (t *Task) Stop(ctx context.Context) error {
	t.stopping.Store(true)
	t.cancel()
	grace := t.w.ShutdownTimeout()
	timer := time.NewTimer(grace)
	defer timer.Stop()
	gaveUp := false // the caller's ctx ended before the graceful timeout
	select {
	case <-t.done:
		return nil
	case <-timer.C:
	case <-ctx.Done():
		gaveUp = true
	}
	t.abandon(grace)
	timer.Reset(t.w.flushTimeout())
	select {
	case <-t.done:
		return nil
	case <-timer.C:
	case <-ctx.Done():
	}
	if gaveUp {
		return fmt.Errorf("task %s-%d did not stop before its caller gave up; %w: %w", t.id.Connector, t.id.Task, ErrTaskAbandoned, ctx.Err())
	}
	return fmt.Errorf("task %s-%d did not stop within %s=%d ms; %w", t.id.Connector, t.id.Task,
		TaskShutdownTimeout, grace.Milliseconds(), ErrTaskAbandoned)
}

// abandon cancels the task's work once a stop outlasted its grace period.
func (t *Task) abandon(grace time.Duration) {
	if t.abandoned.Swap(true) {
		return
	}
	t.log.Warn("task did not stop within "+TaskShutdownTimeout+"; cancelling its work, whose offsets stay uncommitted",
		TaskShutdownTimeout, grace.Milliseconds())
	t.cancelWork()
	if t.abandonWork != nil {
		t.abandonWork()
	}
}

// Done is closed once the task has fully stopped and may be started again.
func (t *Task) Done() <-chan struct{} { return t.done }

func (t *Task) report(state herder.State, err error) {
	if t.listener != nil {
		t.listener(t.id, state, err)
	}
}

// run executes loop on its own goroutine, turning a panic in plugin code into a FAILED state with
// the stack as trace, so one broken task never takes the worker down. The instance is released
// once cleanup ran and every plugin call it gave up on has returned.
func (t *Task) run(loop func() error, cleanup func()) {
	go func() {
		defer close(t.done)
		defer t.w.release(t)
		defer t.calls.Wait()
		defer t.cancelWork()
		defer cleanup()
		err := func() (err error) {
			defer connect.Recover(&err)
			return loop()
		}()
		t.stopping.Store(true)
		switch {
		case t.abandoned.Load():
			// What failed is the work the stop cancelled: the task was stopped, not broken.
			t.log.Warn("task cancelled after its stop timed out has finished", "err", err)
			t.report(herder.Unassigned, nil)
		case err != nil:
			t.log.Error("task failed", "err", err)
			t.report(herder.Failed, err)
		default:
			t.report(herder.Unassigned, nil)
		}
	}()
}

// lifecycle runs the task's Start or Stop, named by what, on its own goroutine and waits until it
// returns or the task's work is cancelled; a call given up on is waited for before the instance
// is released.
func (t *Task) lifecycle(what string, f func() error) error {
	_, err := boundedCall(t.work, &t.calls, what, f)
	return err
}

// taskContext implements connect.TaskContext.
type taskContext struct {
	id  herder.TaskID
	log *slog.Logger
}

func (c taskContext) Logger() *slog.Logger  { return c.log }
func (c taskContext) TaskID() int           { return c.id.Task }
func (c taskContext) ConnectorName() string { return c.id.Connector }
