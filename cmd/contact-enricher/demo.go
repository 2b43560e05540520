package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contact-enricher/contact-enricher/codec"
	"github.com/contact-enricher/contact-enricher/pipeline"
	"github.com/contact-enricher/contact-enricher/pipeline/batchapi"
	"github.com/contact-enricher/contact-enricher/pipeline/batchapi/batchapitest"
	"github.com/contact-enricher/contact-enricher/sink"
)

// Topic and group names of the embedded demo cluster.
const (
	demoInputTopic      = "crm.contacts"
	demoOutputTopic     = "contacts.enriched"
	demoDeadLetterTopic = "contacts.enriched.dead-letter"
	demoGroup           = "contact-enricher-demo"
	demoStateTopic      = "contact-enricher.jobs"
	demoAPIKey          = "demo-key"
)

type demoConfig struct {
	input       string
	csvColumn   string
	events      int
	seed        int64
	apiLatency  time.Duration
	partitions  int
	batchSize   int
	linger      time.Duration
	timeout     time.Duration
	summaryJSON bool
	verbose     bool
	faults      faultFlags
}

func demoFlags(fs *flag.FlagSet) *demoConfig {
	c := &demoConfig{}
	fs.StringVar(&c.input, "input", "", "file of input records: Kafka records as JSON Lines (.jsonl) or a CSV export (.csv); default: made-up events")
	fs.StringVar(&c.csvColumn, "csv-column", defaultCSVColumn, "column of a CSV file that holds the profile URL")
	fs.IntVar(&c.events, "events", 1000, "number of made-up CRM change events, when --input is not given")
	fs.Int64Var(&c.seed, "seed", 1, "seed of the made-up events")
	fs.DurationVar(&c.apiLatency, "api-latency", 2*time.Second, "how long the simulated API takes to run one job")
	fs.IntVar(&c.partitions, "partitions", 4, "partitions of the embedded input topic")
	fs.IntVar(&c.batchSize, "batch-size", pipeline.MaxBatchSize, "most distinct profile URLs in one job, 1 to 300")
	fs.DurationVar(&c.linger, "linger", 200*time.Millisecond, "how long a partial batch waits for more URLs")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Minute, "give up when the input is not fully handled by then")
	fs.BoolVar(&c.summaryJSON, "summary-json", false, "end the output with the summary as one JSON object on one line")
	fs.BoolVar(&c.verbose, "verbose", false, "print the pipeline's info logs")
	c.faults.register(fs)
	return c
}

func (c *demoConfig) validate() error {
	var errs []error
	if c.input == "" && c.events < 1 {
		errs = append(errs, fmt.Errorf("--events %d: must be at least 1", c.events))
	}
	if c.apiLatency <= 0 {
		errs = append(errs, fmt.Errorf("--api-latency %s: must be positive", c.apiLatency))
	}
	if c.partitions < 1 {
		errs = append(errs, fmt.Errorf("--partitions %d: must be at least 1", c.partitions))
	}
	if c.timeout <= 0 {
		errs = append(errs, fmt.Errorf("--timeout %s: must be positive", c.timeout))
	}
	return errors.Join(errs...)
}

func demoCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	cfg := demoFlags(fs)
	fs.Usage = flagUsage(fs, "demo", "Runs the whole path on an embedded Kafka broker and the Batch API simulator, then prints a summary.")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return usageError{err}
	}
	records, source, err := demoRecords(cfg)
	if err != nil {
		return err
	}
	level := slog.LevelWarn
	if cfg.verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	fmt.Fprintf(stderr, "demo: %d input records from %s; simulated job time %s\n", len(records), source, cfg.apiLatency)
	sum, err := runDemo(ctx, cfg, records, log, stderr)
	if err != nil {
		return err
	}
	sum.print(stdout)
	if cfg.summaryJSON {
		b, _ := json.Marshal(sum)
		fmt.Fprintf(stdout, "%s\n", b)
	}
	if !sum.complete() {
		return fmt.Errorf("%d of %d input records were not answered, skipped or dead-lettered within %s",
			sum.EventsIn-sum.EventsAnswered-sum.EventsSkipped-sum.EventsDeadLettered, sum.EventsIn, cfg.timeout)
	}
	return nil
}

func demoRecords(cfg *demoConfig) ([]codec.Record, string, error) {
	if cfg.input != "" {
		records, err := readRecordsFile(cfg.input, cfg.csvColumn)
		return records, cfg.input, err
	}
	return codec.SyntheticRecords(cfg.events, cfg.seed), "made-up CRM change events", nil
}

