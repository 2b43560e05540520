package pipeline

import (
	"errors"
	"strings"
	"testing"

	"github.com/contact-enricher/contact-enricher/codec"
	"github.com/contact-enricher/contact-enricher/pipeline/batchapi"
)

var testURLs = []string{
	"https://www.linkedin.com/in/ada-example",
	"https://www.linkedin.com/in/bo-example",
	"https://www.linkedin.com/in/cy-example",
	"https://www.linkedin.com/in/di-example",
}

func eventCount(s *memSinks) func() bool {
	return func() bool {
		events, letters := s.snapshot()
		return len(events)+len(letters) >= len(testURLs)
	}
}

func TestPipelineAnswersMissingLinesAsNotFound(t *testing.T) {
	brokers := testInput(t, testURLs...)
	api := &fakeAPI{lines: func(urls []string) []string { return []string{foundLine(urls[0])} }}
	sinks := &memSinks{}
	if err := runUntil(t, testConfig(brokers), api, sinks, eventCount(sinks)); err != nil {
		t.Fatal(err)
	}
	events, _ := sinks.snapshot()
	found := 0
	for _, ev := range events {
		if ev.Found {
			found++
		} else if string(ev.Data) != "null" || len(ev.BusinessEmails) != 0 {
			t.Errorf("not-found event of %s carries data %s", ev.ProfileURL, ev.Data)
		}
	}
	if found != 1 || len(events) != len(testURLs) {
		t.Fatalf("%d events with %d found, want %d with 1 found", len(events), found, len(testURLs))
	}
}

func TestPipelineWritesDuplicateResultLineOnce(t *testing.T) {
	brokers := testInput(t, testURLs...)
	api := &fakeAPI{lines: func(urls []string) []string {
		var lines []string
		for _, u := range urls {
			lines = append(lines, foundLine(u), foundLine(u))
		}
		return lines
	}}
	sinks := &memSinks{}
	if err := runUntil(t, testConfig(brokers), api, sinks, eventCount(sinks)); err != nil {
		t.Fatal(err)
	}
	events, _ := sinks.snapshot()
	if len(events) != len(testURLs) {
		t.Fatalf("%d contact events, want %d", len(events), len(testURLs))
	}
}

func TestPipelineResubmitsFailedJobThenDeadLetters(t *testing.T) {
	brokers := testInput(t, testURLs...)
	api := &fakeAPI{finalStatus: func(int) string { return batchapi.StatusFailed }}
	sinks := &memSinks{}
	if err := runUntil(t, testConfig(brokers), api, sinks, eventCount(sinks)); err != nil {
		t.Fatal(err)
	}
	if n := api.submitCount(); n != 2 {
		t.Errorf("job submitted %d times, want 2 (MaxJobAttempts)", n)
	}
	_, letters := sinks.snapshot()
	for _, l := range letters {
		if l.Reason != codec.ReasonEnrichmentFailed || !strings.Contains(l.Detail, "internal processing error") {
			t.Errorf("dead letter %q %q, want reason %s with the API's message", l.Reason, l.Detail, codec.ReasonEnrichmentFailed)
		}
	}
	if len(letters) != len(testURLs) {
		t.Fatalf("%d dead letters, want %d", len(letters), len(testURLs))
	}
}

func TestPipelineDeadLettersRejectedJob(t *testing.T) {
	brokers := testInput(t, testURLs...)
	api := &fakeAPI{submitErr: func(int) error {
		return &batchapi.APIError{Op: batchapi.OpSubmit, StatusCode: 400, Type: "invalid_request", Message: "bad identifiers"}
	}}
	sinks := &memSinks{}
	if err := runUntil(t, testConfig(brokers), api, sinks, eventCount(sinks)); err != nil {
		t.Fatal(err)
	}
	_, letters := sinks.snapshot()
	if len(letters) != len(testURLs) {
		t.Fatalf("%d dead letters, want %d", len(letters), len(testURLs))
	}
	for _, l := range letters {
		if l.Reason != codec.ReasonAPIRejected {
			t.Errorf("dead-letter reason %q, want %q", l.Reason, codec.ReasonAPIRejected)
		}
		if string(l.Value) == "" || l.Topic != "in" {
			t.Errorf("dead letter lost the original record: value %q topic %q", l.Value, l.Topic)
		}
	}
}

