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
// writing outputs. A partial job is sealed after linger. Sealed jobs wait in
// a queue that the batcher owns until the dispatcher takes them, so that a
// reader whose context ends never drops one; while the queue is full, add
// waits, which is how back pressure reaches the consumer. It is safe for
// concurrent use.
type batcher struct {
	size       int
	linger     time.Duration
	now        func() time.Time
	maxPending int

	mu       sync.Mutex
	open     *job
	openedAt time.Time
	byURL    map[string]*job
	pending  []*job        // sealed, not yet taken by the dispatcher
	ready    chan struct{} // closed and replaced when pending grows
	room     chan struct{} // closed and replaced when pending shrinks
}

func newBatcher(size int, linger time.Duration, now func() time.Time) *batcher {
	return &batcher{
		size:       size,
		linger:     linger,
		now:        now,
		maxPending: 1,
		byURL:      make(map[string]*job),
		ready:      make(chan struct{}),
		room:       make(chan struct{}),
	}
}

// add places rec in the job that holds url, or in the open job. It returns
// true when rec joined a job that already held url. While the queue of
// sealed jobs is full it waits, and returns ctx's error, without adding
// rec, if ctx ends then.
func (b *batcher) add(ctx context.Context, url string, rec inputRecord) (joined bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		if j := b.byURL[url]; j != nil {
			j.add(url, rec)
			return true, nil
		}
		if len(b.pending) < b.maxPending {
			break
		}
		room := b.room
		b.mu.Unlock()
		select {
		case <-ctx.Done():
			b.mu.Lock()
			return false, ctx.Err()
		case <-room:
		}
		b.mu.Lock()
	}
	if b.open == nil {
		b.open = newJob(b.now())
		b.openedAt = b.now()
	}
	b.open.add(url, rec)
	b.byURL[url] = b.open
	if len(b.open.urls) >= b.size {
		b.sealLocked()
	}
	return false, nil
}

// sealLocked moves the open job to the queue. b.mu must be held.
func (b *batcher) sealLocked() {
	b.pending = append(b.pending, b.open)
	b.open = nil
	close(b.ready)
	b.ready = make(chan struct{})
}

// next takes the oldest sealed job, waiting until there is one or ctx ends.
func (b *batcher) next(ctx context.Context) (*job, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.pending) == 0 {
		ready := b.ready
		b.mu.Unlock()
		select {
		case <-ctx.Done():
			b.mu.Lock()
			return nil, ctx.Err()
		case <-ready:
		}
		b.mu.Lock()
	}
	j := b.pending[0]
	b.pending = b.pending[1:]
	close(b.room)
	b.room = make(chan struct{})
	return j, nil
}

// runLinger seals the open job once it is linger old and the queue has
// room, until ctx ends.
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
		b.sealExpired()
	}
}

// sealExpired seals the open job when it is linger old and the queue has
// room, and reports whether it did.
func (b *batcher) sealExpired() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.open == nil || b.now().Sub(b.openedAt) < b.linger || len(b.pending) >= b.maxPending {
		return false
	}
	b.sealLocked()
	return true
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

// adopt lets records join j, a job this replica resumed or took over:
// records read again after a restart or a rebalance then join it instead
// of waiting for its result and being answered a second time.
func (b *batcher) adopt(j *job) {
	b.mu.Lock()
	defer b.mu.Unlock()
	j.joinable = true
	for _, url := range j.urls {
		if b.byURL[url] == nil {
			b.byURL[url] = j
		}
	}
}
