package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/offsets"
)

// sourceTxn is the exactly-once state of a source task (KIP-618): its producer is transactional,
// and each transaction holds a run of the task's records followed by the offsets they advance,
// written to the offsets topic, so both become visible to read_committed readers together or not
// at all. The task hears of offsets (Commit, CommitRecord) only once their transaction committed.
type sourceTxn struct {
	boundary string
	interval time.Duration
	store    *offsets.TopicStore // where the transaction writes the offsets
	open     bool
	begun    time.Time

	commitRequested atomic.Bool // by the task, through its TransactionContext
	abortRequested  atomic.Bool

	mu      sync.Mutex
	pending []pendingCommitRecord // acknowledged in the open transaction, for CommitRecord
	// firsts holds, for each partition the open transaction wrote to and checked does not hold
	// yet, where its first record there went; checked holds the partitions checked for records
	// the broker left pending (source_pending.go).
	firsts  map[pendingPartition]int64
	checked map[pendingPartition]bool
}

// pendingCommitRecord is a record acknowledged within the open transaction.
type pendingCommitRecord struct {
	rec  *connect.SourceRecord
	meta connect.RecordMetadata
}

// txnContext implements connect.TransactionContext.
type txnContext struct{ txn *sourceTxn }

func (c txnContext) CommitTransaction() { c.txn.commitRequested.Store(true) }
func (c txnContext) AbortTransaction()  { c.txn.abortRequested.Store(true) }

// TransactionContext implements connect.TransactionalTaskContext.
func (c sourceTaskContext) TransactionContext() connect.TransactionContext {
	if c.txn == nil || c.txn.boundary != boundaryConnector {
		return nil
	}
	return txnContext{c.txn}
}

// deferCommitRecord keeps an acknowledged record for CommitRecord after its transaction commits.
func (x *sourceTxn) deferCommitRecord(rec *connect.SourceRecord, meta connect.RecordMetadata) {
	x.mu.Lock()
	x.pending = append(x.pending, pendingCommitRecord{rec, meta})
	x.mu.Unlock()
}

func (x *sourceTxn) takePending() []pendingCommitRecord {
	x.mu.Lock()
	defer x.mu.Unlock()
	p := x.pending
	x.pending = nil
	return p
}

// begin opens a transaction before the first record of a batch is produced.
func (r *sourceRunner) beginTxn() error {
	x := r.txn
	if x.open {
		return nil
	}
	if err := r.client.BeginTransaction(); err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	x.open, x.begun = true, time.Now()
	return nil
}

// txnBoundary ends the open transaction where the connector's transaction.boundary says, after a
// poll's records were dispatched.
func (r *sourceRunner) txnBoundary() error {
	x := r.txn
	switch x.boundary {
	case boundaryPoll:
		return r.commitTxn()
	case boundaryInterval:
		if x.open && time.Since(x.begun) >= x.interval {
			return r.commitTxn()
		}
	case boundaryConnector:
		if x.abortRequested.Swap(false) {
			x.commitRequested.Store(false)
			return r.abortTxn()
		}
		if x.commitRequested.Swap(false) {
			return r.commitTxn()
		}
	}
	return nil
}

// commitTxn writes the offsets of the open transaction's records into it, waits for the records
// and those offsets together, and commits it; then, and only then, tells the task. The offsets go
// out before their records are acknowledged, which saves a round trip per transaction and is safe
// because both commit or abort as one: a record that fails fails the task, and its transaction
// is never committed. Any failure fails the task: a fenced producer (another instance of the task
// took over its transactional id) must not write again.
func (r *sourceRunner) commitTxn() error {
	x := r.txn
	if !x.open {
		return nil
	}
	// Not bounded by offset.flush.timeout.ms: a transaction waits for its records as long as the
	// producer retries them (errors.retry.timeout), and a stop that outlasts its graceful timeout
	// cancels produceCtx, which aborts the wait.
	ctx := r.produceCtx
	start := time.Now()
	offs := r.submitted.submittedOffsets()
	if len(offs) > 0 {
		recs, err := x.store.Records(r.t.id.Connector, offs)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			r.client.Produce(ctx, rec, func(rec *kgo.Record, err error) {
				if err != nil {
					err = txnError("write offsets to "+x.store.Topic(), err)
					r.failure.CompareAndSwap(nil, &err)
					return
				}
				x.noteAck(rec.Topic, rec.Partition, rec.Offset)
			})
		}
	}
	// Flush calls every record's callback before it returns, so r.failure is then final.
	if err := r.client.Flush(ctx); err != nil {
		return txnError("wait for the transaction's records and offsets", err)
	}
	if f := r.failure.Load(); f != nil {
		return *f
	}
	if err := r.checkPending(ctx); err != nil {
		// Aborting is safe whatever the check found: nothing of the transaction is committed,
		// and the task sends it again from the committed offsets (txnLoop).
		x.open = false
		if aerr := r.client.EndTransaction(ctx, kgo.TryAbort); aerr != nil {
			// %v, not %w: a task must not start afresh while its transaction may still be open.
			return fmt.Errorf("%v; aborting the transaction failed too: %w", err, txnError("abort transaction", aerr))
		}
		return fmt.Errorf("%w; the transaction was aborted, and with it those records in the partitions it wrote to: they are sent again from the committed offsets", err)
	}
	// Every record is acknowledged now: this only moves the tracking past them.
	r.submitted.committable()
	x.open = false
	err := r.client.EndTransaction(ctx, kgo.TryCommit)
	r.t.metrics.Committed(start, err)
	if err != nil {
		return txnError("commit transaction", err)
	}
	r.submitted.stored()
	// As upstream, the worker's topic gets a copy, so that the connector resumes from it if it
	// leaves its own topic.
	r.offsets.CopyToWorker(ctx, r.t.id.Connector, offs)
	r.afterTxnCommit(ctx, offs)
	return nil
}

