package runtime

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/internal/testenv"
)

func TestTopicCreationIsOffUnlessWorkerAndConnectorAskForIt(t *testing.T) {
	props := map[string]string{"topic.creation.default.replication.factor": "1", "topic.creation.default.partitions": "1"}
	if tc, err := parseTopicCreation(false, props); tc != nil || err != nil {
		t.Errorf("topic.creation.enable=false: got %v, %v; want off", tc, err)
	}
	if tc, err := parseTopicCreation(true, map[string]string{"topics": "x"}); tc != nil || err != nil {
		t.Errorf("no topic.creation.* key: got %v, %v; want off", tc, err)
	}
	if tc, err := parseTopicCreation(true, props); tc == nil || err != nil {
		t.Errorf("enabled and configured: got %v, %v; want on", tc, err)
	}
}

func TestTopicCreationPicksTheFirstMatchingGroup(t *testing.T) {
	tc, err := parseTopicCreation(true, map[string]string{
		"topic.creation.groups":                       "compacted, orders, default",
		"topic.creation.default.replication.factor":   "-1",
		"topic.creation.default.partitions":           "3",
		"topic.creation.default.include":              "ignored-for-default",
		"topic.creation.default.retention.ms":         "1000",
		"topic.creation.compacted.include":            "cdc\\..*, state",
		"topic.creation.compacted.exclude":            "cdc\\.audit",
		"topic.creation.compacted.cleanup.policy":     "compact",
		"topic.creation.compacted.replication.factor": "1",
		"topic.creation.orders.include":               "cdc\\.orders, orders.*",
		"topic.creation.orders.partitions":            "12",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		topic, group string
		rf           int16
		partitions   int32
		configs      string
	}{
		{"cdc.customers", "compacted", 1, 3, "cleanup.policy=compact"},
		{"state", "compacted", 1, 3, "cleanup.policy=compact"},
		{"cdc.orders", "compacted", 1, 3, "cleanup.policy=compact"}, // compacted is listed first
		{"cdc.audit", "default", -1, 3, "retention.ms=1000"},        // excluded by compacted, matches no other
		{"orders-eu", "orders", -1, 12, ""},                         // inherits the default's replication factor
		{"xstate", "default", -1, 3, "retention.ms=1000"},           // include must match the whole name
		{"ignored-for-default", "default", -1, 3, "retention.ms=1000"},
	} {
		g := tc.group(c.topic)
		var configs []string
		for k, v := range g.configs {
			configs = append(configs, k+"="+*v)
		}
		if g.name != c.group || g.rf != c.rf || g.partitions != c.partitions || strings.Join(configs, ",") != c.configs {
			t.Errorf("%s: group %s rf %d partitions %d configs %v; want %s %d %d %s",
				c.topic, g.name, g.rf, g.partitions, configs, c.group, c.rf, c.partitions, c.configs)
		}
	}
}

func TestTopicCreationRejectsInvalidSettingsNamingTheKey(t *testing.T) {
	base := func(kv ...string) map[string]string {
		m := map[string]string{"topic.creation.default.replication.factor": "1", "topic.creation.default.partitions": "1"}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(m, kv[i])
			} else {
				m[kv[i]] = kv[i+1]
			}
		}
		return m
	}
	for _, c := range []struct {
		props map[string]string
		key   string
	}{
		{base("topic.creation.default.replication.factor", ""), "topic.creation.default.replication.factor"},
		{base("topic.creation.default.partitions", ""), "topic.creation.default.partitions"},
		{base("topic.creation.default.partitions", "0"), "topic.creation.default.partitions"},
		{base("topic.creation.default.replication.factor", "-2"), "topic.creation.default.replication.factor"},
		{base("topic.creation.default.replication.factor", "three"), "topic.creation.default.replication.factor"},
		{base("topic.creation.groups", "g", "topic.creation.g.include", "a(b"), "topic.creation.g.include"},
		{base("topic.creation.groups", "g", "topic.creation.g.partitions", "0"), "topic.creation.g.partitions"},
	} {
		_, err := parseTopicCreation(true, c.props)
		if err == nil || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%v: got %v, want an error naming %s", c.props, err, c.key)
		}
	}
	_, err := ConnectorConfigDef(false).Parse(map[string]string{"name": "c", "connector.class": "x", TopicCreationGroups: "a,b,a"})
	if err == nil || !strings.Contains(err.Error(), TopicCreationGroups) {
		t.Errorf("duplicate group accepted or not named: %v", err)
	}
}

func TestConnectorConfigRejectsUnknownEnumValuesNamingTheKey(t *testing.T) {
	for key, bad := range map[string]string{
		ConfigActionReload:   "sometimes",
		ErrorsTolerance:      "some",
		ErrorsLogEnable:      "yes",
		DLQReplicationFactor: "0",
		DLQContextHeaders:    "1",
	} {
		_, err := ConnectorConfigDef(true).Parse(map[string]string{"name": "c", "connector.class": "x", "topics": "t", key: bad})
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s=%s: got %v, want an error naming the key", key, bad, err)
		}
	}
	if _, err := ConnectorConfigDef(true).Parse(map[string]string{"name": "c", "connector.class": "x", "topics": "t", ConfigActionReload: "NONE"}); err != nil {
		t.Errorf("config.action.reload=NONE (upstream ignores case): %v", err)
	}
}

