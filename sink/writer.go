package sink

import (
	"context"
	"errors"
	"fmt"

	"time"

	"github.com/segmentio/kafka-go"
)

// WriterConfig configures a Kafka writer of this package.
type WriterConfig struct {
	// Brokers are the bootstrap addresses, host:port.
	Brokers []string
	// Topic is the topic written to.
	Topic string
	// Transport is the kafka-go transport (TLS, SASL, dialer). Default:
	// kafka.DefaultTransport.
	Transport kafka.RoundTripper
	// BatchTimeout bounds how long a partial batch waits before it is sent.
	// kafka-go's own default of 1s would make every synchronous write of a
	// few records take a second. Default: 10ms (Kafka property linger.ms).
	BatchTimeout time.Duration
	// WriteTimeout bounds one produce request. Default: 10s.
	WriteTimeout time.Duration
}

// newKafkaWriter returns a writer that waits for all in-sync replicas
// (acks=all) and partitions by key with the murmur2 hash, as the Java client
// does, so records with the same key land where Java producers put them.
func newKafkaWriter(cfg WriterConfig) (*kafka.Writer, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("creating writer: no brokers configured")
	}
	if cfg.Topic == "" {
		return nil, errors.New("creating writer: no topic configured")
	}
	if cfg.BatchTimeout <= 0 {
		cfg.BatchTimeout = 10 * time.Millisecond
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	return &kafka.Writer{
		Addr:         kafka.TCP(cfg.Brokers...),
		Topic:        cfg.Topic,
		Balancer:     &kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: cfg.BatchTimeout,
		BatchSize:    500,
		WriteTimeout: cfg.WriteTimeout,
		ReadTimeout:  cfg.WriteTimeout,
		MaxAttempts:  3,
		Transport:    cfg.Transport,
	}, nil
}

// writeAll writes msgs and returns the first error in a form that names
// the topic. kafka-go reports per-message errors as kafka.WriteErrors.
func writeAll(ctx context.Context, w *kafka.Writer, msgs []kafka.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	err := w.WriteMessages(ctx, msgs...)
	if err == nil {
		return nil
	}
	var werrs kafka.WriteErrors
	if errors.As(err, &werrs) {
		for _, e := range werrs {
			if e != nil {
				return fmt.Errorf("writing %d records to topic %s (%d failed): %w", len(msgs), w.Topic, werrs.Count(), e)
			}
		}
	}
	return fmt.Errorf("writing %d records to topic %s: %w", len(msgs), w.Topic, err)
}
