package batchapitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
// when the job ends; the caller holds s.mu. After Close it does nothing.
func (s *Server) scheduleWebhookLocked(j *job) {
	if s.closed {
		return
	}
	s.wg.Add(1)
	s.timers[j.id] = time.AfterFunc(j.duration, func() {
		defer s.wg.Done()
		s.mu.Lock()
		delete(s.timers, j.id)
		s.mu.Unlock()
		s.deliverWebhook(s.ctx, j)
	})
}

// deliverWebhook POSTs the status object of the finished job, retrying a
// failed attempt twice, until ctx ends at Close.
func (s *Server) deliverWebhook(ctx context.Context, j *job) {
	log := s.log.With("batch_id", j.id)
	body, err := json.Marshal(s.statusOf(j, j.end(), s.now(), j.baseURL))
	if err != nil {
		log.Error("encoding webhook body failed", "error", err)
		return
	}

	delay := webhookRetryDelay
	for attempt := 1; ; attempt++ {
		err := s.postWebhook(ctx, j.webhookURL, body)
		switch {
		case err == nil:
			s.mu.Lock()
			s.stats.WebhooksSent++
			s.mu.Unlock()
			log.Debug("webhook delivered", "attempt", attempt)
			return
		case ctx.Err() != nil:
			return
		case attempt == webhookAttempts:
			log.Warn("webhook delivery given up", "attempts", attempt, "error", err)
			return
		}
		log.Warn("webhook delivery failed, will retry", "attempt", attempt, "error", err)

		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		delay *= 2
	}
}

// postWebhook sends one signed delivery. Any status but 2xx is an error.
func (s *Server) postWebhook(ctx context.Context, target string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("building webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, SignWebhook(s.cfg.APIKey, s.now(), body))

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
