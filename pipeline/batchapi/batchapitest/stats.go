package batchapitest

import "maps"

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

	// FailedSubmissionsPerURL and StuckSubmissionsPerURL count, like
	// SubmissionsPerURL, the URLs of accepted submits that end failed (by
	// Config.FailJob or the FailedJob fault) or that the StuckJob fault
	// struck: a client may submit those URLs again. Nil until one occurs.
	FailedSubmissionsPerURL map[string]int
	StuckSubmissionsPerURL  map[string]int

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
	return st
}
