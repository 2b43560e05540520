package batchapitest

import (
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSubmitRejectsInvalidRequests(t *testing.T) {
	valid := `"professional_network_profile_urls": ["https://www.linkedin.com/in/jane-example"]`
	fields := `"fields": ["business_email"]`
	noKey := map[string]string{"x-api-version": APIVersion}
	wrongKey := map[string]string{"Authorization": "Bearer other-key", "x-api-version": APIVersion}
	tests := []struct {
		name     string
		headers  map[string]string
		body     string
		status   int
		errType  string
		metadata map[string]any // expected entries of error.metadata
	}{
		{name: "missing key is rejected before the missing version", headers: map[string]string{}, body: "{" + valid + "," + fields + "}", status: 401, errType: errUnauthorized},
		{name: "missing key", headers: noKey, body: "{" + valid + "," + fields + "}", status: 401, errType: errUnauthorized},
		{name: "wrong key", headers: wrongKey, body: "{" + valid + "," + fields + "}", status: 401, errType: errUnauthorized},
		{name: "basic scheme", headers: map[string]string{"Authorization": "Basic " + DefaultAPIKey, "x-api-version": APIVersion}, body: "{" + valid + "," + fields + "}", status: 401, errType: errUnauthorized},
		{name: "missing version", headers: map[string]string{"Authorization": "Bearer " + DefaultAPIKey}, body: "{" + valid + "," + fields + "}", status: 400, errType: errInvalidRequest},
		{name: "other version", headers: map[string]string{"Authorization": "Bearer " + DefaultAPIKey, "x-api-version": "2024-01-01"}, body: "{" + valid + "," + fields + "}", status: 400, errType: errInvalidRequest},
		{name: "body is not JSON", body: "{", status: 400, errType: errInvalidRequest},
		{name: "body is a list", body: "[]", status: 400, errType: errInvalidRequest},
		{name: "data after the object", body: "{" + valid + "," + fields + "} {}", status: 400, errType: errInvalidRequest},
		{name: "unknown key", body: "{" + valid + "," + fields + `,"urls": []}`, status: 400, errType: errInvalidRequest, metadata: map[string]any{"unknown_keys": []any{"urls"}}},
		{name: "urls missing", body: "{" + fields + "}", status: 400, errType: errInvalidRequest},
		{name: "urls null", body: `{"professional_network_profile_urls": null,` + fields + "}", status: 400, errType: errInvalidRequest},
		{name: "urls empty list", body: `{"professional_network_profile_urls": [],` + fields + "}", status: 400, errType: errInvalidRequest},
		{name: "urls empty string", body: `{"professional_network_profile_urls": "",` + fields + "}", status: 400, errType: errInvalidRequest},
		{name: "urls a number", body: `{"professional_network_profile_urls": 5,` + fields + "}", status: 400, errType: errInvalidRequest},
		{name: "urls over 300", body: mustJSON(t, map[string]any{keyURLs: profileURLs("many", 301), keyFields: []string{"business_email"}}), status: 400, errType: errInvalidRequest},
		{name: "fields missing", body: "{" + valid + "}", status: 400, errType: errInvalidRequest, metadata: map[string]any{"available_fields": anyList(availableFields)}},
		{name: "fields empty list", body: "{" + valid + `,"fields": []}`, status: 400, errType: errInvalidRequest, metadata: map[string]any{"available_fields": anyList(availableFields)}},
		{name: "fields empty string", body: "{" + valid + `,"fields": ""}`, status: 400, errType: errInvalidRequest},
		{name: "unknown field lists the allowed ones", body: "{" + valid + `,"fields": ["business_email", "work_phone"]}`, status: 400, errType: errInvalidRequest, metadata: map[string]any{"available_fields": anyList(availableFields), "invalid_fields": []any{"work_phone"}}},
		{name: "chunk size below 10", body: "{" + valid + "," + fields + `,"chunk_size": 9}`, status: 400, errType: errInvalidRequest},
		{name: "chunk size above 1000", body: "{" + valid + "," + fields + `,"chunk_size": 1001}`, status: 400, errType: errInvalidRequest},
		{name: "chunk size not an integer", body: "{" + valid + "," + fields + `,"chunk_size": 10.5}`, status: 400, errType: errInvalidRequest},
		{name: "verified not a boolean", body: "{" + valid + "," + fields + `,"verified": "yes"}`, status: 400, errType: errInvalidRequest},
		{name: "webhook url relative", body: "{" + valid + "," + fields + `,"webhook_url": "/hook"}`, status: 400, errType: errInvalidRequest},
		{name: "company page rejects the whole job", body: `{"professional_network_profile_urls": ["https://www.linkedin.com/in/ok", "https://www.linkedin.com/company/acme"],` + fields + "}", status: 400, errType: errInvalidRequest, metadata: map[string]any{"invalid_identifiers": []any{"https://www.linkedin.com/company/acme"}}},
		{name: "other host is invalid", body: `{"professional_network_profile_urls": ["https://example.com/in/jane"],` + fields + "}", status: 400, errType: errInvalidRequest, metadata: map[string]any{"invalid_identifiers": []any{"https://example.com/in/jane"}}},
		{name: "look-alike host is invalid", body: `{"professional_network_profile_urls": ["https://notlinkedin.com/in/jane"],` + fields + "}", status: 400, errType: errInvalidRequest, metadata: map[string]any{"invalid_identifiers": []any{"https://notlinkedin.com/in/jane"}}},
		{name: "legacy pub path is invalid", body: `{"professional_network_profile_urls": ["https://www.linkedin.com/pub/jane/1/2/3"],` + fields + "}", status: 400, errType: errInvalidRequest},
		{name: "empty slug is invalid", body: `{"professional_network_profile_urls": ["https://www.linkedin.com/in/"],` + fields + "}", status: 400, errType: errInvalidRequest},
		{name: "ftp scheme is invalid", body: `{"professional_network_profile_urls": ["ftp://www.linkedin.com/in/jane"],` + fields + "}", status: 400, errType: errInvalidRequest},
		{name: "empty string URL is invalid", body: `{"professional_network_profile_urls": [""],` + fields + "}", status: 400, errType: errInvalidRequest, metadata: map[string]any{"invalid_identifiers": []any{""}}},
		{name: "trailing comma leaves an empty URL", body: `{"professional_network_profile_urls": "https://www.linkedin.com/in/a,",` + fields + "}", status: 400, errType: errInvalidRequest},
	}
	s := newSim(t, Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			headers := tt.headers
			if headers == nil {
				headers = apiHeaders()
			}
			resp := s.do(t, http.MethodPost, "/batch/person/contact/enrich", headers, tt.body)
			if resp.status != tt.status {
				t.Fatalf("status = %d, want %d; body %s", resp.status, tt.status, resp.body)
			}
			if ct := resp.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			detail := errorOf(t, resp)
			if detail.Type != tt.errType {
				t.Errorf("error.type = %q, want %q", detail.Type, tt.errType)
			}
			if detail.Message == "" {
				t.Error("error.message is empty")
			}
			if strings.Contains(detail.Message, "other-key") {
				t.Errorf("error.message %q repeats the key sent", detail.Message)
			}
			for k, want := range tt.metadata {
				if got := detail.Metadata[k]; !reflect.DeepEqual(got, want) {
					t.Errorf("error.metadata[%q] = %#v, want %#v", k, got, want)
				}
			}
		})
	}
	if st := s.srv.Stats(); st.Jobs != 0 {
		t.Errorf("Stats().Jobs = %d after rejected submits, want 0", st.Jobs)
	}
}

