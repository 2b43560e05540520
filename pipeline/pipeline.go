package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

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
	dlq     *deadLetterQueue
	runner  *runner
	metrics *metrics
	jobs    sync.WaitGroup
	// dispatched is closed when dispatch has returned and starts no more jobs.
	dispatched chan struct{}

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
	if deps.API == nil || deps.Contacts == nil || deps.DeadLetters == nil {
		return nil, errors.New("creating pipeline: the API client, contact sink and dead-letter sink are required")
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

		dispatched: make(chan struct{}),
	}
	m, err := newMetrics(deps.Registerer,
		func() float64 { return float64(p.tokens.inUse()) },
		func() float64 { return float64(p.tracker.pendingCount()) })
	if err != nil {
		return nil, err
	}
	p.metrics = m
	p.dlq = newDeadLetterQueue(deps.DeadLetters, p.tracker, m, deps.Logger, cfg.RetryBackoff)
	p.runner = &runner{
		cfg: cfg, api: deps.API, contacts: deps.Contacts, dlq: p.dlq,
		tracker: p.tracker, batcher: p.batcher, tokens: p.tokens,
		metrics: m, log: deps.Logger, now: deps.Now, fail: p.fail,
	}
	return p, nil
}

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
	background.Go(func() { p.dlq.run(workCtx) })
	background.Go(func() { p.batcher.runLinger(consumeCtx) })
	background.Go(func() { p.dispatch(consumeCtx, workCtx) })

	p.log.Info("pipeline started", "input_topic", p.cfg.InputTopic, "output_topic", p.cfg.OutputTopic,
		"group", p.cfg.GroupID, "batch_size", p.cfg.BatchSize, "linger", p.cfg.Linger, "jobs_in_flight", p.cfg.MaxJobsInFlight)
	err := p.consume(consumeCtx)

	cancelConsume()
	cancelWork()
	background.Wait()
	p.jobs.Wait()
	if ferr := p.fatalError(); ferr != nil {
		p.log.Error("pipeline stopped", "error", ferr)
		return ferr
	}
	if err != nil {
		return fmt.Errorf("consuming topic %s: %w", p.cfg.InputTopic, err)
	}
	p.log.Info("pipeline stopped")
	return nil
}

// dispatch starts a runner for each sealed job once a token is free.
func (p *Pipeline) dispatch(consumeCtx, workCtx context.Context) {
	defer close(p.dispatched)
	for {
		var j *job
		select {
		case <-consumeCtx.Done():
			return
		case j = <-p.batcher.sealed:
		}
		if p.tokens.acquire(consumeCtx) != nil {
			return
		}
		p.jobs.Go(func() { p.runner.run(workCtx, j) })
	}
}

// drain waits up to ShutdownGrace for running jobs and queued dead letters.
func (p *Pipeline) drain() {
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.ShutdownGrace)
	defer cancel()
	<-p.dispatched
	jobsDone := make(chan struct{})
	go func() {
		p.jobs.Wait()
		close(jobsDone)
	}()
	select {
	case <-jobsDone:
		p.dlq.waitIdle(ctx)
	case <-ctx.Done():
		p.log.Warn("stopping with jobs still running; their records stay uncommitted", "grace", p.cfg.ShutdownGrace)
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
