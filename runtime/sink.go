package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/backoff"
	"github.com/kconnect/kconnect/runtime/herder"
)

// maxPollRecords bounds one Put batch, as the Java consumer's max.poll.records default does.
const maxPollRecords = 500

// sinkRunner is the loop of one sink task: consume as group connect-<name>, convert, transform,
// Put, and commit the consumer offsets the task reports durable.
type sinkRunner struct {
	w         *Worker
	t         *Task
	task      connect.SinkTask
	listener  connect.PartitionListener // nil unless the task implements it
	props     map[string]string
	conv      converters
	chain     *chain
	tolerance *tolerance
	dlq       *deadLetterQueue // nil without a DLQ topic
	client    *kgo.Client
	maxPoll   int
	topics    topicTracker
	// clientOpts configure the consumer, created only once the task has started: joining the group
	// earlier could call Open on a task that has not started yet.
	clientOpts []kgo.Opt
	// instanceID is the consumer's static group membership id.
	instanceID string

	// mu serializes the poll loop with the rebalance callbacks, which run on kgo's goroutines.
	mu        sync.Mutex
	stopped   bool
	assigned  map[connect.TopicPartition]bool
	current   map[connect.TopicPartition]int64 // next offset after the last record given to Put
	committed map[connect.TopicPartition]int64
	lastFlush time.Time

	seekMu sync.Mutex
	seeks  map[connect.TopicPartition]int64 // requested by the task, applied by the loop
	// opened holds where partitions opened at a task's seek: the loop makes them current, so a
	// partition the task has already stored up to its end still gets that offset committed
	// (upstream leaves the group's offset behind until a new record arrives).
	opened map[connect.TopicPartition]int64

	commitRequested atomic.Bool
	asyncErr        atomic.Pointer[error] // a failure raised from a rebalance callback

	retry      retryPolicy
	preCommits *retrier // guarded by mu
	kafka      *kafkaWatch
}

