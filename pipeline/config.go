package pipeline

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/contact-enricher/contact-enricher/codec"
	"github.com/contact-enricher/contact-enricher/pipeline/batchapi"
)

// Limits the Batch API sets for every account.
const (
	// MaxBatchSize is the most profile URLs one job may carry.
	MaxBatchSize = batchapi.MaxURLsPerJob
	// MaxJobsInFlight is the most jobs an account may have active.
	MaxJobsInFlight = 5
)

// Config configures a Pipeline. Zero fields take the default named in
// their comment; Validate reports every value out of range.
type Config struct {
	// Brokers are the Kafka bootstrap addresses, host:port. Required.
	Brokers []string
	// InputTopic carries the CRM change events. Required.
	InputTopic string
	// OutputTopic receives one contact event per person. Required.
	OutputTopic string
	// DeadLetterTopic receives the input records that cannot be answered.
	// Required.
	DeadLetterTopic string
	// GroupID is the consumer group of the input topic (Kafka property
	// group.id). Default: "contact-enricher".
	GroupID string
	// Dialer opens the readers' connections (TLS, SASL). Default:
	// kafka.DefaultDialer.
	Dialer *kafka.Dialer
	// Transport carries the job-state writer's and the result reads'
	// requests (TLS, SASL). Default: kafka.DefaultTransport.
	Transport kafka.RoundTripper

	// StateTopic records every job's transitions, keyed by job id. It is
	// created when missing: compacted, one partition. Default:
	// "contact-enricher.jobs".
	StateTopic string
	// StateReplicationFactor is the replication factor of a created state
	// topic; -1 takes the broker's default. Default: -1.
	StateReplicationFactor int16
	// ReplicaID names this replica as the owner of its jobs. A replica
	// restarted with the same id resumes its jobs at once; others are
	// adopted when their lease expires. Default: the host name.
	ReplicaID string
	// LeaseTimeout is how long a job's owner may write nothing before
	// another replica adopts the job. Default: 60s.
	LeaseTimeout time.Duration
	// Freshness is how long a result answers the same URL again instead of
	// a new submission. Default: 720h (30 days).
	Freshness time.Duration

	// Fields are the contact kinds requested from the API. Default:
	// business_email and personal_contact_info.
	Fields []string
	// BatchSize is the most distinct URLs in one job, 1 to 300. Default: 300.
	BatchSize int
	// Linger is how long a partial batch waits for more URLs before it is
	// submitted. Default: 5s.
	Linger time.Duration
	// MaxJobsInFlight is the number of job tokens, 1 to 5. Default: 5.
	MaxJobsInFlight int
	// PollInterval is the mean wait between status calls of one job; each
	// wait is jittered by up to a fifth either way. Default: 30s, which keeps
	// five jobs under the API's default of 15 requests a minute.
	PollInterval time.Duration
	// MaxJobAttempts is how often a job that the API reports failed is
	// submitted before its records are dead-lettered. Default: 3.
	MaxJobAttempts int
	// MaxDownloadAttempts is how often a results download is tried before
	// the job's unanswered records are dead-lettered. Default: 5.
	MaxDownloadAttempts int
	// CreditProbeInterval is, after the API returned 402 (insufficient
	// credits), the wait between posts that probe whether credits are back.
	// Submissions and consumption pause until one succeeds. Default: 5m.
	CreditProbeInterval time.Duration
	// StuckJobAfter is how long a job may stay pending or processing after
	// its submission before it is reported stuck: an error log and the
	// gauge contact_enricher_batchapi_jobs_stuck. The job keeps its slot.
	// Default: 1h.
	StuckJobAfter time.Duration
	// AbandonStuckJobs dead-letters the records of a job reported stuck
	// (reason job_stuck) so that their offsets can be committed. The job
	// still holds its token until the API ends it, and its URLs are not
	// submitted again. Default: false, so a stuck job waits.
	AbandonStuckJobs bool
	// WebhookURL is the public URL of this service's webhook receiver
	// (Pipeline.WebhookHandler), sent with every submit so that the API
	// calls it when the job ends. Default: empty, no webhooks; status polls
	// alone find the end of each job.
	WebhookURL string
	// WebhookSecret, when set, is the key that webhook signatures must
	// match (x-crustdata-signature); deliveries without a valid signature
	// are refused. The provider signs with the account's API key.
	// Default: empty, signatures are not checked.
	WebhookSecret batchapi.Secret
	// RetryBackoff is the first wait before a failed call or write is
	// retried; each retry doubles it up to a minute. Default: 500ms.
	RetryBackoff time.Duration

	// CommitInterval is how often finished offsets are committed (compare
	// Kafka property auto.commit.interval.ms). Default: 1s.
	CommitInterval time.Duration
	// ShutdownGrace is how long, after a stop is requested, running jobs may
	// still write their outputs before the last commit. Default: 20s.
	ShutdownGrace time.Duration
	// SessionTimeout is the consumer group session timeout (Kafka property
	// session.timeout.ms). Default: 30s.
	SessionTimeout time.Duration
	// HeartbeatInterval is the group heartbeat interval (Kafka property
	// heartbeat.interval.ms). Default: 3s.
	HeartbeatInterval time.Duration
	// RebalanceTimeout bounds how long members may take to rejoin during a
	// rebalance (Kafka property max.poll.interval.ms). Default: 30s.
	RebalanceTimeout time.Duration
	// JoinGroupBackoff is the wait before rejoining after an error.
	// Default: 2s.
	JoinGroupBackoff time.Duration
	// FetchMaxWait bounds how long a fetch waits for new records (Kafka
	// property fetch.max.wait.ms). Default: 500ms.
	FetchMaxWait time.Duration

	// Decoder configures where input values carry the profile URL.
	Decoder codec.DecoderConfig
	// Results bounds what one results download may use.
	Results codec.ResultsReaderConfig
}

