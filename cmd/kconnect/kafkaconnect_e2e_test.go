package main_test

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
	"github.com/kconnect/kconnect/runtime/offsets"
)

// TestSwapWithKafkaConnectOnOneOffsetsFile runs Apache Kafka Connect's own ConnectStandalone
// (Maven Central jars, scripts/javaclients.sh), then kconnect, then Kafka Connect again, each
// with a FileStreamSource on the same input file and the same offsets file, against the real
// Kafka: the topic must hold every line exactly once, in order, so neither side re-read or
// skipped a line where the other left off.
func TestSwapWithKafkaConnectOnOneOffsetsFile(t *testing.T) {
	classpath := testenv.JavaClients(t)
	brokers := testenv.Require(t, "KCONNECT_TEST_KAFKA")
	dir := t.TempDir()
	input, offsetsFile := filepath.Join(dir, "input.txt"), filepath.Join(dir, "connect.offsets")
	topic := testenv.Topic(t, "swap")
	adm, err := kgo.NewClient(kgo.SeedBrokers(brokers))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	t.Cleanup(func() { _, _ = kadm.NewClient(adm).DeleteTopics(context.Background(), topic) })

	worker := map[string]string{
		"bootstrap.servers":            brokers,
		"key.converter":                "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":              "org.apache.kafka.connect.storage.StringConverter",
		"offset.storage.file.filename": offsetsFile,
		"offset.flush.interval.ms":     "500",
	}
	source := map[string]string{"name": "source", "connector.class": "FileStreamSource", "file": input, "topic": topic}
	const lineLen = int64(len("line 000000\n"))

	runKafkaConnect := func(upTo int) {
		t.Helper()
		w := withListener(t, worker)
		connect := testenv.StartJava(t, classpath, "org.apache.kafka.connect.cli.ConnectStandalone",
			workertest.WriteProperties(t, dir, "java-worker.properties", w),
			workertest.WriteProperties(t, dir, "java-source.properties", source))
		waitPosition(t, offsetsFile, int64(upTo)*lineLen, connect)
		// A graceful stop, as a user switching binaries would do it.
		if err := connect.Stop(); err != nil {
			t.Fatalf("Kafka Connect: %v\n%s", err, connect.Output())
		}
	}

	appendLines(t, input, 0, 100)
	runKafkaConnect(100)

	appendLines(t, input, 100, 200)
	kc := workertest.Start(t, dir, withListener(t, worker), source)
	waitPosition(t, offsetsFile, 200*lineLen, nil)
	if err := kc.Stop(); err != nil {
		t.Fatalf("kconnect stop: %v\n%s", err, kc.Log())
	}

	appendLines(t, input, 200, 300)
	runKafkaConnect(300)

	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got []string
	for len(got) < 300 && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	// Anything past 300 would already be in the same fetch; a short extra poll catches the rest.
	extra, cancelExtra := context.WithTimeout(context.Background(), time.Second)
	defer cancelExtra()
	cl.PollFetches(extra).EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	if len(got) != 300 {
		t.Fatalf("topic holds %d records, want exactly 300", len(got))
	}
	for i, line := range got {
		if want := fmt.Sprintf("line %06d", i); line != want {
			t.Fatalf("record %d = %q, want %q", i, line, want)
		}
	}
}

// waitPosition waits until the offsets file holds position want for the source's file, failing
// if the Kafka Connect process (nil while kconnect runs) ends first.
func waitPosition(t *testing.T, path string, want int64, connect *testenv.JavaProcess) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	var last any
	var exited <-chan struct{}
	if connect != nil {
		exited = connect.Exited()
	}
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			t.Fatalf("Kafka Connect exited: %v\n%s", connect.Err(), connect.Output())
		default:
		}
		// Kafka Connect rewrites the file in place; a half-written file is read again later.
		if store, err := offsets.OpenFile(path); err == nil {
			if list, err := store.List("source"); err == nil && len(list) == 1 {
				last = list[0].Offset["position"]
				if last == want {
					return
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	msg := ""
	if connect != nil {
		msg = connect.Output()
	}
	t.Fatalf("offsets file position %v, want %d after 90s\n%s", last, want, msg)
}

// withListener returns a copy of worker with a REST listener on a free port.
func withListener(t *testing.T, worker map[string]string) map[string]string {
	out := maps.Clone(worker)
	out["listeners"] = fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t))
	return out
}
