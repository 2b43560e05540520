package batchapi

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testKey is the API key of every test client. Tests assert that it never
// shows up in an error or a log line.
const testKey = Secret("sk-live-7f3a9c0e5b1d4c6aSECRETKEY")

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger
// and the reads of a test.
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

// waitRecorder replaces Client.wait: it records each backoff and returns at
// once, unless ctx has already ended.
type waitRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (w *waitRecorder) wait(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.waits = append(w.waits, d)
	w.mu.Unlock()
	return ctx.Err()
}

func (w *waitRecorder) recorded() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.waits...)
}

// testClient is a Client pointed at a test server, with its log output and
// its backoff waits captured.
type testClient struct {
	*Client
	logs  *syncBuffer
	waits *waitRecorder
}

// newTestClient returns a client for baseURL whose 429 waits return at once.
// Each option may change the Config before New.
func newTestClient(tb testing.TB, baseURL string, options ...func(*Config)) *testClient {
	tb.Helper()
	logs := &syncBuffer{}
	cfg := Config{
		BaseURL: baseURL,
		APIKey:  testKey,
		Logger:  slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, option := range options {
		option(&cfg)
	}
	client, err := New(cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	waits := &waitRecorder{}
	client.wait = waits.wait
	return &testClient{Client: client, logs: logs, waits: waits}
}

// newServer starts a test server on 127.0.0.1 that is closed at the end of
// the test.
func newServer(tb testing.TB, handler http.HandlerFunc) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(handler)
	tb.Cleanup(srv.Close)
	return srv
}

// requestCounter counts the requests that reach a handler.
type requestCounter struct{ n atomic.Int64 }

func (c *requestCounter) wrap(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c.n.Add(1)
		next(w, r)
	}
}

func (c *requestCounter) count() int { return int(c.n.Load()) }

// writeJSON responds with status and body as JSON.
func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// hang blocks until the client gives up on the request. It reads the body
// first: the server notices a closed connection only after that.
func hang(r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	<-r.Context().Done()
}

// waitFor fails the test unless ch delivers before a generous deadline.
func waitFor[T any](tb testing.TB, ch <-chan T, event string) T {
	tb.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		tb.Fatalf("timed out waiting for %s", event)
		var zero T
		return zero
	}
}

const jobJSON = `{"batch_id": "5f0c1d2e-8a7b-4c3d-9e1f-00aa11bb22cc", "status": "pending",
 "entity": "person", "action": "contact_enrich", "identifier_count": 2,
 "entities_requested": 2, "status_url": "/batch/5f0c1d2e-8a7b-4c3d-9e1f-00aa11bb22cc"}`
