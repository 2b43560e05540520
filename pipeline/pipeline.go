package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/contact-enricher/contact-enricher/codec"
	"github.com/contact-enricher/contact-enricher/pipeline/batchapi"
	"github.com/contact-enricher/contact-enricher/sink"
)

// API is the part of the Batch API client the pipeline uses;
// *batchapi.Client implements it.
type API interface {
	Submit(ctx context.Context, req batchapi.SubmitRequest) (batchapi.Job, error)
	Status(ctx context.Context, batchID string) (batchapi.Job, error)
	List(ctx context.Context, opts batchapi.ListOptions) (batchapi.ListPage, error)
	Download(ctx context.Context, url string) (io.ReadCloser, error)
}

// ContactSink writes contact events durably; *sink.ContactWriter
// implements it.
type ContactSink interface {
	WriteContacts(ctx context.Context, events []codec.ContactEvent) error
}

// DeadLetterSink writes dead letters durably; *sink.DeadLetterWriter
// implements it.
type DeadLetterSink interface {
	WriteDeadLetters(ctx context.Context, letters []sink.DeadLetter) error
}

// Deps are the parts a Pipeline uses but does not own: it closes none of
// them.
type Deps struct {
	API         API            // required
	Contacts    ContactSink    // required
	DeadLetters DeadLetterSink // required
	// Admin creates and checks the job-state topic and reads committed
	// offsets and topic ends. Required.
	Admin *kadm.Client
	// Registerer receives the pipeline's metrics. Default: a registry of
	// the pipeline's own, so that nothing is registered globally.
	Registerer prometheus.Registerer
	// Logger receives the pipeline's logs. Default: slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// Pipeline consumes the input topic and writes contact events and dead
// letters until its context ends. Run may be called once.
type Pipeline struct {
	cfg     Config
	log     *slog.Logger
	decoder *codec.Decoder
	tracker *offsetTracker
	batcher *batcher
	tokens  *tokenPool
	credits *creditGate
	hints   *webhookHints
	stuck   atomic.Int64 // jobs past StuckJobAfter, for the gauge
	dlq     *deadLetterQueue
	runner  *runner
	metrics *metrics
	admin   *kadm.Client
	state   *stateLog
	table   *jobTable
	results *resultsIndex
	parked  *parkedRecords
	now     func() time.Time
	jobs    sync.WaitGroup
	// starters tracks the goroutines that start jobs (dispatch and
	// adoptOrphans), so that shutdown waits for them before it waits for
	// the jobs.
	starters sync.WaitGroup

	failMu  sync.Mutex
	failErr error
	stopAll context.CancelFunc
}

// New validates cfg and builds a pipeline; it opens no connection.
func New(cfg Config, deps Deps) (*Pipeline, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid pipeline configuration: %w", err)
	}
	cfg.setDefaults()
	if deps.API == nil || deps.Contacts == nil || deps.DeadLetters == nil || deps.Admin == nil {
		return nil, errors.New("creating pipeline: the API client, contact sink, dead-letter sink and admin client are required")
	}
	if deps.Registerer == nil {
		deps.Registerer = prometheus.NewRegistry()
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}

	p := &Pipeline{
		cfg:     cfg,
		log:     deps.Logger,
		decoder: codec.NewDecoder(cfg.Decoder),
		tracker: newOffsetTracker(),
		batcher: newBatcher(cfg.BatchSize, cfg.Linger, deps.Now),
		tokens:  newTokenPool(cfg.MaxJobsInFlight),
		admin:   deps.Admin,
		table:   newJobTable(),
		parked:  newParkedRecords(),
		now:     deps.Now,
	}
	p.credits = newCreditGate(cfg.CreditProbeInterval, deps.Now, deps.Logger)
	m, err := newMetrics(deps.Registerer, gaugeFuncs{
		tokensInUse:    func() float64 { return float64(p.tokens.inUse()) },
		pendingRecords: func() float64 { return float64(p.tracker.pendingCount()) },
		parkedRecords:  func() float64 { return float64(p.parked.count()) },
		creditsPaused:  func() float64 { return boolGauge(p.credits.isPaused()) },
		jobsStuck:      func() float64 { return float64(p.stuck.Load()) },
	})
	if err != nil {
		return nil, err
	}
	p.metrics = m
	p.hints = &webhookHints{secret: cfg.WebhookSecret, now: deps.Now, log: deps.Logger.With("component", "webhook"),
		received: m.webhooks, waiting: make(map[string]chan struct{})}
	p.state = &stateLog{
		topic: cfg.StateTopic, brokers: cfg.Brokers, dialer: cfg.Dialer, admin: deps.Admin,
		writer: newStateWriter(cfg), table: p.table, log: deps.Logger, backoff: cfg.RetryBackoff, now: deps.Now,
	}
	p.results = &resultsIndex{
		topic: cfg.OutputTopic, brokers: cfg.Brokers, dialer: cfg.Dialer, admin: deps.Admin,
		client:    &kafka.Client{Addr: kafka.TCP(cfg.Brokers...), Transport: cfg.Transport},
		freshness: cfg.Freshness, log: deps.Logger, backoff: cfg.RetryBackoff, onResult: p.parked.signal,
		entries: make(map[uint64]resultLocation), next: make(map[int32]int64),
	}
	p.dlq = newDeadLetterQueue(deps.DeadLetters, p.tracker, m, deps.Logger, cfg.RetryBackoff)
	p.runner = &runner{
		cfg: cfg, api: deps.API, contacts: deps.Contacts, dlq: p.dlq,
		tracker: p.tracker, batcher: p.batcher, tokens: p.tokens,
		credits: p.credits, stuck: &p.stuck, hints: p.hints,
		state: p.state, table: p.table, parked: p.parked, results: p.results,
		metrics: m, log: deps.Logger, now: deps.Now, fail: p.fail,
	}
	return p, nil
}

