package batchapitest

import (
	"maps"
	"net/http"
	"slices"
	"testing"
	"time"
)

func TestStatusFollowsTheClock(t *testing.T) {
	s := newSim(t, Config{JobDuration: 10 * time.Second})
	urls := profileURLs("life", 100)
	fields := []string{FieldBusinessEmail, FieldPhoneNumbers}
	id := s.submit(t, urls, fields, nil)

	steps := []struct {
		name      string
		advance   time.Duration
		status    string
		count     int
		completed bool
	}{
		{name: "pending at submit", status: StatusPending, count: 0},
		{name: "pending just before 20 percent", advance: 2*time.Second - time.Nanosecond, status: StatusPending, count: 0},
		{name: "processing from 20 percent", advance: time.Nanosecond, status: StatusProcessing, count: 0},
		{name: "processing half done", advance: 4 * time.Second, status: StatusProcessing, count: 50},
		{name: "completed at the end", advance: 4 * time.Second, status: StatusCompleted, count: 100, completed: true},
	}
	for _, step := range steps {
		s.clock.Advance(step.advance)
		st := s.status(t, id)
		if st.Status != step.status || st.ResultCount != step.count {
			t.Errorf("%s: status, result_count = %s, %d, want %s, %d", step.name, st.Status, st.ResultCount, step.status, step.count)
		}
		if want := fulfilledCount(urls[:step.count], fields); st.EntitiesFulfilled != want {
			t.Errorf("%s: entities_fulfilled = %d, want %d", step.name, st.EntitiesFulfilled, want)
		}
		if got := st.DownloadURL != "" && st.CompletedAt != ""; got != step.completed {
			t.Errorf("%s: has download_url and completed_at = %v, want %v", step.name, got, step.completed)
		}
	}

	st := s.status(t, id)
	if st.CreatedAt != "2026-12-04T19:53:54.123456+00:00" {
		t.Errorf("created_at = %q, want 2026-12-04T19:53:54.123456+00:00", st.CreatedAt)
	}
	if st.CompletedAt != "2026-12-04T19:54:04.123456+00:00" {
		t.Errorf("completed_at = %q, want 2026-12-04T19:54:04.123456+00:00", st.CompletedAt)
	}
	if st.IdentifierCount != 100 || st.EntitiesRequested != 100 || st.BatchID != id {
		t.Errorf("identifier_count, entities_requested, batch_id = %d, %d, %s", st.IdentifierCount, st.EntitiesRequested, st.BatchID)
	}
	if len(st.DownloadURLs) != 1 {
		t.Errorf("download_urls has %d links, want 1 part of the default 1000 lines", len(st.DownloadURLs))
	}
}

func fulfilledCount(urls, fields []string) int {
	n := 0
	for _, u := range urls {
		if FoundFor(Contact(u), fields) {
			n++
		}
	}
	return n
}

func TestStatusKeysOfPendingJob(t *testing.T) {
	s := newSim(t, Config{})
	id := s.submit(t, profileURLs("keys", 3), []string{FieldBusinessEmail}, nil)

	resp := s.get(t, "/batch/"+id)
	var got map[string]any
	decodeJSON(t, resp.body, &got)
	want := []string{"action", "batch_id", "created_at", "entities_fulfilled", "entities_requested", "entity", "identifier_count", "result_count", "status"}
	if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, want) {
		t.Errorf("keys = %v, want %v", keys, want)
	}
}

func TestStatusOfFailedJob(t *testing.T) {
	fail := func(urls []string) string { return "upstream unavailable" }
	s := newSim(t, Config{JobDuration: time.Second, FailJob: fail})
	id := s.submit(t, profileURLs("fail", 3), []string{FieldBusinessEmail}, nil)
	s.clock.Advance(time.Second)

	st := s.status(t, id)
	if st.Status != StatusFailed || st.ErrorMessage != "upstream unavailable" {
		t.Errorf("status, error_message = %s, %q, want failed, upstream unavailable", st.Status, st.ErrorMessage)
	}
	if st.CompletedAt == "" || st.DownloadURL != "" || st.DownloadURLs != nil || st.ResultCount != 0 {
		t.Errorf("failed job: completed_at %q, download_url %q, download_urls %v, result_count %d", st.CompletedAt, st.DownloadURL, st.DownloadURLs, st.ResultCount)
	}
}

func TestStatusErrors(t *testing.T) {
	s := newSim(t, Config{})
	id := s.submit(t, profileURLs("err", 1), []string{FieldBusinessEmail}, nil)
	tests := []struct {
		name    string
		path    string
		headers map[string]string
		status  int
		errType string
	}{
		{name: "unknown id", path: "/batch/00000000-0000-4000-8000-000000000000", headers: apiHeaders(), status: 404, errType: errNotFound},
		{name: "missing key", path: "/batch/" + id, headers: map[string]string{"x-api-version": APIVersion}, status: 401, errType: errUnauthorized},
		{name: "wrong key before wrong version", path: "/batch/" + id, headers: map[string]string{"Authorization": "Bearer nope", "x-api-version": "1999"}, status: 401, errType: errUnauthorized},
		{name: "other version", path: "/batch/" + id, headers: map[string]string{"Authorization": "Bearer " + DefaultAPIKey, "x-api-version": "1999"}, status: 400, errType: errInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.do(t, http.MethodGet, tt.path, tt.headers, "")
			if resp.status != tt.status {
				t.Fatalf("status = %d, want %d; body %s", resp.status, tt.status, resp.body)
			}
			if got := errorOf(t, resp).Type; got != tt.errType {
				t.Errorf("error.type = %q, want %q", got, tt.errType)
			}
		})
	}

	t.Run("missing version is accepted", func(t *testing.T) {
		resp := s.do(t, http.MethodGet, "/batch/"+id, map[string]string{"Authorization": "Bearer " + DefaultAPIKey}, "")
		if resp.status != http.StatusOK {
			t.Errorf("status = %d, want 200", resp.status)
		}
	})
	if got := s.srv.Stats().StatusCalls; got != len(tests)+1 {
		t.Errorf("StatusCalls = %d, want %d", got, len(tests)+1)
	}
}

func TestStatusRateHeaders(t *testing.T) {
	s := newSim(t, Config{JobDuration: 10 * time.Second, MaxActiveJobs: 2})
	id := s.submit(t, profileURLs("rate", 1), []string{FieldBusinessEmail}, nil)
	s.clock.Advance(time.Second)
	s.submit(t, profileURLs("rate2", 1), []string{FieldBusinessEmail}, nil)
	s.clock.Advance(1500 * time.Millisecond)

	resp := s.get(t, "/batch/"+id)
	want := map[string]string{"x-ratelimit-limit": "2", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "8"}
	for k, v := range want {
		if got := resp.header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}
