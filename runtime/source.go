package runtime

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/backoff"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/offsets"
)

const (
	// defaultBufferMemory is the Java producer's buffer.memory default.
	defaultBufferMemory = 32 << 20
	// maxBufferedRecords bounds the records of a source task waiting for Kafka (see below).
	maxBufferedRecords = 10_000
)

// sourceRunner is the loop of one source task: poll, transform, convert, produce asynchronously,
// and periodically commit the offsets of records Kafka acknowledged.
type sourceRunner struct {
	w         *Worker
	t         *Task
	task      connect.SourceTask
	newTask   func() connect.SourceTask // the connector's, for a task started afresh in place
	props     map[string]string
	conv      converters
	chain     *chain
	tolerance *tolerance
	client    *kgo.Client
	submitted *submitted
	committer connect.RecordCommitter // nil unless the task implements it
	// valueAppender is the value converter when it can write into recycled buffers.
	valueAppender connect.AppendConverter
	buffers       bufferPool
	lastValueSize int // of the last serialized value: new buffers are sized by it

	failure atomic.Pointer[error] // first produce failure; fails the task
	topics  topicTracker
	retry   retryPolicy
	// creation creates topics before their first record (topic.creation.*); nil when off.
	creation *topicCreation
	kafka    *kafkaWatch
	// produceCtx is the context of every produce: cancelled by abort when the task fails, so that
	// a produce waiting for buffer space while Kafka is unreachable gives up.
	produceCtx context.Context
	abort      context.CancelFunc
	// txn is the exactly-once state; nil unless the worker has exactly.once.source.support=enabled.
	txn *sourceTxn
	// offsets is the connector's offset store: the worker's, or its own topic's over the worker's.
	offsets *offsets.Layered
}

