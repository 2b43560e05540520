package batchapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Size limits of response bodies: a successful API response (a list page of 100
// jobs with their links is far below it) and the part of an error body that
// is read.
const (
	maxResponseBytes  = 8 << 20
	maxErrorBodyBytes = 64 << 10
)

const userAgent = "contact-enricher-batchapi"

// apiCall is one request of the API, without its per-attempt state.
type apiCall struct {
	op     string // OpSubmit, OpStatus or OpList
	method string
	path   string // below the base URL, already escaped
	query  url.Values
	body   []byte // JSON; nil for none
}

// callJSON makes one attempt of call under CallTimeout and decodes a 2xx
// response into out. A non-2xx response returns an *APIError.
func (c *Client) callJSON(ctx context.Context, call apiCall, out any) error {
	callCtx, cancel := context.WithTimeout(ctx, c.callTimeout)
	defer cancel()

	req, err := c.newAPIRequest(callCtx, call)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return markContextError(ctx, callCtx, c.callTimeout, err)
	}
	defer resp.Body.Close()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return c.responseError(call.op, resp, newScrubber(c.key.Reveal()))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return markContextError(ctx, callCtx, c.callTimeout, fmt.Errorf("reading response: %w", err))
	}
	if len(body) > maxResponseBytes {
		return fmt.Errorf("%w: response larger than %d bytes", ErrMalformedResponse, maxResponseBytes)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%w: decoding response: %w", ErrMalformedResponse, err)
	}
	return nil
}

// newAPIRequest builds the HTTP request of call with the key, the version
// header and, for a body, its content type.
func (c *Client) newAPIRequest(ctx context.Context, call apiCall) (*http.Request, error) {
	target := c.baseURL + call.path
	if len(call.query) > 0 {
		target += "?" + call.query.Encode()
	}
	var body io.Reader
	if call.body != nil {
		body = bytes.NewReader(call.body)
	}
	req, err := http.NewRequestWithContext(ctx, call.method, target, body)
	if err != nil {
		return nil, fmt.Errorf("building %s request: %w", call.op, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.key.Reveal())
	req.Header.Set("X-Api-Version", APIVersion)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if call.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// markContextError tells Classify which context ended: when the caller's ctx
// is done, the result wraps ctx.Err() (ClassCanceled); when only the
// call's own timeout fired, it wraps ErrCallTimeout (ClassRetryable).
func markContextError(ctx, callCtx context.Context, timeout time.Duration, err error) error {
	switch {
	case ctx.Err() != nil:
		if errors.Is(err, ctx.Err()) {
			return err
		}
		return fmt.Errorf("%w: %w", ctx.Err(), err)
	case callCtx.Err() != nil:
		return fmt.Errorf("%w after %s: %w", ErrCallTimeout, timeout, err)
	}
	return err
}

// responseError reads the error response resp of op into an *APIError, removing
// the secrets of sc from everything it keeps of the body.
func (c *Client) responseError(op string, resp *http.Response, sc scrubber) *APIError {
	// A body cut short by a timeout still yields what was read.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodyBytes))
	apiErr := &APIError{
		Op:         op,
		StatusCode: resp.StatusCode,
		RetryAfter: c.retryHint(resp.Header),
	}
	parseErrorBody(apiErr, body, sc)
	return apiErr
}
