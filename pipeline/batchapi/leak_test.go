package batchapi

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// echoHeaders writes every request header and the request URL into a
// string, as a careless server or proxy might in an error body.
func echoHeaders(r *http.Request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL.String())
	for k, v := range r.Header {
		fmt.Fprintf(&b, "%s: %s\n", k, strings.Join(v, ","))
	}
	return b.String()
}

// jsonQuote returns s as a JSON string; Go's %q is valid JSON for the
// ASCII text used here.
func jsonQuote(s string) string {
	return fmt.Sprintf("%q", s)
}

func TestKeyAndSignatureNeverLeak(t *testing.T) {
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		download bool          // call Download instead of Submit
		timeout  time.Duration // caller's ctx timeout, 0 for none
		closed   bool          // close the server before the call
	}{
		{name: "401 echoing the auth header in the message", handler: func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 401, `{"error": {"type": "unauthorized", "message": `+jsonQuote("bad key "+r.Header.Get("Authorization"))+`}}`)
		}},
		{name: "400 echoing the key in nested metadata", handler: func(w http.ResponseWriter, r *http.Request) {
			auth := jsonQuote(r.Header.Get("Authorization"))
			writeJSON(w, 400, `{"error": {"type": "invalid", "message": "x", "metadata": {`+auth+`: {"list": [`+auth+`]}}}}`)
		}},
		{name: "500 plain text echoing all headers", handler: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(500)
			_, _ = io.WriteString(w, echoHeaders(r))
		}},
		{name: "403 with error as a string", handler: func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 403, `{"error": `+jsonQuote(echoHeaders(r))+`}`)
		}},
		{name: "429 echoing headers until the caller gives up", timeout: 100 * time.Millisecond, handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "1")
			writeJSON(w, 429, `{"error": {"type": "rate_limited", "message": `+jsonQuote(echoHeaders(r))+`}}`)
		}},
		{name: "hanging server past the caller's deadline", timeout: 50 * time.Millisecond, handler: func(w http.ResponseWriter, r *http.Request) {
			hang(r)
		}},
		{name: "closed server", closed: true, handler: func(w http.ResponseWriter, r *http.Request) {}},
		{name: "download 403 XML echoing the request", download: true, handler: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(403)
			_, _ = fmt.Fprintf(w, "<Error><Code>AccessDenied</Code><Message>%s</Message></Error>", xmlEscape(echoHeaders(r)))
		}},
		{name: "download 500 echoing the URL", download: true, handler: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(500)
			_, _ = io.WriteString(w, "cannot serve "+r.URL.String())
		}},
		{name: "download from a closed server", download: true, closed: true, handler: func(w http.ResponseWriter, r *http.Request) {}},
		{name: "download past the caller's deadline", download: true, timeout: 50 * time.Millisecond, handler: func(w http.ResponseWriter, r *http.Request) {
			hang(r)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.handler)
			if tt.closed {
				srv.Close()
			}
			client := newTestClient(t, srv.URL)
			client.wait = sleepContext
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}

			var err error
			if tt.download {
				var body io.ReadCloser
				body, err = client.Download(ctx, srv.URL+"/r.jsonl.gz?"+signature)
				if body != nil {
					body.Close()
				}
			} else {
				_, err = client.Submit(ctx, validRequest())
			}

			if err == nil {
				t.Fatal("call succeeded, want an error")
			}
			texts := map[string]string{
				"error":      err.Error(),
				"%+v":        fmt.Sprintf("%+v", err),
				"log output": client.logs.String(),
			}
			var apiErr *APIError
			if errors.As(err, &apiErr) {
				texts["metadata"] = fmt.Sprintf("%v", apiErr.Metadata)
				texts["type"] = apiErr.Type
			}
			for source, text := range texts {
				if strings.Contains(text, testKey.Reveal()) {
					t.Errorf("%s contains the API key: %s", source, text)
				}
				if strings.Contains(text, signature) || strings.Contains(text, signatureValue()) {
					t.Errorf("%s contains the download signature: %s", source, text)
				}
			}
		})
	}
}

func signatureValue() string {
	_, value, _ := strings.Cut(signature, "=")
	return value
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
