package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contact-enricher/contact-enricher/codec"
	"github.com/contact-enricher/contact-enricher/pipeline/batchapi"
	"github.com/contact-enricher/contact-enricher/sink"
)

// fakeAPI is a scripted Batch API: every job finishes at the first status
// call with the status finalStatus returns. Hooks left nil accept.
type fakeAPI struct {
	mu          sync.Mutex
	submitErr   func(n int) error               // error of the nth submit, 1-based
	finalStatus func(n int) string              // status of the nth job; default completed
	lines       func(urls []string) []string    // results lines of a job; default one found line per URL
	body        func(n int, full []byte) []byte // body of the nth download; default the full body
	submits     [][]string
	downloads   int
}

func (f *fakeAPI) Submit(_ context.Context, req batchapi.SubmitRequest) (batchapi.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(f.submits) + 1
	if f.submitErr != nil {
		if err := f.submitErr(n); err != nil {
			return batchapi.Job{}, err
		}
	}
	f.submits = append(f.submits, append([]string(nil), req.URLs...))
	return batchapi.Job{BatchID: fmt.Sprint(n), Status: batchapi.StatusPending, IdentifierCount: len(req.URLs)}, nil
}

func (f *fakeAPI) Status(_ context.Context, id string) (batchapi.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var n int
	fmt.Sscan(id, &n)
	status := batchapi.StatusCompleted
	if f.finalStatus != nil {
		status = f.finalStatus(n)
	}
	job := batchapi.Job{BatchID: id, Status: status, ResultCount: len(f.submits[n-1])}
	if status == batchapi.StatusCompleted {
		job.DownloadURL = "mem://" + id
	} else {
		job.ErrorMessage = "internal processing error"
	}
	return job, nil
}

func (f *fakeAPI) List(context.Context, batchapi.ListOptions) (batchapi.ListPage, error) {
	return batchapi.ListPage{}, nil
}

func (f *fakeAPI) Download(_ context.Context, link string) (io.ReadCloser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var n int
	fmt.Sscan(strings.TrimPrefix(link, "mem://"), &n)
	urls := f.submits[n-1]
	var lines []string
	if f.lines != nil {
		lines = f.lines(urls)
	} else {
		for _, u := range urls {
			lines = append(lines, foundLine(u))
		}
	}
	full := gzipLines(lines)
	f.downloads++
	if f.body != nil {
		full = f.body(f.downloads, full)
	}
	return io.NopCloser(bytes.NewReader(full)), nil
}

func (f *fakeAPI) submitCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.submits)
}

func foundLine(url string) string {
	return fmt.Sprintf(`{"original_identifier":%q,"internal_id":42,"data":{"business_email":[{"email":"a@acme.example","status":"deliverable"}]}}`, url)
}

func gzipLines(lines []string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	for _, l := range lines {
		io.WriteString(zw, l+"\n")
	}
	zw.Close()
	return buf.Bytes()
}

// memSinks keeps what the pipeline writes; failWrites makes that many
// contact writes fail first.
type memSinks struct {
	mu         sync.Mutex
	events     []codec.ContactEvent
	letters    []sink.DeadLetter
	failWrites int
}

func (m *memSinks) WriteContacts(_ context.Context, events []codec.ContactEvent) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failWrites > 0 {
		m.failWrites--
		return fmt.Errorf("broker unavailable")
	}
	m.events = append(m.events, events...)
	return nil
}

func (m *memSinks) WriteDeadLetters(_ context.Context, letters []sink.DeadLetter) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.letters = append(m.letters, letters...)
	return nil
}

func (m *memSinks) snapshot() ([]codec.ContactEvent, []sink.DeadLetter) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]codec.ContactEvent(nil), m.events...), append([]sink.DeadLetter(nil), m.letters...)
}

// testInput starts kfake with an input topic of one partition holding one
// plain URL record per url, and returns the brokers.
func testInput(t *testing.T, urls ...string) []string {
	t.Helper()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "in", "out"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.DefaultProduceTopic("in"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i, u := range urls {
		r := &kgo.Record{Key: []byte(fmt.Sprint("id-", i)), Value: []byte(u)}
		if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	return cluster.ListenAddrs()
}

func testConfig(brokers []string) Config {
	return Config{
		Brokers: brokers, InputTopic: "in", OutputTopic: "out", DeadLetterTopic: "dead", GroupID: "g",
		BatchSize: 300, Linger: 20 * time.Millisecond, PollInterval: 5 * time.Millisecond,
		RetryBackoff: time.Millisecond, CommitInterval: 20 * time.Millisecond,
		SessionTimeout: 10 * time.Second, HeartbeatInterval: time.Second, MaxJobAttempts: 2,
		StateTopic: "jobs", ReplicaID: "test", LeaseTimeout: 5 * time.Second,
	}
}

// runUntil runs a pipeline until done returns true, then stops it and
// returns Run's error. It fails the test after 30s.
func runUntil(t *testing.T, cfg Config, api API, sinks *memSinks, done func() bool) error {
	t.Helper()
	return runPipelineUntil(t, cfg, Deps{API: api, Contacts: sinks, DeadLetters: sinks}, done)
}

// runPipelineUntil is runUntil with the dependencies given. It fills in the
// admin client and a silent logger, and passes the pipeline to each onStart
// function before it runs.
func runPipelineUntil(t *testing.T, cfg Config, deps Deps, done func() bool, onStart ...func(*Pipeline)) error {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	deps.Admin = kadm.NewClient(cl)
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	p, err := New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range onStart {
		f(p)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	result := make(chan error, 1)
	go func() { result <- p.Run(ctx) }()
	deadline := time.After(30 * time.Second)
	ticker := time.NewTicker(10 * time.Millisecond)
	defer ticker.Stop()
	for !done() {
		select {
		case err := <-result:
			return err
		case <-deadline:
			t.Fatal("condition not reached within 30s")
		case <-ticker.C:
		}
	}
	cancel()
	return <-result
}

// committedOffset returns the committed offset of group g on partition 0
// of "in", or -1.
func committedOffset(t *testing.T, brokers []string) int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	offsets, err := kadm.NewClient(cl).FetchOffsets(context.Background(), "g")
	if err != nil {
		t.Fatal(err)
	}
	o, ok := offsets.Lookup("in", 0)
	if !ok {
		return -1
	}
	return o.At
}
