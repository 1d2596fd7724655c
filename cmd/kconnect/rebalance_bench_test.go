package main_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
)

// BenchmarkRebalanceVsKafkaConnect runs three Kafka Connect 4.3.1 workers, then three kconnect
// workers, on the same broker with the same settings (session.timeout.ms 6 s,
// scheduled.rebalance.max.delay.ms 3 s) and 20 file sources (KCONNECT_BENCH_CONNECTORS), kill
// -9s the last worker started and reports, for each, the seconds from the kill until every
// connector and task runs on the survivors (session timeout and delay included; they are the
// same for both).
func BenchmarkRebalanceVsKafkaConnect(b *testing.B) {
	classpath := testenv.JavaClients(b)
	var brokers string
	if testenv.RealKafka() {
		brokers = testenv.Kafka(b)
	} else {
		brokers = workertest.StartBroker(b, b.TempDir())
	}
	connectors := testenv.Count(b, "KCONNECT_BENCH_CONNECTORS", 20)
	for _, impl := range []string{"kafka-connect", "kconnect"} {
		base := map[string]string{
			"bootstrap.servers": brokers, "group.id": testenv.Topic(b, "rb-group"),
			"config.storage.topic": testenv.Topic(b, "rb-configs"), "offset.storage.topic": testenv.Topic(b, "rb-offsets"),
			"status.storage.topic": testenv.Topic(b, "rb-status"), "config.storage.replication.factor": "1",
			"offset.storage.replication.factor": "1", "status.storage.replication.factor": "1",
			"key.converter": "org.apache.kafka.connect.storage.StringConverter", "value.converter": "org.apache.kafka.connect.json.JsonConverter",
			"plugin.discovery": "service_load", "session.timeout.ms": "6000", "heartbeat.interval.ms": "1000",
			"scheduled.rebalance.max.delay.ms": "3000",
		}
		var workers []*workertest.Worker
		for range 3 {
			p := map[string]string{}
			for k, v := range base {
				p[k] = v
			}
			port := testenv.FreePort(b)
			p["listeners"], p["rest.advertised.host.name"], p["rest.advertised.port"] = fmt.Sprintf("http://127.0.0.1:%d", port), "127.0.0.1", fmt.Sprint(port)
			if impl == "kafka-connect" {
				workers = append(workers, workertest.StartJavaDistributed(b, classpath, b.TempDir(), p))
			} else {
				workers = append(workers, workertest.StartDistributed(b, b.TempDir(), p))
			}
		}
		dir := b.TempDir()
		for i := range connectors {
			file := filepath.Join(dir, fmt.Sprintf("in-%d.txt", i))
			if err := os.WriteFile(file, nil, 0o644); err != nil {
				b.Fatal(err)
			}
			workers[0].CreateConnector(fmt.Sprintf("c%d", i), map[string]string{"connector.class": "FileStreamSource", "file": file, "topic": "rb-unused"})
		}
		running := func(excluded string) bool {
			for i := range connectors {
				st, ok := workers[0].Status(fmt.Sprintf("c%d", i))
				if !ok || !allRunning(1, excluded)(st) {
					return false
				}
			}
			return true
		}
		workers[0].WaitFor(5*time.Minute, "every connector RUNNING", func() bool { return running("") })
		victim := workers[2]
		id := victim.URL[len("http://"):]
		killed := time.Now()
		victim.Kill9()
		workers[0].WaitFor(5*time.Minute, "every connector RUNNING on the survivors", func() bool { return running(id) })
		b.Logf("%s: all %d connectors and tasks RUNNING on the survivors %.1fs after kill -9 (session timeout 6s, delay 3s)",
			impl, connectors, time.Since(killed).Seconds())
		b.ReportMetric(time.Since(killed).Seconds(), impl+"-s")
		for _, w := range workers[:2] {
			_ = w.Stop()
		}
	}
}
