package batchapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

const signature = "X-Amz-Signature=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func gzipBytes(tb testing.TB, s string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := io.WriteString(zw, s); err != nil {
		tb.Fatalf("gzip: %v", err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatalf("gzip: %v", err)
	}
	return buf.Bytes()
}

func readAllAndClose(tb testing.TB, rc io.ReadCloser) ([]byte, error) {
	tb.Helper()
	defer rc.Close()
	return io.ReadAll(rc)
}

func TestDownloadSendsNoKeyOrVersion(t *testing.T) {
	payload := gzipBytes(t, `{"original_identifier": "u"}`+"\n")
	headers := make(chan http.Header, 1)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		headers <- r.Header.Clone()
		_, _ = w.Write(payload)
	})
	client := newTestClient(t, srv.URL)

	body, err := client.Download(context.Background(), srv.URL+"/results/r.jsonl.gz?"+signature)
	if err != nil {
		t.Fatalf("Download: %v", err)
	}
	got, err := readAllAndClose(t, body)
	if err != nil {
		t.Fatalf("reading: %v", err)
	}

	if !bytes.Equal(got, payload) {
		t.Errorf("body differs from the served gzip bytes")
	}
	h := <-headers
	if v := h.Get("Authorization"); v != "" {
		t.Errorf("Authorization = %q, want none on a download", v)
	}
	if v := h.Get("X-Api-Version"); v != "" {
		t.Errorf("x-api-version = %q, want none on a download", v)
	}
}

func TestDownloadRemovesContentEncodingGzip(t *testing.T) {
	const lines = `{"original_identifier": "u"}` + "\n"
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(gzipBytes(t, lines))
	})
	client := newTestClient(t, srv.URL)

	body, err := client.Download(context.Background(), srv.URL+"/r.jsonl.gz")
	if err != nil {
		t.Fatalf("Download: %v", err)
	}
	got, err := readAllAndClose(t, body)
	if err != nil {
		t.Fatalf("reading: %v", err)
	}
	if string(got) != lines {
		t.Errorf("body = %q, want the decompressed lines", got)
	}
}

func TestDownloadNotFound(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.NotFound(w, r)
	})
	client := newTestClient(t, srv.URL)

	_, err := client.Download(context.Background(), srv.URL+"/r.jsonl.gz?"+signature)

	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Op != OpDownload || apiErr.StatusCode != http.StatusNotFound {
		t.Fatalf("error = %v, want a download *APIError with status 404", err)
	}
	if got := Classify(err); got != ClassNotFound {
		t.Errorf("Classify = %s, want not_found", got)
	}
}

func TestDownloadExpiredLink(t *testing.T) {
	const xmlBody = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AccessDenied</Code><Message>Request has expired</Message><X-Amz-Expires>432000</X-Amz-Expires></Error>`
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, xmlBody)
	})
	client := newTestClient(t, srv.URL)

	_, err := client.Download(context.Background(), srv.URL+"/r.jsonl.gz?"+signature)

	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error = %v, want *APIError", err)
	}
	if apiErr.StatusCode != http.StatusForbidden || apiErr.Type != TypeLinkExpired {
		t.Errorf("APIError = %+v, want status 403 and type link_expired", apiErr)
	}
	if apiErr.Message != "AccessDenied: Request has expired" {
		t.Errorf("Message = %q, want the XML code and message", apiErr.Message)
	}
	if got := Classify(err); got != ClassLinkExpired {
		t.Errorf("Classify = %s, want link_expired", got)
	}
	if !strings.Contains(err.Error(), "/r.jsonl.gz?[redacted]") {
		t.Errorf("error = %q, want the link with its query redacted", err)
	}
}

func TestDownloadRejectsRelativeURL(t *testing.T) {
	client := newTestClient(t, "http://127.0.0.1:1")

	for _, raw := range []string{"/results/r.jsonl.gz?" + signature, "ftp://files.example/r", "", "http://%zz/?" + signature} {
		_, err := client.Download(context.Background(), raw)
		if !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("Download(%q) error = %v, want ErrInvalidRequest", raw, err)
		}
		if err != nil && strings.Contains(err.Error(), signature) {
			t.Errorf("error = %q contains the signature", err)
		}
	}
}

func TestDownloadBodyOutlivesCallTimeout(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first ")
		w.(http.Flusher).Flush()
		// Longer than CallTimeout, to show it does not bound the body read.
		select {
		case <-time.After(200 * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, "second")
	})
	client := newTestClient(t, srv.URL, func(c *Config) { c.CallTimeout = 20 * time.Millisecond })

	body, err := client.Download(context.Background(), srv.URL+"/r")
	if err != nil {
		t.Fatalf("Download: %v", err)
	}
	got, err := readAllAndClose(t, body)
	if err != nil {
		t.Fatalf("reading: %v", err)
	}
	if string(got) != "first second" {
		t.Errorf("body = %q, want %q", got, "first second")
	}
}

func TestDownloadTimeoutCoversBodyRead(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		hang(r)
	})
	client := newTestClient(t, srv.URL, func(c *Config) { c.DownloadTimeout = 50 * time.Millisecond })

	body, err := client.Download(context.Background(), srv.URL+"/r?"+signature)
	if err != nil {
		t.Fatalf("Download: %v", err)
	}
	_, err = readAllAndClose(t, body)

	if !errors.Is(err, ErrCallTimeout) {
		t.Errorf("read error = %v, want ErrCallTimeout", err)
	}
	if got := Classify(err); got != ClassRetryable {
		t.Errorf("Classify = %s, want retryable", got)
	}
	if err != nil && strings.Contains(err.Error(), signature) {
		t.Errorf("read error %q contains the signature", err)
	}
}

func TestDownloadCallerCancelDuringRead(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		hang(r)
	})
	client := newTestClient(t, srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	body, err := client.Download(ctx, srv.URL+"/r")
	if err != nil {
		t.Fatalf("Download: %v", err)
	}
	buf := make([]byte, len("partial"))
	if _, err := io.ReadFull(body, buf); err != nil {
		t.Fatalf("reading the first bytes: %v", err)
	}
	cancel()
	_, err = readAllAndClose(t, body)

	if got := Classify(err); got != ClassCanceled {
		t.Errorf("Classify(%v) = %s, want canceled", err, got)
	}
}

func TestDownloadCloseEndsRequest(t *testing.T) {
	ended := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		hang(r)
		close(ended)
	})
	client := newTestClient(t, srv.URL)

	body, err := client.Download(context.Background(), srv.URL+"/r")
	if err != nil {
		t.Fatalf("Download: %v", err)
	}
	if err := body.Close(); err != nil {
		t.Errorf("first Close: %v", err)
	}
	if err := body.Close(); err != nil {
		t.Errorf("second Close: %v, want nil", err)
	}
	waitFor(t, ended, "the server to see the request end")
}

func TestDownloadHeadersTimeout(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		hang(r)
	})
	client := newTestClient(t, srv.URL, func(c *Config) { c.CallTimeout = 50 * time.Millisecond })

	_, err := client.Download(context.Background(), srv.URL+"/r?"+signature)

	if !errors.Is(err, ErrCallTimeout) {
		t.Errorf("error = %v, want ErrCallTimeout", err)
	}
	if got := Classify(err); got != ClassRetryable {
		t.Errorf("Classify = %s, want retryable", got)
	}
	if err != nil && strings.Contains(err.Error(), signature) {
		t.Errorf("error %q contains the signature", err)
	}
}
