package batchapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Client calls the Batch Contact Enrich API. It is safe for concurrent use
// and holds no goroutines or resources of its own beyond its HTTP client, so
// it needs no Close.
type Client struct {
	baseURL         string
	key             Secret
	http            *http.Client
	callTimeout     time.Duration
	downloadTimeout time.Duration
	maxBackoff      time.Duration
	log             *slog.Logger

	// Hooks that tests in this package replace to observe or shorten waits.
	wait  func(context.Context, time.Duration) error
	randN func(time.Duration) time.Duration
	now   func() time.Time
}

// New returns a Client for cfg after checking it. Errors wrap
// ErrInvalidConfig and name the bad field.
func New(cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Client{
		baseURL:         cfg.BaseURL,
		key:             cfg.APIKey,
		http:            cfg.HTTPClient,
		callTimeout:     cfg.CallTimeout,
		downloadTimeout: cfg.DownloadTimeout,
		maxBackoff:      cfg.MaxBackoff,
		log:             cfg.Logger,
		wait:            sleepContext,
		randN:           rand.N[time.Duration],
		now:             time.Now,
	}, nil
}

// Submit creates a job of req's URLs and returns it as the API created it.
// It checks req first (errors wrap ErrInvalidRequest) and retries only 429
// responses, which create no job, until ctx ends. Any other failure is
// returned: a retryable one (a timeout, a cut response, a 5xx) does not prove
// that no job was created, so look for the job through List before
// submitting the same URLs again.
func (c *Client) Submit(ctx context.Context, req SubmitRequest) (Job, error) {
	if err := req.Validate(); err != nil {
		return Job{}, fmt.Errorf("submitting job of %d URLs: %w", len(req.URLs), err)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return Job{}, fmt.Errorf("encoding job of %d URLs: %w", len(req.URLs), err)
	}

	var job Job
	call := apiCall{op: OpSubmit, method: http.MethodPost, path: "/batch/person/contact/enrich", body: body}
	err = c.withRetry(ctx, OpSubmit, func(ctx context.Context) error {
		return c.callJSON(ctx, call, &job)
	})
	if err != nil {
		return Job{}, fmt.Errorf("submitting job of %d URLs: %w", len(req.URLs), err)
	}
	if job.BatchID == "" {
		return Job{}, fmt.Errorf("submitting job of %d URLs: %w: response has no batch_id", len(req.URLs), ErrMalformedResponse)
	}
	return job, nil
}

// Status returns the current state of the job batchID, retrying 429 responses
// until ctx ends. An unknown id returns an *APIError with StatusCode 404.
// Each call returns freshly signed download links.
func (c *Client) Status(ctx context.Context, batchID string) (Job, error) {
	if batchID == "" {
		return Job{}, fmt.Errorf("getting status of batch: %w: empty batch id", ErrInvalidRequest)
	}

	var job Job
	call := apiCall{op: OpStatus, method: http.MethodGet, path: "/batch/" + url.PathEscape(batchID)}
	err := c.withRetry(ctx, OpStatus, func(ctx context.Context) error {
		return c.callJSON(ctx, call, &job)
	})
	if err != nil {
		return Job{}, fmt.Errorf("getting status of batch %s: %w", batchID, err)
	}
	return job, nil
}

// List returns one page of the account's jobs, newest first, retrying 429
// responses until ctx ends. It checks opts first (errors wrap
// ErrInvalidRequest).
func (c *Client) List(ctx context.Context, opts ListOptions) (ListPage, error) {
	if err := opts.Validate(); err != nil {
		return ListPage{}, fmt.Errorf("listing batches: %w", err)
	}

	query := url.Values{}
	if opts.Limit > 0 {
		query.Set("limit", strconv.Itoa(opts.Limit))
	}
	if opts.Status != "" {
		query.Set("status", opts.Status)
	}
	if opts.Cursor != "" {
		query.Set("cursor", opts.Cursor)
	}

	var page ListPage
	call := apiCall{op: OpList, method: http.MethodGet, path: "/batch", query: query}
	err := c.withRetry(ctx, OpList, func(ctx context.Context) error {
		return c.callJSON(ctx, call, &page)
	})
	if err != nil {
		return ListPage{}, fmt.Errorf("listing batches: %w", err)
	}
	return page, nil
}