// startSource starts t, claimed, as a task of the source connector conn.
func (w *Worker) startSource(t *Task, conn connect.SourceConnector, connProps, taskProps map[string]string) (err error) {
	defer connect.Recover(&err)
	r := &sourceRunner{w: w, t: t, props: taskProps, submitted: newSubmitted(), topics: topicTracker{w: w, connector: t.id.Connector}}
	r.newTask = conn.NewTask
	r.task = conn.NewTask()
	r.committer, _ = r.task.(connect.RecordCommitter)
	if r.conv, err = buildConverters(w.registry, w.props, connProps); err != nil {
		return err
	}
	if r.chain, err = buildChain(w.registry, connProps); err != nil {
		return err
	}
	log := t.log
	started := false
	defer func() {
		if !started {
			r.chain.close(log)
		}
	}()
	r.valueAppender, _ = r.conv.value.(connect.AppendConverter)
	cfg, err := ConnectorConfigDef(false).Parse(connProps)
	if err != nil {
		return fmt.Errorf("connector config: %w", err)
	}
	opts, err := sourceProducerOpts(clientProps(w.props, connProps, "producer"), w.lease)
	if err != nil {
		return err
	}
	if w.exactlyOnceEnabled() {
		if errs := w.exactlyOnceErrors(conn, connProps); len(errs) > 0 {
			key := connect.SortedKeys(errs)[0]
			return fmt.Errorf("connector config: %s: %s", key, errs[key])
		}
	}
	if r.offsets, err = w.SourceOffsets(connProps, log); err != nil {
		return fmt.Errorf("connector config: %w", err)
	}
	defer func() {
		if !started {
			_ = r.offsets.Close()
		}
	}()
	if w.exactlyOnceEnabled() {
		r.txn = &sourceTxn{boundary: cfg.String(TransactionBoundary), interval: w.txnInterval(cfg), store: primaryTopic(r.offsets),
			checked: map[pendingPartition]bool{}}
		txnID := TransactionalID(w.props[GroupID], t.id.Connector, t.id.Task)
		opts = txnProducerOpts(opts, txnID)
		logTxn(log, txnID, r.txn)
	}
	r.tolerance = newTolerance(cfg, log)
	r.retry = newRetryPolicy(cfg)
	if r.creation, err = w.topicCreation(connProps, r.retry, log); err != nil {
		return fmt.Errorf("connector config: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.cancel = cancel
	// Cancelled when the task fails, or with the rest of its work when a stop times out.
	r.produceCtx, r.abort = context.WithCancel(t.work)
	r.kafka = newKafkaWatch(log, r.retry, r.fail)
	client, err := kgo.NewClient(append(opts, kgo.WithHooks(r.kafka))...)
	if err != nil {
		cancel()
		r.abort()
		return fmt.Errorf("create producer: %w", err)
	}
	r.client = client
	// A cancelled stop closes the producer at once: that fails the records buffered for Kafka, so
	// none of them can reach Kafka once another instance of the task runs.
	closeClient := sync.OnceFunc(client.Close)
	t.abandonWork = closeClient
	t.metrics = w.metrics.Task(t.id.Connector, t.id.Task)
	r.tolerance.metrics = t.metrics
	t.run(func() error { return r.loop(ctx) }, func() {
		closeClient()
		r.abort()
		_ = r.offsets.Close()
		r.chain.close(log)
		r.t.metrics.Close()
	})
	started = true
	return nil
}

// fail fails the task from any goroutine: the loop stops, and what waits for Kafka is given up
// rather than drained.
func (r *sourceRunner) fail(err error) {
	r.failure.CompareAndSwap(nil, &err)
	r.abort()
	r.t.cancel()
}

// sourceProducerOpts is the franz-go configuration of a source task's producer: the worker's and
// connector's producer settings, over the Java producer's defaults where franz-go's differ: no
// compression, and at most 32 MiB of records buffered, which is what bounds a source task's memory
// under back-pressure. Each record waiting for Kafka also costs its tracking (a few hundred bytes),
// so at most maxBufferedRecords wait: with 750-byte JDBC rows that cut the worker's peak RSS from
// 149 to 106 MiB and its CPU per row by a tenth (bench/jdbcsource), while 10,000 records still
// fill the five produce requests a broker connection may have in flight.
//
// linger.ms keeps franz-go's default (10 ms, against Kafka 4.0's 5): 0, 5 and 10 measured the same
// in bench/sourceloop, within its noise. With a lease (distributed mode), records and transaction
// commits are sent only while it is valid.
func sourceProducerOpts(props map[string]string, lease Lease) ([]kgo.Opt, error) {
	opts, err := kafkaClientOpts(props, lease)
	if err != nil {
		return nil, fmt.Errorf("producer config: %w", err)
	}
	opts = append(opts, kgo.AllowAutoTopicCreation(), kgo.RecordPartitioner(newSourcePartitioner()))
	if _, ok := props["compression.type"]; !ok {
		opts = append(opts, kgo.ProducerBatchCompression(kgo.NoCompression()))
	}
	if _, ok := props["buffer.memory"]; !ok {
		opts = append(opts, kgo.MaxBufferedBytes(defaultBufferMemory))
	}
	return append(opts, kgo.MaxBufferedRecords(maxBufferedRecords)), nil
}

type sourceTaskContext struct {
	taskContext
	offsets offsetReader
	txn     *sourceTxn
}

func (c sourceTaskContext) Offsets() connect.OffsetReader { return c.offsets }

func (r *sourceRunner) loop(ctx context.Context) error {
	id := r.t.id
	tctx := sourceTaskContext{taskContext{id: id, log: r.t.log, metrics: r.t.metrics}, offsetReader{r.offsets, id.Connector}, r.txn}
	if r.txn != nil {
		return r.txnLoop(ctx, tctx)
	}
	if err := r.startTask(tctx); err != nil {
		return err
	}
	r.t.report(herder.Running, nil)
	// Stopping cuts a periodic commit short: the final commit below writes its offsets too.
	commitCtx, stopCommitter := context.WithCancel(context.Background())
	committerDone := make(chan struct{})
	go r.commitPeriodically(commitCtx, committerDone)

	err := r.pollLoop(ctx)

	stopCommitter()
	<-committerDone
	r.stopTask()
	// Drain what is in flight so its offsets can be committed, within the graceful timeout; unless
	// the task failed, which gives up what waits for Kafka, or the worker's membership lease
	// lapses, which holds it back for good.
	if r.produceCtx.Err() == nil {
		leaseCtx, cancelLease := r.w.untilLeaseLapses(context.Background())
		drainCtx, cancel := context.WithTimeout(leaseCtx, r.w.ShutdownTimeout())
		if flushErr := r.client.Flush(drainCtx); flushErr != nil {
			r.t.log.Warn("in-flight records not acknowledged before shutdown; their offsets stay uncommitted",
				"in_flight", r.submitted.inFlight(), "err", flushErr)
		}
		cancel()
		cancelLease()
	}
	// Committing the acknowledged prefix is safe even after a failure: those records are in Kafka.
	if commitErr := r.commit(context.Background()); commitErr != nil && err == nil {
		err = commitErr
	}
	if err == nil {
		if f := r.failure.Load(); f != nil {
			err = *f
		}
	}
	return err
}

// startTask calls the task's Start.
func (r *sourceRunner) startTask(tctx sourceTaskContext) error {
	if err := r.t.lifecycle("start source task", func() error { return r.task.Start(tctx, r.props) }); err != nil {
		return fmt.Errorf("start source task: %w", err)
	}
	return nil
}

// stopTask calls the task's Stop.
func (r *sourceRunner) stopTask() {
	if stopErr := r.t.lifecycle("stop source task", r.task.Stop); stopErr != nil {
		r.t.log.Warn("stop source task", "err", stopErr)
	}
}

func (r *sourceRunner) pollLoop(ctx context.Context) error {
	retry := newRetrier(r.retry, "poll")
	for {
		if r.txn != nil && r.txn.boundary == boundaryInterval && r.t.pauseRequested() {
			// A transaction left open while paused would hold read_committed readers back and
			// outlive the transaction timeout.
			if err := r.commitTxn(); err != nil {
				return err
			}
		}
		if !r.t.waitResumed(ctx) {
			return nil
		}
		pollStart := time.Now()
		recs, err := r.task.Poll(ctx)
		if ctx.Err() != nil {
			// Stopping: records returned by this last poll are still sent, so none is lost.
			if err == nil && r.failure.Load() == nil {
				return r.sendAll(recs)
			}
			return nil
		}
		if err != nil {
			if !connect.IsRetriable(err) {
				return fmt.Errorf("poll: %w", err)
			}
			d, gerr := retry.failed(err, time.Now())
			if gerr != nil {
				return gerr
			}
			r.t.log.Warn("poll failed, retrying", "err", err, "backoff", d)
			if !backoff.Sleep(ctx, d) {
				return nil
			}
			continue
		}
		retry.succeeded()
		r.t.metrics.Polled(len(recs), time.Since(pollStart))
		if err := r.sendAll(recs); err != nil {
			return err
		}
		if r.txn != nil {
			if err := r.txnBoundary(); err != nil {
				return err
			}
		}
	}
}

func (r *sourceRunner) sendAll(recs []connect.SourceRecord) error {
	// One allocation each for the batch's tracking entries and Kafka records instead of two per
	// record; both live until the last record of the batch is acknowledged.
	if r.txn != nil && len(recs) > 0 {
		if err := r.beginTxn(); err != nil {
			return err
		}
	}
	entries := make([]submittedRecord, len(recs))
	krs := make([]kgo.Record, len(recs))
	for i := range recs {
		if err := r.send(&recs[i], &entries[i], &krs[i]); err != nil {
			return err
		}
	}
	if f := r.failure.Load(); f != nil {
		return *f
	}
	return nil
}

func (r *sourceRunner) send(src *connect.SourceRecord, entry *submittedRecord, kr *kgo.Record) error {
	if err := r.submitted.submit(entry, src.SourcePartition, src.SourceOffset); err != nil {
		return fmt.Errorf("record of source partition %v: %w", src.SourcePartition, err)
	}
	rec, err := r.chain.apply(&src.Record)
	if err != nil {
		if err = r.tolerance.handle(stageTransform, &src.Record, err); err != nil {
			return err
		}
	}
	if rec == nil { // dropped by a transform or tolerated: its offset may still be committed
		r.submitted.ack(entry)
		return nil
	}
	stage, err := r.toKafka(rec, kr)
	if err != nil {
		if err = r.tolerance.handle(stage, rec, err); err != nil {
			return err
		}
		r.submitted.ack(entry)
		return nil
	}
	if err := r.w.ensureTopic(r.produceCtx, r.creation, kr.Topic); err != nil {
		return err
	}
	r.topics.note(rec.Topic)
	// Only CommitRecord needs the record once it is serialized. Not capturing it otherwise lets
	// the collector free the batch's records and values while they wait for Kafka, which is most
	// of a source task's memory under back-pressure.
	var committed *connect.SourceRecord
	if r.committer != nil {
		committed = src
	}
	r.client.Produce(r.produceCtx, kr, func(kr *kgo.Record, err error) {
		if r.valueAppender != nil {
			// kgo is done with the record: its value buffer can serve another record.
			r.buffers.put(kr.Value)
			kr.Value = nil
		}
		if err != nil {
			if r.txn != nil {
				err = txnError("send record to topic "+kr.Topic, err)
			} else {
				err = fmt.Errorf("send record to topic %s: %w", kr.Topic, err)
			}
			r.failure.CompareAndSwap(nil, &err)
			return
		}
		r.submitted.ack(entry)
		r.t.metrics.Written()
		if r.txn != nil {
			r.txn.noteAck(kr.Topic, kr.Partition, kr.Offset)
		}
		if committed != nil {
			meta := connect.RecordMetadata{Topic: kr.Topic, Partition: kr.Partition, Offset: kr.Offset}
			if r.txn != nil {
				r.txn.deferCommitRecord(committed, meta)
				return
			}
			r.commitRecord(committed, meta)
		}
	})
	return nil
}

// commitRecord calls the task's CommitRecord; a panic fails the task, which it reports false.
func (r *sourceRunner) commitRecord(rec *connect.SourceRecord, meta connect.RecordMetadata) bool {
	if err := call(func() error { return r.committer.CommitRecord(rec, meta) }); err != nil {
		var pe *connect.PanicError
		if errors.As(err, &pe) {
			r.fail(fmt.Errorf("commit record: %w", err))
			return false
		}
		r.t.log.Warn("commit record", "err", err)
	}
	return true
}

// toKafka fills kr from rec through the converters and reports the failing stage on error.
func (r *sourceRunner) toKafka(rec *connect.Record, kr *kgo.Record) (string, error) {
	key, err := r.conv.key.FromConnectData(rec.Topic, rec.KeySchema, rec.Key)
	if err != nil {
		return stageKeyConverter, fmt.Errorf("convert key: %w", err)
	}
	var value []byte
	if r.valueAppender != nil {
		value, err = r.valueAppender.AppendFromConnectData(r.buffers.get(r.lastValueSize), rec.Topic, rec.ValueSchema, rec.Value)
		r.lastValueSize = len(value)
	} else {
		value, err = r.conv.value.FromConnectData(rec.Topic, rec.ValueSchema, rec.Value)
	}
	if err != nil {
		return stageValueConverter, fmt.Errorf("convert value: %w", err)
	}
	*kr = kgo.Record{Topic: rec.Topic, Key: key, Value: value, Timestamp: rec.Timestamp}
	if rec.Partition >= 0 {
		kr.Partition, kr.Context = rec.Partition, explicitPartition
	}
	if len(rec.Headers) > 0 {
		kr.Headers = make([]kgo.RecordHeader, len(rec.Headers))
		for i, h := range rec.Headers {
			b, err := r.conv.header.FromConnectHeader(rec.Topic, h.Key, h.Schema, h.Value)
			if err != nil {
				return stageHeaderConvert, fmt.Errorf("convert header %s: %w", h.Key, err)
			}
			kr.Headers[i] = kgo.RecordHeader{Key: h.Key, Value: b}
		}
	}
	return "", nil
}

func (r *sourceRunner) commitPeriodically(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(r.w.flushInterval())
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := r.commit(ctx); err != nil && ctx.Err() == nil {
				r.t.log.Error("offset commit failed; retrying at the next interval", "err", err)
			}
		}
	}
}

