package batchapitest

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// completedJob submits urls and advances the clock until the job completes.
func (s *sim) completedJob(t testing.TB, urls, fields []string, extra map[string]any) jobStatus {
	t.Helper()
	id := s.submit(t, urls, fields, extra)
	s.clock.Advance(DefaultJobDuration)
	st := s.status(t, id)
	if st.Status != StatusCompleted {
		t.Fatalf("job %s is %s after its duration, want completed", id, st.Status)
	}
	return st
}

func TestResultsFileHoldsOneLinePerURL(t *testing.T) {
	s := newSim(t, Config{})
	urls := profileURLs("lines", 40)
	urls = append(urls, urls[0], "HTTPS://UK.LinkedIn.com/in/Jane-Example/?trk=a&b=<c>") // a repeat and an odd spelling
	fields := []string{FieldBusinessEmail, FieldPhoneNumbers}
	st := s.completedJob(t, urls, fields, nil)

	resp := s.do(t, http.MethodGet, st.DownloadURL, nil, "")
	if resp.status != http.StatusOK {
		t.Fatalf("download answered %d: %s", resp.status, resp.body)
	}
	if ct := resp.header.Get("Content-Type"); ct != "application/gzip" {
		t.Errorf("Content-Type = %q, want application/gzip", ct)
	}
	if ce := resp.header.Get("Content-Encoding"); ce != "" {
		t.Errorf("Content-Encoding = %q, want none", ce)
	}
	if !bytes.HasPrefix(resp.body, []byte{0x1f, 0x8b}) {
		t.Errorf("body starts with % x, want the gzip magic 1f 8b", resp.body[:min(2, len(resp.body))])
	}

	lines := gunzipLines(t, resp.body)
	if len(lines) != len(urls) || st.ResultCount != len(urls) {
		t.Fatalf("file has %d lines, result_count %d, want %d", len(lines), st.ResultCount, len(urls))
	}
	for i, u := range urls {
		if want := string(ResultLine(u, fields)); lines[i] != want {
			t.Errorf("line %d = %s, want %s", i, lines[i], want)
		}
	}
	if want := fulfilledCount(urls, fields); st.EntitiesFulfilled != want {
		t.Errorf("entities_fulfilled = %d, want %d", st.EntitiesFulfilled, want)
	}
}

func TestResultsFileHoldsOnlyRequestedKinds(t *testing.T) {
	tests := []struct {
		name     string
		fields   []string
		data     []string // keys of data
		personal []string // keys of data.personal_contact_info
	}{
		{name: "business email only", fields: []string{FieldBusinessEmail}, data: []string{"business_email"}},
		{name: "personal shorthand means both", fields: []string{FieldPersonal}, data: []string{"personal_contact_info"}, personal: []string{"personal_emails", "phone_numbers"}},
		{name: "personal emails only", fields: []string{FieldPersonalEmails}, data: []string{"personal_contact_info"}, personal: []string{"personal_emails"}},
		{name: "phones and business", fields: []string{FieldPhoneNumbers, FieldBusinessEmail}, data: []string{"business_email", "personal_contact_info"}, personal: []string{"phone_numbers"}},
	}
	s := newSim(t, Config{MaxActiveJobs: 100})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := s.completedJob(t, profileURLs("kinds", 30), tt.fields, nil)
			for _, line := range s.download(t, st.DownloadURL) {
				var rec struct {
					Data map[string]json.RawMessage `json:"data"`
				}
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("decoding %s: %v", line, err)
				}
				if keys := slices.Sorted(maps.Keys(rec.Data)); !slices.Equal(keys, tt.data) {
					t.Fatalf("data keys = %v, want %v in %s", keys, tt.data, line)
				}
				var personal map[string]json.RawMessage
				if raw, ok := rec.Data["personal_contact_info"]; ok {
					if err := json.Unmarshal(raw, &personal); err != nil {
						t.Fatalf("decoding personal_contact_info of %s: %v", line, err)
					}
				}
				if keys := slices.Sorted(maps.Keys(personal)); !slices.Equal(keys, tt.personal) {
					t.Fatalf("personal_contact_info keys = %v, want %v in %s", keys, tt.personal, line)
				}
			}
		})
	}
}

