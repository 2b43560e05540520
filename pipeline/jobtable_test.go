package pipeline

import (
	"testing"
	"time"

	"github.com/contact-enricher/contact-enricher/codec"
)

func state(id, status, owner, batchID string, epoch int, urls ...string) *codec.JobState {
	return &codec.JobState{JobID: id, Status: status, Owner: owner, BatchID: batchID, Epoch: epoch, URLs: urls}
}

func TestJobTableEarlierIntentHoldsURL(t *testing.T) {
	tb := newJobTable()
	now := time.Now()
	tb.apply(1, "a", state("a", codec.JobIntent, "r1", "", 0, "u1", "u2"), now)
	tb.apply(2, "b", state("b", codec.JobIntent, "r2", "", 0, "u2", "u3"), now)

	if taken := tb.takenBefore("b", []string{"u2", "u3"}); len(taken) != 1 || taken["u2"] != "a" {
		t.Errorf("takenBefore(b) = %v, want u2 held by a", taken)
	}
	if taken := tb.takenBefore("a", []string{"u1", "u2"}); len(taken) != 0 {
		t.Errorf("takenBefore(a) = %v, want none: a is first in the log", taken)
	}
	if id, ok := tb.holder("u2"); !ok || id != "a" {
		t.Errorf("holder(u2) = %q, %t; want a", id, ok)
	}
}

func TestJobTableSubmittedJobHoldsURLWhateverItsPlace(t *testing.T) {
	tb := newJobTable()
	now := time.Now()
	// After compaction, a submitted job's surviving record can come after
	// an intent that was queued later.
	tb.apply(5, "b", state("b", codec.JobIntent, "r2", "", 0, "u1"), now)
	tb.apply(9, "a", state("a", codec.JobSubmitted, "r1", "batch-a", 0, "u1"), now)
	if taken := tb.takenBefore("b", []string{"u1"}); taken["u1"] != "a" {
		t.Errorf("takenBefore(b) = %v, want u1 held by the submitted job a", taken)
	}
}

func TestJobTableCountsActiveJobsAhead(t *testing.T) {
	tb := newJobTable()
	now := time.Now()
	for i, id := range []string{"a", "b", "c"} {
		tb.apply(int64(i), id, state(id, codec.JobSubmitted, "r1", "batch-"+id, 0), now)
	}
	tb.apply(3, "d", state("d", codec.JobIntent, "r1", "", 0), now)
	tb.apply(4, "e", state("e", codec.JobIntent, "r2", "", 0), now)
	tb.apply(5, "done", state("done", codec.JobEmitted, "r1", "batch-done", 0), now)

	if n := tb.activeAhead("d"); n != 3 {
		t.Errorf("activeAhead(d) = %d, want 3 submitted jobs", n)
	}
	if n := tb.activeAhead("e"); n != 4 {
		t.Errorf("activeAhead(e) = %d, want 3 submitted jobs and the earlier intent d", n)
	}
}

func TestJobTableFirstClaimWins(t *testing.T) {
	tb := newJobTable()
	now := time.Now()
	tb.apply(1, "a", state("a", codec.JobSubmitted, "r1", "b1", 0), now)

	claim := state("a", codec.JobSubmitted, "r2", "b1", 1)
	claim.Supersedes = 1
	if !tb.apply(2, "a", claim, now) {
		t.Fatal("the first claim with the next epoch was rejected")
	}
	second := state("a", codec.JobSubmitted, "r3", "b1", 1)
	second.Supersedes = 1
	if tb.apply(3, "a", second, now) {
		t.Error("a second claim of the same epoch was accepted")
	}
	if tb.apply(4, "a", state("a", codec.JobCompleted, "r1", "b1", 0), now) {
		t.Error("a record of the previous owner was accepted after the claim")
	}
	e, _ := tb.get("a")
	if e.state.Owner != "r2" || e.state.Status != codec.JobSubmitted {
		t.Errorf("job a owned by %s in %s, want r2 in submitted", e.state.Owner, e.state.Status)
	}
}

func TestJobTableTombstoneReleasesURLsAndRemembersBatch(t *testing.T) {
	tb := newJobTable()
	now := time.Now()
	tb.apply(1, "a", state("a", codec.JobEmitted, "r1", "b1", 0, "u1"), now)
	tb.apply(2, "a", nil, now)
	if _, ok := tb.holder("u1"); ok {
		t.Error("a removed job still holds its URL")
	}
	if !tb.batchIDs()["b1"] {
		t.Error("the batch id of a removed job is forgotten, so reconcile could take it for a lost post")
	}
}

