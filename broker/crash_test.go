package broker

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The crash test re-executes the test binary as a child process that runs a
// broker together with its clients, as a kconnect worker with an embedded
// broker does, and kills it with SIGKILL. These environment variables make
// TestMain run crashChild instead of the tests.
const (
	crashChildEnv = "KCONNECT_BROKER_CRASH_CHILD" // data dir
	crashRoundEnv = "KCONNECT_BROKER_CRASH_ROUND"
	crashSeedEnv  = "KCONNECT_BROKER_CRASH_SEED"   // set to replay a failed run
	crashTxnsEnv  = "KCONNECT_BROKER_CRASH_TXNS"   // run txnChild, committing this many transactions
	legacyEnv     = "KCONNECT_BROKER_CRASH_LEGACY" // run legacyChild
)

func TestMain(m *testing.M) {
	runFDLimitChild()
	runServeChild()
	if dir := os.Getenv(crashChildEnv); dir != "" {
		round, _ := strconv.Atoi(os.Getenv(crashRoundEnv))
		run := crashChild
		if n, err := strconv.Atoi(os.Getenv(crashTxnsEnv)); err == nil {
			run = func(dir string, round int) error { return txnChild(dir, round, n) }
		}
		if os.Getenv(legacyEnv) != "" {
			run = func(dir string, _ int) error { return legacyChild(dir) }
		}
		if err := run(dir, round); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// crashChild starts a broker on dir, prints "addr ADDR", waits for "go" on
// stdin and then produces and consumes until it is killed. It prints a line
// for everything the broker acknowledged, only after the acknowledgement:
//
//	ack TOPIC PARTITION OFFSET VALUE   a produced record
//	topic TOPIC ID                     the ID of a topic it produced to
//	resume TOPIC PARTITION OFFSET      the first offset the group consumed this round
//	commit TOPIC PARTITION OFFSET      a committed group offset
func crashChild(dir string, round int) error {
	b, err := Start(Options{DataDir: dir, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return err
	}
	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		// One unbuffered write per line, so a kill never leaves half a line.
		os.Stdout.WriteString(fmt.Sprintf(format, args...) + "\n")
	}
	say("addr %s", b.Addr())
	if line, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil || line != "go\n" {
		return fmt.Errorf("waiting for go: %q, %v", line, err)
	}
	ctx := context.Background()

	admCl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		return err
	}
	adm := kadm.NewClient(admCl)
	if round == 0 {
		policy := "compact"
		if _, err := adm.CreateTopic(ctx, 3, 1, map[string]*string{"cleanup.policy": &policy}, "multi"); err != nil {
			return fmt.Errorf("create multi: %w", err)
		}
	}
	topicIDs := make(chan string, 1000)
	go func() {
		for topic := range topicIDs {
			md, err := adm.Metadata(ctx, topic)
			if err == nil && md.Topics[topic].Err == nil {
				id := md.Topics[topic].ID
				say("topic %s %s", topic, base64.StdEncoding.EncodeToString(id[:]))
			}
		}
	}()

	go func() {
		cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ConsumerGroup("sink"), kgo.ConsumeTopics("main"),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit(), kgo.FetchMaxWait(50*time.Millisecond))
		if err != nil {
			return
		}
		resumed := make(map[int32]bool)
		for {
			fs := cl.PollFetches(ctx)
			last := make(map[int32]int64)
			fs.EachRecord(func(r *kgo.Record) {
				if !resumed[r.Partition] {
					resumed[r.Partition] = true
					say("resume %s %d %d", r.Topic, r.Partition, r.Offset)
				}
				last[r.Partition] = r.Offset
			})
			if len(last) == 0 {
				continue
			}
			if err := cl.CommitRecords(ctx, fs.Records()...); err == nil {
				for p, o := range last {
					say("commit main %d %d", p, o+1)
				}
			}
		}
	}()

	producer, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.AllowAutoTopicCreation(), kgo.ProducerLinger(time.Millisecond))
	if err != nil {
		return err
	}
	var seenMu sync.Mutex
	seen := make(map[string]bool)
	for seq := 0; ; seq++ {
		topics := []string{"main"}
		if seq%10 == 0 {
			topics = append(topics, "multi")
		}
		if seq%100 == 0 {
			// A new topic every 100 records, so kills land on topics
			// auto-created moments before.
			topics = append(topics, fmt.Sprintf("auto-%d-%d", round, seq/100))
		}
		for _, topic := range topics {
			value := fmt.Sprintf("r%d-%d-%s", round, seq, topic)
			producer.Produce(ctx, &kgo.Record{Topic: topic, Key: []byte(value), Value: []byte(value)}, func(r *kgo.Record, err error) {
				if err != nil {
					return
				}
				say("ack %s %d %d %s", r.Topic, r.Partition, r.Offset, r.Value)
				seenMu.Lock()
				if !seen[r.Topic] {
					seen[r.Topic] = true
					topicIDs <- r.Topic
				}
				seenMu.Unlock()
			})
		}
	}
}

