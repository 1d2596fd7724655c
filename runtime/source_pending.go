package runtime

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kconnect/kconnect/internal/backoff"
	"github.com/kconnect/kconnect/runtime/offsets"
)

// A broker can lose a transaction's markers. Apache Kafka 4.3 does when it restarts after a
// crash with a commit prepared but not yet written to the partitions: while it starts, its
// transaction coordinator finds no leader for them, takes them for deleted topics and skips
// their markers, then counts the transaction complete. The records stay pending under the task's
// producer ID, and the next commit marker of that producer in a partition commits every pending
// record there, old ones included. A task instance that took over the transactional ID read its
// offsets from before that transaction (the pending records hold the last stable offset back),
// so it sends those records again, and its first commit would make both copies visible.
//
// So before the first commit that touches a partition, the task asks the partition's leader
// (DescribeProducers) where its producer's open transaction there starts. It must start at the
// first record this transaction wrote there; if it starts earlier, the task aborts: the abort
// marker ends the forgotten records too, in every partition this transaction touched, and the
// task starts afresh in place (txnLoop), so that it sends everything from the committed offsets
// once more.

// The same lost markers hold the last stable offset of the offsets topic's partition back, and
// with it any offsets other tasks committed there after the forgotten transaction began: a
// read_committed reader stops before them. A task that took over its transactional ID therefore
// reads its offsets only once its store has read each partition of the topic its transactions
// write offsets to up to the high watermark, every transaction open there having ended, or,
// where its own producer has records pending (which its first commit aborts), up to where they
// start. A transaction of another producer that stays open fails the task with its producer
// named, rather than let it start from offsets older than those it committed.

// awaitOffsets waits, before the task reads its offsets, until its store holds every offset
// committed before its producer pid took over its transactional ID.
func (r *sourceRunner) awaitOffsets(ctx context.Context, pid int64) error {
	store := r.txn.store
	topic := store.Topic()
	adm := kadm.NewClient(r.client)
	var ends kadm.ListedOffsets
	listCtx, cancel := context.WithTimeout(ctx, offsets.ReadTimeout)
	defer cancel()
	err := backoff.Retry(listCtx, &backoff.Backoff{Min: 100 * time.Millisecond, Max: 2 * time.Second}, kerr.IsRetriable, func() error {
		var err error
		if ends, err = adm.ListEndOffsets(listCtx, topic); err == nil {
			err = ends.Error()
		}
		return err
	})
	var described kadm.DescribedProducersTopics
	if err == nil {
		described, err = describeProducers(ctx, adm, kadm.TopicsSet{topic: {}})
	}
	if err != nil {
		// As in checkPending: read the offsets as before.
		r.t.log.Warn("cannot learn which transactions are open in the offsets topic; reading the offsets without waiting for them",
			"topic", topic, "err", err)
		return nil
	}
	targets := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { targets[o.Partition] = o.Offset })
	var open []string
	described.EachPartition(func(d kadm.DescribedProducersPartition) {
		for _, p := range d.ActiveProducers {
			switch {
			case p.CurrentTxnStartOffset < 0:
			case p.ProducerID == pid:
				targets[d.Partition] = min(targets[d.Partition], p.CurrentTxnStartOffset)
			default:
				open = append(open, fmt.Sprintf("partition %d from offset %d (producer ID %d, epoch %d)",
					d.Partition, p.CurrentTxnStartOffset, p.ProducerID, p.ProducerEpoch))
			}
		}
	})
	waitCtx, cancelWait := context.WithTimeout(ctx, offsets.ReadTimeout)
	defer cancelWait()
	if err := store.ReadTo(waitCtx, targets); err != nil {
		slices.Sort(open)
		return fmt.Errorf("read the offsets committed to %s before this task started: %w; transactions open there when it started: %s. "+
			"A transaction a broker left open when it lost its markers ends when its task commits again, or with kafka-transactions.sh abort",
			topic, err, strings.Join(open, ", "))
	}
	return nil
}

// pendingPartition is a partition the open transaction wrote to.
type pendingPartition struct {
	topic     string
	partition int32
}

