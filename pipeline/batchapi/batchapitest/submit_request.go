package batchapitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// MaxURLsPerJob is the most profile URLs one submit may carry.
const MaxURLsPerJob = 300

// Bounds of chunk_size, the number of records per part file.
const (
	MinChunkSize = 10
	MaxChunkSize = 1000
)

// Keys of the submit body; no other key is accepted.
const (
	keyURLs       = "professional_network_profile_urls"
	keyFields     = "fields"
	keyWebhookURL = "webhook_url"
	keyChunkSize  = "chunk_size"
	keyVerified   = "verified"
)

var allowedKeys = []string{keyURLs, keyFields, keyWebhookURL, keyChunkSize, keyVerified}

// submitRequest is a validated submit body.
type submitRequest struct {
	urls       []string
	fields     []string
	webhookURL string
	chunkSize  int // 0 when not given
	verified   bool
}

// requestError is the message and error.metadata of a 400 response.
type requestError struct {
	msg      string
	metadata map[string]any
}

func badRequest(metadata map[string]any, format string, args ...any) *requestError {
	return &requestError{msg: fmt.Sprintf(format, args...), metadata: metadata}
}

// parseSubmit decodes and validates a submit body, checking the keys, the
// URL count, the fields, chunk_size, verified, webhook_url and finally each URL.
func parseSubmit(body io.Reader) (submitRequest, *requestError) {
	raw, rerr := decodeObject(body)
	if rerr != nil {
		return submitRequest{}, rerr
	}

	var req submitRequest
	steps := []func(map[string]json.RawMessage, *submitRequest) *requestError{
		parseURLs, parseFields, parseChunkSize, parseVerified, parseWebhookURL, checkIdentifiers,
	}
	for _, step := range steps {
		if rerr := step(raw, &req); rerr != nil {
			return submitRequest{}, rerr
		}
	}
	return req, nil
}

// decodeObject decodes one JSON object and rejects unknown keys and trailing data.
func decodeObject(body io.Reader) (map[string]json.RawMessage, *requestError) {
	dec := json.NewDecoder(body)
	var raw map[string]json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, badRequest(nil, "invalid JSON body: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, badRequest(nil, "invalid JSON body: data after the object")
	}

	var unknown []string
	for k := range raw {
		if !slices.Contains(allowedKeys, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, badRequest(map[string]any{"unknown_keys": unknown, "allowed_keys": allowedKeys},
			"unknown keys in body: %s", strings.Join(unknown, ", "))
	}
	return raw, nil
}

// parseList reads a list of strings or one comma-separated string; ok is
// false when the key is missing or null.
func parseList(raw json.RawMessage, key string) (list []string, ok bool, rerr *requestError) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, false, nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, false, badRequest(nil, "invalid %s: %v", key, err)
		}
		if strings.TrimSpace(s) == "" {
			return nil, true, nil
		}
		for part := range strings.SplitSeq(s, ",") {
			list = append(list, strings.TrimSpace(part))
		}
		return list, true, nil
	case '[':
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, false, badRequest(nil, "invalid %s: want a list of strings: %v", key, err)
		}
		return list, true, nil
	default:
		return nil, false, badRequest(nil, "invalid %s: want a list of strings or a comma-separated string", key)
	}
}

func parseURLs(raw map[string]json.RawMessage, req *submitRequest) *requestError {
	urls, ok, rerr := parseList(raw[keyURLs], keyURLs)
	switch {
	case rerr != nil:
		return rerr
	case !ok:
		return badRequest(nil, "missing %s", keyURLs)
	case len(urls) == 0:
		return badRequest(nil, "%s is empty; send 1 to %d URLs", keyURLs, MaxURLsPerJob)
	case len(urls) > MaxURLsPerJob:
		return badRequest(map[string]any{"max_identifiers": MaxURLsPerJob, "identifier_count": len(urls)},
			"%s has %d URLs; send at most %d", keyURLs, len(urls), MaxURLsPerJob)
	}
	req.urls = urls
	return nil
}

func parseFields(raw map[string]json.RawMessage, req *submitRequest) *requestError {
	fields, ok, rerr := parseList(raw[keyFields], keyFields)
	switch {
	case rerr != nil:
		return rerr
	case !ok:
		return badRequest(map[string]any{"available_fields": availableFields}, "missing %s", keyFields)
	case len(fields) == 0:
		return badRequest(map[string]any{"available_fields": availableFields}, "%s is empty", keyFields)
	}

	var unknown []string
	for _, f := range fields {
		if !slices.Contains(availableFields, f) {
			unknown = append(unknown, f)
		}
	}
	if len(unknown) > 0 {
		return badRequest(map[string]any{"available_fields": availableFields, "invalid_fields": unknown},
			"unknown %s: %s", keyFields, strings.Join(unknown, ", "))
	}
	req.fields = fields
	return nil
}

func parseChunkSize(raw map[string]json.RawMessage, req *submitRequest) *requestError {
	v := bytes.TrimSpace(raw[keyChunkSize])
	if len(v) == 0 || string(v) == "null" {
		return nil
	}
	n, err := strconv.Atoi(string(v))
	if err != nil || n < MinChunkSize || n > MaxChunkSize {
		return badRequest(map[string]any{"min": MinChunkSize, "max": MaxChunkSize},
			"invalid %s %s: want an integer from %d to %d", keyChunkSize, v, MinChunkSize, MaxChunkSize)
	}
	req.chunkSize = n
	return nil
}

func parseVerified(raw map[string]json.RawMessage, req *submitRequest) *requestError {
	v := bytes.TrimSpace(raw[keyVerified])
	switch string(v) {
	case "", "null", "false":
		return nil
	case "true":
		req.verified = true
		return nil
	default:
		return badRequest(nil, "invalid %s %s: want true or false", keyVerified, v)
	}
}

func parseWebhookURL(raw map[string]json.RawMessage, req *submitRequest) *requestError {
	v := bytes.TrimSpace(raw[keyWebhookURL])
	if len(v) == 0 || string(v) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return badRequest(nil, "invalid %s: want a string", keyWebhookURL)
	}
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return badRequest(nil, "invalid %s %q: want an absolute http or https URL", keyWebhookURL, s)
	}
	req.webhookURL = s
	return nil
}

// checkIdentifiers rejects the whole job when any URL is not a person profile URL.
func checkIdentifiers(_ map[string]json.RawMessage, req *submitRequest) *requestError {
	var invalid []string
	for _, u := range req.urls {
		if !isProfileURL(u) {
			invalid = append(invalid, u)
		}
	}
	if len(invalid) > 0 {
		return badRequest(map[string]any{"invalid_identifiers": invalid},
			"%d of %d URLs are not professional network profile URLs", len(invalid), len(req.urls))
	}
	return nil
}

// isProfileURL reports whether s is an http(s) URL on linkedin.com or one of
// its subdomains with the path /in/<slug>, optionally ending in a slash.
// Query and fragment are allowed.
func isProfileURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || u.Port() != "" {
		return false
	}
	host := strings.ToLower(u.Hostname())
	if host != "linkedin.com" && !strings.HasSuffix(host, ".linkedin.com") {
		return false
	}
	slug, ok := strings.CutPrefix(u.Path, "/in/")
	slug = strings.TrimSuffix(slug, "/")
	return ok && slug != "" && !strings.Contains(slug, "/")
}
