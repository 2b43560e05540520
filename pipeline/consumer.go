package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/segmentio/kafka-go"

	"github.com/contact-enricher/contact-enricher/codec"
	"github.com/contact-enricher/contact-enricher/sink"
)

// reasonInvalidRecord is the dead-letter reason for a decoding error that
// carries no reason code of its own.
const reasonInvalidRecord = "invalid_record"

// consume joins the consumer group and serves one generation after another
// until ctx ends.
func (p *Pipeline) consume(ctx context.Context) error {
	group, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:                p.cfg.GroupID,
		Brokers:           p.cfg.Brokers,
		Dialer:            p.cfg.Dialer,
		Topics:            []string{p.cfg.InputTopic},
		HeartbeatInterval: p.cfg.HeartbeatInterval,
		SessionTimeout:    p.cfg.SessionTimeout,
		RebalanceTimeout:  p.cfg.RebalanceTimeout,
		JoinGroupBackoff:  p.cfg.JoinGroupBackoff,
		StartOffset:       kafka.FirstOffset,
		ErrorLogger:       kafkaLogger(p.log, slog.LevelWarn),
	})
	if err != nil {
		return err
	}
	defer group.Close()
	for attempt := 1; ; attempt++ {
		gen, err := group.Next(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			p.log.Warn("joining consumer group failed; retrying", "group", p.cfg.GroupID, "attempt", attempt, "error", err)
			if sleepCtx(ctx, retryDelay(p.cfg.JoinGroupBackoff, attempt)) != nil {
				return nil
			}
			continue
		}
		attempt = 0
		p.runGeneration(ctx, gen)
	}
}

// runGeneration serves the partitions of gen until the group rebalances or
// ctx ends, and returns after the generation's last commit.
func (p *Pipeline) runGeneration(ctx context.Context, gen *kafka.Generation) {
	assigned := gen.Assignments[p.cfg.InputTopic]
	p.assign(assigned)
	ids := make([]int, len(assigned))
	for i, a := range assigned {
		ids[i] = a.ID
	}
	p.log.Info("partitions assigned", "topic", p.cfg.InputTopic, "generation", gen.ID, "partitions", ids)

	done := make(chan struct{})
	gen.Start(func(genCtx context.Context) {
		defer close(done)
		p.serveGeneration(ctx, genCtx, gen, assigned)
	})
	<-done
}

// assign resets the tracker for a new assignment: every partition is read
// again from its committed offset, so nothing fetched before counts.
func (p *Pipeline) assign(assigned []kafka.PartitionAssignment) {
	p.tracker.mu.Lock()
	old := make([]int, 0, len(p.tracker.partitions))
	for part := range p.tracker.partitions {
		old = append(old, part)
	}
	p.tracker.mu.Unlock()
	for _, part := range old {
		p.tracker.drop(part)
	}
	keep := make(map[int]bool, len(assigned))
	for _, a := range assigned {
		p.tracker.reset(a.ID)
		keep[a.ID] = true
	}
	p.parked.keepPartitions(keep)
}

// serveGeneration reads every assigned partition and commits finished
// offsets every CommitInterval.
func (p *Pipeline) serveGeneration(ctx, genCtx context.Context, gen *kafka.Generation, assigned []kafka.PartitionAssignment) {
	readCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(genCtx, cancel)
	defer stop()

	c := &committer{p: p, gen: gen, committed: make(map[int]int64)}
	for _, a := range assigned {
		c.committed[a.ID] = a.Offset
	}
	var readers sync.WaitGroup
	for _, a := range assigned {
		readers.Go(func() { p.consumePartition(readCtx, a) })
	}
	c.loop(readCtx)
	readers.Wait()

	// Shutdown order:
	// 1. the readers have stopped, so no new records arrive;
	// 2. running jobs and queued dead letters get the grace period to finish;
	// 3. the last commit covers what they finished;
	// 4. returning ends the generation, and the caller leaves the group.
	if ctx.Err() != nil && genCtx.Err() == nil && !p.failed() {
		p.drain()
	}
	c.commit()
}

