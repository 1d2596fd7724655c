package runtime

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/runtime/kafkalog"
	"github.com/kconnect/kconnect/runtime/offsets"
)

// Source connector keys of exactly-once delivery (upstream SourceConnectorConfig, KIP-618).
const (
	ExactlyOnceSupport          = "exactly.once.support"
	TransactionBoundary         = "transaction.boundary"
	TransactionBoundaryInterval = "transaction.boundary.interval.ms"
	OffsetsStorageTopic         = "offsets.storage.topic"
	exactlyOnceGroup            = "Exactly Once Support"
	offsetsTopicGroup           = "offsets.topic"
)

// Values of exactly.once.source.support, exactly.once.support and transaction.boundary.
const (
	eosDisabled       = "disabled"
	eosPreparing      = "preparing"
	eosEnabled        = "enabled"
	eosRequested      = "requested"
	eosRequired       = "required"
	boundaryPoll      = "poll"
	boundaryInterval  = "interval"
	boundaryConnector = "connector"
)

// DefaultOffsetsTopic is the offsets topic a standalone worker with exactly-once enabled uses when
// offset.storage.topic is unset: the name upstream's distributed examples use.
const DefaultOffsetsTopic = "connect-offsets"

func defineExactlyOnceKeys(d *connect.ConfigDef) {
	d.Define(connect.ConfigKey{Name: ExactlyOnceSupport, Type: connect.ConfigString, Default: eosRequested, Validator: connect.OneOf(eosRequested, eosRequired), Importance: connect.Medium, Group: exactlyOnceGroup, OrderInGroup: 1, Width: connect.WidthShort, DisplayName: "Exactly once support",
		Doc: "required fails validation and the tasks' start on a worker with exactly.once.source.support=enabled unless the connector declares it can deliver exactly once; requested runs it with transactions regardless."}).
		Define(connect.ConfigKey{Name: TransactionBoundary, Type: connect.ConfigString, Default: boundaryPoll, Validator: connect.OneOf(boundaryPoll, boundaryInterval, boundaryConnector), Importance: connect.Medium, Group: exactlyOnceGroup, OrderInGroup: 2, Width: connect.WidthShort, DisplayName: "Transaction Boundary",
			Doc: "Where a task's transactions end when exactly-once is on: after each non-empty poll; every transaction.boundary.interval.ms; or where the task asks through its TransactionContext (connectors that declare they can)."}).
		Define(connect.ConfigKey{Name: TransactionBoundaryInterval, Type: connect.ConfigLong, Default: nil, Validator: nullOrAtLeast(0), Importance: connect.Low, Group: exactlyOnceGroup, OrderInGroup: 3, Width: connect.WidthShort, DisplayName: "Transaction boundary interval",
			Doc: "With transaction.boundary=interval, the longest a transaction stays open, in milliseconds, checked after each poll; unset, the worker's offset.flush.interval.ms. Rejected with another boundary, where it would be ignored."}).
		Define(connect.ConfigKey{Name: OffsetsStorageTopic, Type: connect.ConfigString, Default: nil, Validator: nullOrNonEmpty, Importance: connect.Low, Group: offsetsTopicGroup, OrderInGroup: 1, Width: connect.WidthLong, DisplayName: "Offsets topic",
			Doc: "A topic of the connector's own for its source offsets, with exactly-once on or off, created when missing with the worker's offset.storage.* settings on the cluster the connector's producer writes to; unset, the worker's offset.storage.topic. Reads fall back on the worker's topic and commits are copied to it, so a connector given its own topic resumes from the offsets it had there. Needs a worker that keeps offsets in Kafka: distributed mode, or standalone mode with exactly.once.source.support=enabled; a standalone worker with the offsets file rejects it."})
}

// nullOrNonEmpty accepts an unset value or a non-empty one, as upstream's ConfigDef.NonEmptyString.
var nullOrNonEmpty = connect.ValidatorFunc("non-empty string", func(name string, v any) error {
	if s, ok := v.(string); ok && s == "" {
		return fmt.Errorf("Invalid value  for configuration %s: String must be non-empty", name)
	}
	return nil
})

