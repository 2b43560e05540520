package pipeline

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/contact-enricher/contact-enricher/pipeline/batchapi"
	"github.com/contact-enricher/contact-enricher/pipeline/batchapi/batchapitest"
)

func newTestHints(secret batchapi.Secret, now time.Time) *webhookHints {
	return &webhookHints{
		secret: secret, now: func() time.Time { return now }, log: slog.New(slog.DiscardHandler),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "webhooks"}, []string{"outcome"}),
		waiting:  make(map[string]chan struct{}),
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func deliver(h http.Handler, method, signature, body string) int {
	req := httptest.NewRequest(method, "/hook", strings.NewReader(body))
	if signature != "" {
		req.Header.Set(batchapi.SignatureHeader, signature)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

func TestWebhookReceiverAnswersEachDelivery(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := `{"batch_id":"b1","status":"completed"}`
	signed := batchapi.SignWebhook("key", now, []byte(body))
	tests := []struct {
		name      string
		method    string
		signature string
		body      string
		want      int
		outcome   string
	}{
		{"signed for an awaited job", http.MethodPost, signed, body, http.StatusNoContent, webhookAccepted},
		{"signed for another job", http.MethodPost, batchapi.SignWebhook("key", now, []byte(`{"batch_id":"b9"}`)), `{"batch_id":"b9"}`, http.StatusNoContent, webhookUnknownJob},
		{"unsigned", http.MethodPost, "", body, http.StatusUnauthorized, webhookBadSignature},
		{"signed with another key", http.MethodPost, batchapi.SignWebhook("other", now, []byte(body)), body, http.StatusUnauthorized, webhookBadSignature},
		{"signature of another body", http.MethodPost, signed, `{"batch_id":"b2"}`, http.StatusUnauthorized, webhookBadSignature},
		{"replayed an hour later", http.MethodPost, batchapi.SignWebhook("key", now.Add(-time.Hour), []byte(body)), body, http.StatusUnauthorized, webhookBadSignature},
		{"not a POST", http.MethodGet, signed, body, http.StatusMethodNotAllowed, webhookMalformed},
		{"body over 64 KiB", http.MethodPost, signed, strings.Repeat(" ", maxWebhookBody+1), http.StatusRequestEntityTooLarge, webhookMalformed},
		{"no batch id", http.MethodPost, batchapi.SignWebhook("key", now, []byte(`{}`)), `{}`, http.StatusBadRequest, webhookMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHints("key", now)
			wake := h.watch("b1")
			if got := deliver(h, tt.method, tt.signature, tt.body); got != tt.want {
				t.Errorf("status %d, want %d", got, tt.want)
			}
			if n := counterValue(t, h.received.WithLabelValues(tt.outcome)); n != 1 {
				t.Errorf("outcome %s counted %v times, want 1", tt.outcome, n)
			}
			woken := len(wake) == 1
			if want := tt.outcome == webhookAccepted; woken != want {
				t.Errorf("job woken: %v, want %v", woken, want)
			}
		})
	}
}

func TestWebhookReceiverCoalescesDuplicatesAndSlowsPolling(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	h := newTestHints("", now) // no secret: unsigned deliveries are hints too
	wake := h.watch("b1")
	if got := h.pollInterval(time.Second); got != time.Second {
		t.Errorf("poll interval before any webhook %s, want 1s", got)
	}
	for range 3 {
		if got := deliver(h, http.MethodPost, "", `{"batch_id":"b1"}`); got != http.StatusNoContent {
			t.Fatalf("status %d, want 204", got)
		}
	}
	if len(wake) != 1 {
		t.Errorf("%d wake-ups pending after three deliveries, want 1", len(wake))
	}
	if got := h.pollInterval(time.Second); got != webhookPollFactor*time.Second {
		t.Errorf("poll interval while webhooks arrive %s, want %s", got, webhookPollFactor*time.Second)
	}
}

// TestPipelineWebhookEndsJobBeforeThePoll runs jobs whose status is polled
// once an hour: only the simulator's webhooks can end them in time.
func TestPipelineWebhookEndsJobBeforeThePoll(t *testing.T) {
	brokers := testInput(t, testURLs...)
	sim := batchapitest.New(batchapitest.Config{JobDuration: 50 * time.Millisecond})
	t.Cleanup(sim.Close)
	apiSrv := httptest.NewServer(sim)
	t.Cleanup(apiSrv.Close)
	api, err := batchapi.New(batchapi.Config{BaseURL: apiSrv.URL, APIKey: batchapitest.DefaultAPIKey})
	if err != nil {
		t.Fatal(err)
	}
	var receiver atomic.Pointer[http.Handler]
	hookSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*receiver.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(hookSrv.Close)

	cfg := testConfig(brokers)
	cfg.PollInterval, cfg.LeaseTimeout = time.Hour, 3*time.Hour
	cfg.WebhookURL, cfg.WebhookSecret = hookSrv.URL+"/hook", batchapitest.DefaultAPIKey
	sinks := &memSinks{}
	err = runPipelineUntil(t, cfg, Deps{API: api, Contacts: sinks, DeadLetters: sinks}, eventCount(sinks),
		func(p *Pipeline) {
			h := p.WebhookHandler()
			receiver.Store(&h)
		})
	if err != nil {
		t.Fatal(err)
	}
	if n := sim.Stats().WebhooksSent; n < 1 {
		t.Errorf("simulator sent %d webhooks, want at least 1", n)
	}
}
