package batchapitest

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Faults switches on failure modes of the real service. Each field is a rate
// in [0,1]: the probability that the mode strikes one eligible request or
// job; 0 never, 1 always. The zero value injects nothing. Draws come from a
// source seeded with Config.FaultSeed, so the same sequence of requests gets
// the same faults. Each strike is counted in Stats.Faults under the mode's
// Fault* name. At most one request fault and one breaking results-file fault
// strike at a time, and the modes are tried in the order of the fields. The
// shaping faults of a results file and the webhook faults are drawn one by
// one, so several can strike the same job. [ParseFaults] reads a Faults
// from text such as "ServerError=0.1,CRLFLines=1".
type Faults struct {
	// Per API request (submit, status, list), before any work is done.
	ServerError    float64 // 500, 502 or 503 with a JSON error body
	RateLimitStorm float64 // 429 whatever the free slots, with a small, absent or absurd Retry-After
	NoCredits      float64 // submit only: 402 insufficient_credits
	Forbidden      float64 // submit only: 403 forbidden

	// DropConnection closes the connection without a response. A submit
	// creates its job first, so the job exists though the client never
	// learns its id.
	DropConnection float64

	// SubmitNoAnswer accepts a submit, so its job exists and runs, but
	// never responds: the handler waits until the client gives up or the
	// Server is closed, then closes the connection. It is drawn only for
	// a submit that DropConnection spared.
	SubmitNoAnswer float64

	// Per accepted job, drawn at submit.
	StuckJob        float64 // never leaves processing, sends no webhook, holds its slot
	FailedJob       float64 // ends failed with an error_message
	EarlyLinkExpiry float64 // links expire EarlyLinkTTL after the status call

	// Per accepted job, faults of its results files that break or change
	// the content. At most one strikes a job.
	EmptyResult         float64 // result_count 0, and every link returns 404
	FewerLines          float64 // the second line of every three is missing
	DuplicateLines      float64 // the first line of every three is written twice
	TruncatedBody       float64 // the body stops halfway, short of its Content-Length
	CorruptGzip         float64 // the gzip trailer's checksum is wrong
	ContentEncodingGzip float64 // served with Content-Encoding: gzip

	// Per accepted job, shapes of its results files that a client must
	// tolerate. Each is drawn on its own, so they combine with each other
	// and with the faults above, and a correct client reads the same
	// contact values as from a plain file. DataShapes and BigInternalID
	// follow the URL's index in the job, so the whole file and the part
	// files agree. The other shapes follow the position within each file.
	MultipleMembers float64 // a new gzip member every three records
	ByteOrderMark   float64 // the decompressed file starts with the UTF-8 BOM EF BB BF
	CRLFLines       float64 // lines end with \r\n
	BlankLines      float64 // empty lines, and lines of spaces or a lone \r, between records and at the end
	LongLines       float64 // the first line of each file carries an unknown field of 1 MiB
	DataShapes      float64 // lines cycle through every tolerated way to write the contact values
	BigInternalID   float64 // internal_id above 2^63, some above 2^64, as JSON integers

	// Per accepted job with a webhook_url, drawn at submit.
	WebhookDuplicate    float64 // the same body is delivered two or three times
	WebhookEarly        float64 // the one delivery comes at half the job's duration, while status shows processing
	WebhookUnsigned     float64 // no x-crustdata-signature header
	WebhookBadSignature float64 // signed with a wrong key or over a different body; not drawn when WebhookUnsigned struck
}

// Names of the fault modes, the keys of Stats.Faults.
const (
	FaultServerError         = "ServerError"
	FaultRateLimitStorm      = "RateLimitStorm"
	FaultNoCredits           = "NoCredits"
	FaultForbidden           = "Forbidden"
	FaultDropConnection      = "DropConnection"
	FaultSubmitNoAnswer      = "SubmitNoAnswer"
	FaultStuckJob            = "StuckJob"
	FaultFailedJob           = "FailedJob"
	FaultEarlyLinkExpiry     = "EarlyLinkExpiry"
	FaultEmptyResult         = "EmptyResult"
	FaultFewerLines          = "FewerLines"
	FaultDuplicateLines      = "DuplicateLines"
	FaultTruncatedBody       = "TruncatedBody"
	FaultCorruptGzip         = "CorruptGzip"
	FaultContentEncodingGzip = "ContentEncodingGzip"
	FaultMultipleMembers     = "MultipleMembers"
	FaultByteOrderMark       = "ByteOrderMark"
	FaultCRLFLines           = "CRLFLines"
	FaultBlankLines          = "BlankLines"
	FaultLongLines           = "LongLines"
	FaultDataShapes          = "DataShapes"
	FaultBigInternalID       = "BigInternalID"
	FaultWebhookDuplicate    = "WebhookDuplicate"
	FaultWebhookEarly        = "WebhookEarly"
	FaultWebhookUnsigned     = "WebhookUnsigned"
	FaultWebhookBadSignature = "WebhookBadSignature"
)

