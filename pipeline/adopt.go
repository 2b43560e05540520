package pipeline

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/contact-enricher/contact-enricher/codec"
	"github.com/contact-enricher/contact-enricher/pipeline/batchapi"
)

// finished reports whether a job needs no more work, only its tombstone.
// An abandoned job that the API still runs is watched until it ends.
func finished(st codec.JobState) bool {
	return st.Status == codec.JobEmitted || st.Status == codec.JobAbandoned && !st.APIActive
}

// resumeOwn drives the unfinished jobs that the job-state log records as
// owned by this replica: the jobs of this replica before a restart with the same
// replica id.
func (p *Pipeline) resumeOwn(ctx context.Context) {
	for _, id := range p.table.owned(p.cfg.ReplicaID) {
		e, ok := p.table.get(id)
		if !ok || finished(e.state) {
			continue
		}
		p.log.Info("resuming job", "job_id", id, "status", e.state.Status, "batch_id", e.state.BatchID)
		p.startAdopted(ctx, e.state, time.Time{})
	}
}

// adoptOrphans claims, every quarter of the lease, the unfinished jobs whose
// owner wrote nothing for a whole lease, and drives them. Two replicas may
// claim the same job; the first claim in log order wins.
func (p *Pipeline) adoptOrphans(ctx, workCtx context.Context) {
	ticker := time.NewTicker(p.cfg.LeaseTimeout / 4)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		for _, id := range p.table.expired(p.cfg.ReplicaID, p.cfg.LeaseTimeout, p.now()) {
			e, ok := p.table.get(id)
			if !ok || finished(e.state) || e.state.Owner == p.cfg.ReplicaID || p.now().Sub(e.seen) <= p.cfg.LeaseTimeout {
				continue // gone, done, or written to since the expiry was read
			}
			st := e.state
			previous, lastWrite := st.Owner, st.UpdatedAt
			st.Owner, st.Epoch, st.Supersedes = p.cfg.ReplicaID, st.Epoch+1, e.offset
			if err := p.state.record(ctx, &st); err != nil {
				continue // another replica claimed it first, or ctx ended
			}
			p.log.Info("adopted job of an unresponsive replica", "job_id", id, "previous_owner", previous, "status", st.Status, "batch_id", st.BatchID)
			p.metrics.jobsAdopted.Inc()
			p.startAdopted(workCtx, st, lastWrite)
		}
	}
}

// startAdopted drives a job this replica resumed or claimed. For a claimed
// job, previousWrite is the time of the previous owner's last record: a
// post it made lies after that.
func (p *Pipeline) startAdopted(ctx context.Context, st codec.JobState, previousWrite time.Time) {
	j := adoptedJob(st)
	j.adopted = !previousWrite.IsZero()
	j.postedAfter = previousWrite
	// An abandoned job that the API still runs will write no results, so
	// records read again must not join it: they go to a new job instead.
	if st.Status != codec.JobAbandoned {
		p.batcher.adopt(j)
	}
	p.jobs.Go(func() { p.runner.drive(ctx, j, st) })
}

// removeCommitted writes a tombstone for every finished job whose input
// records are all committed, so that compaction can drop it. The owner does
// it; another replica does it once the owner's lease has expired.
func (p *Pipeline) removeCommitted(ctx context.Context) {
	ticker := time.NewTicker(max(p.cfg.CommitInterval, time.Second))
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		committed, err := p.admin.FetchOffsets(ctx, p.cfg.GroupID)
		if err != nil {
			continue // the group may not exist yet
		}
		now := p.now()
		for _, e := range p.table.snapshot() {
			mine := e.state.Owner == p.cfg.ReplicaID || now.Sub(e.seen) > p.cfg.LeaseTimeout
			if !finished(e.state) || !mine || !sourcesCommitted(e.state.Sources, committed) {
				continue
			}
			if err := p.state.tombstone(ctx, e.state.JobID); err != nil {
				return
			}
		}
	}
}

func sourcesCommitted(sources map[string][]codec.Source, committed kadm.OffsetResponses) bool {
	for _, srcs := range sources {
		for _, s := range srcs {
			c, ok := committed.Lookup(s.Topic, int32(s.Partition))
			if !ok || c.Err != nil || c.At <= s.Offset {
				return false
			}
		}
	}
	return true
}

// reconcileSkew is how far the API's clock may lag this replica's when
// reconcile compares a job's creation time with the submitting record.
const reconcileSkew = 10 * time.Second

// reconcile looks through GET /batch for a job that this job's post may
// have created: a job, not failed, with as many identifiers, created after
// the job was marked submitting, whose batch id no job in the table holds
// or held. It returns "" when there is none.
//
// The list does not return a job's URLs. Among this service's jobs a size
// identifies a post, because a job posts only at a size that no job
// submitting ahead of it has. NOTE: a job of the same size posted on the
// same account by something else in the same window can still be taken;
// the oldest unknown candidate is.
func (r *runner) reconcile(ctx context.Context, j *job, st codec.JobState) (string, error) {
	since := st.UpdatedAt
	if !j.postedAfter.IsZero() {
		since = j.postedAfter
	}
	since = since.Add(-reconcileSkew)
	known := r.table.batchIDs()
	candidate, cursor := "", ""
	for page, attempt := 0, 1; page < 20; {
		resp, err := r.api.List(ctx, batchapi.ListOptions{Limit: batchapi.MaxListLimit, Cursor: cursor})
		if err != nil {
			if r.classify("list", err) == batchapi.ClassCanceled {
				return "", err
			}
			r.log.Warn("listing jobs failed; retrying", "job_id", st.JobID, "error", err)
			if err := sleepCtx(ctx, retryDelay(r.cfg.RetryBackoff, attempt)); err != nil {
				return "", err
			}
			attempt++
			continue
		}
		older := false
		for _, j := range resp.Jobs { // newest first
			created, err := time.Parse(time.RFC3339Nano, j.CreatedAt)
			if err == nil && created.Before(since) {
				older = true
				break
			}
			if j.IdentifierCount == len(st.URLs) && j.Status != batchapi.StatusFailed && !known[j.BatchID] {
				candidate = j.BatchID
			}
		}
		if older || !resp.HasMore || resp.NextCursor == nil {
			break
		}
		cursor, page = *resp.NextCursor, page+1
	}
	return candidate, nil
}
