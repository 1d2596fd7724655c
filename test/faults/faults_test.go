package faults

import (
	"sync"
	"testing"
)

// TestFaults runs every pipeline under load with random faults and compares its destination with
// its source: nothing may be lost; duplicates are reported, and fail the exactly-once pipelines
// (the others are at-least-once). By default a short run with a fixed seed; `make faults` sets
// KCONNECT_FAULTS and the other knobs (see docs/testing.md) and keeps the report in docs/.
func TestFaults(t *testing.T) {
	cfg := loadConfig(t)
	t.Logf("seed %d, up to %d faults per pipeline within %v (replay: %s=%d %s=%d)", cfg.seed, cfg.faults, cfg.budget,
		envSeed, cfg.seed, envFaults, cfg.faults)
	var ps []*pipeline
	for _, p := range pipelines() {
		if cfg.pipelines == nil || cfg.pipelines[p.name] {
			ps = append(ps, p)
		}
	}
	n := cfg.parallel
	if n == 0 {
		n = len(ps)
	}
	// Goroutines rather than t.Parallel, whose limit (-parallel) is GOMAXPROCS: the pipelines
	// mostly wait, for their load, faults and recoveries.
	reps := make([]*report, len(ps))
	slots := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			t.Run(p.name, func(t *testing.T) {
				rep := run(t, cfg, p)
				reps[i] = &rep
			})
		})
	}
	wg.Wait()
	var done []report
	for _, r := range reps {
		if r != nil {
			done = append(done, *r)
		}
	}
	if len(done) == 0 {
		return
	}
	md := writeReport(t, cfg, done)
	t.Logf("report written to %s.md and .json:\n%s", cfg.report, md)
}
