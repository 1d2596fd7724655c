// Package broker runs an embedded single-node Kafka broker, so kconnect can
// run where no Kafka is installed: for development, tests and single-machine
// edge use, not as a replacement for a Kafka cluster. It wraps franz-go's
// kfake and adjusts it to behave like a default Apache Kafka node, with one
// deliberate difference: records expire by time only in topics that set
// retention.ms, because kfake would otherwise expire compacted topics too.
//
// With a data dir it keeps acknowledged records, topics and committed
// offsets across a crash of the process (autoCreateTopics and recover.go say
// how). Like Apache Kafka's default settings, it does not fsync each write,
// so a power loss may lose the last acknowledged records; kconnect's own
// recovery writes are fsynced. Recovery depends on kfake's private data dir
// layout, which TestKfakeDataDirLayout pins. docs/embedded-broker.md is the
// user's account of these guarantees.
package broker

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Options configures an embedded broker.
type Options struct {
	Host    string       // listen host, default 127.0.0.1
	Port    int          // 0 = pick a free port
	DataDir string       // "" = in memory only; otherwise state persists across restarts
	Logger  *slog.Logger // nil = slog.Default()

	// HaltOnStorageFailure makes a broker with a data dir exit the process
	// when a write to the data dir fails in a way that would let clients see
	// state that is not on disk (failstop.go), as Apache Kafka halts when
	// its only log dir fails. Only a process that owns the broker sets it.
	HaltOnStorageFailure bool

	// cleanerInterval overrides defaultCleanerInterval so tests need not
	// wait an hour for compaction.
	cleanerInterval time.Duration
}

// defaultCleanerInterval matches how often kfake compacts on its own; see
// Broker.clean for why we compact too.
const defaultCleanerInterval = time.Hour

// brokerConfigs are the broker configs where kfake's defaults differ from
// Apache Kafka's, or where kfake misbehaves without them.
var brokerConfigs = map[string]string{
	// kfake reports 3; Kafka's default is 1. kfake creates topics with
	// min(3, brokers) replicas either way, which is 1 here.
	"default.replication.factor": "1",
	// kfake applies time retention to every topic whenever it compacts,
	// including cleanup.policy=compact topics that Kafka never expires. With
	// the 7 day default that would delete Connect's config and offset
	// records a week after they were written. Turning the broker default
	// off keeps compacted topics whole; topics that set retention.ms
	// themselves still expire.
	"log.retention.ms": "-1",
}

// Broker is a running embedded broker.
type Broker struct {
	cluster *kfake.Cluster
	addr    string
	log     *kfakeLogger
	unlock  func() error
	dataDir string
	gate    *gate
	intent  *commitIntent // nil without a data dir

	stopCleaner chan struct{}
	cleanerDone chan struct{}

	closeOnce sync.Once
	closeErr  error
}

// Start starts a single-node broker that behaves like a default Apache Kafka node.
func Start(opts Options) (*Broker, error) {
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.cleanerInterval == 0 {
		opts.cleanerInterval = defaultCleanerInterval
	}
	// The broker advertises the address it listens on, so like Kafka we
	// refuse a wildcard address that clients could not connect back to.
	if ip := net.ParseIP(opts.Host); ip != nil && ip.IsUnspecified() {
		return nil, fmt.Errorf("start embedded broker: host %s is a wildcard address that clients cannot connect to; use a hostname or a specific IP", opts.Host)
	}
	if opts.Port < 0 || opts.Port > 65535 {
		return nil, fmt.Errorf("start embedded broker: port %d out of range 0-65535", opts.Port)
	}

	b := &Broker{
		log:         &kfakeLogger{log: opts.Logger},
		unlock:      func() error { return nil },
		stopCleaner: make(chan struct{}),
		cleanerDone: make(chan struct{}),
	}
	kopts := []kfake.Opt{
		kfake.Ports(opts.Port),
		kfake.ListenFn(b.listenOn(opts.Host)),
		// Not kfake.AllowAutoTopicCreation: autoCreateTopics does it.
		kfake.DefaultNumPartitions(1),
		kfake.BrokerConfigs(brokerConfigs),
		// kfake keeps the cluster ID of an existing data dir and only
		// uses this one for a new cluster.
		kfake.ClusterID(newClusterID()),
		kfake.WithLogger(b.log),
	}
	var openTxns []openTxn
	if opts.DataDir != "" {
		unlock, err := lockDir(opts.DataDir)
		if err != nil {
			return nil, fmt.Errorf("start embedded broker: %w", err)
		}
		b.unlock = unlock
		b.dataDir = opts.DataDir
		if openTxns, err = prepareDataDir(opts.DataDir, opts.Logger); err != nil {
			return nil, errors.Join(fmt.Errorf("start embedded broker: %w", err), b.unlock())
		}
		if b.intent, err = openCommitIntent(opts.DataDir, opts.Logger); err != nil {
			return nil, errors.Join(fmt.Errorf("start embedded broker: %w", err), b.unlock())
		}
		if opts.HaltOnStorageFailure {
			b.log.stop = &failStop{dir: opts.DataDir}
		}
		kopts = append(kopts, kfake.DataDir(opts.DataDir))
	}
	cluster, err := kfake.NewCluster(kopts...)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("start embedded broker on %s: %w", net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port)), err), b.intent.close(), b.unlock())
	}
	b.cluster = cluster
	b.addr = cluster.ListenAddrs()[0]
	b.observe(kmsg.Metadata, b.autoCreateTopics)
	b.observe(kmsg.ListGroups, lowerGroupTypes)
	if b.intent != nil {
		b.observe(kmsg.EndTxn, b.intent.begin)
	}
	if err := b.abortTxns(openTxns); err != nil {
		// The running marker stays, so the next start recovers again.
		cluster.Close()
		return nil, errors.Join(fmt.Errorf("start embedded broker: %w", err), b.intent.close(), b.unlock())
	}
	b.gate.open()
	if opts.DataDir != "" {
		go b.clean(opts.cleanerInterval)
	} else {
		close(b.cleanerDone)
	}

	attrs := []any{"addr", b.addr}
	if opts.DataDir != "" {
		attrs = append(attrs, "data_dir", opts.DataDir)
	}
	opts.Logger.Info("embedded broker listening", attrs...)
	return b, nil
}

