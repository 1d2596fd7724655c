// Package statusstore keeps the statuses of a distributed cluster's connectors and tasks, and
// the topics connectors use, in the status topic (status.storage.topic), record for record as
// Kafka Connect's KafkaStatusBackingStore, so statuses written by Kafka Connect workers and
// kconnect workers mix in one topic.
//
// Statuses are written without waiting (Flush waits) and read back from the topic, with
// upstream's rules against stale writes: every status carries the group generation of the
// worker that wrote it; a safe write is skipped when another worker wrote a newer generation,
// and an UNASSIGNED task status that is not newer than a RUNNING one is ignored when read.
package statusstore

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/kafkalog"
)

// Status is the status of a connector or task as the status topic holds it.
type Status struct {
	State herder.State
	// Trace is the stack trace (or error text) of a failure; "" for none.
	Trace string
	// WorkerID is the worker running it: its advertised host:port.
	WorkerID string
	// Generation is the group generation of the worker when it wrote the status.
	Generation int32
	// Version is the version of the connector's plugin (Kafka Connect 4.x), as GET
	// /connector-plugins reports it; "" for none.
	Version string
	// Progress is kconnect's addition: how far a task's snapshot or load is, nil when it
	// reports none, so that every worker shows the progress of tasks running elsewhere.
	Progress *herder.Progress
}

// TopicStatus records that a connector's task used a topic (KIP-558, GET /connectors/{c}/topics).
type TopicStatus struct {
	Topic     string
	Connector string
	Task      int32
	// DiscoverTimestamp is when the task first used the topic, in Unix milliseconds.
	DiscoverTimestamp int64
}

// Store is what a herder needs of the cluster's statuses. Put methods write without waiting;
// Flush waits for what was put before it. Reads answer from what was read from the topic so far.
type Store interface {
	// PutConnector writes a connector's status.
	PutConnector(connector string, s Status)
	// PutConnectorSafe writes a connector's status unless a different worker wrote a newer
	// generation's status, as a worker that lost the connector in a rebalance must not
	// overwrite its new owner's.
	PutConnectorSafe(connector string, s Status)
	// PutTask writes a task's status.
	PutTask(id herder.TaskID, s Status)
	// PutTaskSafe writes a task's status with PutConnectorSafe's rule.
	PutTaskSafe(id herder.TaskID, s Status)
	// DeleteConnector writes tombstones for a deleted connector's status and its tasks'
	// (tasks 0..tasks-1), as upstream does when a connector is destroyed.
	DeleteConnector(connector string, tasks int)
	// PutTopic records that a connector's task used a topic.
	PutTopic(t TopicStatus)
	// DeleteTopic forgets that a connector used a topic.
	DeleteTopic(connector, topic string)
	// Connector returns a connector's status.
	Connector(connector string) (Status, bool)
	// Task returns a task's status.
	Task(id herder.TaskID) (Status, bool)
	// Tasks returns the statuses of a connector's tasks by task number.
	Tasks(connector string) map[int]Status
	// Connectors lists the connectors with a status, sorted.
	Connectors() []string
	// Topics lists the topics a connector used, sorted by topic.
	Topics(connector string) []TopicStatus
	// Flush waits until everything put so far is written.
	Flush(ctx context.Context) error
	// Refresh reads everything written to the topic so far.
	Refresh(ctx context.Context) error
	// Close releases the store.
	Close() error
}

// TopicStore is the Store on the status topic.
type TopicStore struct {
	log *kafkalog.Log
	lg  *slog.Logger

	mu         sync.Mutex
	connectors map[string]Status
	tasks      map[string]map[int]Status
	topics     map[string]map[string]TopicStatus
}

var _ Store = (*TopicStore)(nil)

// OpenTopic opens the status topic t, creating it when missing, and reads it to the end. opts
// are the Kafka client options of the worker (brokers, security, client id).
func OpenTopic(ctx context.Context, opts []kgo.Opt, t kafkalog.Topic, log *slog.Logger) (*TopicStore, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &TopicStore{lg: log.With("topic", t.Name), connectors: map[string]Status{},
		tasks: map[string]map[int]Status{}, topics: map[string]map[string]TopicStatus{}}
	l, err := kafkalog.Open(ctx, opts, t, s.apply, log)
	if err != nil {
		return nil, err
	}
	s.log = l
	return s, nil
}

func (s *TopicStore) apply(r *kgo.Record) {
	key := string(r.Key)
	switch {
	case strings.HasPrefix(key, ConnectorPrefix):
		s.applyConnector(strings.TrimPrefix(key, ConnectorPrefix), r.Value)
	case strings.HasPrefix(key, TaskPrefix):
		id, ok := kafkalog.ParseTaskKey(TaskPrefix, key)
		if !ok {
			s.lg.Warn("discarding status record with an invalid task key", "key", key)
			return
		}
		s.applyTask(id, r.Value)
	case strings.HasPrefix(key, TopicPrefix):
		connector, topic, ok := parseTopicKey(key)
		if !ok {
			s.lg.Warn("discarding status record with an invalid topic key", "key", key)
			return
		}
		s.applyTopic(connector, topic, r.Value)
	default:
		s.lg.Warn("discarding status record with an unknown key", "key", key)
	}
}

