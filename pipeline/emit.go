package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/contact-enricher/contact-enricher/codec"
	"github.com/contact-enricher/contact-enricher/pipeline/batchapi"
)

// emitChunk is how many contact events are written per acknowledged write.
const emitChunk = 100

// errNoLinks is a completed job with results but without download links.
var errNoLinks = errors.New("completed job has results but no download link")

// emit downloads the results of the completed job, writes one contact
// event per URL of j and records the job emitted, or abandoned when its
// results cannot be read. Downloads and their retries can outlast the
// lease, so the lease is renewed meanwhile.
func (r *runner) emit(ctx context.Context, log *slog.Logger, j *job, st codec.JobState) (codec.JobState, error) {
	r.batcher.close(j)
	stop := r.keepLease(ctx, st, nil)
	st, err := r.emitResults(ctx, log, j, st)
	stop() // before the last record, which a renewal must not follow
	if err != nil {
		return st, err
	}
	return st, r.state.record(ctx, &st)
}

// emitResults does the work of emit and returns the state to record. A
// download that fails is retried with fresh links; URLs answered by an
// earlier attempt are not written again. URLs missing from the results are
// answered as not found.
func (r *runner) emitResults(ctx context.Context, log *slog.Logger, j *job, st codec.JobState) (codec.JobState, error) {
	tally := &downloadTally{answered: make(map[string]bool, len(j.urls))}
	answered := tally.answered
	for attempt := 1; ; attempt++ {
		// Each attempt requests the status first, because each status call
		// returns freshly signed links. Without a status there are no links
		// and no result count, so a failed status call fails the attempt.
		resp, err := r.api.Status(ctx, st.BatchID)
		op := "status"
		if err == nil {
			op = "download"
			err = r.download(ctx, j, resp, tally)
		}
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return st, ctx.Err()
		}
		class := r.classify(op, err)
		if class == batchapi.ClassAuth {
			r.fail(fmt.Errorf("getting status of batch %s: %w", st.BatchID, err))
			return st, err
		}
		if op == "download" && class == batchapi.ClassNotFound && resp.ResultCount == 0 {
			// A job with no results may carry a link that answers 404.
			break
		}
		if attempt >= r.cfg.MaxDownloadAttempts {
			log.Error("downloading results failed; dead-lettering the unanswered records", "attempts", attempt, "error", err)
			detail := fmt.Sprintf("results of batch %s could not be read after %d attempts: %v", st.BatchID, attempt, err)
			r.deadLetterURLs(ctx, j, unanswered(j, answered), ReasonDownloadFailed, detail)
			st.Status, st.Error = codec.JobAbandoned, detail
			return st, nil
		}
		log.Warn("downloading results failed; retrying with fresh links", "attempt", attempt, "error", err)
		if err := sleepCtx(ctx, retryDelay(r.cfg.RetryBackoff, attempt)); err != nil {
			return st, err
		}
	}

	if len(answered) == 0 && tally.foreign > 0 {
		// A lost post is found through GET /batch by its size alone. Results
		// that hold none of the job's URLs show that the batch found was
		// another job's, so the job is submitted again instead of answering
		// every profile as not found.
		log.Error("results hold none of the job's URLs: the batch found for it is another job's; submitting the job again",
			"lines_of_other_jobs", tally.foreign)
		j.maybePosted = false
		st.Status, st.Error = codec.JobIntent, fmt.Sprintf("batch %s held none of the job's URLs", st.BatchID)
		st.BatchID = ""
		return st, nil
	}
	missing := unanswered(j, answered)
	events := make([]codec.ContactEvent, 0, len(missing))
	for _, url := range missing {
		events = append(events, codec.NewContactEvent(url, nil, st.Fields, st.BatchID, r.now(), j.codecSources(url)))
	}
	if err := r.writeEvents(ctx, j, events); err != nil {
		return st, err
	}
	log.Info("job emitted", "urls", len(j.urls), "in_results", len(j.urls)-len(missing), "missing_from_results", len(missing))
	st.Status = codec.JobEmitted
	return st, nil
}