func adminFor(t *testing.T, bootstrap string) func() (*kadm.Client, error) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	adm := kadm.NewClient(cl)
	return func() (*kadm.Client, error) { return adm, nil }
}

// createdTopics lists the cluster's topics until every one of topics is there with its
// partitions: Apache Kafka's metadata can lag a CreateTopics answer, and kfake answers a
// metadata request naming a just-created topic as unknown, so all topics are listed.
func createdTopics(ctx context.Context, t *testing.T, cl *kadm.Client, topics ...string) kadm.TopicDetails {
	t.Helper()
	for {
		details, err := cl.ListTopics(ctx)
		if err != nil {
			t.Fatalf("list topics: %v", err)
		}
		complete := true
		for _, topic := range topics {
			td, ok := details[topic]
			complete = complete && ok && td.Err == nil && len(td.Partitions) > 0
		}
		if complete {
			return details
		}
		select {
		case <-ctx.Done():
			t.Fatalf("topics %v not all listed: %v", topics, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func TestTopicCreationCreatesTopicsWithTheirGroupsSettings(t *testing.T) {
	bootstrap := testenv.Kafka(t)
	adm := adminFor(t, bootstrap)
	compacted, plain := testenv.Topic(t, "tc-compacted"), testenv.Topic(t, "tc-plain")
	tc, err := parseTopicCreation(true, map[string]string{
		"topic.creation.groups":                     "compacted",
		"topic.creation.default.replication.factor": "1",
		"topic.creation.default.partitions":         "2",
		"topic.creation.compacted.include":          "tc-compacted.*",
		"topic.creation.compacted.partitions":       "3",
		"topic.creation.compacted.cleanup.policy":   "compact",
	})
	if err != nil {
		t.Fatal(err)
	}
	tc.retry = retryPolicy{budget: 30 * time.Second, maxDelay: time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, topic := range []string{compacted, plain, compacted} {
		if err := tc.ensure(ctx, adm, topic); err != nil {
			t.Fatalf("ensure %s: %v", topic, err)
		}
	}
	cl, _ := adm()
	details := createdTopics(ctx, t, cl, compacted, plain)
	if n := len(details[compacted].Partitions); n != 3 {
		t.Errorf("%s has %d partitions, want 3", compacted, n)
	}
	if n := len(details[plain].Partitions); n != 2 {
		t.Errorf("%s has %d partitions, want 2", plain, n)
	}
	rcs, err := cl.DescribeTopicConfigs(ctx, compacted, plain)
	if err != nil {
		t.Fatal(err)
	}
	for _, rc := range rcs {
		policy := ""
		for _, c := range rc.Configs {
			if c.Key == "cleanup.policy" && c.Value != nil {
				policy = *c.Value
			}
		}
		want := map[string]string{compacted: "compact", plain: "delete"}[rc.Name]
		if policy != want {
			t.Errorf("%s: cleanup.policy %q, want %q", rc.Name, policy, want)
		}
	}
}

func TestTopicCreationFailsOnASettingTheBrokerRejects(t *testing.T) {
	adm := adminFor(t, testenv.Kafka(t))
	topic := testenv.Topic(t, "tc-rf")
	// One broker: a replication factor of 5 cannot be met, which will not pass by itself.
	tc, err := parseTopicCreation(true, map[string]string{"topic.creation.default.replication.factor": "5", "topic.creation.default.partitions": "1"})
	if err != nil {
		t.Fatal(err)
	}
	tc.retry = retryPolicy{budget: 30 * time.Second, maxDelay: time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = tc.ensure(ctx, adm, topic)
	if !errors.Is(err, kerr.InvalidReplicationFactor) {
		t.Fatalf("got %v, want INVALID_REPLICATION_FACTOR", err)
	}
}

func TestDeadLetterQueueTopicIsCreatedWithItsReplicationFactor(t *testing.T) {
	adm := adminFor(t, testenv.Kafka(t))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ok := &deadLetterQueue{topic: testenv.Topic(t, "dlq-ok"), replicationFactor: 1, admin: adm}
	if err := ok.setup(ctx); err != nil {
		t.Fatal(err)
	}
	cl, _ := adm()
	td := createdTopics(ctx, t, cl, ok.topic)[ok.topic]
	if td.Err != nil || len(td.Partitions) != 1 || len(td.Partitions[0].Replicas) != 1 {
		t.Errorf("dead letter queue topic %s: %+v; want 1 partition with 1 replica", ok.topic, td)
	}
	// The default replication factor, 3, is more than one broker has: upstream fails the same way.
	bad := &deadLetterQueue{topic: testenv.Topic(t, "dlq-rf3"), replicationFactor: 3, admin: adm}
	err := bad.setup(ctx)
	if !errors.Is(err, kerr.InvalidReplicationFactor) || !strings.Contains(err.Error(), DLQReplicationFactor) {
		t.Errorf("replication factor 3 on one broker: got %v, want INVALID_REPLICATION_FACTOR naming %s", err, DLQReplicationFactor)
	}
}
