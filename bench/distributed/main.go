// Command distributed measures kconnect's distributed mode against a baseline in the same run:
// the resident memory of an idle distributed worker (without connectors, then with -idle-connectors
// file sources waiting on empty files), and datagen throughput of a three-worker cluster against
// one standalone worker running the same connector on the same broker.
//
//	make build && go run ./bench/distributed -bin bin/kconnect [-bootstrap 127.0.0.1:19092]
//
// Without -bootstrap it starts `kconnect broker` for the run. Throughput is the growth of the
// topic's end offsets over -seconds once every task runs.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/bench/internal/procstat"
)

var (
	bin       = flag.String("bin", "bin/kconnect", "kconnect binary")
	bootstrap = flag.String("bootstrap", "", "Kafka to use (default: a `kconnect broker` started for the run)")
	seconds   = flag.Int("seconds", 20, "throughput measuring window")
	tasks     = flag.Int("tasks", 3, "datagen tasks")
	idleConns = flag.Int("idle-connectors", 5, "idle file sources for the second RSS figure")
	settle    = flag.Duration("settle", 5*time.Second, "idle time before reading RSS")
)

func main() {
	flag.Parse()
	dir, err := os.MkdirTemp("", "kconnect-bench-distributed-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	var procs []*exec.Cmd
	defer func() {
		for _, p := range procs {
			_ = p.Process.Signal(os.Interrupt)
			_ = p.Wait()
		}
	}()
	run := func(args ...string) *exec.Cmd {
		cmd := exec.Command(*bin, args...)
		logf, err := os.Create(filepath.Join(dir, fmt.Sprintf("proc-%d.log", len(procs))))
		if err != nil {
			log.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		// A bench killed or failing with log.Fatal skips the deferred stop; without this its
		// workers live on, and their datagen tasks filled the disk.
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			log.Fatal(err)
		}
		procs = append(procs, cmd)
		return cmd
	}
	if *bootstrap == "" {
		port := procstat.FreePort()
		run("broker", "--host", "127.0.0.1", "--port", fmt.Sprint(port), "--data-dir", filepath.Join(dir, "broker"))
		*bootstrap = fmt.Sprintf("127.0.0.1:%d", port)
		waitDial(*bootstrap)
	}
	stamp := fmt.Sprint(time.Now().UnixNano())
	common := map[string]string{
		"bootstrap.servers":              *bootstrap,
		"key.converter":                  "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable": "false",
	}
	distributed := func(i int) (string, *exec.Cmd) {
		port := procstat.FreePort()
		props := map[string]string{
			"group.id": "bench-" + stamp, "config.storage.topic": "bench-configs-" + stamp,
			"offset.storage.topic": "bench-offsets-" + stamp, "status.storage.topic": "bench-status-" + stamp,
			"config.storage.replication.factor": "1", "offset.storage.replication.factor": "1",
			"status.storage.replication.factor": "1", "listeners": fmt.Sprintf("http://127.0.0.1:%d", port),
		}
		url := fmt.Sprintf("http://127.0.0.1:%d", port)
		cmd := run("distributed", writeProps(dir, fmt.Sprintf("worker-%d.properties", i), common, props))
		waitHealthy(url)
		return url, cmd
	}

	// Idle RSS of one distributed worker, then with idle connectors.
	url, cmd := distributed(0)
	time.Sleep(*settle)
	rss0 := rss(cmd)
	for i := range *idleConns {
		file := filepath.Join(dir, fmt.Sprintf("idle-%d.txt", i))
		if err := os.WriteFile(file, nil, 0o644); err != nil {
			log.Fatal(err)
		}
		create(url, fmt.Sprintf("idle-%d", i), map[string]string{"connector.class": "FileStreamSource", "file": file, "topic": "bench-idle-" + stamp})
	}
	for i := range *idleConns {
		waitRunning(url, fmt.Sprintf("idle-%d", i), 1)
	}
	time.Sleep(*settle)
	fmt.Printf("idle distributed worker RSS: %.1f MiB without connectors, %.1f MiB with %d idle file sources\n",
		float64(rss0)/1024, float64(rss(cmd))/1024, *idleConns)
	for i := range *idleConns {
		del(url, fmt.Sprintf("idle-%d", i))
	}

	gen := func(topic string) map[string]string {
		return map[string]string{"connector.class": "datagen", "kafka.topic": topic, "tasks.max": fmt.Sprint(*tasks), "max.interval": "0"}
	}
	// Baseline: one standalone worker.
	port := procstat.FreePort()
	sURL := fmt.Sprintf("http://127.0.0.1:%d", port)
	standalone := run("standalone", writeProps(dir, "standalone.properties", common, map[string]string{
		"offset.storage.file.filename": filepath.Join(dir, "standalone.offsets"), "listeners": sURL}))
	waitHealthy(sURL)
	create(sURL, "gen", gen("bench-standalone-"+stamp))
	waitRunning(sURL, "gen", *tasks)
	base := throughput("bench-standalone-" + stamp)
	_ = standalone.Process.Signal(os.Interrupt)
	_ = standalone.Wait()
	fmt.Printf("standalone, %d datagen tasks: %.0f records/s\n", *tasks, base)

	// The same connector on three distributed workers.
	var rssAll []int
	workers := []*exec.Cmd{cmd}
	for i := 1; i < 3; i++ {
		_, c := distributed(i)
		workers = append(workers, c)
	}
	create(url, "gen", gen("bench-distributed-"+stamp))
	waitRunning(url, "gen", *tasks)
	dist := throughput("bench-distributed-" + stamp)
	for _, w := range workers {
		rssAll = append(rssAll, rss(w))
	}
	fmt.Printf("3 distributed workers, %d datagen tasks: %.0f records/s, ratio to standalone %.2f (worker RSS KiB under load: %v)\n",
		*tasks, dist, dist/base, rssAll)
}

// throughput returns the records per second the topic grows by over the window.
func throughput(topic string) float64 {
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(*bootstrap, ",")...))
	if err != nil {
		log.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	end := func() int64 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		offs, err := adm.ListEndOffsets(ctx, topic)
		if err != nil {
			log.Fatal(err)
		}
		var n int64
		offs.Each(func(o kadm.ListedOffset) { n += o.Offset })
		return n
	}
	time.Sleep(2 * time.Second) // past the tasks' start
	start, t0 := end(), time.Now()
	time.Sleep(time.Duration(*seconds) * time.Second)
	return float64(end()-start) / time.Since(t0).Seconds()
}

