package kafkalog

import (
	"strings"
	"testing"
)

func TestTopicFromWorkerDefaultsAsUpstream(t *testing.T) {
	for _, c := range []struct {
		kind       Kind
		topic      string
		partitions int32
	}{{ConfigTopic, "connect-configs", 1}, {OffsetTopic, "connect-offsets", 25}, {StatusTopic, "connect-status", 5}} {
		got, err := TopicFromWorker(map[string]string{c.kind.Prefix + "topic": c.topic}, c.kind)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != c.topic || got.Partitions != c.partitions || got.ReplicationFactor != 3 || got.Setting != c.kind.Prefix+"topic" {
			t.Errorf("%s: %+v", c.kind.Prefix, got)
		}
	}
}

func TestTopicFromWorkerPassesTopicSettingsAndForcesCompaction(t *testing.T) {
	got, err := TopicFromWorker(map[string]string{
		"status.storage.topic": "st", "status.storage.partitions": "-1", "status.storage.replication.factor": "-1",
		"status.storage.min.insync.replicas": "2", "status.storage.cleanup.policy": "delete",
		"config.storage.topic": "other",
	}, StatusTopic)
	if err != nil {
		t.Fatal(err)
	}
	if got.Partitions != -1 || got.ReplicationFactor != -1 {
		t.Errorf("broker defaults not kept: %+v", got)
	}
	if len(got.Configs) != 1 || got.Configs["min.insync.replicas"] != "2" {
		t.Errorf("topic configs = %v, want only min.insync.replicas (cleanup.policy is always compact)", got.Configs)
	}
	// The config topic always has one partition, whatever the properties say.
	cfg, err := TopicFromWorker(map[string]string{"config.storage.topic": "c", "config.storage.partitions": "3"}, ConfigTopic)
	if err != nil || cfg.Partitions != 1 || len(cfg.Configs) != 0 {
		t.Errorf("config topic = %+v, %v", cfg, err)
	}
}

func TestTopicFromWorkerRejectsBadValuesNamingTheKey(t *testing.T) {
	for _, c := range []struct {
		props map[string]string
		key   string
	}{
		{map[string]string{"offset.storage.topic": "o", "offset.storage.partitions": "0"}, "offset.storage.partitions"},
		{map[string]string{"offset.storage.topic": "o", "offset.storage.replication.factor": "-2"}, "offset.storage.replication.factor"},
		{map[string]string{"offset.storage.topic": "o", "offset.storage.replication.factor": "x"}, "offset.storage.replication.factor"},
		{map[string]string{"offset.storage.topic": " "}, "offset.storage.topic"},
		{map[string]string{}, "offset.storage.topic"},
	} {
		_, err := TopicFromWorker(c.props, OffsetTopic)
		if err == nil || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%v: error %v does not name %s", c.props, err, c.key)
		}
	}
}