// noteAck records where the open transaction's first record in a partition went, until the
// partition is checked.
func (x *sourceTxn) noteAck(topic string, partition int32, offset int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	p := pendingPartition{topic, partition}
	if x.checked[p] {
		return
	}
	if first, ok := x.firsts[p]; !ok || offset < first {
		if x.firsts == nil {
			x.firsts = map[pendingPartition]int64{}
		}
		x.firsts[p] = offset
	}
}

// forgetFirsts drops what noteAck recorded, when the transaction ends without a check.
func (x *sourceTxn) forgetFirsts() {
	x.mu.Lock()
	x.firsts = nil
	x.mu.Unlock()
}

// errLeftPending ends the run of a task whose transaction would have committed records of an
// earlier transaction the broker left pending; the transaction was aborted.
var errLeftPending = errors.New("the broker left records of an earlier transaction of this task pending")

// checkPending checks, in the partitions the open transaction is the first to commit to, that
// no earlier record of the task's producer is pending.
func (r *sourceRunner) checkPending(ctx context.Context) error {
	x := r.txn
	x.mu.Lock()
	firsts := x.firsts
	x.firsts = nil
	x.mu.Unlock()
	if len(firsts) == 0 {
		return nil
	}
	pid, _, err := r.client.ProducerID(ctx)
	if err != nil {
		return fmt.Errorf("check the transaction's partitions for pending records: %w", err)
	}
	set := kadm.TopicsSet{}
	for p := range firsts {
		set.Add(p.topic, p.partition)
	}
	described, err := describeProducers(ctx, kadm.NewClient(r.client), set)
	if err != nil {
		// A producer allowed to write but not to describe the topic (DescribeProducers needs
		// READ), or a broker older than Kafka 2.8, cannot be checked: commit as before.
		r.t.log.Warn("cannot check the transaction's partitions for records an earlier transaction left pending; committing unchecked",
			"err", err)
		r.markChecked(firsts)
		return nil
	}
	var left []string
	described.EachPartition(func(d kadm.DescribedProducersPartition) {
		first := firsts[pendingPartition{d.Topic, d.Partition}]
		for _, p := range d.ActiveProducers {
			if p.ProducerID == pid && p.CurrentTxnStartOffset >= 0 && p.CurrentTxnStartOffset < first {
				left = append(left, fmt.Sprintf("%s-%d from offset %d (this transaction's first record is at %d)",
					d.Topic, d.Partition, p.CurrentTxnStartOffset, first))
			}
		}
	})
	if len(left) > 0 {
		return fmt.Errorf("%w, under producer ID %d, in %s: their commit or abort markers were lost (Apache Kafka loses them when it restarts after a crash with a commit prepared); committing would have committed them again with this transaction's records",
			errLeftPending, pid, strings.Join(left, ", "))
	}
	r.markChecked(firsts)
	return nil
}

// markChecked records the partitions of firsts as checked.
func (r *sourceRunner) markChecked(firsts map[pendingPartition]int64) {
	r.txn.mu.Lock()
	defer r.txn.mu.Unlock()
	for p := range firsts {
		r.txn.checked[p] = true
	}
}

// describeProducers asks the leaders of the partitions of set about their producers, retrying
// the errors of a leader that is moving or starting, as after a broker restart.
func describeProducers(ctx context.Context, adm *kadm.Client, set kadm.TopicsSet) (kadm.DescribedProducersTopics, error) {
	ctx, cancel := context.WithTimeout(ctx, offsets.ReadTimeout)
	defer cancel()
	var described kadm.DescribedProducersTopics
	err := backoff.Retry(ctx, &backoff.Backoff{Min: 100 * time.Millisecond, Max: 2 * time.Second}, kerr.IsRetriable, func() error {
		var err error
		if described, err = adm.DescribeProducers(ctx, set); err != nil {
			return err
		}
		described.EachPartition(func(d kadm.DescribedProducersPartition) {
			if d.Err != nil && err == nil {
				err = fmt.Errorf("%s-%d: %w", d.Topic, d.Partition, d.Err)
			}
		})
		return err
	})
	return described, err
}
