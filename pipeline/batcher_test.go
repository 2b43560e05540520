package pipeline

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/contact-enricher/contact-enricher/codec"
)

func record(partition int, offset int64) inputRecord {
	return inputRecord{source: codec.Source{Topic: "in", Partition: partition, Offset: offset}}
}

func receiveJob(t *testing.T, b *batcher) *job {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	j, err := b.next(ctx)
	if err != nil {
		t.Fatalf("no job sealed within 5s: %v", err)
	}
	return j
}

func TestBatcherSealsFullBatch(t *testing.T) {
	b := newBatcher(3, time.Hour, time.Now)
	ctx := context.Background()
	go func() {
		for i := range 3 {
			if _, err := b.add(ctx, fmt.Sprintf("u%d", i), record(0, int64(i))); err != nil {
				t.Errorf("add: %v", err)
			}
		}
	}()
	j := receiveJob(t, b)
	if len(j.urls) != 3 {
		t.Fatalf("sealed job has %d URLs, want 3", len(j.urls))
	}
}

func TestBatcherDeduplicatesURLWithinBatch(t *testing.T) {
	b := newBatcher(300, time.Hour, time.Now)
	ctx := context.Background()
	if joined, _ := b.add(ctx, "u", record(0, 1)); joined {
		t.Fatal("first record of a URL reported joined")
	}
	if joined, _ := b.add(ctx, "u", record(1, 1)); !joined {
		t.Fatal("second record of the same URL did not join")
	}
	if len(b.open.urls) != 1 {
		t.Fatalf("open job has %d URLs, want 1", len(b.open.urls))
	}
	if n := b.open.recordCount(); n != 2 {
		t.Fatalf("open job holds %d records, want 2", n)
	}
}

func TestBatcherJoinsJobInFlight(t *testing.T) {
	b := newBatcher(1, time.Hour, time.Now)
	ctx := context.Background()
	go b.add(ctx, "u", record(0, 1))
	j := receiveJob(t, b)

	// The job is sealed and running; the same URL joins it.
	if joined, _ := b.add(ctx, "u", record(0, 2)); !joined {
		t.Fatal("record of a URL in flight did not join the job")
	}
	if n := j.recordCount(); n != 2 {
		t.Fatalf("job holds %d records, want 2", n)
	}

	// Once the runner closes the job, the URL starts a new job.
	b.close(j)
	go b.add(ctx, "u", record(0, 3))
	next := receiveJob(t, b)
	if next == j {
		t.Fatal("record joined a closed job")
	}
}

func TestBatcherLingerSealsPartialBatch(t *testing.T) {
	now := time.Unix(0, 0)
	clock := func() time.Time { return now }
	b := newBatcher(300, time.Minute, clock)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := b.add(ctx, "u", record(0, 1)); err != nil {
		t.Fatal(err)
	}
	if b.sealExpired() {
		t.Fatal("partial batch sealed before its linger passed")
	}
	now = now.Add(time.Minute)
	if !b.sealExpired() {
		t.Fatal("partial batch not sealed after its linger")
	}
	if j := receiveJob(t, b); len(j.urls) != 1 {
		t.Fatalf("sealed job has %d URLs, want 1", len(j.urls))
	}
}

func TestBatcherAddWaitsForRoomUntilContextEnds(t *testing.T) {
	b := newBatcher(1, time.Hour, time.Now)
	if _, err := b.add(context.Background(), "u1", record(0, 1)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.add(ctx, "u2", record(0, 2)); err == nil {
		t.Fatal("add with a full queue and a cancelled context returned nil")
	}
	if _, held := b.byURL["u2"]; held {
		t.Fatal("a record whose add failed was kept")
	}
}

// A reader whose generation ends while the queue is full must not take a
// sealed job with it: the job stays queued and the URL's next record
// joins it.
func TestBatcherKeepsSealedJobWhenReaderContextEnds(t *testing.T) {
	b := newBatcher(1, time.Hour, time.Now)
	if _, err := b.add(context.Background(), "u1", record(0, 1)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b.add(ctx, "u2", record(0, 2))

	if joined, _ := b.add(context.Background(), "u1", record(0, 1)); !joined {
		t.Fatal("the re-read record of a queued job did not join it")
	}
	j := receiveJob(t, b)
	if len(j.urls) != 1 || j.urls[0] != "u1" {
		t.Fatalf("queued job has URLs %v, want [u1]", j.urls)
	}
}

func TestTokenPoolLimitsConcurrentJobs(t *testing.T) {
	p := newTokenPool(2)
	ctx := context.Background()
	for range 2 {
		if err := p.acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if p.inUse() != 2 {
		t.Fatalf("inUse = %d, want 2", p.inUse())
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := p.acquire(short); err == nil {
		t.Fatal("third acquire succeeded with 2 tokens")
	}
	p.release()
	if err := p.acquire(ctx); err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
}
