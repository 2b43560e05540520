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
	"strings"
	"time"

	"github.com/contact-enricher/contact-enricher/pipeline/batchapi/batchapitest"
)

func simulateCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate-api", flag.ContinueOnError)
	var listen string
	var jobDuration time.Duration
	fs.StringVar(&listen, "listen", "127.0.0.1:8089", "loopback address to serve on, host:port")
	fs.DurationVar(&jobDuration, "job-duration", 2*time.Second, "how long one simulated job runs")
	var faults faultFlags
	faults.register(fs)
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

	sim := batchapitest.New(batchapitest.Config{APIKey: key, JobDuration: jobDuration,
		Faults: faults.spec.faults, FaultSeed: faults.seed})
	defer sim.Close()
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", listen, err)
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	// Closing the simulator first ends the submits that SubmitNoAnswer
	// holds, which Shutdown would otherwise wait for.
	srv.RegisterOnShutdown(sim.Close)
	fmt.Fprintf(stdout, "Batch API simulator on http://%s (job time %s%s); stop with Ctrl-C\n", ln.Addr(), jobDuration, faults.describe())
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

// faultFlags are the simulator's fault flags, shared by simulate-api and demo.
type faultFlags struct {
	spec faultSpec
	seed uint64
}

// register adds --faults and --fault-seed to fs.
func (f *faultFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.spec, "faults", "failures of the real API to simulate, as a comma-separated list of Mode=rate, "+
		"where rate is the probability from 0 to 1 that the mode strikes one request or job; all=rate sets every mode. "+
		"Modes (README, \"The simulator's fault modes\", says what each does): "+strings.Join(batchapitest.FaultModes(), ", ")+" (default none)")
	fs.Uint64Var(&f.seed, "fault-seed", 1, "seed of the fault draws; the same seed and the same requests give the same faults")
}

// describe returns ", faults <spec> (seed N)" when any fault is on, else "".
func (f *faultFlags) describe() string {
	if f.spec.faults == (batchapitest.Faults{}) {
		return ""
	}
	return fmt.Sprintf(", faults %s (seed %d)", f.spec.faults, f.seed)
}

// faultSpec is a flag.Value that parses its text with batchapitest.ParseFaults.
type faultSpec struct{ faults batchapitest.Faults }

func (s *faultSpec) String() string { return s.faults.String() }

func (s *faultSpec) Set(text string) error {
	faults, err := batchapitest.ParseFaults(text)
	if err != nil {
		return err
	}
	s.faults = faults
	return nil
}
