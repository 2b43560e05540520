package batchapitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// Webhook retries: three attempts in all, waiting webhookRetryDelay, then
// twice that, between them.
const (
	webhookAttempts   = 3
	webhookRetryDelay = 100 * time.Millisecond
)

// scheduleWebhookLocked arms a real-clock timer that delivers j's webhook
// when the job ends, or earlier under WebhookEarly; the caller holds s.mu.
// After Close it does nothing.
func (s *Server) scheduleWebhookLocked(j *job) {
	if s.closed {
		return
	}
	s.wg.Add(1)
	s.timers[j.id] = time.AfterFunc(j.webhookDelay(), func() {
		defer s.wg.Done()
		s.mu.Lock()
		delete(s.timers, j.id)
		s.mu.Unlock()
		s.deliverWebhook(s.ctx, j)
	})
}

// deliverWebhook POSTs the status object of the finished job, as many
// times as WebhookDuplicate drew, until ctx ends at Close. Every delivery
// sends the same body.
func (s *Server) deliverWebhook(ctx context.Context, j *job) {
	log := s.log.With("batch_id", j.id)
	body, err := json.Marshal(s.statusOf(j, j.end(), s.now(), j.baseURL))
	if err != nil {
		log.Error("encoding webhook body failed", "error", err)
		return
	}

	for delivery := 1; delivery <= j.webhookDeliveries(); delivery++ {
		if delivery > 1 && !waitOrDone(ctx, webhookDuplicateGap) {
			return
		}
		if !s.deliverWithRetries(ctx, log, j, body) {
			return
		}
	}
}

// deliverWithRetries sends one delivery, retrying a failed attempt twice.
// It returns false when ctx ended first.
func (s *Server) deliverWithRetries(ctx context.Context, log *slog.Logger, j *job, body []byte) bool {
	delay := webhookRetryDelay
	for attempt := 1; ; attempt++ {
		err := s.postWebhook(ctx, j.webhookURL, body, s.webhookSignature(j, body))
		switch {
		case err == nil:
			s.mu.Lock()
			s.stats.WebhooksSent++
			s.mu.Unlock()
			log.Debug("webhook delivered", "attempt", attempt)
			return true
		case ctx.Err() != nil:
			return false
		case attempt == webhookAttempts:
			log.Warn("webhook delivery given up", "attempts", attempt, "error", err)
			return true
		}
		log.Warn("webhook delivery failed, will retry", "attempt", attempt, "error", err)

		if !waitOrDone(ctx, delay) {
			return false
		}
		delay *= 2
	}
}

// waitOrDone waits for d and returns true, or returns false as soon as ctx
// ends.
func waitOrDone(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// postWebhook sends one delivery with the signature header value
// signature, or without the header when it is "". Any status but 2xx is
// an error.
func (s *Server) postWebhook(ctx context.Context, target string, body []byte, signature string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("building webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if signature != "" {
		req.Header.Set(SignatureHeader, signature)
	}

	resp, err := s.cfg.WebhookClient.Do(req)
	if err != nil {
		// The URL can carry the receiver's token: keep it out of the error.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return fmt.Errorf("posting webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("posting webhook: receiver responded with %s", resp.Status)
	}
	return nil
}
