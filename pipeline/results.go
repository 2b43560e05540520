package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/contact-enricher/contact-enricher/codec"
)

// resultLocation is where the latest contact event of one URL lies on the
// output topic, and when it was written. With the 8-byte key it is all the
// index keeps per URL: BenchmarkResultsIndexMemory measures the heap per URL,
// map overhead included.
type resultLocation struct {
	offset    int64
	written   uint32 // unix seconds of the record timestamp; fits until 2106
	partition int32
}

// resultsIndex maps every URL with a contact event on the output topic to
// the location of its latest event. It is built by reading the output
// topic from its start and follows it, so results written by any replica
// are seen. A URL whose event is younger than the freshness window is
// answered from that event instead of a new, paid submission. It is safe
// for concurrent use.
type resultsIndex struct {
	topic     string
	brokers   []string
	dialer    *kafka.Dialer
	client    *kafka.Client
	admin     *kadm.Client
	freshness time.Duration
	log       *slog.Logger
	backoff   time.Duration
	onResult  func(url string) // called for every event read, outside the lock

	mu      sync.Mutex
	entries map[uint64]resultLocation
	next    map[int32]int64 // per partition, the offset after the last record read
}

func urlHash(url string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(url))
	return h.Sum64()
}

// lookup returns where the fresh result of url lies.
func (x *resultsIndex) lookup(url string, now time.Time) (resultLocation, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	loc, ok := x.entries[urlHash(url)]
	if !ok || now.Sub(time.Unix(int64(loc.written), 0)) > x.freshness {
		return resultLocation{}, false
	}
	return loc, true
}

func (x *resultsIndex) size() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.entries)
}

// follow reads every partition of the output topic from its start until
// ctx ends.
func (x *resultsIndex) follow(ctx context.Context, partitions []int32) {
	var wg sync.WaitGroup
	for _, p := range partitions {
		wg.Go(func() { x.followPartition(ctx, p) })
	}
	wg.Wait()
}

func (x *resultsIndex) followPartition(ctx context.Context, partition int32) {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: x.brokers, Topic: x.topic, Partition: int(partition), Dialer: x.dialer,
		MinBytes: 1, MaxBytes: 10 << 20, MaxWait: 250 * time.Millisecond,
	})
	defer r.Close()
	if err := r.SetOffset(kafka.FirstOffset); err != nil {
		x.log.Error("reading output topic failed", "topic", x.topic, "partition", partition, "error", err)
		return
	}
	for attempt := 1; ; attempt++ {
		m, err := r.FetchMessage(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			x.log.Warn("reading output topic failed; retrying", "topic", x.topic, "partition", partition, "attempt", attempt, "error", err)
			if sleepCtx(ctx, retryDelay(x.backoff, attempt)) != nil {
				return
			}
			continue
		}
		attempt = 0
		x.add(m)
	}
}

func (x *resultsIndex) add(m kafka.Message) {
	x.mu.Lock()
	x.next[int32(m.Partition)] = m.Offset + 1
	if m.Value == nil || len(m.Key) == 0 {
		x.mu.Unlock()
		return
	}
	x.entries[urlHash(string(m.Key))] = resultLocation{written: uint32(max(m.Time.Unix(), 0)), offset: m.Offset, partition: int32(m.Partition)}
	x.mu.Unlock()
	if x.onResult != nil {
		x.onResult(string(m.Key))
	}
}

// catchUp waits until every partition was read up to the end offsets it had
// when catchUp was called.
func (x *resultsIndex) catchUp(ctx context.Context) error {
	starts, ends, err := topicOffsetsSettled(ctx, x.admin, x.topic)
	if err != nil {
		return err
	}
	for {
		if x.readUpTo(starts, ends) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (x *resultsIndex) readUpTo(starts, ends map[int32]int64) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	for p, end := range ends {
		if end > starts[p] && x.next[p] < end {
			return false
		}
	}
	return true
}

// errStaleResult means the index pointed at a record that no longer holds
// the URL's event: deleted by retention, or a hash collision.
var errStaleResult = errors.New("result no longer at its indexed location")

// fetch reads the contact event of url at loc.
func (x *resultsIndex) fetch(ctx context.Context, url string, loc resultLocation) (codec.ContactEvent, error) {
	resp, err := x.client.Fetch(ctx, &kafka.FetchRequest{
		Topic: x.topic, Partition: int(loc.partition), Offset: loc.offset,
		MinBytes: 1, MaxBytes: 4 << 20, MaxWait: 100 * time.Millisecond,
	})
	if err == nil {
		err = resp.Error
	}
	if err != nil {
		return codec.ContactEvent{}, fmt.Errorf("reading result of %s at %s/%d/%d: %w", url, x.topic, loc.partition, loc.offset, err)
	}
	for {
		rec, err := resp.Records.ReadRecord()
		if errors.Is(err, io.EOF) {
			return codec.ContactEvent{}, errStaleResult
		}
		if err != nil {
			return codec.ContactEvent{}, fmt.Errorf("reading result of %s: %w", url, err)
		}
		if rec.Offset != loc.offset {
			continue
		}
		return decodeResult(url, rec)
	}
}

func decodeResult(url string, rec *protocol.Record) (codec.ContactEvent, error) {
	if rec.Value == nil {
		return codec.ContactEvent{}, errStaleResult
	}
	value, err := protocol.ReadAll(rec.Value)
	if err != nil {
		return codec.ContactEvent{}, fmt.Errorf("reading result of %s: %w", url, err)
	}
	var ev codec.ContactEvent
	if err := json.Unmarshal(value, &ev); err != nil {
		return codec.ContactEvent{}, fmt.Errorf("decoding result of %s: %w", url, err)
	}
	if ev.ProfileURL != url {
		return codec.ContactEvent{}, errStaleResult
	}
	return ev, nil
}

// TopicOffsets returns the start and end offset of every partition of
// topic.
func TopicOffsets(ctx context.Context, adm *kadm.Client, topic string) (starts, ends map[int32]int64, err error) {
	listedEnds, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = listedEnds.Error()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("listing end offsets of %s: %w", topic, err)
	}
	listedStarts, err := adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = listedStarts.Error()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("listing start offsets of %s: %w", topic, err)
	}
	starts, ends = make(map[int32]int64), make(map[int32]int64)
	listedEnds.Each(func(o kadm.ListedOffset) { ends[o.Partition] = o.Offset })
	listedStarts.Each(func(o kadm.ListedOffset) { starts[o.Partition] = o.Offset })
	return starts, ends, nil
}

// topicOffsetsSettled is TopicOffsets, retried for up to 30 seconds while
// the brokers do not know the topic yet: a topic created a moment ago.
func topicOffsetsSettled(ctx context.Context, adm *kadm.Client, topic string) (starts, ends map[int32]int64, err error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		starts, ends, err = TopicOffsets(ctx, adm, topic)
		if err == nil || !errors.Is(err, kerr.UnknownTopicOrPartition) || time.Now().After(deadline) {
			return starts, ends, err
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return nil, nil, err
		}
	}
}
