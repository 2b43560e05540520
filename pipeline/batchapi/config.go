package batchapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
)

// Defaults of Config.
const (
	DefaultCallTimeout     = 30 * time.Second
	DefaultDownloadTimeout = 30 * time.Minute
	DefaultMaxBackoff      = 60 * time.Second
)

// Config configures a Client. Zero fields take the defaults named.
type Config struct {
	// BaseURL is the API's absolute http(s) address, with an optional path
	// prefix and no query. A trailing slash is ignored. Default:
	// DefaultBaseURL.
	BaseURL string
	// APIKey is sent as "Authorization: Bearer <key>" on API calls, never on
	// downloads. Required.
	APIKey Secret
	// HTTPClient sends every request. Its Timeout, when set, bounds a whole
	// download including the body read, so leave it 0. Default: a client with
	// its own copy of http.DefaultTransport and no overall timeout.
	HTTPClient *http.Client
	// CallTimeout bounds each attempt of an API call, and the wait for a
	// download's response headers. Waits between 429 retries are not
	// included. Default: 30s.
	CallTimeout time.Duration
	// DownloadTimeout bounds a whole download, from the request until the
	// returned body is closed. Default: 30m.
	DownloadTimeout time.Duration
	// MaxBackoff caps one wait after a 429 response. Default: 60s.
	MaxBackoff time.Duration
	// Logger receives a Warn line per 429 retry. Default: slog.Default().
	Logger *slog.Logger
}

// withDefaults checks cfg and returns it with the defaults filled in. Errors
// wrap ErrInvalidConfig and name the field; they never show the key.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if err := checkBaseURL(cfg.BaseURL); err != nil {
		return Config{}, err
	}
	if err := checkAPIKey(cfg.APIKey); err != nil {
		return Config{}, err
	}

	durations := []struct {
		name  string
		value *time.Duration
		def   time.Duration
	}{
		{"CallTimeout", &cfg.CallTimeout, DefaultCallTimeout},
		{"DownloadTimeout", &cfg.DownloadTimeout, DefaultDownloadTimeout},
		{"MaxBackoff", &cfg.MaxBackoff, DefaultMaxBackoff},
	}
	for _, d := range durations {
		if *d.value < 0 {
			return Config{}, fmt.Errorf("%w: %s %s is negative", ErrInvalidConfig, d.name, *d.value)
		}
		if *d.value == 0 {
			*d.value = d.def
		}
	}

	if cfg.HTTPClient == nil {
		cfg.HTTPClient = newHTTPClient()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg, nil
}

func checkBaseURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("%w: BaseURL %q is not an absolute http or https URL", ErrInvalidConfig, redactURL(raw))
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return fmt.Errorf("%w: BaseURL %q has a query or fragment", ErrInvalidConfig, redactURL(raw))
	case u.User != nil:
		return fmt.Errorf("%w: BaseURL %q contains user info; pass the key as APIKey", ErrInvalidConfig, redactURL(raw))
	}
	return nil
}

// checkAPIKey rejects an empty key and one that cannot be sent in a header.
func checkAPIKey(key Secret) error {
	if key == "" {
		return fmt.Errorf("%w: APIKey is empty", ErrInvalidConfig)
	}
	if strings.ContainsFunc(key.Reveal(), func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return fmt.Errorf("%w: APIKey contains whitespace or control characters", ErrInvalidConfig)
	}
	return nil
}

// newHTTPClient returns a client with a transport of its own, so that
// changes to http.DefaultTransport elsewhere do not reach it.
func newHTTPClient() *http.Client {
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		return &http.Client{Transport: t.Clone()}
	}
	return &http.Client{}
}