func anyList(values []string) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return out
}

func TestSubmitAcceptsValidShapes(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		count int
	}{
		{name: "comma separated urls and fields", body: `{"professional_network_profile_urls": "https://www.linkedin.com/in/a, https://www.linkedin.com/in/b", "fields": "business_email,personal_contact_info"}`, count: 2},
		{name: "chunk size 10", body: `{"professional_network_profile_urls": ["https://www.linkedin.com/in/a"], "fields": ["business_email"], "chunk_size": 10}`, count: 1},
		{name: "chunk size 1000 and verified", body: `{"professional_network_profile_urls": ["https://www.linkedin.com/in/a"], "fields": ["business_email"], "chunk_size": 1000, "verified": true}`, count: 1},
		{name: "300 urls", body: mustJSON(t, map[string]any{keyURLs: profileURLs("max", 300), keyFields: []string{"personal_contact_info.phone_numbers"}}), count: 300},
		{name: "country subdomain, slash, query and fragment", body: `{"professional_network_profile_urls": ["http://uk.linkedin.com/in/jane-example/?trk=x#top"], "fields": ["personal_contact_info.personal_emails"]}`, count: 1},
		{name: "bare host and encoded slug", body: `{"professional_network_profile_urls": ["https://linkedin.com/in/j%C3%BCrgen"], "fields": ["business_email"]}`, count: 1},
		{name: "duplicate url counted twice", body: `{"professional_network_profile_urls": ["https://www.linkedin.com/in/a", "https://www.linkedin.com/in/a"], "fields": ["business_email"]}`, count: 2},
	}
	s := newSim(t, Config{MaxActiveJobs: 100})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.post(t, tt.body)
			if resp.status != http.StatusAccepted {
				t.Fatalf("status = %d, want 202; body %s", resp.status, resp.body)
			}
			var sub submitResponse
			decodeJSON(t, resp.body, &sub)
			if sub.IdentifierCount != tt.count || sub.EntitiesRequested != tt.count {
				t.Errorf("identifier_count, entities_requested = %d, %d, want %d", sub.IdentifierCount, sub.EntitiesRequested, tt.count)
			}
		})
	}
}

