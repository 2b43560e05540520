package batchapi

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
)

// Class is the category of a failed call that decides how the pipeline
// treats it.
type Class int

const (
	ClassRetryable   Class = iota + 1 // timeouts, network errors, 5xx, 429: try again later
	ClassBadRequest                   // 400, or a request rejected before sending: do not resend it unchanged
	ClassNotFound                     // 404: unknown batch id or missing file
	ClassAuth                         // 401, 403 on API calls: stop the service
	ClassNoCredits                    // 402: pause until credits return
	ClassLinkExpired                  // 403 from the file store: ask for status again for fresh links
	ClassCanceled                     // the caller's ctx was canceled or passed its deadline
)

// String returns the class name in snake_case, suitable as a metric label.
func (c Class) String() string {
	switch c {
	case ClassRetryable:
		return "retryable"
	case ClassBadRequest:
		return "bad_request"
	case ClassNotFound:
		return "not_found"
	case ClassAuth:
		return "auth"
	case ClassNoCredits:
		return "no_credits"
	case ClassLinkExpired:
		return "link_expired"
	case ClassCanceled:
		return "canceled"
	}
	return "Class(" + strconv.Itoa(int(c)) + ")"
}

// Classify decides how the pipeline treats err, a non-nil error returned by
// this package (or by reading a download body). It returns 0 for nil.
//
// A context.DeadlineExceeded counts as the caller's deadline, hence
// ClassCanceled, unless the client marked the error with ErrCallTimeout: the
// client does so only when its own per-call timeout fired while the caller's
// context was still live.
func Classify(err error) Class {
	var apiErr *APIError
	switch {
	case err == nil:
		return 0
	// The per-call or download timeout fired: the server or the network was
	// slow, so a later attempt may succeed.
	case errors.Is(err, ErrCallTimeout):
		return ClassRetryable
	// The caller gave up: not a failure of the API.
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return ClassCanceled
	// Rejected by our own checks before anything was sent.
	case errors.Is(err, ErrInvalidRequest):
		return ClassBadRequest
	case errors.As(err, &apiErr):
		return classifyStatus(apiErr)
	// A cut body, a reset connection, a refused dial or a DNS failure.
	case errors.Is(err, io.ErrUnexpectedEOF), isNetError(err):
		return ClassRetryable
	}
	// Anything else (a malformed response, an unknown error) is retried; the
	// pipeline bounds the attempts.
	return ClassRetryable
}

// classifyStatus decides by the HTTP status of an error response.
func classifyStatus(e *APIError) Class {
	switch {
	// The request itself is wrong (validation, missing version header).
	case e.StatusCode == http.StatusBadRequest:
		return ClassBadRequest
	// Missing or wrong key.
	case e.StatusCode == http.StatusUnauthorized:
		return ClassAuth
	// Insufficient credits: terminal for the job until credits return.
	case e.StatusCode == http.StatusPaymentRequired:
		return ClassNoCredits
	// The object store rejects an expired pre-signed link with 403.
	case e.StatusCode == http.StatusForbidden && e.Op == OpDownload:
		return ClassLinkExpired
	// On API calls 403 means the key has no access to contact enrichment.
	case e.StatusCode == http.StatusForbidden:
		return ClassAuth
	// Unknown batch id, another account's job, or a missing result file.
	case e.StatusCode == http.StatusNotFound:
		return ClassNotFound
	// Rate limit or too many active jobs: wait and try again.
	case e.StatusCode == http.StatusTooManyRequests:
		return ClassRetryable
	// Server-side failures are transient.
	case e.StatusCode >= 500:
		return ClassRetryable
	}
	// Other statuses are not part of the API; treat them as transient.
	return ClassRetryable
}

// isNetError reports whether err comes from the transport (a *url.Error
// wraps every error of http.Client.Do, and it implements net.Error).
func isNetError(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr)
}
