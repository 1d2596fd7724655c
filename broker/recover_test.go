package broker

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// legacyRecords is how many records legacyChild produces to each topic.
const legacyRecords = 50

// legacyTopics have names that need care in partition dir names.
var legacyTopics = []string{"legacy", "with-dashes-0", "with.dots_and_underscores"}

// legacyChild runs kfake on dir as kconnect did before it persisted
// auto-created topics, produces legacyRecords records to each of
// legacyTopics, auto-creating them, prints "done" and waits to be killed.
func legacyChild(dir string) error {
	c, err := kfake.NewCluster(kfake.DataDir(dir), kfake.Ports(0), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(1))
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.AllowAutoTopicCreation())
	if err != nil {
		return err
	}
	for _, topic := range legacyTopics {
		for i := range legacyRecords {
			if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: topic, Value: []byte(strconv.Itoa(i))}).FirstErr(); err != nil {
				return err
			}
		}
	}
	fmt.Println("done")
	select {}
}

// TestAdoptsTopicsLostByOlderCrash checks that records a crashed broker of
// an older kconnect left in partition dirs missing from topics.json come
// back, and that new records go after them.
func TestAdoptsTopicsLostByOlderCrash(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, legacyEnv+"=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	_ = cmd.Process.Kill() // SIGKILL
	_ = cmd.Wait()
	if line != "done\n" {
		t.Fatalf("legacy child printed %q, %v", line, err)
	}

	b := start(t, Options{DataDir: dir})
	cl := newClient(t, b, kgo.AllowAutoTopicCreation())
	for _, topic := range legacyTopics {
		produce(t, cl, topic, "new")
	}
	topicIDs := func(b *Broker) map[string]kadm.TopicID {
		md, err := kadm.NewClient(newClient(t, b)).Metadata(testContext(t), legacyTopics...)
		if err != nil {
			t.Fatal(err)
		}
		ids := make(map[string]kadm.TopicID)
		for _, topic := range legacyTopics {
			ids[topic] = md.Topics[topic].ID
		}
		return ids
	}
	ids := topicIDs(b)

	var want []string
	for i := range legacyRecords {
		want = append(want, strconv.Itoa(i))
	}
	want = append(want, "new")
	check := func(when string, b *Broker) {
		t.Helper()
		for _, topic := range legacyTopics {
			consumer := newClient(t, b, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			if got := consume(t, consumer, len(want)); !equal(got, want) {
				t.Errorf("%s: %s holds %q, want %q", when, topic, got, want)
			}
			consumer.Close()
		}
	}
	check("after adopting", b)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	// The adopted topics are now as persistent as any.
	b = start(t, Options{DataDir: dir})
	check("after another restart", b)
	if got := topicIDs(b); fmt.Sprint(got) != fmt.Sprint(ids) {
		t.Errorf("topic IDs changed from %v to %v", ids, got)
	}
}

func TestParsePartitionDir(t *testing.T) {
	tests := []struct {
		name      string
		topic     string
		partition int
		ok        bool
	}{
		{"t-0", "t", 0, true},
		{"with-dashes-12", "with-dashes", 12, true},
		{"a%2Fb-1", "a/b", 1, true},
		{"t-01", "", 0, false}, // kfake writes partitions without leading zeros
		{"t--1", "t-", 1, true},
		{"t", "", 0, false},
		{"t-x", "", 0, false},
		{"a/b-1", "", 0, false}, // an escaped name would have %2F
	}
	for _, tt := range tests {
		topic, partition, ok := parsePartitionDir(tt.name)
		if topic != tt.topic || partition != tt.partition || ok != tt.ok {
			t.Errorf("parsePartitionDir(%q) = %q, %d, %v; want %q, %d, %v", tt.name, topic, partition, ok, tt.topic, tt.partition, tt.ok)
		}
	}
}