// startSink starts t, claimed, as a task of the sink connector conn.
func (w *Worker) startSink(t *Task, conn connect.SinkConnector, connProps, taskProps map[string]string) (err error) {
	defer connect.Recover(&err)
	id := t.id
	r := &sinkRunner{
		w: w, t: t, props: taskProps, maxPoll: maxPollRecords, topics: topicTracker{w: w, connector: id.Connector},
		assigned: map[connect.TopicPartition]bool{}, current: map[connect.TopicPartition]int64{},
		committed: map[connect.TopicPartition]int64{}, seeks: map[connect.TopicPartition]int64{},
		opened: map[connect.TopicPartition]int64{},
	}
	r.task = conn.NewTask()
	r.listener, _ = r.task.(connect.PartitionListener)
	if r.conv, err = buildConverters(w.registry, w.props, connProps); err != nil {
		return err
	}
	if r.chain, err = buildChain(w.registry, connProps); err != nil {
		return err
	}
	cfg, err := ConnectorConfigDef(true).Parse(connProps)
	if err != nil {
		return fmt.Errorf("connector config: %w", err)
	}
	log := t.log
	started := false
	defer func() {
		if !started {
			r.chain.close(log)
		}
	}()
	r.tolerance = newTolerance(cfg, log)
	r.retry = newRetryPolicy(cfg)
	r.preCommits = newRetrier(r.retry, "pre-commit")
	r.kafka = newKafkaWatch(log, r.retry, r.failAsync)
	cprops := clientProps(w.props, connProps, "consumer")
	if _, ok := cprops["auto.offset.reset"]; !ok {
		cprops["auto.offset.reset"] = "earliest" // Kafka Connect's default for sink consumers
	}
	if _, ok := cprops["isolation.level"]; !ok && w.exactlyOnceEnabled() {
		// On a worker whose sources write transactionally, kconnect's default is read_committed,
		// where Kafka's is read_uncommitted: records of aborted or still open transactions never
		// reach the sink. Elsewhere the sink keeps Kafka's default, as upstream. TODO(#17): this
		// was narrowed after a read_committed Delta sink seemed to stall after a kill -9 on the
		// embedded broker. It did not: that run's log shows the table holding every record of the
		// topic 140 ms after the restart, and the test then waiting for consumer group offsets,
		// which the sink, resuming from the table's offsets, had no new record to commit for. The
		// embedded broker's last stable offset is at the high watermark after a kill -9
		// (broker.TestReadCommittedAfterKillNine, TestReadCommittedAfterKillBetweenBatchAndIndex),
		// and the Delta kill test forced to read_committed passed 34 kills in 4 runs, so the
		// narrowing may be undone.
		cprops["isolation.level"] = "read_committed"
	}
	if n, err := strconv.Atoi(cprops["max.poll.records"]); err == nil && n > 0 {
		r.maxPoll = n
	}
	opts, err := clientOpts(cprops)
	if err != nil {
		return fmt.Errorf("consumer config: %w", err)
	}
	topicOpt, err := sinkTopics(connProps)
	if err != nil {
		return err
	}
	opts = append(opts, topicOpt...)
	// Static membership: a task restarted after a crash takes its partitions back at once instead
	// of waiting out the dead member's session timeout (45 s by default).
	r.instanceID = cprops["group.instance.id"]
	if r.instanceID == "" {
		r.instanceID = fmt.Sprintf("connect-%s-%d", id.Connector, id.Task)
	}
	opts = append(opts,
		kgo.ConsumerGroup("connect-"+id.Connector),
		kgo.InstanceID(r.instanceID),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.AllowAutoTopicCreation(),
		kgo.OnPartitionsAssigned(r.onAssigned),
		kgo.OnPartitionsRevoked(r.onRevoked),
		kgo.OnPartitionsLost(r.onLost),
		kgo.AdjustFetchOffsetsFn(r.adjustOffsets),
		kgo.WithHooks(r.kafka),
	)
	r.clientOpts = opts
	if topic := cfg.String(DLQTopic); topic != "" && r.tolerance.all {
		r.dlq = &deadLetterQueue{topic: topic, id: id, contextHeaders: cfg.Bool(DLQContextHeaders), replicationFactor: cfg.Short(DLQReplicationFactor), admin: w.admin}
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.cancel = cancel
	t.metrics = w.metrics.Task(id.Connector, id.Task)
	r.tolerance.metrics = t.metrics
	t.run(func() error { return r.loop(ctx) }, func() {
		r.close()
		t.metrics.Close()
	})
	started = true
	return nil
}

// close releases the transforms and the consumer. A static member does not leave the group when
// it closes, so a task stopped on purpose leaves explicitly, letting other members take its
// partitions now.
func (r *sinkRunner) close() {
	r.chain.close(r.t.log)
	if r.client == nil { // the task never started
		return
	}
	r.client.AllowRebalance()
	r.client.Close()
	ctx, cancel := r.w.flushContext()
	defer cancel()
	if err := r.w.leaveGroup(ctx, "connect-"+r.t.id.Connector, r.instanceID); err != nil {
		r.t.log.Warn("leave consumer group", "err", err)
	}
}

// sinkTopics turns topics / topics.regex into consumer options; exactly one must be set.
func sinkTopics(props map[string]string) ([]kgo.Opt, error) {
	topics := splitList(props[Topics])
	regex := strings.TrimSpace(props[TopicsRegex])
	switch {
	case len(topics) > 0 && regex != "":
		return nil, fmt.Errorf("sink connector config: %s and %s are mutually exclusive", Topics, TopicsRegex)
	case len(topics) > 0:
		return []kgo.Opt{kgo.ConsumeTopics(topics...)}, nil
	case regex != "":
		if _, err := regexp.Compile(regex); err != nil {
			return nil, fmt.Errorf("sink connector config: %s: %w", TopicsRegex, err)
		}
		// Java regexes must match the whole topic name; kgo matches anywhere.
		return []kgo.Opt{kgo.ConsumeRegex(), kgo.ConsumeTopics("^(?:" + regex + ")$")}, nil
	}
	return nil, fmt.Errorf("sink connector config: one of %s or %s must be set", Topics, TopicsRegex)
}

func (r *sinkRunner) loop(ctx context.Context) error {
	if err := r.t.lifecycle("start sink task", func() error { return r.task.Start(r, r.props) }); err != nil {
		return fmt.Errorf("start sink task: %w", err)
	}
	r.lastFlush = time.Now()
	client, err := kgo.NewClient(r.clientOpts...)
	if err != nil {
		if serr := r.t.lifecycle("stop sink task", r.task.Stop); serr != nil {
			r.t.log.Warn("stop sink task", "err", serr)
		}
		return fmt.Errorf("create consumer: %w", err)
	}
	r.mu.Lock()
	r.client = client
	if r.dlq != nil {
		r.dlq.client = client
	}
	r.mu.Unlock()
	r.t.report(herder.Running, nil)
	err = r.consume(ctx)

	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopped = true
	// A stop that timed out cancelled Put: what the task holds is not known to be durable.
	if err == nil && !r.t.abandoned.Load() {
		if cerr := r.commit(ctx, true); cerr != nil {
			r.t.log.Warn("final offset commit failed", "err", cerr)
		}
	}
	if r.listener != nil {
		if cerr := r.listener.Close(r.t.work, r.Assignment()); cerr != nil {
			r.t.log.Warn("close partitions", "err", cerr)
		}
	}
	if serr := r.t.lifecycle("stop sink task", r.task.Stop); serr != nil {
		r.t.log.Warn("stop sink task", "err", serr)
	}
	return err
}

func (r *sinkRunner) consume(ctx context.Context) error {
	for {
		r.client.AllowRebalance()
		if !r.t.waitResumed(ctx) {
			return r.asyncFailure()
		}
		// Poll no longer than until the next offset flush, so an idle sink still commits on time.
		r.mu.Lock()
		nextFlush := r.lastFlush.Add(r.w.flushInterval())
		r.mu.Unlock()
		pollCtx, cancel := context.WithDeadline(ctx, nextFlush)
		fetches := r.client.PollRecords(pollCtx, r.maxPoll)
		cancel()
		if ctx.Err() != nil {
			return r.asyncFailure()
		}
		for _, fe := range fetches.Errors() {
			if errors.Is(fe.Err, context.DeadlineExceeded) {
				continue // the flush deadline above, not a fetch failure
			}
			level := slog.LevelWarn
			if r.kafka.failing() {
				level = slog.LevelDebug
			}
			r.t.log.Log(ctx, level, "fetch error", "topic", fe.Topic, "partition", fe.Partition, "err", fe.Err)
		}
		if err := r.process(ctx, fetches); err != nil {
			return err
		}
	}
}

func (r *sinkRunner) process(ctx context.Context, fetches kgo.Fetches) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.takeOpened()
	n := fetches.NumRecords()
	if n > 0 {
		batch := make([]connect.SinkRecord, 0, n)
		var err error
		fetches.EachRecord(func(kr *kgo.Record) {
			if err != nil {
				return
			}
			var sr connect.SinkRecord
			var keep bool
			// A stop lets the batch under way finish, its dead-letter sends included.
			if keep, err = r.toSinkRecord(r.t.work, kr, &sr); err == nil && keep {
				batch = append(batch, sr)
			}
			r.current[connect.TopicPartition{Topic: kr.Topic, Partition: kr.Partition}] = kr.Offset + 1
		})
		if err != nil {
			return err
		}
		r.t.metrics.Read(n, fetchLag(fetches))
		if err := r.put(ctx, batch); err != nil {
			return err
		}
		r.applySeeks()
	}
	if r.commitRequested.Swap(false) || time.Since(r.lastFlush) >= r.w.flushInterval() {
		start := time.Now()
		err := r.commit(ctx, false)
		r.t.metrics.Committed(start, err)
		if err != nil {
			return r.commitFailed(err)
		}
	}
	return nil
}