// consumePartition fetches the records of one partition and hands each to
// handle until ctx ends.
func (p *Pipeline) consumePartition(ctx context.Context, a kafka.PartitionAssignment) {
	log := p.log.With("topic", p.cfg.InputTopic, "partition", a.ID)
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:     p.cfg.Brokers,
		Topic:       p.cfg.InputTopic,
		Partition:   a.ID,
		Dialer:      p.cfg.Dialer,
		MinBytes:    1,
		MaxBytes:    10 << 20,
		MaxWait:     p.cfg.FetchMaxWait,
		ErrorLogger: kafkaLogger(log, slog.LevelDebug),
	})
	defer r.Close()
	if err := r.SetOffset(a.Offset); err != nil {
		log.Error("setting start offset failed", "offset", a.Offset, "error", err)
		return
	}
	for attempt := 1; ; attempt++ {
		if p.credits.waitOpen(ctx) != nil {
			return
		}
		m, err := r.FetchMessage(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			log.Warn("fetching records failed; retrying", "attempt", attempt, "error", err)
			if sleepCtx(ctx, retryDelay(p.cfg.RetryBackoff, attempt)) != nil {
				return
			}
			continue
		}
		attempt = 0
		if p.handle(ctx, log, m) != nil {
			return
		}
	}
}

// handle decodes one record and skips it, dead-letters it or hands its URL
// to the batcher. It returns an error only when ctx ends.
func (p *Pipeline) handle(ctx context.Context, log *slog.Logger, m kafka.Message) error {
	if !p.tracker.add(m.Partition, m.Offset) {
		return nil
	}
	dec, err := p.decoder.Decode(m.Value)
	if err != nil {
		var derr *codec.DecodeError
		if !errors.As(err, &derr) {
			derr = &codec.DecodeError{Reason: reasonInvalidRecord, Detail: err.Error()}
		}
		log.Debug("record dead-lettered", "offset", m.Offset, "reason", derr.Reason)
		p.metrics.recordsConsumed.WithLabelValues(outcomeDeadLettered).Inc()
		return p.dlq.enqueue(ctx, sink.DeadLetter{
			Key: m.Key, Value: m.Value, Headers: m.Headers,
			Reason: derr.Reason, Detail: derr.Detail,
			Topic: m.Topic, Partition: m.Partition, Offset: m.Offset,
		})
	}
	if dec.Action == codec.ActionSkip {
		log.Debug("record skipped", "offset", m.Offset, "reason", dec.SkipReason)
		p.metrics.recordsConsumed.WithLabelValues(outcomeSkipped).Inc()
		p.tracker.finish(m.Partition, m.Offset)
		p.metrics.recordsFinished.WithLabelValues(outcomeSkipped).Inc()
		return nil
	}
	p.metrics.recordsConsumed.WithLabelValues(outcomeEnrich).Inc()
	rec := inputRecord{
		source: codec.NewSource(m.Topic, m.Partition, m.Offset, m.Key, dec.RawURL),
		key:    m.Key, value: m.Value, headers: m.Headers,
	}
	return p.route(ctx, dec.URL, rec)
}

// route sends a record to whatever answers its URL without paying again: a
// job of this replica that holds the URL, a fresh earlier result, or a job
// in the job-state log that holds it. Only a URL that none of these holds
// goes into a new batch.
func (p *Pipeline) route(ctx context.Context, url string, rec inputRecord) error {
	if p.batcher.join(url, rec) {
		p.metrics.joinedJobs.Inc()
		return nil
	}
	if _, fresh := p.results.lookup(url, p.now()); fresh {
		p.parked.park(url, rec)
		p.parked.signal(url)
		return nil
	}
	if _, held := p.table.holder(url); held {
		p.metrics.joinedJobs.Inc()
		p.parked.park(url, rec)
		p.parked.signal(url)
		return nil
	}
	joined, err := p.batcher.add(ctx, url, rec)
	if joined {
		p.metrics.joinedJobs.Inc()
	}
	return err
}