type tp struct {
	topic     string
	partition int32
}

// crashState is what the children reported as acknowledged.
type crashState struct {
	acks    map[tp]map[int64]string // offset -> value
	ids     map[string]string       // topic -> base64 topic ID
	commits map[tp]int64            // highest committed offset
}

func TestKillNineLosesNothingAcknowledged(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(crashSeedEnv); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (set %s to replay)", seed, crashSeedEnv)
	rng := rand.New(rand.NewPCG(seed, seed))
	dir := t.TempDir()
	st := &crashState{acks: make(map[tp]map[int64]string), ids: make(map[string]string), commits: make(map[tp]int64)}

	const rounds = 6
	for round := range rounds {
		// Even rounds die right after the first acknowledgement of a
		// freshly auto-created topic, odd ones after a random number of
		// acknowledgements.
		afterNewTopic := round%2 == 0
		minAcks := 100 + rng.IntN(2000)
		runCrashRound(t, dir, round, st, minAcks, afterNewTopic)
	}

	// Restart in this process, check, and also check that a clean
	// restart after the crashes keeps everything.
	for i := range 2 {
		b, err := Start(Options{DataDir: dir, Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))})
		if err != nil {
			t.Fatal(err)
		}
		verifyCrashState(t, fmt.Sprintf("restart %d in parent", i), b.Addr(), st)
		if !t.Failed() && i == 1 {
			checkFreshProducerAppends(t, b.Addr(), st)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// runCrashRound runs a child on dir, checks the state it recovered, lets it
// work and kills it.
func runCrashRound(t *testing.T, dir string, round int, st *crashState, minAcks int, afterNewTopic bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, crashRoundEnv+"="+strconv.Itoa(round))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Lines printed before the kill stay in the pipe and are read to
	// the end before Wait, which closes the pipe.
	kill := func() { _ = cmd.Process.Kill() } // SIGKILL
	defer func() {
		kill()
		_ = cmd.Wait()
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("round %d child stderr:\n%s", round, stderr.String())
		}
	}()

	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		t.Fatalf("round %d: child exited before printing its address", round)
	}
	addr, ok := strings.CutPrefix(lines.Text(), "addr ")
	if !ok {
		t.Fatalf("round %d: child printed %q, want its address", round, lines.Text())
	}
	if round > 0 {
		verifyCrashState(t, fmt.Sprintf("round %d after kill", round), addr, st)
		if t.Failed() {
			t.FailNow()
		}
	}
	if _, err := io.WriteString(stdin, "go\n"); err != nil {
		t.Fatal(err)
	}

	timeout := time.AfterFunc(30*time.Second, kill)
	defer timeout.Stop()
	acks := 0
	for lines.Scan() {
		newTopic := st.apply(t, round, lines.Text())
		if strings.HasPrefix(lines.Text(), "ack ") {
			acks++
		}
		if acks >= minAcks && (!afterNewTopic || newTopic) {
			kill()
		}
	}
	if acks < minAcks {
		t.Fatalf("round %d: child stopped after %d acknowledgements, before it was killed", round, acks)
	}
	t.Logf("round %d: killed after %d acknowledged records", round, acks)
}

// apply records one line from a child and reports whether it acknowledged
// the first record of a topic.
func (st *crashState) apply(t *testing.T, round int, line string) (newTopic bool) {
	t.Helper()
	f := strings.Fields(line)
	if fields := map[string]int{"ack": 5, "topic": 3, "resume": 4, "commit": 4}; len(f) == 0 || len(f) != fields[f[0]] {
		t.Fatalf("bad line from child: %q", line)
	}
	num := func(i int) int64 {
		n, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			t.Fatalf("bad line from child: %q", line)
		}
		return n
	}
	switch f[0] {
	case "ack":
		k := tp{f[1], int32(num(2))}
		offsets := st.acks[k]
		if offsets == nil {
			offsets = make(map[int64]string)
			st.acks[k] = offsets
			newTopic = true
		}
		if old, ok := offsets[num(3)]; ok && old != f[4] {
			t.Errorf("round %d: %s-%d offset %d acknowledged for %s, was acknowledged for %s before", round, k.topic, k.partition, num(3), f[4], old)
		}
		offsets[num(3)] = f[4]
	case "topic":
		if old, ok := st.ids[f[1]]; ok && old != f[2] {
			t.Errorf("round %d: topic %s has ID %s, had %s", round, f[1], f[2], old)
		}
		st.ids[f[1]] = f[2]
	case "resume":
		k := tp{f[1], int32(num(2))}
		if committed, ok := st.commits[k]; ok && num(3) < committed {
			t.Errorf("round %d: group resumed %s-%d at %d, below its committed offset %d", round, k.topic, k.partition, num(3), committed)
		}
	case "commit":
		k := tp{f[1], int32(num(2))}
		st.commits[k] = max(st.commits[k], num(3))
	}
	return newTopic
}

