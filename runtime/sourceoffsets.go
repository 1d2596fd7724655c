package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/kconnect/kconnect/runtime/offsets"
)

// connectorOffsetsTopicsPermitted reports whether a source connector may have an offsets topic of
// its own (offsets.storage.topic): only where the worker keeps source offsets in Kafka. Upstream
// permits it in distributed mode and ignores the key in standalone mode; kconnect's standalone
// worker with exactly-once on keeps an offsets topic too, and the one with the offsets file
// rejects the key rather than ignore it.
func (w *Worker) connectorOffsetsTopicsPermitted() bool {
	_, ok := w.offsets.(*offsets.TopicStore)
	return ok
}

// offsetsTopicError says why a source connector's offsets.storage.topic is unfit for this worker,
// "" when it is fit or unset.
func (w *Worker) offsetsTopicError(props map[string]string) string {
	topic := strings.TrimSpace(props[OffsetsStorageTopic])
	if topic == "" || w.connectorOffsetsTopicsPermitted() {
		return ""
	}
	return fmt.Sprintf("Invalid value %s for configuration %s: a connector's own offsets topic needs a worker that keeps source offsets in Kafka "+
		"(distributed mode, or standalone mode with %s=%s); this standalone worker keeps them in %s",
		topic, OffsetsStorageTopic, ExactlyOnceSourceSupport, eosEnabled, OffsetStorageFile)
}

// SourceOffsets returns the offset store of the source connector with config connProps, as
// upstream's Worker picks it for the connector's tasks and its offsets endpoints: the worker's
// store alone, unless offsets.storage.topic names another topic than the worker's (or the same
// name on another cluster than the worker's, by the connector's producer's bootstrap.servers);
// then a Layered over a store of that topic, created when missing with the worker's
// offset.storage.* settings and reached with the connector's producer settings, as the offsets are
// written where the connector writes. Closing the result closes only what was opened for it.
func (w *Worker) SourceOffsets(connProps map[string]string, log *slog.Logger) (*offsets.Layered, error) {
	l := &offsets.Layered{Worker: w.offsets, Log: log}
	topic := strings.TrimSpace(connProps[OffsetsStorageTopic])
	if topic == "" {
		return l, nil
	}
	if msg := w.offsetsTopicError(connProps); msg != "" {
		return nil, fmt.Errorf("%s", msg)
	}
	producer := clientProps(w.props, connProps, "producer")
	if topic == w.offsets.(*offsets.TopicStore).Topic() && sameServers(producer[BootstrapServers], w.props[BootstrapServers]) {
		return l, nil
	}
	t, err := OffsetTopicSettings(w.props, topic)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", OffsetsStorageTopic, err)
	}
	if !w.exactlyOnceEnabled() {
		// Upstream's default for a regular connector's offsets consumer, which the connector may
		// override; exactly-once forces read_committed.
		iso := clientProps(w.props, connProps, "consumer")["isolation.level"]
		t.ReadCommitted = !strings.EqualFold(strings.TrimSpace(iso), "read_uncommitted")
	}
	opts, err := clientOpts(producer)
	if err != nil {
		return nil, fmt.Errorf("%s %s: producer config: %w", OffsetsStorageTopic, topic, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), offsets.ReadTimeout)
	defer cancel()
	if l.Connector, err = offsets.OpenTopic(ctx, opts, t, log); err != nil {
		return nil, fmt.Errorf("open %s %s: %w", OffsetsStorageTopic, topic, err)
	}
	return l, nil
}

// sameServers reports whether two bootstrap.servers lists name the same servers, in any order.
func sameServers(a, b string) bool {
	x, y := splitList(a), splitList(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

// primaryTopic is the topic store an exactly-once task writes its offsets to in its
// transactions: the connector's own, else the worker's (an exactly-once worker's is a topic).
func primaryTopic(l *offsets.Layered) *offsets.TopicStore {
	if l.Connector != nil {
		return l.Connector.(*offsets.TopicStore)
	}
	return l.Worker.(*offsets.TopicStore)
}
