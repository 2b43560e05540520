package batchapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"testing"
)

// timeoutError is a net.Error that reports a timeout, like a dial timeout.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestClassify(t *testing.T) {
	apiErr := func(op string, status int) error {
		return fmt.Errorf("calling: %w", &APIError{Op: op, StatusCode: status})
	}
	tests := []struct {
		name string
		err  error
		want Class
	}{
		{"nil is no class", nil, 0},
		{"canceled context", context.Canceled, ClassCanceled},
		{"wrapped canceled context", fmt.Errorf("listing batches: %w", context.Canceled), ClassCanceled},
		{"caller deadline", &url.Error{Op: "Get", URL: "u", Err: context.DeadlineExceeded}, ClassCanceled},
		{"per-call timeout", fmt.Errorf("%w after 30s: %w", ErrCallTimeout, context.DeadlineExceeded), ClassRetryable},
		{"refused connection", &url.Error{Op: "Get", URL: "u", Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}, ClassRetryable},
		{"net timeout", &url.Error{Op: "Get", URL: "u", Err: timeoutError{}}, ClassRetryable},
		{"body cut short", fmt.Errorf("reading download: %w", io.ErrUnexpectedEOF), ClassRetryable},
		{"malformed response", fmt.Errorf("%w: decoding response", ErrMalformedResponse), ClassRetryable},
		{"request rejected before sending", fmt.Errorf("%w: no fields", ErrInvalidRequest), ClassBadRequest},
		{"400", apiErr(OpSubmit, 400), ClassBadRequest},
		{"401", apiErr(OpStatus, 401), ClassAuth},
		{"402", apiErr(OpSubmit, 402), ClassNoCredits},
		{"403 on an API call", apiErr(OpList, 403), ClassAuth},
		{"403 on a download", apiErr(OpDownload, 403), ClassLinkExpired},
		{"404 on an API call", apiErr(OpStatus, 404), ClassNotFound},
		{"404 on a download", apiErr(OpDownload, 404), ClassNotFound},
		{"429", apiErr(OpSubmit, 429), ClassRetryable},
		{"500", apiErr(OpSubmit, 500), ClassRetryable},
		{"503 on a download", apiErr(OpDownload, 503), ClassRetryable},
		{"unexpected status", apiErr(OpStatus, 418), ClassRetryable},
		{"unknown error", errors.New("something odd"), ClassRetryable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.err); got != tt.want {
				t.Errorf("Classify(%v) = %s, want %s", tt.err, got, tt.want)
			}
		})
	}
}

func TestClassString(t *testing.T) {
	want := map[Class]string{
		ClassRetryable: "retryable", ClassBadRequest: "bad_request", ClassNotFound: "not_found",
		ClassAuth: "auth", ClassNoCredits: "no_credits", ClassLinkExpired: "link_expired",
		ClassCanceled: "canceled", 0: "Class(0)", 99: "Class(99)",
	}
	for class, name := range want {
		if got := class.String(); got != name {
			t.Errorf("Class(%d).String() = %q, want %q", int(class), got, name)
		}
	}
}
