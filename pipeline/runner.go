package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/contact-enricher/contact-enricher/codec"
	"github.com/contact-enricher/contact-enricher/pipeline/batchapi"
	"github.com/contact-enricher/contact-enricher/sink"
)

// ReasonDownloadFailed is the dead-letter reason of records whose job
// completed but whose results could not be downloaded or read within the
// configured attempts.
const ReasonDownloadFailed = "download_failed"

// runner drives jobs through their recorded statuses: intent, submitting,
// submitted, completed or failed, emitted or abandoned. Every transition is
// written to the job-state log before the step that depends on it, so that
// a replica that takes the job over resumes it instead of paying again.
// Its methods run on one goroutine per job.
type runner struct {
	cfg      Config
	api      API
	contacts ContactSink
	dlq      *deadLetterQueue
	tracker  *offsetTracker
	batcher  *batcher
	tokens   *tokenPool
	credits  *creditGate
	hints    *webhookHints
	stuck    *atomic.Int64 // jobs past StuckJobAfter
	state    *stateLog
	table    *jobTable
	parked   *parkedRecords
	results  *resultsIndex
	metrics  *metrics
	log      *slog.Logger
	now      func() time.Time
	fail     func(error) // stops the service after an error no retry can cure
}

// run records the intent of a job sealed by this replica's batcher and
// drives it. The job holds one of this replica's tokens until the API
// reports it finished.
func (r *runner) run(ctx context.Context, j *job) {
	defer r.releaseToken(j)
	st := codec.JobState{
		JobID: j.id, Status: codec.JobIntent, Fields: r.cfg.Fields, URLs: append([]string(nil), j.urls...),
		Sources: r.batcher.sourcesOf(j), Owner: r.cfg.ReplicaID, CreatedAt: j.createdAt,
	}
	if err := r.state.record(ctx, &st); err != nil {
		return
	}
	r.drive(ctx, j, st)
}

func (r *runner) releaseToken(j *job) {
	if j.token {
		j.token = false
		r.tokens.release()
	}
}

// drive moves the job from its recorded status to emitted or abandoned,
// or returns when ctx ends or another replica takes the job over.
func (r *runner) drive(ctx context.Context, j *job, st codec.JobState) {
	log := r.log.With("job_id", j.id)
	for {
		var err error
		switch st.Status {
		case codec.JobIntent:
			st, err = r.prepare(ctx, log, j, st)
		case codec.JobSubmitting:
			st, err = r.submit(ctx, log, j, st)
		case codec.JobSubmitted:
			st, err = r.await(ctx, log.With("batch_id", st.BatchID), j, st)
		case codec.JobFailed:
			st, err = r.retryFailed(ctx, log, j, st)
		case codec.JobCompleted:
			st, err = r.emit(ctx, log.With("batch_id", st.BatchID), j, st)
		case codec.JobAbandoned:
			if !st.APIActive {
				return
			}
			st, err = r.awaitEnd(ctx, log.With("batch_id", st.BatchID), j, st)
		default:
			return // emitted, abandoned or removed: the janitor removes it once committed
		}
		if errors.Is(err, errNotOwner) {
			log.Info("job taken over by another replica; leaving it")
			r.handOver(j)
			return
		}
		if err != nil {
			return
		}
	}
}

// handOver closes j after another replica took it over, and parks the
// records this replica read for it until the new owner's results arrive.
func (r *runner) handOver(j *job) {
	r.batcher.close(j)
	for url, recs := range j.sources {
		for _, rec := range recs {
			if rec.value != nil {
				r.parked.park(url, rec)
			}
		}
	}
}

