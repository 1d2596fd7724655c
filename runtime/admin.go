package runtime

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/runtime/herder"
)

// Keys of sink connector offsets as the REST offsets endpoints show them.
const (
	SinkOffsetTopic     = "kafka_topic"
	SinkOffsetPartition = "kafka_partition"
	SinkOffsetOffset    = "kafka_offset"
)

// admin is the worker's lazily created Kafka admin client.
type admin struct {
	once sync.Once
	cl   *kadm.Client
	kcl  *kgo.Client
	err  error
}

func (w *Worker) admin() (*kadm.Client, error) {
	w.adm.once.Do(func() {
		opts, err := clientOpts(clientProps(w.props, nil, "admin"))
		if err != nil {
			w.adm.err = fmt.Errorf("admin client config: %w", err)
			return
		}
		if w.adm.kcl, err = kgo.NewClient(opts...); err != nil {
			w.adm.err = fmt.Errorf("create admin client: %w", err)
			return
		}
		w.adm.cl = kadm.NewClient(w.adm.kcl)
	})
	return w.adm.cl, w.adm.err
}

// Close releases the worker's own Kafka clients.
func (w *Worker) Close() {
	if w.adm.kcl != nil {
		w.adm.kcl.Close()
	}
}

// ClusterID returns the Kafka cluster id.
func (w *Worker) ClusterID(ctx context.Context) (string, error) {
	adm, err := w.admin()
	if err != nil {
		return "", err
	}
	meta, err := adm.BrokerMetadata(ctx)
	if err != nil {
		return "", fmt.Errorf("describe cluster: %w", err)
	}
	return meta.Cluster, nil
}

// SinkOffsets returns the committed offsets of a sink connector's consumer group.
func (w *Worker) SinkOffsets(ctx context.Context, connector string) ([]herder.Offset, error) {
	adm, err := w.admin()
	if err != nil {
		return nil, err
	}
	resp, err := adm.FetchOffsets(ctx, "connect-"+connector)
	if isGroupNotFound(err) {
		// A sink that never committed, or whose offsets were reset, has no group: no offsets.
		return []herder.Offset{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fetch offsets of group connect-%s: %w", connector, err)
	}
	out := []herder.Offset{}
	for _, o := range resp.Sorted() {
		if o.Err != nil {
			return nil, fmt.Errorf("fetch offsets of group connect-%s %s-%d: %w", connector, o.Topic, o.Partition, o.Err)
		}
		out = append(out, herder.Offset{
			Partition: map[string]any{SinkOffsetTopic: o.Topic, SinkOffsetPartition: int64(o.Partition)},
			Offset:    map[string]any{SinkOffsetOffset: o.At},
		})
	}
	return out, nil
}

// AlterSinkOffsets commits (or, for a nil offset, deletes) offsets of a sink connector's group.
func (w *Worker) AlterSinkOffsets(ctx context.Context, connector string, offs []herder.Offset) error {
	adm, err := w.admin()
	if err != nil {
		return err
	}
	group := "connect-" + connector
	commit := kadm.Offsets{}
	var remove kadm.TopicsSet = map[string]map[int32]struct{}{}
	for _, o := range offs {
		topic, ok := o.Partition[SinkOffsetTopic].(string)
		if !ok || topic == "" {
			return herder.BadRequest("sink connector offsets must have a string %q in each partition", SinkOffsetTopic)
		}
		part, ok, err := connect.OffsetInt64(o.Partition, SinkOffsetPartition)
		if err != nil || !ok || part < 0 {
			return herder.BadRequest("sink connector offsets must have a non-negative integer %q in each partition", SinkOffsetPartition)
		}
		if o.Offset == nil {
			remove.Add(topic, int32(part))
			continue
		}
		at, ok, err := connect.OffsetInt64(o.Offset, SinkOffsetOffset)
		if err != nil || !ok || at < 0 {
			return herder.BadRequest("sink connector offsets must have a non-negative integer %q in each offset", SinkOffsetOffset)
		}
		commit.Add(kadm.Offset{Topic: topic, Partition: int32(part), At: at, LeaderEpoch: -1})
	}
	if len(commit) > 0 {
		resp, err := adm.CommitOffsets(ctx, group, commit)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			return fmt.Errorf("commit offsets of group %s: %w", group, err)
		}
	}
	if len(remove) > 0 {
		resp, err := adm.DeleteOffsets(ctx, group, remove)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			return fmt.Errorf("delete offsets of group %s: %w", group, err)
		}
	}
	return nil
}

