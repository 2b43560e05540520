package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contact-enricher/contact-enricher/kafkaconn"
	"github.com/contact-enricher/contact-enricher/pipeline"
	"github.com/contact-enricher/contact-enricher/pipeline/batchapi"
	"github.com/contact-enricher/contact-enricher/sink"
)

// apiKeyEnv is the environment variable that carries the API key. The key
// has no flag, because flags show in process listings.
const apiKeyEnv = envPrefix + "API_KEY"

// runConfig is the configuration of the run command.
type runConfig struct {
	pipeline    pipeline.Config
	kafka       kafkaconn.Config
	api         batchapi.Config
	apiKeyFile  string
	faults      faultConfig
	metricsAddr string
	logLevel    string
	logFormat   string
}

func runFlags(fs *flag.FlagSet) *runConfig {
	c := &runConfig{}
	var brokers, fields string
	fs.Func("brokers", "Kafka bootstrap brokers, comma-separated host:port (required)", func(s string) error {
		brokers = s
		c.pipeline.Brokers = splitList(brokers)
		return nil
	})
	fs.StringVar(&c.pipeline.InputTopic, "input-topic", "", "topic of the CRM change events (required)")
	fs.StringVar(&c.pipeline.OutputTopic, "output-topic", "", "topic the contact events are written to (required)")
	fs.StringVar(&c.pipeline.DeadLetterTopic, "dead-letter-topic", "", "topic the records that cannot be answered are written to (required)")
	fs.StringVar(&c.pipeline.GroupID, "group", "contact-enricher", "consumer group of the input topic")
	fs.StringVar(&c.pipeline.Decoder.URLColumn, "url-column", "linkedin_url", "column of a Debezium row that holds the profile URL")
	fs.StringVar(&c.pipeline.Decoder.URLPath, "url-path", "linkedin_url", "dotted path of the profile URL in a plain JSON value")
	fs.StringVar(&c.api.BaseURL, "api-base-url", batchapi.DefaultBaseURL, "base URL of the Batch API")
	fs.StringVar(&c.apiKeyFile, "api-key-file", "", "file that contains the API key; otherwise the key is read from "+apiKeyEnv)
	fs.DurationVar(&c.api.CallTimeout, "api-call-timeout", 30*time.Second, "timeout of one Batch API call")
	fs.DurationVar(&c.api.MaxBackoff, "api-max-backoff", batchapi.DefaultMaxBackoff, "longest wait after a 429 before the call is tried again; a longer Retry-After is cut to it")
	fs.Func("fields", "contact kinds requested, comma-separated: business_email, personal_contact_info, personal_contact_info.personal_emails, personal_contact_info.phone_numbers (default business_email,personal_contact_info)", func(s string) error {
		fields = s
		c.pipeline.Fields = splitList(fields)
		if len(c.pipeline.Fields) == 0 {
			return errors.New("empty; name at least one contact kind")
		}
		return nil
	})
	fs.IntVar(&c.pipeline.BatchSize, "batch-size", pipeline.MaxBatchSize, "most distinct profile URLs in one job, 1 to 300")
	fs.DurationVar(&c.pipeline.Linger, "linger", 5*time.Second, "how long a partial batch waits for more URLs before it is submitted")
	fs.IntVar(&c.pipeline.MaxJobsInFlight, "jobs-in-flight", pipeline.MaxJobsInFlight, "jobs active at once, 1 to 5 (the account's limit)")
	fs.DurationVar(&c.pipeline.PollInterval, "poll-interval", 30*time.Second, "mean wait between status calls of one job")
	fs.DurationVar(&c.pipeline.ShutdownGrace, "shutdown-grace", 20*time.Second, "how long running jobs may still write outputs after a stop is requested")
	fs.StringVar(&c.pipeline.StateTopic, "state-topic", "contact-enricher.jobs", "compacted topic of the job states; created when missing")
	fs.Func("state-replication-factor", "replication factor of a created job-state topic; -1 takes the broker's default (default -1)", func(s string) error {
		n, err := strconv.ParseInt(s, 10, 16)
		c.pipeline.StateReplicationFactor = int16(n)
		return err
	})
	fs.StringVar(&c.pipeline.ReplicaID, "replica-id", "", "name of this replica as the owner of its jobs (default the host name, the pod name on Kubernetes)")
	fs.DurationVar(&c.pipeline.LeaseTimeout, "lease-timeout", 60*time.Second, "how long a job's owner may be silent before another replica adopts the job")
	fs.DurationVar(&c.pipeline.Freshness, "freshness", 30*24*time.Hour, "how long a result answers the same profile again instead of a new submission")
	fs.DurationVar(&c.pipeline.SessionTimeout, "session-timeout", 30*time.Second, "consumer group session timeout (Kafka session.timeout.ms)")
	fs.DurationVar(&c.pipeline.HeartbeatInterval, "heartbeat-interval", 3*time.Second, "consumer group heartbeat interval (Kafka heartbeat.interval.ms)")
	fs.DurationVar(&c.pipeline.RebalanceTimeout, "rebalance-timeout", 30*time.Second, "how long members may take to rejoin in a rebalance")
	fs.StringVar(&c.metricsAddr, "metrics-addr", ":9090", "listen address of /metrics and /healthz; empty disables it")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.logFormat, "log-format", "json", "log format: json or text")
	registerFaultFlags(fs, c)
	registerKafkaFlags(fs, &c.kafka)
	return c
}