// preCommitError is a commit that failed in the task's PreCommit rather than in Kafka.
type preCommitError struct{ err error }

func (e *preCommitError) Error() string { return "pre-commit: " + e.err.Error() }
func (e *preCommitError) Unwrap() error { return e.err }

// commitFailed says whether a failed commit fails the task, with r.mu held. A task whose
// PreCommit fails for good has lost what Put gave it, and one that fails retriably for the whole
// retry budget is stuck: both fail. Kafka refusing the commit is retried at the next interval;
// that Kafka stays unreachable is the Kafka watch's to judge, and while it is down the failures
// are not logged again.
func (r *sinkRunner) commitFailed(err error) error {
	var pe *preCommitError
	if !errors.As(err, &pe) {
		if r.kafka.failing() {
			r.t.log.Debug("offset commit failed; retrying at the next interval", "err", err)
		} else {
			r.t.log.Warn("offset commit failed; retrying at the next interval", "err", err)
		}
		return nil
	}
	if !connect.IsRetriable(err) {
		return err
	}
	if _, gerr := r.preCommits.failed(err, time.Now()); gerr != nil {
		return gerr
	}
	r.t.log.Warn("pre-commit failed; retrying at the next interval", "err", err)
	return nil
}

// toSinkRecord converts and transforms one consumed record; keep is false when a transform
// dropped it or a tolerated error skipped it.
func (r *sinkRunner) toSinkRecord(ctx context.Context, kr *kgo.Record, sr *connect.SinkRecord) (keep bool, err error) {
	sr.Topic, sr.Partition, sr.Offset, sr.Timestamp = kr.Topic, kr.Partition, kr.Offset, kr.Timestamp
	sr.TimestampType = connect.CreateTime
	if kr.Attrs.TimestampType() == 1 {
		sr.TimestampType = connect.LogAppendTime
	}
	r.topics.note(kr.Topic)
	stage, cerr := r.convert(kr, sr)
	if cerr != nil {
		return false, r.tolerate(ctx, stage, kr, &sr.Record, cerr)
	}
	out, terr := r.chain.apply(&sr.Record)
	if terr != nil {
		return false, r.tolerate(ctx, stageTransform, kr, &sr.Record, terr)
	}
	if out == nil {
		return false, nil
	}
	if out != &sr.Record {
		sr.Record = *out
	}
	return true, nil
}

