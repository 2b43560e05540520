package batchapitest

import (
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Config configures a [Server]. Zero fields take the defaults named.
type Config struct {
	// APIKey is the only Bearer key accepted. Default: "sim-key".
	APIKey string

	// JobDuration is the time from submit to the end of a job: it is pending
	// for the first 20% and processing for the rest. Default: 2s.
	JobDuration time.Duration

	// MaxActiveJobs is the number of pending or processing jobs allowed at
	// once; one more submit gets 429. Default: 5.
	MaxActiveJobs int

	// LinkTTL is how long a signed download link stays valid. Default: 5 days.
	LinkTTL time.Duration

	// Now is the clock behind job status, timestamps, link expiry and webhook
	// signatures. Webhook delivery timers still run on the real clock.
	// Default: time.Now.
	Now func() time.Time

	// PublicURL is the base URL (scheme and host, optionally a path prefix)
	// written into download links. Default: "http://" + the request's Host.
	PublicURL string

	// WebhookClient sends webhooks. Default: a client with a 5s timeout.
	WebhookClient *http.Client

	// Logger receives the simulator's own events. Default: discards them.
	Logger *slog.Logger

	// FailJob, when set, is called with the URLs of every submit that passes
	// validation. A non-empty result makes that job end as failed instead of
	// completed, with the result as its error_message. Default: nil, so every
	// job completes.
	FailJob func(urls []string) string

	// Faults injects failures of the real service. Default: none.
	Faults Faults

	// FaultSeed seeds the draws of Faults, so a run can be repeated.
	FaultSeed uint64

	// StuckJobFor, when positive, ends a job struck by the StuckJob fault
	// that long after its submit, as a job far beyond its usual time that
	// the provider finally completes. Default: 0, so it never ends.
	StuckJobFor time.Duration

	// AllowFault, when set, is asked before a fault strikes, with the
	// mode's Fault* name; false spares that request or job. A test times
	// with it the faults that stop a client, as it times its kills. It is
	// called with the Server's lock held, so it must not call the Server.
	// Default: nil, every fault may strike.
	AllowFault func(mode string) bool
}

// Defaults of [Config].
const (
	DefaultAPIKey        = "sim-key"
	DefaultJobDuration   = 2 * time.Second
	DefaultMaxActiveJobs = 5
	DefaultLinkTTL       = 5 * 24 * time.Hour
)

const defaultWebhookTimeout = 5 * time.Second

// withDefaults returns cfg with every zero or negative field replaced by its default.
func (cfg Config) withDefaults() Config {
	if cfg.APIKey == "" {
		cfg.APIKey = DefaultAPIKey
	}
	if cfg.JobDuration <= 0 {
		cfg.JobDuration = DefaultJobDuration
	}
	if cfg.MaxActiveJobs <= 0 {
		cfg.MaxActiveJobs = DefaultMaxActiveJobs
	}
	if cfg.LinkTTL <= 0 {
		cfg.LinkTTL = DefaultLinkTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.WebhookClient == nil {
		cfg.WebhookClient = &http.Client{Timeout: defaultWebhookTimeout}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg
}
