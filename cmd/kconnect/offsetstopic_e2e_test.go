package main_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/kconnect/kconnect/internal/workertest"
)

// A standalone worker with the offsets file cannot give a connector an offsets topic of its own
// (upstream's standalone mode ignores offsets.storage.topic): a connector file that sets it stops
// the worker at startup with upstream's invalid-config message naming the key and why.
func TestStandaloneRejectsOffsetsStorageTopic(t *testing.T) {
	dir := t.TempDir()
	worker := workertest.WriteProperties(t, dir, "worker.properties", workertest.WorkerProps(t, dir))
	conn := workertest.WriteProperties(t, dir, "source.properties", map[string]string{"name": "src",
		"connector.class": "FileStreamSource", "file": "/nonexistent", "topic": "t", "offsets.storage.topic": "mine"})
	out, err := exec.Command(workertest.Binary(t), "standalone", worker, conn).CombinedOutput()
	if err == nil {
		t.Fatalf("kconnect exited 0, want a failure:\n%s", out)
	}
	for _, want := range []string{"Connector configuration is invalid and contains the following 1 error(s)",
		"Invalid value mine for configuration offsets.storage.topic", "offset.storage.file.filename"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
