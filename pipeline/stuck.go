package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/contact-enricher/contact-enricher/codec"
	"github.com/contact-enricher/contact-enricher/pipeline/batchapi"
)

// stuckWatch reports a job once when it has been unfinished for longer than
// the deadline, and counts it in the stuck gauge until clear.
type stuckWatch struct {
	since    time.Time
	count    *atomic.Int64
	reported bool
}

// check reports true once, the first time now is past since + after.
func (w *stuckWatch) check(now time.Time, after time.Duration) bool {
	if w.reported || now.Sub(w.since) <= after {
		return false
	}
	w.reported = true
	w.count.Add(1)
	return true
}

func (w *stuckWatch) clear() {
	if w.reported {
		w.count.Add(-1)
		w.reported = false
	}
}

// abandonStuck dead-letters the records of a stuck job, so that their
// offsets can be committed, and records it abandoned. Its URLs are not
// submitted again. The API still counts the job as active, so the record
// marks it APIActive, and every replica counts the job against the
// account's limit until awaitEnd finds that the API has ended it.
func (r *runner) abandonStuck(ctx context.Context, log *slog.Logger, j *job, st codec.JobState, status string) (codec.JobState, error) {
	detail := fmt.Sprintf("the Batch API still reported batch %s %s %s after its submission; abandoned because --abandon-stuck-jobs is set; the URLs were not submitted again",
		st.BatchID, status, r.now().Sub(st.SubmittedAt).Round(time.Second))
	r.deadLetterAll(ctx, j, codec.ReasonJobStuck, detail)
	st.Status, st.Error, st.APIActive = codec.JobAbandoned, detail, true
	if err := r.state.record(ctx, &st); err != nil {
		return st, err
	}
	log.Warn("stuck job abandoned; its records are dead-lettered, and it keeps its slot until the API ends it")
	return st, nil
}

// awaitEnd polls an abandoned job that the API still runs, renewing the
// lease, until the API reports it finished; its results are ignored. It
// then records that the job no longer holds a slot.
func (r *runner) awaitEnd(ctx context.Context, log *slog.Logger, j *job, st codec.JobState) (codec.JobState, error) {
	r.stuck.Add(1)
	defer r.stuck.Add(-1)
	lastWrite := r.now()
	for {
		if err := sleepCtx(ctx, jittered(r.cfg.PollInterval)); err != nil {
			return st, err
		}
		resp, err := r.api.Status(ctx, st.BatchID)
		if err == nil && resp.Finished() {
			log.Info("abandoned job finished at last; its results are ignored", "status", resp.Status)
			r.releaseToken(j)
			st.APIActive = false
			return st, r.state.record(ctx, &st)
		}
		if err != nil && r.classify("status", err) == batchapi.ClassCanceled {
			return st, err
		}
		if r.now().Sub(lastWrite) > r.cfg.LeaseTimeout/3 {
			if err := r.state.record(ctx, &st); err != nil {
				return st, err
			}
			lastWrite = r.now()
		}
	}
}
