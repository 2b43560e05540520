package batchapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func validRequest() SubmitRequest {
	return SubmitRequest{
		URLs:   []string{"https://www.linkedin.com/in/jane-example", "https://www.linkedin.com/in/john-example"},
		Fields: []string{FieldBusinessEmail, FieldPhoneNumbers},
	}
}

func TestSubmitSendsHeadersAndBody(t *testing.T) {
	type seen struct {
		method, path, auth, version, contentType string
		body                                     map[string]any
	}
	got := make(chan seen, 1)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		s := seen{
			method: r.Method, path: r.URL.Path, auth: r.Header.Get("Authorization"),
			version: r.Header.Get("X-Api-Version"), contentType: r.Header.Get("Content-Type"),
		}
		if err := json.NewDecoder(r.Body).Decode(&s.body); err != nil {
			t.Errorf("decoding request body: %v", err)
		}
		got <- s
		writeJSON(w, http.StatusAccepted, jobJSON)
	})
	client := newTestClient(t, srv.URL)

	req := validRequest()
	req.ChunkSize = 100
	req.WebhookURL = "https://hooks.example/batch"
	job, err := client.Submit(context.Background(), req)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}

	s := <-got
	if s.method != http.MethodPost || s.path != "/batch/person/contact/enrich" {
		t.Errorf("request = %s %s, want POST /batch/person/contact/enrich", s.method, s.path)
	}
	if want := "Bearer " + testKey.Reveal(); s.auth != want {
		t.Errorf("Authorization = %q, want the bearer key", s.auth)
	}
	if s.version != APIVersion {
		t.Errorf("x-api-version = %q, want %q", s.version, APIVersion)
	}
	if s.contentType != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", s.contentType)
	}
	wantBody := map[string]any{
		"professional_network_profile_urls": []any{req.URLs[0], req.URLs[1]},
		"fields":                            []any{FieldBusinessEmail, FieldPhoneNumbers},
		"chunk_size":                        float64(100),
		"webhook_url":                       "https://hooks.example/batch",
	}
	if !reflect.DeepEqual(s.body, wantBody) {
		t.Errorf("body = %v, want %v", s.body, wantBody)
	}
	if job.BatchID != "5f0c1d2e-8a7b-4c3d-9e1f-00aa11bb22cc" || job.Status != StatusPending || job.IdentifierCount != 2 {
		t.Errorf("job = %+v, want the pending job of the response", job)
	}
}

func TestSubmitOmitsOptionalKeys(t *testing.T) {
	got := make(chan map[string]any, 1)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		got <- body
		writeJSON(w, http.StatusAccepted, jobJSON)
	})
	client := newTestClient(t, srv.URL)

	if _, err := client.Submit(context.Background(), validRequest()); err != nil {
		t.Fatalf("Submit: %v", err)
	}
	body := <-got
	for _, key := range []string{"chunk_size", "webhook_url", "verified"} {
		if _, ok := body[key]; ok {
			t.Errorf("body has %q, want it omitted when unset", key)
		}
	}
}

