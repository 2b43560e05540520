package sink

import (
	"context"
	"fmt"

	"github.com/segmentio/kafka-go"

	"github.com/contact-enricher/contact-enricher/codec"
)

// ContactWriter writes contact events to the output topic, keyed by
// canonical profile URL, acknowledged by all in-sync replicas. It is safe
// for concurrent use; Close flushes and is idempotent.
type ContactWriter struct {
	w *kafka.Writer
}

// NewContactWriter returns a writer of contact events.
func NewContactWriter(cfg WriterConfig) (*ContactWriter, error) {
	w, err := newKafkaWriter(cfg)
	if err != nil {
		return nil, err
	}
	return &ContactWriter{w: w}, nil
}

// WriteContacts writes events and returns once every one is acknowledged,
// or with the first error; on error some events may have been written.
func (c *ContactWriter) WriteContacts(ctx context.Context, events []codec.ContactEvent) error {
	msgs := make([]kafka.Message, 0, len(events))
	for i := range events {
		value, err := events[i].Marshal()
		if err != nil {
			return fmt.Errorf("encoding contact event for %s: %w", events[i].ProfileURL, err)
		}
		msgs = append(msgs, kafka.Message{
			Key:     []byte(events[i].ProfileURL),
			Value:   value,
			Headers: []kafka.Header{{Key: "schema", Value: []byte(codec.ContactSchema)}},
		})
	}
	return writeAll(ctx, c.w, msgs)
}

// Close flushes pending writes and closes the connections.
func (c *ContactWriter) Close() error { return c.w.Close() }