func TestPipelineStopsOnRejectedKeyWithoutCommitting(t *testing.T) {
	brokers := testInput(t, testURLs...)
	api := &fakeAPI{submitErr: func(int) error {
		return &batchapi.APIError{Op: batchapi.OpSubmit, StatusCode: 401, Type: "unauthorized", Message: "invalid API key"}
	}}
	sinks := &memSinks{}
	err := runUntil(t, testConfig(brokers), api, sinks, func() bool { return false })
	var apiErr *batchapi.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 {
		t.Fatalf("Run returned %v, want the 401 error", err)
	}
	if off := committedOffset(t, brokers); off > 0 {
		t.Fatalf("committed offset %d after a rejected key, want nothing committed", off)
	}
}

func TestPipelineRetriesCutDownloadWithoutDuplicates(t *testing.T) {
	brokers := testInput(t, testURLs...)
	api := &fakeAPI{body: func(n int, full []byte) []byte {
		if n == 1 {
			return full[:len(full)-10] // the first download is cut short
		}
		return full
	}}
	sinks := &memSinks{}
	if err := runUntil(t, testConfig(brokers), api, sinks, eventCount(sinks)); err != nil {
		t.Fatal(err)
	}
	events, letters := sinks.snapshot()
	if len(events) != len(testURLs) || len(letters) != 0 {
		t.Fatalf("%d events and %d dead letters, want %d events", len(events), len(letters), len(testURLs))
	}
	for _, ev := range events {
		if !ev.Found {
			t.Errorf("%s answered as not found after a cut download", ev.ProfileURL)
		}
	}
}

func TestPipelineDeadLettersUnreadableResults(t *testing.T) {
	brokers := testInput(t, testURLs...)
	api := &fakeAPI{body: func(int, []byte) []byte { return []byte("\x1f\x8bnot gzip at all") }}
	sinks := &memSinks{}
	cfg := testConfig(brokers)
	cfg.MaxDownloadAttempts = 3
	if err := runUntil(t, cfg, api, sinks, eventCount(sinks)); err != nil {
		t.Fatal(err)
	}
	_, letters := sinks.snapshot()
	if len(letters) != len(testURLs) {
		t.Fatalf("%d dead letters, want %d", len(letters), len(testURLs))
	}
	for _, l := range letters {
		if l.Reason != ReasonDownloadFailed {
			t.Errorf("dead-letter reason %q, want %q", l.Reason, ReasonDownloadFailed)
		}
	}
	if api.downloads != 3 {
		t.Errorf("%d downloads, want 3", api.downloads)
	}
}

func TestPipelineRetriesFailedOutputWriteThenCommits(t *testing.T) {
	brokers := testInput(t, testURLs...)
	api := &fakeAPI{}
	sinks := &memSinks{failWrites: 3}
	done := func() bool {
		events, _ := sinks.snapshot()
		return len(events) == len(testURLs) && committedOffset(t, brokers) == int64(len(testURLs))
	}
	if err := runUntil(t, testConfig(brokers), api, sinks, done); err != nil {
		t.Fatal(err)
	}
}

func TestPipelineDeduplicatesURLSpellings(t *testing.T) {
	brokers := testInput(t,
		"https://www.linkedin.com/in/ada-example",
		"http://uk.linkedin.com/in/Ada-Example/?trk=x",
		"not a url",
	)
	api := &fakeAPI{}
	sinks := &memSinks{}
	done := func() bool {
		events, letters := sinks.snapshot()
		return len(events) == 1 && len(letters) == 1
	}
	if err := runUntil(t, testConfig(brokers), api, sinks, done); err != nil {
		t.Fatal(err)
	}
	events, letters := sinks.snapshot()
	if n := len(events[0].Sources); n != 2 {
		t.Errorf("contact event answers %d records, want 2", n)
	}
	if n := api.submitCount(); n != 1 || len(api.submits[0]) != 1 {
		t.Errorf("submits %v, want one job with one URL", api.submits)
	}
	if letters[0].Reason != codec.ReasonNotAProfileURL {
		t.Errorf("dead-letter reason %q, want %q", letters[0].Reason, codec.ReasonNotAProfileURL)
	}
}
