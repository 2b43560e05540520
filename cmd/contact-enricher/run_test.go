package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contact-enricher/contact-enricher/codec"
	"github.com/contact-enricher/contact-enricher/pipeline/batchapi/batchapitest"
)

// syncBuffer is a bytes.Buffer safe for the logger and the test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestRunEnrichesAgainstBrokerAndAPI(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "crm", "out", "dead"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()
	records := codec.SyntheticRecords(300, 7)
	if err := writeRecords(context.Background(), brokers, "crm", records, nil); err != nil {
		t.Fatal(err)
	}
	const key = "run-test-key-0815"
	sim := batchapitest.New(batchapitest.Config{APIKey: key, JobDuration: 50 * time.Millisecond})
	defer sim.Close()
	api := httptest.NewServer(sim)
	defer api.Close()

	t.Setenv(apiKeyEnv, key)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	code := make(chan int, 1)
	go func() {
		code <- runMain(ctx, []string{"run", "--brokers", strings.Join(brokers, ","),
			"--input-topic", "crm", "--output-topic", "out", "--dead-letter-topic", "dead",
			"--api-base-url", api.URL, "--linger", "50ms", "--poll-interval", "20ms",
			"--metrics-addr", "127.0.0.1:0", "--log-format", "text"}, &stdout, &stderr)
	}()

	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	deadline := time.Now().Add(60 * time.Second)
	for {
		lag, err := committedLag(ctx, adm, "contact-enricher", "crm")
		if err == nil && lag == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("input not committed within 60s (lag %d, %v); log:\n%s", lag, err, stderr.String())
		}
		select {
		case c := <-code:
			t.Fatalf("run exited early with %d:\n%s", c, stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	cancel()
	if c := <-code; c != 0 {
		t.Fatalf("run exit code %d after stop:\n%s", c, stderr.String())
	}
	if strings.Contains(stderr.String(), key) {
		t.Fatal("the API key appears in the log")
	}
	if sim.Stats().URLsSubmitted != uniqueProfiles(records) {
		t.Errorf("URLs submitted %d, want %d", sim.Stats().URLsSubmitted, uniqueProfiles(records))
	}

	configs, err := adm.DescribeTopicConfigs(context.Background(), "contact-enricher.jobs")
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := configs.On("contact-enricher.jobs", nil)
	policy := ""
	for _, c := range rc.Configs {
		if c.Key == "cleanup.policy" && c.Value != nil {
			policy = *c.Value
		}
	}
	if policy != "compact" {
		t.Errorf("job-state topic cleanup.policy %q, want compact", policy)
	}
	jobsCode, jobsOut, jobsErr := runCLI(t, "jobs", "--brokers", strings.Join(brokers, ","))
	if jobsCode != 0 || !strings.Contains(jobsOut, "JOB ID") {
		t.Errorf("jobs exit %d, output %q %q; want the job table", jobsCode, jobsOut, jobsErr)
	}
}

func TestRunRejectsStateTopicNotCompacted(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "crm", "out", "dead", "jobs"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	t.Setenv(apiKeyEnv, "k")
	code, _, stderr := runCLI(t, "run", "--brokers", strings.Join(cluster.ListenAddrs(), ","),
		"--input-topic", "crm", "--output-topic", "out", "--dead-letter-topic", "dead",
		"--state-topic", "jobs", "--metrics-addr", "")
	if code != 1 || !strings.Contains(stderr, "cleanup.policy=delete") {
		t.Fatalf("exit %d, stderr %q; want 1 and the topic's cleanup policy named", code, stderr)
	}
}

func TestRunRejectsMissingTopic(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "crm", "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	t.Setenv(apiKeyEnv, "k")
	code, _, stderr := runCLI(t, "run", "--brokers", strings.Join(cluster.ListenAddrs(), ","),
		"--input-topic", "crm", "--output-topic", "out", "--dead-letter-topic", "dead-typo", "--metrics-addr", "")
	if code != 1 || !strings.Contains(stderr, "topic dead-typo: not found") {
		t.Fatalf("exit %d, stderr %q; want 1 and the missing topic named", code, stderr)
	}
}