// afterTxnCommit tells the task about what its committed transaction made durable.
func (r *sourceRunner) afterTxnCommit(ctx context.Context, offs []connect.SourceOffset) {
	pending := r.txn.takePending()
	if r.t.abandoned.Load() {
		return
	}
	for _, p := range pending {
		if !r.commitRecord(p.rec, p.meta) {
			return
		}
	}
	if len(offs) > 0 {
		r.taskCommit(ctx, offs)
	}
}

// abortTxn aborts the open transaction at the task's request: its records stay in the topic
// marked aborted, and their offsets are forgotten, never committed.
func (r *sourceRunner) abortTxn() error {
	x := r.txn
	if !x.open {
		return nil
	}
	ctx := r.produceCtx
	if err := r.client.Flush(ctx); err != nil {
		return txnError("wait for the aborted transaction's records", err)
	}
	x.open = false
	if err := r.client.EndTransaction(ctx, kgo.TryAbort); err != nil {
		return txnError("abort transaction", err)
	}
	r.submitted = newSubmitted()
	x.takePending()
	x.forgetFirsts()
	r.t.log.Info("transaction aborted at the task's request")
	return nil
}

// closeTxn ends the task's transactional work as its loop ends: the open transaction is committed
// when the task stopped cleanly and is otherwise aborted, best effort (the next instance's
// producer aborts it anyway when it takes over the transactional id, and the broker after
// transaction.timeout.ms).
func (r *sourceRunner) closeTxn(loopErr error) error {
	if loopErr == nil && r.failure.Load() == nil && !r.t.abandoned.Load() {
		return r.commitTxn()
	}
	if !r.txn.open {
		return nil
	}
	r.txn.open = false
	ctx, cancel := context.WithTimeout(context.Background(), r.w.flushTimeout())
	defer cancel()
	if err := r.client.AbortBufferedRecords(ctx); err == nil {
		if err := r.client.EndTransaction(ctx, kgo.TryAbort); err != nil {
			r.t.log.Warn("abort transaction of the failed task", "err", err)
		}
	}
	return nil
}

// txnError wraps a transactional failure, saying so when the producer was fenced.
func txnError(what string, err error) error {
	if isFenced(err) {
		return fmt.Errorf("%s: producer fenced: another instance of this task took over its transactional id; nothing of this transaction is committed: %w", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// isFenced reports whether err says a newer producer took over the transactional id.
func isFenced(err error) bool {
	return errors.Is(err, kerr.ProducerFenced) || errors.Is(err, kerr.InvalidProducerEpoch)
}

// txnProducerOpts makes a task's producer transactional with its transactional id.
func txnProducerOpts(opts []kgo.Opt, id string) []kgo.Opt {
	return append(opts, kgo.TransactionalID(id))
}

// logTxn describes the task's exactly-once settings once at start.
func logTxn(log *slog.Logger, id string, x *sourceTxn) {
	log.Info("exactly-once delivery on", "transactional_id", id, TransactionBoundary, x.boundary, "offsets_topic", x.store.Topic())
}

// maxFreshStarts bounds how many times an exactly-once task instance starts afresh in place after
// finding records the broker left pending. Each abort ends those records in every partition its
// transaction wrote to, which includes where it sent them again, so one fresh start is expected;
// more than a few mean something else is wrong, and the task fails for an operator to look.
const maxFreshStarts = 3

// txnLoop runs an exactly-once task. Before the task reads its offsets, its producer takes over
// the transactional id, which fences any older instance: a zombie can no longer commit what this
// one will redo. When a transaction found records of an earlier one the broker left pending, it
// was aborted (source_pending.go), and the task starts afresh in place from the committed
// offsets, as its next instance would: a new task instance, its offsets read again.
func (r *sourceRunner) txnLoop(ctx context.Context, tctx sourceTaskContext) error {
	for fresh := 0; ; fresh++ {
		pid, _, err := r.client.ProducerID(r.produceCtx)
		if err != nil {
			return txnError("initialize transactional producer", err)
		}
		if err := r.awaitOffsets(r.produceCtx, pid); err != nil {
			return err
		}
		if err := r.startTask(tctx); err != nil {
			return err
		}
		if fresh == 0 {
			r.t.report(herder.Running, nil)
		}
		err = r.txnLoopEnd(r.pollLoop(ctx))
		if !errors.Is(err, errLeftPending) || fresh == maxFreshStarts || ctx.Err() != nil {
			return err
		}
		r.t.log.Warn("starting the task afresh from its committed offsets", "err", err)
		r.task = r.newTask()
		r.committer, _ = r.task.(connect.RecordCommitter)
		r.submitted = newSubmitted()
		r.txn.takePending() // the aborted transaction's, never to be committed
	}
}

// txnLoopEnd finishes an exactly-once task whose poll loop returned err: the task is stopped,
// then its open transaction committed or aborted (see closeTxn).
func (r *sourceRunner) txnLoopEnd(err error) error {
	r.stopTask()
	if cerr := r.closeTxn(err); cerr != nil && err == nil {
		err = cerr
	}
	if err == nil {
		if f := r.failure.Load(); f != nil {
			err = *f
		}
	}
	return err
}

// pauseRequested reports whether Pause was called and Resume has not been since.
func (t *Task) pauseRequested() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.paused
}