func rss(cmd *exec.Cmd) int {
	r, _, err := procstat.Memory(cmd.Process.Pid)
	if err != nil {
		log.Fatal(err)
	}
	return r
}

func writeProps(dir, name string, maps ...map[string]string) string {
	var b strings.Builder
	for _, m := range maps {
		for k, v := range m {
			fmt.Fprintf(&b, "%s=%s\n", k, v)
		}
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		log.Fatal(err)
	}
	return path
}

func call(method, url string, body any) (int, []byte) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			log.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		log.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func create(url, name string, config map[string]string) {
	if code, body := call(http.MethodPost, url+"/connectors", map[string]any{"name": name, "config": config}); code != http.StatusCreated {
		log.Fatalf("create %s: %d %s", name, code, body)
	}
}

func del(url, name string) {
	if code, body := call(http.MethodDelete, url+"/connectors/"+name, nil); code != http.StatusNoContent {
		log.Fatalf("delete %s: %d %s", name, code, body)
	}
}

// waitRunning waits until the connector and at least n tasks are RUNNING.
func waitRunning(url, name string, n int) {
	waitFor("connector "+name+" running", func() bool {
		code, body := call(http.MethodGet, url+"/connectors/"+name+"/status", nil)
		var st struct {
			Connector struct{ State string }
			Tasks     []struct{ State string }
		}
		if code != http.StatusOK || json.Unmarshal(body, &st) != nil || st.Connector.State != "RUNNING" || len(st.Tasks) < n {
			return false
		}
		for _, t := range st.Tasks {
			if t.State != "RUNNING" {
				return false
			}
		}
		return true
	})
}

func waitHealthy(url string) {
	waitFor(url+" healthy", func() bool { code, _ := call(http.MethodGet, url+"/health", nil); return code == http.StatusOK })
}

func waitDial(addr string) {
	waitFor(addr+" accepting", func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

func waitFor(what string, cond func() bool) {
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			log.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
