package batchapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRetryHint(t *testing.T) {
	now := time.Date(2025, 11, 2, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		retryAfter string
		reset      string
		want       time.Duration
	}{
		{name: "no headers give no hint", want: 0},
		{name: "Retry-After in seconds", retryAfter: "7", want: 7 * time.Second},
		{name: "Retry-After as an HTTP date", retryAfter: now.Add(12 * time.Second).Format(http.TimeFormat), want: 12 * time.Second},
		{name: "Retry-After date in the past is zero", retryAfter: now.Add(-time.Hour).Format(http.TimeFormat), want: 0},
		{name: "Retry-After date far ahead is capped", retryAfter: "Fri, 31 Dec 9999 23:59:59 GMT", want: 60 * time.Second},
		{name: "x-ratelimit-reset in seconds", reset: "3", want: 3 * time.Second},
		{name: "x-ratelimit-reset with a fraction", reset: "1.5", want: 1500 * time.Millisecond},
		{name: "larger of both wins when reset is larger", retryAfter: "2", reset: "9", want: 9 * time.Second},
		{name: "larger of both wins when Retry-After is larger", retryAfter: "20", reset: "9", want: 20 * time.Second},
		{name: "huge value is capped", retryAfter: "99999999999", want: 60 * time.Second},
		{name: "value beyond float range is capped", reset: "1e999", want: 60 * time.Second},
		{name: "negative value is ignored", retryAfter: "-5", want: 0},
		{name: "negative value does not hide the other header", retryAfter: "-5", reset: "4", want: 4 * time.Second},
		{name: "non-numeric value is ignored", retryAfter: "soon", reset: "later", want: 0},
		{name: "NaN is ignored", reset: "NaN", want: 0},
	}
	client := newTestClient(t, "http://127.0.0.1:1")
	client.now = func() time.Time { return now }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.retryAfter != "" {
				h.Set("Retry-After", tt.retryAfter)
			}
			if tt.reset != "" {
				h.Set("X-Ratelimit-Reset", tt.reset)
			}
			if got := client.retryHint(h); got != tt.want {
				t.Errorf("retryHint = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		name    string
		attempt int
		hint    time.Duration
		jitter  string // "min" or "max" of the jitter range
		want    time.Duration
	}{
		{"first retry without hint may be immediate", 1, 0, "min", 0},
		{"first retry without hint stays below 1s", 1, 0, "max", time.Second - 1},
		{"third retry without hint stays below 4s", 3, 0, "max", 4*time.Second - 1},
		{"many retries without hint stay below the cap", 40, 0, "max", 10*time.Second - 1},
		{"hint is the floor", 1, 7 * time.Second, "min", 7 * time.Second},
		{"hint gets at most half the base as jitter", 1, 7 * time.Second, "max", 7*time.Second + 500*time.Millisecond - 1},
		{"tiny hint grows with attempts", 4, time.Millisecond, "min", 4 * time.Second},
		{"hint above the cap is capped", 1, time.Hour, "max", 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := newTestClient(t, "http://127.0.0.1:1", func(c *Config) { c.MaxBackoff = 10 * time.Second })
			client.randN = func(n time.Duration) time.Duration {
				if tt.jitter == "max" {
					return n - 1
				}
				return 0
			}
			if got := client.backoff(tt.attempt, tt.hint); got != tt.want {
				t.Errorf("backoff(%d, %s) = %s, want %s", tt.attempt, tt.hint, got, tt.want)
			}
		})
	}
}

// rateLimitedOnce responds 429 to the first request with headers, then calls next.
func rateLimitedOnce(headers map[string]string, next http.HandlerFunc) http.HandlerFunc {
	var seen atomic.Bool
	return func(w http.ResponseWriter, r *http.Request) {
		if seen.CompareAndSwap(false, true) {
			for k, v := range headers {
				w.Header().Set(k, v)
			}
			writeJSON(w, http.StatusTooManyRequests, `{"error": {"type": "rate_limited", "message": "5 active jobs"}}`)
			return
		}
		next(w, r)
	}
}

