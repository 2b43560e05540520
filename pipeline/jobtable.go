package pipeline

import (
	"sort"
	"sync"
	"time"

	"github.com/contact-enricher/contact-enricher/codec"
)

// jobEntry is the job table's record of one job: its latest accepted
// record and its place in the job-state log.
type jobEntry struct {
	state codec.JobState
	// queued is the log offset of the job's earliest record still known.
	// Among jobs without a batch id it orders the queue for API slots and
	// URL claims.
	queued int64
	// offset is the log offset of the job's latest accepted record.
	offset int64
	// submittingAt is the log offset of the record that moved the job into
	// submitting, or last changed its size there. A claim does not move it.
	submittingAt int64
	// rejectedOwner and rejectedAt identify the job's last rejected record,
	// so that its writer learns that it lost.
	rejectedOwner string
	rejectedAt    time.Time
	// seen is when this replica applied the job's latest record, by its own
	// clock, so that clock skew between replicas cannot expire a lease.
	seen time.Time
}

// live reports whether the job may still hold API capacity or URLs.
func (e *jobEntry) live() bool {
	return e.state.Status != codec.JobAbandoned
}

// active reports whether the API counts the job against the account's
// limit of active jobs, or the job is queued to be submitted.
func (e *jobEntry) active() bool {
	switch e.state.Status {
	case codec.JobIntent, codec.JobSubmitting, codec.JobSubmitted:
		return true
	case codec.JobAbandoned:
		return e.state.APIActive
	}
	return false
}

// jobTable is the state of every job, rebuilt by applying the job-state log
// in order. Every replica applies the same log, so decisions taken from it
// in log order (which job claims a URL, which job may take an API slot,
// which replica owns a job) agree across replicas. It is safe for
// concurrent use; changed is closed and replaced after every apply, so that
// waiters can select on it.
type jobTable struct {
	mu    sync.Mutex
	jobs  map[string]*jobEntry
	byURL map[string][]string // URL -> ids of the jobs whose URLs include it
	// removed holds the batch ids of jobs removed by a tombstone, with the
	// time, so that reconcile never takes a finished job for a lost post.
	removed map[string]time.Time
	changed chan struct{}
}

func newJobTable() *jobTable {
	return &jobTable{
		jobs:    make(map[string]*jobEntry),
		byURL:   make(map[string][]string),
		removed: make(map[string]time.Time),
		changed: make(chan struct{}),
	}
}

// apply applies the record at offset; a nil state is the tombstone of
// jobID. A record of an older epoch, or of the current epoch from another
// owner, lost a race for ownership and is ignored. It reports whether the
// record was accepted.
func (t *jobTable) apply(offset int64, jobID string, state *codec.JobState, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	defer t.notify()
	e := t.jobs[jobID]
	if state == nil {
		if e != nil {
			t.unindex(jobID, e.state.URLs)
			delete(t.jobs, jobID)
			t.forget(e.state.BatchID, now)
		}
		return true
	}
	if e == nil {
		t.jobs[jobID] = &jobEntry{state: *state, queued: offset, offset: offset, submittingAt: offset, seen: now}
		t.index(jobID, state.URLs)
		return true
	}
	cur := e.state
	sameTerm := state.Epoch == cur.Epoch && state.Owner == cur.Owner
	claim := state.Epoch == cur.Epoch+1
	if !sameTerm && (!claim || state.Supersedes != e.offset) {
		e.rejectedOwner, e.rejectedAt = state.Owner, state.UpdatedAt
		return false
	}
	t.unindex(jobID, cur.URLs)
	t.index(jobID, state.URLs)
	if state.Status == codec.JobSubmitting && (cur.Status != codec.JobSubmitting || len(cur.URLs) != len(state.URLs)) {
		e.submittingAt = offset
	}
	e.state = *state
	e.seen = now
	e.offset = offset
	return true
}

func (t *jobTable) index(jobID string, urls []string) {
	for _, u := range urls {
		t.byURL[u] = append(t.byURL[u], jobID)
	}
}

func (t *jobTable) unindex(jobID string, urls []string) {
	for _, u := range urls {
		ids := t.byURL[u]
		for i, id := range ids {
			if id == jobID {
				ids = append(ids[:i], ids[i+1:]...)
				break
			}
		}
		if len(ids) == 0 {
			delete(t.byURL, u)
		} else {
			t.byURL[u] = ids
		}
	}
}

func (t *jobTable) notify() {
	close(t.changed)
	t.changed = make(chan struct{})
}

