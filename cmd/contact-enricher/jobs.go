package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/contact-enricher/contact-enricher/kafkaconn"
	"github.com/contact-enricher/contact-enricher/pipeline"
)

func jobsCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("jobs", flag.ContinueOnError)
	var brokers, topic string
	var kc kafkaconn.Config
	fs.StringVar(&brokers, "brokers", "", "Kafka bootstrap brokers, comma-separated host:port (required)")
	fs.StringVar(&topic, "state-topic", "contact-enricher.jobs", "job-state topic of the service")
	registerKafkaFlags(fs, &kc)
	fs.Usage = flagUsage(fs, "jobs", "Lists the jobs in flight, read from the job-state topic.")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if brokers == "" {
		return usageError{fmt.Errorf("--brokers is required")}
	}
	kc.Brokers = splitList(brokers)
	adm, closeAdmin, err := openAdmin(kc)
	if err != nil {
		return err
	}
	defer closeAdmin()
	dialer, err := kc.Dialer()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	jobs, err := pipeline.ListJobs(ctx, adm, kc.Brokers, dialer, topic)
	if err != nil {
		return kc.ExplainError(err)
	}
	printJobs(stdout, jobs, time.Now())
	return nil
}

func printJobs(w io.Writer, jobs []pipeline.JobSummary, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB ID\tBATCH ID\tSTATUS\tOWNER\tAGE\tSILENT\tURLS\tATTEMPTS")
	for _, j := range jobs {
		batch := j.BatchID
		if batch == "" {
			batch = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\n", j.JobID, batch, j.Status, j.Owner,
			now.Sub(j.CreatedAt).Round(time.Second), now.Sub(j.UpdatedAt).Round(time.Second), j.URLs, j.Attempts)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d jobs\n", len(jobs))
}
