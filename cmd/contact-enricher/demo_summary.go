package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/contact-enricher/contact-enricher/codec"
	"github.com/contact-enricher/contact-enricher/pipeline/batchapi/batchapitest"
)

// demoSummary is what the demo prints at the end; with --summary-json it is
// the last line of the output. Event counts are input records; the API
// figures are the simulator's own.
type demoSummary struct {
	EventsIn                   int     `json:"events_in"`
	EventsAnswered             int     `json:"events_answered"`
	EventsSkipped              int     `json:"events_skipped"`
	EventsDeadLettered         int     `json:"events_dead_lettered"`
	ContactEventsOut           int64   `json:"contact_events_out"`
	DeadLettersOut             int64   `json:"dead_letters_out"`
	UniqueProfiles             int     `json:"unique_profiles"`
	JobsSubmitted              int     `json:"jobs_submitted"`
	URLsSubmitted              int     `json:"urls_submitted"`
	API429Responses            int     `json:"api_429_responses"`
	PeakActiveJobs             int     `json:"peak_active_jobs"`
	DuplicateActiveSubmissions int     `json:"duplicate_active_submissions"`
	OffsetsCommitted           bool    `json:"offsets_committed"`
	ElapsedSeconds             float64 `json:"elapsed_seconds"`
	// FaultsStruck counts the simulator's injected faults by mode, with
	// --faults; omitted without.
	FaultsStruck map[string]int `json:"faults_struck,omitempty"`
}

func newDemoSummary(ctx context.Context, records []codec.Record, w *demoWatcher, stats batchapitest.Stats, complete bool, elapsed time.Duration) (*demoSummary, error) {
	out, err := topicRecords(ctx, w.brokers, demoOutputTopic)
	if err != nil {
		return nil, fmt.Errorf("counting contact events: %w", err)
	}
	dead, err := topicRecords(ctx, w.brokers, demoDeadLetterTopic)
	if err != nil {
		return nil, fmt.Errorf("counting dead letters: %w", err)
	}
	return &demoSummary{
		EventsIn:                   len(records),
		EventsAnswered:             w.answered,
		EventsSkipped:              w.skipped,
		EventsDeadLettered:         w.deadLettered,
		ContactEventsOut:           out,
		DeadLettersOut:             dead,
		UniqueProfiles:             uniqueProfiles(records),
		JobsSubmitted:              stats.Jobs,
		URLsSubmitted:              stats.URLsSubmitted,
		API429Responses:            stats.Responses429,
		PeakActiveJobs:             stats.PeakActiveJobs,
		DuplicateActiveSubmissions: stats.DuplicateActiveSubmissions,
		OffsetsCommitted:           complete && w.committedLag == 0,
		ElapsedSeconds:             elapsed.Seconds(),
		FaultsStruck:               stats.Faults,
	}, nil
}

// uniqueProfiles returns how many distinct canonical profile URLs the
// records ask to enrich.
func uniqueProfiles(records []codec.Record) int {
	dec := codec.NewDecoder(codec.DecoderConfig{})
	seen := make(map[string]bool)
	for _, r := range records {
		d, err := dec.Decode(r.Value)
		if err == nil && d.Action == codec.ActionEnrich {
			seen[d.URL] = true
		}
	}
	return len(seen)
}

func (s *demoSummary) complete() bool {
	return s.EventsAnswered+s.EventsSkipped+s.EventsDeadLettered == s.EventsIn && s.OffsetsCommitted
}

func (s *demoSummary) print(w io.Writer) {
	fmt.Fprintf(w, `
input records        %d
  answered           %d
  skipped            %d
  dead-lettered      %d
contact events out   %d
dead letters out     %d
unique profiles      %d
jobs submitted       %d
URLs submitted       %d
429s, all slots taken %d
peak active jobs     %d
duplicate active submissions %d
offsets committed    %t
elapsed              %.1fs
`, s.EventsIn, s.EventsAnswered, s.EventsSkipped, s.EventsDeadLettered, s.ContactEventsOut, s.DeadLettersOut,
		s.UniqueProfiles, s.JobsSubmitted, s.URLsSubmitted, s.API429Responses, s.PeakActiveJobs,
		s.DuplicateActiveSubmissions, s.OffsetsCommitted, s.ElapsedSeconds)
	if len(s.FaultsStruck) > 0 {
		fmt.Fprintln(w, "faults struck")
		for _, mode := range slices.Sorted(maps.Keys(s.FaultsStruck)) {
			fmt.Fprintf(w, "  %-20s %d\n", mode, s.FaultsStruck[mode])
		}
	}
}
