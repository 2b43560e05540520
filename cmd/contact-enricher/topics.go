package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contact-enricher/contact-enricher/kafkaconn"
)

// topicsCommand creates the topics named as arguments that do not exist
// yet, for trying the service on a broker without Kafka's own tools.
func topicsCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("create-topics", flag.ContinueOnError)
	var brokers string
	var partitions int
	var replication int
	var kc kafkaconn.Config
	fs.StringVar(&brokers, "brokers", "", "Kafka bootstrap brokers, comma-separated host:port (required)")
	fs.IntVar(&partitions, "partitions", 3, "partitions of each new topic")
	fs.IntVar(&replication, "replication-factor", -1, "replication factor of each new topic; -1 takes the broker's default")
	registerKafkaFlags(fs, &kc)
	fs.Usage = flagUsage(fs, "create-topics TOPIC...", "Creates the named topics that do not exist yet; existing ones are left as they are.")
	if err := parseFlagsAndArgs(fs, args, stderr); err != nil {
		return err
	}
	topics := fs.Args()
	switch {
	case brokers == "":
		return usageError{errors.New("--brokers is required")}
	case len(topics) == 0:
		return usageError{errors.New("name at least one topic")}
	case partitions < 1:
		return usageError{fmt.Errorf("--partitions %d: must be at least 1", partitions)}
	case replication == 0 || replication < -1 || replication > 32767:
		return usageError{fmt.Errorf("--replication-factor %d: must be at least 1, or -1 for the broker's default", replication)}
	}
	kc.Brokers = splitList(brokers)
	adm, closeAdmin, err := openAdmin(kc)
	if err != nil {
		return err
	}
	defer closeAdmin()

	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	resp, err := adm.CreateTopics(ctx, int32(partitions), int16(replication), nil, topics...)
	if err != nil {
		return kc.ExplainError(fmt.Errorf("creating topics: %w", err))
	}
	var errs []error
	for _, t := range topics {
		r := resp[t]
		switch {
		case r.Err == nil:
			fmt.Fprintf(stdout, "created %s (%d partitions)\n", t, partitions)
		case errors.Is(r.Err, kerr.TopicAlreadyExists):
			fmt.Fprintf(stdout, "exists  %s\n", t)
		default:
			errs = append(errs, fmt.Errorf("topic %s: %w", t, r.Err))
		}
	}
	return errors.Join(errs...)
}

// openAdmin validates kc and returns an admin client on its brokers, with
// the function that closes it.
func openAdmin(kc kafkaconn.Config) (*kadm.Client, func(), error) {
	if err := kc.Validate(); err != nil {
		return nil, nil, usageError{err}
	}
	opts, err := kc.KgoOptions()
	if err != nil {
		return nil, nil, err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("creating admin client: %w", err)
	}
	return kadm.NewClient(cl), cl.Close, nil
}
