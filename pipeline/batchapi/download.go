package batchapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Download opens the result file at rawURL, a pre-signed object-store link
// from Job.DownloadURL or Job.DownloadURLs, and returns its body, which the
// caller must close. The request carries neither the API key nor the version
// header. The body is returned as served (usually gzip; the caller detects
// it by its magic bytes), except that net/http removes a Content-Encoding:
// gzip layer itself.
//
// CallTimeout bounds the wait for the response headers and DownloadTimeout
// the whole download until Close. A 404 returns an *APIError with StatusCode
// 404; a 403 returns one with Type TypeLinkExpired. Errors show the link
// without its query, which holds the signature.
func (c *Client) Download(ctx context.Context, rawURL string) (io.ReadCloser, error) {
	redactedURL := redactURL(rawURL)
	if !isAbsoluteHTTP(rawURL) {
		return nil, fmt.Errorf("downloading %s: %w: not an absolute http or https URL", redactedURL, ErrInvalidRequest)
	}

	downloadCtx, cancelDownload := context.WithTimeout(ctx, c.downloadTimeout)
	body, cancelReq, err := c.openDownload(ctx, downloadCtx, rawURL, redactedURL)
	if err != nil {
		cancelDownload()
		return nil, fmt.Errorf("downloading %s: %w", redactedURL, err)
	}
	return &downloadBody{
		body:        body,
		ctx:         ctx,
		downloadCtx: downloadCtx,
		timeout:     c.downloadTimeout,
		redactedURL: redactedURL,
		cancel: func() {
			cancelReq()
			cancelDownload()
		},
	}, nil
}

// openDownload sends the GET and returns the body of a 2xx response with the
// function that ends its request. A timer cancels the request when the
// headers take longer than CallTimeout; once they have arrived, only
// downloadCtx bounds the body.
func (c *Client) openDownload(ctx, downloadCtx context.Context, rawURL, redactedURL string) (io.ReadCloser, context.CancelFunc, error) {
	reqCtx, cancelReq := context.WithCancel(downloadCtx)
	req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, rawURL, nil)
	if err != nil {
		cancelReq()
		return nil, nil, fmt.Errorf("%w: building request", ErrInvalidRequest)
	}
	req.Header.Set("User-Agent", userAgent)

	var headersLate atomic.Bool
	timer := time.AfterFunc(c.callTimeout, func() {
		headersLate.Store(true)
		cancelReq()
	})
	resp, err := c.http.Do(req)
	timer.Stop()
	if err == nil && headersLate.Load() {
		resp.Body.Close()
		err = context.DeadlineExceeded
	}
	if err != nil {
		cancelReq()
		err = redactURLError(err, redactedURL)
		if headersLate.Load() && ctx.Err() == nil {
			return nil, nil, fmt.Errorf("%w: no response headers after %s: %w", ErrCallTimeout, c.callTimeout, err)
		}
		return nil, nil, markContextError(ctx, downloadCtx, c.downloadTimeout, err)
	}

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer cancelReq()
		defer resp.Body.Close()
		return nil, nil, c.downloadError(resp, rawURL)
	}
	return resp.Body, cancelReq, nil
}

// downloadError turns a non-2xx response of the file store into an *APIError.
// A 403 means the pre-signed link expired, whatever the body contains.
func (c *Client) downloadError(resp *http.Response, rawURL string) *APIError {
	secrets := append(urlSecrets(rawURL), c.key.Reveal())
	apiErr := c.responseError(OpDownload, resp, newScrubber(secrets...))
	if apiErr.StatusCode == http.StatusForbidden {
		apiErr.Type = TypeLinkExpired
	}
	return apiErr
}

// redactURLError replaces the URL in a *url.Error from http.Client.Do, which
// would otherwise print the link with its signature.
func redactURLError(err error, redactedURL string) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		urlErr.URL = redactedURL
	}
	return err
}

// downloadBody is the body returned by Download. Its read errors tell
// Classify whether the caller's ctx ended (ClassCanceled) or the download
// timed out (ErrCallTimeout). Close is idempotent and ends the download's
// context. Like any io.Reader it is not safe for concurrent reads.
type downloadBody struct {
	body        io.ReadCloser
	ctx         context.Context // the caller's
	downloadCtx context.Context // ctx with DownloadTimeout
	timeout     time.Duration
	redactedURL string // the link without its query
	cancel      func() // ends the request and the download's context
	closeOnce   sync.Once
	closeErr    error
}

func (b *downloadBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	if err != nil && err != io.EOF {
		err = redactURLError(err, b.redactedURL)
		err = fmt.Errorf("reading download %s: %w", b.redactedURL, markContextError(b.ctx, b.downloadCtx, b.timeout, err))
	}
	return n, err
}

func (b *downloadBody) Close() error {
	b.closeOnce.Do(func() {
		b.closeErr = b.body.Close()
		b.cancel()
	})
	return b.closeErr
}
