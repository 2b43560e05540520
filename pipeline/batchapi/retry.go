package batchapi

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// firstBackoff is the base wait after the first 429; it doubles with each
// further 429 of the same call, up to Config.MaxBackoff.
const firstBackoff = time.Second

// withRetry runs call until it returns anything but a 429 response, waiting
// between attempts as backoff decides. It returns an error wrapping ctx.Err()
// when ctx ends during a wait.
func (c *Client) withRetry(ctx context.Context, op string, call func(context.Context) error) error {
	for attempt := 1; ; attempt++ {
		err := call(ctx)
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusTooManyRequests {
			return err
		}

		wait := c.backoff(attempt, apiErr.RetryAfter)
		c.log.Warn("rate limited, retrying",
			"op", op, "wait_seconds", wait.Seconds(), "attempt", attempt)
		if err := c.wait(ctx, wait); err != nil {
			return fmt.Errorf("waiting %s to retry after HTTP 429: %w", wait.Round(time.Millisecond), err)
		}
	}
}

// backoff returns the wait before retrying after the attempt-th 429 in a row.
// Without a hint from the server it is full jitter: uniform in [0, exp),
// where exp starts at firstBackoff and doubles per attempt. With a hint, the
// hint is a floor that grows with exp, so a server that keeps sending "0"
// is not hammered: max(hint, exp/2) plus uniform jitter in [0, exp/2). The
// result never exceeds MaxBackoff.
func (c *Client) backoff(attempt int, hint time.Duration) time.Duration {
	exp := c.maxBackoff
	if attempt < 31 {
		exp = min(c.maxBackoff, firstBackoff<<(attempt-1))
	}
	if hint <= 0 {
		return c.jitter(exp)
	}
	return min(c.maxBackoff, max(hint, exp/2)+c.jitter(exp/2))
}

// jitter returns a uniform duration in [0, n), or 0 when n is not positive.
func (c *Client) jitter(n time.Duration) time.Duration {
	if n <= 0 {
		return 0
	}
	return c.randN(n)
}

// retryHint returns the wait a response requests through Retry-After (seconds
// or an HTTP date) or x-ratelimit-reset (seconds until a slot frees), the
// larger when both are present, capped at MaxBackoff. Negative and
// unparsable values are ignored; 0 means no usable hint.
func (c *Client) retryHint(h http.Header) time.Duration {
	var hint time.Duration
	if v := h.Get("Retry-After"); v != "" {
		d, ok := parseSeconds(v, c.maxBackoff)
		if !ok {
			d, ok = parseHTTPDate(v, c.now(), c.maxBackoff)
		}
		if ok {
			hint = d
		}
	}
	if v := h.Get("X-Ratelimit-Reset"); v != "" {
		if d, ok := parseSeconds(v, c.maxBackoff); ok {
			hint = max(hint, d)
		}
	}
	return hint
}

// parseSeconds reads a non-negative number of seconds (fractions allowed),
// capping values above limit, including ones too large for a float64.
func parseSeconds(v string, limit time.Duration) (time.Duration, bool) {
	secs, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	if math.IsNaN(secs) || secs < 0 {
		return 0, false
	}
	if secs >= limit.Seconds() {
		return limit, true
	}
	return time.Duration(secs * float64(time.Second)), true
}

// parseHTTPDate reads an HTTP date and returns the time from now until it:
// 0 for a date in the past, limit for one further ahead than limit.
func parseHTTPDate(v string, now time.Time, limit time.Duration) (time.Duration, bool) {
	t, err := http.ParseTime(strings.TrimSpace(v))
	if err != nil {
		return 0, false
	}
	return min(limit, max(0, t.Sub(now))), true
}

// sleepContext waits for d or until ctx ends, whichever comes first.
func sleepContext(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