// verifyCrashState checks that the broker at addr holds every record,
// topic ID and committed offset the children reported.
func verifyCrashState(t *testing.T, when, addr string, st *crashState) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	var topics []string
	for k := range st.acks {
		if !slices.Contains(topics, k.topic) {
			topics = append(topics, k.topic)
		}
	}
	md, err := adm.Metadata(ctx, topics...)
	if err != nil {
		t.Fatalf("%s: metadata: %v", when, err)
	}
	for _, topic := range topics {
		td, ok := md.Topics[topic]
		if !ok || td.Err != nil {
			t.Errorf("%s: topic %s with acknowledged records is gone: %v", when, topic, td.Err)
			continue
		}
		if id := base64.StdEncoding.EncodeToString(td.ID[:]); st.ids[topic] != "" && id != st.ids[topic] {
			t.Errorf("%s: topic %s has ID %s, want %s", when, topic, id, st.ids[topic])
		}
	}
	if t.Failed() {
		return
	}

	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		t.Fatalf("%s: list end offsets: %v", when, err)
	}
	want := make(map[string]map[int32]kgo.Offset)
	remaining := 0
	for k, offsets := range st.acks {
		end, ok := ends.Lookup(k.topic, k.partition)
		var maxAcked int64 = -1
		for o := range offsets {
			maxAcked = max(maxAcked, o)
		}
		if !ok || end.Err != nil || end.Offset <= maxAcked {
			t.Errorf("%s: %s-%d ends at %d (listed %v, %v), but offset %d was acknowledged", when, k.topic, k.partition, end.Offset, ok, end.Err, maxAcked)
			continue
		}
		if want[k.topic] == nil {
			want[k.topic] = make(map[int32]kgo.Offset)
		}
		want[k.topic][k.partition] = kgo.NewOffset().AtStart()
		remaining += len(offsets)
	}
	if t.Failed() {
		return
	}

	consumer, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumePartitions(want), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	for remaining > 0 {
		fs := consumer.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Errorf("%s: %d acknowledged records missing after consuming", when, remaining)
			break
		}
		fs.EachError(func(topic string, p int32, err error) { t.Errorf("%s: fetch %s-%d: %v", when, topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			wantValue, ok := st.acks[tp{r.Topic, r.Partition}][r.Offset]
			if !ok {
				return
			}
			if string(r.Value) != wantValue {
				t.Errorf("%s: %s-%d offset %d holds %q, acknowledged %q", when, r.Topic, r.Partition, r.Offset, r.Value, wantValue)
			}
			remaining--
		})
		if t.Failed() {
			return
		}
	}

	if len(st.commits) == 0 {
		return
	}
	committed, err := adm.FetchOffsets(ctx, "sink")
	if err != nil {
		t.Fatalf("%s: fetch offsets: %v", when, err)
	}
	for k, o := range st.commits {
		if got, ok := committed.Lookup(k.topic, k.partition); !ok || got.At < o {
			t.Errorf("%s: group sink has %s-%d at %d (found %v), want at least the acknowledged commit %d", when, k.topic, k.partition, got.At, ok, o)
		}
	}
}

// checkFreshProducerAppends checks that a new idempotent producer appends
// to every topic after the records acknowledged before the kills.
func checkFreshProducerAppends(t *testing.T, addr string, st *crashState) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for k, offsets := range st.acks {
		var maxAcked int64 = -1
		for o := range offsets {
			maxAcked = max(maxAcked, o)
		}
		res := cl.ProduceSync(ctx, &kgo.Record{Topic: k.topic, Partition: k.partition, Value: []byte("fresh")})
		if err := res.FirstErr(); err != nil {
			t.Errorf("fresh producer to %s-%d: %v", k.topic, k.partition, err)
			continue
		}
		if got := res[0].Record.Offset; got <= maxAcked {
			t.Errorf("fresh producer appended to %s-%d at %d, at or below acknowledged offset %d", k.topic, k.partition, got, maxAcked)
		}
	}
}