// WebhookHandler returns the receiver of the provider's job-finished
// callbacks, to be served at Config.WebhookURL. A verified delivery wakes
// the job it names for an early status call, and the response is sent at
// once.
func (p *Pipeline) WebhookHandler() http.Handler { return p.hints }

// Run consumes until ctx ends or an error that no retry can cure (a
// rejected API key, exhausted credits). It returns nil after a requested
// stop, and that error otherwise.
func (p *Pipeline) Run(ctx context.Context) error {
	consumeCtx, cancelConsume := context.WithCancel(ctx)
	defer cancelConsume()
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	p.failMu.Lock()
	p.stopAll = func() { cancelConsume(); cancelWork() }
	p.failMu.Unlock()

	var background sync.WaitGroup
	err := p.recover(consumeCtx, workCtx, &background)
	if err == nil {
		background.Go(func() { p.dlq.run(workCtx) })
		background.Go(func() { p.batcher.runLinger(consumeCtx) })
		p.starters.Go(func() { p.dispatch(consumeCtx, workCtx) })
		p.starters.Go(func() { p.adoptOrphans(consumeCtx, workCtx) })
		background.Go(func() { p.answerParked(workCtx) })
		background.Go(func() { p.removeCommitted(workCtx) })
		p.resumeOwn(workCtx)

		p.log.Info("pipeline started", "input_topic", p.cfg.InputTopic, "output_topic", p.cfg.OutputTopic,
			"state_topic", p.cfg.StateTopic, "group", p.cfg.GroupID, "replica_id", p.cfg.ReplicaID,
			"batch_size", p.cfg.BatchSize, "linger", p.cfg.Linger, "jobs_in_flight", p.cfg.MaxJobsInFlight)
		err = p.consume(consumeCtx)
	}

	cancelConsume()
	cancelWork()
	p.starters.Wait()
	background.Wait()
	p.jobs.Wait()
	p.state.writer.Close()
	if t, ok := p.state.writer.Transport.(*kafka.Transport); ok {
		t.CloseIdleConnections()
	}
	if ferr := p.fatalError(); ferr != nil {
		p.log.Error("pipeline stopped", "error", ferr)
		return ferr
	}
	if err != nil {
		return err
	}
	p.log.Info("pipeline stopped")
	return nil
}

