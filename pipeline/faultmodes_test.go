package pipeline

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/contact-enricher/contact-enricher/codec"
	"github.com/contact-enricher/contact-enricher/pipeline/batchapi"
	"github.com/contact-enricher/contact-enricher/pipeline/batchapi/batchapitest"
)

// faultCase is one simulator fault mode and the service's expected response.
type faultCase struct {
	faults  batchapitest.Faults
	reasons []string // dead-letter reasons allowed; none means every record is answered
	// notFound allows events answered as not found, for results that lack
	// lines.
	notFound bool
	// stops means Run returns the API's error instead of finishing.
	stops bool
	// webhookOutcome, when set, sends jobs with a webhook URL, polls
	// slowly, and expects deliveries with this outcome.
	webhookOutcome string
	// maxSubmits is how often each URL may be submitted; 0 means once.
	maxSubmits int
}

// faultCases names every fault mode of the simulator. Rates below 1 leave
// room for the retries that get past the fault.
var faultCases = map[string]faultCase{
	batchapitest.FaultServerError:         {faults: batchapitest.Faults{ServerError: 0.5}},
	batchapitest.FaultRateLimitStorm:      {faults: batchapitest.Faults{RateLimitStorm: 0.3}},
	batchapitest.FaultNoCredits:           {faults: batchapitest.Faults{NoCredits: 0.7}},
	batchapitest.FaultForbidden:           {faults: batchapitest.Faults{Forbidden: 1}, stops: true},
	batchapitest.FaultDropConnection:      {faults: batchapitest.Faults{DropConnection: 0.5}},
	batchapitest.FaultSubmitNoAnswer:      {faults: batchapitest.Faults{SubmitNoAnswer: 1}},
	batchapitest.FaultStuckJob:            {faults: batchapitest.Faults{StuckJob: 1}, reasons: []string{codec.ReasonJobStuck}},
	batchapitest.FaultFailedJob:           {faults: batchapitest.Faults{FailedJob: 1}, reasons: []string{codec.ReasonEnrichmentFailed}, maxSubmits: 2},
	batchapitest.FaultEarlyLinkExpiry:     {faults: batchapitest.Faults{EarlyLinkExpiry: 1}},
	batchapitest.FaultEmptyResult:         {faults: batchapitest.Faults{EmptyResult: 1}, notFound: true},
	batchapitest.FaultFewerLines:          {faults: batchapitest.Faults{FewerLines: 1}, notFound: true},
	batchapitest.FaultDuplicateLines:      {faults: batchapitest.Faults{DuplicateLines: 1}},
	batchapitest.FaultTruncatedBody:       {faults: batchapitest.Faults{TruncatedBody: 1}, reasons: []string{ReasonDownloadFailed}},
	batchapitest.FaultCorruptGzip:         {faults: batchapitest.Faults{CorruptGzip: 1}, reasons: []string{ReasonDownloadFailed}},
	batchapitest.FaultContentEncodingGzip: {faults: batchapitest.Faults{ContentEncodingGzip: 1}},
	batchapitest.FaultMultipleMembers:     {faults: batchapitest.Faults{MultipleMembers: 1}},
	batchapitest.FaultByteOrderMark:       {faults: batchapitest.Faults{ByteOrderMark: 1}},
	batchapitest.FaultCRLFLines:           {faults: batchapitest.Faults{CRLFLines: 1}},
	batchapitest.FaultBlankLines:          {faults: batchapitest.Faults{BlankLines: 1}},
	batchapitest.FaultLongLines:           {faults: batchapitest.Faults{LongLines: 1}},
	batchapitest.FaultDataShapes:          {faults: batchapitest.Faults{DataShapes: 1}},
	batchapitest.FaultBigInternalID:       {faults: batchapitest.Faults{BigInternalID: 1}},
	batchapitest.FaultWebhookDuplicate:    {faults: batchapitest.Faults{WebhookDuplicate: 1}, webhookOutcome: webhookAccepted},
	batchapitest.FaultWebhookEarly:        {faults: batchapitest.Faults{WebhookEarly: 1}, webhookOutcome: webhookAccepted},
	batchapitest.FaultWebhookUnsigned:     {faults: batchapitest.Faults{WebhookUnsigned: 1}, webhookOutcome: webhookBadSignature},
	batchapitest.FaultWebhookBadSignature: {faults: batchapitest.Faults{WebhookBadSignature: 1}, webhookOutcome: webhookBadSignature},
}

func TestFaultModesAllHaveAServiceTest(t *testing.T) {
	for _, mode := range batchapitest.FaultModes() {
		if _, ok := faultCases[mode]; !ok {
			t.Errorf("fault mode %s has no case in faultCases", mode)
		}
	}
}

