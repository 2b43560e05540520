package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/contact-enricher/contact-enricher/pipeline/batchapi/batchapitest"
)

func simulateCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate-api", flag.ContinueOnError)
	var listen string
	var jobDuration time.Duration
	fs.StringVar(&listen, "listen", "127.0.0.1:8089", "loopback address to serve on, host:port")
	fs.DurationVar(&jobDuration, "job-duration", 2*time.Second, "how long one simulated job runs")
	fs.Usage = flagUsage(fs, "simulate-api",
		"Serves the Batch API simulator. It accepts the key in "+apiKeyEnv+" (default sim-key); point run at it with --api-base-url.")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if jobDuration <= 0 {
		return usageError{fmt.Errorf("--job-duration %s: must be positive", jobDuration)}
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return usageError{fmt.Errorf("--listen %q: %v", listen, err)}
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return usageError{fmt.Errorf("--listen %q: the simulator serves on a loopback address only, such as 127.0.0.1:8089", listen)}
	}
	key := os.Getenv(apiKeyEnv)
	if key == "" {
		key = "sim-key"
	}

	sim := batchapitest.New(batchapitest.Config{APIKey: key, JobDuration: jobDuration})
	defer sim.Close()
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", listen, err)
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "Batch API simulator on http://%s (job time %s); stop with Ctrl-C\n", ln.Addr(), jobDuration)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("stopping: %w", err)
	}
	return nil
}