func TestSubmitRetries429(t *testing.T) {
	tests := []struct {
		name     string
		headers  map[string]string
		min, max time.Duration
	}{
		{"with Retry-After", map[string]string{"Retry-After": "2"}, 2 * time.Second, 2500 * time.Millisecond},
		{"with x-ratelimit-reset", map[string]string{"X-Ratelimit-Reset": "3"}, 3 * time.Second, 3500 * time.Millisecond},
		{"with both headers, the larger", map[string]string{"Retry-After": "1", "X-Ratelimit-Reset": "4"}, 4 * time.Second, 4500 * time.Millisecond},
		{"with neither header", nil, 0, time.Second},
		{"with an absurd Retry-After", map[string]string{"Retry-After": "31536000000"}, 5 * time.Second, 5 * time.Second},
		{"with a negative x-ratelimit-reset", map[string]string{"X-Ratelimit-Reset": "-30"}, 0, time.Second},
		{"with a non-numeric Retry-After", map[string]string{"Retry-After": "tomorrow"}, 0, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var requests requestCounter
			srv := newServer(t, requests.wrap(rateLimitedOnce(tt.headers, func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, http.StatusAccepted, jobJSON)
			})))
			client := newTestClient(t, srv.URL, func(c *Config) { c.MaxBackoff = 5 * time.Second })

			job, err := client.Submit(context.Background(), validRequest())
			if err != nil {
				t.Fatalf("Submit: %v", err)
			}

			if job.BatchID == "" {
				t.Error("job has no batch id")
			}
			if requests.count() != 2 {
				t.Errorf("server saw %d requests, want 2", requests.count())
			}
			waits := client.waits.recorded()
			if len(waits) != 1 {
				t.Fatalf("waits = %v, want one", waits)
			}
			if waits[0] < tt.min || waits[0] > tt.max {
				t.Errorf("wait = %s, want within [%s, %s]", waits[0], tt.min, tt.max)
			}
			logs := client.logs.String()
			if !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "op=submit") ||
				!strings.Contains(logs, "attempt=1") || !strings.Contains(logs, "wait_seconds=") {
				t.Errorf("log = %q, want a warn line with op, attempt and wait_seconds", logs)
			}
		})
	}
}

func TestStatusAndListRetry429(t *testing.T) {
	tests := []struct {
		name   string
		answer string
		call   func(*Client) error
	}{
		{"status", jobJSON, func(c *Client) error {
			_, err := c.Status(context.Background(), "id1")
			return err
		}},
		{"list", `{"jobs": [], "next_cursor": null, "has_more": false}`, func(c *Client) error {
			_, err := c.List(context.Background(), ListOptions{})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var requests requestCounter
			srv := newServer(t, requests.wrap(rateLimitedOnce(map[string]string{"Retry-After": "1"}, func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, http.StatusOK, tt.answer)
			})))
			client := newTestClient(t, srv.URL)

			if err := tt.call(client.Client); err != nil {
				t.Fatalf("call: %v", err)
			}
			if requests.count() != 2 {
				t.Errorf("server saw %d requests, want 2", requests.count())
			}
		})
	}
}

func TestRetry429UntilSuccess(t *testing.T) {
	var requests requestCounter
	srv := newServer(t, requests.wrap(func(w http.ResponseWriter, r *http.Request) {
		if requests.count() <= 6 {
			writeJSON(w, http.StatusTooManyRequests, `{"error": {"type": "rate_limited"}}`)
			return
		}
		writeJSON(w, http.StatusOK, jobJSON)
	}))
	client := newTestClient(t, srv.URL)
	client.randN = func(n time.Duration) time.Duration { return n - 1 }

	if _, err := client.Status(context.Background(), "id1"); err != nil {
		t.Fatalf("Status: %v", err)
	}

	waits := client.waits.recorded()
	if len(waits) != 6 {
		t.Fatalf("waits = %v, want 6", waits)
	}
	for i := 1; i < len(waits); i++ {
		if waits[i] <= waits[i-1] {
			t.Errorf("waits = %v, want each longer than the one before", waits)
		}
	}
}

func TestCancelDuring429Wait(t *testing.T) {
	var requests requestCounter
	srv := newServer(t, requests.wrap(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "50")
		writeJSON(w, http.StatusTooManyRequests, `{"error": {"type": "rate_limited"}}`)
	}))
	client := newTestClient(t, srv.URL)
	waiting := make(chan struct{}, 1)
	client.wait = func(ctx context.Context, d time.Duration) error {
		waiting <- struct{}{}
		return sleepContext(ctx, d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	result := make(chan error, 1)
	go func() {
		_, err := client.Submit(ctx, validRequest())
		result <- err
	}()
	waitFor(t, waiting, "the 429 wait")
	cancel()
	err := waitFor(t, result, "Submit to return after cancel")

	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
	if got := Classify(err); got != ClassCanceled {
		t.Errorf("Classify = %s, want canceled", got)
	}
	if requests.count() != 1 {
		t.Errorf("server saw %d requests, want 1", requests.count())
	}
}

func TestSleepContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	if err := sleepContext(ctx, 0); err != nil {
		t.Errorf("sleepContext(0) = %v, want nil", err)
	}
	cancel()
	if err := sleepContext(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleepContext on a canceled ctx = %v, want context.Canceled", err)
	}
}
