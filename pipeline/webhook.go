package pipeline

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/contact-enricher/contact-enricher/pipeline/batchapi"
	"github.com/prometheus/client_golang/prometheus"
)

// Webhook receiver limits.
const (
	// maxWebhookBody bounds the body read from one delivery. A status
	// object is well under a kilobyte.
	maxWebhookBody = 64 << 10
	// webhookTolerance is how far a signed timestamp may lie from now.
	webhookTolerance = 5 * time.Minute
	// webhookRecent is how long after an accepted webhook polling stays
	// slowed, and webhookPollFactor how much slower it is.
	webhookRecent     = 15 * time.Minute
	webhookPollFactor = 4
)

// Outcomes of a webhook delivery, the values of the metric's outcome label.
const (
	webhookAccepted     = "accepted"      // verified (or no secret set), for a job this replica awaits
	webhookUnknownJob   = "unknown_job"   // verified, but no job of this replica awaits that batch
	webhookBadSignature = "bad_signature" // missing, malformed, wrong or too old signature
	webhookMalformed    = "malformed"     // not a POST, too large, or not a status object
)

// webhookHints turns verified webhooks into early status calls: a job that
// awaits its batch is woken and confirms through GET /batch/{id}. A
// webhook is only a hint; polling stays the fallback. It is safe for
// concurrent use.
type webhookHints struct {
	secret   batchapi.Secret // empty: signatures are not checked
	now      func() time.Time
	log      *slog.Logger
	received *prometheus.CounterVec

	mu       sync.Mutex
	waiting  map[string]chan struct{} // batch id -> wake-up of the job awaiting it
	accepted time.Time                // last accepted webhook
}

// watch returns the channel that a webhook for batchID signals, until
// unwatch.
func (h *webhookHints) watch(batchID string) <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch := make(chan struct{}, 1)
	h.waiting[batchID] = ch
	return ch
}

func (h *webhookHints) unwatch(batchID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.waiting, batchID)
}

// pollInterval is base, or webhookPollFactor times base while webhooks
// arrive.
func (h *webhookHints) pollInterval(base time.Duration) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.accepted.IsZero() && h.now().Sub(h.accepted) < webhookRecent {
		return base * webhookPollFactor
	}
	return base
}

// ServeHTTP receives one delivery and responds at once: 204 for a
// verified delivery, whether or not this replica awaits the batch; 401 for
// a bad signature; 400, 405 or 413 for a malformed request.
func (h *webhookHints) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.reject(w, r, http.StatusMethodNotAllowed, webhookMalformed, "method not allowed")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		h.reject(w, r, http.StatusRequestEntityTooLarge, webhookMalformed, "body too large")
		return
	case err != nil:
		h.reject(w, r, http.StatusBadRequest, webhookMalformed, "reading body failed: "+err.Error())
		return
	}
	if h.secret != "" {
		sig := r.Header.Get(batchapi.SignatureHeader)
		if err := batchapi.VerifyWebhook(h.secret.Reveal(), sig, body, h.now(), webhookTolerance); err != nil {
			h.reject(w, r, http.StatusUnauthorized, webhookBadSignature, "signature rejected: "+err.Error())
			return
		}
	}
	var status batchapi.Job
	if err := json.Unmarshal(body, &status); err != nil || status.BatchID == "" {
		h.reject(w, r, http.StatusBadRequest, webhookMalformed, "body is not a job status with a batch_id")
		return
	}

	outcome := h.notify(status.BatchID)
	h.received.WithLabelValues(outcome).Inc()
	h.log.Debug("webhook received", "batch_id", status.BatchID, "status", status.Status, "outcome", outcome)
	w.WriteHeader(http.StatusNoContent)
}

// notify wakes the job awaiting batchID, if any, without blocking: a
// duplicate delivery finds the wake-up already pending.
func (h *webhookHints) notify(batchID string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.accepted = h.now()
	ch, ok := h.waiting[batchID]
	if !ok {
		return webhookUnknownJob
	}
	select {
	case ch <- struct{}{}:
	default:
	}
	return webhookAccepted
}

// reject logs and counts a delivery that is not used, and responds to it
// with code and msg.
func (h *webhookHints) reject(w http.ResponseWriter, r *http.Request, code int, outcome, msg string) {
	h.log.Warn("webhook rejected", "outcome", outcome, "reason", msg, "remote_addr", r.RemoteAddr)
	h.received.WithLabelValues(outcome).Inc()
	http.Error(w, msg, code)
}