// nullOrAtLeast accepts an unset value or one of at least lo.
func nullOrAtLeast(lo int64) connect.Validator {
	return connect.ValidatorFunc(fmt.Sprintf("[%d,...]", lo), func(name string, v any) error {
		if n, ok := v.(int64); ok && n < lo {
			return fmt.Errorf("Invalid value %d for configuration %s: Value must be at least %d", n, name, lo)
		}
		return nil
	})
}

// exactlyOnceEnabled reports whether the worker runs its source tasks in transactions.
func (w *Worker) exactlyOnceEnabled() bool {
	return w.cfg.String(ExactlyOnceSourceSupport) == eosEnabled
}

// checkExactlyOnceWorker rejects an enabled worker that lacks what transactions need.
func checkExactlyOnceWorker(props map[string]string, cfg *connect.Config, store offsets.Store) error {
	if cfg.String(ExactlyOnceSourceSupport) != eosEnabled {
		return nil
	}
	if props[GroupID] == "" {
		return fmt.Errorf("%s=%s needs %s, the prefix of the tasks' transactional ids", ExactlyOnceSourceSupport, eosEnabled, GroupID)
	}
	if _, ok := store.(*offsets.TopicStore); !ok {
		return fmt.Errorf("%s=%s needs the source offsets in a Kafka topic (offset.storage.topic), not %T", ExactlyOnceSourceSupport, eosEnabled, store)
	}
	return nil
}

// exactlyOnceErrors returns, by key, what makes a source connector's configuration of the KIP-618
// keys unfit for the worker's exactly-once setting and offset store; empty when it is fit. Keys
// that fail their own validation are left to it.
func (w *Worker) exactlyOnceErrors(conn connect.Connector, props map[string]string) map[string]string {
	errs := map[string]string{}
	if msg := w.offsetsTopicError(props); msg != "" {
		errs[OffsetsStorageTopic] = msg
	}
	boundary := props[TransactionBoundary]
	if boundary == "" {
		boundary = boundaryPoll
	}
	if props[TransactionBoundaryInterval] != "" && boundary != boundaryInterval {
		errs[TransactionBoundaryInterval] = fmt.Sprintf("only used with %s=%s, but %s=%s", TransactionBoundary, boundaryInterval, TransactionBoundary, boundary)
	}
	if !w.exactlyOnceEnabled() {
		return errs
	}
	if props[ExactlyOnceSupport] == eosRequired {
		c, ok := conn.(connect.ExactlyOnceConnector)
		if !ok || !c.ExactlyOnceSupport(props) {
			errs[ExactlyOnceSupport] = "The connector does not support exactly-once semantics with the provided configuration."
		}
	}
	if boundary == boundaryConnector {
		c, ok := conn.(connect.TransactionBoundaryConnector)
		if !ok || !c.CanDefineTransactionBoundaries(props) {
			errs[TransactionBoundary] = "The connector does not support connector-defined transaction boundaries with the given configuration."
		}
	}
	return errs
}

// validateExactlyOnce adds exactlyOnceErrors to a source connector's validation values.
func (w *Worker) validateExactlyOnce(conn connect.Connector, props map[string]string, values []connect.ConfigValue) {
	for key, msg := range w.exactlyOnceErrors(conn, props) {
		for i := range values {
			if values[i].Name == key && len(values[i].Errors) == 0 {
				values[i].Errors = append(values[i].Errors, msg)
			}
		}
	}
}

// TransactionalID is the transactional id of an exactly-once source task's producer, as
// upstream's: ${group.id}-${connector}-${task}.
func TransactionalID(groupID, connector string, task int) string {
	return fmt.Sprintf("%s-%s-%d", groupID, connector, task)
}

// OffsetTopicSettings returns the settings of the offsets topic name (a connector's
// offsets.storage.topic) from the worker's offset.storage.* properties (its partitions,
// replication factor and configs, but not offset.storage.file.filename), reading committed
// records only, so that offsets written in a transaction that aborted are never seen; an empty
// name means the worker's own offset.storage.topic, DefaultOffsetsTopic when unset.
func OffsetTopicSettings(props map[string]string, name string) (kafkalog.Topic, error) {
	p := make(map[string]string, len(props)+1)
	for k, v := range props {
		p[k] = v
	}
	// The standalone worker's offsets file is no topic config.
	delete(p, OffsetStorageFile)
	if name != "" {
		p[kafkalog.OffsetTopic.Prefix+kafkalog.TopicSuffix] = name
	} else if p[kafkalog.OffsetTopic.Prefix+kafkalog.TopicSuffix] == "" {
		p[kafkalog.OffsetTopic.Prefix+kafkalog.TopicSuffix] = DefaultOffsetsTopic
	}
	t, err := kafkalog.TopicFromWorker(p, kafkalog.OffsetTopic)
	t.ReadCommitted = true
	return t, err
}