func TestJobTableExpiresSilentOwners(t *testing.T) {
	tb := newJobTable()
	start := time.Now()
	tb.apply(1, "a", state("a", codec.JobSubmitted, "r1", "b1", 0), start)
	tb.apply(2, "b", state("b", codec.JobSubmitted, "r2", "b2", 0), start.Add(50*time.Second))

	got := tb.expired("r3", time.Minute, start.Add(90*time.Second))
	if len(got) != 1 || got[0] != "a" {
		t.Errorf("expired = %v, want [a]", got)
	}
	if got := tb.expired("r1", time.Minute, start.Add(90*time.Second)); len(got) != 0 {
		t.Errorf("expired for the owner itself = %v, want none", got)
	}
}

func TestJobTableSubmittingSizesOnlyEarlierUnrecordedJobs(t *testing.T) {
	tb := newJobTable()
	now := time.Now()
	tb.apply(1, "a", state("a", codec.JobSubmitting, "r1", "", 0, "u1", "u2"), now)
	tb.apply(2, "b", state("b", codec.JobSubmitted, "r1", "b2", 0, "u3", "u4", "u5"), now)
	tb.apply(3, "c", state("c", codec.JobSubmitting, "r2", "", 0, "u6", "u7"), now)
	tb.apply(4, "d", state("d", codec.JobSubmitting, "r2", "", 0, "u8"), now)

	if got := tb.submittingSizes("c"); len(got) != 1 || !got[2] {
		t.Errorf("submittingSizes(c) = %v, want {2}: only a is submitting ahead of c without a batch id", got)
	}
	if got := tb.submittingSizes("a"); len(got) != 0 {
		t.Errorf("submittingSizes(a) = %v, want none: a is first", got)
	}
}

func TestJobTableSubmittingOrderSurvivesClaim(t *testing.T) {
	tb := newJobTable()
	now := time.Now()
	tb.apply(1, "b", state("b", codec.JobSubmitting, "r1", "", 0, "u1", "u2"), now)
	tb.apply(2, "a", state("a", codec.JobSubmitting, "r2", "", 0, "u3", "u4"), now)
	// b is claimed after its owner died: b still entered submitting first.
	claim := state("b", codec.JobSubmitting, "r3", "", 1, "u1", "u2")
	claim.Supersedes = 1
	tb.apply(3, "b", claim, now)

	if got := tb.submittingSizes("b"); len(got) != 0 {
		t.Errorf("submittingSizes(b) = %v, want none: b entered submitting before a", got)
	}
	if got := tb.submittingSizes("a"); !got[2] {
		t.Errorf("submittingSizes(a) = %v, want {2}: a must not have posted at b's size", got)
	}
}

func TestJobTableRejectsClaimFromStaleView(t *testing.T) {
	tb := newJobTable()
	now := time.Now()
	tb.apply(1, "a", state("a", codec.JobIntent, "r1", "", 0, "u1"), now)
	tb.apply(2, "a", state("a", codec.JobSubmitted, "r1", "b1", 0, "u1"), now)
	// r2 saw only the intent at offset 1 and claims from there.
	stale := state("a", codec.JobIntent, "r2", "", 1, "u1")
	stale.Supersedes = 1
	if tb.apply(3, "a", stale, now) {
		t.Fatal("a claim built from a stale view was accepted and would undo the submit")
	}
	e, _ := tb.get("a")
	if e.state.BatchID != "b1" || e.state.Owner != "r1" {
		t.Errorf("job a = %s owned by %s, want batch b1 owned by r1", e.state.BatchID, e.state.Owner)
	}
	if e.rejectedOwner != "r2" {
		t.Errorf("rejected claim not remembered (owner %q), so its writer would wait for it forever", e.rejectedOwner)
	}
}

func TestJobTableCountsAbandonedJobTheAPIStillRuns(t *testing.T) {
	tb := newJobTable()
	now := time.Now()
	stuck := state("stuck", codec.JobAbandoned, "r1", "batch-stuck", 0, "u1")
	stuck.APIActive = true
	tb.apply(1, "stuck", stuck, now)
	tb.apply(2, "next", state("next", codec.JobIntent, "r2", "", 0, "u1"), now)

	if n := tb.activeAhead("next"); n != 1 {
		t.Errorf("activeAhead(next) = %d, want 1: the API still counts the abandoned job", n)
	}
	if taken := tb.takenBefore("next", []string{"u1"}); len(taken) > 0 {
		t.Errorf("takenBefore(next) = %v, want none: the abandoned job's URLs are released", taken)
	}

	ended := state("stuck", codec.JobAbandoned, "r1", "batch-stuck", 0, "u1")
	tb.apply(3, "stuck", ended, now)
	if n := tb.activeAhead("next"); n != 0 {
		t.Errorf("activeAhead(next) = %d after the API ended the job, want 0", n)
	}
}
