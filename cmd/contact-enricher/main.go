// Command contact-enricher consumes CRM change events from Kafka, enriches
// each person's profile URL through the Batch Contact Enrich API and
// publishes one contact event per person.
//
// Subcommands:
//
//	run           the service, against a real Kafka cluster and API account
//	demo          the whole path on an embedded broker and the API simulator
//	simulate-api  the API simulator on a loopback address, to try run by hand
//	produce       writes a fixture file (JSONL records or CSV) to a topic
//	jobs          lists the jobs in flight, from the job-state topic
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: contact-enricher <command> [flags]

commands:
  run           consume CRM change events and publish contact events
  demo          run the whole path on an embedded broker and the API simulator
  simulate-api  serve the Batch API simulator on a loopback address
  produce       write a JSONL or CSV file of records to a topic
  jobs          list the jobs in flight, from the job-state topic
  create-topics create the named topics that do not exist yet

Run "contact-enricher <command> -h" for the flags of a command.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(runMain(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// runMain runs one subcommand and returns the process exit code: 0 on
// success, 1 on failure, 2 on a usage error.
func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	commands := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"run":           runCommand,
		"demo":          demoCommand,
		"simulate-api":  simulateCommand,
		"produce":       produceCommand,
		"jobs":          jobsCommand,
		"create-topics": topicsCommand,
	}
	cmd, ok := commands[args[0]]
	if !ok {
		if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			fmt.Fprint(stdout, usage)
			return 0
		}
		fmt.Fprintf(stderr, "contact-enricher: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	err := cmd(ctx, args[1:], stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "contact-enricher %s: %v\n", args[0], err)
		return 2
	default:
		fmt.Fprintf(stderr, "contact-enricher %s: %v\n", args[0], err)
		return 1
	}
}

// usageError is an invalid flag or argument; the process exits with 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }
