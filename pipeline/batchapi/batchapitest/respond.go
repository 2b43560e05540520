package batchapitest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Values of error.type in an error body.
const (
	errUnauthorized        = "unauthorized"
	errInvalidRequest      = "invalid_request"
	errRateLimited         = "rate_limited"
	errNotFound            = "not_found"
	errInsufficientCredits = "insufficient_credits" // only by the NoCredits fault
	errForbidden           = "forbidden"            // only by the Forbidden fault
)

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Type     string         `json:"type"`
	Message  string         `json:"message"`
	Metadata map[string]any `json:"metadata"`
}

// writeError sends the API's error body; metadata may be nil.
func (s *Server) writeError(w http.ResponseWriter, status int, typ, msg string, metadata map[string]any) {
	if metadata == nil {
		metadata = map[string]any{}
	}
	s.writeJSON(w, status, errorBody{Error: errorDetail{Type: typ, Message: msg, Metadata: metadata}})
}

// writeJSON sends v with the rate headers of this moment. The caller must
// not hold s.mu.
func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	s.mu.Lock()
	rate := s.rateLocked(s.now())
	s.mu.Unlock()
	writeJSONRate(w, status, v, rate)
}

// writeJSONRate sends v with the rate headers of rate.
func writeJSONRate(w http.ResponseWriter, status int, v any, rate rateState) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("x-ratelimit-limit", strconv.Itoa(rate.limit))
	h.Set("x-ratelimit-remaining", strconv.Itoa(rate.remaining))
	h.Set("x-ratelimit-reset", strconv.Itoa(rate.reset))
	w.WriteHeader(status)
	// A write error means the client went away, so it cannot be reported.
	_ = json.NewEncoder(w).Encode(v)
}

// rateState is the job-slot view sent in the x-ratelimit-* headers.
type rateState struct {
	limit     int
	active    int // pending or processing jobs
	remaining int // free job slots
	reset     int // whole seconds until a slot frees; 0 when one is free
}

// rateLocked computes the slot state at now; the caller holds s.mu. It scans
// every job, which is cheap for the job counts a test or demo creates.
func (s *Server) rateLocked(now time.Time) rateState {
	active := 0
	var earliest time.Time
	for _, j := range s.order {
		if !j.activeAt(now) {
			continue
		}
		active++
		if end := j.end(); earliest.IsZero() || end.Before(earliest) {
			earliest = end
		}
	}

	st := rateState{limit: s.cfg.MaxActiveJobs, active: active, remaining: max(0, s.cfg.MaxActiveJobs-active)}
	if st.remaining == 0 {
		st.reset = secondsUntil(now, earliest)
	}
	return st
}

// secondsUntil rounds the wait up to whole seconds, at least 1.
func secondsUntil(now, t time.Time) int {
	d := t.Sub(now)
	secs := int((d + time.Second - 1) / time.Second)
	return max(1, secs)
}

// writeJSONBare sends v without any rate header.
func writeJSONBare(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeStoreError writes an error as an object store does, as an XML body.
func writeStoreError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	// code and msg are fixed strings of this package: nothing to escape.
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		"<Error><Code>" + code + "</Code><Message>" + msg + "</Message></Error>\n"))
}
