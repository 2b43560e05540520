package pipeline

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"
)

// TestCreditGateRenewsLeaseWhileWaiting has a job wait at a closed gate
// whose next probe is far off: it must keep renewing its lease, then pass
// once a post elsewhere is accepted.
func TestCreditGateRenewsLeaseWhileWaiting(t *testing.T) {
	g := newCreditGate(time.Hour, time.Now, slog.New(slog.DiscardHandler))
	g.noCredits("402")
	var renewals atomic.Int32
	done := make(chan error, 1)
	go func() {
		done <- g.awaitTurn(context.Background(), 5*time.Millisecond, func() error { renewals.Add(1); return nil })
	}()

	deadline := time.After(10 * time.Second)
	for renewals.Load() < 3 {
		select {
		case err := <-done:
			t.Fatalf("awaitTurn returned %v while the gate was closed", err)
		case <-deadline:
			t.Fatalf("%d lease renewals after 10s, want 3", renewals.Load())
		case <-time.After(time.Millisecond):
		}
	}
	g.accepted()
	if err := <-done; err != nil {
		t.Fatalf("awaitTurn after the gate opened: %v", err)
	}
	if g.isPaused() {
		t.Error("gate still paused after an accepted post")
	}
}

// TestCreditGateOpensWithoutProbingJob has the only waiting job give
// up (its owner lost it, or the replica stops): the gate must open by
// itself, or the partition readers would wait for good.
func TestCreditGateOpensWhenNoJobIsLeftToProbe(t *testing.T) {
	g := newCreditGate(20*time.Millisecond, time.Now, slog.New(slog.DiscardHandler))
	g.noCredits("402")
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the job gives up at once
	if err := g.awaitTurn(ctx, time.Hour, func() error { return nil }); err == nil {
		t.Fatal("awaitTurn with a canceled context returned nil")
	}

	opened := make(chan error, 1)
	go func() {
		waitCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		defer stop()
		opened <- g.waitOpen(waitCtx)
	}()
	if err := <-opened; err != nil {
		t.Fatalf("the gate stayed closed with no job left to probe: %v", err)
	}
}
