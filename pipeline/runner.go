package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/contact-enricher/contact-enricher/codec"
	"github.com/contact-enricher/contact-enricher/pipeline/batchapi"
	"github.com/contact-enricher/contact-enricher/sink"
)

// ReasonDownloadFailed is the dead-letter reason of records whose job
// completed but whose results could not be downloaded or read within the
// configured attempts.
const ReasonDownloadFailed = "download_failed"

// errRejected marks a job the API rejected permanently (HTTP 400).
var errRejected = errors.New("job rejected by the API")

// runner runs jobs: submit, poll until finished, download, write contact
// events. Its methods are called from one goroutine per job.
type runner struct {
	cfg      Config
	api      API
	contacts ContactSink
	dlq      *deadLetterQueue
	tracker  *offsetTracker
	batcher  *batcher
	tokens   *tokenPool
	metrics  *metrics
	log      *slog.Logger
	now      func() time.Time
	fail     func(error) // stops the service after an error no retry can cure
}

// run owns j from the moment its token is taken until every record it
// holds is answered or dead-lettered, or ctx ends.
func (r *runner) run(ctx context.Context, j *job) {
	log := r.log.With("job_id", j.id)
	holding := true
	defer func() {
		if holding {
			r.tokens.release()
		}
	}()
	for {
		j.attempts++
		st, err := r.submit(ctx, log, j)
		if errors.Is(err, errRejected) {
			r.deadLetterAll(ctx, j, codec.ReasonAPIRejected, err.Error())
			return
		}
		if err != nil {
			return
		}
		j.batchID = st.BatchID
		jobLog := log.With("batch_id", st.BatchID)
		st, err = r.await(ctx, jobLog, st)
		r.tokens.release()
		holding = false
		if err != nil {
			return
		}
		if st.Status == batchapi.StatusCompleted {
			r.emit(ctx, jobLog, j, st)
			return
		}
		if j.attempts >= r.cfg.MaxJobAttempts {
			jobLog.Error("job failed; dead-lettering its records", "attempts", j.attempts, "api_error", st.ErrorMessage)
			r.deadLetterAll(ctx, j, codec.ReasonEnrichmentFailed,
				fmt.Sprintf("the Batch API failed the job %d times; last error: %s", j.attempts, st.ErrorMessage))
			return
		}
		jobLog.Warn("job failed; resubmitting", "attempt", j.attempts, "api_error", st.ErrorMessage)
		if r.tokens.acquire(ctx) != nil {
			return
		}
		holding = true
	}
}

// submit posts j until the API accepts it. It returns errRejected for a
// permanent rejection and ctx's error when ctx ends.
func (r *runner) submit(ctx context.Context, log *slog.Logger, j *job) (batchapi.Job, error) {
	req := batchapi.SubmitRequest{URLs: j.urls, Fields: r.cfg.Fields}
	for attempt := 1; ; attempt++ {
		st, err := r.api.Submit(ctx, req)
		if err == nil {
			r.metrics.jobsSubmitted.Inc()
			r.metrics.urlsSubmitted.Add(float64(len(j.urls)))
			log.Info("job submitted", "batch_id", st.BatchID, "urls", len(j.urls), "records", r.batcher.recordCount(j), "attempt", j.attempts)
			return st, nil
		}
		class := r.classify("submit", err)
		switch {
		case class == batchapi.ClassCanceled:
			return batchapi.Job{}, err
		case class == batchapi.ClassBadRequest || errors.Is(err, batchapi.ErrInvalidRequest):
			log.Error("job rejected by the API; dead-lettering its records", "error", err)
			return batchapi.Job{}, fmt.Errorf("%w: %w", errRejected, err)
		case class == batchapi.ClassAuth || class == batchapi.ClassNoCredits:
			r.fail(fmt.Errorf("submitting job %s: %w", j.id, err))
			return batchapi.Job{}, err
		}
		// TODO: a timeout or 5xx after the request was sent may have created
		// the job; look for it through GET /batch before submitting again, so
		// that the URLs are not paid for twice.
		log.Warn("submitting job failed; retrying", "attempt", attempt, "error", err)
		if err := sleepCtx(ctx, retryDelay(r.cfg.RetryBackoff, attempt)); err != nil {
			return batchapi.Job{}, err
		}
	}
}

// await polls the job's status until the API reports it finished.
func (r *runner) await(ctx context.Context, log *slog.Logger, st batchapi.Job) (batchapi.Job, error) {
	start := r.now()
	for !st.Finished() {
		if err := sleepCtx(ctx, jittered(r.cfg.PollInterval)); err != nil {
			return st, err
		}
		next, err := r.api.Status(ctx, st.BatchID)
		if err != nil {
			switch r.classify("status", err) {
			case batchapi.ClassCanceled:
				return st, err
			case batchapi.ClassAuth, batchapi.ClassNoCredits:
				r.fail(fmt.Errorf("getting status of batch %s: %w", st.BatchID, err))
				return st, err
			}
			log.Warn("getting job status failed; retrying", "error", err)
			continue
		}
		st = next
	}
	r.metrics.jobSeconds.Observe(r.now().Sub(start).Seconds())
	r.metrics.jobsFinished.WithLabelValues(st.Status).Inc()
	log.Info("job finished", "status", st.Status, "result_count", st.ResultCount, "entities_fulfilled", st.EntitiesFulfilled)
	return st, nil
}

// classify counts a failed API call and returns its class.
func (r *runner) classify(op string, err error) batchapi.Class {
	class := batchapi.Classify(err)
	if class != batchapi.ClassCanceled {
		r.metrics.apiErrors.WithLabelValues(op, class.String()).Inc()
	}
	return class
}

// deadLetterAll closes j and dead-letters every record it holds.
func (r *runner) deadLetterAll(ctx context.Context, j *job, reason, detail string) {
	r.batcher.close(j)
	r.deadLetterURLs(ctx, j, j.urls, reason, detail)
}

func (r *runner) deadLetterURLs(ctx context.Context, j *job, urls []string, reason, detail string) {
	for _, url := range urls {
		for _, rec := range j.sources[url] {
			l := sink.DeadLetter{
				Key: rec.key, Value: rec.value, Headers: rec.headers,
				Reason: reason, Detail: detail,
				Topic: rec.source.Topic, Partition: rec.source.Partition, Offset: rec.source.Offset,
			}
			if r.dlq.enqueue(ctx, l) != nil {
				return
			}
		}
	}
}
