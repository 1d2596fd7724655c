package gctuning

import (
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestPercentFor(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, MaxPercent},
		{10 * mib, 300},  // headroom 30 MiB
		{42 * mib, 300},  // headroom 126 MiB
		{64 * mib, 200},  // headroom capped at 128 MiB
		{100 * mib, 128}, // 128 MiB on 100
		{128 * mib, 100},
		{1024 * mib, 100}, // never below GOGC's default
	} {
		if got := PercentFor(tc.live); got != tc.want {
			t.Errorf("PercentFor(%d MiB) = %d, want %d", tc.live/mib, got, tc.want)
		}
	}
}

func TestApplyRespectsGOGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))

	t.Setenv("GOGC", "50")
	debug.SetGCPercent(50)
	Apply()
	if got := debug.SetGCPercent(50); got != 50 {
		t.Errorf("with GOGC=50 set, Apply changed the percent to %d", got)
	}
}

// TestApplyFollowsTheLiveHeap checks the policy end to end: a small heap runs at MaxPercent, and a
// live heap past the headroom cap brings the percent down after the next collections. The tuner
// adjusts on another goroutine after a cycle, so each state is awaited.
func TestApplyFollowsTheLiveHeap(t *testing.T) {
	t.Setenv("GOGC", "") // restores the variable afterwards
	if err := os.Unsetenv("GOGC"); err != nil {
		t.Fatal(err)
	}
	Apply()
	percent := func() int { p := debug.SetGCPercent(-1); debug.SetGCPercent(p); return p }
	await := func(what string, ok func(int) bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !ok(percent()); {
			if time.Now().After(deadline) {
				t.Fatalf("%s: GOGC stayed at %d", what, percent())
			}
			runtime.GC()
			time.Sleep(10 * time.Millisecond)
		}
	}
	await("small heap, want MaxPercent", func(p int) bool { return p == MaxPercent })
	live := make([][]byte, 300)
	for i := range live {
		live[i] = make([]byte, 1<<20)
	}
	await("300 MiB live, want near minPercent", func(p int) bool { return p <= 150 })
	runtime.KeepAlive(live)
}
