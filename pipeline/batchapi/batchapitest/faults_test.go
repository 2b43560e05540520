package batchapitest

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// rawGet fetches link without the API key through client and returns what
// arrived, with the error of reading the body rather than failing on it.
func rawGet(t *testing.T, client *http.Client, link string) (*http.Response, []byte, error) {
	t.Helper()
	resp, err := client.Get(link)
	if err != nil {
		t.Fatalf("GET %s: %v", link, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

// freshClient opens a new connection per request, so the transport never
// retries a request on a reused connection that the server dropped.
func freshClient(t *testing.T) *http.Client {
	tr := &http.Transport{DisableKeepAlives: true, DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func TestZeroFaultsChangeNothing(t *testing.T) {
	s := newSim(t, Config{FaultSeed: 42})
	urls := profileURLs("zero", 7)
	fields := []string{FieldBusinessEmail}
	st := s.completedJob(t, urls, fields, nil)
	lines := s.download(t, st.DownloadURL)
	if len(lines) != len(urls) || st.ResultCount != len(urls) {
		t.Fatalf("file has %d lines, result_count %d, want %d", len(lines), st.ResultCount, len(urls))
	}
	for i, u := range urls {
		if want := string(ResultLine(u, fields)); lines[i] != want {
			t.Errorf("line %d = %s, want %s", i, lines[i], want)
		}
	}
	if got := s.srv.Stats().Faults; got != nil {
		t.Errorf("Stats.Faults = %v, want nil", got)
	}
}

func TestFaultsRepeatWithTheSameSeed(t *testing.T) {
	run := func() []int {
		s := newSim(t, Config{Faults: Faults{ServerError: 0.5}, FaultSeed: 7})
		var codes []int
		for range 30 {
			codes = append(codes, s.get(t, "/batch").status)
		}
		return codes
	}
	first, second := run(), run()
	if !slices.Equal(first, second) {
		t.Fatalf("same seed, different answers:\n%v\n%v", first, second)
	}
	failed := slices.ContainsFunc(first, func(code int) bool { return code >= 500 })
	if !slices.Contains(first, http.StatusOK) || !failed {
		t.Errorf("rate 0.5 gave %v, want a mix of 200 and 5xx", first)
	}
}

func TestFaultServerError(t *testing.T) {
	s := newSim(t, Config{Faults: Faults{ServerError: 1}})
	answers := []response{
		s.post(t, mustJSON(t, map[string]any{keyURLs: profileURLs("err", 1), keyFields: []string{FieldBusinessEmail}})),
		s.get(t, "/batch/some-id"),
		s.get(t, "/batch"),
	}
	for i, resp := range answers {
		if !slices.Contains([]int{500, 502, 503}, resp.status) {
			t.Errorf("answer %d: status %d, want 500, 502 or 503", i, resp.status)
		}
		if e := errorOf(t, resp); e.Type != errServerError || e.Message == "" {
			t.Errorf("answer %d: error %+v, want type %s and a message", i, e, errServerError)
		}
	}
	if st := s.srv.Stats(); st.Jobs != 0 || st.Faults[FaultServerError] != 3 {
		t.Errorf("Jobs = %d, Faults = %v; want 0 jobs and 3 ServerError", st.Jobs, st.Faults)
	}
}

func TestFaultDropConnection(t *testing.T) {
	s := newSim(t, Config{Faults: Faults{DropConnection: 1}})
	client := freshClient(t)
	body := mustJSON(t, map[string]any{keyURLs: profileURLs("drop", 2), keyFields: []string{FieldBusinessEmail}})
	req, err := http.NewRequest(http.MethodPost, s.http.URL+"/batch/person/contact/enrich", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range apiHeaders() {
		req.Header.Set(k, v)
	}
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("submit answered %d, want a dropped connection", resp.StatusCode)
	}
	// The job was created before the drop: the accepted-but-unanswered case.
	if st := s.srv.Stats(); st.Jobs != 1 || st.URLsSubmitted != 2 {
		t.Errorf("Jobs, URLsSubmitted = %d, %d; want 1, 2", st.Jobs, st.URLsSubmitted)
	}

	req, _ = http.NewRequest(http.MethodGet, s.http.URL+"/batch", nil)
	req.Header.Set("Authorization", "Bearer "+DefaultAPIKey)
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("list answered %d, want a dropped connection", resp.StatusCode)
	}
	if got := s.srv.Stats().Faults[FaultDropConnection]; got != 2 {
		t.Errorf("Faults[DropConnection] = %d, want 2", got)
	}
}

// submitRequestTo builds a submit of urls to s with the headers of a correct call.
func submitRequestTo(t *testing.T, s *sim, urls []string) *http.Request {
	t.Helper()
	body := mustJSON(t, map[string]any{keyURLs: urls, keyFields: []string{FieldBusinessEmail}})
	req, err := http.NewRequest(http.MethodPost, s.http.URL+"/batch/person/contact/enrich", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range apiHeaders() {
		req.Header.Set(k, v)
	}
	return req
}

func TestFaultSubmitNoAnswer(t *testing.T) {
	s := newSim(t, Config{Faults: Faults{SubmitNoAnswer: 1}})
	client := freshClient(t)
	client.Timeout = 200 * time.Millisecond
	resp, err := client.Do(submitRequestTo(t, s, profileURLs("silent", 2)))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("submit answered %d, want no answer until the client times out", resp.StatusCode)
	}
	if uerr := (*url.Error)(nil); !errors.As(err, &uerr) || !uerr.Timeout() {
		t.Errorf("submit error %v, want a client timeout", err)
	}

	// The job was accepted and runs, though the client never learned its id.
	s.clock.Advance(DefaultJobDuration)
	var page listPage
	decodeJSON(t, s.get(t, "/batch").body, &page)
	if len(page.Jobs) != 1 || page.Jobs[0].Status != StatusCompleted || page.Jobs[0].IdentifierCount != 2 {
		t.Errorf("list shows %+v, want one completed job of 2 URLs", page.Jobs)
	}

	// A submit still waiting when the Server closes ends with Close.
	held, waiting := submitRequestTo(t, s, profileURLs("held", 1)), freshClient(t)
	done := make(chan error, 1)
	go func() {
		resp, err := waiting.Do(held)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	eventually(t, "the second submit to be held", func() bool { return s.srv.Stats().Faults[FaultSubmitNoAnswer] == 2 })
	closeWithin(t, s.srv)
	select {
	case err := <-done:
		if err == nil {
			t.Error("held submit got a response at Close, want a closed connection")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("held submit still waiting 5s after Close")
	}
	if st := s.srv.Stats(); st.Jobs != 2 {
		t.Errorf("Jobs = %d, want 2", st.Jobs)
	}
}

func TestFaultRateLimitStorm(t *testing.T) {
	s := newSim(t, Config{Faults: Faults{RateLimitStorm: 1}, FaultSeed: 1})
	seen := map[string]int{}
	for range 30 {
		resp := s.get(t, "/batch")
		if resp.status != http.StatusTooManyRequests || errorOf(t, resp).Type != errRateLimited {
			t.Fatalf("status %d body %s, want 429 rate_limited", resp.status, resp.body)
		}
		ra, hasRA := resp.header["Retry-After"]
		_, hasReset := resp.header["X-Ratelimit-Reset"]
		switch {
		case !hasRA && !hasReset:
			seen["bare"]++
		case hasRA && slices.Contains([]string{"1", "2", "3"}, ra[0]):
			seen["short"]++
		case hasRA && (ra[0] == "999999" || ra[0] == "-5"):
			seen["absurd"]++
		default:
			t.Fatalf("unexpected headers %v", resp.header)
		}
	}
	if len(seen) != 3 {
		t.Errorf("variants seen %v, want bare, short and absurd", seen)
	}
	if st := s.srv.Stats(); st.Faults[FaultRateLimitStorm] != 30 || st.Responses429 != 0 {
		t.Errorf("Faults = %v, Responses429 = %d; want 30 storms and no slot 429", st.Faults, st.Responses429)
	}
}

func TestFaultNoCreditsAndForbidden(t *testing.T) {
	tests := []struct {
		name   string
		faults Faults
		status int
		typ    string
	}{
		{FaultNoCredits, Faults{NoCredits: 1}, http.StatusPaymentRequired, errInsufficientCredits},
		{FaultForbidden, Faults{Forbidden: 1}, http.StatusForbidden, errForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(t, Config{Faults: tt.faults})
			resp := s.post(t, mustJSON(t, map[string]any{keyURLs: profileURLs("credit", 1), keyFields: []string{FieldBusinessEmail}}))
			if resp.status != tt.status || errorOf(t, resp).Type != tt.typ {
				t.Errorf("submit answered %d %s, want %d %s", resp.status, resp.body, tt.status, tt.typ)
			}
			// Only the submit is eligible.
			if resp := s.get(t, "/batch"); resp.status != http.StatusOK {
				t.Errorf("list answered %d, want 200", resp.status)
			}
			if st := s.srv.Stats(); st.Jobs != 0 || st.Faults[tt.name] != 1 {
				t.Errorf("Jobs = %d, Faults = %v; want 0 and one %s", st.Jobs, st.Faults, tt.name)
			}
		})
	}
}

func TestFaultStuckJob(t *testing.T) {
	s := newSim(t, Config{Faults: Faults{StuckJob: 1}, MaxActiveJobs: 2})
	urls := profileURLs("stuck", 10)
	id := s.submit(t, urls, []string{FieldBusinessEmail}, nil)
	s.clock.Advance(100 * DefaultJobDuration)

	resp := s.get(t, "/batch/"+id)
	var st jobStatus
	decodeJSON(t, resp.body, &st)
	if st.Status != StatusProcessing || st.ResultCount >= len(urls) || st.DownloadURL != "" {
		t.Errorf("stuck job: status %s, result_count %d, download_url %q; want processing, < %d, none",
			st.Status, st.ResultCount, st.DownloadURL, len(urls))
	}
	if got := resp.header.Get("x-ratelimit-remaining"); got != "1" {
		t.Errorf("x-ratelimit-remaining = %s, want 1: the stuck job holds its slot", got)
	}
}

func TestFaultStuckJobEndsAfterStuckJobFor(t *testing.T) {
	s := newSim(t, Config{Faults: Faults{StuckJob: 1}, StuckJobFor: 50 * DefaultJobDuration})
	urls := profileURLs("stuck", 3)
	id := s.submit(t, urls, []string{FieldBusinessEmail}, nil)
	s.clock.Advance(10 * DefaultJobDuration)
	if st := s.status(t, id); st.Status != StatusProcessing {
		t.Errorf("after 10 job durations: status %s, want processing", st.Status)
	}
	s.clock.Advance(40 * DefaultJobDuration)
	if st := s.status(t, id); st.Status != StatusCompleted || st.DownloadURL == "" {
		t.Errorf("after StuckJobFor: status %s, download_url %q; want completed with a link", st.Status, st.DownloadURL)
	}
	if got := s.srv.Stats().StuckSubmissionsPerURL[urls[0]]; got != 1 {
		t.Errorf("StuckSubmissionsPerURL[%s] = %d, want 1", urls[0], got)
	}
}

func TestFaultFailedJob(t *testing.T) {
	s := newSim(t, Config{Faults: Faults{FailedJob: 1}})
	id := s.submit(t, profileURLs("failed", 3), []string{FieldBusinessEmail}, nil)
	s.clock.Advance(DefaultJobDuration)
	st := s.status(t, id)
	if st.Status != StatusFailed || st.ErrorMessage != FailedJobMessage || st.DownloadURL != "" {
		t.Errorf("status %s, error_message %q, download_url %q; want failed, %q, none",
			st.Status, st.ErrorMessage, st.DownloadURL, FailedJobMessage)
	}
	if got := s.srv.Stats().FailedSubmissionsPerURL; len(got) != 3 {
		t.Errorf("FailedSubmissionsPerURL = %v, want the 3 URLs once each", got)
	}
}

func TestFaultFailedJobKeepsFailJobMessage(t *testing.T) {
	fail := func([]string) string { return "from FailJob" }
	s := newSim(t, Config{FailJob: fail, Faults: Faults{FailedJob: 1}})
	id := s.submit(t, profileURLs("failjob", 1), []string{FieldBusinessEmail}, nil)
	s.clock.Advance(DefaultJobDuration)
	if st := s.status(t, id); st.ErrorMessage != "from FailJob" {
		t.Errorf("error_message = %q, want the FailJob hook's", st.ErrorMessage)
	}
	if got := s.srv.Stats().Faults[FaultFailedJob]; got != 0 {
		t.Errorf("Faults[FailedJob] = %d, want 0 when FailJob already failed the job", got)
	}
}

func TestFaultEarlyLinkExpiry(t *testing.T) {
	s := newSim(t, Config{Faults: Faults{EarlyLinkExpiry: 1}})
	st := s.completedJob(t, profileURLs("early", 2), []string{FieldBusinessEmail}, nil)
	s.download(t, st.DownloadURL) // valid right away
	s.clock.Advance(EarlyLinkTTL + time.Second)
	if resp := s.do(t, http.MethodGet, st.DownloadURL, nil, ""); resp.status != http.StatusForbidden {
		t.Errorf("download after %s answered %d, want 403", EarlyLinkTTL+time.Second, resp.status)
	}
}

func TestAllowFaultSparesWhatItRefuses(t *testing.T) {
	var requested []string
	s := newSim(t, Config{Faults: Faults{ServerError: 1}, AllowFault: func(mode string) bool {
		requested = append(requested, mode)
		return false
	}})
	if resp := s.get(t, "/batch"); resp.status != 200 {
		t.Errorf("GET /batch: status %d, want 200: the fault was not allowed", resp.status)
	}
	if len(requested) != 1 || requested[0] != FaultServerError {
		t.Errorf("AllowFault was called for %v, want [%s]", requested, FaultServerError)
	}
	if n := s.srv.Stats().Faults[FaultServerError]; n != 0 {
		t.Errorf("Faults[%s] = %d, want 0", FaultServerError, n)
	}
}