// load reads the API key and checks every value, naming each invalid one.
func (c *runConfig) load() error {
	// The pipeline reads a zero as "use the default", but on the command
	// line a zero was typed on purpose and is invalid.
	errs := c.checkZeros()
	if err := c.pipeline.Validate(); err != nil {
		errs = append(errs, err)
	}
	c.kafka.Brokers = c.pipeline.Brokers
	if len(c.kafka.Brokers) > 0 {
		if err := c.kafka.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	key, err := readAPIKey(c.apiKeyFile)
	if err != nil {
		errs = append(errs, err)
	}
	c.api.APIKey = key
	errs = append(errs, c.faults.load(c)...)
	if _, err := parseLogLevel(c.logLevel); err != nil {
		errs = append(errs, err)
	}
	if c.logFormat != "json" && c.logFormat != "text" {
		errs = append(errs, fmt.Errorf("log format %q: must be json or text", c.logFormat))
	}
	if c.api.CallTimeout <= 0 {
		errs = append(errs, fmt.Errorf("api call timeout %s: must be positive", c.api.CallTimeout))
	}
	if c.api.MaxBackoff <= 0 {
		errs = append(errs, fmt.Errorf("--api-max-backoff %s: must be positive, with a unit such as 60s", c.api.MaxBackoff))
	}
	return errors.Join(errs...)
}

// checkZeros rejects the flags given as zero or empty whose defaults are
// not zero.
func (c *runConfig) checkZeros() []error {
	var errs []error
	ints := []struct {
		flag  string
		value int
	}{{"--batch-size", c.pipeline.BatchSize}, {"--jobs-in-flight", c.pipeline.MaxJobsInFlight}}
	for _, f := range ints {
		if f.value == 0 {
			errs = append(errs, fmt.Errorf("%s 0: must be at least 1", f.flag))
		}
	}
	durations := []struct {
		flag  string
		value time.Duration
	}{
		{"--linger", c.pipeline.Linger}, {"--poll-interval", c.pipeline.PollInterval},
		{"--lease-timeout", c.pipeline.LeaseTimeout}, {"--freshness", c.pipeline.Freshness},
		{"--shutdown-grace", c.pipeline.ShutdownGrace}, {"--session-timeout", c.pipeline.SessionTimeout},
		{"--heartbeat-interval", c.pipeline.HeartbeatInterval}, {"--rebalance-timeout", c.pipeline.RebalanceTimeout},
	}
	for _, f := range durations {
		if f.value == 0 {
			errs = append(errs, fmt.Errorf("%s 0s: must be positive, with a unit such as 5s", f.flag))
		}
	}
	return errs
}

// readAPIKey returns the key from path, or from the environment when path
// is empty. Surrounding white space, such as a file's final newline, is
// dropped.
func readAPIKey(path string) (batchapi.Secret, error) {
	if path == "" {
		key := strings.TrimSpace(os.Getenv(apiKeyEnv))
		if key == "" {
			return "", fmt.Errorf("api key: missing; set %s or --api-key-file", apiKeyEnv)
		}
		return batchapi.Secret(key), nil
	}
	return readSecretFile(path, "api key")
}

// readSecretFile returns the content of path without surrounding white
// space, such as a file's final newline. name names the secret in errors.
func readSecretFile(path, name string) (batchapi.Secret, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading %s file: %w", name, err)
	}
	key := strings.TrimSpace(string(b))
	if key == "" {
		return "", fmt.Errorf("%s file %s: empty", name, path)
	}
	return batchapi.Secret(key), nil
}

func parseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log level %q: must be debug, info, warn or error", s)
	}
	return l, nil
}

func newLogger(w io.Writer, level, format string) *slog.Logger {
	l, _ := parseLogLevel(level)
	opts := &slog.HandlerOptions{Level: l}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func runCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	cfg := runFlags(fs)
	fs.Usage = flagUsage(fs, "run", "Consumes CRM change events and publishes contact events.")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if err := cfg.load(); err != nil {
		return usageError{fmt.Errorf("invalid configuration:\n%w", err)}
	}
	log := newLogger(stderr, cfg.logLevel, cfg.logFormat)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, log) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	// A stop was requested. Running jobs get the shutdown grace; the rest
	// of the shutdown takes seconds. Past that, something is stuck: leave
	// the goroutine stacks for a bug report and exit, so that Kubernetes is
	// not left waiting for its own kill.
	limit := cfg.pipeline.ShutdownGrace + shutdownSlack
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		log.Error("shutdown took too long; exiting", "limit", limit.String(), "goroutines", string(buf[:n]))
		return fmt.Errorf("shutdown took longer than %s", limit)
	}
}

