package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runMain(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestRunRejectsInvalidConfiguration(t *testing.T) {
	t.Setenv(apiKeyEnv, "")
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"nothing given", nil, []string{"brokers", "input topic", "output topic", "dead-letter topic", "api key: missing"}},
		{"batch size over the API limit", []string{"--batch-size", "301"}, []string{"batch size 301: must be 1 to 300"}},
		{"jobs over the account limit", []string{"--jobs-in-flight", "6"}, []string{"jobs in flight 6: must be 1 to 5"}},
		{"unknown field", []string{"--fields", "business_email,fax"}, []string{`field "fax": unknown`}},
		{"negative linger", []string{"--linger", "-1s"}, []string{"linger -1s: must not be negative"}},
		{"zero batch size", []string{"--batch-size", "0"}, []string{"--batch-size 0: must be at least 1"}},
		{"zero poll interval", []string{"--poll-interval", "0s"}, []string{"--poll-interval 0s: must be positive"}},
		{"empty field list", []string{"--fields", ","}, []string{"-fields: empty"}},
		{"unparsable duration", []string{"--poll-interval", "soon"}, []string{"poll-interval"}},
		{"bad log level", []string{"--log-level", "loud"}, []string{`log level "loud"`}},
		{"missing key file", []string{"--api-key-file", "/nonexistent/key"}, []string{"api key file"}},
		{"webhook URL without a listener", []string{"--webhook-url", "https://hooks.example.com/ce"}, []string{"--webhook-url and --webhook-listen: give both or neither"}},
		{"relative webhook URL", []string{"--webhook-url", "/ce", "--webhook-listen", "127.0.0.1:0"}, []string{`--webhook-url "/ce": must be an absolute http or https URL`}},
		{"missing webhook secret file", []string{"--webhook-secret-file", "/nonexistent/secret"}, []string{"reading webhook secret file"}},
		{"zero result line limit", []string{"--max-result-line-bytes", "0"}, []string{"--max-result-line-bytes 0: must be positive"}},
		{"zero credit probe interval", []string{"--credit-probe-interval", "0s"}, []string{"--credit-probe-interval 0s: must be positive"}},
		{"negative stuck deadline", []string{"--stuck-job-after", "-1h"}, []string{"stuck job after -1h0m0s: must not be negative"}},
		{"webhook listener without a port", []string{"--webhook-url", "https://hooks.example.com/ce", "--webhook-listen", "nonsense"}, []string{`--webhook-listen "nonsense": must be host:port`}},
		{"webhook listener on the metrics address", []string{"--webhook-url", "https://hooks.example.com/ce", "--webhook-listen", ":9090"}, []string{"must differ from --metrics-addr"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, append([]string{"run"}, tc.args...)...)
			if code != 2 {
				t.Errorf("exit code %d, want 2", code)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not name %q:\n%s", w, stderr)
				}
			}
		})
	}
}

func TestRunReadsFlagsFromEnvironment(t *testing.T) {
	t.Setenv(apiKeyEnv, "")
	t.Setenv("CONTACT_ENRICHER_BATCH_SIZE", "500")
	_, _, stderr := runCLI(t, "run")
	if !strings.Contains(stderr, "batch size 500") {
		t.Errorf("CONTACT_ENRICHER_BATCH_SIZE=500 was not applied:\n%s", stderr)
	}
	// A flag on the command line wins over the environment.
	_, _, stderr = runCLI(t, "run", "--batch-size", "10")
	if strings.Contains(stderr, "batch size") {
		t.Errorf("--batch-size 10 did not override the environment:\n%s", stderr)
	}
}

func TestRunNeverPrintsTheAPIKey(t *testing.T) {
	const key = "sk-live-do-not-print-4711"
	t.Setenv(apiKeyEnv, key)
	// Valid apart from an unreachable broker list; the command must fail
	// without echoing the key anywhere.
	code, stdout, stderr := runCLI(t, "run", "--brokers", "127.0.0.1:1", "--input-topic", "in",
		"--output-topic", "in", "--dead-letter-topic", "dead", "--metrics-addr", "")
	if code == 0 {
		t.Fatal("run with the same input and output topic succeeded")
	}
	if strings.Contains(stdout+stderr, key) {
		t.Fatalf("the API key appears in the output:\n%s%s", stdout, stderr)
	}
}

func TestReadAPIKeyFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(path, []byte("secret-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	key, err := readAPIKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if key.Reveal() != "secret-from-file" {
		t.Fatalf("key %q, want the file's content without the newline", key.Reveal())
	}
}

func TestDemoSummaryAccountsForEveryEvent(t *testing.T) {
	code, stdout, stderr := runCLI(t, "demo", "--events", "400", "--api-latency", "50ms", "--summary-json")
	if code != 0 {
		t.Fatalf("demo exit code %d:\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var sum demoSummary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatalf("last line is not the JSON summary: %v\n%s", err, stdout)
	}
	if sum.EventsIn != 400 {
		t.Errorf("events_in %d, want 400", sum.EventsIn)
	}
	if got := sum.EventsAnswered + sum.EventsSkipped + sum.EventsDeadLettered; got != sum.EventsIn {
		t.Errorf("answered+skipped+dead-lettered = %d, want %d", got, sum.EventsIn)
	}
	if sum.PeakActiveJobs > 5 || sum.API429Responses != 0 || sum.DuplicateActiveSubmissions != 0 {
		t.Errorf("peak %d, 429s %d, duplicate active submissions %d; want at most 5, 0, 0",
			sum.PeakActiveJobs, sum.API429Responses, sum.DuplicateActiveSubmissions)
	}
	if sum.ContactEventsOut < int64(sum.UniqueProfiles) {
		t.Errorf("contact events %d, fewer than the %d unique profiles", sum.ContactEventsOut, sum.UniqueProfiles)
	}
}

func TestUnknownCommandIsUsageError(t *testing.T) {
	code, _, stderr := runCLI(t, "enrich-everything")
	if code != 2 || !strings.Contains(stderr, "unknown command") {
		t.Fatalf("exit %d, stderr %q; want 2 and a message", code, stderr)
	}
}

func TestSimulatorRejectsNonLoopbackAddress(t *testing.T) {
	code, _, stderr := runCLI(t, "simulate-api", "--listen", "0.0.0.0:8089")
	if code != 2 || !strings.Contains(stderr, "loopback") {
		t.Fatalf("exit %d, stderr %q; want 2 and a loopback message", code, stderr)
	}
}
