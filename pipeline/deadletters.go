package pipeline

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/contact-enricher/contact-enricher/sink"
)

// deadLetterQueue writes dead letters in the background, in batches, and
// marks each record finished once its dead letter is acknowledged. A failed
// write is retried until it succeeds or the queue's context ends; records
// not written by then stay unfinished and are consumed again after a
// restart.
type deadLetterQueue struct {
	sink    DeadLetterSink
	tracker *offsetTracker
	metrics *metrics
	log     *slog.Logger
	backoff time.Duration // first retry wait of a failed write
	queue   chan sink.DeadLetter
	pending atomic.Int64 // enqueued and not yet written
}

const deadLetterBatch = 200

func newDeadLetterQueue(s DeadLetterSink, t *offsetTracker, m *metrics, log *slog.Logger, backoff time.Duration) *deadLetterQueue {
	return &deadLetterQueue{
		sink: s, tracker: t, metrics: m, log: log, backoff: backoff,
		queue: make(chan sink.DeadLetter, 4*deadLetterBatch),
	}
}

// enqueue hands l to the writer, blocking while the queue is full.
func (q *deadLetterQueue) enqueue(ctx context.Context, l sink.DeadLetter) error {
	q.pending.Add(1)
	select {
	case q.queue <- l:
		return nil
	case <-ctx.Done():
		q.pending.Add(-1)
		return ctx.Err()
	}
}

// waitIdle waits until every enqueued dead letter is written or ctx ends.
func (q *deadLetterQueue) waitIdle(ctx context.Context) {
	ticker := time.NewTicker(10 * time.Millisecond)
	defer ticker.Stop()
	for q.pending.Load() > 0 {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// run writes queued dead letters until ctx ends.
func (q *deadLetterQueue) run(ctx context.Context) {
	batch := make([]sink.DeadLetter, 0, deadLetterBatch)
	for {
		select {
		case <-ctx.Done():
			return
		case l := <-q.queue:
			batch = append(batch[:0], l)
		}
		batch = q.drain(batch)
		if q.write(ctx, batch) != nil {
			return
		}
	}
}

// drain adds what is already queued to batch, up to its capacity.
func (q *deadLetterQueue) drain(batch []sink.DeadLetter) []sink.DeadLetter {
	for len(batch) < cap(batch) {
		select {
		case l := <-q.queue:
			batch = append(batch, l)
		default:
			return batch
		}
	}
	return batch
}

func (q *deadLetterQueue) write(ctx context.Context, batch []sink.DeadLetter) error {
	for attempt := 1; ; attempt++ {
		err := q.sink.WriteDeadLetters(ctx, batch)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		q.log.Warn("writing dead letters failed; retrying", "count", len(batch), "attempt", attempt, "error", err)
		if err := sleepCtx(ctx, retryDelay(q.backoff, attempt)); err != nil {
			return err
		}
	}
	for _, l := range batch {
		q.metrics.deadLetters.WithLabelValues(l.Reason).Inc()
		q.metrics.recordsFinished.WithLabelValues(outcomeDeadLettered).Inc()
		q.tracker.finish(l.Partition, l.Offset)
	}
	q.pending.Add(-int64(len(batch)))
	return nil
}
