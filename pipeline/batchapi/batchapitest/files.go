package batchapitest

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
)

// handleFile serves GET /files/{id}/{name}, a results file behind a
// pre-signed link: gzip-compressed JSON Lines, one line per submitted URL in
// submission order. Like an object store, it checks no API key and writes
// errors as XML.
func (s *Server) handleFile(w http.ResponseWriter, r *http.Request) {
	// A request that carries an API key is served, though the real store may
	// reject it. The counter lets tests catch a client that leaks the key.
	s.mu.Lock()
	s.stats.Downloads++
	if r.Header.Get("Authorization") != "" {
		s.stats.DownloadsWithAPIKey++
	}
	s.mu.Unlock()

	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeStoreError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.")
		return
	}
	id, name := r.PathValue("id"), r.PathValue("name")
	now := s.now()
	switch s.checkLink(filePath(id, name), r.URL.Query(), now) {
	case linkBadSignature:
		writeStoreError(w, http.StatusForbidden, "SignatureDoesNotMatch", "The request signature does not match.")
		return
	case linkExpired:
		writeStoreError(w, http.StatusForbidden, "AccessDenied", "Request has expired")
		return
	}

	s.mu.Lock()
	j := s.jobs[id]
	s.mu.Unlock()
	first, last, ok := fileRange(j, name, now)
	if !ok {
		writeStoreError(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	if j.fileFault != "" || j.shapes != 0 {
		s.serveFaultyFile(w, j, first, last)
		return
	}
	s.streamLines(w, j, first, last)
}

// fileRange returns the URL indexes [first, last) that file name of j holds.
// ok is false when the file does not exist: unknown job, job not completed,
// no records (or the EmptyResult fault), or a part number out of range.
func fileRange(j *job, name string, now time.Time) (first, last int, ok bool) {
	if j == nil || j.statusAt(now) != StatusCompleted || len(j.urls) == 0 || j.fileFault == FaultEmptyResult {
		return 0, 0, false
	}
	if name == fileAll {
		return 0, len(j.urls), true
	}
	k, err := strconv.Atoi(strings.TrimPrefix(name, "part-"))
	if !strings.HasPrefix(name, "part-") || err != nil || k < 1 || k > j.parts() {
		return 0, 0, false
	}
	first = (k - 1) * j.chunkSize
	return first, min(first+j.chunkSize, len(j.urls)), true
}

// streamLines writes the lines straight through a gzip writer, so no file is
// ever held in memory. The body is gzip without a Content-Encoding header,
// as an object store serves a .gz object.
func (s *Server) streamLines(w http.ResponseWriter, j *job, first, last int) {
	w.Header().Set("Content-Type", "application/gzip")
	w.WriteHeader(http.StatusOK)

	zw := gzip.NewWriter(w)
	for _, u := range j.urls[first:last] {
		line := append(resultLine(u, j.kinds), '\n')
		if _, err := zw.Write(line); err != nil {
			s.log.Debug("results download aborted", "batch_id", j.id, "error", err)
			return
		}
	}
	if err := zw.Close(); err != nil {
		s.log.Debug("results download aborted", "batch_id", j.id, "error", err)
	}
}