// wait returns a channel closed at the next apply.
func (t *jobTable) wait() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.changed
}

// get returns a copy of the job's entry.
func (t *jobTable) get(jobID string) (jobEntry, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.jobs[jobID]
	if !ok {
		return jobEntry{}, false
	}
	return *e, true
}

// takenBefore returns the URLs of urls that another live job holds ahead of
// jobID: a job with a batch id holds its URLs whatever its place in the
// log, because they are paid for; a job without one holds them when it was
// queued earlier.
func (t *jobTable) takenBefore(jobID string, urls []string) map[string]string {
	t.mu.Lock()
	defer t.mu.Unlock()
	me := t.jobs[jobID]
	taken := make(map[string]string)
	for _, u := range urls {
		for _, id := range t.byURL[u] {
			e := t.jobs[id]
			if id != jobID && e.live() && t.ahead(e, me) {
				taken[u] = id
				break
			}
		}
	}
	return taken
}

// ahead reports whether e precedes me in the queue.
func (t *jobTable) ahead(e, me *jobEntry) bool {
	return e.state.BatchID != "" || me == nil || e.queued < me.queued
}

// activeAhead returns how many active jobs other than jobID precede it:
// jobs the API counts as active, and jobs queued earlier without a batch id.
func (t *jobTable) activeAhead(jobID string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	me := t.jobs[jobID]
	n := 0
	for id, e := range t.jobs {
		if id != jobID && e.active() && t.ahead(e, me) {
			n++
		}
	}
	return n
}

// holder returns the live job that holds url with a batch id or the
// earliest queue place, and whether there is one.
func (t *jobTable) holder(url string) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	best := ""
	var bestEntry *jobEntry
	for _, id := range t.byURL[url] {
		e := t.jobs[id]
		if !e.live() {
			continue
		}
		if bestEntry == nil || t.ahead(e, bestEntry) {
			best, bestEntry = id, e
		}
	}
	return best, bestEntry != nil
}

// expired returns the jobs whose latest record is older than lease, owned
// by another replica, in queue order.
func (t *jobTable) expired(self string, lease time.Duration, now time.Time) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var ids []string
	for id, e := range t.jobs {
		if e.state.Owner != self && now.Sub(e.seen) > lease {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return t.jobs[ids[i]].queued < t.jobs[ids[j]].queued })
	return ids
}

// owned returns the jobs that self owns, in queue order.
func (t *jobTable) owned(self string) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var ids []string
	for id, e := range t.jobs {
		if e.state.Owner == self {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return t.jobs[ids[i]].queued < t.jobs[ids[j]].queued })
	return ids
}

// snapshot returns a copy of every entry, in queue order.
func (t *jobTable) snapshot() []jobEntry {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]jobEntry, 0, len(t.jobs))
	for _, e := range t.jobs {
		out = append(out, *e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].queued < out[j].queued })
	return out
}

// removedBatchRetention is how long the batch id of a removed job is
// remembered: longer than any post can stay unrecorded.
const removedBatchRetention = 24 * time.Hour

// forget remembers the batch id of a removed job and drops the ones older
// than removedBatchRetention.
func (t *jobTable) forget(batchID string, now time.Time) {
	if batchID != "" {
		t.removed[batchID] = now
	}
	for id, at := range t.removed {
		if now.Sub(at) > removedBatchRetention {
			delete(t.removed, id)
		}
	}
}

// batchIDs returns the batch ids that jobs in the table hold or held.
func (t *jobTable) batchIDs() map[string]bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	ids := make(map[string]bool, len(t.jobs)+len(t.removed))
	for id := range t.removed {
		ids[id] = true
	}
	for _, e := range t.jobs {
		if e.state.BatchID != "" {
			ids[e.state.BatchID] = true
		}
	}
	return ids
}

// submittingSizes returns the URL counts of the jobs other than jobID that
// are submitting without a batch id and entered submitting, at their
// current size, before jobID did. GET /batch distinguishes jobs by size only,
// so a job posts only at a size that no earlier such job has, and a lost
// post is found without doubt.
func (t *jobTable) submittingSizes(jobID string) map[int]bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	me := t.jobs[jobID]
	sizes := make(map[int]bool)
	for id, e := range t.jobs {
		if id == jobID || e.state.Status != codec.JobSubmitting || e.state.BatchID != "" {
			continue
		}
		if me == nil || e.submittingAt < me.submittingAt {
			sizes[len(e.state.URLs)] = true
		}
	}
	return sizes
}
