package pipeline

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/contact-enricher/contact-enricher/codec"
)

// JobSummary is one row of the job table, for operators.
type JobSummary struct {
	JobID     string
	BatchID   string
	Status    string
	Owner     string
	Epoch     int
	Attempts  int
	URLs      int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ListJobs reads the job-state topic to its end and returns every job that
// has no tombstone yet, in queue order.
func ListJobs(ctx context.Context, adm *kadm.Client, brokers []string, dialer *kafka.Dialer, topic string) ([]JobSummary, error) {
	if dialer == nil {
		dialer = kafka.DefaultDialer
	}
	table := newJobTable()
	s := &stateLog{topic: topic, brokers: brokers, dialer: dialer, admin: adm, table: table,
		log: slog.New(slog.DiscardHandler), backoff: 200 * time.Millisecond, now: time.Now}
	tailCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { s.tail(tailCtx) })
	err := s.catchUp(ctx)
	cancel()
	wg.Wait()
	if err != nil {
		return nil, err
	}
	var out []JobSummary
	for _, e := range table.snapshot() {
		st := e.state
		out = append(out, JobSummary{
			JobID: st.JobID, BatchID: st.BatchID, Status: jobStatusText(st), Owner: st.Owner, Epoch: st.Epoch,
			Attempts: st.Attempts, URLs: len(st.URLs), CreatedAt: st.CreatedAt, UpdatedAt: st.UpdatedAt,
		})
	}
	return out, nil
}

// jobStatusText is the job's status, marking an abandoned job that still
// holds an API slot.
func jobStatusText(st codec.JobState) string {
	if st.Status == codec.JobAbandoned && st.APIActive {
		return st.Status + " (API still running it)"
	}
	return st.Status
}