func TestSubmitAnswer(t *testing.T) {
	s := newSim(t, Config{})
	resp := s.post(t, `{"professional_network_profile_urls": ["https://www.linkedin.com/in/a", "https://www.linkedin.com/in/b"], "fields": ["business_email"]}`)
	if resp.status != http.StatusAccepted {
		t.Fatalf("status = %d, want 202; body %s", resp.status, resp.body)
	}

	var got map[string]any
	decodeJSON(t, resp.body, &got)
	keys := slices.Sorted(maps.Keys(got))
	wantKeys := []string{"action", "batch_id", "entities_requested", "entity", "identifier_count", "status", "status_url"}
	if !slices.Equal(keys, wantKeys) {
		t.Errorf("keys = %v, want %v", keys, wantKeys)
	}
	id, _ := got["batch_id"].(string)
	uuidV4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if !uuidV4.MatchString(id) {
		t.Errorf("batch_id = %q, want a UUID v4", id)
	}
	want := map[string]string{"status": "pending", "entity": "person", "action": "contact_enrich", "status_url": "/batch/" + id}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %q", k, got[k], v)
		}
	}
	wantHeaders := map[string]string{"Content-Type": "application/json", "x-ratelimit-limit": "5", "x-ratelimit-remaining": "4", "x-ratelimit-reset": "0"}
	for k, v := range wantHeaders {
		if h := resp.header.Get(k); h != v {
			t.Errorf("header %s = %q, want %q", k, h, v)
		}
	}
}

