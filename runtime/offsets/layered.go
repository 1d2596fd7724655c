package offsets

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/kconnect/kconnect/connect"
)

// Layered is the offset store of one source connector, as upstream's
// ConnectorOffsetBackingStore: with an offsets topic of the connector's own
// (offsets.storage.topic), reads prefer the connector's store and fall back on the worker's, so
// a connector moved to its own topic resumes from the offsets it had, and writes go to the
// connector's store and are copied to the worker's; without one, everything goes to the
// worker's store.
type Layered struct {
	// Connector is the store of the connector's own topic, nil when it has none; Layered owns it
	// and closes it.
	Connector Store
	// Worker is the worker's store, shared with other connectors; Layered never closes it.
	Worker Store
	// Log reports failed copies to the worker's store; nil means slog.Default().
	Log *slog.Logger
}

// Get implements Store.
func (l *Layered) Get(connector string, partition map[string]any) (map[string]any, error) {
	if l.Connector == nil {
		return l.Worker.Get(connector, partition)
	}
	off, err := l.Connector.Get(connector, partition)
	if err != nil || off != nil {
		return off, err
	}
	return l.Worker.Get(connector, partition)
}

// List implements Store: the partitions of both stores, each with the offset Get returns.
func (l *Layered) List(connector string) ([]connect.SourceOffset, error) {
	if l.Connector == nil {
		return l.Worker.List(connector)
	}
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
	primary := l.Worker
	if l.Connector != nil {
		primary = l.Connector
	}
	return l.PutVia(ctx, connector, offsets, func(ctx context.Context) error { return primary.Put(ctx, connector, offsets) })
}

// PutVia is Put with write doing the write that counts, of every offset to the connector's store
// (or the worker's, without one): an exactly-once worker writes them in a transaction.
func (l *Layered) PutVia(ctx context.Context, connector string, offsets []connect.SourceOffset, write func(context.Context) error) error {
	if l.Connector == nil {
		return write(ctx)
	}
	var deletes []connect.SourceOffset
	for _, o := range offsets {
		if o.Offset == nil {
			deletes = append(deletes, o)
		}
	}
	if len(deletes) > 0 {
		if err := l.Worker.Put(ctx, connector, deletes); err != nil {
			return fmt.Errorf("delete offsets from the worker's offsets topic first: %w", err)
		}
	}
	if err := write(ctx); err != nil {
		return err
	}
	l.CopyToWorker(ctx, connector, offsets)
	return nil
}

// CopyToWorker copies offsets already written to the connector's store (by Put, or by an
// exactly-once task's transaction) to the worker's store, as upstream's secondary write: a
// failure is only logged, since the connector's store holds them. Deletions are not copied:
// they reach the worker's store first. Without a connector store it does nothing.
func (l *Layered) CopyToWorker(ctx context.Context, connector string, offsets []connect.SourceOffset) {
	if l.Connector == nil {
		return
	}
	var updates []connect.SourceOffset
	for _, o := range offsets {
		if o.Offset != nil {
			updates = append(updates, o)
		}
	}
	if len(updates) == 0 {
		return
	}
	if err := l.Worker.Put(ctx, connector, updates); err != nil {
		lg := l.Log
		if lg == nil {
			lg = slog.Default()
		}
		lg.Warn("failed to copy offsets to the worker's offsets topic", "connector", connector, "err", err)
	}
}

// Close closes the connector's store; the worker's stays open for other connectors.
func (l *Layered) Close() error {
	if l.Connector == nil {
		return nil
	}
	return l.Connector.Close()
}
