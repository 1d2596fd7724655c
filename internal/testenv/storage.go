package testenv

import (
	"os"
	"path/filepath"
	"testing"
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
