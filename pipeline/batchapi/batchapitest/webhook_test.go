package batchapitest

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// delivery is one webhook request as the receiver saw it.
type delivery struct {
	signature string
	body      []byte
}

// webhookReceiver starts a receiver on 127.0.0.1 that reports each request
// on the returned channel and responds with the next of statuses, repeating
// the last one.

func webhookReceiver(t testing.TB, statuses ...int) (string, <-chan delivery, *atomic.Int32) {
	t.Helper()
	got := make(chan delivery, 10)
	var calls atomic.Int32
	rs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(calls.Add(1))
		body, _ := io.ReadAll(r.Body)
		got <- delivery{signature: r.Header.Get(SignatureHeader), body: body}
		w.WriteHeader(statuses[min(n, len(statuses))-1])
	}))
	t.Cleanup(rs.Close)
	return rs.URL + "/hook?token=receiver-secret", got, &calls
}

func waitDelivery(t testing.TB, got <-chan delivery) delivery {
	t.Helper()
	select {
	case d := <-got:
		return d
	case <-time.After(5 * time.Second):
		t.Fatal("timed out waiting for a webhook delivery")
		return delivery{}
	}
}

func TestWebhookDeliveredSigned(t *testing.T) {
	hook, got, _ := webhookReceiver(t, http.StatusNoContent)
	s := newSim(t, Config{JobDuration: 20 * time.Millisecond})
	urls := profileURLs("hook", 12)
	id := s.submit(t, urls, []string{FieldBusinessEmail}, map[string]any{keyWebhookURL: hook, keyChunkSize: 10})

	d := waitDelivery(t, got)
	if err := VerifyWebhook(DefaultAPIKey, d.signature, d.body, s.clock.Now(), 5*time.Minute); err != nil {
		t.Errorf("VerifyWebhook() = %v, want nil", err)
	}
	var st jobStatus
	decodeJSON(t, d.body, &st)
	if st.BatchID != id || st.Status != StatusCompleted || st.ResultCount != 12 || len(st.DownloadURLs) != 2 {
		t.Errorf("webhook body: batch_id %s, status %s, result_count %d, %d parts; want %s, completed, 12, 2",
			st.BatchID, st.Status, st.ResultCount, len(st.DownloadURLs), id)
	}
	eventually(t, "WebhooksSent = 1", func() bool { return s.srv.Stats().WebhooksSent == 1 })

	// The webhook can arrive before the clock shows the job completed; once
	// it does, the links in the webhook body work.
	s.clock.Advance(20 * time.Millisecond)
	if lines := s.download(t, st.DownloadURL); len(lines) != 12 {
		t.Errorf("download from webhook link gave %d lines, want 12", len(lines))
	}
}

func TestWebhookRetriedTwice(t *testing.T) {
	tests := []struct {
		name     string
		statuses []int
		event    string // log event that ends the delivery
		sent     int
	}{
		{name: "third attempt succeeds", statuses: []int{500, 503, 200}, event: "webhook delivered", sent: 1},
		{name: "gives up after three attempts", statuses: []int{500}, event: "webhook delivery given up", sent: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hook, got, calls := webhookReceiver(t, tt.statuses...)
			var logs syncBuffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			s := newSim(t, Config{JobDuration: 10 * time.Millisecond, Logger: logger})
			s.submit(t, profileURLs("retry", 1), []string{FieldBusinessEmail}, map[string]any{keyWebhookURL: hook})
			for range 3 {
				waitDelivery(t, got)
			}
			eventually(t, "log event "+tt.event, func() bool { return strings.Contains(logs.String(), tt.event) })

			s.srv.Close()
			if n := calls.Load(); n != 3 {
				t.Errorf("receiver got %d attempts, want 3", n)
			}
			if sent := s.srv.Stats().WebhooksSent; sent != tt.sent {
				t.Errorf("WebhooksSent = %d, want %d", sent, tt.sent)
			}
			for _, secret := range []string{DefaultAPIKey, "receiver-secret"} {
				if strings.Contains(logs.String(), secret) {
					t.Errorf("log contains %q:\n%s", secret, logs.String())
				}
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use, for capturing logs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestCloseStopsPendingWebhooks(t *testing.T) {
	hook, _, calls := webhookReceiver(t, http.StatusOK)
	s := newSim(t, Config{JobDuration: time.Hour})
	s.submit(t, profileURLs("stop", 1), []string{FieldBusinessEmail}, map[string]any{keyWebhookURL: hook})

	closeWithin(t, s.srv)
	closeWithin(t, s.srv) // idempotent

	s.submit(t, profileURLs("after", 1), []string{FieldBusinessEmail}, map[string]any{keyWebhookURL: hook})
	s.srv.mu.Lock()
	timers := len(s.srv.timers)
	s.srv.mu.Unlock()
	if timers != 0 || calls.Load() != 0 {
		t.Errorf("after Close: %d timers armed, %d deliveries; want 0, 0", timers, calls.Load())
	}
}

func TestCloseAbortsDeliveryInFlight(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	rs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The server notices a dropped connection only once the body is read.
		_, _ = io.Copy(io.Discard, r.Body)
		close(arrived)
		select { // hold the delivery until the simulator gives up
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(rs.Close)
	t.Cleanup(func() { close(release) }) // runs before rs.Close

	s := newSim(t, Config{JobDuration: 10 * time.Millisecond})
	s.submit(t, profileURLs("inflight", 1), []string{FieldBusinessEmail}, map[string]any{keyWebhookURL: rs.URL})
	select {
	case <-arrived:
	case <-time.After(5 * time.Second):
		t.Fatal("timed out waiting for the delivery to arrive")
	}

	closeWithin(t, s.srv)
	if sent := s.srv.Stats().WebhooksSent; sent != 0 {
		t.Errorf("WebhooksSent = %d, want 0", sent)
	}
}

// closeWithin fails the test unless srv.Close returns within 5 seconds.
func closeWithin(t testing.TB, srv *Server) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		srv.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return within 5s")
	}
}