// OffsetTopicClientOpts are the Kafka client options an offsets TopicStore of an exactly-once
// worker is opened with: the worker's admin client settings.
func OffsetTopicClientOpts(props map[string]string) ([]kgo.Opt, error) {
	opts, err := clientOpts(clientProps(props, nil, "admin"))
	if err != nil {
		return nil, fmt.Errorf("offsets topic client config: %w", err)
	}
	return opts, nil
}

// txnInterval returns transaction.boundary.interval.ms, or the worker's flush interval.
func (w *Worker) txnInterval(cfg *connect.Config) time.Duration {
	if strings.TrimSpace(cfg.Originals()[TransactionBoundaryInterval]) != "" {
		return time.Duration(cfg.Long(TransactionBoundaryInterval)) * time.Millisecond
	}
	return w.flushInterval()
}

// FenceProducers fences the transactional producers of tasks 0 to tasks-1 of a connector, as
// upstream's leader does through Admin.fenceProducers before a new generation of an exactly-once
// connector's tasks starts: initializing each transactional id bumps its epoch, which aborts the
// transaction a zombie instance left open and fails any later write or commit of that instance.
// It needs group.id, which names the ids (see TransactionalID).
func (w *Worker) FenceProducers(ctx context.Context, connector string, tasks int) error {
	group := w.props[GroupID]
	if group == "" {
		return fmt.Errorf("fence producers of %s: %s is not set", connector, GroupID)
	}
	opts, err := clientOpts(clientProps(w.props, nil, "producer"))
	if err != nil {
		return fmt.Errorf("fence producers of %s: producer config: %w", connector, err)
	}
	for task := range tasks {
		id := TransactionalID(group, connector, task)
		cl, err := kgo.NewClient(append(opts, kgo.TransactionalID(id))...)
		if err != nil {
			return fmt.Errorf("fence producer %s: %w", id, err)
		}
		_, _, err = cl.ProducerID(ctx)
		cl.Close()
		if err != nil {
			return fmt.Errorf("fence producer %s: %w", id, err)
		}
	}
	return nil
}

// PutSourceOffsets writes offsets of the stopped source connector with config connProps to its
// store l, for the offsets endpoints. On an exactly-once worker, as upstream's, the write to the
// connector's offsets topic is a transaction of task 0's transactional producer: taking that id
// over fences a zombie of task 0 first, so it cannot commit offsets over the new ones.
func (w *Worker) PutSourceOffsets(ctx context.Context, connector string, connProps map[string]string, l *offsets.Layered, offs []connect.SourceOffset) error {
	if !w.exactlyOnceEnabled() {
		return l.Put(ctx, connector, offs)
	}
	store := primaryTopic(l)
	return l.PutVia(ctx, connector, offs, func(ctx context.Context) error {
		recs, err := store.Records(connector, offs)
		if err != nil {
			return err
		}
		opts, err := sourceProducerOpts(clientProps(w.props, connProps, "producer"), w.lease)
		if err != nil {
			return err
		}
		cl, err := kgo.NewClient(txnProducerOpts(opts, TransactionalID(w.props[GroupID], connector, 0))...)
		if err != nil {
			return fmt.Errorf("create transactional producer: %w", err)
		}
		defer cl.Close()
		if _, _, err := cl.ProducerID(ctx); err != nil {
			return txnError("initialize the transactional producer of task 0", err)
		}
		if err := cl.BeginTransaction(); err != nil {
			return fmt.Errorf("begin transaction: %w", err)
		}
		end := kgo.TryCommit
		err = cl.ProduceSync(ctx, recs...).FirstErr()
		if err != nil {
			end = kgo.TryAbort
		}
		if endErr := cl.EndTransaction(ctx, end); err == nil && endErr != nil {
			err = txnError("commit transaction", endErr)
		}
		if err != nil {
			return fmt.Errorf("store offsets of %s in %s: %w", connector, store.Topic(), err)
		}
		return nil
	})
}
