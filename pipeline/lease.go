package pipeline

import (
	"context"
	"errors"
	"time"

	"github.com/contact-enricher/contact-enricher/codec"
)

// keepLease renews the lease of the job st while a long step runs: it
// records st again every third of the lease timeout until stop is called.
// stop returns once no renewal can be written any more, so the caller may
// then record the job's next status. When another replica has taken the
// job over, the renewals end and onLost, if set, is called. Without onLost
// the step finds out at its own next record.
func (r *runner) keepLease(ctx context.Context, st codec.JobState, onLost func()) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(r.cfg.LeaseTimeout / 3)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			renewal := st
			err := r.state.record(ctx, &renewal)
			if errors.Is(err, errNotOwner) && onLost != nil {
				onLost()
			}
			if err != nil {
				return
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// sleepRenewing waits d, or until ctx ends, and records st every third of
// the lease timeout meanwhile, so that a long backoff keeps the job's lease.
func (r *runner) sleepRenewing(ctx context.Context, st *codec.JobState, d time.Duration) error {
	end := r.now().Add(d)
	for {
		left := end.Sub(r.now())
		if left <= 0 {
			return nil
		}
		step := min(left, r.cfg.LeaseTimeout/3)
		if err := sleepCtx(ctx, step); err != nil {
			return err
		}
		if step < left {
			if err := r.state.record(ctx, st); err != nil {
				return err
			}
		}
	}
}
