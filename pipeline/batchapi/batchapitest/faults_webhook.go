package batchapitest

import (
	"time"
)

// webhookDuplicateGap is the wait between two deliveries of the same
// webhook under WebhookDuplicate.
const webhookDuplicateGap = 50 * time.Millisecond

// wrongWebhookKey signs the webhooks of the wrong-key variant of
// WebhookBadSignature.
const wrongWebhookKey = "simulated-wrong-webhook-key"

// webhookSigning is the signing method of a job's webhook deliveries.
type webhookSigning int

const (
	signWithAPIKey   webhookSigning = iota // correctly, as by default
	signNone                               // no signature header
	signWithWrongKey                       // with wrongWebhookKey
	signOtherBody                          // over the body with a newline appended
)

// webhookFaults are the webhook faults drawn for one job.
type webhookFaults struct {
	deliveries int  // deliveries of the same body; 0 means the usual one
	early      bool // the first delivery comes at half the job's duration
	signing    webhookSigning
}

// drawWebhookFaultsLocked draws the webhook faults of a job with a
// webhook_url; the caller holds s.mu.
func (s *Server) drawWebhookFaultsLocked() webhookFaults {
	f := s.cfg.Faults
	var wf webhookFaults
	if s.strikeLocked(FaultWebhookDuplicate, f.WebhookDuplicate) {
		wf.deliveries = 2 + s.faultRand.IntN(2)
	}
	wf.early = s.strikeLocked(FaultWebhookEarly, f.WebhookEarly)
	switch {
	case s.strikeLocked(FaultWebhookUnsigned, f.WebhookUnsigned):
		wf.signing = signNone
	case s.strikeLocked(FaultWebhookBadSignature, f.WebhookBadSignature):
		wf.signing = signWithWrongKey + webhookSigning(s.faultRand.IntN(2))
	}
	return wf
}

// webhookDelay is the time from submit to the first webhook delivery of j:
// the job's duration, or half of it under WebhookEarly.
func (j *job) webhookDelay() time.Duration {
	if j.webhook.early {
		return j.duration / 2
	}
	return j.duration
}

// webhookDeliveries is the number of times j's webhook is delivered.
func (j *job) webhookDeliveries() int {
	return max(1, j.webhook.deliveries)
}

// webhookSignature returns the signature header value for body as j's
// webhook faults sign it, or "" when no header is sent.
func (s *Server) webhookSignature(j *job, body []byte) string {
	now := s.now()
	switch j.webhook.signing {
	case signNone:
		return ""
	case signWithWrongKey:
		return SignWebhook(wrongWebhookKey, now, body)
	case signOtherBody:
		other := append(append(make([]byte, 0, len(body)+1), body...), '\n')
		return SignWebhook(s.cfg.APIKey, now, other)
	default:
		return SignWebhook(s.cfg.APIKey, now, body)
	}
}
