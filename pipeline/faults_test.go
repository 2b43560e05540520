package pipeline

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/contact-enricher/contact-enricher/codec"
	"github.com/contact-enricher/contact-enricher/pipeline/batchapi"
)

// gaugeValue returns the value of the unlabelled gauge name from reg.
func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	return metricValue(t, reg, name, "")
}

// metricValue returns the value of the gauge or counter name from reg: of
// the series whose first label has the value label, or of the unlabelled
// series when label is empty. It returns 0 when there is no such series.
func metricValue(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if label != "" && (len(m.GetLabel()) == 0 || m.GetLabel()[0].GetValue() != label) {
				continue
			}
			return m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	return 0
}

func TestPipelinePausesOnNoCreditsUntilAProbeSucceeds(t *testing.T) {
	brokers := testInput(t, testURLs...)
	var rejections atomic.Int32
	var credits atomic.Bool
	api := &fakeAPI{submitErr: func(int) error {
		if credits.Load() {
			return nil
		}
		rejections.Add(1)
		return &batchapi.APIError{Op: batchapi.OpSubmit, StatusCode: 402, Type: "insufficient_credits", Message: "not enough credits"}
	}}

	cfg := testConfig(brokers)
	cfg.CreditProbeInterval = 20 * time.Millisecond
	reg := prometheus.NewRegistry()
	sinks := &memSinks{}
	err := runPipelineUntil(t, cfg, Deps{API: api, Contacts: sinks, DeadLetters: sinks, Registerer: reg}, func() bool {
		if credits.Load() {
			return eventCount(sinks)()
		}
		if rejections.Load() < 3 {
			return false
		}

		// Two probes rejected after the first 402: everything is kept.
		if events, letters := sinks.snapshot(); len(events)+len(letters) > 0 {
			t.Errorf("while paused: %d events and %d dead letters written, want none", len(events), len(letters))
		}
		if off := committedOffset(t, brokers); off > 0 {
			t.Errorf("while paused: committed offset %d, want nothing committed", off)
		}
		if v := gaugeValue(t, reg, "contact_enricher_batchapi_paused_no_credits"); v != 1 {
			t.Errorf("while paused: paused gauge %v, want 1", v)
		}
		credits.Store(true)
		return false
	})
	if err != nil {
		t.Fatalf("Run returned %v after credits came back, want nil", err)
	}

	if n := api.submitCount(); n != 1 {
		t.Errorf("%d jobs accepted, want the one job that waited", n)
	}
	if v := gaugeValue(t, reg, "contact_enricher_batchapi_paused_no_credits"); v != 0 {
		t.Errorf("after a probe succeeded: paused gauge %v, want 0", v)
	}
}

func TestPipelineReportsStuckJobAndKeepsItsSlot(t *testing.T) {
	brokers := testInput(t, testURLs...)
	api := &fakeAPI{finalStatus: func(int) string { return batchapi.StatusProcessing }}
	cfg := testConfig(brokers)
	cfg.StuckJobAfter = 30 * time.Millisecond
	cfg.ShutdownGrace = 50 * time.Millisecond // the stuck job never ends
	reg := prometheus.NewRegistry()
	sinks := &memSinks{}
	err := runPipelineUntil(t, cfg, Deps{API: api, Contacts: sinks, DeadLetters: sinks, Registerer: reg}, func() bool {
		// A stuck job keeps its slot.
		return gaugeValue(t, reg, "contact_enricher_batchapi_jobs_stuck") == 1 &&
			gaugeValue(t, reg, "contact_enricher_pipeline_job_tokens_in_use") == 1
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, letters := sinks.snapshot(); len(letters) > 0 {
		t.Errorf("%d dead letters for a stuck job without --abandon-stuck-jobs, want none", len(letters))
	}
	if n := api.submitCount(); n != 1 {
		t.Errorf("%d submits, want 1: a stuck job is never submitted again", n)
	}
}

func TestPipelineAbandonsStuckJobWhenAllowed(t *testing.T) {
	brokers := testInput(t, testURLs...)
	api := &fakeAPI{finalStatus: func(int) string { return batchapi.StatusProcessing }}
	cfg := testConfig(brokers)
	cfg.StuckJobAfter = 30 * time.Millisecond
	cfg.ShutdownGrace = 50 * time.Millisecond // the stuck job never ends
	cfg.AbandonStuckJobs = true
	reg := prometheus.NewRegistry()
	sinks := &memSinks{}
	err := runPipelineUntil(t, cfg, Deps{API: api, Contacts: sinks, DeadLetters: sinks, Registerer: reg}, func() bool {
		// The API still counts the abandoned job, so it keeps its token.
		_, letters := sinks.snapshot()
		return len(letters) == len(testURLs) && committedOffset(t, brokers) == int64(len(testURLs)) &&
			gaugeValue(t, reg, "contact_enricher_pipeline_job_tokens_in_use") == 1
	})
	if err != nil {
		t.Fatal(err)
	}
	_, letters := sinks.snapshot()
	for _, l := range letters {
		if l.Reason != codec.ReasonJobStuck || !strings.Contains(l.Detail, "batch 1 processing") {
			t.Errorf("dead letter %q: %q, want %s naming batch 1", l.Reason, l.Detail, codec.ReasonJobStuck)
		}
	}
	if n := api.submitCount(); n != 1 {
		t.Errorf("%d submits, want 1: an abandoned job's URLs are not submitted again", n)
	}
}

// TestPipelineResubmitsJobWhoseResultsAreAnotherJobs covers a batch found
// through GET /batch that turns out to be another job of the same size:
// its results hold none of the job's URLs.
func TestPipelineResubmitsJobWhoseResultsAreAnotherJobs(t *testing.T) {
	brokers := testInput(t, testURLs...)
	var downloads atomic.Int32
	api := &fakeAPI{lines: func(urls []string) []string {
		var lines []string
		for i, u := range urls {
			if downloads.Add(1) <= int32(len(urls)) {
				u = fmt.Sprintf("https://www.linkedin.com/in/someone-else-%d", i)
			}
			lines = append(lines, foundLine(u))
		}
		return lines
	}}
	sinks := &memSinks{}
	if err := runUntil(t, testConfig(brokers), api, sinks, eventCount(sinks)); err != nil {
		t.Fatal(err)
	}
	events, letters := sinks.snapshot()
	for _, ev := range events {
		if !ev.Found {
			t.Errorf("%s answered as not found from another job's results", ev.ProfileURL)
		}
	}
	if len(letters) > 0 {
		t.Errorf("%d dead letters, want none", len(letters))
	}
	if n := api.submitCount(); n != 2 {
		t.Errorf("%d submits, want 2: the job is submitted again once", n)
	}
}
