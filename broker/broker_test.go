package broker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// start starts a broker on a free port that the test closes when it ends.
func start(tb testing.TB, opts Options) *Broker {
	tb.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	b, err := Start(opts)
	if err != nil {
		tb.Fatalf("Start: %v", err)
	}
	tb.Cleanup(func() {
		if err := b.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return b
}

func newClient(tb testing.TB, b *Broker, opts ...kgo.Opt) *kgo.Client {
	tb.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.Addr())}, opts...)...)
	if err != nil {
		tb.Fatalf("kgo.NewClient: %v", err)
	}
	tb.Cleanup(cl.Close)
	return cl
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func produce(t *testing.T, cl *kgo.Client, topic string, values ...string) {
	t.Helper()
	for _, v := range values {
		r := &kgo.Record{Topic: topic, Value: []byte(v)}
		if k, v, ok := strings.Cut(v, "="); ok {
			r.Key, r.Value = []byte(k), []byte(v)
		}
		if err := cl.ProduceSync(testContext(t), r).FirstErr(); err != nil {
			t.Fatalf("produce %q to %s: %v", v, topic, err)
		}
	}
}

// consume polls until it has n records and returns them as key=value
// strings, or just the value for records without a key.
func consume(t *testing.T, cl *kgo.Client, n int) []string {
	t.Helper()
	ctx := testContext(t)
	var got []string
	for len(got) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %q, want %d records: %v", got, n, ctx.Err())
		}
		if err := fs.Err(); err != nil {
			t.Fatalf("poll: %v", err)
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, recordString(r)) })
	}
	return got
}

func recordString(r *kgo.Record) string {
	if r.Key == nil {
		return string(r.Value)
	}
	return string(r.Key) + "=" + string(r.Value)
}

func equal(a, b []string) bool { return strings.Join(a, "\x00") == strings.Join(b, "\x00") }

func TestProduceConsumeAutoCreatedTopic(t *testing.T) {
	b := start(t, Options{})
	producer := newClient(t, b, kgo.AllowAutoTopicCreation())
	produce(t, producer, "auto", "one", "two", "three")

	consumer := newClient(t, b, kgo.ConsumeTopics("auto"))
	if got, want := consume(t, consumer, 3), []string{"one", "two", "three"}; !equal(got, want) {
		t.Errorf("consumed %q, want %q", got, want)
	}

	// A default Kafka node auto-creates topics with num.partitions=1 and
	// default.replication.factor=1.
	md, err := kadm.NewClient(producer).Metadata(testContext(t), "auto")
	if err != nil {
		t.Fatal(err)
	}
	td := md.Topics["auto"]
	if td.Err != nil || len(td.Partitions) != 1 || len(td.Partitions[0].Replicas) != 1 {
		t.Errorf("auto-created topic = %+v, want 1 partition with 1 replica", td)
	}
}