// prepare hands the URLs that jobs ahead in the log already hold, or that
// have a fresh result, to those results, then waits until fewer jobs than
// the account allows are active ahead of this one.
func (r *runner) prepare(ctx context.Context, log *slog.Logger, j *job, st codec.JobState) (codec.JobState, error) {
	drop := r.table.takenBefore(st.JobID, st.URLs)
	for _, u := range st.URLs {
		if _, fresh := r.results.lookup(u, r.now()); fresh {
			drop[u] = "result"
		}
	}
	if len(drop) > 0 {
		st = r.dropURLs(j, st, drop)
		log.Info("URLs left to earlier jobs and results", "dropped", len(drop), "remaining", len(st.URLs))
		if len(st.URLs) == 0 {
			r.releaseToken(j)
			return codec.JobState{}, r.state.tombstone(ctx, st.JobID)
		}
		if err := r.state.record(ctx, &st); err != nil {
			return st, err
		}
	}
	lastWrite := r.now()
	for r.table.activeAhead(st.JobID) >= MaxJobsInFlight {
		wait := r.table.wait()
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-wait:
		case <-time.After(r.cfg.LeaseTimeout / 3):
		}
		if r.now().Sub(lastWrite) > r.cfg.LeaseTimeout/3 {
			if err := r.state.record(ctx, &st); err != nil { // renews the lease
				return st, err
			}
			lastWrite = r.now()
		}
	}
	st.Status = codec.JobSubmitting
	if err := r.state.record(ctx, &st); err != nil {
		return st, err
	}
	return r.takeUniqueSize(ctx, log, j, st)
}

// takeUniqueSize drops URLs from the job until no job submitting ahead of
// it without a batch id has as many, and records the job again each time.
// The dropped URLs go into later jobs. A job of one URL whose size is taken
// waits until the job ahead has its batch id.
func (r *runner) takeUniqueSize(ctx context.Context, log *slog.Logger, j *job, st codec.JobState) (codec.JobState, error) {
	for {
		wait := r.table.wait()
		used := r.table.submittingSizes(st.JobID)
		if !used[len(st.URLs)] {
			return st, nil
		}
		n := len(st.URLs)
		for n > 0 && used[n] {
			n--
		}
		if n == 0 {
			select {
			case <-ctx.Done():
				return st, ctx.Err()
			case <-wait:
			}
			continue
		}
		drop := make(map[string]string, len(st.URLs)-n)
		for _, u := range st.URLs[n:] {
			drop[u] = "size"
		}
		st = r.dropURLs(j, st, drop)
		log.Info("job size taken by another job being submitted; moving URLs to later jobs", "urls", len(st.URLs), "moved", len(drop))
		if err := r.state.record(ctx, &st); err != nil {
			return st, err
		}
	}
}

// dropURLs removes urls from j and st and parks their records until the
// results of the jobs that hold them arrive.
func (r *runner) dropURLs(j *job, st codec.JobState, drop map[string]string) codec.JobState {
	recs := r.batcher.remove(j, drop)
	for u, rs := range recs {
		for _, rec := range rs {
			// A record of an adopted job carries no value: the replica that
			// owns its partition reads it again and answers it.
			if rec.value != nil {
				r.parked.park(u, rec)
			}
		}
		r.parked.signal(u)
	}
	kept := st.URLs[:0:0]
	for _, u := range st.URLs {
		if _, gone := drop[u]; !gone {
			kept = append(kept, u)
		}
	}
	st.URLs = kept
	st.Sources = r.batcher.sourcesOf(j)
	return st
}