// listenOn makes kfake listen on host, not on the 127.0.0.1 kfake passes in
// the address, behind the broker's gate.
func (b *Broker) listenOn(host string) func(network, address string) (net.Listener, error) {
	return func(network, address string) (net.Listener, error) {
		_, port, err := net.SplitHostPort(address)
		if err != nil {
			return nil, fmt.Errorf("listen address %q: %w", address, err)
		}
		ln, err := net.Listen(network, net.JoinHostPort(host, port))
		if err != nil {
			return nil, err
		}
		b.gate = newGate(ln, b.log.log)
		if b.intent != nil {
			b.gate.answeredCommit = b.intent.settle
		}
		return b.gate, nil
	}
}

// controlRenewal is how many requests an observe control function sees
// before it replaces itself; see there.
const controlRenewal = 1024

// observe has fn see, and possibly amend, every request with the key
// before kfake handles it.
func (b *Broker) observe(key kmsg.Key, fn func(kmsg.Request)) {
	var seen atomic.Uint64
	var control func(kmsg.Request) (kmsg.Response, error, bool)
	control = func(req kmsg.Request) (kmsg.Response, error, bool) {
		fn(req)
		// kfake remembers, per control function, the last request of
		// every connection that ever reached it, and never forgets a
		// closed connection. Replacing the function now and then bounds
		// that memory; the new one sees the next request.
		if seen.Add(1)%controlRenewal == 0 {
			b.cluster.DropControl()
			b.cluster.ControlKey(int16(key), control)
		}
		return nil, nil, false
	}
	b.cluster.ControlKey(int16(key), control)
}

// autoCreateTopics creates the topics a Metadata request asks to create, as
// Kafka does with auto.create.topics.enable=true. kfake's own auto-creation
// adds a topic to memory only and writes topics.json at Close, so a crash
// loses the topic and, with it, every record acknowledged to it: on restart
// kfake does not load partition dirs missing from topics.json. kfake's
// Cluster.CreateTopic writes topics.json before it returns, and kfake runs
// this control function before it handles the request, so no client learns
// of a topic that is not on disk yet, and kfake acknowledges no record to
// it: a Produce to an unknown topic fails. A control function may call
// CreateTopic because kfake serves admin calls while one runs. Produce
// requests are not intercepted, so they cost nothing extra.
func (b *Broker) autoCreateTopics(kreq kmsg.Request) {
	if req := kreq.(*kmsg.MetadataRequest); req.AllowAutoTopicCreation {
		for _, rt := range req.Topics {
			// As in kfake, a topic ID takes precedence over a name.
			if rt.Topic == nil || rt.TopicID != [16]byte{} {
				continue
			}
			// Kafka answers INVALID_TOPIC_EXCEPTION for these; kfake
			// answers UNKNOWN_TOPIC_OR_PARTITION for topics that do
			// not exist. Either way the client gets no topic.
			if !validTopicName(*rt.Topic) {
				continue
			}
			err := b.cluster.CreateTopic(*rt.Topic, -1, nil)
			switch {
			case err == nil:
				b.log.log.Debug("auto-created topic", "topic", *rt.Topic)
			case errors.Is(err, kerr.TopicAlreadyExists):
			default:
				b.log.log.Warn("auto-create topic failed", "topic", *rt.Topic, "err", err)
			}
		}
	}
}

