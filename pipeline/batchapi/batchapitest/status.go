package batchapitest

import (
	"net/http"
	"time"
)

// jobStatus is the status object of GET /batch/{id}, the list and the webhook.
type jobStatus struct {
	BatchID           string   `json:"batch_id"`
	Status            string   `json:"status"`
	Entity            string   `json:"entity"`
	Action            string   `json:"action"`
	IdentifierCount   int      `json:"identifier_count"`
	EntitiesRequested int      `json:"entities_requested"`
	ResultCount       int      `json:"result_count"`
	EntitiesFulfilled int      `json:"entities_fulfilled"`
	CreatedAt         string   `json:"created_at"`
	CompletedAt       string   `json:"completed_at,omitempty"`
	DownloadURL       string   `json:"download_url,omitempty"`
	DownloadURLs      []string `json:"download_urls,omitzero"`
	ErrorMessage      string   `json:"error_message,omitempty"`
}

const (
	entityPerson        = "person"
	actionContactEnrich = "contact_enrich"
)

// timestampLayout is ISO-8601 in UTC with microseconds and a +00:00 offset.
const timestampLayout = "2006-01-02T15:04:05.000000+00:00"

func formatTimestamp(t time.Time) string {
	return t.UTC().Format(timestampLayout)
}

// statusOf describes j as of at; completed jobs get links signed at now.
func (s *Server) statusOf(j *job, at, now time.Time, baseURL string) jobStatus {
	count := j.resultCountAt(at)
	st := jobStatus{
		BatchID:           j.id,
		Status:            j.statusAt(at),
		Entity:            entityPerson,
		Action:            actionContactEnrich,
		IdentifierCount:   len(j.urls),
		EntitiesRequested: len(j.urls),
		ResultCount:       count,
		EntitiesFulfilled: j.fulfilled[count],
		CreatedAt:         formatTimestamp(j.created),
	}

	switch st.Status {
	case StatusFailed:
		st.CompletedAt = formatTimestamp(j.end())
		st.ErrorMessage = j.failure
	case StatusCompleted:
		st.CompletedAt = formatTimestamp(j.end())
		ttl := s.cfg.LinkTTL
		if j.linkTTL > 0 {
			ttl = j.linkTTL
		}
		expires := now.Add(ttl)
		st.DownloadURL = s.signedLink(baseURL, j.id, fileAll, expires)
		st.DownloadURLs = make([]string, 0, j.parts())
		for k := 1; k <= j.parts(); k++ {
			st.DownloadURLs = append(st.DownloadURLs, s.signedLink(baseURL, j.id, partName(k), expires))
		}
	}
	return st
}

// handleStatus serves GET /batch/{id}.
func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.StatusCalls++
	s.mu.Unlock()

	if !s.allowMethod(w, r, http.MethodGet) || !s.checkAuth(w, r) || !s.checkVersion(w, r, false) ||
		s.requestFault(w, false) {
		return
	}

	id := r.PathValue("id")
	now := s.now()
	s.mu.Lock()
	j, ok := s.jobs[id]
	s.mu.Unlock()
	if !ok {
		s.writeError(w, http.StatusNotFound, errNotFound, "batch "+id+" not found", map[string]any{"batch_id": id})
		return
	}
	s.writeJSON(w, http.StatusOK, s.statusOf(j, now, now, s.baseURL(r)))
}

// baseURL is the configured public URL, or http:// and the request's Host.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return s.cfg.PublicURL
	}
	return "http://" + r.Host
}
