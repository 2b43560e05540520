package pipeline

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/contact-enricher/contact-enricher/codec"
)

// parkedRecords are input records whose URL a job of another replica, or a
// job this replica adopted, already holds, or whose URL has a fresh result.
// They wait for that result on the output topic and are answered from it,
// so the URL is not submitted again. It is safe for concurrent use.
type parkedRecords struct {
	mu    sync.Mutex
	byURL map[string][]inputRecord
	ready chan string // URLs whose result may have arrived
}

func newParkedRecords() *parkedRecords {
	return &parkedRecords{byURL: make(map[string][]inputRecord), ready: make(chan string, 4096)}
}

func (q *parkedRecords) park(url string, rec inputRecord) {
	q.mu.Lock()
	q.byURL[url] = append(q.byURL[url], rec)
	q.mu.Unlock()
}

// signal reports that url may have a result now. When the channel is full
// the periodic sweep finds the URL instead.
func (q *parkedRecords) signal(url string) {
	q.mu.Lock()
	_, waiting := q.byURL[url]
	q.mu.Unlock()
	if !waiting {
		return
	}
	select {
	case q.ready <- url:
	default:
	}
}

func (q *parkedRecords) take(url string) []inputRecord {
	q.mu.Lock()
	defer q.mu.Unlock()
	recs := q.byURL[url]
	delete(q.byURL, url)
	return recs
}

func (q *parkedRecords) urls() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]string, 0, len(q.byURL))
	for u := range q.byURL {
		out = append(out, u)
	}
	return out
}

// keepPartitions drops the records of partitions not in keep: after a
// rebalance their new owner reads them again.
func (q *parkedRecords) keepPartitions(keep map[int]bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for u, recs := range q.byURL {
		kept := recs[:0]
		for _, r := range recs {
			if keep[r.source.Partition] {
				kept = append(kept, r)
			}
		}
		if len(kept) == 0 {
			delete(q.byURL, u)
		} else {
			q.byURL[u] = kept
		}
	}
}

func (q *parkedRecords) count() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for _, recs := range q.byURL {
		n += len(recs)
	}
	return n
}

// parkedWorkers is how many parked URLs are answered at once. Each answer
// is one read of the output topic and one small write; in parallel, the
// writer batches them.
const parkedWorkers = 32

// answerParked answers parked records from results until ctx ends: at once
// for a URL signalled ready, and every sweep interval for all of them, so
// that a record whose holder gave up without a result is batched anew.
func (p *Pipeline) answerParked(ctx context.Context) {
	sweep := time.NewTicker(500 * time.Millisecond)
	defer sweep.Stop()
	slots := make(chan struct{}, parkedWorkers)
	var workers sync.WaitGroup
	defer workers.Wait()
	resolve := func(url string) {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		workers.Go(func() {
			defer func() { <-slots }()
			p.resolveParked(ctx, url)
		})
	}
	for {
		select {
		case <-ctx.Done():
			return
		case url := <-p.parked.ready:
			resolve(url)
		case <-sweep.C:
			for _, url := range p.parked.urls() {
				resolve(url)
			}
		}
	}
}

// resolveParked answers the records parked on url from its fresh result,
// batches them when no live job holds url any more, or leaves them parked.
func (p *Pipeline) resolveParked(ctx context.Context, url string) {
	if loc, ok := p.results.lookup(url, p.now()); ok {
		recs := p.parked.take(url)
		if len(recs) == 0 {
			return
		}
		err := p.answerFromResult(ctx, url, loc, recs)
		if err == nil || ctx.Err() != nil {
			return
		}
		if !errors.Is(err, errStaleResult) {
			p.log.Warn("answering from an earlier result failed; retrying", "error", err)
			for _, r := range recs {
				p.parked.park(url, r)
			}
			return
		}
		p.rebatch(ctx, url, recs)
		return
	}
	if _, held := p.table.holder(url); held {
		return
	}
	p.rebatch(ctx, url, p.parked.take(url))
}

func (p *Pipeline) rebatch(ctx context.Context, url string, recs []inputRecord) {
	for _, r := range recs {
		if _, err := p.batcher.add(ctx, url, r); err != nil {
			return
		}
	}
}

// answerFromResult writes a contact event for recs with the data of the
// earlier event at loc, then marks them finished.
func (p *Pipeline) answerFromResult(ctx context.Context, url string, loc resultLocation, recs []inputRecord) error {
	ev, err := p.results.fetch(ctx, url, loc)
	if err != nil {
		return err
	}
	j := &job{id: "result-" + ev.BatchID, sources: map[string][]inputRecord{url: recs}}
	ev.Sources = j.codecSources(url)
	if err := p.runner.writeEvents(ctx, j, []codec.ContactEvent{ev}); err != nil {
		return err
	}
	p.metrics.answeredFromResults.Add(float64(len(recs)))
	return nil
}
