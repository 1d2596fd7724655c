package kafkalog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/backoff"
)

// Topic describes one internal topic: its name and how to create it when it is missing.
type Topic struct {
	Name string
	// Setting is the worker property that names the topic (config.storage.topic); errors name it
	// so the user knows what to change.
	Setting string
	// Purpose says what the topic holds ("connector configurations"), for errors and logs.
	Purpose string
	// Partitions and ReplicationFactor are used when creating the topic; -1 asks for the
	// broker's default.
	Partitions        int32
	ReplicationFactor int16
	// Configs are further topic configs (from the <prefix>.* worker properties). cleanup.policy
	// is always compact, whatever they say.
	Configs map[string]string
	// ReadCommitted reads only records of committed transactions, and reads to the end up to the
	// last stable offset: an exactly-once worker's offsets topic, written in the tasks'
	// transactions, whose aborted offsets must never be applied.
	ReadCommitted bool
}

// Kind is one of the three internal topics of distributed mode.
type Kind struct {
	// Prefix of the worker properties of this topic, as upstream: "config.storage.".
	Prefix string
	// Purpose says what the topic holds, in upstream's words.
	Purpose string
	// DefaultPartitions is the partitions default; 0 means the partition count is fixed at 1
	// and the <prefix>partitions property is ignored.
	DefaultPartitions int32
}

// The internal topics, with upstream's property names and defaults.
var (
	ConfigTopic = Kind{Prefix: "config.storage.", Purpose: "connector configurations"}
	OffsetTopic = Kind{Prefix: "offset.storage.", Purpose: "source connector offsets", DefaultPartitions: 25}
	StatusTopic = Kind{Prefix: "status.storage.", Purpose: "connector and task statuses", DefaultPartitions: 5}
)

// Worker property suffixes of an internal topic, as upstream's DistributedConfig names them.
const (
	TopicSuffix             = "topic"
	PartitionsSuffix        = "partitions"
	ReplicationFactorSuffix = "replication.factor"
	cleanupPolicy           = "cleanup.policy"
	compact                 = "compact"
)

// MinusOneOrPositive is upstream's validator of topic partitions and replication factors (-1
// for the broker's default); topic creation and dead letter queue settings use it too.
var MinusOneOrPositive = connect.ValidatorFunc("-1 or at least 1", func(name string, v any) error {
	var n int64
	switch x := v.(type) {
	case int:
		n = int64(x)
	case int16:
		n = int64(x)
	}
	if n == -1 || n >= 1 {
		return nil
	}
	return fmt.Errorf("Invalid value %d for configuration %s: must be -1 (broker default) or at least 1", n, name)
})

// TopicFromWorker reads the settings of one internal topic from the worker properties, as
// upstream's DistributedConfig: <prefix>topic (required), <prefix>partitions,
// <prefix>replication.factor (default 3), and every other <prefix>* property as a topic config.
func TopicFromWorker(props map[string]string, k Kind) (Topic, error) {
	def := connect.NewConfigDef().
		Define(connect.ConfigKey{Name: k.Prefix + TopicSuffix, Type: connect.ConfigString, Required: true,
			Validator: connect.NonEmptyString(), Importance: connect.High,
			Doc: "The Kafka topic holding the " + k.Purpose + "."}).
		Define(connect.ConfigKey{Name: k.Prefix + ReplicationFactorSuffix, Type: connect.ConfigShort, Default: "3",
			Validator: MinusOneOrPositive, Importance: connect.Low,
			Doc: "Replication factor used when creating the topic; -1 for the broker's default."})
	if k.DefaultPartitions > 0 {
		def.Define(connect.ConfigKey{Name: k.Prefix + PartitionsSuffix, Type: connect.ConfigInt,
			Default: fmt.Sprint(k.DefaultPartitions), Validator: MinusOneOrPositive, Importance: connect.Low,
			Doc: "Partitions used when creating the topic; -1 for the broker's default."})
	}
	cfg, err := def.Parse(props)
	if err != nil {
		return Topic{}, err
	}
	t := Topic{
		Name:              cfg.String(k.Prefix + TopicSuffix),
		Setting:           k.Prefix + TopicSuffix,
		Purpose:           k.Purpose,
		Partitions:        1,
		ReplicationFactor: cfg.Short(k.Prefix + ReplicationFactorSuffix),
		Configs:           map[string]string{},
	}
	if k.DefaultPartitions > 0 {
		t.Partitions = int32(cfg.Int(k.Prefix + PartitionsSuffix))
	}
	for key, v := range connect.WithPrefix(props, k.Prefix) {
		switch key {
		case TopicSuffix, PartitionsSuffix, ReplicationFactorSuffix, cleanupPolicy:
			// cleanup.policy is forced to compact, as upstream does (it logs and drops it).
		default:
			t.Configs[key] = v
		}
	}
	return t, nil
}

