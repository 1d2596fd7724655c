package datagen

import (
	"math"
	"time"
)

// limiter is a token bucket: tokens accrue at perSec up to burst, and each record takes one. The
// burst is a tenth of a second's worth (at least one record, at most a batch), so fast rates are
// served in batches rather than record by record, and a slow consumer cannot bank a backlog.
type limiter struct {
	perSec float64
	burst  float64
	tokens float64
	last   time.Time
}

func newLimiter(perSec float64, maxBatch int, now time.Time) *limiter {
	burst := min(max(perSec/10, 1), float64(maxBatch))
	return &limiter{perSec: perSec, burst: burst, tokens: burst, last: now}
}

// reserve takes up to want tokens at time now. It returns how many it took, or, when it takes none,
// how long until a full burst (or want, if smaller) is available.
func (l *limiter) reserve(now time.Time, want int) (int, time.Duration) {
	if elapsed := now.Sub(l.last); elapsed > 0 {
		l.tokens = min(l.burst, l.tokens+elapsed.Seconds()*l.perSec)
		l.last = now
	}
	need := min(float64(want), l.burst)
	if l.tokens < need {
		return 0, time.Duration(math.Ceil((need - l.tokens) / l.perSec * float64(time.Second)))
	}
	n := int(min(l.tokens, float64(want)))
	l.tokens -= float64(n)
	return n, 0
}
