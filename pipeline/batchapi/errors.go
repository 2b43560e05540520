package batchapi

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrInvalidRequest is wrapped by errors about a request the client rejects
// before sending it (a bad SubmitRequest, ListOptions, batch id or download
// URL). Resending it unchanged cannot succeed.
var ErrInvalidRequest = errors.New("invalid request")

// ErrInvalidConfig is wrapped by the errors of New.
var ErrInvalidConfig = errors.New("invalid config")

// ErrCallTimeout is wrapped by errors of a call that ran past
// Config.CallTimeout, or of a download that ran past Config.DownloadTimeout,
// while the caller's context was still live. Classify treats it as
// retryable; an expired caller context is ClassCanceled instead.
var ErrCallTimeout = errors.New("call timed out")

// ErrMalformedResponse is wrapped by errors about a 2xx response whose body
// cannot be decoded. After a submit it means the job may exist although its
// id is unknown.
var ErrMalformedResponse = errors.New("malformed response")

// Operation names used in APIError.Op and in log lines.
const (
	OpSubmit   = "submit"
	OpStatus   = "status"
	OpList     = "list"
	OpDownload = "download"
)

// TypeLinkExpired is APIError.Type of a download rejected with 403 by the file
// store: the pre-signed link expired, and a new status call returns fresh
// links.
const TypeLinkExpired = "link_expired"

// APIError is an HTTP error response of the API or of the file store.
// Its Error() never contains the API key or a download link's query string:
// the client removes them from Message and Metadata before returning it.
type APIError struct {
	Op         string         // OpSubmit, OpStatus, OpList or OpDownload
	StatusCode int            // HTTP status code
	Type       string         // error.type from the body, if any
	Message    string         // error.message from the body, or a short excerpt of a body that is not the API's JSON
	Metadata   map[string]any // error.metadata from the body, if any
	RetryAfter time.Duration  // from Retry-After or x-ratelimit-reset, capped at Config.MaxBackoff; 0 when absent
}

// Error returns the operation, the status code, the error type and the
// message, for example "status call returned HTTP 404 (not_found): batch
// not found".
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s call returned HTTP %d", e.Op, e.StatusCode)
	if e.Type != "" {
		fmt.Fprintf(&b, " (%s)", e.Type)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}
