package codec

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// JobStateVersion is the version of the JobState record layout.
const JobStateVersion = 1

// Job statuses recorded in the job-state topic.
const (
	JobIntent     = "intent"     // batched, waiting for an API slot; not sent yet
	JobSubmitting = "submitting" // about to POST: after a crash the job may exist without its batch id
	JobSubmitted  = "submitted"  // the API accepted the job; BatchID set
	JobCompleted  = "completed"  // the API reports completed; outputs not yet written
	JobFailed     = "failed"     // the API reports failed; may be resubmitted
	JobEmitted    = "emitted"    // every contact event of the job is written
	JobAbandoned  = "abandoned"  // given up; its events were dead-lettered
)

// ErrUnsupportedJobStateVersion is wrapped by UnmarshalJobState for a
// record written with another layout version, for example by a newer
// release of the service.
var ErrUnsupportedJobStateVersion = errors.New("unsupported job state version")

// JobState is one record of the job-state topic, keyed by JobID.
type JobState struct {
	Version int                 `json:"version"`
	JobID   string              `json:"job_id"`
	BatchID string              `json:"batch_id,omitempty"`
	Status  string              `json:"status"`
	Fields  []string            `json:"fields"`
	URLs    []string            `json:"urls"`    // canonical profile URLs, as submitted
	Sources map[string][]Source `json:"sources"` // canonical URL -> input records it answers
	Owner   string              `json:"owner,omitempty"`
	// Epoch counts changes of owner. A replica that adopts the job writes
	// Epoch+1; in log order the first such record wins, and records of an
	// earlier epoch are ignored.
	Epoch int `json:"epoch"`
	// Supersedes is, in a claim, the log offset of the job's latest record
	// that the claimant saw. A claim is accepted only while that record is
	// still the job's latest, so a claim built from a stale view cannot
	// undo another replica's progress.
	Supersedes int64     `json:"supersedes,omitempty"`
	Attempts   int       `json:"attempts"`
	Error      string    `json:"error,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	// APIActive marks an abandoned job that the API still runs: it holds
	// one of the account's job slots until the API ends it.
	APIActive bool `json:"api_active,omitempty"`
	// SubmittedAt is when the API accepted the job, from which the
	// stuck-job deadline runs; zero before, and in records of older versions.
	SubmittedAt time.Time `json:"submitted_at,omitzero"`
}

// Marshal encodes the record. A zero Version is written as
// JobStateVersion; another version, an empty JobID or an unknown Status is
// an error. Nil lists and maps encode as [] and {}, times in UTC.
func (s JobState) Marshal() ([]byte, error) {
	if s.Version == 0 {
		s.Version = JobStateVersion
	}
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("encoding job state %q: %w", s.JobID, err)
	}
	s.Fields = orEmpty(s.Fields)
	s.URLs = orEmpty(s.URLs)
	if s.Sources == nil {
		s.Sources = map[string][]Source{}
	}
	s.CreatedAt = s.CreatedAt.UTC()
	s.UpdatedAt = s.UpdatedAt.UTC()
	if !s.SubmittedAt.IsZero() {
		s.SubmittedAt = s.SubmittedAt.UTC()
	}
	b, err := marshalNoHTMLEscape(s)
	if err != nil {
		return nil, fmt.Errorf("encoding job state %q: %w", s.JobID, err)
	}
	return b, nil
}

// UnmarshalJobState decodes a record of the job-state topic. It rejects a
// Version other than JobStateVersion (wrapping
// ErrUnsupportedJobStateVersion), a missing job_id and an unknown status.
func UnmarshalJobState(b []byte) (JobState, error) {
	var s JobState
	if err := json.Unmarshal(b, &s); err != nil {
		return JobState{}, fmt.Errorf("decoding job state: %w", err)
	}
	if err := s.validate(); err != nil {
		return JobState{}, fmt.Errorf("decoding job state %q: %w", s.JobID, err)
	}
	return s, nil
}

func (s JobState) validate() error {
	if s.Version != JobStateVersion {
		return fmt.Errorf("%w %d: this release reads version %d only", ErrUnsupportedJobStateVersion, s.Version, JobStateVersion)
	}
	if s.JobID == "" {
		return errors.New("missing job_id")
	}
	switch s.Status {
	case JobIntent, JobSubmitting, JobSubmitted, JobCompleted, JobFailed, JobEmitted, JobAbandoned:
		return nil
	}
	return fmt.Errorf("unknown status %q", s.Status)
}
