package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/contact-enricher/contact-enricher/codec"
)

// stateLog writes job transitions to the job-state topic and applies the
// topic, its own records included, to the job table in log order. A
// decision that depends on log order is taken only after the record it
// depends on came back through the tail.
type stateLog struct {
	topic   string
	brokers []string
	dialer  *kafka.Dialer
	writer  *kafka.Writer
	admin   *kadm.Client
	table   *jobTable
	log     *slog.Logger
	backoff time.Duration
	now     func() time.Time

	next atomic.Int64 // offset after the last record fetched by the tail
}

// put writes st, acknowledged by all in-sync replicas, retrying until it
// succeeds or ctx ends.
func (s *stateLog) put(ctx context.Context, st codec.JobState) error {
	value, err := st.Marshal()
	if err != nil {
		return err
	}
	return s.write(ctx, kafka.Message{Key: []byte(st.JobID), Value: value})
}

// tombstone writes a null value for jobID, so that compaction removes the
// job from the topic.
func (s *stateLog) tombstone(ctx context.Context, jobID string) error {
	return s.write(ctx, kafka.Message{Key: []byte(jobID), Value: nil})
}

func (s *stateLog) write(ctx context.Context, m kafka.Message) error {
	for attempt := 1; ; attempt++ {
		err := s.writer.WriteMessages(ctx, m)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.log.Warn("writing job state failed; retrying", "topic", s.topic, "job_id", string(m.Key), "attempt", attempt, "error", err)
		if err := sleepCtx(ctx, retryDelay(s.backoff, attempt)); err != nil {
			return err
		}
	}
}

// tail applies the job-state topic to the table from its first record
// until ctx ends. Offsets may have gaps, because compaction removes
// records.
func (s *stateLog) tail(ctx context.Context) {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: s.brokers, Topic: s.topic, Partition: 0, Dialer: s.dialer,
		MinBytes: 1, MaxBytes: 10 << 20, MaxWait: 250 * time.Millisecond,
	})
	defer r.Close()
	if err := r.SetOffset(kafka.FirstOffset); err != nil {
		s.log.Error("reading job-state topic failed", "topic", s.topic, "error", err)
		return
	}
	for attempt := 1; ; attempt++ {
		m, err := r.FetchMessage(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s.log.Warn("reading job-state topic failed; retrying", "topic", s.topic, "attempt", attempt, "error", err)
			if sleepCtx(ctx, retryDelay(s.backoff, attempt)) != nil {
				return
			}
			continue
		}
		attempt = 0
		s.apply(m)
		s.next.Store(m.Offset + 1)
	}
}

func (s *stateLog) apply(m kafka.Message) {
	jobID := string(m.Key)
	if m.Value == nil {
		s.table.apply(m.Offset, jobID, nil, s.now())
		return
	}
	st, err := codec.UnmarshalJobState(m.Value)
	if err != nil {
		// A record this release cannot read: keep the job as it was, so that
		// a newer replica's work is not undone.
		s.log.Error("job-state record unreadable; ignoring it", "topic", s.topic, "offset", m.Offset, "job_id", jobID, "error", err)
		s.table.apply(m.Offset, "", nil, s.now())
		return
	}
	if !s.table.apply(m.Offset, jobID, &st, s.now()) {
		s.log.Debug("job-state record of a lost owner ignored", "job_id", jobID, "owner", st.Owner, "epoch", st.Epoch)
	}
}

// catchUp waits until the tail has applied every record that was in the
// topic when catchUp was called.
func (s *stateLog) catchUp(ctx context.Context) error {
	starts, ends, err := topicOffsetsSettled(ctx, s.admin, s.topic)
	if err != nil {
		return err
	}
	if ends[0] <= starts[0] {
		return nil // empty, or every record compacted and deleted
	}
	for s.next.Load() < ends[0] {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.table.wait():
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

// errNotOwner means another replica took the job over.
var errNotOwner = errors.New("job taken over by another replica")

// record stamps st with the time, writes it and waits until the tail
// applied it. It returns errNotOwner when the table rejected the record or
// another owner's record followed it.
func (s *stateLog) record(ctx context.Context, state *codec.JobState) error {
	state.UpdatedAt = s.now()
	st := *state
	if err := s.put(ctx, st); err != nil {
		return err
	}
	for {
		wait := s.table.wait()
		e, ok := s.table.get(st.JobID)
		switch {
		case ok && e.state.Epoch == st.Epoch && e.state.Owner == st.Owner && !e.state.UpdatedAt.Before(st.UpdatedAt):
			return nil
		case ok && (e.state.Epoch > st.Epoch || (e.state.Epoch == st.Epoch && e.state.Owner != st.Owner)):
			return errNotOwner
		case ok && e.rejectedOwner == st.Owner && e.rejectedAt.Equal(st.UpdatedAt):
			return errNotOwner // a claim that came too late
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wait:
		}
	}
}
