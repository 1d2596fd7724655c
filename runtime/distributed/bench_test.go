package distributed

import (
	"fmt"
	"maps"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/runtime/herder"
)

// BenchmarkRebalance measures, on three in-process workers running KCONNECT_BENCH_CONNECTORS
// (default 25) idle datagen connectors of 4 tasks each, how long after a worker leaves every
// task runs again on the other two (beyond scheduled.rebalance.max.delay.ms, which is 1 s here),
// and how long after a worker joins the work is spread over three again:
//
//	KCONNECT_TEST_BROKER=real go test -run '^$' -bench Rebalance -benchtime 1x ./runtime/distributed/
func BenchmarkRebalance(b *testing.B) {
	connectors := 25
	if v, err := strconv.Atoi(os.Getenv("KCONNECT_BENCH_CONNECTORS")); err == nil && v > 0 {
		connectors = v
	}
	const tasks = 4
	for range b.N {
		_, ws, _ := startWorkers(b, 3, "sessioned")
		for i := range connectors {
			_, err := ws[0].h.CreateConnector(b.Context(), fmt.Sprintf("gen-%d", i), map[string]string{
				"connector.class": "datagen", "kafka.topic": testenv.Topic(b, "bench"), "tasks.max": strconv.Itoa(tasks),
				"max.interval": "600000"}, herder.TargetStarted)
			if err != nil {
				b.Fatal(err)
			}
		}
		running := func(w *testWorker, excluded string) bool {
			for i := range connectors {
				st, err := w.h.ConnectorStatus(b.Context(), fmt.Sprintf("gen-%d", i))
				if err != nil || len(st.Tasks) != tasks || st.Connector.State != herder.Running || st.Connector.WorkerID == excluded {
					return false
				}
				for _, ts := range st.Tasks {
					if ts.State != herder.Running || ts.WorkerID == excluded {
						return false
					}
				}
			}
			return true
		}
		waitFor(b, "every task RUNNING", func() bool { return running(ws[0], "") })

		gone := ws[2].h.WorkerID()
		left := time.Now()
		ws[2].stop()
		waitFor(b, "every task RUNNING on the two remaining workers", func() bool { return running(ws[0], gone) })
		b.ReportMetric(time.Since(left).Seconds()-1, "s-after-delay/leave")

		joined := time.Now()
		nw := startWorker(b, maps.Clone(ws[0].h.w.Props()))
		waitFor(b, "the new worker running its share", func() bool {
			st := 0
			for i := range connectors {
				s, err := nw.h.ConnectorStatus(b.Context(), fmt.Sprintf("gen-%d", i))
				if err != nil {
					return false
				}
				for _, ts := range s.Tasks {
					if ts.WorkerID == nw.h.WorkerID() && ts.State == herder.Running {
						st++
					}
				}
			}
			return st >= connectors*tasks/3
		})
		b.ReportMetric(time.Since(joined).Seconds(), "s/join")
	}
}
