package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contact-enricher/contact-enricher/pipeline"
)

// Pipeline metric names the demo reads.
const (
	metricRecordsFinished = "contact_enricher_pipeline_records_finished_total"
	metricJobsSubmitted   = "contact_enricher_batchapi_jobs_submitted_total"
	metricTokensInUse     = "contact_enricher_pipeline_job_tokens_in_use"
)

// demoWatcher follows the demo pipeline through its metrics and the
// embedded cluster's offsets.
type demoWatcher struct {
	brokers  []string
	reg      prometheus.Gatherer
	want     int
	progress io.Writer

	answered, skipped, deadLettered int
	committedLag                    int64
}

func (w *demoWatcher) finished(outcome string) int {
	return int(counterSum(w.reg, metricRecordsFinished, map[string]string{"outcome": outcome}))
}

func (w *demoWatcher) refresh(ctx context.Context, adm *kadm.Client) {
	w.answered = w.finished("answered")
	w.skipped = w.finished("skipped")
	w.deadLettered = w.finished("dead_lettered")
	lag, err := committedLag(ctx, adm, demoGroup, demoInputTopic)
	if err == nil {
		w.committedLag = lag
	}
}

func (w *demoWatcher) done() bool {
	return w.answered+w.skipped+w.deadLettered >= w.want && w.committedLag == 0
}

// wait polls until every record is handled and committed, the timeout
// passes, or the pipeline stops. It reports whether the input completed.
func (w *demoWatcher) wait(ctx context.Context, timeout time.Duration, runErr <-chan error) (bool, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(w.brokers...))
	if err != nil {
		return false, fmt.Errorf("creating admin client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	w.committedLag = -1

	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	poll := time.NewTicker(50 * time.Millisecond)
	defer poll.Stop()
	report := time.NewTicker(time.Second)
	defer report.Stop()
	for {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case err := <-runErr:
			return false, fmt.Errorf("pipeline stopped early: %v", err)
		case <-deadline.C:
			w.refresh(ctx, adm)
			return false, nil
		case <-report.C:
			fmt.Fprintf(w.progress, "demo: %d of %d records handled (%d answered, %d skipped, %d dead-lettered); %d jobs submitted, %d in flight\n",
				w.answered+w.skipped+w.deadLettered, w.want, w.answered, w.skipped, w.deadLettered,
				int(counterSum(w.reg, metricJobsSubmitted, nil)), int(counterSum(w.reg, metricTokensInUse, nil)))
		case <-poll.C:
			w.refresh(ctx, adm)
			if w.done() {
				return true, nil
			}
		}
	}
}

// committedLag returns how many records of topic lie past the group's
// committed offsets; a partition without a commit counts from its start.
func committedLag(ctx context.Context, adm *kadm.Client, group, topic string) (int64, error) {
	starts, ends, err := pipeline.TopicOffsets(ctx, adm, topic)
	if err != nil {
		return 0, err
	}
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return 0, err
	}
	var lag int64
	for p, end := range ends {
		from := starts[p]
		if c, ok := committed.Lookup(topic, p); ok && c.Err == nil && c.At >= 0 {
			from = c.At
		}
		lag += end - from
	}
	return lag, nil
}

// topicRecords returns how many records topic holds, from its offsets.
func topicRecords(ctx context.Context, brokers []string, topic string) (int64, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	starts, ends, err := pipeline.TopicOffsets(ctx, kadm.NewClient(cl), topic)
	if err != nil {
		return 0, err
	}
	var n int64
	for p, end := range ends {
		n += end - starts[p]
	}
	return n, nil
}