// lowerGroupTypes lowercases a ListGroups request's group types filter.
// Kafka matches the types without regard to case, and Java clients send
// them capitalized ("Classic", "Consumer"); kfake compares them exactly
// with its lowercase types, so kafka-consumer-groups --list listed nothing.
func lowerGroupTypes(kreq kmsg.Request) {
	req := kreq.(*kmsg.ListGroupsRequest)
	for i, t := range req.TypesFilter {
		req.TypesFilter[i] = strings.ToLower(t)
	}
}

// validTopicName reports whether Kafka accepts name as a topic name.
func validTopicName(name string) bool {
	if name == "" || name == "." || name == ".." || len(name) > 249 {
		return false
	}
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// newClusterID returns an ID in Kafka's format, a base64url-encoded random
// UUID, so tools that parse cluster IDs accept it.
func newClusterID() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // crypto/rand.Read never fails
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return base64.RawURLEncoding.EncodeToString(u[:])
}

// clean compacts periodically. kfake only starts its own compaction timer
// when a topic is created or a config changes, so after a restart from a
// data dir its compacted topics would otherwise not be compacted until then.
func (b *Broker) clean(interval time.Duration) {
	defer close(b.cleanerDone)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-b.stopCleaner:
			return
		case <-t.C:
			b.cluster.Compact()
		}
	}
}

// Addr returns the host:port the broker listens on and advertises.
func (b *Broker) Addr() string { return b.addr }

// Err reports why the broker cannot serve clients, such as running out of file descriptors to
// accept their connections with, or nil while it can. The broker recovers by itself once the
// cause passes.
func (b *Broker) Err() error { return b.gate.failure() }

// Close stops the broker and, with a data dir, saves its state there. It
// reports state that could not be saved; calling it again returns the same
// result.
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		close(b.stopCleaner)
		<-b.cleanerDone
		// kfake's Close returns nothing and logs save failures at error
		// level, so we collect those to report them.
		b.log.capture(true)
		b.cluster.Close()
		errs := b.log.capture(false)
		// Only a complete save counts as a clean shutdown.
		if len(errs) == 0 && b.dataDir != "" {
			if err := markStopped(b.dataDir); err != nil {
				errs = append(errs, err)
			}
		}
		if err := b.intent.close(); err != nil {
			errs = append(errs, err)
		}
		if err := b.unlock(); err != nil {
			errs = append(errs, err)
		}
		if err := errors.Join(errs...); err != nil {
			b.closeErr = fmt.Errorf("close embedded broker %s: %w", b.addr, err)
		}
	})
	return b.closeErr
}

// kfakeLogger sends kfake's logs to slog. kfake logs every group join and
// leave at info level, which is debug detail for a kconnect user.
type kfakeLogger struct {
	log *slog.Logger

	stop *failStop // nil unless Options.HaltOnStorageFailure

	mu        sync.Mutex
	capturing bool
	errs      []error
}

var levels = map[kfake.LogLevel]slog.Level{
	kfake.LogLevelError: slog.LevelError,
	kfake.LogLevelWarn:  slog.LevelWarn,
	kfake.LogLevelInfo:  slog.LevelDebug,
	kfake.LogLevelDebug: slog.LevelDebug - 4,
}

// Logf implements kfake.Logger.
func (l *kfakeLogger) Logf(level kfake.LogLevel, format string, args ...any) {
	if level == kfake.LogLevelError || level == kfake.LogLevelWarn {
		l.mu.Lock()
		capturing := l.capturing
		if capturing && level == kfake.LogLevelError {
			l.errs = append(l.errs, fmt.Errorf(format, args...))
		}
		l.mu.Unlock()
		// kfake logs before it serves what the failed write left in
		// memory, so halting here is in time.
		if l.stop != nil && !capturing && haltsOn(fmt.Sprintf(format, args...)) {
			l.stop.halt(l, format, args)
		}
	}
	ctx := context.Background()
	if slevel := levels[level]; l.log.Enabled(ctx, slevel) {
		l.log.Log(ctx, slevel, fmt.Sprintf(format, args...), "component", "kfake")
	}
}

// capture turns error collection on or off and returns what was collected.
func (l *kfakeLogger) capture(on bool) []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	errs := l.errs
	l.capturing, l.errs = on, nil
	return errs
}
