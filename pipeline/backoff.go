package pipeline

import (
	"context"
	"math/rand/v2"
	"time"
)

const maxRetryBackoff = time.Minute

// retryDelay returns the wait before retry number attempt (1-based):
// base doubled per attempt, capped at a minute, with full jitter in the
// upper half so that replicas retrying together spread out.
func retryDelay(base time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < maxRetryBackoff; i++ {
		d *= 2
	}
	d = min(d, maxRetryBackoff)
	return d/2 + rand.N(d/2+1)
}

// jittered returns d moved by up to a fifth either way.
func jittered(d time.Duration) time.Duration {
	spread := d / 5
	if spread <= 0 {
		return d
	}
	return d - spread + rand.N(2*spread+1)
}

// sleepCtx waits for d or until ctx ends, and returns ctx's error then.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
