package testenv

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// HDFS returns the hdfs:// URL of a namenode that accepts writes from any user
// (KCONNECT_TEST_HDFS; scripts/hdfs.sh runs a MiniDFSCluster). Tests share it: write under a
// directory of their own.
func HDFS(t testing.TB) string {
	t.Helper()
	return Require(t, envHDFS)
}

// S3 returns the endpoint URL of an S3-compatible server that accepts any access key
// (KCONNECT_TEST_S3; scripts/s3.sh runs moto_server). Tests share it: use buckets of their own.
func S3(t testing.TB) string {
	t.Helper()
	return Require(t, envS3)
}

// S3Bucket creates a fresh bucket, named prefix and random hex, on the test S3 (see S3) and returns
// the server's endpoint and the bucket's name. It uses a client of its own, independent of the
// code under test, because the S3 sinks and backends, like Confluent's, expect their bucket to
// exist. The server takes access key "test", secret "test", region us-east-1.
func S3Bucket(t testing.TB, prefix string) (endpoint, bucket string) {
	t.Helper()
	endpoint = S3(t)
	bucket = fmt.Sprintf("%s%08x%08x", prefix, rand.Uint32(), rand.Uint32())
	admin := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	if _, err := admin.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatalf("create bucket %s at %s: %v", bucket, endpoint, err)
	}
	return endpoint, bucket
}

const envStoragePython = "KCONNECT_TEST_STORAGE_PYTHON"

// StoragePython returns a Python interpreter that has pyarrow and fastavro, readers nobody here
// wrote for checking the Parquet and Avro files the storage sinks write: KCONNECT_TEST_STORAGE_PYTHON,
// or the venv scripts/storage-readers.sh provisions at $KCONNECT_CACHE/storage-venv.
func StoragePython(t testing.TB) string {
	t.Helper()
	v, err := lookup(envStoragePython)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	if v != "" {
		return v
	}
	path, err := envFilePath()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	py := filepath.Join(filepath.Dir(path), "storage-venv", "bin", "python")
	if _, err := os.Stat(py); err == nil {
		return py
	}
	unavailable(t, "testenv: no Python with pyarrow and fastavro; run scripts/storage-readers.sh or set "+envStoragePython)
	return ""
}
