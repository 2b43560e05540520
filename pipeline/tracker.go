package pipeline

import "sync"

// offsetTracker records, per partition, the offsets fetched in order and
// which of them are finished (output or dead letter written, or skipped).
// The committable offset of a partition is the first unfinished offset, so
// offsets are committed in order whatever order jobs finish in. Offsets
// need not be contiguous: compacted topics and transaction markers leave
// gaps. It is safe for concurrent use.
type offsetTracker struct {
	mu         sync.Mutex
	partitions map[int]*partitionOffsets
}

type partitionOffsets struct {
	pending []trackedOffset // fetched and not yet committable, in fetch order
	index   map[int64]int   // offset -> position in pending, shifted by head
	head    int             // count of entries removed from the front of pending
	next    int64           // offset to commit: one past the last finished prefix; -1 before any
}

type trackedOffset struct {
	offset   int64
	finished bool
}

func newOffsetTracker() *offsetTracker {
	return &offsetTracker{partitions: make(map[int]*partitionOffsets)}
}

// reset forgets everything known about partition p. A job that later
// finishes an offset of the old assignment has no effect on the new one
// unless the offset is fetched again.
func (t *offsetTracker) reset(p int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.partitions[p] = &partitionOffsets{index: make(map[int64]int), next: -1}
}

// drop forgets partition p after it was revoked.
func (t *offsetTracker) drop(p int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.partitions, p)
}

// add records that offset was fetched from p. It returns false when p is
// not tracked (revoked) or the offset is already tracked.
func (t *offsetTracker) add(p int, offset int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	po := t.partitions[p]
	if po == nil {
		return false
	}
	if _, ok := po.index[offset]; ok || offset < po.next {
		return false
	}
	po.index[offset] = po.head + len(po.pending)
	po.pending = append(po.pending, trackedOffset{offset: offset})
	return true
}

// finish marks offset of p finished. Unknown partitions and offsets are
// ignored: they belong to an earlier assignment.
func (t *offsetTracker) finish(p int, offset int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	po := t.partitions[p]
	if po == nil {
		return
	}
	i, ok := po.index[offset]
	if !ok {
		return
	}
	po.pending[i-po.head].finished = true
	po.advance()
}

// advance removes the finished prefix and moves next past it.
func (po *partitionOffsets) advance() {
	n := 0
	for n < len(po.pending) && po.pending[n].finished {
		delete(po.index, po.pending[n].offset)
		po.next = po.pending[n].offset + 1
		n++
	}
	if n == 0 {
		return
	}
	po.head += n
	po.pending = po.pending[n:]
}

// committable returns, per tracked partition, the offset to commit (the
// next offset to consume) when at least one record of it has finished.
func (t *offsetTracker) committable() map[int]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[int]int64, len(t.partitions))
	for p, po := range t.partitions {
		if po.next >= 0 {
			out[p] = po.next
		}
	}
	return out
}

// pendingCount returns how many fetched records are not yet finished.
func (t *offsetTracker) pendingCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, po := range t.partitions {
		for _, e := range po.pending {
			if !e.finished {
				n++
			}
		}
	}
	return n
}