func TestSubmitRejectsInvalidRequestUnsent(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*SubmitRequest)
		wantMsg string
	}{
		{"no URLs", func(r *SubmitRequest) { r.URLs = nil }, "no profile URLs"},
		{"too many URLs", func(r *SubmitRequest) { r.URLs = make([]string, 301) }, "301 profile URLs"},
		{"an empty URL", func(r *SubmitRequest) { r.URLs[1] = " " }, "profile URL 2 of 2 is empty"},
		{"no fields", func(r *SubmitRequest) { r.Fields = nil }, "no fields"},
		{"an unknown field", func(r *SubmitRequest) { r.Fields = []string{"mobile"} }, `unknown field "mobile"`},
		{"chunk size too small", func(r *SubmitRequest) { r.ChunkSize = 9 }, "chunk size 9"},
		{"chunk size too large", func(r *SubmitRequest) { r.ChunkSize = 1001 }, "chunk size 1001"},
		{"relative webhook URL", func(r *SubmitRequest) { r.WebhookURL = "/hook" }, `webhook URL "/hook"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var requests requestCounter
			srv := newServer(t, requests.wrap(func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, http.StatusAccepted, jobJSON)
			}))
			client := newTestClient(t, srv.URL)
			req := validRequest()
			tt.change(&req)

			_, err := client.Submit(context.Background(), req)

			if !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("error = %v, want ErrInvalidRequest", err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error = %q, want it to contain %q", err, tt.wantMsg)
			}
			if got := Classify(err); got != ClassBadRequest {
				t.Errorf("Classify = %s, want bad_request", got)
			}
			if requests.count() != 0 {
				t.Errorf("server saw %d requests, want 0", requests.count())
			}
		})
	}
}

func TestSubmitDoesNotRetryServerError(t *testing.T) {
	var requests requestCounter
	srv := newServer(t, requests.wrap(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusInternalServerError, `{"error": {"type": "internal", "message": "boom"}}`)
	}))
	client := newTestClient(t, srv.URL)

	_, err := client.Submit(context.Background(), validRequest())

	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusInternalServerError || apiErr.Op != OpSubmit {
		t.Fatalf("error = %v, want a submit *APIError with status 500", err)
	}
	if got := Classify(err); got != ClassRetryable {
		t.Errorf("Classify = %s, want retryable", got)
	}
	if requests.count() != 1 {
		t.Errorf("server saw %d requests, want exactly 1", requests.count())
	}
}

func TestSubmitResponseWithoutBatchID(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusAccepted, `{"status": "pending"}`)
	})
	client := newTestClient(t, srv.URL)

	_, err := client.Submit(context.Background(), validRequest())

	if !errors.Is(err, ErrMalformedResponse) {
		t.Errorf("error = %v, want ErrMalformedResponse", err)
	}
}

func TestStatusDecodesCompletedJob(t *testing.T) {
	const answer = `{"batch_id": "b/1 x", "status": "completed", "identifier_count": 3,
		"entities_requested": 3, "entities_fulfilled": 2, "result_count": 3,
		"created_at": "2025-11-02T10:00:00.123456+00:00", "completed_at": "2025-11-02T10:02:30.000001+00:00",
		"download_url": "https://files.example/r.jsonl.gz?sig=abc",
		"download_urls": ["https://files.example/p0.jsonl.gz?sig=a", "https://files.example/p1.jsonl.gz?sig=b"],
		"unknown_key": true}`
	gotPath := make(chan string, 1)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		gotPath <- r.URL.EscapedPath()
		if r.Header.Get("X-Api-Version") != APIVersion || r.Header.Get("Authorization") == "" {
			t.Errorf("status request lacks the key or the version header")
		}
		writeJSON(w, http.StatusOK, answer)
	})
	client := newTestClient(t, srv.URL)

	job, err := client.Status(context.Background(), "b/1 x")
	if err != nil {
		t.Fatalf("Status: %v", err)
	}

	if path := <-gotPath; path != "/batch/b%2F1%20x" {
		t.Errorf("path = %q, want the id escaped as one segment", path)
	}
	want := Job{
		BatchID: "b/1 x", Status: StatusCompleted, IdentifierCount: 3, EntitiesRequested: 3,
		EntitiesFulfilled: 2, ResultCount: 3,
		CreatedAt: "2025-11-02T10:00:00.123456+00:00", CompletedAt: "2025-11-02T10:02:30.000001+00:00",
		DownloadURL:  "https://files.example/r.jsonl.gz?sig=abc",
		DownloadURLs: []string{"https://files.example/p0.jsonl.gz?sig=a", "https://files.example/p1.jsonl.gz?sig=b"},
	}
	if !reflect.DeepEqual(job, want) {
		t.Errorf("job = %+v\nwant  %+v", job, want)
	}
	if !job.Finished() {
		t.Error("Finished() = false for a completed job")
	}
}

func TestStatusNotFound(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, `{"error": {"type": "not_found", "message": "batch not found", "metadata": {"batch_id": "x"}}}`)
	})
	client := newTestClient(t, srv.URL)

	_, err := client.Status(context.Background(), "x")

	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error = %v, want *APIError", err)
	}
	want := &APIError{Op: OpStatus, StatusCode: 404, Type: "not_found", Message: "batch not found", Metadata: map[string]any{"batch_id": "x"}}
	if !reflect.DeepEqual(apiErr, want) {
		t.Errorf("APIError = %+v, want %+v", apiErr, want)
	}
	if got := Classify(err); got != ClassNotFound {
		t.Errorf("Classify = %s, want not_found", got)
	}
	const wantText = "getting status of batch x: status call returned HTTP 404 (not_found): batch not found"
	if err.Error() != wantText {
		t.Errorf("error = %q, want %q", err, wantText)
	}
}

func TestStatusRejectsEmptyID(t *testing.T) {
	client := newTestClient(t, "http://127.0.0.1:1")

	_, err := client.Status(context.Background(), "")

	if !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("error = %v, want ErrInvalidRequest", err)
	}
}

func TestListBuildsQueryAndDecodesPage(t *testing.T) {
	tests := []struct {
		name      string
		opts      ListOptions
		answer    string
		wantQuery string
		wantNext  string // "" for a nil cursor
	}{
		{
			name:      "first page with defaults",
			answer:    `{"jobs": [{"batch_id": "a", "status": "pending"}], "next_cursor": null, "has_more": false}`,
			wantQuery: "",
		},
		{
			name:      "filtered page after a cursor",
			opts:      ListOptions{Limit: 50, Status: StatusProcessing, Cursor: "a b&c"},
			answer:    `{"jobs": [{"batch_id": "a", "status": "processing"}], "next_cursor": "next-1", "has_more": true}`,
			wantQuery: "cursor=a+b%26c&limit=50&status=processing",
			wantNext:  "next-1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotQuery := make(chan string, 1)
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/batch" {
					t.Errorf("path = %q, want /batch", r.URL.Path)
				}
				gotQuery <- r.URL.RawQuery
				writeJSON(w, http.StatusOK, tt.answer)
			})
			client := newTestClient(t, srv.URL)

			page, err := client.List(context.Background(), tt.opts)
			if err != nil {
				t.Fatalf("List: %v", err)
			}

			if q := <-gotQuery; q != tt.wantQuery {
				t.Errorf("query = %q, want %q", q, tt.wantQuery)
			}
			if len(page.Jobs) != 1 || page.Jobs[0].BatchID != "a" {
				t.Errorf("jobs = %+v, want the one job of the response", page.Jobs)
			}
			if page.HasMore != (tt.wantNext != "") {
				t.Errorf("HasMore = %v", page.HasMore)
			}
			switch {
			case tt.wantNext == "" && page.NextCursor != nil:
				t.Errorf("NextCursor = %q, want nil", *page.NextCursor)
			case tt.wantNext != "" && (page.NextCursor == nil || *page.NextCursor != tt.wantNext):
				t.Errorf("NextCursor = %v, want %q", page.NextCursor, tt.wantNext)
			}
		})
	}
}

func TestListRejectsInvalidOptions(t *testing.T) {
	client := newTestClient(t, "http://127.0.0.1:1")

	for _, opts := range []ListOptions{{Limit: -1}, {Limit: 101}, {Status: "cancelled"}} {
		if _, err := client.List(context.Background(), opts); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("List(%+v) error = %v, want ErrInvalidRequest", opts, err)
		}
	}
}

func TestBaseURLPathPrefix(t *testing.T) {
	gotPath := make(chan string, 1)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		gotPath <- r.URL.Path
		writeJSON(w, http.StatusOK, jobJSON)
	})
	client := newTestClient(t, srv.URL+"/api/")

	if _, err := client.Status(context.Background(), "id1"); err != nil {
		t.Fatalf("Status: %v", err)
	}
	if path := <-gotPath; path != "/api/batch/id1" {
		t.Errorf("path = %q, want /api/batch/id1", path)
	}
}

func TestUndecodableResponseIsMalformed(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `<html>gateway</html>`)
	})
	client := newTestClient(t, srv.URL)

	_, err := client.Status(context.Background(), "id1")

	if !errors.Is(err, ErrMalformedResponse) {
		t.Errorf("error = %v, want ErrMalformedResponse", err)
	}
	if got := Classify(err); got != ClassRetryable {
		t.Errorf("Classify = %s, want retryable", got)
	}
}
