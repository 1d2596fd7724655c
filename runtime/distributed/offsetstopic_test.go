package distributed

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/kafkalog/kafkalogtest"
)

// latestOffset reads topic as an outside client and returns the value of the last record with
// key, and whether there is one; a deleted entry's value is nil.
func latestOffset(t *testing.T, brokers, topic, key string) (value []byte, ok bool) {
	t.Helper()
	for _, r := range kafkalogtest.Records(t, brokers, topic) {
		if string(r.Key) == key {
			value, ok = r.Value, true
		}
	}
	return value, ok
}

// waitPosition waits until the last record of key in topic holds the file position want.
func waitPosition(t *testing.T, brokers, topic, key string, want int) {
	t.Helper()
	var got []byte
	waitFor(t, fmt.Sprintf("position %d of %s in %s", want, key, topic), func() bool {
		got, _ = latestOffset(t, brokers, topic, key)
		return string(got) == fmt.Sprintf(`{"position":%d}`, want)
	})
}

// waitLines waits until the file source's output topic holds exactly want, in order.
func waitLines(t *testing.T, brokers, topic string, want ...string) {
	t.Helper()
	var got []string
	deadline := time.Now().Add(60 * time.Second)
	for {
		got = got[:0]
		for _, r := range kafkalogtest.Records(t, brokers, topic) {
			var s string
			if err := json.Unmarshal(r.Value, &s); err != nil {
				t.Fatalf("record %q: %v", r.Value, err)
			}
			got = append(got, s)
		}
		if slices.Equal(got, want) {
			return
		}
		if len(got) > len(want) || time.Now().After(deadline) {
			t.Fatalf("%s holds %q, want %q", topic, got, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func appendLines(t *testing.T, path, lines string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(lines); err != nil {
		t.Fatal(err)
	}
}

// A file source given offsets.storage.topic on a two-worker cluster, with exactly-once off or on,
// keeps its offsets in that topic as upstream's Worker does: the topic is created with the
// worker's offsets topic settings; the connector, which committed offsets in the worker's topic
// before it had its own, resumes from those (upstream's ConnectorOffsetBackingStore falls back
// on the worker's store); then its own topic wins over the worker's, whose entry is only the
// copy upstream writes after each commit; and the offsets endpoints read, alter and reset its
// own topic, a reset deleting the entry from both topics.
func TestConnectorOffsetsTopic(t *testing.T) {
	for _, eos := range []string{"disabled", "enabled"} {
		t.Run("exactly.once.source.support="+eos, func(t *testing.T) { testConnectorOffsetsTopic(t, eos) })
	}
}

func testConnectorOffsetsTopic(t *testing.T, eos string) {
	brokers, ws, topics := startWorkersWith(t, 2, "sessioned", map[string]string{"exactly.once.source.support": eos})
	leader, follower := ws[0], ws[1]
	global := topics["offset.storage.topic"]
	own := testenv.Topic(t, "own-offsets")
	out := testenv.Topic(t, "out")
	kafkalogtest.CreateTopic(t, brokers, out, 1, "delete")
	input := filepath.Join(t.TempDir(), "input.txt")
	if err := os.WriteFile(input, []byte("a\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	key := fmt.Sprintf(`["src",{"filename":%q}]`, input)
	config := map[string]string{"connector.class": "FileStreamSource", "file": input, "topic": out}

	code, body := follower.do(t, http.MethodPost, "/connectors", map[string]any{"name": "src", "config": config})
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	waitLines(t, brokers, out, "a", "b")
	waitPosition(t, brokers, global, key, 4)

	// Moving the connector to its own topic: it resumes after b from the worker's topic.
	stop := func() {
		t.Helper()
		if code, body := follower.do(t, http.MethodPut, "/connectors/src/stop", nil); code != http.StatusAccepted && code != http.StatusNoContent {
			t.Fatalf("stop: %d %s", code, body)
		}
		leader.waitStatus(t, "src", 0, herder.Stopped)
	}
	resume := func() {
		t.Helper()
		if code, body := follower.do(t, http.MethodPut, "/connectors/src/resume", nil); code != http.StatusAccepted {
			t.Fatalf("resume: %d %s", code, body)
		}
		leader.waitStatus(t, "src", 1, herder.Running)
	}
	stop()
	config["offsets.storage.topic"] = own
	if code, body := leader.do(t, http.MethodPut, "/connectors/src/config", config); code != http.StatusOK {
		t.Fatalf("update config: %d %s", code, body)
	}
	appendLines(t, input, "c\n")
	resume()
	waitLines(t, brokers, out, "a", "b", "c")
	waitPosition(t, brokers, own, key, 6)
	waitPosition(t, brokers, global, key, 6)
	checkOffsetsTopicCreated(t, brokers, own, kafkalogtest.Partitions(t, brokers, global))

	// Its own topic wins: written there alone, position 8 skips d.
	stop()
	kafkalogtest.Produce(t, brokers, &kgo.Record{Topic: own, Key: []byte(key), Value: []byte(`{"position":8}`),
		Partition: kafkalogtest.JavaPartition([]byte(key), int32(kafkalogtest.Partitions(t, brokers, own)))})
	code, body = follower.do(t, http.MethodGet, "/connectors/src/offsets", nil)
	if code != http.StatusOK || !strings.Contains(string(body), `"offset":{"position":8}`) {
		t.Fatalf("GET offsets = %d %s, want position 8 from %s", code, body, own)
	}
	appendLines(t, input, "d\ne\n")
	resume()
	waitLines(t, brokers, out, "a", "b", "c", "e")
	waitPosition(t, brokers, own, key, 10)

	// PATCH writes the connector's topic and copies to the worker's; DELETE tombstones both.
	stop()
	alter := map[string]any{"offsets": []map[string]any{{"partition": map[string]any{"filename": input}, "offset": map[string]any{"position": 2}}}}
	if code, body := follower.do(t, http.MethodPatch, "/connectors/src/offsets", alter); code != http.StatusOK {
		t.Fatalf("alter offsets: %d %s", code, body)
	}
	waitPosition(t, brokers, own, key, 2)
	waitPosition(t, brokers, global, key, 2)
	if code, body := leader.do(t, http.MethodDelete, "/connectors/src/offsets", nil); code != http.StatusOK {
		t.Fatalf("reset offsets: %d %s", code, body)
	}
	for _, topic := range []string{own, global} {
		if v, ok := latestOffset(t, brokers, topic, key); !ok || v != nil {
			t.Errorf("%s after reset: last value of %s = %q (present %v), want a tombstone", topic, key, v, ok)
		}
	}
	code, body = follower.do(t, http.MethodGet, "/connectors/src/offsets", nil)
	if code != http.StatusOK || strings.TrimSpace(string(body)) != `{"offsets":[]}` {
		t.Fatalf("GET offsets after reset = %d %s, want none", code, body)
	}
}

// checkOffsetsTopicCreated checks that topic exists, compacted, with the partitions of the
// worker's offsets topic (offset.storage.partitions).
func checkOffsetsTopicCreated(t *testing.T, brokers, topic string, partitions int) {
	t.Helper()
	if n := kafkalogtest.Partitions(t, brokers, topic); n != partitions {
		t.Errorf("%s has %d partitions, want the worker's offsets topic's %d", topic, n, partitions)
	}
	if p := kafkalogtest.TopicConfig(t, brokers, topic, "cleanup.policy"); p != "compact" {
		t.Errorf("%s cleanup.policy = %q, want compact", topic, p)
	}
}
