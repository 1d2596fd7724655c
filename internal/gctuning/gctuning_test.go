package gctuning

import (
	"os"
	"runtime/debug"
	"testing"
)

func TestApplyRespectsGOGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))

	t.Setenv("GOGC", "50")
	debug.SetGCPercent(50)
	Apply()
	if got := debug.SetGCPercent(50); got != 50 {
		t.Errorf("with GOGC=50 set, Apply changed the percent to %d", got)
	}
}

func TestApplySetsPercent(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))

	t.Setenv("GOGC", "") // restores the variable afterwards
	if err := os.Unsetenv("GOGC"); err != nil {
		t.Fatal(err)
	}
	debug.SetGCPercent(100)
	Apply()
	if got := debug.SetGCPercent(100); got != Percent {
		t.Errorf("without GOGC, Apply set the percent to %d, want %d", got, Percent)
	}
}