// runDemo starts the embedded broker, the simulator and the pipeline, puts
// records through and waits until every one is handled and committed.
func runDemo(ctx context.Context, cfg *demoConfig, records []codec.Record, log *slog.Logger, progress io.Writer) (*demoSummary, error) {
	start := time.Now()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1),
		kfake.SeedTopics(int32(cfg.partitions), demoInputTopic),
		kfake.SeedTopics(1, demoOutputTopic, demoDeadLetterTopic))
	if err != nil {
		return nil, fmt.Errorf("starting embedded Kafka: %w", err)
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()

	// A stuck job ends after ten job times, so that a demo with faults
	// finishes. The pipeline abandons it before that.
	sim := batchapitest.New(batchapitest.Config{APIKey: demoAPIKey, JobDuration: cfg.apiLatency,
		Faults: cfg.faults.spec.faults, FaultSeed: cfg.faults.seed, StuckJobFor: 10 * cfg.apiLatency})
	defer sim.Close()
	apiURL, stopSim, err := serveLoopback(sim)
	if err != nil {
		return nil, err
	}
	defer stopSim()

	if err := writeRecords(ctx, brokers, demoInputTopic, records, nil); err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	runErr, stopPipeline, err := startDemoPipeline(ctx, cfg, brokers, apiURL, reg, log)
	if err != nil {
		return nil, err
	}
	w := &demoWatcher{brokers: brokers, reg: reg, want: len(records), progress: progress}
	complete, err := w.wait(ctx, cfg.timeout, runErr)
	stopPipeline()
	if err != nil {
		return nil, err
	}
	return newDemoSummary(ctx, records, w, sim.Stats(), complete, time.Since(start))
}

// startDemoPipeline runs the pipeline in the background. The returned
// channel receives Run's result; stop cancels Run and waits for it.
func startDemoPipeline(ctx context.Context, cfg *demoConfig, brokers []string, apiURL string, reg *prometheus.Registry, log *slog.Logger) (<-chan error, func(), error) {
	// Short timeouts and backoffs keep a demo with --faults quick through a
	// submit whose response never comes, a 429 with an absurd Retry-After,
	// and a 402 pause.
	api, err := batchapi.New(batchapi.Config{BaseURL: apiURL, APIKey: demoAPIKey,
		CallTimeout: 5 * time.Second, MaxBackoff: 2 * time.Second, Logger: log})
	if err != nil {
		return nil, nil, err
	}
	contacts, dead, err := openSinks(sink.WriterConfig{Brokers: brokers}, demoOutputTopic, demoDeadLetterTopic)
	if err != nil {
		return nil, nil, err
	}
	// The simulator calls the demo's webhook receiver, so that webhooks and
	// their faults take part too.
	relay := &webhookRelay{}
	hookURL, stopHooks, err := serveLoopback(relay)
	if err != nil {
		contacts.Close()
		dead.Close()
		return nil, nil, err
	}
	pcfg := pipeline.Config{
		Brokers: brokers, InputTopic: demoInputTopic, OutputTopic: demoOutputTopic,
		DeadLetterTopic: demoDeadLetterTopic, GroupID: demoGroup,
		BatchSize: cfg.batchSize, Linger: cfg.linger,
		PollInterval:   max(cfg.apiLatency/4, 10*time.Millisecond),
		RetryBackoff:   50 * time.Millisecond,
		CommitInterval: 100 * time.Millisecond,
		ShutdownGrace:  5 * time.Second,
		StateTopic:     demoStateTopic,
		ReplicaID:      "demo",

		WebhookURL: hookURL + "/hook", WebhookSecret: demoAPIKey,

		CreditProbeInterval: max(cfg.apiLatency, 100*time.Millisecond),
		StuckJobAfter:       5 * cfg.apiLatency,
		AbandonStuckJobs:    true,
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		stopHooks()
		contacts.Close()
		dead.Close()
		return nil, nil, fmt.Errorf("creating admin client: %w", err)
	}
	p, err := pipeline.New(pcfg, pipeline.Deps{API: api, Contacts: contacts, DeadLetters: dead,
		Admin: kadm.NewClient(cl), Registerer: reg, Logger: log})
	if err != nil {
		stopHooks()
		contacts.Close()
		dead.Close()
		cl.Close()
		return nil, nil, err
	}
	relay.set(p.WebhookHandler())
	runCtx, cancel := context.WithCancel(ctx)
	result := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		result <- p.Run(runCtx)
	}()
	stop := func() {
		cancel()
		<-done
		stopHooks()
		contacts.Close()
		dead.Close()
		cl.Close()
	}
	return result, stop, nil
}

// serveLoopback serves h on a free 127.0.0.1 port and returns its base URL
// and the function that stops it.
func serveLoopback(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listening on loopback: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln) // returns http.ErrServerClosed after Shutdown
	}()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}
	return "http://" + ln.Addr().String(), stop, nil
}

// webhookRelay serves the pipeline's webhook receiver. Its URL must be
// known before the pipeline exists, so the receiver is set later. Until
// then a delivery gets 503, and the simulator retries it.
type webhookRelay struct {
	h atomic.Pointer[http.Handler]
}

func (w *webhookRelay) set(h http.Handler) { w.h.Store(&h) }

func (w *webhookRelay) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if h := w.h.Load(); h != nil {
		(*h).ServeHTTP(rw, r)
		return
	}
	http.Error(rw, "the pipeline is starting", http.StatusServiceUnavailable)
}