func (s *TopicStore) applyConnector(connector string, value []byte) {
	if connector == "" {
		s.lg.Warn("discarding connector status without a connector name")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if value == nil {
		// A destroyed connector: upstream forgets its tasks' statuses with it.
		delete(s.connectors, connector)
		delete(s.tasks, connector)
		return
	}
	st, err := decodeStatus(value)
	if err != nil {
		s.lg.Error("ignoring malformed connector status", "connector", connector, "err", err)
		return
	}
	s.connectors[connector] = st
}

func (s *TopicStore) applyTask(id herder.TaskID, value []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if value == nil {
		delete(s.tasks[id.Connector], id.Task)
		return
	}
	st, err := decodeStatus(value)
	if err != nil {
		s.lg.Error("ignoring malformed task status", "connector", id.Connector, "task", id.Task, "err", err)
		return
	}
	cur, ok := s.tasks[id.Connector][id.Task]
	// In a rebalance a worker may write UNASSIGNED for a task another worker already reported
	// RUNNING in the same or a later generation, not having read that yet: stale, ignored.
	if ok && st.State == herder.Unassigned && cur.State == herder.Running && cur.Generation >= st.Generation {
		return
	}
	if s.tasks[id.Connector] == nil {
		s.tasks[id.Connector] = map[int]Status{}
	}
	s.tasks[id.Connector][id.Task] = st
}

func (s *TopicStore) applyTopic(connector, topic string, value []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if value == nil {
		delete(s.topics[connector], topic)
		return
	}
	t, err := decodeTopic(value)
	if err != nil {
		s.lg.Error("ignoring malformed topic status", "connector", connector, "topic", topic, "err", err)
		return
	}
	if s.topics[connector] == nil {
		s.topics[connector] = map[string]TopicStatus{}
	}
	s.topics[connector][topic] = t
}

// canWriteSafely is upstream's rule: nothing known, the same worker, or not an older generation.
func canWriteSafely(cur Status, known bool, next Status) bool {
	return !known || cur.WorkerID == next.WorkerID || cur.Generation <= next.Generation
}

// PutConnector implements Store.
func (s *TopicStore) PutConnector(connector string, st Status) {
	s.send(ConnectorKey(connector), st)
}

// PutConnectorSafe implements Store.
func (s *TopicStore) PutConnectorSafe(connector string, st Status) {
	s.mu.Lock()
	cur, known := s.connectors[connector]
	s.mu.Unlock()
	if canWriteSafely(cur, known, st) {
		s.send(ConnectorKey(connector), st)
	}
}

// PutTask implements Store.
func (s *TopicStore) PutTask(id herder.TaskID, st Status) { s.send(TaskKey(id), st) }

// PutTaskSafe implements Store.
func (s *TopicStore) PutTaskSafe(id herder.TaskID, st Status) {
	s.mu.Lock()
	cur, known := s.tasks[id.Connector][id.Task]
	s.mu.Unlock()
	if canWriteSafely(cur, known, st) {
		s.send(TaskKey(id), st)
	}
}

// DeleteConnector implements Store.
func (s *TopicStore) DeleteConnector(connector string, tasks int) {
	for i := range tasks {
		s.sendRaw(TaskKey(herder.TaskID{Connector: connector, Task: i}), nil)
	}
	s.sendRaw(ConnectorKey(connector), nil)
}

// PutTopic implements Store.
func (s *TopicStore) PutTopic(t TopicStatus) {
	v, err := encodeTopic(t)
	if err != nil {
		s.lg.Error("cannot write topic status", "connector", t.Connector, "topic", t.Topic, "err", err)
		return
	}
	s.sendRaw(TopicKey(t.Connector, t.Topic), v)
}

// DeleteTopic implements Store.
func (s *TopicStore) DeleteTopic(connector, topic string) {
	s.sendRaw(TopicKey(connector, topic), nil)
}

func (s *TopicStore) send(key string, st Status) {
	v, err := encodeStatus(st)
	if err != nil {
		s.lg.Error("cannot write status", "key", key, "err", err)
		return
	}
	s.sendRaw(key, v)
}

func (s *TopicStore) sendRaw(key string, value []byte) {
	s.log.SendAsync(context.Background(), &kgo.Record{Key: []byte(key), Value: value}, func(err error) {
		if err != nil {
			s.lg.Error("failed to write status update", "key", key, "err", err)
		}
	})
}

// Connector implements Store.
func (s *TopicStore) Connector(connector string) (Status, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.connectors[connector]
	return st, ok
}

// Task implements Store.
func (s *TopicStore) Task(id herder.TaskID) (Status, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.tasks[id.Connector][id.Task]
	return st, ok
}

// Tasks implements Store.
func (s *TopicStore) Tasks(connector string) map[int]Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int]Status, len(s.tasks[connector]))
	for n, st := range s.tasks[connector] {
		out[n] = st
	}
	return out
}

// Connectors implements Store.
func (s *TopicStore) Connectors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.connectors))
	for c := range s.connectors {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// Topics implements Store.
func (s *TopicStore) Topics(connector string) []TopicStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]TopicStatus, 0, len(s.topics[connector]))
	for _, t := range s.topics[connector] {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b TopicStatus) int { return strings.Compare(a.Topic, b.Topic) })
	return out
}

// Flush implements Store.
func (s *TopicStore) Flush(ctx context.Context) error { return s.log.Flush(ctx) }

// Refresh implements Store.
func (s *TopicStore) Refresh(ctx context.Context) error { return s.log.ReadToEnd(ctx) }

// Close implements Store: statuses not yet written are abandoned, as a stopping worker's
// would be upstream; call Flush first to keep them.
func (s *TopicStore) Close() error {
	s.log.Close()
	return nil
}
