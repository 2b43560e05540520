package batchapitest

import (
	"net/http"
	"time"
)

// maxBodyBytes bounds a submit body: 300 URLs take far less.
const maxBodyBytes = 1 << 20

type submitResponse struct {
	BatchID           string `json:"batch_id"`
	Status            string `json:"status"`
	Entity            string `json:"entity"`
	Action            string `json:"action"`
	IdentifierCount   int    `json:"identifier_count"`
	EntitiesRequested int    `json:"entities_requested"`
	StatusURL         string `json:"status_url"`
}

// handleSubmit serves POST /batch/person/contact/enrich.
func (s *Server) handleSubmit(w http.ResponseWriter, r *http.Request) {
	if !s.allowMethod(w, r, http.MethodPost) || !s.checkAuth(w, r) || !s.checkVersion(w, r, true) ||
		s.requestFault(w, true) {
		return
	}

	req, rerr := parseSubmit(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if rerr != nil {
		s.writeError(w, http.StatusBadRequest, errInvalidRequest, rerr.msg, rerr.metadata)
		return
	}
	failure := ""
	if s.cfg.FailJob != nil {
		failure = s.cfg.FailJob(req.urls)
	}

	now := s.now()
	j := newJob(newBatchID(), req, now, s.cfg.JobDuration)
	j.baseURL = s.baseURL(r)
	j.failure = failure
	rate, accepted := s.admit(j, now)
	if !accepted {
		writeJSONRate(w, http.StatusTooManyRequests, errorBody{Error: errorDetail{
			Type:     errRateLimited,
			Message:  "all job slots are taken; retry after x-ratelimit-reset seconds",
			Metadata: map[string]any{"max_active_jobs": rate.limit, "retry_after_seconds": rate.reset},
		}}, rate)
		return
	}

	if s.submitDropped(w, j) || s.submitUnanswered(w, r, j) {
		return
	}
	s.log.Info("job accepted", "batch_id", j.id, "urls", len(j.urls), "webhook", j.webhookURL != "")
	writeJSONRate(w, http.StatusAccepted, submitResponse{
		BatchID:           j.id,
		Status:            StatusPending,
		Entity:            entityPerson,
		Action:            actionContactEnrich,
		IdentifierCount:   len(j.urls),
		EntitiesRequested: len(j.urls),
		StatusURL:         "/batch/" + j.id,
	}, rate)
}

// admit adds j to the job table when a slot is free, updates the counters
// and schedules its webhook. It returns the slot state to send back.
func (s *Server) admit(j *job, now time.Time) (rateState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()

	if rate := s.rateLocked(now); rate.remaining == 0 {
		s.stats.Responses429++
		return rate, false
	}

	s.stats.DuplicateActiveSubmissions += s.activeDuplicatesLocked(j.urls, now)
	s.applyJobFaultsLocked(j)
	j.seq = len(s.order)
	s.order = append(s.order, j)
	s.jobs[j.id] = j
	s.stats.Jobs++
	s.stats.URLsSubmitted += len(j.urls)
	for _, u := range j.urls {
		s.stats.SubmissionsPerURL[u]++
	}

	rate := s.rateLocked(now)
	s.stats.PeakActiveJobs = max(s.stats.PeakActiveJobs, rate.active)
	if j.webhookURL != "" && !j.stuck {
		s.scheduleWebhookLocked(j)
	}
	return rate, true
}

// activeDuplicatesLocked counts the URLs of urls that an active job already
// holds; the caller holds s.mu.
func (s *Server) activeDuplicatesLocked(urls []string, now time.Time) int {
	held := make(map[string]struct{})
	for _, other := range s.order {
		if !other.activeAt(now) {
			continue
		}
		for _, u := range other.urls {
			held[u] = struct{}{}
		}
	}

	n := 0
	for _, u := range urls {
		if _, ok := held[u]; ok {
			n++
		}
	}
	return n
}
