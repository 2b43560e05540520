package sink

import (
	"context"
	"strconv"

	"github.com/segmentio/kafka-go"
)

// Header keys of a dead-letter record.
const (
	HeaderReason          = "dead_letter.reason"
	HeaderDetail          = "dead_letter.detail"
	HeaderSourceTopic     = "dead_letter.source.topic"
	HeaderSourcePartition = "dead_letter.source.partition"
	HeaderSourceOffset    = "dead_letter.source.offset"
)

// DeadLetter is one input record that the service could not answer, with the
// reason. Key and Value are the original record's, byte for byte.
type DeadLetter struct {
	Key       []byte
	Value     []byte
	Headers   []kafka.Header // the original record's headers, kept
	Reason    string         // a stable reason code, for example not_a_profile_url
	Detail    string         // a sentence for the person who fixes the input
	Topic     string
	Partition int
	Offset    int64
}

// DeadLetterWriter writes dead letters to the dead-letter topic,
// acknowledged by all in-sync replicas. It is safe for concurrent use;
// Close flushes and is idempotent.
type DeadLetterWriter struct {
	w *kafka.Writer
}

// NewDeadLetterWriter returns a writer of dead letters.
func NewDeadLetterWriter(cfg WriterConfig) (*DeadLetterWriter, error) {
	w, err := newKafkaWriter(cfg)
	if err != nil {
		return nil, err
	}
	return &DeadLetterWriter{w: w}, nil
}

// WriteDeadLetters writes letters and returns once every one is
// acknowledged, or with the first error.
func (d *DeadLetterWriter) WriteDeadLetters(ctx context.Context, letters []DeadLetter) error {
	msgs := make([]kafka.Message, 0, len(letters))
	for _, l := range letters {
		msgs = append(msgs, deadLetterMessage(l))
	}
	return writeAll(ctx, d.w, msgs)
}

// Close flushes pending writes and closes the connections.
func (d *DeadLetterWriter) Close() error { return d.w.Close() }

func deadLetterMessage(l DeadLetter) kafka.Message {
	headers := make([]kafka.Header, 0, len(l.Headers)+5)
	headers = append(headers, l.Headers...)
	headers = append(headers,
		kafka.Header{Key: HeaderReason, Value: []byte(l.Reason)},
		kafka.Header{Key: HeaderDetail, Value: []byte(l.Detail)},
		kafka.Header{Key: HeaderSourceTopic, Value: []byte(l.Topic)},
		kafka.Header{Key: HeaderSourcePartition, Value: []byte(strconv.Itoa(l.Partition))},
		kafka.Header{Key: HeaderSourceOffset, Value: []byte(strconv.FormatInt(l.Offset, 10))},
	)
	return kafka.Message{Key: l.Key, Value: l.Value, Headers: headers}
}
