package pipeline

import (
	"context"
	"time"

	"github.com/segmentio/kafka-go"
)

// committer commits the finished offsets of one generation's partitions.
// It is used by the generation's goroutine only.
type committer struct {
	p         *Pipeline
	gen       *kafka.Generation
	committed map[int]int64 // partition -> last committed offset (or the assignment's start)
}

// loop commits every CommitInterval until ctx ends.
func (c *committer) loop(ctx context.Context) {
	ticker := time.NewTicker(c.p.cfg.CommitInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			c.commit()
		}
	}
}

// commit commits, for each partition of the generation, the first offset
// whose record is not finished, when it moved since the last commit.
func (c *committer) commit() {
	changed := make(map[int]int64)
	for part, off := range c.p.tracker.committable() {
		last, owned := c.committed[part]
		if owned && off > last {
			changed[part] = off
		}
	}
	if len(changed) == 0 {
		return
	}
	err := c.gen.CommitOffsets(map[string]map[int]int64{c.p.cfg.InputTopic: changed})
	if err != nil {
		// The next tick retries; after a rebalance the new owner commits.
		c.p.log.Warn("committing offsets failed", "topic", c.p.cfg.InputTopic, "generation", c.gen.ID, "error", err)
		return
	}
	for part, off := range changed {
		c.committed[part] = off
	}
	c.p.metrics.commits.Inc()
	c.p.log.Debug("offsets committed", "topic", c.p.cfg.InputTopic, "offsets", changed)
}
