package batchapitest

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// APIVersion is the only x-api-version value accepted.
const APIVersion = "2025-11-01"

// checkAuth responds with 401 and returns false unless r carries
// "Authorization: Bearer <key>" with the configured key.
func (s *Server) checkAuth(w http.ResponseWriter, r *http.Request) bool {
	scheme, key, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if ok && strings.EqualFold(scheme, "Bearer") &&
		subtle.ConstantTimeCompare([]byte(strings.TrimSpace(key)), []byte(s.cfg.APIKey)) == 1 {
		return true
	}
	// The message never repeats the key that was sent.
	s.writeError(w, http.StatusUnauthorized, errUnauthorized,
		"missing or invalid API key; send Authorization: Bearer <api key>", nil)
	return false
}

// checkVersion responds with 400 and returns false when x-api-version is set to
// another version, or is missing and required. Only the submit requires it;
// the other endpoints accept a request without it.
func (s *Server) checkVersion(w http.ResponseWriter, r *http.Request, required bool) bool {
	values := r.Header.Values("x-api-version")
	switch {
	case len(values) == 0 && !required:
		return true
	case len(values) == 0:
		s.writeError(w, http.StatusBadRequest, errInvalidRequest,
			"missing x-api-version header; send x-api-version: "+APIVersion,
			map[string]any{"supported_versions": []string{APIVersion}})
		return false
	case len(values) == 1 && values[0] == APIVersion:
		return true
	default:
		s.writeError(w, http.StatusBadRequest, errInvalidRequest,
			"unsupported x-api-version "+strings.Join(values, ",")+"; send "+APIVersion,
			map[string]any{"supported_versions": []string{APIVersion}})
		return false
	}
}
