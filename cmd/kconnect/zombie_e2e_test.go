package main_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/internal/testenv"
)

// writerRecord is one committed record and the producer that wrote it: the transactional id of
// a task keeps its producer id, and each new instance of the task bumps the epoch.
type writerRecord struct {
	value    string
	producer int64
	epoch    int16
}

// writersReader reads a topic read_committed, keeping each record's writer.
type writersReader struct {
	cl   *kgo.Client
	recs []writerRecord
}

func newWritersReader(t *testing.T, brokers, topic string) *writersReader {
	t.Helper()
	return &writersReader{cl: committedClient(t, brokers, topic)}
}

// poll reads what one fetch brings, waiting at most a second, and returns how many records
// have been read.
func (r *writersReader) poll() int {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	r.cl.PollFetches(ctx).EachRecord(func(rec *kgo.Record) {
		r.recs = append(r.recs, writerRecord{value: string(rec.Value), producer: rec.ProducerID, epoch: rec.ProducerEpoch})
	})
	return len(r.recs)
}

// drain reads until a fetch brings nothing for a second.
func (r *writersReader) drain() {
	for n := len(r.recs); r.poll() > n; n = len(r.recs) {
	}
}

// A zombie task cannot commit (#17): with exactly.once.source.support=enabled, the worker running
// a file source's task is frozen (SIGSTOP) in the middle of a load, past its session timeout; the
// task is taken over by another worker, whose producer fences the frozen one's transactional id,
// and the frozen worker is continued (SIGCONT). Read read_committed, the topic then holds every
// line exactly once, in order, and no record of the frozen instance's producer epoch after the
// new instance's first.
func TestDistributedZombieTaskCannotCommit(t *testing.T) {
	c := startClusterWith(t, map[string]string{"exactly.once.source.support": "enabled"})
	const chunk = 100_000
	topic := testenv.Topic(t, "zombie-eos")
	input := filepath.Join(t.TempDir(), "input.txt")
	appendLines(t, input, 0, 1_000)
	lines := 1_000
	reader := newWritersReader(t, c.brokers, topic)
	code, body := c.workers[1].Do(http.MethodPut, "/connectors/zombie-eos/config", map[string]string{
		"connector.class": "FileStreamSource", "file": input, "topic": topic, "batch.size": "200",
		"exactly.once.support": "required"})
	if code != http.StatusCreated {
		t.Fatalf("PUT zombie-eos: %d %s", code, body)
	}
	st := c.waitStatus(c.workers[0], "zombie-eos", "the task RUNNING", allRunning(1, ""))
	victim, survivor := c.taskWorker(st)
	survivor.WaitFor(60*time.Second, "the first lines committed", func() bool { return reader.poll() >= lines })

	// Freeze the task's worker once the next chunk is flowing: a transaction is open.
	appendLines(t, input, lines, lines+chunk)
	lines += chunk
	survivor.WaitFor(30*time.Second, "the chunk flowing", func() bool { return reader.poll() > 1_000 })
	victim.Freeze()
	atFreeze := reader.poll()
	if atFreeze >= lines {
		t.Errorf("the whole chunk was committed before the freeze (%d lines); the test proves nothing", atFreeze)
	}
	frozen := time.Now()
	st = c.waitStatus(survivor, "zombie-eos", "the task RUNNING on another worker", allRunning(1, workerID(t, victim)))
	t.Logf("%d/%d lines committed at the freeze; task RUNNING on %s %.1fs after it", atFreeze, lines, st.Tasks[0].WorkerID, time.Since(frozen).Seconds())
	// The last record read at the freeze is the frozen instance's: nothing else ran the task.
	zombie := reader.recs[atFreeze-1]
	survivor.WaitFor(60*time.Second, "records from the new instance", func() bool {
		reader.poll()
		last := reader.recs[len(reader.recs)-1]
		return last.producer != zombie.producer || last.epoch != zombie.epoch
	})

	thaw(victim)
	appendLines(t, input, lines, lines+chunk)
	lines += chunk
	survivor.WaitFor(120*time.Second, fmt.Sprintf("%d committed lines", lines), func() bool { return reader.poll() >= lines })
	reader.drain()

	takeover, zombies, dups, gaps, misplaced := -1, 0, 0, 0, 0
	seen := map[string]int{}
	for i, r := range reader.recs {
		byZombie := r.producer == zombie.producer && r.epoch == zombie.epoch
		if takeover < 0 && i >= atFreeze && !byZombie {
			takeover = i
		}
		if takeover >= 0 && byZombie {
			zombies++
		}
		seen[r.value]++
		if r.value != fmt.Sprintf(`"line %06d"`, i) {
			misplaced++
		}
	}
	dups, gaps = lineCounts(seen, lines)
	t.Logf("%d committed records for %d lines, the new instance's first at %d (producer %d epoch %d, the zombie's epoch %d): %d from the zombie after it, %d duplicates, %d gaps, %d out of place",
		len(reader.recs), lines, takeover, reader.recs[takeover].producer, reader.recs[takeover].epoch, zombie.epoch, zombies, dups, gaps, misplaced)
	if zombies != 0 || dups != 0 || gaps != 0 || misplaced != 0 || len(reader.recs) != lines {
		t.Errorf("want %d records and no zombie record, duplicate, gap or misplaced record", lines)
	}
}
