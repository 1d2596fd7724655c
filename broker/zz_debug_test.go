package broker

import (
	"log/slog"
	"os"
	"os/exec"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

func TestZZDebugLoad(t *testing.T) {
	src := os.Getenv("DBG_DIR")
	if src == "" {
		t.Skip()
	}
	dir := t.TempDir()
	exec.Command("cp", "-r", src+"/.", dir).Run()
	os.Remove(dir + "/.lock")
	c, err := kfake.NewCluster(kfake.DataDir(dir), kfake.NumBrokers(1), kfake.WithLogger(&kfakeLogger{log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug - 4}))}))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range c.PartitionInfos("multi") {
		t.Logf("%+v", p)
	}
	c.Close()
}
