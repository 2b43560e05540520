package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/contact-enricher/contact-enricher/codec"
	"github.com/contact-enricher/contact-enricher/kafkaconn"
)

// defaultCSVColumn is the URL column of a CRM contacts export.
const defaultCSVColumn = "LinkedIn URL"

func produceCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("produce", flag.ContinueOnError)
	var brokers, topic, input, column string
	fs.StringVar(&brokers, "brokers", "", "Kafka bootstrap brokers, comma-separated host:port (required)")
	fs.StringVar(&topic, "topic", "", "topic to write to (required)")
	fs.StringVar(&input, "input", "", "file to read: Kafka records as JSON Lines (.jsonl), or a CSV export (.csv) (required)")
	fs.StringVar(&column, "csv-column", defaultCSVColumn, "column of a CSV file that holds the profile URL")
	var kc kafkaconn.Config
	registerKafkaFlags(fs, &kc)
	fs.Usage = flagUsage(fs, "produce", "Writes the records of a file to a topic, for backfills and trials.")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	switch {
	case brokers == "":
		return usageError{fmt.Errorf("--brokers is required")}
	case topic == "":
		return usageError{fmt.Errorf("--topic is required")}
	case input == "":
		return usageError{fmt.Errorf("--input is required")}
	}
	kc.Brokers = splitList(brokers)
	if err := kc.Validate(); err != nil {
		return usageError{err}
	}
	transport, err := kc.Transport()
	if err != nil {
		return err
	}
	defer transport.CloseIdleConnections()
	records, err := readRecordsFile(input, column)
	if err != nil {
		return err
	}
	if err := writeRecords(ctx, kc.Brokers, topic, records, transport); err != nil {
		return kc.ExplainError(err)
	}
	fmt.Fprintf(stdout, "wrote %d records from %s to topic %s\n", len(records), input, topic)
	return nil
}

// readRecordsFile reads a fixture-format file: CSV by its .csv extension,
// otherwise Kafka records as JSON Lines.
func readRecordsFile(path, csvColumn string) ([]codec.Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening input: %w", err)
	}
	defer f.Close()
	var records []codec.Record
	if strings.EqualFold(filepath.Ext(path), ".csv") {
		records, err = codec.ReadCSV(f, csvColumn)
	} else {
		records, err = codec.ReadRecordsJSONL(f)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return records, nil
}

// writeRecords writes records to topic in order, acknowledged by all
// in-sync replicas, partitioned by key like the Java client.
// A nil transport is kafka-go's default: plaintext, no SASL.
func writeRecords(ctx context.Context, brokers []string, topic string, records []codec.Record, transport kafka.RoundTripper) error {
	w := &kafka.Writer{
		Addr:         kafka.TCP(brokers...),
		Topic:        topic,
		Balancer:     &kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: 10 * time.Millisecond,
		BatchSize:    500,
		Transport:    transport,
	}
	defer w.Close()
	msgs := make([]kafka.Message, len(records))
	for i, r := range records {
		msgs[i] = kafka.Message{Key: r.Key, Value: r.Value}
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("writing %d records to topic %s (create it first if it does not exist): %w", len(msgs), topic, err)
	}
	return nil
}
