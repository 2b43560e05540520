package batchapi

// APIVersion is sent as x-api-version on every API call.
const APIVersion = "2025-11-01"

// DefaultBaseURL is the API's address when Config.BaseURL is empty.
const DefaultBaseURL = "https://api.crustdata.com"

// MaxURLsPerJob is the API's limit of profile URLs per job.
const MaxURLsPerJob = 300

// Field values accepted by the API.
const (
	FieldBusinessEmail  = "business_email"
	FieldPersonal       = "personal_contact_info" // both of the next two
	FieldPersonalEmails = "personal_contact_info.personal_emails"
	FieldPhoneNumbers   = "personal_contact_info.phone_numbers"
)

// Job statuses. A job moves from pending to processing to completed or
// failed; there is no cancelled state.
const (
	StatusPending    = "pending"
	StatusProcessing = "processing"
	StatusCompleted  = "completed"
	StatusFailed     = "failed"
)

// Chunk size bounds of SubmitRequest.ChunkSize when it is set.
const (
	MinChunkSize = 10
	MaxChunkSize = 1000
)

// MaxListLimit is the largest page size of GET /batch. The API clamps a
// larger limit, and ListOptions.Validate rejects it.
const MaxListLimit = 100

// SubmitRequest is the body of POST /batch/person/contact/enrich.
type SubmitRequest struct {
	URLs       []string `json:"professional_network_profile_urls"`
	Fields     []string `json:"fields"`
	WebhookURL string   `json:"webhook_url,omitempty"`
	ChunkSize  int      `json:"chunk_size,omitempty"` // records per part file; 0 leaves it to the API
	Verified   bool     `json:"verified,omitempty"`
}

// Job is the status object returned by submit, status and list.
type Job struct {
	BatchID           string   `json:"batch_id"`
	Status            string   `json:"status"`
	Entity            string   `json:"entity,omitempty"`
	Action            string   `json:"action,omitempty"`
	IdentifierCount   int      `json:"identifier_count"`
	EntitiesRequested int      `json:"entities_requested"`
	EntitiesFulfilled int      `json:"entities_fulfilled"`
	ResultCount       int      `json:"result_count"`
	StatusURL         string   `json:"status_url,omitempty"`
	CreatedAt         string   `json:"created_at,omitempty"`
	CompletedAt       string   `json:"completed_at,omitempty"`
	DownloadURL       string   `json:"download_url,omitempty"`  // whole results file, pre-signed
	DownloadURLs      []string `json:"download_urls,omitempty"` // the same records in part files
	ErrorMessage      string   `json:"error_message,omitempty"`
}

// Finished reports whether the job is completed or failed.
func (j Job) Finished() bool {
	return j.Status == StatusCompleted || j.Status == StatusFailed
}

// ListOptions are the query of GET /batch.
type ListOptions struct {
	Limit  int    // 1..100; 0 means the API default (20)
	Status string // "" or one of the four statuses
	Cursor string // NextCursor of the previous page; "" for the first page
}

// ListPage is one page of GET /batch, newest job first.
type ListPage struct {
	Jobs       []Job   `json:"jobs"`
	NextCursor *string `json:"next_cursor"` // nil on the last page
	HasMore    bool    `json:"has_more"`
}