// recover prepares the job-state topic and reads it and the output topic
// to their ends, so that no job is submitted again and no fresh result is
// paid for again, before anything is consumed. The readers keep following
// both topics in the background.
func (p *Pipeline) recover(consumeCtx, workCtx context.Context, background *sync.WaitGroup) error {
	if err := ensureStateTopic(consumeCtx, p.admin, p.cfg.StateTopic, p.cfg.StateReplicationFactor); err != nil {
		return err
	}
	partitions, err := topicPartitions(consumeCtx, p.admin, p.cfg.OutputTopic)
	if err != nil {
		return err
	}
	background.Go(func() { p.state.tail(workCtx) })
	background.Go(func() { p.results.follow(workCtx, partitions) })
	start := p.now()
	if err := p.state.catchUp(consumeCtx); err != nil {
		return fmt.Errorf("reading job-state topic %s: %w", p.cfg.StateTopic, err)
	}
	if err := p.results.catchUp(consumeCtx); err != nil {
		return fmt.Errorf("reading results on topic %s: %w", p.cfg.OutputTopic, err)
	}
	p.log.Info("job state and results read", "jobs", len(p.table.snapshot()), "results", p.results.size(),
		"seconds", p.now().Sub(start).Seconds())
	return nil
}

// topicPartitions returns the partition ids of topic.
func topicPartitions(ctx context.Context, adm *kadm.Client, topic string) ([]int32, error) {
	details, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("listing topic %s: %w", topic, err)
	}
	d, ok := details[topic]
	if !ok || d.Err != nil {
		return nil, fmt.Errorf("topic %s: not found; create it before starting", topic)
	}
	return d.Partitions.Numbers(), nil
}

// newStateWriter returns the writer of the job-state topic: acks from all
// in-sync replicas, one record per write, so each transition is durable
// before the step that depends on it.
func newStateWriter(cfg Config) *kafka.Writer {
	return &kafka.Writer{
		Addr: kafka.TCP(cfg.Brokers...), Topic: cfg.StateTopic, Transport: stateTransport(cfg.Transport),
		Balancer: &kafka.LeastBytes{}, RequiredAcks: kafka.RequireAll,
		BatchTimeout: time.Millisecond, BatchSize: 1, MaxAttempts: 3,
	}
}

// dispatch starts a runner for each sealed job once a token is free.
func (p *Pipeline) dispatch(consumeCtx, workCtx context.Context) {
	for {
		j, err := p.batcher.next(consumeCtx)
		if err != nil {
			return
		}
		if p.tokens.acquire(consumeCtx) != nil {
			return
		}
		j.token = true
		p.jobs.Go(func() { p.runner.run(workCtx, j) })
	}
}

// drain waits up to ShutdownGrace for running jobs and queued dead letters.
func (p *Pipeline) drain() {
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.ShutdownGrace)
	defer cancel()
	p.log.Info("stop requested; waiting for running jobs", "grace", p.cfg.ShutdownGrace.String())
	p.starters.Wait()
	jobsDone := make(chan struct{})
	go func() {
		p.jobs.Wait()
		close(jobsDone)
	}()
	select {
	case <-jobsDone:
		p.dlq.waitIdle(ctx)
	case <-ctx.Done():
		p.log.Warn("stopping with jobs still running; their records stay uncommitted and the jobs resume on restart", "grace", p.cfg.ShutdownGrace.String())
	}
}

// fail records err as the reason to stop and stops everything.
func (p *Pipeline) fail(err error) {
	p.failMu.Lock()
	defer p.failMu.Unlock()
	if p.failErr == nil {
		p.failErr = err
	}
	if p.stopAll != nil {
		p.stopAll()
	}
}

func (p *Pipeline) fatalError() error {
	p.failMu.Lock()
	defer p.failMu.Unlock()
	return p.failErr
}

func (p *Pipeline) failed() bool { return p.fatalError() != nil }

// kafkaLogger adapts kafka-go's printf logger to slog at level.
func kafkaLogger(log *slog.Logger, level slog.Level) kafka.Logger {
	return kafka.LoggerFunc(func(format string, args ...any) {
		log.Log(context.Background(), level, "kafka client: "+fmt.Sprintf(format, args...))
	})
}

// stateTransport returns a transport like t whose metadata expires after a
// second. kafka-go's default of 6s would fail every write to a job-state
// topic created a moment ago for up to 6s, while the cached metadata does
// not know it yet.
func stateTransport(t kafka.RoundTripper) kafka.RoundTripper {
	base, ok := t.(*kafka.Transport)
	if !ok {
		return t
	}
	return &kafka.Transport{
		Dial: base.Dial, DialTimeout: base.DialTimeout, IdleTimeout: base.IdleTimeout,
		MetadataTTL: time.Second, MetadataTopics: base.MetadataTopics, ClientID: base.ClientID,
		TLS: base.TLS, SASL: base.SASL, Resolver: base.Resolver, Context: base.Context,
	}
}
