// Package backoff spaces out retries: a delay that doubles from a minimum up to a maximum, and a
// sleep that ends early when its context does.
package backoff

import (
	"context"
	"fmt"
	"time"
)

// Default bounds of a Backoff that leaves Min or Max zero.
const (
	DefaultMin = 100 * time.Millisecond
	DefaultMax = 10 * time.Second
)

// Backoff hands out the delays before successive retries: Min, then twice the previous delay,
// never more than Max. The zero value doubles from 100 ms up to 10 s.
type Backoff struct {
	Min, Max time.Duration
	d        time.Duration
}

// Next returns the delay before the next retry.
func (b *Backoff) Next() time.Duration {
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = DefaultMin
	}
	if hi <= 0 {
		hi = DefaultMax
	}
	if b.d == 0 {
		b.d = lo
	} else {
		b.d *= 2
	}
	b.d = min(b.d, hi)
	return b.d
}

// Reset starts over from the shortest delay, after a success.
func (b *Backoff) Reset() { b.d = 0 }

// Sleep waits d and reports true, or reports false as soon as ctx is done (at once when d is not
// positive and ctx is already done).
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Retry calls fn until it returns nil or an error that retriable rejects, which it returns,
// sleeping b's delays in between. When ctx ends first it returns ctx's error, with fn's last.
func Retry(ctx context.Context, b *Backoff, retriable func(error) bool, fn func() error) error {
	for {
		err := fn()
		if err == nil || !retriable(err) {
			return err
		}
		if !Sleep(ctx, b.Next()) {
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		}
	}
}