// TestServiceMeetsFault runs the pipeline against the simulator with one
// fault mode on at a time. Every record must be answered or dead-lettered
// with the expected reason, and each URL paid once (a failed job twice).
// For a 403 the service must stop with the API's error instead.
func TestServiceMeetsFault(t *testing.T) {
	for _, mode := range batchapitest.FaultModes() {
		tc := faultCases[mode]
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			sim, sinks, reg, err := runWithSimulator(t, tc)
			stats := sim.Stats()
			if stats.Faults[mode] == 0 {
				t.Fatalf("fault %s never struck", mode)
			}
			if tc.stops {
				var apiErr *batchapi.APIError
				if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusForbidden {
					t.Fatalf("Run returned %v, want the API's 403", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Run returned %v", err)
			}
			checkFaultOutcome(t, tc, sinks)
			if tc.webhookOutcome != "" && metricValue(t, reg, "contact_enricher_webhook_deliveries_total", tc.webhookOutcome) == 0 {
				t.Errorf("no webhook delivery with outcome %s", tc.webhookOutcome)
			}
			maxSubmits := max(tc.maxSubmits, 1)
			for url, n := range stats.SubmissionsPerURL {
				if n > maxSubmits {
					t.Errorf("%s submitted %d times, want at most %d", url, n, maxSubmits)
				}
			}
		})
	}
}

// runWithSimulator runs a pipeline over testURLs against a simulator with
// tc's faults until every record has an outcome or Run returns.
func runWithSimulator(t *testing.T, tc faultCase) (*batchapitest.Server, *memSinks, *prometheus.Registry, error) {
	t.Helper()
	brokers := testInput(t, testURLs...)
	sim := batchapitest.New(batchapitest.Config{JobDuration: 30 * time.Millisecond, StuckJobFor: 300 * time.Millisecond, Faults: tc.faults, FaultSeed: 7})
	t.Cleanup(sim.Close)
	apiSrv := httptest.NewServer(sim)
	t.Cleanup(apiSrv.Close)
	api, err := batchapi.New(batchapi.Config{BaseURL: apiSrv.URL, APIKey: batchapitest.DefaultAPIKey,
		CallTimeout: 300 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}

	cfg := testConfig(brokers)
	cfg.CreditProbeInterval = 20 * time.Millisecond
	cfg.StuckJobAfter, cfg.AbandonStuckJobs = 100*time.Millisecond, true
	cfg.ShutdownGrace = time.Second
	var onStart []func(*Pipeline)
	if tc.webhookOutcome != "" {
		var receiver atomic.Pointer[http.Handler]
		hookSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			(*receiver.Load()).ServeHTTP(w, r)
		}))
		t.Cleanup(hookSrv.Close)
		cfg.WebhookURL, cfg.WebhookSecret = hookSrv.URL, batchapitest.DefaultAPIKey
		cfg.PollInterval = 200 * time.Millisecond
		onStart = append(onStart, func(p *Pipeline) {
			h := p.WebhookHandler()
			receiver.Store(&h)
		})
	}
	sinks := &memSinks{}
	reg := prometheus.NewRegistry()
	deps := Deps{API: api, Contacts: sinks, DeadLetters: sinks, Registerer: reg}
	err = runPipelineUntil(t, cfg, deps, eventCount(sinks), onStart...)
	return sim, sinks, reg, err
}

// checkFaultOutcome checks every record's outputs against tc and every
// found event's data against the simulator's.
func checkFaultOutcome(t *testing.T, tc faultCase, sinks *memSinks) {
	t.Helper()
	events, letters := sinks.snapshot()
	for _, l := range letters {
		if !slices.Contains(tc.reasons, l.Reason) {
			t.Errorf("dead letter %s (%s), want none or one of %v", l.Reason, l.Detail, tc.reasons)
		}
	}
	for _, ev := range events {
		if !ev.Found {
			if !tc.notFound && batchapitest.FoundFor(batchapitest.Contact(ev.ProfileURL), ev.Fields) {
				t.Errorf("%s answered as not found, though the simulator has data", ev.ProfileURL)
			}
			continue
		}
		want := batchapitest.Contact(ev.ProfileURL)
		if len(ev.BusinessEmails) != len(want.BusinessEmails) || len(ev.PhoneNumbers) != len(want.PhoneNumbers) {
			t.Errorf("%s: business emails %v and phones %v, want %v and %v", ev.ProfileURL,
				ev.BusinessEmails, ev.PhoneNumbers, want.BusinessEmails, want.PhoneNumbers)
		}
	}
	if len(events)+len(letters) != len(testURLs) {
		t.Errorf("%d events and %d dead letters for %d records, want one outcome each", len(events), len(letters), len(testURLs))
	}
}
