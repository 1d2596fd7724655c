package delta

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/testenv"
)

// TestAppendOnS3 writes a table into a bucket of the S3 test server through the S3 backend
// (conditional puts for the commits) and reads it back with delta-rs from S3, at each version.
func TestAppendOnS3(t *testing.T) {
	endpoint, bucket := testenv.S3Bucket(t, "kc-delta-")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ENDPOINT_URL", endpoint)
	t.Setenv("AWS_ALLOW_HTTP", "true")
	uri := "s3://" + bucket + "/tables/orders"
	props := map[string]string{tablePathConfig: uri, "store.url": endpoint, "s3.region": "us-east-1",
		"s3.path.style.access.enabled": "true", partitionByConfig: "region"}
	tp := connect.TopicPartition{Topic: "orders"}
	task, _ := startTask(t, props, tp)
	for c := range 2 {
		put(t, task, orders(0, c*60, (c+1)*60)...)
	}
	d := readDelta(t, uri, -1)
	if d.Version != 1 {
		t.Fatalf("version %d", d.Version)
	}
	checkRows(t, d.Rows, ids(0, 120))
	checkRows(t, readDelta(t, uri, 0).Rows, ids(0, 60))
	_, ctx := startTask(t, props, tp)
	if got := ctx.Seeks()[tp]; got != 120 {
		t.Fatalf("seek %d, want 120", got)
	}
}

// TestAppendOnHDFS writes a table into HDFS through the HDFS backend, copies the table's files
// to local disk through the same backend, and reads the copy with delta-rs.
func TestAppendOnHDFS(t *testing.T) {
	uri := fmt.Sprintf("%s/kconnect-delta-test/%s-%08x", testenv.HDFS(t), t.Name(), rand.Uint32())
	props := map[string]string{tablePathConfig: uri}
	tp := connect.TopicPartition{Topic: "orders"}
	task, _ := startTask(t, props, tp)
	for c := range 3 {
		put(t, task, orders(0, c*40, (c+1)*40)...)
	}
	ctx := context.Background()
	files, err := task.store.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range files {
		b, err := readAll(ctx, task.store, f.Path)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d := readDelta(t, "file://"+dir, -1)
	if d.Version != 2 {
		t.Fatalf("version %d", d.Version)
	}
	checkRows(t, d.Rows, ids(0, 120))
	_, tctx := startTask(t, props, tp)
	if got := tctx.Seeks()[tp]; got != 120 {
		t.Fatalf("seek %d, want 120", got)
	}
}