func (r *sinkRunner) convert(kr *kgo.Record, sr *connect.SinkRecord) (string, error) {
	var err error
	if sr.KeySchema, sr.Key, err = r.conv.key.ToConnectData(kr.Topic, kr.Key); err != nil {
		return stageKeyConverter, fmt.Errorf("convert key: %w", err)
	}
	if sr.ValueSchema, sr.Value, err = r.conv.value.ToConnectData(kr.Topic, kr.Value); err != nil {
		return stageValueConverter, fmt.Errorf("convert value: %w", err)
	}
	if len(kr.Headers) > 0 {
		sr.Headers = make(connect.Headers, len(kr.Headers))
		for i, h := range kr.Headers {
			s, v, err := r.conv.header.ToConnectHeader(kr.Topic, h.Key, h.Value)
			if err != nil {
				return stageHeaderConvert, fmt.Errorf("convert header %s: %w", h.Key, err)
			}
			sr.Headers[i] = connect.Header{Key: h.Key, Schema: s, Value: v}
		}
	}
	return "", nil
}

func (r *sinkRunner) tolerate(ctx context.Context, stage string, kr *kgo.Record, rec *connect.Record, err error) error {
	if ferr := r.tolerance.handle(stage, rec, err); ferr != nil {
		return ferr
	}
	if r.dlq != nil {
		derr := r.dlq.send(ctx, kr, stage, err)
		r.t.metrics.DeadLettered(derr)
		if derr != nil {
			return fmt.Errorf("send record to dead letter queue %s: %w", r.dlq.topic, derr)
		}
	}
	return nil
}

