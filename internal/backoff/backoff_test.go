package backoff

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func delays(b *Backoff, n int) []time.Duration {
	var out []time.Duration
	for range n {
		out = append(out, b.Next())
	}
	return out
}

func TestZeroBackoffDoublesUpToTenSecondsAndResets(t *testing.T) {
	var b Backoff
	got := delays(&b, 9)
	want := []time.Duration{100, 200, 400, 800, 1600, 3200, 6400, 10000, 10000}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("delays = %v, want %v ms", got, want)
		}
	}
	b.Reset()
	if d := b.Next(); d != 100*time.Millisecond {
		t.Fatalf("after Reset: %v", d)
	}
}

func TestBackoffKeepsItsBounds(t *testing.T) {
	b := Backoff{Min: 300 * time.Millisecond, Max: time.Second}
	got := delays(&b, 4)
	want := []time.Duration{300, 600, 1000, 1000}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("delays = %v, want %v ms", got, want)
		}
	}
}

func TestSleepEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if Sleep(ctx, time.Hour) || Sleep(ctx, 0) {
		t.Fatal("Sleep on a done context reported a full sleep")
	}
	if !Sleep(context.Background(), time.Millisecond) || !Sleep(context.Background(), -time.Second) {
		t.Fatal("Sleep without cancellation reported an early end")
	}
}

func TestRetryStopsAtSuccessAtAFinalErrorAndWhenTheContextEnds(t *testing.T) {
	transient, final := errors.New("transient"), errors.New("final")
	retriable := func(err error) bool { return err == transient }
	fast := &Backoff{Min: time.Millisecond, Max: time.Millisecond}
	for _, tc := range []struct {
		results []error
		want    error
		calls   int
	}{
		{[]error{transient, transient, nil}, nil, 3},
		{[]error{transient, final, nil}, final, 2},
	} {
		calls := 0
		err := Retry(context.Background(), fast, retriable, func() error {
			calls++
			return tc.results[calls-1]
		})
		if err != tc.want || calls != tc.calls {
			t.Errorf("results %v: got %v after %d calls, want %v after %d", tc.results, err, calls, tc.want, tc.calls)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := Retry(ctx, fast, retriable, func() error { return transient })
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "transient") {
		t.Errorf("Retry after the context ended = %v, want the deadline and the last error", err)
	}
}