func TestPartFilesSplitByChunkSize(t *testing.T) {
	s := newSim(t, Config{})
	fields := []string{FieldPersonal}
	st := s.completedJob(t, profileURLs("parts", 25), fields, map[string]any{keyChunkSize: 10})
	if len(st.DownloadURLs) != 3 {
		t.Fatalf("download_urls has %d links, want 3", len(st.DownloadURLs))
	}

	var joined []string
	for k, link := range st.DownloadURLs {
		lines := s.download(t, link)
		if want := []int{10, 10, 5}[k]; len(lines) != want {
			t.Errorf("part %d has %d lines, want %d", k+1, len(lines), want)
		}
		joined = append(joined, lines...)
	}
	if whole := s.download(t, st.DownloadURL); !slices.Equal(joined, whole) {
		t.Errorf("parts joined differ from the whole file:\nparts %v\nwhole %v", joined, whole)
	}
	if got := s.srv.Stats(); got.Downloads != 4 || got.DownloadsWithAPIKey != 0 {
		t.Errorf("Downloads, DownloadsWithAPIKey = %d, %d, want 4, 0", got.Downloads, got.DownloadsWithAPIKey)
	}
}

func TestDownloadWithAPIKeyIsServedAndCounted(t *testing.T) {
	s := newSim(t, Config{})
	st := s.completedJob(t, profileURLs("key", 2), []string{FieldBusinessEmail}, nil)

	resp := s.do(t, http.MethodGet, st.DownloadURL, apiHeaders(), "")
	if resp.status != http.StatusOK {
		t.Fatalf("download with key answered %d, want 200", resp.status)
	}
	if got := s.srv.Stats().DownloadsWithAPIKey; got != 1 {
		t.Errorf("DownloadsWithAPIKey = %d, want 1", got)
	}
}

func TestExpiredLinkAnswers403AndStatusRenewsIt(t *testing.T) {
	s := newSim(t, Config{LinkTTL: time.Hour})
	st := s.completedJob(t, profileURLs("expiry", 3), []string{FieldBusinessEmail}, nil)
	s.clock.Advance(time.Hour + time.Second)

	resp := s.do(t, http.MethodGet, st.DownloadURL, nil, "")
	if resp.status != http.StatusForbidden {
		t.Fatalf("expired link answered %d, want 403", resp.status)
	}
	if ct := resp.header.Get("Content-Type"); ct != "application/xml" {
		t.Errorf("Content-Type = %q, want application/xml", ct)
	}
	for _, want := range []string{"<Error>", "<Code>AccessDenied</Code>", "<Message>Request has expired</Message>"} {
		if !strings.Contains(string(resp.body), want) {
			t.Errorf("body %s lacks %s", resp.body, want)
		}
	}

	fresh := s.status(t, st.BatchID)
	if fresh.DownloadURL == st.DownloadURL {
		t.Fatal("status returned the expired link again")
	}
	if lines := s.download(t, fresh.DownloadURL); len(lines) != 3 {
		t.Errorf("fresh link gave %d lines, want 3", len(lines))
	}
}

func TestDownloadRejectsBadLinks(t *testing.T) {
	s := newSim(t, Config{})
	st := s.completedJob(t, profileURLs("bad", 3), []string{FieldBusinessEmail}, nil)
	link, err := url.Parse(st.DownloadURL)
	if err != nil {
		t.Fatalf("parsing download_url: %v", err)
	}
	withQuery := func(change func(url.Values)) string {
		u := *link
		q := u.Query()
		change(q)
		u.RawQuery = q.Encode()
		return u.String()
	}
	otherPath := *link
	otherPath.Path = strings.Replace(link.Path, "/all", "/part-1", 1)

	tests := []struct {
		name string
		link string
		code string
	}{
		{name: "changed signature", link: withQuery(func(q url.Values) { q.Set("sig", strings.Repeat("0", 64)) }), code: "SignatureDoesNotMatch"},
		{name: "extended expiry", link: withQuery(func(q url.Values) { q.Set("expires", "99999999999") }), code: "SignatureDoesNotMatch"},
		{name: "missing query", link: withQuery(func(q url.Values) { q.Del("sig"); q.Del("expires") }), code: "SignatureDoesNotMatch"},
		{name: "signature of another file", link: otherPath.String(), code: "SignatureDoesNotMatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.do(t, http.MethodGet, tt.link, nil, "")
			if resp.status != http.StatusForbidden {
				t.Fatalf("status = %d, want 403", resp.status)
			}
			if !strings.Contains(string(resp.body), "<Code>"+tt.code+"</Code>") {
				t.Errorf("body %s lacks code %s", resp.body, tt.code)
			}
		})
	}
}

