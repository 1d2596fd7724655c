// Package configstore keeps the configuration of a distributed cluster — connector and task
// configurations, target states, restart requests, the session key — in the config topic
// (config.storage.topic), record for record as Kafka Connect's KafkaConfigBackingStore, so a
// Kafka Connect cluster's config topic can be taken over unchanged and the other way round.
//
// The topic has one partition and is compacted. Task configurations are written one record per
// task and become visible only when the commit-<connector> record after them is read, all at
// once, so no reader ever sees half of an old and half of a new set.
package configstore

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/kafkalog"
)

// Store is what a herder needs of the cluster's configuration. Writes return once Kafka has
// acknowledged them and, where upstream waits so too, once they have been read back into the
// snapshot. Only the leader writes configurations and task configurations; any worker writes
// target states and restart requests (forwarding them is the herder's business).
type Store interface {
	// Snapshot returns the configuration as read so far.
	Snapshot() Snapshot
	// Contains reports whether a connector has a configuration.
	Contains(connector string) bool
	// PutConnectorConfig writes a connector's configuration and, unless target is "", its
	// target state (before the configuration, as upstream, so it is in force when the
	// connector first starts).
	PutConnectorConfig(ctx context.Context, connector string, config map[string]string, target herder.TargetState) error
	// RemoveConnectorConfig deletes a connector: tombstones for its configuration and target state.
	RemoveConnectorConfig(ctx context.Context, connector string) error
	// PutTaskConfigs writes a connector's task configurations and then the commit that applies them.
	PutTaskConfigs(ctx context.Context, connector string, configs []map[string]string) error
	// PutTargetState writes a connector's target state without waiting to read it back.
	PutTargetState(ctx context.Context, connector string, state herder.TargetState) error
	// PutRestartRequest writes a restart request.
	PutRestartRequest(ctx context.Context, r RestartRequest) error
	// PutSessionKey writes a new session key.
	PutSessionKey(ctx context.Context, k SessionKey) error
	// PutTaskCountRecord writes how many task producers to fence (exactly-once source support).
	PutTaskCountRecord(ctx context.Context, connector string, count int) error
	// PutLoggerLevel asks every worker to set a logger's level, without waiting to read it back.
	PutLoggerLevel(ctx context.Context, namespace, level string) error
	// Refresh reads everything written so far into the snapshot.
	Refresh(ctx context.Context) error
	// Close releases the store.
	Close() error
}

// TopicStore is the Store on the config topic.
type TopicStore struct {
	log      *kafkalog.Log
	onUpdate func(Update)

	mu      sync.Mutex
	st      *state
	started bool // updates are reported only after the first read to the end, as upstream
}

var _ Store = (*TopicStore)(nil)

// Options configures OpenTopic.
type Options struct {
	// Client are the Kafka client options of the worker (brokers, security, client id).
	Client []kgo.Opt
	// Topic is the config topic; its Partitions are ignored (always 1).
	Topic kafkalog.Topic
	// OnUpdate, if set, is told of every change read after the store was opened. It runs on the
	// store's reading goroutine, before the snapshot includes later records; it must return
	// quickly and not call the store's writing methods (hand the update to the herder's own
	// goroutine instead).
	OnUpdate func(Update)
	Log      *slog.Logger
}

// OpenTopic opens the config topic, creating it with one partition when missing, checks that it
// is compacted and has one partition, as upstream, and reads it to the end.
func OpenTopic(ctx context.Context, o Options) (*TopicStore, error) {
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	s := &TopicStore{onUpdate: o.OnUpdate, st: newState(log.With("topic", o.Topic.Name))}
	t := o.Topic
	t.Partitions = 1
	l, err := kafkalog.Open(ctx, o.Client, t, s.apply, log)
	if err != nil {
		return nil, err
	}
	n, err := l.Partitions(ctx)
	if err == nil && n > 1 {
		err = fmt.Errorf("topic '%s' supplied via the '%s' property is required to have a single partition in order "+
			"to guarantee consistency of connector configurations, but found %d partitions. Give '%s' a new topic "+
			"(kconnect creates it with one partition) or recreate this one with one partition",
			t.Name, t.Setting, n, t.Setting)
	}
	if err != nil {
		l.Close()
		return nil, err
	}
	s.log = l
	s.mu.Lock()
	s.started = true
	s.mu.Unlock()
	return s, nil
}

