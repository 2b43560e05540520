package batchapitest

import (
	"fmt"
	"maps"
	"slices"
)

// Stats are counters of what the simulator saw, for tests to assert on.
// Request counters count every request that reached the endpoint, whatever
// the response. [Server.Stats] returns a copy that the caller owns.
type Stats struct {
	Jobs              int            // accepted submits
	URLsSubmitted     int            // URLs in accepted submits, duplicates included
	SubmissionsPerURL map[string]int // occurrences of each URL, spelled as submitted, in accepted submits
	PeakActiveJobs    int            // max active jobs right after an accepted submit, the new job included
	Responses429      int            // submits rejected because every job slot was taken

	// DuplicateActiveSubmissions counts URLs submitted while another active
	// job held the same URL; a URL repeated within one submit does not count.
	DuplicateActiveSubmissions int

	StatusCalls int // requests to GET /batch/{id}
	ListCalls   int // requests to GET /batch
	Downloads   int // requests for results files

	// DownloadsWithAPIKey counts results-file requests that carried an
	// Authorization header, which a client should never send there.
	DownloadsWithAPIKey int

	WebhooksSent int // webhook deliveries the receiver acknowledged with 2xx

	// FailedSubmissionsPerURL, StuckSubmissionsPerURL and
	// UnreadableSubmissionsPerURL count URLs like SubmissionsPerURL, for the
	// accepted submits that a client may submit again. They are the jobs
	// that end failed (by Config.FailJob or the FailedJob fault), that the
	// StuckJob fault struck, and whose results files the TruncatedBody or
	// CorruptGzip fault spoils on every download. Each is nil until used.
	FailedSubmissionsPerURL     map[string]int
	StuckSubmissionsPerURL      map[string]int
	UnreadableSubmissionsPerURL map[string]int

	// Faults counts injected faults by mode name (the Fault* constants); nil
	// until one strikes.
	Faults map[string]int
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.SubmissionsPerURL = maps.Clone(s.stats.SubmissionsPerURL)
	st.Faults = maps.Clone(s.stats.Faults)
	st.FailedSubmissionsPerURL = maps.Clone(s.stats.FailedSubmissionsPerURL)
	st.StuckSubmissionsPerURL = maps.Clone(s.stats.StuckSubmissionsPerURL)
	st.UnreadableSubmissionsPerURL = maps.Clone(s.stats.UnreadableSubmissionsPerURL)
	return st
}

// JobsWith describes each accepted job that holds url, in submit order,
// with the faults that struck it: for a test that explains why a URL was
// submitted more than once.
func (s *Server) JobsWith(url string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, j := range s.order {
		if !slices.Contains(j.urls, url) {
			continue
		}
		d := fmt.Sprintf("batch %s created %s with %d URLs", j.id, j.created.Format("15:04:05.000"), len(j.urls))
		for _, f := range []struct {
			on   bool
			name string
		}{
			{j.stuck || j.duration == s.cfg.StuckJobFor, FaultStuckJob}, {j.failure != "", "failed"},
			{j.fileFault != "", j.fileFault}, {j.answerLost != "", j.answerLost},
		} {
			if f.on {
				d += ", " + f.name
			}
		}
		out = append(out, d)
	}
	return out
}