// submit posts the job, unless a post before a crash or a lost answer may
// already have created it: then the job is looked up through GET /batch
// first.
func (r *runner) submit(ctx context.Context, log *slog.Logger, j *job, st codec.JobState) (codec.JobState, error) {
	if j.maybePosted && r.table.submittingSizes(st.JobID)[len(st.URLs)] {
		// An earlier job had this size when this one entered submitting, so
		// this one would have changed its size before posting: it never
		// posted, and looking it up could only find the other job.
		j.maybePosted = false
		var err error
		if st, err = r.takeUniqueSize(ctx, log, j, st); err != nil {
			return st, err
		}
	}
	if j.maybePosted {
		batchID, err := r.findPosted(ctx, j, st)
		if err != nil {
			return st, err
		}
		if batchID != "" {
			log.Info("job found through the list of jobs; not submitting again", "batch_id", batchID)
			return r.submitted(ctx, st, batchID)
		}
	}
	req := batchapi.SubmitRequest{URLs: st.URLs, Fields: st.Fields, WebhookURL: r.cfg.WebhookURL}
	for attempt := 1; ; attempt++ {
		if err := r.credits.awaitTurn(ctx, r.cfg.LeaseTimeout/3, func() error { return r.state.record(ctx, &st) }); err != nil {
			return st, err
		}
		// Each post is recorded first. The record fences the post: a replica
		// that lost the job to another is refused here, before it pays.
		st.Attempts++
		if err := r.state.record(ctx, &st); err != nil {
			return st, err
		}
		j.maybePosted = true
		resp, err := r.post(ctx, st, req)
		if err == nil {
			r.credits.accepted()
			r.metrics.jobsSubmitted.Inc()
			r.metrics.urlsSubmitted.Add(float64(len(st.URLs)))
			log.Info("job submitted", "batch_id", resp.BatchID, "urls", len(st.URLs), "attempt", st.Attempts)
			return r.submitted(ctx, st, resp.BatchID)
		}
		if errors.Is(err, errNotOwner) {
			return st, err // the new owner finds the post if it was sent
		}
		switch r.classify("submit", err) {
		case batchapi.ClassCanceled:
			return st, err
		case batchapi.ClassBadRequest:
			log.Error("job rejected by the API; dead-lettering its records", "error", err)
			return r.abandon(ctx, j, st, codec.ReasonAPIRejected, err.Error())
		case batchapi.ClassAuth:
			r.fail(fmt.Errorf("submitting job %s: %w", j.id, err))
			return st, err
		case batchapi.ClassNoCredits:
			// A 402 creates no job, so this post neither counts nor needs a
			// lookup; the job waits for its turn to probe.
			j.maybePosted = false
			st.Attempts--
			r.credits.noCredits(err.Error())
			continue
		}
		// The request may have reached the API before it failed, so look for
		// the job before posting it again.
		log.Warn("submitting job failed; looking it up before retrying", "attempt", attempt, "error", err)
		if err := r.sleepRenewing(ctx, &st, retryDelay(r.cfg.RetryBackoff, attempt)); err != nil {
			return st, err
		}
		batchID, err := r.reconcile(ctx, j, st)
		if err != nil {
			return st, err
		}
		if batchID != "" {
			return r.submitted(ctx, st, batchID)
		}
	}
}

// post submits req. The client may wait out 429s and slow responses for
// longer than the lease, so the lease is renewed meanwhile. When another
// replica takes the job over, the post is canceled: if it has not been
// sent yet, the job is not paid twice.
func (r *runner) post(ctx context.Context, st codec.JobState, req batchapi.SubmitRequest) (batchapi.Job, error) {
	postCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var lost atomic.Bool
	stop := r.keepLease(postCtx, st, func() {
		lost.Store(true)
		cancel()
	})
	resp, err := r.api.Submit(postCtx, req)
	stop()
	if err != nil && lost.Load() {
		return resp, errNotOwner
	}
	return resp, err
}

// submitted records that the API holds the job as batchID.
func (r *runner) submitted(ctx context.Context, st codec.JobState, batchID string) (codec.JobState, error) {
	st.BatchID, st.Status, st.SubmittedAt = batchID, codec.JobSubmitted, r.now()
	return st, r.state.record(ctx, &st)
}

// findPosted looks the job up through GET /batch. A replica that adopted
// the job and finds nothing looks again after one lease: the previous owner
// may have been slow rather than dead, with its post still under way when
// the claim was written.
func (r *runner) findPosted(ctx context.Context, j *job, st codec.JobState) (string, error) {
	batchID, err := r.reconcile(ctx, j, st)
	if err != nil || batchID != "" || !j.adopted {
		return batchID, err
	}
	if err := r.sleepRenewing(ctx, &st, r.cfg.LeaseTimeout); err != nil {
		return "", err
	}
	return r.reconcile(ctx, j, st)
}

