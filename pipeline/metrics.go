package pipeline

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metric label values of outcome on the records counters.
const (
	outcomeEnrich       = "enrich"
	outcomeSkipped      = "skipped"
	outcomeDeadLettered = "dead_lettered"
	outcomeAnswered     = "answered"
)

// metrics are the pipeline's Prometheus collectors. Labels are bounded:
// outcome, reason code, API operation, error class and job status.
type metrics struct {
	recordsConsumed *prometheus.CounterVec
	recordsFinished *prometheus.CounterVec
	deadLetters     *prometheus.CounterVec
	contactEvents   prometheus.Counter
	joinedJobs      prometheus.Counter
	jobsSubmitted   prometheus.Counter
	urlsSubmitted   prometheus.Counter
	jobsFinished    *prometheus.CounterVec
	apiErrors       *prometheus.CounterVec
	jobSeconds      prometheus.Histogram
	commits         prometheus.Counter

	answeredFromResults prometheus.Counter
	jobsAdopted         prometheus.Counter
	webhooks            *prometheus.CounterVec
}

// gaugeFuncs read the pipeline's current state for the gauges.
type gaugeFuncs struct {
	tokensInUse, pendingRecords, parkedRecords, creditsPaused, jobsStuck func() float64
}

func newMetrics(reg prometheus.Registerer, g gaugeFuncs) (*metrics, error) {
	m := &metrics{
		recordsConsumed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "contact_enricher_consumer_records_total",
			Help: "Input records consumed, by what decoding decided: enrich, skipped or dead_lettered.",
		}, []string{"outcome"}),
		recordsFinished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "contact_enricher_pipeline_records_finished_total",
			Help: "Input records whose handling is complete and durable: answered by a contact event, skipped, or dead_lettered.",
		}, []string{"outcome"}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "contact_enricher_sink_dead_letters_total",
			Help: "Dead letters written, by reason code.",
		}, []string{"reason"}),
		contactEvents: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "contact_enricher_sink_contact_events_total",
			Help: "Contact events written to the output topic.",
		}),
		joinedJobs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "contact_enricher_pipeline_records_joined_total",
			Help: "Input records whose URL was already held by a pending or running job and joined it instead of being submitted again.",
		}),
		jobsSubmitted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "contact_enricher_batchapi_jobs_submitted_total",
			Help: "Jobs the Batch API accepted.",
		}),
		urlsSubmitted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "contact_enricher_batchapi_urls_submitted_total",
			Help: "Profile URLs in jobs the Batch API accepted; each one may be billed.",
		}),
		jobsFinished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "contact_enricher_batchapi_jobs_finished_total",
			Help: "Jobs the Batch API reported finished, by status: completed or failed.",
		}, []string{"status"}),
		apiErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "contact_enricher_batchapi_errors_total",
			Help: "Failed Batch API calls, by operation and error class.",
		}, []string{"op", "class"}),
		jobSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "contact_enricher_batchapi_job_duration_seconds",
			Help:    "Time from a job's acceptance to the API reporting it finished.",
			Buckets: prometheus.ExponentialBuckets(0.25, 2, 14),
		}),
		commits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "contact_enricher_consumer_commits_total",
			Help: "Offset commits of the input consumer group.",
		}),
		answeredFromResults: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "contact_enricher_pipeline_records_answered_from_results_total",
			Help: "Input records answered from an earlier contact event instead of a new submission.",
		}),
		jobsAdopted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "contact_enricher_pipeline_jobs_adopted_total",
			Help: "Jobs taken over from a replica whose lease expired.",
		}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "contact_enricher_webhook_deliveries_total",
			Help: "Webhook deliveries received, by outcome: accepted, unknown_job, bad_signature or malformed.",
		}, []string{"outcome"}),
	}
	collectors := []prometheus.Collector{
		m.recordsConsumed, m.recordsFinished, m.deadLetters, m.contactEvents, m.joinedJobs,
		m.jobsSubmitted, m.urlsSubmitted, m.jobsFinished, m.apiErrors, m.jobSeconds, m.commits,
		m.answeredFromResults, m.jobsAdopted, m.webhooks,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "contact_enricher_pipeline_records_parked",
			Help: "Input records waiting for the result of a job that holds their URL.",
		}, g.parkedRecords),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "contact_enricher_pipeline_job_tokens_in_use",
			Help: "Job tokens taken: jobs submitted or about to be, and not yet reported finished.",
		}, g.tokensInUse),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "contact_enricher_pipeline_records_pending",
			Help: "Input records fetched whose output or dead letter is not yet written.",
		}, g.pendingRecords),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "contact_enricher_batchapi_paused_no_credits",
			Help: "1 while submissions and consumption are paused because the Batch API answered 402 (insufficient credits), else 0.",
		}, g.creditsPaused),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "contact_enricher_batchapi_jobs_stuck",
			Help: "Jobs of this replica still pending or processing past --stuck-job-after; alert when above 0.",
		}, g.jobsStuck),
	}
	for _, c := range collectors {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering pipeline metrics: %w", err)
		}
	}
	return m, nil
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