// ensureTopic creates the topic if it is missing; an existing topic must be compacted only.
func (l *Log) ensureTopic(ctx context.Context) error {
	t := l.topic
	configs := map[string]*string{}
	for k, v := range t.Configs {
		configs[k] = &v
	}
	policy := compact
	configs[cleanupPolicy] = &policy
	resp, err := l.adm.CreateTopic(ctx, t.Partitions, t.ReplicationFactor, configs, t.Name)
	if err == nil {
		err = resp.Err
	}
	switch {
	case err == nil:
		l.log.Info("created internal topic", "purpose", t.Purpose, "partitions", resp.NumPartitions,
			"replication_factor", resp.ReplicationFactor)
		return nil
	case errors.Is(err, kerr.TopicAlreadyExists):
		return l.checkCompacted(ctx)
	case errors.Is(err, kerr.TopicAuthorizationFailed), errors.Is(err, kerr.ClusterAuthorizationFailed):
		// As upstream: without the right to create topics, assume an administrator made it.
		l.log.Warn("not authorized to create internal topic; assuming it exists", "purpose", t.Purpose, "err", err)
		return l.checkCompacted(ctx)
	}
	return fmt.Errorf("create %s topic %s (%s=%d, %s%s=%d): %w", t.Purpose, t.Name,
		PartitionsSuffix, t.Partitions, strings.TrimSuffix(t.Setting, TopicSuffix), ReplicationFactorSuffix, t.ReplicationFactor, err)
}

// checkCompacted refuses a topic whose cleanup.policy is not exactly compact: deleting old
// records would lose configurations or offsets. Like upstream, a policy that cannot be read
// (old broker, no DescribeConfigs permission) is logged and let through.
func (l *Log) checkCompacted(ctx context.Context) error {
	t := l.topic
	rc, err := l.cleanupPolicy(ctx)
	if len(rc) == 0 {
		l.log.Info("could not verify that the internal topic is compacted", "purpose", t.Purpose, "err", err)
		return nil
	}
	slices.Sort(rc)
	rc = slices.Compact(rc)
	if len(rc) == 1 && rc[0] == compact {
		return nil
	}
	found := strings.Join(rc, ",")
	return fmt.Errorf("topic '%s' supplied via the '%s' property is required to have '%s=%s' to guarantee "+
		"consistency and durability of %s, but found the topic currently has '%s=%s'. Continuing would likely "+
		"result in eventually losing %s and problems restarting this Connect cluster in the future. Change the "+
		"'%s' property in the Connect worker configurations to use a topic with '%s=%s' (or alter the topic: "+
		"kafka-configs.sh --alter --entity-type topics --entity-name %s --add-config %s=%s)",
		t.Name, t.Setting, cleanupPolicy, compact, t.Purpose, cleanupPolicy, found, t.Purpose,
		t.Setting, cleanupPolicy, compact, t.Name, cleanupPolicy, compact)
}

// cleanupPolicy returns the topic's cleanup policies, retrying while the topic is too new for
// every broker to know it.
func (l *Log) cleanupPolicy(ctx context.Context) ([]string, error) {
	var policies []string
	err := backoff.Retry(ctx, &backoff.Backoff{}, kerr.IsRetriable, func() error {
		policies = nil
		rcs, err := l.adm.DescribeTopicConfigs(ctx, l.topic.Name)
		if err != nil {
			return err
		}
		for _, r := range rcs {
			if r.Err != nil {
				err = r.Err
				continue
			}
			for _, c := range r.Configs {
				if c.Key == cleanupPolicy && c.Value != nil {
					for _, p := range strings.Split(*c.Value, ",") {
						policies = append(policies, strings.ToLower(strings.TrimSpace(p)))
					}
				}
			}
		}
		return err
	})
	return policies, err
}