// put delivers a batch, retrying retriable failures with backoff until they have lasted the retry
// budget or the task is stopped. A stop lets a Put under way finish: Put's context is the task's
// work, cancelled only when the stop outlasts the graceful timeout.
func (r *sinkRunner) put(ctx context.Context, batch []connect.SinkRecord) error {
	if len(batch) == 0 {
		return nil
	}
	retry := newRetrier(r.retry, "put")
	for {
		start := time.Now()
		err := r.task.Put(r.t.work, batch)
		if err == nil {
			r.t.metrics.Put(len(batch), time.Since(start))
			return nil
		}
		if !connect.IsRetriable(err) {
			return fmt.Errorf("put: %w", err)
		}
		d, gerr := retry.failed(err, time.Now())
		if gerr != nil {
			return gerr
		}
		r.t.log.Warn("put failed, retrying the batch", "err", err, "backoff", d, "records", len(batch))
		if !backoff.Sleep(ctx, d) {
			return fmt.Errorf("put not retried, task stopping: %w", err)
		}
	}
}

// commit asks the task which offsets are durable and commits those to the consumer group.
func (r *sinkRunner) commit(ctx context.Context, final bool) error {
	r.lastFlush = time.Now()
	if len(r.current) == 0 {
		return nil
	}
	current := make(map[connect.TopicPartition]int64, len(r.current))
	for tp, o := range r.current {
		current[tp] = o
	}
	cctx, cancel := r.w.flushContext()
	defer cancel()
	durable, err := r.task.PreCommit(cctx, current)
	if err != nil {
		return &preCommitError{err}
	}
	r.preCommits.succeeded()
	toCommit := map[string]map[int32]kgo.EpochOffset{}
	for tp, o := range durable {
		if !r.assigned[tp] && !final {
			continue
		}
		if prev, ok := r.committed[tp]; ok && prev == o {
			continue
		}
		if toCommit[tp.Topic] == nil {
			toCommit[tp.Topic] = map[int32]kgo.EpochOffset{}
		}
		toCommit[tp.Topic][tp.Partition] = kgo.EpochOffset{Epoch: -1, Offset: o}
	}
	if len(toCommit) == 0 {
		return nil
	}
	var commitErr error
	r.client.CommitOffsetsSync(cctx, toCommit, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			commitErr = err
			return
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if perr := kerr.ErrorForCode(p.ErrorCode); perr != nil && commitErr == nil {
					commitErr = fmt.Errorf("%s-%d: %w", t.Topic, p.Partition, perr)
				}
			}
		}
	})
	if commitErr != nil {
		return fmt.Errorf("commit consumer offsets: %w", commitErr)
	}
	for topic, parts := range toCommit {
		for p, eo := range parts {
			r.committed[connect.TopicPartition{Topic: topic, Partition: p}] = eo.Offset
		}
	}
	return nil
}

// The rebalance callbacks run on kgo's goroutines: a panic of the task's Open, Close or PreCommit
// there fails the task through failAsync.

func (r *sinkRunner) onAssigned(ctx context.Context, _ *kgo.Client, assigned map[string][]int32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	tps := toTopicPartitions(assigned)
	for _, tp := range tps {
		r.assigned[tp] = true
	}
	if r.listener != nil && len(tps) > 0 {
		if err := call(func() error { return r.listener.Open(ctx, tps) }); err != nil {
			r.failAsync(fmt.Errorf("open partitions %v: %w", tps, err))
		}
	}
}

func (r *sinkRunner) onRevoked(ctx context.Context, _ *kgo.Client, revoked map[string][]int32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	err := call(func() error {
		if err := r.commit(ctx, false); err != nil {
			if err := r.commitFailed(err); err != nil {
				return err
			}
		}
		r.dropPartitions(ctx, toTopicPartitions(revoked))
		return nil
	})
	if err != nil {
		r.failAsync(fmt.Errorf("revoke partitions: %w", err))
	}
}

// onLost drops partitions without committing: another member may already own them.
func (r *sinkRunner) onLost(ctx context.Context, _ *kgo.Client, lost map[string][]int32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	err := call(func() error {
		r.dropPartitions(ctx, toTopicPartitions(lost))
		return nil
	})
	if err != nil {
		r.failAsync(fmt.Errorf("drop lost partitions: %w", err))
	}
}