func (c *Config) setDefaults() {
	setDefault(&c.GroupID, "contact-enricher")
	setDefault(&c.StateTopic, "contact-enricher.jobs")
	setDefault(&c.StateReplicationFactor, -1)
	setDefault(&c.LeaseTimeout, 60*time.Second)
	setDefault(&c.Freshness, 30*24*time.Hour)
	if c.ReplicaID == "" {
		c.ReplicaID = defaultReplicaID()
	}
	if len(c.Fields) == 0 {
		c.Fields = []string{batchapi.FieldBusinessEmail, batchapi.FieldPersonal}
	}
	setDefault(&c.BatchSize, MaxBatchSize)
	setDefault(&c.Linger, 5*time.Second)
	setDefault(&c.MaxJobsInFlight, MaxJobsInFlight)
	setDefault(&c.PollInterval, 30*time.Second)
	setDefault(&c.MaxJobAttempts, 3)
	setDefault(&c.MaxDownloadAttempts, 5)
	setDefault(&c.CreditProbeInterval, 5*time.Minute)
	setDefault(&c.StuckJobAfter, time.Hour)
	setDefault(&c.RetryBackoff, 500*time.Millisecond)
	setDefault(&c.CommitInterval, time.Second)
	setDefault(&c.ShutdownGrace, 20*time.Second)
	setDefault(&c.SessionTimeout, 30*time.Second)
	setDefault(&c.HeartbeatInterval, 3*time.Second)
	setDefault(&c.RebalanceTimeout, 30*time.Second)
	setDefault(&c.JoinGroupBackoff, 2*time.Second)
	setDefault(&c.FetchMaxWait, 500*time.Millisecond)
	if c.Dialer == nil {
		c.Dialer = kafka.DefaultDialer
	}
	if c.Transport == nil {
		c.Transport = kafka.DefaultTransport
	}
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Validate returns an error naming every invalid value, after defaults are
// applied to the zero fields.
func (c Config) Validate() error {
	c.setDefaults()
	var errs []error
	check := func(bad bool, format string, args ...any) {
		if bad {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(len(c.Brokers) == 0, "brokers: at least one broker address is required")
	for _, b := range c.Brokers {
		check(b == "", "brokers: empty broker address")
	}
	check(c.InputTopic == "", "input topic: required")
	check(c.OutputTopic == "", "output topic: required")
	check(c.DeadLetterTopic == "", "dead-letter topic: required")
	check(c.InputTopic != "" && (c.InputTopic == c.OutputTopic || c.InputTopic == c.DeadLetterTopic),
		"topics: the input topic %q must differ from the output and dead-letter topics", c.InputTopic)
	check(c.StateTopic == c.InputTopic || c.StateTopic == c.OutputTopic || c.StateTopic == c.DeadLetterTopic,
		"state topic %q: must differ from the input, output and dead-letter topics", c.StateTopic)
	check(c.StateReplicationFactor == 0 || c.StateReplicationFactor < -1,
		"state replication factor %d: must be at least 1, or -1 for the broker's default", c.StateReplicationFactor)
	check(c.LeaseTimeout > 0 && c.LeaseTimeout < 2*c.PollInterval,
		"lease timeout %s: must be at least twice the poll interval %s, because the owner renews the lease after a poll", c.LeaseTimeout, c.PollInterval)
	check(c.BatchSize < 1 || c.BatchSize > MaxBatchSize, "batch size %d: must be 1 to %d", c.BatchSize, MaxBatchSize)
	check(c.MaxJobsInFlight < 1 || c.MaxJobsInFlight > MaxJobsInFlight,
		"jobs in flight %d: must be 1 to %d, the account's limit of active jobs", c.MaxJobsInFlight, MaxJobsInFlight)
	check(c.MaxJobAttempts < 1, "max job attempts %d: must be at least 1", c.MaxJobAttempts)
	check(c.MaxDownloadAttempts < 1, "max download attempts %d: must be at least 1", c.MaxDownloadAttempts)
	durations := []struct {
		name  string
		value time.Duration
	}{
		{"linger", c.Linger}, {"poll interval", c.PollInterval}, {"retry backoff", c.RetryBackoff},
		{"commit interval", c.CommitInterval}, {"shutdown grace", c.ShutdownGrace},
		{"session timeout", c.SessionTimeout}, {"heartbeat interval", c.HeartbeatInterval},
		{"rebalance timeout", c.RebalanceTimeout}, {"join group backoff", c.JoinGroupBackoff},
		{"fetch max wait", c.FetchMaxWait}, {"lease timeout", c.LeaseTimeout}, {"freshness", c.Freshness},
		{"credit probe interval", c.CreditProbeInterval}, {"stuck job after", c.StuckJobAfter},
	}
	for _, d := range durations {
		check(d.value < 0, "%s %s: must not be negative", d.name, d.value)
	}
	check(c.HeartbeatInterval >= c.SessionTimeout,
		"heartbeat interval %s: must be shorter than the session timeout %s", c.HeartbeatInterval, c.SessionTimeout)
	errs = append(errs, validateFields(c.Fields)...)
	return errors.Join(errs...)
}

func validateFields(fields []string) []error {
	var errs []error
	for _, f := range fields {
		switch f {
		case batchapi.FieldBusinessEmail, batchapi.FieldPersonal, batchapi.FieldPersonalEmails, batchapi.FieldPhoneNumbers:
		default:
			errs = append(errs, fmt.Errorf("field %q: unknown; allowed are %s, %s, %s and %s", f,
				batchapi.FieldBusinessEmail, batchapi.FieldPersonal, batchapi.FieldPersonalEmails, batchapi.FieldPhoneNumbers))
		}
	}
	return errs
}

// defaultReplicaID returns the host name, which is the pod name on
// Kubernetes, or "contact-enricher" when it is unknown.
func defaultReplicaID() string {
	name, err := os.Hostname()
	if err != nil || name == "" {
		return "contact-enricher"
	}
	return name
}