func (s *TopicStore) apply(r *kgo.Record) {
	s.mu.Lock()
	updates := s.st.apply(r.Offset, string(r.Key), r.Value)
	started := s.started
	s.mu.Unlock()
	if started && s.onUpdate != nil {
		for _, u := range updates {
			s.onUpdate(u)
		}
	}
}

// Snapshot implements Store.
func (s *TopicStore) Snapshot() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.copy()
}

// Contains implements Store.
func (s *TopicStore) Contains(connector string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.st.snap.Connectors[connector]
	return ok
}

// PutConnectorConfig implements Store.
func (s *TopicStore) PutConnectorConfig(ctx context.Context, connector string, config map[string]string, target herder.TargetState) error {
	var recs []*kgo.Record
	if target != "" {
		recs = append(recs, record(TargetStatePrefix+connector, encodeTargetState(target)))
	}
	recs = append(recs, record(ConnectorPrefix+connector, encodeConfig(config)))
	return s.sendAndRead(ctx, "configuration of connector "+connector, recs...)
}

// RemoveConnectorConfig implements Store.
func (s *TopicStore) RemoveConnectorConfig(ctx context.Context, connector string) error {
	return s.sendAndRead(ctx, "removal of connector "+connector,
		record(ConnectorPrefix+connector, nil), record(TargetStatePrefix+connector, nil))
}

// PutTaskConfigs implements Store as upstream: catch up, write every task's configuration, read
// them back, then write the commit and read it back.
func (s *TopicStore) PutTaskConfigs(ctx context.Context, connector string, configs []map[string]string) error {
	what := "task configurations of connector " + connector
	if err := s.log.ReadToEnd(ctx); err != nil {
		return fmt.Errorf("write %s: %w", what, err)
	}
	recs := make([]*kgo.Record, len(configs))
	for i, c := range configs {
		recs[i] = record(TaskKey(herder.TaskID{Connector: connector, Task: i}), encodeConfig(c))
	}
	if len(recs) > 0 {
		if err := s.sendAndRead(ctx, what, recs...); err != nil {
			return err
		}
	}
	return s.sendAndRead(ctx, "task commit of connector "+connector,
		record(CommitPrefix+connector, encode(commitSchema, int32(len(configs)))))
}

// PutTargetState implements Store.
func (s *TopicStore) PutTargetState(ctx context.Context, connector string, state herder.TargetState) error {
	if err := s.log.Send(ctx, record(TargetStatePrefix+connector, encodeTargetState(state))); err != nil {
		return fmt.Errorf("write target state %s of connector %s: %w", state, connector, err)
	}
	return nil
}

// PutRestartRequest implements Store.
func (s *TopicStore) PutRestartRequest(ctx context.Context, r RestartRequest) error {
	return s.sendAndRead(ctx, "restart request of connector "+r.Connector,
		record(RestartPrefix+r.Connector, encode(restartSchema, r.IncludeTasks, r.OnlyFailed)))
}

// PutSessionKey implements Store.
func (s *TopicStore) PutSessionKey(ctx context.Context, k SessionKey) error {
	return s.sendAndRead(ctx, "session key", record(SessionKeyKey, encodeSessionKey(k)))
}

// PutTaskCountRecord implements Store.
func (s *TopicStore) PutTaskCountRecord(ctx context.Context, connector string, count int) error {
	return s.sendAndRead(ctx, "task count record of connector "+connector,
		record(TaskCountPrefix+connector, encode(taskCountSchema, int32(count))))
}

// PutLoggerLevel implements Store.
func (s *TopicStore) PutLoggerLevel(ctx context.Context, namespace, level string) error {
	if err := s.log.Send(ctx, record(LoggerPrefix+namespace, encode(loggerSchema, level))); err != nil {
		return fmt.Errorf("write level %s of logger %s: %w", level, namespace, err)
	}
	return nil
}

// Refresh implements Store.
func (s *TopicStore) Refresh(ctx context.Context) error { return s.log.ReadToEnd(ctx) }

// Close implements Store.
func (s *TopicStore) Close() error {
	s.log.Close()
	return nil
}

func (s *TopicStore) sendAndRead(ctx context.Context, what string, recs ...*kgo.Record) error {
	if err := s.log.Send(ctx, recs...); err != nil {
		return fmt.Errorf("write %s: %w", what, err)
	}
	if err := s.log.ReadToEnd(ctx); err != nil {
		return fmt.Errorf("read back %s: %w", what, err)
	}
	return nil
}

func record(key string, value []byte) *kgo.Record {
	return &kgo.Record{Key: []byte(key), Value: value}
}
