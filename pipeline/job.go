package pipeline

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/contact-enricher/contact-enricher/codec"
)

// inputRecord is one input record waiting for its contact event, with what
// a dead letter needs if the job that holds it gives up.
type inputRecord struct {
	source  codec.Source
	key     []byte
	value   []byte
	headers []kafka.Header
}

// job is one Batch API job: up to the batch size of distinct canonical
// URLs and the input records each one answers. urls is fixed when the job
// is sealed. sources and joinable are guarded by the batcher's mutex while
// joinable is true; once the batcher closes the job, they no longer change
// and the job's runner reads them without the lock.
type job struct {
	id        string
	urls      []string
	sources   map[string][]inputRecord
	joinable  bool
	createdAt time.Time
	// token is set while the job holds one of this replica's job tokens.
	token bool
	// maybePosted is set when the API may have created the job although no
	// batch id is recorded: after a crash during the post, or a lost answer.
	maybePosted bool
	// adopted is set for a job this replica claimed from another owner, and
	// postedAfter is the time of that owner's last record: a post it made
	// lies after it.
	adopted     bool
	postedAfter time.Time
}

func newJob(now time.Time) *job {
	return &job{
		id:        newJobID(),
		sources:   make(map[string][]inputRecord),
		joinable:  true,
		createdAt: now,
	}
}

// add appends rec to the records that url answers; a URL new to the job
// is appended to its URL list.
func (j *job) add(url string, rec inputRecord) {
	recs, ok := j.sources[url]
	if !ok {
		j.urls = append(j.urls, url)
	}
	for i, r := range recs {
		if r.source.Partition == rec.source.Partition && r.source.Offset == rec.source.Offset && r.source.Topic == rec.source.Topic {
			if r.value == nil {
				recs[i] = rec // the record read again carries the value a dead letter needs
			}
			return
		}
	}
	j.sources[url] = append(recs, rec)
}

// recordCount returns how many input records the job answers. While the
// job is joinable, call it through batcher.recordCount.
func (j *job) recordCount() int {
	n := 0
	for _, recs := range j.sources {
		n += len(recs)
	}
	return n
}

// codecSources returns the output form of the records that url answers.
func (j *job) codecSources(url string) []codec.Source {
	recs := j.sources[url]
	out := make([]codec.Source, len(recs))
	for i, r := range recs {
		out[i] = r.source
	}
	return out
}

// adoptedJob rebuilds a job from its recorded state, for a replica that
// resumes it. The records carry their coordinates but not their values.
func adoptedJob(st codec.JobState) *job {
	j := &job{id: st.JobID, urls: append([]string(nil), st.URLs...), sources: make(map[string][]inputRecord), createdAt: st.CreatedAt}
	for url, srcs := range st.Sources {
		for _, src := range srcs {
			j.sources[url] = append(j.sources[url], inputRecord{source: src})
		}
	}
	j.maybePosted = st.Status == codec.JobSubmitting
	return j
}

// newJobID returns 16 random bytes in hex. The id is ours, distinct from
// the API's batch id, so a job can be recorded before it is submitted.
func newJobID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error
	return hex.EncodeToString(b[:])
}
