package batchapitest

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// collector is a webhook receiver on 127.0.0.1 that keeps every delivery
// and responds with 200.
type collector struct {
	url string
	mu  sync.Mutex
	got []delivery
}

func newCollector(t testing.TB) *collector {
	t.Helper()
	c := &collector{}
	rs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.got = append(c.got, delivery{signature: r.Header.Get(SignatureHeader), body: body})
		c.mu.Unlock()
	}))
	t.Cleanup(rs.Close)
	c.url = rs.URL + "/hook"
	return c
}

func (c *collector) deliveries() []delivery {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]delivery(nil), c.got...)
}

// webhookJobs submits n one-URL jobs with a webhook to c and returns their ids.
func webhookJobs(t *testing.T, s *sim, c *collector, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		urls := profileURLs("hook-"+string(rune('a'+i)), 1)
		ids = append(ids, s.submit(t, urls, []string{FieldBusinessEmail}, map[string]any{keyWebhookURL: c.url}))
	}
	return ids
}

// byBatch groups deliveries by the batch_id of their body.
func byBatch(t *testing.T, ds []delivery) map[string][]delivery {
	t.Helper()
	groups := map[string][]delivery{}
	for _, d := range ds {
		var st jobStatus
		decodeJSON(t, d.body, &st)
		groups[st.BatchID] = append(groups[st.BatchID], d)
	}
	return groups
}

func TestFaultWebhookDuplicate(t *testing.T) {
	c := newCollector(t)
	s := newSim(t, Config{JobDuration: 10 * time.Millisecond, MaxActiveJobs: 10, Faults: Faults{WebhookDuplicate: 1}})
	ids := webhookJobs(t, s, c, 6)

	// The number of deliveries is drawn at submit; read it from the job.
	want, total := map[string]int{}, 0
	s.srv.mu.Lock()
	for _, id := range ids {
		want[id] = s.srv.jobs[id].webhookDeliveries()
		total += want[id]
	}
	s.srv.mu.Unlock()
	eventually(t, "every delivery", func() bool { return s.srv.Stats().WebhooksSent == total })
	closeWithin(t, s.srv)

	counts := map[int]bool{}
	for id, ds := range byBatch(t, c.deliveries()) {
		if len(ds) != want[id] || len(ds) < 2 || len(ds) > 3 {
			t.Errorf("job %s: %d deliveries, want the %d drawn, two or three", id, len(ds), want[id])
		}
		counts[len(ds)] = true
		for k, d := range ds {
			if string(d.body) != string(ds[0].body) {
				t.Errorf("job %s: delivery %d body differs from the first:\n%s\n%s", id, k, d.body, ds[0].body)
			}
			if err := VerifyWebhook(DefaultAPIKey, d.signature, d.body, s.clock.Now(), time.Minute); err != nil {
				t.Errorf("job %s: delivery %d: VerifyWebhook() = %v, want nil", id, k, err)
			}
		}
	}
	if !counts[2] || !counts[3] {
		t.Errorf("delivery counts seen %v, want both 2 and 3 among %d jobs", counts, len(ids))
	}
	if got := s.srv.Stats().Faults[FaultWebhookDuplicate]; got != len(ids) {
		t.Errorf("Faults[WebhookDuplicate] = %d, want %d", got, len(ids))
	}
}

func TestFaultWebhookEarly(t *testing.T) {
	// The real clock drives both the webhook timer and the job status here.
	const duration = time.Second
	c := newCollector(t)
	srv := New(Config{JobDuration: duration, Faults: Faults{WebhookEarly: 1}})
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	s := &sim{srv: srv, http: ts}
	id := s.submit(t, profileURLs("early", 2), []string{FieldBusinessEmail}, map[string]any{keyWebhookURL: c.url})

	eventually(t, "the early delivery", func() bool { return len(c.deliveries()) == 1 })
	var hinted jobStatus
	decodeJSON(t, c.deliveries()[0].body, &hinted)
	if st := s.status(t, id); hinted.Status != StatusCompleted || st.Status == StatusCompleted {
		t.Errorf("webhook says %s while status says %s; want completed before the status shows it", hinted.Status, st.Status)
	}

	// Nothing more is scheduled for the end of the job.
	eventually(t, "WebhooksSent = 1", func() bool { return srv.Stats().WebhooksSent == 1 })
	srv.mu.Lock()
	armed := len(srv.timers)
	srv.mu.Unlock()
	if armed != 0 {
		t.Errorf("%d webhook timers armed after the early delivery, want 0", armed)
	}
	closeWithin(t, srv)
	if n := len(c.deliveries()); n != 1 {
		t.Errorf("receiver got %d deliveries, want 1", n)
	}
}

func TestFaultWebhookUnsigned(t *testing.T) {
	c := newCollector(t)
	s := newSim(t, Config{JobDuration: 10 * time.Millisecond, Faults: Faults{WebhookUnsigned: 1, WebhookBadSignature: 1}})
	webhookJobs(t, s, c, 1)
	eventually(t, "a delivery", func() bool { return len(c.deliveries()) == 1 })

	d := c.deliveries()[0]
	if d.signature != "" {
		t.Errorf("%s = %q, want no header", SignatureHeader, d.signature)
	}
	if err := VerifyWebhook(DefaultAPIKey, d.signature, d.body, s.clock.Now(), time.Minute); !errors.Is(err, ErrMalformedSignature) {
		t.Errorf("VerifyWebhook() = %v, want %v", err, ErrMalformedSignature)
	}
	// WebhookBadSignature is not drawn for a job that has no signature.
	if st := s.srv.Stats(); st.Faults[FaultWebhookUnsigned] != 1 || st.Faults[FaultWebhookBadSignature] != 0 {
		t.Errorf("Faults = %v, want one WebhookUnsigned and no WebhookBadSignature", st.Faults)
	}
}

func TestFaultWebhookBadSignature(t *testing.T) {
	c := newCollector(t)
	s := newSim(t, Config{JobDuration: 10 * time.Millisecond, MaxActiveJobs: 10, Faults: Faults{WebhookBadSignature: 1}})
	ids := webhookJobs(t, s, c, 6)
	eventually(t, "every delivery", func() bool { return len(c.deliveries()) == len(ids) })

	now := s.clock.Now()
	variants := map[string]int{}
	for _, d := range c.deliveries() {
		if err := VerifyWebhook(DefaultAPIKey, d.signature, d.body, now, time.Minute); !errors.Is(err, ErrSignatureMismatch) {
			t.Errorf("VerifyWebhook() = %v, want %v", err, ErrSignatureMismatch)
		}
		switch {
		case VerifyWebhook(wrongWebhookKey, d.signature, d.body, now, time.Minute) == nil:
			variants["wrong key"]++
		case VerifyWebhook(DefaultAPIKey, d.signature, append(d.body, '\n'), now, time.Minute) == nil:
			variants["other body"]++
		default:
			t.Errorf("signature %q matches neither variant", d.signature)
		}
	}
	if variants["wrong key"] == 0 || variants["other body"] == 0 {
		t.Errorf("variants seen %v, want both a wrong key and another body", variants)
	}
}