func (r *sinkRunner) dropPartitions(ctx context.Context, tps []connect.TopicPartition) {
	if r.listener != nil && len(tps) > 0 {
		if err := r.listener.Close(ctx, tps); err != nil {
			r.t.log.Warn("close partitions", "err", err)
		}
	}
	r.seekMu.Lock()
	defer r.seekMu.Unlock()
	for _, tp := range tps {
		delete(r.assigned, tp)
		delete(r.current, tp)
		delete(r.committed, tp)
		delete(r.opened, tp)
	}
}

// adjustOffsets applies seeks the task requested while opening newly assigned partitions; kgo
// calls it after OnPartitionsAssigned and before fetching starts.
func (r *sinkRunner) adjustOffsets(_ context.Context, offs map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	r.seekMu.Lock()
	defer r.seekMu.Unlock()
	for tp, o := range r.seeks {
		if parts, ok := offs[tp.Topic]; ok {
			if _, ok := parts[tp.Partition]; ok {
				parts[tp.Partition] = kgo.NewOffset().At(o).WithEpoch(-1)
				delete(r.seeks, tp)
				r.opened[tp] = o
			}
		}
	}
	return offs, nil
}

// takeOpened makes the offsets partitions opened at current where no record has moved them yet.
func (r *sinkRunner) takeOpened() {
	r.seekMu.Lock()
	defer r.seekMu.Unlock()
	for tp, o := range r.opened {
		if _, ok := r.current[tp]; !ok && r.assigned[tp] {
			r.current[tp] = o
		}
	}
	clear(r.opened)
}

// applySeeks moves partitions the task asked to rewind or skip while running.
func (r *sinkRunner) applySeeks() {
	r.seekMu.Lock()
	defer r.seekMu.Unlock()
	if len(r.seeks) == 0 {
		return
	}
	set := map[string]map[int32]kgo.EpochOffset{}
	for tp, o := range r.seeks {
		if set[tp.Topic] == nil {
			set[tp.Topic] = map[int32]kgo.EpochOffset{}
		}
		set[tp.Topic][tp.Partition] = kgo.EpochOffset{Epoch: -1, Offset: o}
		r.current[tp] = o
	}
	clear(r.seeks)
	r.client.SetOffsets(set)
}

// failAsync fails the task from a callback goroutine: the loop returns err once cancelled.
func (r *sinkRunner) failAsync(err error) {
	r.asyncErr.CompareAndSwap(nil, &err)
	r.t.cancel()
}

// asyncFailure is what the cancelled loop returns: the failure failAsync raised, or nil when the
// task was stopped.
func (r *sinkRunner) asyncFailure() error {
	if err := r.asyncErr.Load(); err != nil {
		return *err
	}
	return nil
}

func toTopicPartitions(m map[string][]int32) []connect.TopicPartition {
	var out []connect.TopicPartition
	for topic, parts := range m {
		for _, p := range parts {
			out = append(out, connect.TopicPartition{Topic: topic, Partition: p})
		}
	}
	return out
}

// The sinkRunner is its task's connect.SinkTaskContext.

func (r *sinkRunner) Logger() *slog.Logger  { return r.t.log }
func (r *sinkRunner) TaskID() int           { return r.t.id.Task }
func (r *sinkRunner) ConnectorName() string { return r.t.id.Connector }
func (r *sinkRunner) RequestCommit()        { r.commitRequested.Store(true) }

func (r *sinkRunner) Seek(offsets map[connect.TopicPartition]int64) {
	r.seekMu.Lock()
	defer r.seekMu.Unlock()
	for tp, o := range offsets {
		r.seeks[tp] = o
	}
}

// Assignment is called by the task from Put, PreCommit, Open or Close, all with r.mu held.
func (r *sinkRunner) Assignment() []connect.TopicPartition {
	out := make([]connect.TopicPartition, 0, len(r.assigned))
	for tp := range r.assigned {
		out = append(out, tp)
	}
	return out
}

func (r *sinkRunner) ErrantRecordReporter() connect.ErrantRecordReporter {
	if !r.tolerance.all {
		return nil
	}
	return errantReporter{r}
}
