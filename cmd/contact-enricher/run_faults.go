package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/contact-enricher/contact-enricher/codec"
	"github.com/contact-enricher/contact-enricher/pipeline/batchapi"
)

// webhookSecretEnv carries the key of webhook signatures. Like the API
// key, it has no flag.
const webhookSecretEnv = envPrefix + "WEBHOOK_SECRET"

// faultConfig holds the run flags that decide how the service meets the
// API's faults: credits, stuck jobs, oversized results and webhooks.
type faultConfig struct {
	webhookListen     string
	webhookSecretFile string
}

// registerFaultFlags adds those flags to fs, writing into c.
func registerFaultFlags(fs *flag.FlagSet, c *runConfig) {
	p := &c.pipeline
	fs.DurationVar(&p.CreditProbeInterval, "credit-probe-interval", 5*time.Minute,
		"after the API answers 402 (no credits), how often a held job is posted again to probe; consumption pauses meanwhile")
	fs.DurationVar(&p.StuckJobAfter, "stuck-job-after", time.Hour,
		"how long a job may stay pending or processing before it is reported stuck (error log, gauge contact_enricher_batchapi_jobs_stuck)")
	fs.BoolVar(&p.AbandonStuckJobs, "abandon-stuck-jobs", false,
		"dead-letter the records of a stuck job (reason job_stuck) instead of waiting for it; its URLs are not submitted again")
	fs.IntVar(&p.Results.MaxLineBytes, "max-result-line-bytes", codec.DefaultMaxLineBytes,
		"longest line of a results file, in bytes; a longer line fails the download")
	fs.Int64Var(&p.Results.MaxDecompressedBytes, "max-result-bytes", codec.DefaultMaxDecompressedBytes,
		"most bytes one results file may hold after decompression; a larger file fails the download")
	fs.StringVar(&p.WebhookURL, "webhook-url", "",
		"public URL of this service's webhook receiver, sent with every job; empty: no webhooks, status polls alone")
	fs.StringVar(&c.faults.webhookListen, "webhook-listen", "",
		"listen address of the webhook receiver, host:port; required with --webhook-url")
	fs.StringVar(&c.faults.webhookSecretFile, "webhook-secret-file", "",
		"file that contains the webhook signing key; otherwise it is read from "+webhookSecretEnv+"; unset: signatures are not checked")
}

// load checks the fault flags and reads the webhook secret.
func (c *faultConfig) load(rc *runConfig) []error {
	var errs []error
	p := &rc.pipeline
	if p.Results.MaxLineBytes <= 0 {
		errs = append(errs, fmt.Errorf("--max-result-line-bytes %d: must be positive", p.Results.MaxLineBytes))
	}
	if p.Results.MaxDecompressedBytes <= 0 {
		errs = append(errs, fmt.Errorf("--max-result-bytes %d: must be positive", p.Results.MaxDecompressedBytes))
	}

	// Negative durations are reported by the pipeline's own checks.
	if p.CreditProbeInterval == 0 {
		errs = append(errs, errors.New("--credit-probe-interval 0s: must be positive, with a unit such as 5m"))
	}
	if p.StuckJobAfter == 0 {
		errs = append(errs, errors.New("--stuck-job-after 0s: must be positive, with a unit such as 1h"))
	}

	if c.webhookListen != "" {
		if _, _, err := net.SplitHostPort(c.webhookListen); err != nil {
			errs = append(errs, fmt.Errorf("--webhook-listen %q: must be host:port or :port: %v", c.webhookListen, err))
		} else if c.webhookListen == rc.metricsAddr {
			errs = append(errs, fmt.Errorf("--webhook-listen %q: must differ from --metrics-addr, so that only the receiver is exposed to the provider", c.webhookListen))
		}
	}
	if p.WebhookURL != "" {
		if u, err := url.Parse(p.WebhookURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("--webhook-url %q: must be an absolute http or https URL", p.WebhookURL))
		}
	}
	if (p.WebhookURL == "") != (c.webhookListen == "") {
		errs = append(errs, errors.New("--webhook-url and --webhook-listen: give both or neither"))
	}

	secret, err := readWebhookSecret(c.webhookSecretFile)
	if err != nil {
		errs = append(errs, err)
	}
	p.WebhookSecret = secret
	return errs
}

// readWebhookSecret returns the key from path, or from the environment
// when path is empty; empty when neither is set.
func readWebhookSecret(path string) (batchapi.Secret, error) {
	if path == "" {
		return batchapi.Secret(strings.TrimSpace(os.Getenv(webhookSecretEnv))), nil
	}
	return readSecretFile(path, "webhook secret")
}
