package main_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/kconnect/kconnect/internal/workertest"
)

// TestConfigProvidersOffByDefault checks that a worker without config.providers resolves
// nothing: references to the worker's environment and files are rejected, naming the key.
func TestConfigProvidersOffByDefault(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "secret.txt"), secret("file"))
	w := workertest.Start(t, dir, workertest.WorkerProps(t, dir))
	r := rest{t, w}
	for key, ref := range map[string]string{
		"x.path": "${directory:" + dir + ":secret.txt}",
		"y.home": "${env:HOME}",
	} {
		config := map[string]string{"connector.class": "FileStreamSink", "topics": "t", "file": filepath.Join(dir, "out.txt"), key: ref}
		r.fail("POST", "/connectors", map[string]any{"name": "probe", "config": config}, 400,
			"config "+key, "the worker configures none (config.providers)")
	}
	var names []string
	r.get("GET", "/connectors", nil, 200, &names)
	if len(names) != 0 {
		t.Errorf("connectors after rejected requests = %v", names)
	}
}

// secret returns a value no test output holds by chance.
func secret(prefix string) string {
	return fmt.Sprintf("%s-%016x", prefix, rand.Uint64())
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
