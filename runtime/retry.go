package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/backoff"
)

const (
	// defaultRetryTimeout is the retry budget while errors.retry.timeout keeps its default of 0.
	// Upstream's 0 means "no retries" for the converters and transforms it guards, but upstream
	// retries a task's RetriableException for ever, and its source tasks outlive a Kafka outage
	// for the producer's delivery.timeout.ms (120000 by default): failing at the first lost
	// connection would be worse than either, and never failing hides a task that is stuck.
	defaultRetryTimeout = 2 * time.Minute
	// maxRetryDelay is the longest delay between retries while errors.retry.delay.max.ms is not
	// set: below its upstream default (60 s), so that a task notices within seconds that what
	// failed works again. A value the connector sets is used as given.
	maxRetryDelay = 10 * time.Second
	// outageWarnAfter is how long Kafka must stay unreachable before the outage is logged: a
	// request that fails while others succeed (one broker of several restarting) is no outage.
	outageWarnAfter = time.Second
)

// retryPolicy is how long the runtime retries what fails for a reason that may pass before it
// fails the task (errors.retry.timeout; negative for ever), and the longest wait between two
// attempts (errors.retry.delay.max.ms).
type retryPolicy struct {
	budget   time.Duration
	maxDelay time.Duration
}

func newRetryPolicy(cfg *connect.Config) retryPolicy {
	p := retryPolicy{maxDelay: maxRetryDelay}
	if cfg.IsSet(ErrorsRetryDelayMax) {
		// At least a millisecond: a zero Max would give the backoff's default.
		p.maxDelay = max(cfg.Millis(ErrorsRetryDelayMax), time.Millisecond)
	}
	switch ms := cfg.Long(ErrorsRetryTimeout); {
	case ms < 0:
		p.budget = -1
	case ms == 0:
		p.budget = defaultRetryTimeout
	default:
		p.budget = time.Duration(ms) * time.Millisecond
	}
	return p
}

// spent reports whether failing for elapsed has used up the budget.
func (p retryPolicy) spent(elapsed time.Duration) bool { return p.budget >= 0 && elapsed >= p.budget }

// exhausted is the error that fails a task whose retries ran out.
func (p retryPolicy) exhausted(what string, elapsed time.Duration, cause error) error {
	return fmt.Errorf("%s kept failing for %s, longer than the retry budget of %s (%s): %w",
		what, elapsed.Round(time.Millisecond), p.budget, ErrorsRetryTimeout, cause)
}

// retrier paces the retries of one operation of a task loop and gives up when they have failed
// for the whole budget. It is used by one goroutine.
type retrier struct {
	policy retryPolicy
	what   string
	b      backoff.Backoff
	since  time.Time // of the first failure in a row; zero after a success
}

func newRetrier(p retryPolicy, what string) *retrier {
	return &retrier{policy: p, what: what, b: backoff.Backoff{Min: 100 * time.Millisecond, Max: p.maxDelay}}
}

// failed records a failure and returns how long to wait before trying again, or the error that
// fails the task once the failures have lasted the budget. The last wait ends at the deadline, so
// the last attempt is made then.
func (r *retrier) failed(cause error, now time.Time) (time.Duration, error) {
	if r.since.IsZero() {
		r.since = now
	}
	elapsed := now.Sub(r.since)
	if r.policy.spent(elapsed) {
		return 0, r.policy.exhausted(r.what, elapsed, cause)
	}
	d := r.b.Next()
	if r.policy.budget >= 0 {
		d = min(d, r.policy.budget-elapsed)
	}
	return d, nil
}

// succeeded ends a run of failures.
func (r *retrier) succeeded() {
	r.since = time.Time{}
	r.b.Reset()
}

// kafkaWatch follows the requests of a task's Kafka client through kgo's hooks. A failed
// connection or request starts an outage and a successful request ends it. An outage that lasts
// outageWarnAfter is logged once as a WARN, and its end once with its duration. One that outlasts
// the retry budget calls giveUp once: the task cannot make progress.
type kafkaWatch struct {
	log    *slog.Logger
	policy retryPolicy
	giveUp func(error)

	mu     sync.Mutex
	since  time.Time // start of the current outage; zero while Kafka answers
	cause  error
	warned bool
	gaveUp bool
}

var (
	_ kgo.HookBrokerConnect = (*kafkaWatch)(nil)
	_ kgo.HookBrokerE2E     = (*kafkaWatch)(nil)
)

func newKafkaWatch(log *slog.Logger, p retryPolicy, giveUp func(error)) *kafkaWatch {
	return &kafkaWatch{log: log, policy: p, giveUp: giveUp}
}

// OnBrokerConnect implements kgo.HookBrokerConnect. A connection that opens proves nothing yet:
// only an answered request ends an outage.
func (k *kafkaWatch) OnBrokerConnect(meta kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	if err != nil {
		k.failed(meta, err, time.Now())
	}
}

// OnBrokerE2E implements kgo.HookBrokerE2E.
func (k *kafkaWatch) OnBrokerE2E(meta kgo.BrokerMetadata, _ int16, e2e kgo.BrokerE2E) {
	if err := e2e.Err(); err != nil {
		k.failed(meta, err, time.Now())
		return
	}
	k.answered(time.Now())
}

func (k *kafkaWatch) failed(meta kgo.BrokerMetadata, err error, now time.Time) {
	if errors.Is(err, context.Canceled) || errors.Is(err, kgo.ErrClientClosed) || errors.Is(err, net.ErrClosed) {
		return // our side closing, not Kafka failing
	}
	if errors.Is(err, errLeaseLapsed) {
		return // the worker holding its records back until its membership is sure again
	}
	k.mu.Lock()
	if k.since.IsZero() {
		k.since = now
	}
	k.cause = fmt.Errorf("broker %s:%d: %w", meta.Host, meta.Port, err)
	elapsed := now.Sub(k.since)
	if !k.warned && elapsed >= outageWarnAfter {
		k.warned = true
		k.log.Warn("cannot reach Kafka; retrying", "since", k.since.Format(time.RFC3339Nano), "err", k.cause)
	}
	var giveUp error
	if !k.gaveUp && k.policy.spent(elapsed) {
		k.gaveUp = true
		giveUp = k.policy.exhausted("reaching Kafka", elapsed, k.cause)
	}
	k.mu.Unlock()
	if giveUp != nil {
		k.giveUp(giveUp)
	}
}

// failing reports whether Kafka has not answered since a request failed: other errors the client
// reports meanwhile are the outage's, which is logged here.
func (k *kafkaWatch) failing() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return !k.since.IsZero()
}

func (k *kafkaWatch) answered(now time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.since.IsZero() {
		return
	}
	if k.warned && !k.gaveUp { // a task that gave up is failing; its client's last words are noise
		k.log.Warn("Kafka is reachable again", "outage", now.Sub(k.since).Round(time.Millisecond), "last_err", k.cause)
	}
	k.since, k.cause, k.warned = time.Time{}, nil, false
}