// ResetSinkOffsets deletes a sink connector's consumer group, so it starts over.
func (w *Worker) ResetSinkOffsets(ctx context.Context, connector string) error {
	adm, err := w.admin()
	if err != nil {
		return err
	}
	group := "connect-" + connector
	resp, err := adm.DeleteGroup(ctx, group)
	if err == nil && resp.Err != nil && !isGroupNotFound(resp.Err) {
		err = resp.Err
	}
	if err != nil {
		return fmt.Errorf("delete group %s: %w", group, err)
	}
	return nil
}

func isGroupNotFound(err error) bool {
	return errors.Is(err, kerr.GroupIDNotFound)
}

// leaveGroup removes a static member from a consumer group.
func (w *Worker) leaveGroup(ctx context.Context, group, instanceID string) error {
	adm, err := w.admin()
	if err != nil {
		return err
	}
	resp, err := adm.LeaveGroup(ctx, kadm.LeaveGroup(group).InstanceIDs(instanceID))
	if err != nil {
		return fmt.Errorf("leave group %s as %s: %w", group, instanceID, err)
	}
	if err := resp.Error(); err != nil && !errors.Is(err, kerr.UnknownMemberID) {
		return fmt.Errorf("leave group %s as %s: %w", group, instanceID, err)
	}
	return nil
}

// SinkPartitions counts the partitions of the topics a sink connector with config props
// consumes: its topics, or the existing non-internal topics its topics.regex matches as a
// whole, as Java's Pattern.matches does. A topic that does not exist yet counts none.
func (w *Worker) SinkPartitions(ctx context.Context, props map[string]string) (int, error) {
	adm, err := w.admin()
	if err != nil {
		return 0, err
	}
	var match *regexp.Regexp
	var topics []string
	if regex := strings.TrimSpace(props[TopicsRegex]); regex != "" {
		if match, err = regexp.Compile("^(?:" + regex + ")$"); err != nil {
			return 0, fmt.Errorf("%s: %w", TopicsRegex, err)
		}
	} else {
		topics = splitList(props[Topics])
		if len(topics) == 0 {
			return 0, nil
		}
	}
	details, err := adm.ListTopics(ctx, topics...)
	if err != nil {
		return 0, fmt.Errorf("list topics: %w", err)
	}
	n := 0
	for name, td := range details {
		if td.Err == nil && (match == nil || match.MatchString(name)) {
			n += len(td.Partitions)
		}
	}
	return n, nil
}

// createTopicIfMissing creates topic unless it exists and reports whether it did. A topic another
// client created meanwhile counts as existing.
func createTopicIfMissing(ctx context.Context, adm *kadm.Client, topic string, partitions int32, rf int16, configs map[string]*string) (bool, error) {
	details, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return false, fmt.Errorf("describe topic %s: %w", topic, err)
	}
	if td, ok := details[topic]; ok && td.Err == nil {
		return false, nil
	}
	resp, err := adm.CreateTopic(ctx, partitions, rf, configs, topic)
	if err == nil {
		err = resp.Err
	}
	if errors.Is(err, kerr.TopicAlreadyExists) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("create topic %s: %w", topic, err)
	}
	return true, nil
}

// retriableKafkaErr reports whether err may pass by itself: a Kafka error code marked retriable,
// or no answer at all (a network failure, a timeout). Other Kafka errors (authorization, an
// invalid replication factor) will not.
func retriableKafkaErr(err error) bool {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Retriable
	}
	return !errors.Is(err, context.Canceled)
}
