package offsets

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/kconnect/kconnect/connect"
)

// ConnectorStoreNeeded reports whether a source connector configured with offsetsTopic (its
// offsets.storage.topic, "" when unset) needs a store of its own next to the worker's, whose
// topic is workerTopic: when it names another topic. Upstream uses a connector store alone when
// the two topics are the same; here the worker's store already is that store. The connector's
// store is an OpenTopic of the worker's offsets topic settings with the name replaced, as
// upstream creates it with the worker's offset.storage.* settings, wrapped in a Layered.
func ConnectorStoreNeeded(offsetsTopic, workerTopic string) bool {
	return offsetsTopic != "" && offsetsTopic != workerTopic
}

// Layered is the offset store of a source connector with an offsets topic of its own
// (offsets.storage.topic), as upstream's ConnectorOffsetBackingStore: reads prefer the
// connector's store and fall back on the worker's, so a connector moved to its own topic resumes
// from the offsets it had; writes go to the connector's store and are copied to the worker's.
type Layered struct {
	// Connector is the store of the connector's own topic; Layered owns it and closes it.
	Connector Store
	// Worker is the worker's store, shared with other connectors; Layered never closes it.
	Worker Store
	// Log reports failed copies to the worker's store; nil means slog.Default().
	Log *slog.Logger
}

// Get implements Store.
func (l *Layered) Get(connector string, partition map[string]any) (map[string]any, error) {
	off, err := l.Connector.Get(connector, partition)
	if err != nil || off != nil {
		return off, err
	}
	return l.Worker.Get(connector, partition)
}

// List implements Store: the partitions of both stores, each with the offset Get returns.
func (l *Layered) List(connector string) ([]connect.SourceOffset, error) {
	own, err := l.Connector.List(connector)
	if err != nil {
		return nil, err
	}
	worker, err := l.Worker.List(connector)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(own))
	for _, o := range own {
		k, err := Key(connector, o.Partition)
		if err != nil {
			return nil, err
		}
		seen[string(k)] = true
	}
	out := own
	for _, o := range worker {
		k, err := Key(connector, o.Partition)
		if err != nil {
			return nil, err
		}
		if !seen[string(k)] {
			out = append(out, o)
		}
	}
	return out, nil
}

// Put implements Store in upstream's order (KAFKA-15018). Deletions are written to the worker's
// store first, so that a deleted offset cannot reappear from the fallback; then everything to
// the connector's store, which is the write that counts; then the remaining offsets are copied
// to the worker's store, where a failure is only logged.
func (l *Layered) Put(ctx context.Context, connector string, offsets []connect.SourceOffset) error {
	var deletes, updates []connect.SourceOffset
	for _, o := range offsets {
		if o.Offset == nil {
			deletes = append(deletes, o)
		} else {
			updates = append(updates, o)
		}
	}
	if len(deletes) > 0 {
		if err := l.Worker.Put(ctx, connector, deletes); err != nil {
			return fmt.Errorf("delete offsets from the worker's offsets topic first: %w", err)
		}
	}
	if err := l.Connector.Put(ctx, connector, offsets); err != nil {
		return err
	}
	if len(updates) > 0 {
		if err := l.Worker.Put(ctx, connector, updates); err != nil {
			lg := l.Log
			if lg == nil {
				lg = slog.Default()
			}
			lg.Warn("failed to copy offsets to the worker's offsets topic", "connector", connector, "err", err)
		}
	}
	return nil
}

// Close closes the connector's store; the worker's stays open for other connectors.
func (l *Layered) Close() error { return l.Connector.Close() }