// download reads every results file of st and writes contact events for
// the URLs not yet answered, marking them answered once written.
// downloadTally is what the downloads of one job have found so far: the
// URLs answered, and the lines for URLs the job does not hold.
type downloadTally struct {
	answered map[string]bool
	foreign  int
}

func (r *runner) download(ctx context.Context, j *job, st batchapi.Job, tally *downloadTally) error {
	links := st.DownloadURLs
	if st.DownloadURL != "" {
		links = []string{st.DownloadURL}
	}
	if len(links) == 0 {
		if st.ResultCount == 0 {
			return nil
		}
		return fmt.Errorf("batch %s: %w", st.BatchID, errNoLinks)
	}
	for i, link := range links {
		if err := r.downloadFile(ctx, j, st, link, tally); err != nil {
			return fmt.Errorf("reading results file %d of %d of batch %s: %w", i+1, len(links), st.BatchID, err)
		}
	}
	return nil
}

func (r *runner) downloadFile(ctx context.Context, j *job, st batchapi.Job, link string, tally *downloadTally) error {
	answered := tally.answered
	body, err := r.api.Download(ctx, link)
	if err != nil {
		return err
	}
	defer body.Close()
	results, err := codec.NewResultsReader(body, r.cfg.Results)
	if err != nil {
		return err
	}
	defer results.Close()

	unexpected, firstUnexpected := 0, ""
	defer func() {
		tally.foreign += unexpected
		if unexpected > 0 {
			r.log.Error("results contain URLs that were not submitted; ignoring them",
				"batch_id", st.BatchID, "count", unexpected, "first", firstUnexpected)
		}
	}()
	buffered := make(map[string]bool, emitChunk)
	events := make([]codec.ContactEvent, 0, emitChunk)
	flush := func() error {
		if err := r.writeEvents(ctx, j, events); err != nil {
			return err
		}
		for url := range buffered {
			answered[url] = true
		}
		clear(buffered)
		events = events[:0]
		return nil
	}
	for {
		res, err := results.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		url, ok := matchResult(j, res.Identifier)
		if !ok {
			if unexpected == 0 {
				firstUnexpected = res.Identifier
			}
			unexpected++
			continue
		}
		if answered[url] || buffered[url] {
			continue // the same identifier twice: the first line answers
		}
		buffered[url] = true
		events = append(events, codec.NewContactEvent(url, res, r.cfg.Fields, st.BatchID, r.now(), j.codecSources(url)))
		if len(events) == emitChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// matchResult returns the URL of j that a results line answers. The API
// returns each URL exactly as submitted; a different spelling of a
// submitted URL is matched through its canonical form.
func matchResult(j *job, identifier string) (string, bool) {
	if _, ok := j.sources[identifier]; ok {
		return identifier, true
	}
	canonical, err := codec.CanonicalProfileURL(identifier)
	if err != nil {
		return "", false
	}
	_, ok := j.sources[canonical]
	return canonical, ok
}

func unanswered(j *job, answered map[string]bool) []string {
	var out []string
	for _, url := range j.urls {
		if !answered[url] {
			out = append(out, url)
		}
	}
	return out
}

// writeEvents writes events until the write is acknowledged or ctx ends,
// then marks the records they answer finished.
func (r *runner) writeEvents(ctx context.Context, j *job, events []codec.ContactEvent) error {
	if len(events) == 0 {
		return nil
	}
	for attempt := 1; ; attempt++ {
		err := r.contacts.WriteContacts(ctx, events)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.log.Warn("writing contact events failed; retrying", "job_id", j.id, "count", len(events), "attempt", attempt, "error", err)
		if err := sleepCtx(ctx, retryDelay(r.cfg.RetryBackoff, attempt)); err != nil {
			return err
		}
	}
	r.metrics.contactEvents.Add(float64(len(events)))
	for _, ev := range events {
		for _, rec := range j.sources[ev.ProfileURL] {
			r.tracker.finish(rec.source.Partition, rec.source.Offset)
			r.metrics.recordsFinished.WithLabelValues(outcomeAnswered).Inc()
		}
	}
	return nil
}
