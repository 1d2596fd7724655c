package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/backoff"
	"github.com/kconnect/kconnect/runtime/kafkalog"
)

// Source connector keys of KIP-158 topic creation (upstream SourceConnectorConfig and
// TopicCreationConfig): topic.creation.<group>.<key>, where the group "default" always exists.
const (
	TopicCreationPrefix   = "topic.creation."
	TopicCreationGroups   = "topic.creation.groups"
	topicCreationDefault  = "default"
	topicCreationInclude  = "include"
	topicCreationExclude  = "exclude"
	topicCreationRF       = "replication.factor"
	topicCreationParts    = "partitions"
	topicCreationGroupTag = "Topic Creation"
)

// regexList accepts a list of regular expressions.
func regexList() connect.Validator {
	return connect.ValidatorFunc("list of regular expressions", func(name string, v any) error {
		items, _ := v.([]string)
		for _, it := range items {
			if _, err := regexp.Compile(it); err != nil {
				return fmt.Errorf("Invalid value %s for configuration %s: %v", it, name, err)
			}
		}
		return nil
	})
}

// topicCreationDef declares the keys of one topic creation group. The default group must set its
// replication factor and partitions; another group inherits them from the default group (defRF and
// defParts, empty while those are invalid).
func topicCreationDef(group string, defRF, defParts string) *connect.ConfigDef {
	prefix := TopicCreationPrefix + group + "."
	tag := topicCreationGroupTag + ": " + group
	required := group == topicCreationDefault
	orNull := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	return connect.NewConfigDef().
		Define(connect.ConfigKey{Name: prefix + topicCreationInclude, Type: connect.ConfigList, Default: "", Validator: regexList(), Importance: connect.Low, Group: tag, OrderInGroup: 1,
			Doc: "Regular expressions of the topics this group creates; ignored for the default group, which matches every topic no other group does."}).
		Define(connect.ConfigKey{Name: prefix + topicCreationExclude, Type: connect.ConfigList, Default: "", Validator: regexList(), Importance: connect.Low, Group: tag, OrderInGroup: 2,
			Doc: "Regular expressions of the topics this group does not create, even if they match include."}).
		Define(connect.ConfigKey{Name: prefix + topicCreationRF, Type: connect.ConfigShort, Required: required, Default: orNull(defRF), Validator: kafkalog.MinusOneOrPositive, Importance: connect.Low, Group: tag, OrderInGroup: 3,
			Doc: "Replication factor of the topics this group creates; -1 uses the broker's default."}).
		Define(connect.ConfigKey{Name: prefix + topicCreationParts, Type: connect.ConfigInt, Required: required, Default: orNull(defParts), Validator: kafkalog.MinusOneOrPositive, Importance: connect.Low, Group: tag, OrderInGroup: 4,
			Doc: "Number of partitions of the topics this group creates; -1 uses the broker's default."})
}

// topicCreationKeys declares the topic.creation.* keys of a source connector with config props
// and returns its groups, the default group last. Topic creation is off (nil, nil) when the worker
// disables it (topic.creation.enable=false) or the connector sets no topic.creation.* key, as
// upstream.
func topicCreationKeys(workerEnabled bool, props map[string]string) (*connect.ConfigDef, []string) {
	if !workerEnabled {
		return nil, nil
	}
	uses := false
	for k := range props {
		if strings.HasPrefix(k, TopicCreationPrefix) {
			uses = true
			break
		}
	}
	if !uses {
		return nil, nil
	}
	def := topicCreationDef(topicCreationDefault, "", "")
	var rf, parts string
	if cfg, err := def.Parse(props); err == nil {
		prefix := TopicCreationPrefix + topicCreationDefault + "."
		rf, parts = fmt.Sprint(cfg.Short(prefix+topicCreationRF)), fmt.Sprint(cfg.Int(prefix+topicCreationParts))
	}
	var groups []string
	seen := map[string]bool{topicCreationDefault: true} // always there, last
	for _, name := range splitList(props[TopicCreationGroups]) {
		if !seen[name] {
			seen[name] = true
			groups = append(groups, name)
			def.Merge(topicCreationDef(name, rf, parts))
		}
	}
	return def, append(groups, topicCreationDefault)
}

// topicGroup is one parsed topic creation group.
type topicGroup struct {
	name       string
	include    *regexp.Regexp // nil matches nothing
	exclude    *regexp.Regexp // nil excludes nothing
	rf         int16
	partitions int32
	configs    map[string]*string
}

