// Command startup measures a standalone worker with one file source connector on the embedded
// broker: the time from starting the process to the first record being in Kafka, and the
// worker's resident memory once idle.
//
//	make build && go run ./bench/startup -bin bin/kconnect -runs 5
//
// The first record's time is its Kafka timestamp, which the file source sets when it reads the
// line, just before producing it, so the figure is a lower bound by the produce round trip (well
// under a millisecond on loopback).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/bench/internal/procstat"
)

func main() {
	bin := flag.String("bin", "bin/kconnect", "kconnect binary")
	runs := flag.Int("runs", 5, "number of cold starts")
	idle := flag.Duration("idle", 5*time.Second, "how long the worker idles before RSS is read")
	flag.Parse()
	var starts []time.Duration
	var rss, hwm []int
	for i := 0; i < *runs; i++ {
		d, r, h, err := once(*bin, *idle)
		if err != nil {
			log.Fatal(err)
		}
		starts, rss, hwm = append(starts, d), append(rss, r), append(hwm, h)
		fmt.Printf("run %d: first record after %v, idle RSS %d KiB (peak %d KiB)\n", i+1, d.Round(time.Millisecond), r, h)
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	sort.Ints(rss)
	sort.Ints(hwm)
	fmt.Printf("median: first record after %v, idle RSS %.1f MiB, peak RSS %.1f MiB\n",
		starts[len(starts)/2].Round(time.Millisecond), float64(rss[len(rss)/2])/1024, float64(hwm[len(hwm)/2])/1024)
}

func once(bin string, idle time.Duration) (time.Duration, int, int, error) {
	dir, err := os.MkdirTemp("", "kconnect-startup-")
	if err != nil {
		return 0, 0, 0, err
	}
	defer os.RemoveAll(dir)
	brokerPort, restPort := procstat.FreePort(), procstat.FreePort()
	input := filepath.Join(dir, "input.txt")
	if err := os.WriteFile(input, []byte("hello\nworld\n"), 0o644); err != nil {
		return 0, 0, 0, err
	}
	worker := fmt.Sprintf(`bootstrap.servers=embedded
kconnect.embedded.broker.port=%d
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
value.converter.schemas.enable=false
offset.storage.file.filename=%s/connect.offsets
listeners=http://127.0.0.1:%d
`, brokerPort, dir, restPort)
	source := fmt.Sprintf("name=source\nconnector.class=FileStreamSource\nfile=%s\ntopic=startup\n", input)
	wp, sp := filepath.Join(dir, "worker.properties"), filepath.Join(dir, "source.properties")
	if err := os.WriteFile(wp, []byte(worker), 0o644); err != nil {
		return 0, 0, 0, err
	}
	if err := os.WriteFile(sp, []byte(source), 0o644); err != nil {
		return 0, 0, 0, err
	}
	cmd := exec.Command(bin, "standalone", wp, sp)
	cmd.Stdout, cmd.Stderr = nil, nil
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, 0, err
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	first, err := firstRecordTime(fmt.Sprintf("127.0.0.1:%d", brokerPort))
	if err != nil {
		return 0, 0, 0, err
	}
	time.Sleep(idle)
	rss, hwm, err := procstat.Memory(cmd.Process.Pid)
	return first.Sub(start), rss, hwm, err
}

// firstRecordTime waits for the broker to come up and returns the timestamp of the topic's first record.
func firstRecordTime(addr string) (time.Time, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("startup"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.RetryBackoffFn(func(int) time.Duration { return 5 * time.Millisecond }))
	if err != nil {
		return time.Time{}, err
	}
	defer cl.Close()
	for {
		fetches := cl.PollRecords(ctx, 1)
		if ctx.Err() != nil {
			return time.Time{}, fmt.Errorf("no record within 30s")
		}
		if recs := fetches.Records(); len(recs) > 0 {
			return recs[0].Timestamp, nil
		}
	}
}
