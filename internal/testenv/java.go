package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// envJavaLibs names a directory of Apache Kafka's Java client jars (tools, Kafka Connect runtime,
// file connectors), as scripts/javaclients.sh fetches them.
const envJavaLibs = "KCONNECT_TEST_JAVA_LIBS"

// JavaClients returns the classpath (a "dir/*" wildcard) of Apache Kafka's own Java clients:
// KCONNECT_TEST_JAVA_LIBS, or else the directory scripts/javaclients.sh fills under the cache.
// Without them the test is skipped, or fails under CI=true, like a missing service.
func JavaClients(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(envJavaLibs)
	if dir == "" {
		if cache, err := envFilePath(); err == nil {
			dir = filepath.Join(filepath.Dir(cache), "javaclients-4.3.1", "libs")
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err != nil && os.Getenv(envJavaLibs) == "" {
		dir = ""
	}
	if dir == "" {
		msg := "testenv: Apache Kafka's Java clients are missing; run scripts/javaclients.sh, or set " +
			envJavaLibs + " to a directory of their jars (see docs/testing.md)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return filepath.Join(dir, "*")
}
