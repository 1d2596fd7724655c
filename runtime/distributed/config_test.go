package distributed

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/internal/properties"
	"github.com/kconnect/kconnect/runtime/cluster"
)

// The sample worker configs of configs/distributed parse, with upstream's defaults for what
// they leave out and the internal topics they name.
func TestSampleWorkerConfigsParse(t *testing.T) {
	files, err := filepath.Glob("../../configs/distributed/worker*.properties")
	if err != nil || len(files) != 3 {
		t.Fatalf("sample worker configs: %v %v", files, err)
	}
	for _, f := range files {
		p, err := properties.ParseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := ParseConfig(p.Map())
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if cfg.Protocol != cluster.Sessioned || cfg.Member.SessionTimeout != 10*time.Second ||
			cfg.Member.HeartbeatInterval != 3*time.Second || cfg.Member.MaxDelay != 10*time.Second {
			t.Errorf("%s: %+v", f, cfg.Member)
		}
		if cfg.ConfigTopic.Name != "kconnect-quickstart-configs" || cfg.ConfigTopic.Partitions != 1 ||
			cfg.OffsetTopic.Partitions != 25 || cfg.StatusTopic.Partitions != 5 || cfg.OffsetTopic.ReplicationFactor != 1 {
			t.Errorf("%s: topics %+v %+v %+v", f, cfg.ConfigTopic, cfg.OffsetTopic, cfg.StatusTopic)
		}
	}
}

// Invalid settings are rejected naming the key.
func TestParseConfigNamesTheBadKey(t *testing.T) {
	base := map[string]string{"group.id": "g", "config.storage.topic": "c", "offset.storage.topic": "o", "status.storage.topic": "s"}
	for key, value := range map[string]string{
		"group.id":                         "",
		"connect.protocol":                 "fancy",
		"session.timeout.ms":               "0",
		"inter.worker.signature.algorithm": "HmacMD5",
		"status.storage.partitions":        "0",
		"exactly.once.source.support":      "always",
	} {
		props := map[string]string{}
		for k, v := range base {
			props[k] = v
		}
		props[key] = value
		_, err := ParseConfig(props)
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s=%q: err %v, want one naming %s", key, value, err, key)
		}
	}
}

// exactly.once.source.support takes upstream's three values.
func TestParseConfigExactlyOnceValues(t *testing.T) {
	for _, v := range []string{"disabled", "preparing", "enabled"} {
		cfg, err := ParseConfig(map[string]string{"group.id": "g", "config.storage.topic": "c", "offset.storage.topic": "o",
			"status.storage.topic": "s", "exactly.once.source.support": v})
		if err != nil || cfg.ExactlyOnce != v {
			t.Errorf("%s: %+v, %v", v, cfg.ExactlyOnce, err)
		}
	}
}
