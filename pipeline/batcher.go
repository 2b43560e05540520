package pipeline

import (
	"context"
	"sync"
	"time"

	"github.com/contact-enricher/contact-enricher/codec"
)

// batcher groups canonical URLs into jobs of up to size distinct URLs. A
// URL already held by an open, sealed or running job joins that job instead
// of being submitted again, until the job's runner closes it to start
// writing outputs. A partial job is sealed after linger. Sealed jobs are
// sent on sealed; a full send blocks the caller, which is how back pressure
// reaches the consumer. It is safe for concurrent use.
type batcher struct {
	size   int
	linger time.Duration
	now    func() time.Time
	sealed chan *job

	mu       sync.Mutex
	open     *job
	openedAt time.Time
	byURL    map[string]*job
}

func newBatcher(size int, linger time.Duration, now func() time.Time) *batcher {
	return &batcher{
		size:   size,
		linger: linger,
		now:    now,
		sealed: make(chan *job),
		byURL:  make(map[string]*job),
	}
}

// add places rec in the job that holds url, or in the open job. It returns
// true when rec joined a job that already held url. It blocks while a full
// job waits for the dispatcher, and returns ctx's error if ctx ends then.
func (b *batcher) add(ctx context.Context, url string, rec inputRecord) (joined bool, err error) {
	b.mu.Lock()
	if j := b.byURL[url]; j != nil {
		j.add(url, rec)
		b.mu.Unlock()
		return true, nil
	}
	if b.open == nil {
		b.open = newJob(b.now())
		b.openedAt = b.now()
	}
	b.open.add(url, rec)
	b.byURL[url] = b.open
	var full *job
	if len(b.open.urls) >= b.size {
		full = b.open
		b.open = nil
	}
	b.mu.Unlock()

	if full == nil {
		return false, nil
	}
	return false, b.send(ctx, full)
}

func (b *batcher) send(ctx context.Context, j *job) error {
	select {
	case b.sealed <- j:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// runLinger seals the open job once it is linger old, until ctx ends.
func (b *batcher) runLinger(ctx context.Context) {
	tick := max(b.linger/4, 5*time.Millisecond)
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		if j := b.sealExpired(); j != nil {
			if b.send(ctx, j) != nil {
				return
			}
		}
	}
}

func (b *batcher) sealExpired() *job {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.open == nil || b.now().Sub(b.openedAt) < b.linger {
		return nil
	}
	j := b.open
	b.open = nil
	return j
}

// close stops j from taking more records: from now on its URLs start new
// jobs. The runner calls it before it writes j's outputs, so every record
// that joined j is answered by them.
func (b *batcher) close(j *job) {
	b.mu.Lock()
	defer b.mu.Unlock()
	j.joinable = false
	for _, url := range j.urls {
		if b.byURL[url] == j {
			delete(b.byURL, url)
		}
	}
}

// recordCount returns how many records j holds, under the lock, because
// records may still join j while it runs.
func (b *batcher) recordCount(j *job) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return j.recordCount()
}

// sourcesOf returns the output form of every record j holds.
func (b *batcher) sourcesOf(j *job) map[string][]codec.Source {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string][]codec.Source, len(j.sources))
	for url := range j.sources {
		out[url] = j.codecSources(url)
	}
	return out
}

// remove takes urls out of j and returns their records.
func (b *batcher) remove(j *job, urls map[string]string) map[string][]inputRecord {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string][]inputRecord, len(urls))
	kept := j.urls[:0:0]
	for _, u := range j.urls {
		if _, drop := urls[u]; !drop {
			kept = append(kept, u)
			continue
		}
		out[u] = j.sources[u]
		delete(j.sources, u)
		if b.byURL[u] == j {
			delete(b.byURL, u)
		}
	}
	j.urls = kept
	return out
}

// join adds rec to the job of this replica that holds url, if one does,
// and reports whether it did.
func (b *batcher) join(url string, rec inputRecord) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	j := b.byURL[url]
	if j == nil {
		return false
	}
	j.add(url, rec)
	return true
}
