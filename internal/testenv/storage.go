package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

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
