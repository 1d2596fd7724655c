package broker

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestResponsesJavaValidates checks, with franz-go, the response fields
// Apache Kafka's Java clients reject; TestJavaTools runs the Java tools.
func TestResponsesJavaValidates(t *testing.T) {
	b := start(t, Options{})
	cl := newClient(t, b)
	ctx := testContext(t)

	create := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "compacted", 1, -1
	rc := kmsg.NewCreateTopicsRequestTopicConfig()
	rc.Name, rc.Value = "cleanup.policy", kmsg.StringPtr("compact")
	rt.Configs = append(rt.Configs, rc)
	create.Topics = append(create.Topics, rt)
	cresp, err := create.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if len(cresp.Topics) != 1 || len(cresp.Topics[0].Configs) == 0 {
		t.Fatalf("CreateTopics response %+v has no configs", cresp.Topics)
	}
	for _, c := range cresp.Topics[0].Configs {
		if c.Source != int8(kmsg.ConfigSourceDynamicTopicConfig) {
			t.Errorf("config %s has source %d, want %d (DYNAMIC_TOPIC_CONFIG)", c.Name, c.Source, kmsg.ConfigSourceDynamicTopicConfig)
		}
	}

	describe := kmsg.NewPtrDescribeTopicPartitionsRequest()
	dt := kmsg.NewDescribeTopicPartitionsRequestTopic()
	dt.Topic = "compacted"
	describe.Topics = append(describe.Topics, dt)
	dresp, err := describe.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if len(dresp.Topics) != 1 || len(dresp.Topics[0].Partitions) != 1 {
		t.Fatalf("DescribeTopicPartitions response %+v", dresp.Topics)
	}
	if p := dresp.Topics[0].Partitions[0]; p.EligibleLeaderReplicas == nil || p.LastKnownELR == nil {
		t.Errorf("partition has null EligibleLeaderReplicas (%v) or LastKnownELR (%v); Java needs arrays", p.EligibleLeaderReplicas, p.LastKnownELR)
	}

	if _, err := kadm.NewClient(cl).CommitOffsets(ctx, "g", kadm.Offsets{"compacted": {0: {At: 0}}}); err != nil {
		t.Fatal(err)
	}
	list := kmsg.NewPtrListGroupsRequest()
	list.TypesFilter = []string{"Classic", "Consumer"} // as Java's admin client sends them
	lresp, err := list.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if len(lresp.Groups) != 1 || lresp.Groups[0].Group != "g" {
		t.Errorf("ListGroups filtered by Java's type names = %+v, want group g", lresp.Groups)
	}
}

// TestClientConnReassemblesFrames writes a response a byte at a time:
// the amendment must not depend on kfake writing whole frames.
func TestClientConnReassemblesFrames(t *testing.T) {
	client, server := net.Pipe()
	conn := newClientConn(server, nil)
	t.Cleanup(func() { client.Close(); conn.Close() })

	req := kmsg.NewPtrDescribeTopicPartitionsRequest()
	const corr = 7
	frame := binary.BigEndian.AppendUint32(nil, 0)
	frame = binary.BigEndian.AppendUint16(frame, uint16(req.Key()))
	frame = binary.BigEndian.AppendUint16(frame, uint16(req.GetVersion()))
	frame = binary.BigEndian.AppendUint32(frame, corr)
	frame = append(frame, 0xFF, 0xFF, 0) // null client ID, no tags
	frame = req.AppendTo(frame)
	binary.BigEndian.PutUint32(frame, uint32(len(frame)-4))
	go func() { _, _ = client.Write(frame) }()
	if _, err := io.ReadFull(conn, make([]byte, len(frame))); err != nil {
		t.Fatal(err)
	}

	resp := req.ResponseKind().(*kmsg.DescribeTopicPartitionsResponse)
	tp := kmsg.NewDescribeTopicPartitionsResponseTopic()
	tp.Partitions = append(tp.Partitions, kmsg.NewDescribeTopicPartitionsResponseTopicPartition())
	resp.Topics = append(resp.Topics, tp)
	out := binary.BigEndian.AppendUint32(nil, 0)
	out = binary.BigEndian.AppendUint32(out, corr)
	out = append(out, 0) // response header tags
	out = resp.AppendTo(out)
	binary.BigEndian.PutUint32(out, uint32(len(out)-4))
	go func() {
		for i := range out {
			if _, err := conn.Write(out[i : i+1]); err != nil {
				return
			}
		}
	}()
	size := make([]byte, 4)
	if _, err := io.ReadFull(client, size); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, binary.BigEndian.Uint32(size))
	if _, err := io.ReadFull(client, body); err != nil {
		t.Fatal(err)
	}
	if got := int32(binary.BigEndian.Uint32(body)); got != corr {
		t.Fatalf("correlation ID %d, want %d", got, corr)
	}
	got := req.ResponseKind().(*kmsg.DescribeTopicPartitionsResponse)
	if err := got.ReadFrom(body[5:]); err != nil {
		t.Fatal(err)
	}
	if p := got.Topics[0].Partitions[0]; p.EligibleLeaderReplicas == nil || p.LastKnownELR == nil {
		t.Fatalf("response not amended: %+v", p)
	}
}