func TestMissingFilesAnswer404(t *testing.T) {
	s := newSim(t, Config{JobDuration: 10 * time.Second, MaxActiveJobs: 10})
	doneID := s.submit(t, profileURLs("done", 3), []string{FieldBusinessEmail}, nil)
	s.clock.Advance(10 * time.Second)
	pendingID := s.submit(t, profileURLs("pending", 3), []string{FieldBusinessEmail}, nil)

	// An empty completed job cannot be submitted, so it is put in the table directly.
	empty := newJob("empty-job", submitRequest{fields: []string{FieldBusinessEmail}}, s.clock.Now().Add(-time.Minute), time.Second)
	s.srv.mu.Lock()
	empty.seq = len(s.srv.order)
	s.srv.order = append(s.srv.order, empty)
	s.srv.jobs[empty.id] = empty
	s.srv.mu.Unlock()

	expires := s.clock.Now().Add(time.Hour)
	tests := []struct {
		name, id, file string
	}{
		{name: "job not finished", id: pendingID, file: fileAll},
		{name: "unknown job", id: "no-such-job", file: fileAll},
		{name: "part beyond the last", id: doneID, file: "part-2"},
		{name: "part zero", id: doneID, file: "part-0"},
		{name: "unknown file name", id: doneID, file: "everything"},
		{name: "completed job with no records", id: empty.id, file: fileAll},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			link := s.srv.signedLink(s.http.URL, tt.id, tt.file, expires)
			resp := s.do(t, http.MethodGet, link, nil, "")
			if resp.status != http.StatusNotFound {
				t.Fatalf("status = %d, want 404; body %s", resp.status, resp.body)
			}
			if !strings.Contains(string(resp.body), "<Code>NoSuchKey</Code>") {
				t.Errorf("body %s lacks NoSuchKey", resp.body)
			}
		})
	}

	st := s.status(t, empty.id)
	if st.Status != StatusCompleted || st.ResultCount != 0 || st.DownloadURLs == nil || len(st.DownloadURLs) != 0 {
		t.Errorf("empty job: status %s, result_count %d, download_urls %#v; want completed, 0, []", st.Status, st.ResultCount, st.DownloadURLs)
	}
}

func TestInternalIDAbove2To53SurvivesExactly(t *testing.T) {
	var big string
	for _, u := range profileURLs("big", 1000) {
		if id, _ := strconv.ParseUint(Contact(u).InternalID, 10, 64); id > 1<<53 {
			big = u
			break
		}
	}
	if big == "" {
		t.Fatal("no URL among 1000 has an internal id above 2^53")
	}

	s := newSim(t, Config{})
	st := s.completedJob(t, []string{big}, []string{FieldBusinessEmail}, nil)
	lines := s.download(t, st.DownloadURL)

	var rec struct {
		InternalID json.Number `json:"internal_id"`
	}
	decodeJSON(t, []byte(lines[0]), &rec)
	want := Contact(big).InternalID
	if rec.InternalID.String() != want {
		t.Errorf("internal_id = %s, want %s", rec.InternalID, want)
	}
	var lossy struct {
		InternalID float64 `json:"internal_id"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &lossy); err != nil {
		t.Fatalf("decoding as float64: %v", err)
	}
	if got := strconv.FormatUint(uint64(lossy.InternalID), 10); got == want {
		t.Errorf("internal_id %s survived float64, want an id that does not", want)
	}
}

// discardWriter is a ResponseWriter that drops the body, to time streaming alone.
type discardWriter struct{ header http.Header }

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

func BenchmarkStreamLines(b *testing.B) {
	s := New(Config{})
	defer s.Close()
	req := submitRequest{urls: profileURLs("bench", MaxURLsPerJob), fields: []string{FieldBusinessEmail, FieldPersonal}}
	j := newJob("bench", req, time.Now(), time.Second)
	b.ReportAllocs()
	for b.Loop() {
		s.streamLines(&discardWriter{header: http.Header{}}, j, 0, len(j.urls))
	}
}
