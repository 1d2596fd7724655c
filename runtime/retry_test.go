package runtime

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func policyOf(t *testing.T, props map[string]string) retryPolicy {
	t.Helper()
	props["name"], props["connector.class"] = "c", "FileStreamSource"
	cfg, err := ConnectorConfigDef(false).Parse(props)
	if err != nil {
		t.Fatal(err)
	}
	return newRetryPolicy(cfg)
}

func TestRetryPolicyFromErrorsRetryTimeout(t *testing.T) {
	for _, c := range []struct {
		timeout, delayMax string
		budget, maxDelay  time.Duration
	}{
		{"", "", defaultRetryTimeout, maxRetryDelay},
		{"0", "500", defaultRetryTimeout, 500 * time.Millisecond},
		{"-1", "", -1, maxRetryDelay},
		{"4000", "120000", 4 * time.Second, 120 * time.Second}, // set: honoured above the default cap
		{"", "0", defaultRetryTimeout, time.Millisecond},
	} {
		props := map[string]string{}
		if c.timeout != "" {
			props[ErrorsRetryTimeout] = c.timeout
		}
		if c.delayMax != "" {
			props[ErrorsRetryDelayMax] = c.delayMax
		}
		p := policyOf(t, props)
		if p.budget != c.budget || p.maxDelay != c.maxDelay {
			t.Errorf("timeout %q, delay max %q: budget %v, max delay %v; want %v, %v",
				c.timeout, c.delayMax, p.budget, p.maxDelay, c.budget, c.maxDelay)
		}
	}
	_, err := ConnectorConfigDef(false).Parse(map[string]string{"name": "c", "connector.class": "x", ErrorsRetryTimeout: "-2"})
	if err == nil || !strings.Contains(err.Error(), ErrorsRetryTimeout) {
		t.Errorf("errors.retry.timeout=-2 accepted or not named: %v", err)
	}
}

func TestRetrierGivesUpAtTheBudgetAndForgetsAfterSuccess(t *testing.T) {
	r := newRetrier(retryPolicy{budget: 3 * time.Second, maxDelay: 10 * time.Second}, "put")
	cause := errors.New("table locked")
	t0 := time.Unix(1000, 0)
	var waits []time.Duration
	for _, at := range []time.Duration{0, 100 * time.Millisecond, 300 * time.Millisecond, 2900 * time.Millisecond} {
		d, err := r.failed(cause, t0.Add(at))
		if err != nil {
			t.Fatalf("gave up %v after the first failure, within a 3s budget: %v", at, err)
		}
		waits = append(waits, d)
	}
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 100 * time.Millisecond}
	for i := range want {
		if waits[i] != want[i] {
			t.Fatalf("waits %v, want %v: doubling, the last one ending at the deadline", waits, want)
		}
	}
	_, err := r.failed(cause, t0.Add(3*time.Second))
	if !errors.Is(err, cause) || !strings.Contains(err.Error(), "put kept failing for 3s") || !strings.Contains(err.Error(), ErrorsRetryTimeout) {
		t.Fatalf("at the deadline: %v", err)
	}
	r.succeeded()
	if _, err := r.failed(cause, t0.Add(time.Hour)); err != nil {
		t.Fatalf("a new run of failures after a success inherited the old one: %v", err)
	}
}

func TestRetrierForever(t *testing.T) {
	r := newRetrier(retryPolicy{budget: -1, maxDelay: time.Second}, "poll")
	t0 := time.Unix(1000, 0)
	for _, at := range []time.Duration{0, time.Hour, 1000 * time.Hour} {
		if d, err := r.failed(errors.New("x"), t0.Add(at)); err != nil || d > time.Second {
			t.Fatalf("budget -1 after %v: wait %v, %v", at, d, err)
		}
	}
}

// watchLog is a kafkaWatch whose log and give-ups the test reads.
type watchLog struct {
	buf     bytes.Buffer
	giveUps []error
	w       *kafkaWatch
}

func newWatchLog(budget time.Duration) *watchLog {
	wl := &watchLog{}
	log := slog.New(slog.NewTextHandler(&wl.buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	wl.w = newKafkaWatch(log, retryPolicy{budget: budget}, func(err error) { wl.giveUps = append(wl.giveUps, err) })
	return wl
}

func (wl *watchLog) lines(substr string) []string {
	var out []string
	for _, l := range strings.Split(wl.buf.String(), "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return out
}

var broker1 = kgo.BrokerMetadata{NodeID: 1, Host: "127.0.0.1", Port: 9092}

func TestKafkaWatchLogsAnOutageOnceAtEachEnd(t *testing.T) {
	wl := newWatchLog(time.Minute)
	t0 := time.Unix(1000, 0)
	refused := errors.New("connect: connection refused")
	wl.w.failed(broker1, refused, t0)
	wl.w.failed(broker1, refused, t0.Add(500*time.Millisecond))
	if len(wl.lines("level=WARN")) != 0 {
		t.Fatalf("a failure of half a second was logged as an outage:\n%s", wl.buf.String())
	}
	for _, at := range []time.Duration{1500, 2500, 9000} {
		wl.w.failed(broker1, refused, t0.Add(at*time.Millisecond))
	}
	wl.w.answered(t0.Add(10 * time.Second))
	wl.w.answered(t0.Add(11 * time.Second))
	begin, end := wl.lines("cannot reach Kafka"), wl.lines("Kafka is reachable again")
	if len(begin) != 1 || len(end) != 1 || len(wl.lines("level=WARN")) != 2 {
		t.Fatalf("want one WARN when the outage is noticed and one when it ends:\n%s", wl.buf.String())
	}
	if !strings.Contains(begin[0], "connection refused") || !strings.Contains(begin[0], "127.0.0.1:9092") {
		t.Errorf("the first WARN does not give the cause: %s", begin[0])
	}
	if !strings.Contains(end[0], "outage=10s") {
		t.Errorf("the second WARN does not give the outage's duration (10s): %s", end[0])
	}
	if len(wl.giveUps) != 0 {
		t.Errorf("gave up within the budget: %v", wl.giveUps)
	}
}

func TestKafkaWatchGivesUpOnceAfterTheBudget(t *testing.T) {
	wl := newWatchLog(5 * time.Second)
	t0 := time.Unix(1000, 0)
	refused := errors.New("connect: connection refused")
	for _, at := range []time.Duration{0, 4, 6, 7} {
		wl.w.failed(broker1, refused, t0.Add(at*time.Second))
	}
	if len(wl.giveUps) != 1 {
		t.Fatalf("gave up %d times, want once: %v", len(wl.giveUps), wl.giveUps)
	}
	if err := wl.giveUps[0]; !errors.Is(err, refused) || !strings.Contains(err.Error(), "reaching Kafka kept failing for 6s") {
		t.Errorf("give-up error: %v", err)
	}
}

func TestKafkaWatchIgnoresItsOwnClientClosing(t *testing.T) {
	wl := newWatchLog(time.Second)
	t0 := time.Unix(1000, 0)
	for _, at := range []time.Duration{0, 5} {
		wl.w.failed(broker1, context.Canceled, t0.Add(at*time.Second))
		wl.w.failed(broker1, kgo.ErrClientClosed, t0.Add(at*time.Second))
	}
	if wl.w.failing() || len(wl.giveUps) != 0 || wl.buf.Len() != 0 {
		t.Fatalf("closing the client counted as an outage:\n%s", wl.buf.String())
	}
}