// shutdownSlack is what a stop may take beyond the shutdown grace: the last
// commit, leaving the group, flushing the writers.
const shutdownSlack = 10 * time.Second

// serve builds the service from cfg and runs it until ctx ends.
func serve(ctx context.Context, cfg *runConfig, log *slog.Logger) error {
	cfg.api.Logger = log
	api, err := batchapi.New(cfg.api)
	if err != nil {
		return fmt.Errorf("creating API client: %w", err)
	}
	cfg.kafka.LogSummary(log)
	if cfg.pipeline.Dialer, err = cfg.kafka.Dialer(); err != nil {
		return err
	}
	transport, err := cfg.kafka.Transport()
	if err != nil {
		return err
	}
	defer transport.CloseIdleConnections()
	cfg.pipeline.Transport = transport
	opts, err := cfg.kafka.KgoOptions()
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("creating admin client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if err := checkTopics(ctx, adm, cfg.pipeline); err != nil {
		return cfg.kafka.ExplainError(err)
	}
	wcfg := sink.WriterConfig{Brokers: cfg.pipeline.Brokers, Transport: transport}
	contacts, dead, err := openSinks(wcfg, cfg.pipeline.OutputTopic, cfg.pipeline.DeadLetterTopic)
	if err != nil {
		return err
	}
	defer contacts.Close()
	defer dead.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	p, err := pipeline.New(cfg.pipeline, pipeline.Deps{
		API: api, Contacts: contacts, DeadLetters: dead, Admin: adm, Registerer: reg, Logger: log,
	})
	if err != nil {
		return err
	}
	if cfg.metricsAddr != "" {
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
		stopMetrics, err := serveHTTP("metrics", cfg.metricsAddr, mux, log)
		if err != nil {
			return err
		}
		defer stopMetrics()
	}
	if cfg.faults.webhookListen != "" {
		if cfg.pipeline.WebhookSecret == "" {
			log.Warn("webhook signatures are not checked; set " + webhookSecretEnv + " or --webhook-secret-file to the key the provider signs with")
		}
		stopWebhooks, err := serveHTTP("webhooks", cfg.faults.webhookListen, p.WebhookHandler(), log)
		if err != nil {
			return err
		}
		defer stopWebhooks()
	}
	return p.Run(ctx)
}

func openSinks(wcfg sink.WriterConfig, outputTopic, deadLetterTopic string) (*sink.ContactWriter, *sink.DeadLetterWriter, error) {
	wcfg.Topic = outputTopic
	contacts, err := sink.NewContactWriter(wcfg)
	if err != nil {
		return nil, nil, err
	}
	wcfg.Topic = deadLetterTopic
	dead, err := sink.NewDeadLetterWriter(wcfg)
	if err != nil {
		contacts.Close()
		return nil, nil, err
	}
	return contacts, dead, nil
}

// checkTopics fails when a topic the service reads or writes is missing,
// so that a typo is reported at start instead of as endless retries.
func checkTopics(ctx context.Context, adm *kadm.Client, cfg pipeline.Config) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	topics := []string{cfg.InputTopic, cfg.OutputTopic, cfg.DeadLetterTopic}
	details, err := adm.ListTopics(ctx, topics...)
	if err != nil {
		return fmt.Errorf("listing topics on %s: %w", strings.Join(cfg.Brokers, ","), err)
	}
	var errs []error
	for _, t := range topics {
		d, ok := details[t]
		switch {
		case !ok, errors.Is(d.Err, kerr.UnknownTopicOrPartition):
			errs = append(errs, fmt.Errorf("topic %s: not found; create it before starting", t))
		case d.Err != nil:
			errs = append(errs, fmt.Errorf("topic %s: %w", t, d.Err))
		}
	}
	return errors.Join(errs...)
}

// serveHTTP serves handler on addr in the background and returns the
// function that stops it. server names the server in logs and errors.
func serveHTTP(server, addr string, handler http.Handler, log *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening for %s on %s: %w", server, addr, err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server stopped", "server", server, "error", err)
		}
	}()
	log.Info("serving "+server, "addr", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	}, nil
}

// flagUsage returns a usage function that lists fs's flags and their
// environment variables.
func flagUsage(fs *flag.FlagSet, name, summary string) func() {
	return func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: contact-enricher %s [flags]\n\n%s\n\nflags (each also read from the environment variable shown):\n", name, summary)
		fs.VisitAll(func(f *flag.Flag) {
			def := ""
			if f.DefValue != "" {
				def = fmt.Sprintf(" (default %s)", f.DefValue)
			}
			fmt.Fprintf(w, "  --%s  [%s]\n      %s%s\n", f.Name, envName(f.Name), f.Usage, def)
		})
	}
}