// TestJavaTools runs Apache Kafka's own command-line tools (Maven Central
// jars, scripts/javaclients.sh) against the embedded broker.
func TestJavaTools(t *testing.T) {
	classpath := testenv.JavaClients(t)
	b := start(t, Options{})
	run := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command("java", append([]string{"-XX:TieredStopAtLevel=1", "-cp", classpath}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		return out.String()
	}
	bootstrap := []string{"--bootstrap-server", b.Addr()}
	topics := func(args ...string) string {
		return run("", append(append([]string{"org.apache.kafka.tools.TopicCommand"}, bootstrap...), args...)...)
	}
	mustContain := func(out string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Fatalf("output lacks %q:\n%s", w, out)
			}
		}
	}

	mustContain(topics("--create", "--topic", "jt", "--partitions", "1", "--config", "cleanup.policy=compact"), "Created topic jt.")
	mustContain(topics("--describe", "--topic", "jt"), "PartitionCount: 1", "cleanup.policy=compact", "Partition: 0\tLeader: 0")
	topics("--alter", "--topic", "jt", "--partitions", "2")
	mustContain(topics("--describe", "--topic", "jt"), "PartitionCount: 2", "Partition: 1\tLeader: 0")

	run("k1:v1\nk2:v2\nk3:v3\n", append(append([]string{"org.apache.kafka.tools.ConsoleProducer"}, bootstrap...),
		"--topic", "jt", "--reader-property", "parse.key=true", "--reader-property", "key.separator=:")...)
	out := run("", append(append([]string{"org.apache.kafka.tools.consumer.ConsoleConsumer"}, bootstrap...),
		"--topic", "jt", "--group", "jg", "--from-beginning", "--max-messages", "3",
		"--formatter-property", "print.key=true", "--timeout-ms", "20000")...)
	mustContain(out, "k1\tv1", "k2\tv2", "k3\tv3", "Processed a total of 3 messages")

	groups := append([]string{"org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"}, bootstrap...)
	mustContain(run("", append(groups, "--list")...), "jg")
	out = run("", append(groups, "--describe", "--group", "jg")...)
	// Both partitions, all three records consumed: lag 0 everywhere.
	lines := 0
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) >= 6 && f[0] == "jg" && f[1] == "jt" {
			lines++
			if f[3] != f[4] || f[5] != "0" {
				t.Errorf("partition %s: offset %s, end %s, lag %s; want no lag", f[2], f[3], f[4], f[5])
			}
		}
	}
	if lines != 2 {
		t.Fatalf("describe listed %d partitions of jt, want 2:\n%s", lines, out)
	}
}

// TestKafkaConnectDistributed runs Apache Kafka Connect's distributed
// worker on the embedded broker: it must create its compacted internal
// topics and run a file source connector.
func TestKafkaConnectDistributed(t *testing.T) {
	classpath := testenv.JavaClients(t)
	b := start(t, Options{})
	dir := t.TempDir()
	input := filepath.Join(dir, "input.txt")
	if err := os.WriteFile(input, []byte("one\ntwo\nthree\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rest := "http://" + ln.Addr().String()
	ln.Close()
	props := strings.Join([]string{
		"bootstrap.servers=" + b.Addr(),
		"group.id=connect",
		"key.converter=org.apache.kafka.connect.storage.StringConverter",
		"value.converter=org.apache.kafka.connect.storage.StringConverter",
		"config.storage.topic=connect-configs",
		"offset.storage.topic=connect-offsets",
		"status.storage.topic=connect-status",
		"config.storage.replication.factor=1",
		"offset.storage.replication.factor=1",
		"status.storage.replication.factor=1",
		"listeners=" + rest,
	}, "\n")
	worker := filepath.Join(dir, "worker.properties")
	if err := os.WriteFile(worker, []byte(props), 0o644); err != nil {
		t.Fatal(err)
	}
	connect := testenv.StartJava(t, classpath, "org.apache.kafka.connect.cli.ConnectDistributed", worker)

	// The worker answers REST only once it joined its group, which needs
	// the internal topics.
	connector := `{"name":"fs","config":{"connector.class":"FileStreamSource","file":` + strconv.Quote(input) + `,"topic":"lines"}}`
	deadline := time.Now().Add(90 * time.Second)
	for {
		select {
		case <-connect.Exited():
			t.Fatalf("Kafka Connect exited: %v\n%s", connect.Err(), connect.Output())
		default:
		}
		resp, err := http.Post(rest+"/connectors", "application/json", strings.NewReader(connector))
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusCreated {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("POST /connectors: %d %s\n%s", resp.StatusCode, body, connect.Output())
			}
		} else if time.Now().After(deadline) {
			t.Fatalf("Kafka Connect REST not up after 90s: %v\n%s", err, connect.Output())
		}
		time.Sleep(500 * time.Millisecond)
	}

	cl := newClient(t, b, kgo.ConsumeTopics("lines"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if got := consume(t, cl, 3); !equal(got, []string{"one", "two", "three"}) {
		t.Fatalf("topic lines = %q, want the file's lines", got)
	}
	rcs, err := kadm.NewClient(newClient(t, b)).DescribeTopicConfigs(testContext(t), "connect-configs", "connect-offsets", "connect-status")
	if err != nil {
		t.Fatal(err)
	}
	for _, rc := range rcs {
		if !hasConfig(rc, "cleanup.policy", "compact") {
			t.Errorf("internal topic %s is not compacted: %+v", rc.Name, rc.Configs)
		}
	}
}