// commit stores the committable offsets durably, then tells the task, in that order: a task that
// acknowledges upstream (a replication slot) must never get ahead of the stored offsets. It gives
// up after offset.flush.timeout.ms, when the lease lapses, or when parent ends.
func (r *sourceRunner) commit(parent context.Context) error {
	offs := r.submitted.committable()
	if len(offs) == 0 {
		return nil
	}
	if r.w.leaseLapsed() {
		// The task's next owner may already have committed further; the next commit (or that
		// owner) covers these records.
		r.t.log.Warn("not committing offsets: the worker's group membership lease has lapsed")
		return nil
	}
	flushCtx, cancelFlush := context.WithTimeout(parent, r.w.flushTimeout())
	defer cancelFlush()
	ctx, cancel := r.w.untilLeaseLapses(flushCtx)
	defer cancel()
	start := time.Now()
	err := r.offsets.Put(ctx, r.t.id.Connector, offs)
	r.t.metrics.Committed(start, err)
	if err != nil && flushCtx.Err() == nil && ctx.Err() != nil {
		// The lease lapsed during the write: as above, the task's next owner covers these records.
		r.t.log.Warn("offsets not committed: the worker's group membership lease lapsed during the commit", "err", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("commit offsets: %w", err)
	}
	r.submitted.stored()
	if r.t.abandoned.Load() {
		// Its Stop may still run: the task hears of nothing more. A task that acknowledges
		// upstream staying behind the stored offsets is safe; the next instance reads them.
		return nil
	}
	r.taskCommit(ctx, offs)
	return nil
}

// taskCommit tells the task which offsets are now durable; a panic fails the task.
func (r *sourceRunner) taskCommit(ctx context.Context, offs []connect.SourceOffset) {
	if err := call(func() error { return r.task.Commit(ctx, offs) }); err != nil {
		var pe *connect.PanicError
		if errors.As(err, &pe) {
			r.fail(fmt.Errorf("task commit hook: %w", err))
			return
		}
		r.t.log.Warn("task commit hook failed", "err", err)
	}
}
