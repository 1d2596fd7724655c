// Package backoff spaces out retries: a delay that doubles from 100 ms up to 10 s, and a sleep
// that ends early when its context does.
package backoff

import (
	"context"
	"time"
)

// Backoff doubles a delay from 100 ms up to 10 s. The zero value is ready to use.
type Backoff struct{ d time.Duration }

// Next returns the delay before the next retry.
func (b *Backoff) Next() time.Duration {
	if b.d == 0 {
		b.d = 100 * time.Millisecond
	} else if b.d < 10*time.Second {
		b.d *= 2
	}
	return b.d
}

// Reset starts over from the shortest delay, after a success.
func (b *Backoff) Reset() { b.d = 0 }

// Sleep waits d and reports true, or reports false as soon as ctx is done.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
