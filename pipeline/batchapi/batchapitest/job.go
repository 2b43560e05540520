package batchapitest

import (
	"crypto/rand"
	"fmt"
	"time"
)

// Job statuses.
const (
	StatusPending    = "pending"
	StatusProcessing = "processing"
	StatusCompleted  = "completed"
	StatusFailed     = "failed"
)

// defaultChunkSize is the part-file size of a job submitted without chunk_size.
const defaultChunkSize = 1000

// job is one accepted submit. It never changes after the submit: its status
// follows from the clock.
type job struct {
	id         string
	seq        int
	urls       []string
	kinds      kinds
	chunkSize  int
	webhookURL string
	baseURL    string // for the links in the webhook body
	created    time.Time
	duration   time.Duration
	failure    string // error_message when the job ends as failed

	// Faults drawn at submit; see [Faults].
	stuck     bool          // never leaves processing
	linkTTL   time.Duration // overrides Config.LinkTTL when positive
	fileFault string        // Fault* name of a breaking results-file fault, or ""
	shapes    fileShape     // shaping faults of the results files
	webhook   webhookFaults // faults of the webhook delivery
	// answerLost is the Fault* name that kept the submit's response from
	// the client, or "". Guarded by Server.mu.
	answerLost string

	// fulfilled[i] is the number of fulfilled entities among the first i URLs.
	fulfilled []int
}

func newJob(id string, req submitRequest, created time.Time, duration time.Duration) *job {
	j := &job{
		id:         id,
		urls:       req.urls,
		kinds:      kindsOf(req.fields),
		chunkSize:  req.chunkSize,
		webhookURL: req.webhookURL,
		created:    created,
		duration:   duration,
		fulfilled:  make([]int, len(req.urls)+1),
	}
	if j.chunkSize == 0 {
		j.chunkSize = defaultChunkSize
	}
	for i, u := range req.urls {
		j.fulfilled[i+1] = j.fulfilled[i]
		if Contact(u).foundFor(j.kinds) {
			j.fulfilled[i+1]++
		}
	}
	return j
}

func (j *job) end() time.Time {
	return j.created.Add(j.duration)
}

// processingStart is when the job leaves pending, after 20% of its duration.
func (j *job) processingStart() time.Time {
	return j.created.Add(j.duration / 5)
}

func (j *job) statusAt(now time.Time) string {
	switch {
	case now.Before(j.processingStart()):
		return StatusPending
	case j.stuck || now.Before(j.end()):
		return StatusProcessing
	case j.failure != "":
		return StatusFailed
	default:
		return StatusCompleted
	}
}

// activeAt reports whether the job holds a slot: pending or processing.
func (j *job) activeAt(now time.Time) bool {
	return j.stuck || now.Before(j.end())
}

// resultCountAt is the number of records produced by now: zero while
// pending, growing linearly while processing, one per URL when completed.
func (j *job) resultCountAt(now time.Time) int {
	switch j.statusAt(now) {
	case StatusCompleted:
		if j.fileFault == FaultEmptyResult {
			return 0
		}
		return len(j.urls)
	case StatusProcessing:
		if j.stuck && now.After(j.end()) {
			now = j.end() // progress stalls where the job should have ended
		}
		done := now.Sub(j.processingStart())
		total := j.end().Sub(j.processingStart())
		n := int(float64(len(j.urls)) * float64(done) / float64(total))
		if j.stuck {
			n = min(n, max(len(j.urls)-1, 0)) // one record short of done
		}
		return n
	default:
		return 0
	}
}

// parts is the number of part files of a completed job.
func (j *job) parts() int {
	return (len(j.urls) + j.chunkSize - 1) / j.chunkSize
}

// newBatchID returns a random UUID version 4 in its text form.
func newBatchID() string {
	var b [16]byte
	rand.Read(b[:]) // never returns an error since Go 1.24
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
