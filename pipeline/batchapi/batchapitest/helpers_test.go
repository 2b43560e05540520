package batchapitest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// testStart is the fake clock's start: a time with microseconds to show.
var testStart = time.Date(2026, 12, 4, 19, 53, 54, 123456789, time.UTC)

// fakeClock is a clock that moves only through Advance. It is safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: testStart} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// sim is a Server behind an httptest server on 127.0.0.1, with a fake clock.
type sim struct {
	srv   *Server
	http  *httptest.Server
	clock *fakeClock
}

// newSim starts a simulator; cfg.Now is replaced by the fake clock.
func newSim(t testing.TB, cfg Config) *sim {
	t.Helper()
	clock := newFakeClock()
	cfg.Now = clock.Now
	srv := New(cfg)
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	return &sim{srv: srv, http: ts, clock: clock}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request to the simulator; headers maps names to values, and
// an empty value leaves the header out.
func (s *sim) do(t testing.TB, method, target string, headers map[string]string, body string) response {
	t.Helper()
	if strings.HasPrefix(target, "/") {
		target = s.http.URL + target
	}
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		t.Fatalf("building request %s %s: %v", method, target, err)
	}
	for k, v := range headers {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := s.http.Client().Do(req)
	if err != nil {
		t.Fatalf("sending %s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading answer of %s %s: %v", method, target, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

// apiHeaders are the headers of a correct API call.
func apiHeaders() map[string]string {
	return map[string]string{"Authorization": "Bearer " + DefaultAPIKey, "x-api-version": APIVersion}
}

func (s *sim) get(t testing.TB, path string) response {
	t.Helper()
	return s.do(t, http.MethodGet, path, apiHeaders(), "")
}

func (s *sim) post(t testing.TB, body string) response {
	t.Helper()
	return s.do(t, http.MethodPost, "/batch/person/contact/enrich", apiHeaders(), body)
}

// submit posts a job and returns its batch id, failing unless it gets 202.
func (s *sim) submit(t testing.TB, urls, fields []string, extra map[string]any) string {
	t.Helper()
	body := map[string]any{keyURLs: urls, keyFields: fields}
	for k, v := range extra {
		body[k] = v
	}
	resp := s.post(t, mustJSON(t, body))
	if resp.status != http.StatusAccepted {
		t.Fatalf("submit answered %d: %s", resp.status, resp.body)
	}
	var sub submitResponse
	decodeJSON(t, resp.body, &sub)
	return sub.BatchID
}

// status fetches the status object of a job, failing unless it gets 200.
func (s *sim) status(t testing.TB, id string) jobStatus {
	t.Helper()
	resp := s.get(t, "/batch/"+id)
	if resp.status != http.StatusOK {
		t.Fatalf("status of %s answered %d: %s", id, resp.status, resp.body)
	}
	var st jobStatus
	decodeJSON(t, resp.body, &st)
	return st
}

// download fetches a results file without the API key and returns its lines.
func (s *sim) download(t testing.TB, link string) []string {
	t.Helper()
	resp := s.do(t, http.MethodGet, link, nil, "")
	if resp.status != http.StatusOK {
		t.Fatalf("download of %s answered %d: %s", link, resp.status, resp.body)
	}
	return gunzipLines(t, resp.body)
}

func gunzipLines(t testing.TB, data []byte) []string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("opening gzip body: %v", err)
	}
	var lines []string
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading gzip body: %v", err)
	}
	return lines
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encoding %v: %v", v, err)
	}
	return string(data)
}

func decodeJSON(t testing.TB, data []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decoding %s: %v", data, err)
	}
}

// errorOf decodes an error body.
func errorOf(t testing.TB, resp response) errorDetail {
	t.Helper()
	var body errorBody
	decodeJSON(t, resp.body, &body)
	return body.Error
}

// profileURLs returns n distinct valid profile URLs.
func profileURLs(prefix string, n int) []string {
	urls := make([]string, n)
	for i := range urls {
		urls[i] = fmt.Sprintf("https://www.linkedin.com/in/%s-%d", prefix, i)
	}
	return urls
}

// eventually fails the test unless cond becomes true within 5 seconds.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}
