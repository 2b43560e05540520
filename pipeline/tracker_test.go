package pipeline

import (
	"maps"
	"testing"
)

func TestTrackerCommitsOnlyFinishedPrefix(t *testing.T) {
	tr := newOffsetTracker()
	tr.reset(0)
	for _, off := range []int64{10, 11, 12, 13} {
		tr.add(0, off)
	}
	if got := tr.committable(); len(got) != 0 {
		t.Fatalf("committable before any finish = %v, want none", got)
	}

	// Jobs finish out of order: 12 and 13 first, then 10.
	tr.finish(0, 12)
	tr.finish(0, 13)
	if got := tr.committable(); len(got) != 0 {
		t.Fatalf("committable with offset 10 unfinished = %v, want none", got)
	}
	tr.finish(0, 10)
	if got := tr.committable()[0]; got != 11 {
		t.Fatalf("committable after finishing 10 = %d, want 11", got)
	}
	tr.finish(0, 11)
	if got := tr.committable()[0]; got != 14 {
		t.Fatalf("committable after finishing all = %d, want 14", got)
	}
	if n := tr.pendingCount(); n != 0 {
		t.Fatalf("pendingCount = %d, want 0", n)
	}
}

func TestTrackerHandlesOffsetGaps(t *testing.T) {
	tr := newOffsetTracker()
	tr.reset(3)
	// A compacted topic skips offsets.
	for _, off := range []int64{5, 9, 40} {
		tr.add(3, off)
	}
	tr.finish(3, 5)
	tr.finish(3, 9)
	if got := tr.committable()[3]; got != 10 {
		t.Fatalf("committable = %d, want 10", got)
	}
	tr.finish(3, 40)
	if got := tr.committable()[3]; got != 41 {
		t.Fatalf("committable = %d, want 41", got)
	}
}

func TestTrackerPartitionsIndependent(t *testing.T) {
	tr := newOffsetTracker()
	tr.reset(0)
	tr.reset(1)
	tr.add(0, 0)
	tr.add(1, 0)
	tr.add(1, 1)
	tr.finish(1, 0)
	tr.finish(1, 1)
	want := map[int]int64{1: 2}
	if got := tr.committable(); !maps.Equal(got, want) {
		t.Fatalf("committable = %v, want %v", got, want)
	}
}

func TestTrackerIgnoresRevokedPartition(t *testing.T) {
	tr := newOffsetTracker()
	tr.reset(0)
	tr.add(0, 7)
	tr.drop(0)
	tr.finish(0, 7) // a job of the old assignment finishes late
	if tr.add(0, 8) {
		t.Fatal("add on a revoked partition returned true")
	}
	if got := tr.committable(); len(got) != 0 {
		t.Fatalf("committable after revoke = %v, want none", got)
	}
}

func TestTrackerResetForgetsOldAssignment(t *testing.T) {
	tr := newOffsetTracker()
	tr.reset(0)
	tr.add(0, 1)
	tr.finish(0, 1)
	tr.reset(0)
	if got := tr.committable(); len(got) != 0 {
		t.Fatalf("committable after reset = %v, want none", got)
	}
	if !tr.add(0, 1) {
		t.Fatal("add of a re-read offset after reset returned false")
	}
}

func TestTrackerRejectsDuplicateAdd(t *testing.T) {
	tr := newOffsetTracker()
	tr.reset(0)
	if !tr.add(0, 4) {
		t.Fatal("first add returned false")
	}
	if tr.add(0, 4) {
		t.Fatal("second add of the same offset returned true")
	}
	tr.finish(0, 4)
	if tr.add(0, 4) {
		t.Fatal("add of an offset below the committable one returned true")
	}
}
