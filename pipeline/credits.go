package pipeline

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// creditGate pauses submissions and consumption while the account has no
// credits. A submit refused with 402 closes the gate. While it is closed,
// the jobs about to submit wait, and one of them posts again every probe
// interval: its post is the probe, because a 402 creates no job and costs
// nothing. The first post the API accepts opens the gate. The partition
// readers fetch nothing while the gate is closed, so records already read
// are kept and nothing new piles up.
type creditGate struct {
	interval time.Duration
	now      func() time.Time
	log      *slog.Logger

	mu        sync.Mutex
	paused    bool
	opened    chan struct{} // closed when the gate opens; replaced when it closes
	nextProbe time.Time
	waiting   int // jobs waiting to submit
}

func newCreditGate(interval time.Duration, now func() time.Time, log *slog.Logger) *creditGate {
	g := &creditGate{interval: interval, now: now, log: log, opened: make(chan struct{})}
	close(g.opened)
	return g
}

// isPaused reports whether the gate is closed, for a gauge.
func (g *creditGate) isPaused() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.paused
}

// noCredits closes the gate after a submit got 402. The next probe is due
// one interval later.
func (g *creditGate) noCredits(detail string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.nextProbe = g.now().Add(g.interval)
	if g.paused {
		return
	}
	g.paused = true
	g.opened = make(chan struct{})
	g.log.Error("the Batch API reports insufficient credits; submissions and consumption paused until a probe succeeds",
		"probe_interval", g.interval.String(), "api_error", detail)
}

// accepted opens the gate after the API accepted a post.
func (g *creditGate) accepted() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.openLocked("the Batch API accepted a job again; submissions and consumption resumed")
}

func (g *creditGate) openLocked(msg string) {
	if !g.paused {
		return
	}
	g.paused = false
	close(g.opened)
	g.log.Info(msg)
}

// waitOpen blocks until the gate is open or ctx ends.
func (g *creditGate) waitOpen(ctx context.Context) error {
	g.mu.Lock()
	opened := g.opened
	g.mu.Unlock()
	select {
	case <-opened:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// awaitTurn returns when a job may post: at once while the gate is open, or
// when it is this job's turn to probe. Every renewEvery it calls renew, which
// keeps the job's lease while it waits, however often other jobs probe.
func (g *creditGate) awaitTurn(ctx context.Context, renewEvery time.Duration, renew func() error) error {
	g.mu.Lock()
	g.waiting++
	g.mu.Unlock()
	defer g.leave()

	lastRenew := g.now()
	for {
		g.mu.Lock()
		opened, paused, due := g.opened, g.paused, g.nextProbe
		if paused && !g.now().Before(due) {
			g.nextProbe = g.now().Add(g.interval) // this job probes; others wait for the next turn
			paused = false
		}
		g.mu.Unlock()
		if !paused {
			return nil
		}

		wait := max(min(lastRenew.Add(renewEvery).Sub(g.now()), due.Sub(g.now())), 0)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-opened:
			timer.Stop()
			return nil
		case <-timer.C:
		}
		if g.now().Sub(lastRenew) >= renewEvery {
			if err := renew(); err != nil {
				return err
			}
			lastRenew = g.now()
		}
	}
}

// leave ends one job's wait. When no job is left to probe, nothing would
// ever open the gate, and the partition readers would wait for good. So the
// gate opens when the next probe is due, and the next submission probes.
func (g *creditGate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.waiting--
	if g.waiting > 0 || !g.paused {
		return
	}
	const msg = "no job is waiting for credits; the next submission probes the Batch API"
	if due := g.nextProbe.Sub(g.now()); due > 0 {
		time.AfterFunc(due, func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			if g.waiting == 0 {
				g.openLocked(msg)
			}
		})
		return
	}
	g.openLocked(msg)
}
