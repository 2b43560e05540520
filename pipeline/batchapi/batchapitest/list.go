package batchapitest

import (
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Page sizes of GET /batch.
const (
	defaultListLimit = 20
	maxListLimit     = 100
)

var listStatuses = []string{StatusPending, StatusProcessing, StatusCompleted, StatusFailed}

type listPage struct {
	Jobs       []jobStatus `json:"jobs"`
	NextCursor *string     `json:"next_cursor"`
	HasMore    bool        `json:"has_more"`
}

// listQuery is a validated query of GET /batch.
type listQuery struct {
	limit  int
	status string // "" for any
	cursor string // "" for the first page
}

// handleList serves GET /batch: jobs newest first, filtered by status, in
// pages that continue after the job named by cursor.
func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.ListCalls++
	s.mu.Unlock()

	if !s.allowMethod(w, r, http.MethodGet) || !s.checkAuth(w, r) || !s.checkVersion(w, r, false) ||
		s.requestFault(w, false) {
		return
	}
	q, rerr := parseListQuery(r)
	if rerr != nil {
		s.writeError(w, http.StatusBadRequest, errInvalidRequest, rerr.msg, rerr.metadata)
		return
	}

	now := s.now()
	jobs, hasMore, ok := s.selectJobs(q, now)
	if !ok {
		s.writeError(w, http.StatusBadRequest, errInvalidRequest, "unknown cursor "+q.cursor,
			map[string]any{"cursor": q.cursor})
		return
	}

	page := listPage{Jobs: make([]jobStatus, 0, len(jobs)), HasMore: hasMore}
	base := s.baseURL(r)
	for _, j := range jobs {
		page.Jobs = append(page.Jobs, s.statusOf(j, now, now, base))
	}
	if hasMore {
		next := jobs[len(jobs)-1].id
		page.NextCursor = &next
	}
	s.writeJSON(w, http.StatusOK, page)
}

func parseListQuery(r *http.Request) (listQuery, *requestError) {
	v := r.URL.Query()
	q := listQuery{limit: defaultListLimit, status: v.Get("status"), cursor: v.Get("cursor")}

	if text := v.Get("limit"); text != "" {
		n, err := strconv.Atoi(text)
		if err != nil {
			return listQuery{}, badRequest(nil, "invalid limit %q: want an integer from 1 to %d", text, maxListLimit)
		}
		q.limit = min(max(n, 1), maxListLimit)
	}
	if q.status != "" && !slices.Contains(listStatuses, q.status) {
		return listQuery{}, badRequest(map[string]any{"available_statuses": listStatuses},
			"invalid status %q: want one of pending, processing, completed, failed", q.status)
	}
	return q, nil
}

// selectJobs returns one page of jobs, newest first, and whether more match.
// ok is false when the cursor names no job.
func (s *Server) selectJobs(q listQuery, now time.Time) (page []*job, hasMore, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()

	start := len(s.order) - 1
	if q.cursor != "" {
		j, found := s.jobs[q.cursor]
		if !found {
			return nil, false, false
		}
		start = j.seq - 1
	}
	for i := start; i >= 0; i-- {
		j := s.order[i]
		if q.status != "" && j.statusAt(now) != q.status {
			continue
		}
		if len(page) == q.limit {
			return page, true, true
		}
		page = append(page, j)
	}
	return page, false, true
}
