package codec

// Dead-letter reason codes. Each is a stable string that appears in the
// dead-letter header and in the README.
const (
	ReasonInvalidJSON       = "invalid_json"            // the value is not valid JSON and not a plain URL string
	ReasonUnsupportedValue  = "unsupported_value"       // valid JSON of a shape we do not read (array, number, ...)
	ReasonUnsupportedOp     = "unsupported_operation"   // a Debezium op other than c, r, u, d
	ReasonMissingProfileURL = "missing_profile_url"     // no URL at the configured column or path, or null
	ReasonNotAProfileURL    = "not_a_profile_url"       // a value that is not a person profile URL
	ReasonUnsupportedURL    = "unsupported_profile_url" // a person profile URL form we cannot canonicalise (legacy /pub/)
	ReasonAPIRejected       = "api_rejected"            // the Batch API rejected the job permanently (HTTP 400)
	ReasonEnrichmentFailed  = "enrichment_failed"       // the job failed on the API side more often than allowed
	ReasonJobStuck          = "job_stuck"               // the job stayed pending or processing past the deadline, and abandoning was allowed
)

// DecodeError is returned for a record that must go to the dead-letter
// topic. Reason is one of the Reason* codes; Detail is a sentence for a
// person fixing the input.
type DecodeError struct {
	Reason string
	Detail string
}

func (e *DecodeError) Error() string { return e.Reason + ": " + e.Detail }

func decodeError(reason, detail string) *DecodeError {
	return &DecodeError{Reason: reason, Detail: detail}
}