// EarlyLinkTTL is the link lifetime of a job struck by EarlyLinkExpiry.
const EarlyLinkTTL = time.Second

// FailedJobMessage is the error_message of a job struck by FailedJob.
const FailedJobMessage = "simulated fault: the enrichment worker crashed"

// errServerError is the error.type of an injected 5xx response.
const errServerError = "server_error"

func newFaultSource(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// strike is the one place that decides whether a fault fires now: with
// probability rate, drawn from the seeded source, and counted when it fires.
func (s *Server) strike(mode string, rate float64) bool {
	if rate <= 0 {
		return false // no draw, so a zero Faults leaves the source as it was
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.strikeLocked(mode, rate)
}

// strikeLocked is strike for a caller that holds s.mu.
func (s *Server) strikeLocked(mode string, rate float64) bool {
	if rate <= 0 || rate < 1 && s.faultRand.Float64() >= rate {
		return false
	}
	if s.cfg.AllowFault != nil && !s.cfg.AllowFault(mode) {
		return false
	}
	if s.stats.Faults == nil {
		s.stats.Faults = make(map[string]int)
	}
	s.stats.Faults[mode]++
	return true
}

// choose returns a uniform index below n from the fault source, to pick a
// variant of a fault that has struck.
func (s *Server) choose(n int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faultRand.IntN(n)
}

// requestFault writes a fault instead of the real response and reports
// whether it did. The caller has checked method, key and version. A submit
// drops its connection only after admitting its job: see submitDropped.
func (s *Server) requestFault(w http.ResponseWriter, submit bool) bool {
	f := s.cfg.Faults
	switch {
	case s.strike(FaultServerError, f.ServerError):
		s.writeServerError(w)
	case s.strike(FaultRateLimitStorm, f.RateLimitStorm):
		s.writeRateLimitStorm(w)
	case submit && s.strike(FaultNoCredits, f.NoCredits):
		s.writeError(w, http.StatusPaymentRequired, errInsufficientCredits,
			"not enough credits for this job; top up the account", nil)
	case submit && s.strike(FaultForbidden, f.Forbidden):
		s.writeError(w, http.StatusForbidden, errForbidden,
			"this API key has no access to contact enrichment", nil)
	case !submit && s.strike(FaultDropConnection, f.DropConnection):
		dropConnection(w)
	default:
		return false
	}
	return true
}

// submitDropped drops the connection of an admitted submit when
// DropConnection strikes: the job runs, but its 202 never arrives.
func (s *Server) submitDropped(w http.ResponseWriter, j *job) bool {
	if !s.strike(FaultDropConnection, s.cfg.Faults.DropConnection) {
		return false
	}
	s.log.Info("job accepted, dropping the connection", "batch_id", j.id)
	s.mu.Lock()
	j.answerLost = FaultDropConnection
	s.mu.Unlock()
	dropConnection(w)
	return true
}

// submitUnanswered withholds the response of an admitted submit when
// SubmitNoAnswer strikes. The job runs, and the handler waits until the
// client gives up or the Server is closed, then drops the connection, so no
// response is ever written. Close waits for such handlers. After Close the
// connection is dropped at once.
func (s *Server) submitUnanswered(w http.ResponseWriter, r *http.Request, j *job) bool {
	if !s.strike(FaultSubmitNoAnswer, s.cfg.Faults.SubmitNoAnswer) {
		return false
	}
	s.mu.Lock()
	j.answerLost = FaultSubmitNoAnswer
	closed := s.closed
	if !closed {
		s.wg.Add(1)
	}
	s.mu.Unlock()

	s.log.Info("job accepted, withholding the response", "batch_id", j.id)
	if !closed {
		select {
		case <-r.Context().Done():
		case <-s.ctx.Done():
		}
		s.wg.Done()
	}
	dropConnection(w)
	return true
}

func (s *Server) writeServerError(w http.ResponseWriter) {
	status := []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}[s.choose(3)]
	s.writeError(w, status, errServerError, "simulated fault: "+http.StatusText(status), nil)
}

// writeRateLimitStorm answers 429 in one of three shapes: a short
// Retry-After, no header at all (not even x-ratelimit-*), or an absurd
// Retry-After that a client must clamp.
func (s *Server) writeRateLimitStorm(w http.ResponseWriter) {
	body := errorBody{Error: errorDetail{Type: errRateLimited,
		Message: "simulated fault: too many requests", Metadata: map[string]any{}}}
	switch s.choose(3) {
	case 0:
		w.Header().Set("Retry-After", strconv.Itoa(1+s.choose(3)))
	case 1:
		writeJSONBare(w, http.StatusTooManyRequests, body)
		return
	default:
		w.Header().Set("Retry-After", []string{"999999", "-5"}[s.choose(2)])
	}
	s.writeJSON(w, http.StatusTooManyRequests, body)
}

// dropConnection closes the connection under w without writing a response.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// HTTP/2 cannot hijack, but aborting the handler resets the stream.
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// applyJobFaultsLocked draws the per-job faults of j, which is not yet
// visible to other goroutines; the caller holds s.mu. A stuck job draws no
// end state, no webhook fault and no file fault: it never ends, or with
// Config.StuckJobFor it completes that long after its submit.
func (s *Server) applyJobFaultsLocked(j *job) {
	f := s.cfg.Faults
	if s.strikeLocked(FaultStuckJob, f.StuckJob) {
		if s.cfg.StuckJobFor > 0 {
			j.duration = s.cfg.StuckJobFor
		} else {
			j.stuck = true
		}
		s.countURLsLocked(&s.stats.StuckSubmissionsPerURL, j.urls)
		return
	}
	if j.failure == "" && s.strikeLocked(FaultFailedJob, f.FailedJob) {
		j.failure = FailedJobMessage
	}
	if j.failure != "" {
		s.countURLsLocked(&s.stats.FailedSubmissionsPerURL, j.urls)
	}
	if s.strikeLocked(FaultEarlyLinkExpiry, f.EarlyLinkExpiry) {
		j.linkTTL = EarlyLinkTTL
	}
	if j.webhookURL != "" {
		j.webhook = s.drawWebhookFaultsLocked()
	}
	if j.failure != "" {
		return // a failed job has no results files
	}
	j.fileFault = s.drawFileFaultLocked()
	if j.fileFault == FaultTruncatedBody || j.fileFault == FaultCorruptGzip {
		s.countURLsLocked(&s.stats.UnreadableSubmissionsPerURL, j.urls)
	}
	if j.fileFault != FaultEmptyResult {
		j.shapes = s.drawShapesLocked() // an empty result has no file to shape
	}
}

// drawFileFaultLocked returns the Fault* name of the breaking file fault
// that strikes a job, or "" for none; the caller holds s.mu.
func (s *Server) drawFileFaultLocked() string {
	f := s.cfg.Faults
	fileFaults := []struct {
		mode string
		rate float64
	}{
		{FaultEmptyResult, f.EmptyResult},
		{FaultFewerLines, f.FewerLines},
		{FaultDuplicateLines, f.DuplicateLines},
		{FaultTruncatedBody, f.TruncatedBody},
		{FaultCorruptGzip, f.CorruptGzip},
		{FaultContentEncodingGzip, f.ContentEncodingGzip},
	}
	for _, ff := range fileFaults {
		if s.strikeLocked(ff.mode, ff.rate) {
			return ff.mode
		}
	}
	return ""
}

// countURLsLocked adds one to (*counts)[u] for each of urls, making the map
// first; the caller holds s.mu.
func (s *Server) countURLsLocked(counts *map[string]int, urls []string) {
	if *counts == nil {
		*counts = make(map[string]int)
	}
	for _, u := range urls {
		(*counts)[u]++
	}
}