// matches reports whether the group creates topic: a whole-name match of one of its include
// expressions and of none of its exclude expressions, as Java's Matcher.matches.
func (g *topicGroup) matches(topic string) bool {
	return g.include != nil && g.include.MatchString(topic) && (g.exclude == nil || !g.exclude.MatchString(topic))
}

// topicCreation creates the topics a source task writes to before their first record, with the
// settings of the first group that matches each (the default group otherwise). It is used by the
// task's loop only.
type topicCreation struct {
	groups []topicGroup // the default group last
	known  map[string]bool
	log    *slog.Logger
	retry  retryPolicy
}

// wholeMatch joins expressions into one that must match a whole name; nil for none.
func wholeMatch(exprs []string) *regexp.Regexp {
	if len(exprs) == 0 {
		return nil
	}
	return regexp.MustCompile("^(?:" + strings.Join(exprs, "|") + ")$")
}

// parseTopicCreation reads a source connector's topic.creation.* settings; nil when topic
// creation is off.
func parseTopicCreation(workerEnabled bool, props map[string]string) (*topicCreation, error) {
	def, groups := topicCreationKeys(workerEnabled, props)
	if def == nil {
		return nil, nil
	}
	cfg, err := def.Parse(props)
	if err != nil {
		return nil, err
	}
	tc := &topicCreation{known: map[string]bool{}}
	for _, name := range groups {
		prefix := TopicCreationPrefix + name + "."
		g := topicGroup{name: name, rf: cfg.Short(prefix + topicCreationRF), partitions: int32(cfg.Int(prefix + topicCreationParts)), configs: map[string]*string{}}
		if name == topicCreationDefault {
			g.include = wholeMatch([]string{".*"}) // the default group's include and exclude are ignored
		} else {
			g.include, g.exclude = wholeMatch(cfg.List(prefix+topicCreationInclude)), wholeMatch(cfg.List(prefix+topicCreationExclude))
		}
		for k, v := range connect.WithPrefix(props, prefix) {
			switch k {
			case topicCreationInclude, topicCreationExclude, topicCreationRF, topicCreationParts:
			default:
				g.configs[k] = &v
			}
		}
		tc.groups = append(tc.groups, g)
	}
	return tc, nil
}

// group returns the first group that creates topic.
func (tc *topicCreation) group(topic string) *topicGroup {
	for i := range tc.groups {
		if tc.groups[i].matches(topic) {
			return &tc.groups[i]
		}
	}
	return &tc.groups[len(tc.groups)-1]
}

// ensure creates topic unless it exists, once per topic for the task's lifetime. Kafka being
// unreachable is retried within the task's retry budget; a topic that cannot be created fails the
// task, as upstream: records sent to it could only be lost or retried for ever.
func (tc *topicCreation) ensure(ctx context.Context, adm func() (*kadm.Client, error), topic string) error {
	if tc == nil || tc.known[topic] {
		return nil
	}
	g := tc.group(topic)
	cl, err := adm()
	if err != nil {
		return err
	}
	retry := newRetrier(tc.retry, "creating topic "+topic)
	for {
		created, err := createTopicIfMissing(ctx, cl, topic, g.partitions, g.rf, g.configs)
		if err == nil {
			if created && tc.log != nil {
				tc.log.Info("created topic", "topic", topic, "group", g.name, "partitions", g.partitions, "replication_factor", g.rf)
			}
			tc.known[topic] = true
			return nil
		}
		if !retriableKafkaErr(err) {
			return fmt.Errorf("topic creation group %s (partitions %d, replication factor %d); ensure the task may create topics or that the topic exists: %w",
				g.name, g.partitions, g.rf, err)
		}
		d, gerr := retry.failed(err, time.Now())
		if gerr != nil {
			return gerr
		}
		if !backoff.Sleep(ctx, d) {
			return ctx.Err()
		}
	}
}

// topicCreation returns the topic creation of a source connector with config props, nil when
// it is off.
func (w *Worker) topicCreation(props map[string]string, p retryPolicy, log *slog.Logger) (*topicCreation, error) {
	tc, err := parseTopicCreation(w.cfg.Bool(TopicCreationEnable), props)
	if tc != nil {
		tc.log, tc.retry = log, p
	}
	return tc, err
}

// ensureTopic creates topic for a source task as its topic creation tc says (nil: off), before its
// first record is sent.
func (w *Worker) ensureTopic(ctx context.Context, tc *topicCreation, topic string) error {
	return tc.ensure(ctx, w.admin, topic)
}