// await polls the job until the API reports it finished, renewing the
// lease on the way, and records the outcome.
func (r *runner) await(ctx context.Context, log *slog.Logger, j *job, st codec.JobState) (codec.JobState, error) {
	start, lastWrite := r.now(), r.now()
	stuck := stuckWatch{since: st.SubmittedAt, count: r.stuck}
	if stuck.since.IsZero() {
		stuck.since = start // a record of an older version
	}
	defer stuck.clear()
	hint := r.hints.watch(st.BatchID)
	defer r.hints.unwatch(st.BatchID)
	for {
		if err := r.waitPoll(ctx, hint); err != nil {
			return st, err
		}
		resp, err := r.api.Status(ctx, st.BatchID)
		if err != nil {
			switch r.classify("status", err) {
			case batchapi.ClassCanceled:
				return st, err
			case batchapi.ClassAuth:
				r.fail(fmt.Errorf("getting status of batch %s: %w", st.BatchID, err))
				return st, err
			}
			log.Warn("getting job status failed; retrying", "error", err)
		} else if resp.Finished() {
			r.metrics.jobSeconds.Observe(r.now().Sub(start).Seconds())
			r.metrics.jobsFinished.WithLabelValues(resp.Status).Inc()
			log.Info("job finished", "status", resp.Status, "result_count", resp.ResultCount)
			r.releaseToken(j)
			st.Status, st.Error = codec.JobCompleted, ""
			if resp.Status == batchapi.StatusFailed {
				st.Status, st.Error = codec.JobFailed, resp.ErrorMessage
			}
			return st, r.state.record(ctx, &st)
		}
		if err == nil && stuck.check(r.now(), r.cfg.StuckJobAfter) {
			log.Error("job stuck: the API still reports it unfinished past the deadline; it keeps its slot",
				"status", resp.Status, "submitted_at", stuck.since, "stuck_job_after", r.cfg.StuckJobAfter.String(),
				"abandon", r.cfg.AbandonStuckJobs)
			if r.cfg.AbandonStuckJobs {
				return r.abandonStuck(ctx, log, j, st, resp.Status)
			}
		}
		if r.now().Sub(lastWrite) > r.cfg.LeaseTimeout/3 {
			if err := r.state.record(ctx, &st); err != nil {
				return st, err
			}
			lastWrite = r.now()
		}
	}
}

// waitPoll waits for the next status call: one jittered poll interval,
// slowed while webhooks arrive, or until a webhook for the job arrives.
func (r *runner) waitPoll(ctx context.Context, hint <-chan struct{}) error {
	timer := time.NewTimer(jittered(r.hints.pollInterval(r.cfg.PollInterval)))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
	case <-hint:
	}
	return nil
}

// retryFailed queues a failed job again, or abandons it after
// MaxJobAttempts.
func (r *runner) retryFailed(ctx context.Context, log *slog.Logger, j *job, st codec.JobState) (codec.JobState, error) {
	if st.Attempts >= r.cfg.MaxJobAttempts {
		log.Error("job failed; dead-lettering its records", "attempts", st.Attempts, "api_error", st.Error)
		return r.abandon(ctx, j, st, codec.ReasonEnrichmentFailed,
			fmt.Sprintf("the Batch API failed the job %d times; last error: %s", st.Attempts, st.Error))
	}
	log.Warn("job failed; submitting it again", "attempt", st.Attempts, "api_error", st.Error)
	j.maybePosted = false
	st.Status, st.BatchID = codec.JobIntent, ""
	return st, r.state.record(ctx, &st)
}

// abandon dead-letters every record of the job and records it abandoned.
func (r *runner) abandon(ctx context.Context, j *job, st codec.JobState, reason, detail string) (codec.JobState, error) {
	r.releaseToken(j)
	r.deadLetterAll(ctx, j, reason, detail)
	st.Status, st.Error = codec.JobAbandoned, detail
	return st, r.state.record(ctx, &st)
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
