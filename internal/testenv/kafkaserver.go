package testenv

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// envKafkaLibs names a directory of Apache Kafka's server jars, as scripts/testenv.sh fetches
// them for the shared broker.
const envKafkaLibs = "KCONNECT_TEST_KAFKA_LIBS"

// KafkaServer is an Apache Kafka single-node KRaft cluster (combined broker and controller) of the
// test's own, for tests that kill and restart the broker: the shared one must stay up. It runs
// from the jars scripts/testenv.sh fetched, with its data in a temporary directory removed at cleanup.
type KafkaServer struct {
	t         testing.TB
	classpath string
	dir       string
	port      int
	proc      *JavaProcess
}

// NewKafkaServer formats and starts a private Kafka listening on a free loopback port, with one
// partition per auto-created topic and replication factors of 1; it is stopped at cleanup.
// Settings, each a key=value line, are added to its server.properties. The test is skipped
// (failed under CI=true) without the jars.
func NewKafkaServer(t testing.TB, settings ...string) *KafkaServer {
	t.Helper()
	libs := os.Getenv(envKafkaLibs)
	if libs == "" {
		if cache, err := envFilePath(); err == nil {
			libs = filepath.Join(filepath.Dir(cache), "kafka-4.3.1", "libs")
		}
	}
	if _, err := os.Stat(filepath.Join(libs, "kafka_2.13-4.3.1.jar")); err != nil && os.Getenv(envKafkaLibs) == "" {
		unavailable(t, "testenv: Apache Kafka's jars are missing; run `make testenv`, or set "+envKafkaLibs+
			" to a directory of Kafka server jars")
	}
	// Not t.TempDir(): its name comes from the test's, and a comma in it would split log.dirs and
	// the log4j2 configuration path, which Kafka and log4j2 read as comma-separated lists.
	dir, err := os.MkdirTemp("", "kafka-server-")
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &KafkaServer{t: t, classpath: filepath.Join(libs, "*"), dir: dir, port: FreePort(t)}
	controller := FreePort(t)
	props := fmt.Sprintf(`process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:%[2]d
listeners=PLAINTEXT://127.0.0.1:%[1]d,CONTROLLER://127.0.0.1:%[2]d
advertised.listeners=PLAINTEXT://127.0.0.1:%[1]d
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=%[3]s/data
auto.create.topics.enable=true
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
`, s.port, controller, s.dir) + strings.Join(settings, "\n")
	// Warnings, the one line that says the node serves requests, and the transaction coordinator.
	log4j := `status = warn
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.console.ref = console
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = INFO
# How the transaction coordinator loads and completes transactions after a restart, for tests
# that kill the node mid-transaction.
logger.txn.name = kafka.coordinator.transaction
logger.txn.level = INFO
`
	for name, content := range map[string]string{"server.properties": props, "log4j2.properties": log4j} {
		if err := os.WriteFile(filepath.Join(s.dir, name), []byte(content), 0o644); err != nil {
			t.Fatalf("testenv: %v", err)
		}
	}
	format := exec.Command("java", "-Xmx256m", "-XX:+UseSerialGC", "-Dlog4j2.configurationFile="+filepath.Join(s.dir, "log4j2.properties"),
		"-cp", s.classpath, "kafka.tools.StorageTool", "format", "-t", clusterID(),
		"-c", filepath.Join(s.dir, "server.properties"))
	if out, err := format.CombinedOutput(); err != nil {
		t.Fatalf("testenv: formatting Kafka storage: %v\n%s", err, out)
	}
	s.Start()
	return s
}

// clusterID returns a random KRaft cluster id: 16 bytes, URL-safe base64 without padding. Like
// Kafka's Uuid.randomUuid it never starts with '-', which the storage tool's argument parser
// takes for an option ("argument --cluster-id/-t: expected one argument", one start in 64).
func clusterID() string {
	b := make([]byte, 16)
	for {
		_, _ = rand.Read(b)
		if id := base64.RawURLEncoding.EncodeToString(b); id[0] != '-' {
			return id
		}
	}
}

// Addr returns the bootstrap address, the same across restarts.
func (s *KafkaServer) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.port) }

// Start starts the stopped node and waits until it serves requests.
func (s *KafkaServer) Start() {
	s.t.Helper()
	s.proc = StartJava(s.t, s.classpath, "-XX:TieredStopAtLevel=1", "-Dlog4j2.configurationFile="+filepath.Join(s.dir, "log4j2.properties"),
		"kafka.Kafka", filepath.Join(s.dir, "server.properties"))
	deadline := time.Now().Add(3 * time.Minute)
	for !strings.Contains(s.proc.Output(), "Kafka Server started") {
		select {
		case <-s.proc.Exited():
			s.t.Fatalf("testenv: Kafka exited during startup: %v\n%s", s.proc.Err(), s.proc.Output())
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("testenv: Kafka not started after 3m\n%s", s.proc.Output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Kill kills the node with SIGKILL, as a crash would, and waits until it is gone.
func (s *KafkaServer) Kill() {
	_ = s.proc.cmd.Process.Signal(syscall.SIGKILL)
	<-s.proc.Exited()
}

// Log returns what the current run of the node logged.
func (s *KafkaServer) Log() string { return s.proc.Output() }
