// Package gctuning sets kconnect's garbage-collector policy. Moving records allocates fast while
// little stays live, so at Go's default GOGC=100 the collector runs very often: in the JDBC sink
// benchmark (bench/jdbcsink/kafka) it took a fifth of the process's CPU, and GOGC=300 cut CPU per
// row from about 8 to 5.3 µs. A fixed 300 would also let a large live heap grow the process to four
// times its size, though: a CDC task streaming a 1 GB transaction peaked at 360 MB RSS instead of
// 227 MB. So the percent follows the live heap, measured after every collection: 300 while the
// headroom that gives stays under 128 MiB, falling towards 100 as the live heap grows. A GOGC the
// user sets wins, and GOMEMLIMIT works as for any Go program.
package gctuning

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

const (
	// MaxPercent is the GOGC of a small live heap.
	MaxPercent = 300
	// minPercent is the GOGC of a live heap larger than maxHeadroom.
	minPercent = 100
	// maxHeadroom caps the growth above the live heap that percents over minPercent may add.
	maxHeadroom = 128 << 20
)

var once sync.Once

// Apply starts the policy unless the GOGC environment variable is set; later calls do nothing.
func Apply() {
	if _, set := os.LookupEnv("GOGC"); set {
		return
	}
	once.Do(func() {
		t := &tuner{sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}, percent: MaxPercent}
		debug.SetGCPercent(MaxPercent)
		t.arm()
	})
}

// PercentFor returns the GOGC for a live heap of live bytes: the heap may grow by three times
// the live heap, but by no more than maxHeadroom unless minPercent allows more.
func PercentFor(live uint64) int {
	if live == 0 {
		return MaxPercent
	}
	headroom := min(3*live, max(live, maxHeadroom))
	return int(max(minPercent, min(MaxPercent, headroom*100/live)))
}

// tuner re-evaluates the percent once per collection: a cleanup attached to an object nothing
// references runs after each cycle that frees it, and re-arms itself with a fresh object.
type tuner struct {
	sample  []metrics.Sample
	percent int
}

// sentinel is big enough not to share a tiny-allocator block, whose cleanups may never run.
type sentinel struct{ _ [16]byte }

func (t *tuner) arm() {
	runtime.AddCleanup(&sentinel{}, func(t *tuner) { t.adjust(); t.arm() }, t)
}

func (t *tuner) adjust() {
	metrics.Read(t.sample)
	if t.sample[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	p := PercentFor(t.sample[0].Value.Uint64())
	// Small changes only reset the pacer for nothing.
	if p*10 < t.percent*9 || p*10 > t.percent*11 {
		t.percent = p
		debug.SetGCPercent(p)
	}
}