func TestSubmitSixthActiveJobGets429(t *testing.T) {
	s := newSim(t, Config{JobDuration: 10 * time.Second})
	for i := range 5 {
		s.submit(t, profileURLs("slot", 1), []string{FieldBusinessEmail}, nil)
		if i < 4 {
			s.clock.Advance(time.Second)
		}
	}
	s.clock.Advance(500 * time.Millisecond) // now start+4.5s; the first job ends at start+10s

	resp := s.post(t, mustJSON(t, map[string]any{keyURLs: profileURLs("sixth", 1), keyFields: []string{FieldBusinessEmail}}))
	if resp.status != http.StatusTooManyRequests {
		t.Fatalf("status = %d, want 429; body %s", resp.status, resp.body)
	}
	if got := errorOf(t, resp).Type; got != errRateLimited {
		t.Errorf("error.type = %q, want %q", got, errRateLimited)
	}
	if got := resp.header.Get("x-ratelimit-reset"); got != "6" {
		t.Errorf("x-ratelimit-reset = %q, want 6 (5.5s rounded up)", got)
	}
	if got := resp.header.Get("x-ratelimit-remaining"); got != "0" {
		t.Errorf("x-ratelimit-remaining = %q, want 0", got)
	}

	s.clock.Advance(5500 * time.Millisecond) // the first job ends: one slot frees
	resp = s.post(t, mustJSON(t, map[string]any{keyURLs: profileURLs("sixth", 1), keyFields: []string{FieldBusinessEmail}}))
	if resp.status != http.StatusAccepted {
		t.Fatalf("status after a slot freed = %d, want 202; body %s", resp.status, resp.body)
	}
	if got := resp.header.Get("x-ratelimit-reset"); got != "1" {
		t.Errorf("x-ratelimit-reset after the sixth job = %q, want 1", got)
	}

	st := s.srv.Stats()
	if st.Responses429 != 1 || st.PeakActiveJobs != 5 || st.Jobs != 6 {
		t.Errorf("Stats() Responses429, PeakActiveJobs, Jobs = %d, %d, %d, want 1, 5, 6", st.Responses429, st.PeakActiveJobs, st.Jobs)
	}
}

func TestSubmitCountsDuplicateActiveURLs(t *testing.T) {
	s := newSim(t, Config{JobDuration: 10 * time.Second})
	x, y, z := "https://www.linkedin.com/in/x", "https://www.linkedin.com/in/y", "https://www.linkedin.com/in/z"

	s.submit(t, []string{x, y}, []string{FieldBusinessEmail}, nil)
	s.submit(t, []string{y, z, z}, []string{FieldBusinessEmail}, nil) // y is held by the first job
	if got := s.srv.Stats().DuplicateActiveSubmissions; got != 1 {
		t.Errorf("DuplicateActiveSubmissions = %d, want 1", got)
	}

	s.clock.Advance(10 * time.Second) // both jobs complete
	s.submit(t, []string{x}, []string{FieldBusinessEmail}, nil)

	st := s.srv.Stats()
	if st.DuplicateActiveSubmissions != 1 {
		t.Errorf("DuplicateActiveSubmissions after completion = %d, want 1", st.DuplicateActiveSubmissions)
	}
	wantPerURL := map[string]int{x: 2, y: 2, z: 2}
	if !reflect.DeepEqual(st.SubmissionsPerURL, wantPerURL) {
		t.Errorf("SubmissionsPerURL = %v, want %v", st.SubmissionsPerURL, wantPerURL)
	}
	if st.URLsSubmitted != 6 {
		t.Errorf("URLsSubmitted = %d, want 6", st.URLsSubmitted)
	}
}

func TestSubmitRejectsOtherMethods(t *testing.T) {
	s := newSim(t, Config{})
	resp := s.get(t, "/batch/person/contact/enrich")
	if resp.status != http.StatusMethodNotAllowed {
		t.Fatalf("status = %d, want 405", resp.status)
	}
	if got := resp.header.Get("Allow"); got != http.MethodPost {
		t.Errorf("Allow = %q, want POST", got)
	}
	if got := errorOf(t, resp).Type; got != errInvalidRequest {
		t.Errorf("error.type = %q, want %q", got, errInvalidRequest)
	}
}

func TestUnknownPathAnswersJSON404(t *testing.T) {
	s := newSim(t, Config{})
	resp := s.get(t, "/nowhere")
	if resp.status != http.StatusNotFound {
		t.Fatalf("status = %d, want 404", resp.status)
	}
	if got := errorOf(t, resp).Type; got != errNotFound {
		t.Errorf("error.type = %q, want %q", got, errNotFound)
	}
	if got := resp.header.Get("x-ratelimit-limit"); got != "5" {
		t.Errorf("x-ratelimit-limit = %q, want 5", got)
	}
}
