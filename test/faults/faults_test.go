package faults

import (
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
	var reps []report
	for _, p := range pipelines() {
		if cfg.pipelines != nil && !cfg.pipelines[p.name] {
			continue
		}
		t.Run(p.name, func(t *testing.T) {
			reps = append(reps, run(t, cfg, p))
		})
	}
	if len(reps) == 0 {
		return
	}
	md := writeReport(t, cfg, reps)
	t.Logf("report written to %s.md and .json:\n%s", cfg.report, md)
}