func TestAutoCreateTopics(t *testing.T) {
	b := start(t, Options{})
	cl := newClient(t, b)
	metadata := func(allowAuto bool, topics ...string) *kmsg.MetadataResponse {
		t.Helper()
		req := kmsg.NewPtrMetadataRequest()
		req.AllowAutoTopicCreation = allowAuto
		for _, topic := range topics {
			rt := kmsg.NewMetadataRequestTopic()
			rt.Topic = kmsg.StringPtr(topic)
			req.Topics = append(req.Topics, rt)
		}
		resp, err := req.RequestWith(testContext(t), cl)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	errorCodes := func(resp *kmsg.MetadataResponse) map[string]int16 {
		codes := make(map[string]int16)
		for _, rt := range resp.Topics {
			codes[*rt.Topic] = rt.ErrorCode
		}
		return codes
	}

	unknown := kerr.UnknownTopicOrPartition.Code
	if got := errorCodes(metadata(false, "not-asked")); got["not-asked"] != unknown {
		t.Errorf("metadata without auto-creation answered %v, want UNKNOWN_TOPIC_OR_PARTITION", got)
	}
	// Kafka refuses these names; kfake alone would have created them.
	long := strings.Repeat("x", 250)
	got := errorCodes(metadata(true, "bad/name", "..", long, "good.name_1-2"))
	for _, name := range []string{"bad/name", "..", long} {
		if got[name] == 0 {
			t.Errorf("topic %.20q was auto-created, want it refused", name)
		}
	}
	if got["good.name_1-2"] != 0 {
		t.Errorf("topic good.name_1-2 not auto-created: %v", kerr.ErrorForCode(got["good.name_1-2"]))
	}

	// The control function that auto-creates replaces itself every
	// controlRenewal requests and must keep working across that.
	for i := range controlRenewal + 1 {
		metadata(false, "good.name_1-2")
		if i == controlRenewal-2 || i == controlRenewal {
			topic := fmt.Sprintf("after-%d", i)
			if code := errorCodes(metadata(true, topic))[topic]; code != 0 {
				t.Fatalf("topic %s not auto-created after %d metadata requests: %v", topic, i, kerr.ErrorForCode(code))
			}
		}
	}
}

func TestCreateTopicReplicationFactor(t *testing.T) {
	b := start(t, Options{})
	adm := kadm.NewClient(newClient(t, b))
	tests := []struct {
		rf      int16
		wantErr error
	}{
		{rf: -1},
		{rf: 1},
		// Connect's internal topics default to replication factor 3, which a
		// single-node Kafka rejects with this error.
		{rf: 3, wantErr: kerr.InvalidReplicationFactor},
	}
	for _, tt := range tests {
		t.Run("rf="+strconv.Itoa(int(tt.rf)), func(t *testing.T) {
			ctx := testContext(t)
			topic := fmt.Sprintf("compacted-rf%d", tt.rf)
			policy := "compact"
			resp, err := adm.CreateTopic(ctx, -1, tt.rf, map[string]*string{"cleanup.policy": &policy}, topic)
			if err == nil {
				err = resp.Err
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("CreateTopic error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			if resp.NumPartitions != 1 || resp.ReplicationFactor != 1 {
				t.Errorf("created %d partitions with RF %d, want 1 and 1", resp.NumPartitions, resp.ReplicationFactor)
			}
			rcs, err := adm.DescribeTopicConfigs(ctx, topic)
			if err != nil {
				t.Fatal(err)
			}
			rc, err := rcs.On(topic, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range rc.Configs {
				if c.Key == "cleanup.policy" {
					if c.MaybeValue() != "compact" || c.Source != kmsg.ConfigSourceDynamicTopicConfig {
						t.Errorf("cleanup.policy = %q from %v, want compact from DYNAMIC_TOPIC_CONFIG", c.MaybeValue(), c.Source)
					}
					return
				}
			}
			t.Errorf("DescribeTopicConfigs(%s) has no cleanup.policy: %+v", topic, rc.Configs)
		})
	}
}

func TestConsumerGroupResumesFromCommittedOffsets(t *testing.T) {
	b := start(t, Options{})
	producer := newClient(t, b, kgo.AllowAutoTopicCreation())
	produce(t, producer, "events", "a", "b", "c")

	groupOpts := []kgo.Opt{
		kgo.ConsumerGroup("g"),
		kgo.ConsumeTopics("events"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
	}
	first := newClient(t, b, groupOpts...)
	if got := consume(t, first, 3); !equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("first member consumed %q", got)
	}
	if err := first.CommitUncommittedOffsets(testContext(t)); err != nil {
		t.Fatalf("commit: %v", err)
	}
	first.Close() // leaves the group so the next member takes over at once

	produce(t, producer, "events", "d")
	second := newClient(t, b, groupOpts...)
	// Without the commit the reset offset would replay a, b and c.
	if got := consume(t, second, 1); !equal(got, []string{"d"}) {
		t.Errorf("second member consumed %q, want [d]", got)
	}
}

func TestTransactions(t *testing.T) {
	b := start(t, Options{})
	adm := kadm.NewClient(newClient(t, b))
	if _, err := adm.CreateTopic(testContext(t), 1, 1, nil, "txn"); err != nil {
		t.Fatal(err)
	}
	producer := newClient(t, b, kgo.TransactionalID("tx-1"), kgo.DefaultProduceTopic("txn"))
	for _, tx := range []struct {
		value  string
		commit kgo.TransactionEndTry
	}{{"committed-1", kgo.TryCommit}, {"aborted", kgo.TryAbort}, {"committed-2", kgo.TryCommit}} {
		if err := producer.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		if err := producer.ProduceSync(testContext(t), kgo.StringRecord(tx.value)).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := producer.EndTransaction(testContext(t), tx.commit); err != nil {
			t.Fatalf("end transaction of %s: %v", tx.value, err)
		}
	}

	consumer := newClient(t, b, kgo.ConsumeTopics("txn"), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if got, want := consume(t, consumer, 2), []string{"committed-1", "committed-2"}; !equal(got, want) {
		t.Errorf("read_committed consumer got %q, want %q", got, want)
	}
}

func TestRestartKeepsState(t *testing.T) {
	dir := t.TempDir()
	first, err := Start(Options{DataDir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	cl := newClient(t, first, kgo.AllowAutoTopicCreation())
	adm := kadm.NewClient(cl)
	policy := "compact"
	if _, err := adm.CreateTopic(testContext(t), 1, 1, map[string]*string{"cleanup.policy": &policy}, "configs"); err != nil {
		t.Fatal(err)
	}
	produce(t, cl, "configs", "k1=v1", "k2=v2")
	produce(t, cl, "plain", "x", "y", "z")
	if _, err := adm.CommitOffsets(testContext(t), "g", kadm.OffsetsFromRecords(kgo.Record{Topic: "plain", Partition: 0, Offset: 1})); err != nil {
		t.Fatal(err)
	}
	md, err := adm.Metadata(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	clusterID := md.Cluster
	cl.Close()
	if err := first.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	second := start(t, Options{DataDir: dir})
	adm = kadm.NewClient(newClient(t, second))
	ctx := testContext(t)

	md, err = adm.Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if md.Cluster != clusterID || clusterID == "" {
		t.Errorf("cluster ID after restart = %q, want %q", md.Cluster, clusterID)
	}
	if got := md.Topics.Names(); !equal(got, []string{"configs", "plain"}) {
		t.Errorf("topics after restart = %q, want [configs plain]", got)
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, "configs")
	if err != nil {
		t.Fatal(err)
	}
	if rc, err := rcs.On("configs", nil); err != nil || !hasConfig(rc, "cleanup.policy", "compact") {
		t.Errorf("configs topic after restart: %+v, %v; want cleanup.policy=compact", rc, err)
	}
	offsets, err := adm.FetchOffsets(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := offsets.Lookup("plain", 0); !ok || o.At != 2 {
		t.Errorf("committed offset after restart = %+v (found %v), want 2", o, ok)
	}

	consumer := newClient(t, second, kgo.ConsumeTopics("configs", "plain"))
	got := consume(t, consumer, 5)
	want := map[string]bool{"k1=v1": true, "k2=v2": true, "x": true, "y": true, "z": true}
	for _, r := range got {
		if !want[r] {
			t.Errorf("unexpected record %q after restart", r)
		}
		delete(want, r)
	}
	if len(want) != 0 {
		t.Errorf("records lost in restart: %v", want)
	}
}

func hasConfig(rc kadm.ResourceConfig, key, value string) bool {
	for _, c := range rc.Configs {
		if c.Key == key {
			return c.MaybeValue() == value
		}
	}
	return false
}

// TestCompactionAfterRestart checks both of our fixes to kfake's cleaner:
// compaction resumes after a restart from a data dir, and it never expires
// a compacted topic's old records by time.
func TestCompactionAfterRestart(t *testing.T) {
	dir := t.TempDir()
	first, err := Start(Options{DataDir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	cl := newClient(t, first)
	policy := "compact"
	if _, err := kadm.NewClient(cl).CreateTopic(testContext(t), 1, 1, map[string]*string{"cleanup.policy": &policy}, "state"); err != nil {
		t.Fatal(err)
	}
	month := time.Now().AddDate(0, -1, 0)
	for _, kv := range []string{"a=1", "b=1", "a=2", "c=1"} {
		k, v, _ := strings.Cut(kv, "=")
		r := &kgo.Record{Topic: "state", Key: []byte(k), Value: []byte(v), Timestamp: month}
		if err := cl.ProduceSync(testContext(t), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cl.Close()
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second := start(t, Options{DataDir: dir, cleanerInterval: 20 * time.Millisecond})
	want := []string{"b=1", "a=2", "c=1"}
	var got []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		consumer := newClient(t, second, kgo.ConsumeTopics("state"))
		got = consume(t, consumer, 3)
		consumer.Close()
		if equal(got, want) {
			return
		}
	}
	t.Errorf("compacted topic after restart holds %q, want %q", got, want)
}

func TestPortZeroAndTwoBrokers(t *testing.T) {
	b1 := start(t, Options{})
	b2 := start(t, Options{Port: 0})
	if b1.Addr() == b2.Addr() {
		t.Fatalf("both brokers listen on %s", b1.Addr())
	}
	for i, b := range []*Broker{b1, b2} {
		_, port, err := net.SplitHostPort(b.Addr())
		if err != nil || port == "0" {
			t.Fatalf("Addr() = %q, want host:port with a real port", b.Addr())
		}
		produce(t, newClient(t, b, kgo.AllowAutoTopicCreation()), fmt.Sprintf("topic-%d", i), "v")
	}
	for i, b := range []*Broker{b1, b2} {
		md, err := kadm.NewClient(newClient(t, b)).Metadata(testContext(t))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := md.Topics.Names(), []string{fmt.Sprintf("topic-%d", i)}; !equal(got, want) {
			t.Errorf("broker %d has topics %q, want %q", i, got, want)
		}
		if addr := md.Brokers[0].Host + ":" + strconv.Itoa(int(md.Brokers[0].Port)); addr != b.Addr() {
			t.Errorf("broker %d advertises %s, want %s", i, addr, b.Addr())
		}
	}
}

func TestExplicitPortAndHost(t *testing.T) {
	// Find a free port, release it, and ask for it explicitly.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	b := start(t, Options{Host: "localhost", Port: port})
	if want := net.JoinHostPort("127.0.0.1", strconv.Itoa(port)); b.Addr() != want {
		t.Errorf("Addr() = %s, want %s", b.Addr(), want)
	}
	produce(t, newClient(t, b, kgo.AllowAutoTopicCreation()), "t", "v")
}

func TestStartErrors(t *testing.T) {
	taken := start(t, Options{})
	_, takenPort, _ := net.SplitHostPort(taken.Addr())
	port, _ := strconv.Atoi(takenPort)
	lockedDir := t.TempDir()
	start(t, Options{DataDir: lockedDir})

	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"port in use", Options{Port: port}, "address already in use"},
		{"wildcard IPv4", Options{Host: "0.0.0.0"}, "wildcard address"},
		{"wildcard IPv6", Options{Host: "::"}, "wildcard address"},
		{"negative port", Options{Port: -1}, "out of range"},
		{"data dir in use", Options{DataDir: lockedDir}, "another broker is using it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Logger = slog.New(slog.DiscardHandler)
			b, err := Start(tt.opts)
			if err == nil {
				b.Close()
				t.Fatalf("Start succeeded, want error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Start error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestStartLogsAddress(t *testing.T) {
	var logs bytes.Buffer
	b := start(t, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	want := `msg="embedded broker listening" addr=` + b.Addr()
	if !strings.Contains(logs.String(), want) {
		t.Errorf("logs = %q, want them to contain %q", logs.String(), want)
	}
}

func TestCloseTwice(t *testing.T) {
	b, err := Start(Options{DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := b.Close(); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
	}
	if _, err := net.DialTimeout("tcp", b.Addr(), time.Second); err == nil {
		t.Error("broker still accepts connections after Close")
	}
}

func BenchmarkProduce1KB(b *testing.B) {
	br := start(b, Options{Logger: slog.New(slog.DiscardHandler)})
	cl := newClient(b, br, kgo.DefaultProduceTopic("bench"), kgo.AllowAutoTopicCreation())
	ctx := context.Background()
	value := make([]byte, 1024)
	// Create the topic and connect before timing.
	if err := cl.ProduceSync(ctx, kgo.SliceRecord(value)).FirstErr(); err != nil {
		b.Fatal(err)
	}

	var failed atomic.Pointer[error]
	onDone := func(_ *kgo.Record, err error) {
		if err != nil {
			failed.CompareAndSwap(nil, &err)
		}
	}
	b.SetBytes(int64(len(value)))
	b.ResetTimer()
	for range b.N {
		cl.Produce(ctx, kgo.SliceRecord(value), onDone)
	}
	if err := cl.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
