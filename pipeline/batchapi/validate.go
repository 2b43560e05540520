package batchapi

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// allowedFields lists the field values the API accepts.
var allowedFields = []string{FieldBusinessEmail, FieldPersonal, FieldPersonalEmails, FieldPhoneNumbers}

// Validate checks r against the API's rules: 1..300 non-empty URLs, and at
// least one field, each one of the four Field constants. The chunk size must
// be 0 or 10..1000, and the webhook URL empty or an absolute http(s) URL.
// Errors wrap ErrInvalidRequest and name the bad value.
func (r SubmitRequest) Validate() error {
	switch {
	case len(r.URLs) == 0:
		return fmt.Errorf("%w: no profile URLs", ErrInvalidRequest)
	case len(r.URLs) > MaxURLsPerJob:
		return fmt.Errorf("%w: %d profile URLs, more than the maximum of %d per job", ErrInvalidRequest, len(r.URLs), MaxURLsPerJob)
	case len(r.Fields) == 0:
		return fmt.Errorf("%w: no fields", ErrInvalidRequest)
	case r.ChunkSize != 0 && (r.ChunkSize < MinChunkSize || r.ChunkSize > MaxChunkSize):
		return fmt.Errorf("%w: chunk size %d outside %d..%d", ErrInvalidRequest, r.ChunkSize, MinChunkSize, MaxChunkSize)
	}
	for i, u := range r.URLs {
		if strings.TrimSpace(u) == "" {
			return fmt.Errorf("%w: profile URL %d of %d is empty", ErrInvalidRequest, i+1, len(r.URLs))
		}
	}
	for _, f := range r.Fields {
		if !slices.Contains(allowedFields, f) {
			return fmt.Errorf("%w: unknown field %q (allowed: %s)", ErrInvalidRequest, f, strings.Join(allowedFields, ", "))
		}
	}
	if r.WebhookURL != "" && !isAbsoluteHTTP(r.WebhookURL) {
		return fmt.Errorf("%w: webhook URL %q is not an absolute http or https URL", ErrInvalidRequest, redactURL(r.WebhookURL))
	}
	return nil
}

// Validate checks o against the API's rules: a limit of 0..100 and a status
// that is empty or one of the four Status constants. Errors wrap
// ErrInvalidRequest and name the bad value.
func (o ListOptions) Validate() error {
	if o.Limit < 0 || o.Limit > MaxListLimit {
		return fmt.Errorf("%w: list limit %d outside 0..%d", ErrInvalidRequest, o.Limit, MaxListLimit)
	}
	switch o.Status {
	case "", StatusPending, StatusProcessing, StatusCompleted, StatusFailed:
		return nil
	}
	return fmt.Errorf("%w: unknown job status %q (allowed: %s, %s, %s, %s)", ErrInvalidRequest,
		o.Status, StatusPending, StatusProcessing, StatusCompleted, StatusFailed)
}

// isAbsoluteHTTP reports whether raw parses as an http or https URL with a
// host.
func isAbsoluteHTTP(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
