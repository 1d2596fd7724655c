package main_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
	"github.com/kconnect/kconnect/runtime/kafkalog/kafkalogtest"
)

// A standalone worker with the offsets file cannot give a connector an offsets topic of its own
// (upstream's standalone mode ignores offsets.storage.topic): a connector file that sets it stops
// the worker at startup with upstream's invalid-config message naming the key and why.
func TestStandaloneRejectsOffsetsStorageTopic(t *testing.T) {
	dir := t.TempDir()
	worker := workertest.WriteProperties(t, dir, "worker.properties", workertest.WorkerProps(t, dir))
	conn := workertest.WriteProperties(t, dir, "source.properties", map[string]string{"name": "src",
		"connector.class": "FileStreamSource", "file": "/nonexistent", "topic": "t", "offsets.storage.topic": "mine"})
	out, err := exec.Command(workertest.Binary(t), "standalone", worker, conn).CombinedOutput()
	if err == nil {
		t.Fatalf("kconnect exited 0, want a failure:\n%s", out)
	}
	for _, want := range []string{"Connector configuration is invalid and contains the following 1 error(s)",
		"Invalid value mine for configuration offsets.storage.topic", "offset.storage.file.filename"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// Apache Kafka Connect 4.3.1 (the Maven Central jars) runs a file source with
// offsets.storage.topic in distributed mode, exactly-once off: it writes the offsets to that
// topic, creating it, and copies them to the worker's offsets topic. A kconnect worker started on
// the same worker.properties after it resumes the connector from that topic, so that no line is
// produced twice, and writes on to it as Kafka Connect did.
func TestConnectorOffsetsTopicAfterKafkaConnect(t *testing.T) {
	classpath := testenv.JavaClients(t)
	brokers := javaTestBroker(t)
	props := javaCompatibleProps(t, brokers, "ownoff")
	out, own := testenv.Topic(t, "ownoff-lines"), testenv.Topic(t, "ownoff-own")
	kafkalogtest.CreateTopic(t, brokers, out, 1, "delete")
	input := filepath.Join(t.TempDir(), "in.txt")
	appendLines(t, input, 0, 3)
	java := workertest.StartJavaDistributed(t, classpath, t.TempDir(), props)
	java.CreateConnector("src", map[string]string{"connector.class": "FileStreamSource", "file": input, "topic": out, "offsets.storage.topic": own})
	// Kafka Connect copies to the worker's topic only once the write to the connector's topic
	// succeeded, so that topic exists by then.
	java.WaitFor(time.Minute, "Kafka Connect's copy of 3 lines' offset in the worker's offsets topic", func() bool {
		return topicPosition(t, brokers, props["offset.storage.topic"], "src", input) == 3*lineBytes
	})
	if pos := topicPosition(t, brokers, own, "src", input); pos != 3*lineBytes {
		t.Fatalf("Kafka Connect's position in %s = %d, want %d", own, pos, 3*lineBytes)
	}
	if err := java.Stop(); err != nil && !strings.Contains(err.Error(), "143") {
		t.Fatalf("Kafka Connect exited with %v after SIGTERM\n%s", err, java.Log())
	}

	kc := workertest.StartDistributed(t, t.TempDir(), props)
	appendLines(t, input, 3, 5)
	kc.WaitFor(time.Minute, "kconnect to commit 5 lines to "+own, func() bool { return topicPosition(t, brokers, own, "src", input) == 5*lineBytes })
	kc.FailIfFailed("src")
	checkExactlyOnce(t, "the lines topic", unquote(t, recordValues(t, brokers, out)),
		[]string{"line 000000", "line 000001", "line 000002", "line 000003", "line 000004"})
}
