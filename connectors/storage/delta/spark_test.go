//go:build spark

package delta

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/kconnect/kconnect/connect"
)

// TestSparkReads reads a partitioned, checkpointed table and an earlier version of it with
// Apache Spark and delta-spark, when KCONNECT_DELTA_SPARK_PYTHON names a Python that has them
// (pip install pyspark==4.0.1 delta-spark==4.0.0; the first run fetches Delta's jars from Maven
// Central). Spark takes a minute to start and needs about 400 MB, so the test is built only with
// the "spark" tag: make spark-check.
func TestSparkReads(t *testing.T) {
	py := os.Getenv("KCONNECT_DELTA_SPARK_PYTHON")
	if py == "" {
		t.Fatal("KCONNECT_DELTA_SPARK_PYTHON must name a Python with pyspark and delta-spark")
	}
	dir := t.TempDir()
	task, _ := startTask(t, map[string]string{tablePathConfig: "file://" + dir, partitionByConfig: "region", checkpointIntervalConfig: "2"},
		connect.TopicPartition{Topic: "orders"})
	for c := range 3 {
		put(t, task, orders(0, c*50, (c+1)*50)...)
	}
	read := func(args ...string) []map[string]any {
		out, err := exec.Command(py, append([]string{"testdata/read_spark.py", dir}, args...)...).Output()
		if err != nil {
			msg := ""
			if ee, ok := err.(*exec.ExitError); ok {
				msg = string(ee.Stderr)
			}
			t.Fatalf("read_spark.py: %v\n%s", err, msg)
		}
		var d deltaTable
		if err := json.Unmarshal(out[strings.LastIndexByte(strings.TrimSpace(string(out)), '\n')+1:], &d); err != nil {
			t.Fatalf("read_spark.py output %q: %v", out, err)
		}
		return d.Rows
	}
	checkRows(t, read(), ids(0, 150))
	checkRows(t, read("0"), ids(0, 50))
}
