package integration

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contact-enricher/contact-enricher/codec"
	"github.com/contact-enricher/contact-enricher/pipeline"
	"github.com/contact-enricher/contact-enricher/pipeline/batchapi"
	"github.com/contact-enricher/contact-enricher/pipeline/batchapi/batchapitest"
	"github.com/contact-enricher/contact-enricher/sink"
)

// soakFaults switches on every fault mode of the simulator at once. The
// rates are set so that each mode strikes many times in one run: request
// faults strike a few percent of thousands of calls, job faults a tenth or
// so of the jobs of 25 URLs each. Forbidden is high because the test lets
// it strike only at quiet moments, and only a few times.
func soakFaults() batchapitest.Faults {
	return batchapitest.Faults{
		ServerError: 0.03, RateLimitStorm: 0.03, DropConnection: 0.02,
		NoCredits: 0.04, Forbidden: 0.3, SubmitNoAnswer: 0.03,

		StuckJob: 0.04, FailedJob: 0.08, EarlyLinkExpiry: 0.06,
		EmptyResult: 0.04, FewerLines: 0.05, DuplicateLines: 0.05,
		TruncatedBody: 0.04, CorruptGzip: 0.04, ContentEncodingGzip: 0.05,

		MultipleMembers: 0.15, ByteOrderMark: 0.15, CRLFLines: 0.15, BlankLines: 0.15,
		LongLines: 0.05, DataShapes: 0.15, BigInternalID: 0.15,

		WebhookDuplicate: 0.15, WebhookEarly: 0.15, WebhookUnsigned: 0.1, WebhookBadSignature: 0.1,
	}
}

// Soak settings: stuck jobs end after soakStuckFor, long after the
// replicas report them stuck and abandon them.
const (
	soakStuckFor      = 8 * time.Second
	soakStuckAfter    = "3s"
	soakCallTimeout   = "1s" // a submit without a response times out after this
	soakMaxBackoff    = "3s" // an absurd Retry-After is cut to this
	soakProbeInterval = "500ms"
	soakStops         = 3 // replicas stopped by a 403, at most
)

// soakReasons are the dead-letter reasons of records that were fine but
// whose job the API failed, stalled or served unreadable results for.
var soakReasons = []string{codec.ReasonEnrichmentFailed, pipeline.ReasonDownloadFailed, codec.ReasonJobStuck}

// TestSoakEveryFaultNeitherLosesNorRepays runs the crash test's replicas
// and kills against a simulator with every fault mode on. It checks that
// every input record is answered, skipped or dead-lettered with a reason,
// that no profile is paid twice except by the documented resubmission of
// failed and abandoned jobs, and that the account's job limit holds. It
// prints how often each fault struck and what the service did.
func TestSoakEveryFaultNeitherLosesNorRepays(t *testing.T) {
	start := time.Now()
	seed, bin, logDir := prepareReplicaRun(t)
	names := crashNames{
		in: uniqueName("soak-in"), out: uniqueName("soak-out"), dead: uniqueName("soak-dead"),
		group: uniqueName("soak-group"), state: uniqueName("soak-jobs"),
	}
	brokers := startCrashBroker(t, names)
	// A 403 stops the replica that gets it. Like a kill, it comes only
	// while the group is stable and no replica has just started: kfake's
	// group can stall for good when a member leaves in the middle of a
	// rebalance (see the kill gate in crash_harness_test.go). Its rate is
	// high so that quiet moments get one, and soakStops bounds the count.
	var h *crashHarness
	var harnessReady atomic.Bool
	var stops atomic.Int32
	sim := batchapitest.New(batchapitest.Config{
		APIKey: crashAPIKey, JobDuration: 300 * time.Millisecond, StuckJobFor: soakStuckFor,
		Faults: soakFaults(), FaultSeed: seed,
		AllowFault: func(mode string) bool {
			if mode != batchapitest.FaultForbidden {
				return true
			}
			if !harnessReady.Load() || stops.Load() >= soakStops || !h.quietForStops() {
				return false
			}
			stops.Add(1)
			return true
		},
	})
	t.Cleanup(sim.Close)

	h = newCrashHarness(t, crashHarnessConfig{
		binary: bin, logDir: logDir, seed: seed, sim: sim, replicas: crashReplicas,
		env: append(childEnv(), "CONTACT_ENRICHER_API_KEY="+crashAPIKey,
			"CONTACT_ENRICHER_WEBHOOK_SECRET="+crashAPIKey),
		admin: admin(t, brokers), group: names.group,
		expectedExit: stoppedOnForbidden,
	})
	harnessReady.Store(true)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	hookPorts := make(map[string]int)
	for i := 1; i <= crashReplicas; i++ {
		hookPorts[fmt.Sprintf("r%d", i)] = freeLoopbackPort(t)
	}
	h.args = func(replicaID string) []string {
		hook := "127.0.0.1:" + strconv.Itoa(hookPorts[replicaID])
		return append(replicaArgs(strings.Join(brokers, ","), names, srv.URL+"/"+replicaID, replicaID),
			"--batch-size", "25",
			"--api-call-timeout", soakCallTimeout,
			"--api-max-backoff", soakMaxBackoff,
			"--credit-probe-interval", soakProbeInterval,
			"--stuck-job-after", soakStuckAfter,
			"--abandon-stuck-jobs",
			"--webhook-listen", hook,
			"--webhook-url", "http://"+hook+"/hook",
		)
	}
	driveReplicas(t, h, brokers, names, seed)

	e := &env{brokers: brokers, in: names.in, out: names.out, dead: names.dead, group: names.group, sim: sim,
		fields: []string{batchapi.FieldBusinessEmail, batchapi.FieldPersonal}}
	wantURLs := checkSoakFates(t, e)
	checkSoakSpend(t, sim, wantURLs)
	reportSoak(t, h, sim.Stats(), e)
	t.Logf("seed %d; elapsed %s", seed, time.Since(start).Round(time.Millisecond))
}

// stoppedOnForbidden reports whether p stopped because the API returned
// 403, as the service must, with a clear message.
func stoppedOnForbidden(p *crashProc) bool {
	b, err := os.ReadFile(p.logPath)
	return err == nil && bytes.Contains(b, []byte("HTTP 403 (forbidden)"))
}

// checkSoakFates checks every input record's fate and every contact
// event's data, and returns the canonical URLs that had to be enriched. A
// record that decodes to a URL must have a contact event, or a dead letter
// whose reason names what the API did. Copies are allowed: delivery is at
// least once.
func checkSoakFates(t *testing.T, e *env) map[string]bool {
	t.Helper()
	inputs := readAll(t, e.brokers, e.in)
	events, answeredBy := readContactEvents(t, e)
	deadBy := readDeadLetters(t, e)
	dec := codec.NewDecoder(codec.DecoderConfig{})
	wantURLs := make(map[string]bool)
	fates := make(map[string]int)
	for _, r := range inputs {
		c := coords{r.Partition, r.Offset}
		value := r.Value
		if len(value) == 0 {
			value = nil // kafka-go returns an empty value as nil
		}
		d, err := dec.Decode(value)
		var derr *codec.DecodeError
		switch {
		case errors.As(err, &derr):
			fates["dead-lettered as input"]++
			checkDeadLetters(t, r, deadBy[c], derr.Reason)
		case err != nil:
			t.Errorf("record %d/%d: decode returned a non-DecodeError: %v", c.partition, c.offset, err)
		case d.Action == codec.ActionSkip:
			fates["skipped"]++
		default:
			wantURLs[d.URL] = true
			fates[enrichedFate(t, r, answeredBy[c], deadBy[c])]++
		}
	}
	t.Logf("inputs %d by fate: %v", len(inputs), fates)
	checkSoakContactData(t, e.sim, events)
	return wantURLs
}

// enrichedFate checks the outputs of a record to enrich and names its fate.
func enrichedFate(t *testing.T, in *kgo.Record, events []codec.ContactEvent, letters []*kgo.Record) string {
	t.Helper()
	for _, l := range letters {
		if reason := headers(l)[sink.HeaderReason]; !slices.Contains(soakReasons, reason) {
			t.Errorf("record %d/%d: dead letter with reason %q, want one of %v", in.Partition, in.Offset, reason, soakReasons)
		}
	}
	switch {
	case len(events) > 0 && len(letters) > 0:
		return "answered and dead-lettered (a copy after a kill)"
	case len(events) > 0:
		return "answered"
	case len(letters) > 0:
		return "dead-lettered as " + headers(letters[0])[sink.HeaderReason]
	}
	t.Errorf("record %d/%d: neither a contact event nor a dead letter", in.Partition, in.Offset)
	return "lost"
}

// checkSoakContactData checks that an event found by the API carries the
// simulator's data for its profile. An email served as a bare string has
// no status, and a profile missing from a short file is answered as not
// found, so those differences are allowed.
func checkSoakContactData(t *testing.T, sim *batchapitest.Server, events []codec.ContactEvent) {
	t.Helper()
	notFound, bad := 0, 0
	for _, ev := range events {
		if !ev.Found {
			notFound++
			if batchapitest.FoundFor(batchapitest.Contact(ev.ProfileURL), ev.Fields) && !shortResults(sim, ev) {
				bad++
				if bad <= 5 {
					t.Errorf("%s answered as not found by batch %s, whose results were complete: %v",
						ev.ProfileURL, ev.BatchID, sim.JobsWith(ev.ProfileURL))
				}
			}
			continue
		}
		p := batchapitest.Contact(ev.ProfileURL)
		// The BigInternalID fault serves ids above 2^63 instead.
		if ev.InternalID != p.InternalID && !aboveInt63(ev.InternalID) {
			bad++
			if bad <= 5 {
				t.Errorf("%s: internal_id %q, want %q", ev.ProfileURL, ev.InternalID, p.InternalID)
			}
		}
		if !sameEmailsIgnoringStatus(ev.BusinessEmails, p.BusinessEmails) || !sameEmailsIgnoringStatus(ev.PersonalEmails, p.PersonalEmails) ||
			!slices.Equal(ev.PhoneNumbers, p.PhoneNumbers) {
			bad++
			if bad <= 5 {
				t.Errorf("%s (batch %s): business %v, personal %v, phones %v; want %v, %v, %v", ev.ProfileURL, ev.BatchID,
					ev.BusinessEmails, ev.PersonalEmails, ev.PhoneNumbers, p.BusinessEmails, p.PersonalEmails, p.PhoneNumbers)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d contact events differ from the simulator's data", bad, len(events))
	}
	t.Logf("contact events %d: %d found, %d not found (no data, or missing from short or empty results)", len(events), len(events)-notFound, notFound)
}

// shortResults reports whether the batch of ev served results that lack
// lines: the FewerLines or EmptyResult fault.
func shortResults(sim *batchapitest.Server, ev codec.ContactEvent) bool {
	for _, d := range sim.JobsWith(ev.ProfileURL) {
		if strings.HasPrefix(d, "batch "+ev.BatchID+" ") &&
			(strings.Contains(d, batchapitest.FaultFewerLines) || strings.Contains(d, batchapitest.FaultEmptyResult)) {
			return true
		}
	}
	return false
}

func aboveInt63(id string) bool {
	n, ok := new(big.Int).SetString(id, 10)
	return ok && n.Cmp(new(big.Int).Lsh(big.NewInt(1), 63)) >= 0
}

func sameEmailsIgnoringStatus(got []codec.Email, want []batchapitest.Email) bool {
	return slices.EqualFunc(got, want, func(g codec.Email, w batchapitest.Email) bool {
		return g.Email == w.Email && (g.Status == w.Status || g.Status == "")
	})
}

// checkSoakSpend checks that each profile was paid once, apart from the
// documented resubmissions. A failed job is submitted again. A profile of a
// job abandoned as stuck or with unreadable results is submitted again for
// records that arrive, or are read again, later.
func checkSoakSpend(t *testing.T, sim *batchapitest.Server, wantURLs map[string]bool) {
	t.Helper()
	s := sim.Stats()
	var repaid []string
	resubmitted := 0
	for _, url := range slices.Sorted(maps.Keys(s.SubmissionsPerURL)) {
		n := s.SubmissionsPerURL[url]
		allowed := 1 + s.FailedSubmissionsPerURL[url] + s.StuckSubmissionsPerURL[url] + s.UnreadableSubmissionsPerURL[url]
		resubmitted += min(n, allowed) - 1
		if n > allowed {
			repaid = append(repaid, fmt.Sprintf("%s: %d submissions, %d allowed:\n  %s",
				url, n, allowed, strings.Join(sim.JobsWith(url), "\n  ")))
		}
		if !wantURLs[url] {
			t.Errorf("submitted URL %s is not the canonical URL of any input record", url)
		}
	}
	if len(repaid) > 0 {
		t.Errorf("%d URLs were paid more often than failed, stuck or unreadable jobs explain:\n%s", len(repaid), strings.Join(repaid, "\n"))
	}
	if s.PeakActiveJobs > pipeline.MaxJobsInFlight {
		t.Errorf("peak active jobs %d, over the account's limit of %d", s.PeakActiveJobs, pipeline.MaxJobsInFlight)
	}
	t.Logf("API: %d jobs, %d URLs submitted for %d profiles (%d documented resubmissions), peak %d active jobs, %d 429s for a full account, %d status calls, %d list calls, %d downloads, %d webhooks delivered",
		s.Jobs, s.URLsSubmitted, len(wantURLs), resubmitted, s.PeakActiveJobs, s.Responses429, s.StatusCalls, s.ListCalls, s.Downloads, s.WebhooksSent)
}

// soakLogEvents are log messages of the replicas that show the service's
// response to a fault, counted over every replica's logs.
var soakLogEvents = []string{
	"submissions and consumption paused",
	"submissions and consumption resumed",
	"job found through the list of jobs",
	"submitting job failed; looking it up before retrying",
	"getting job status failed; retrying",
	"job failed; submitting it again",
	"job failed; dead-lettering its records",
	"job stuck:",
	"stuck job abandoned",
	"downloading results failed; retrying with fresh links",
	"downloading results failed; dead-lettering",
	"webhook rejected",
}

// reportSoak prints how often each fault struck and what the service did.
func reportSoak(t *testing.T, h *crashHarness, s batchapitest.Stats, e *env) {
	t.Helper()
	var faults []string
	for _, mode := range batchapitest.FaultModes() {
		faults = append(faults, fmt.Sprintf("%s %d", mode, s.Faults[mode]))
		if s.Faults[mode] == 0 {
			t.Errorf("fault %s never struck; raise its rate", mode)
		}
	}
	t.Logf("faults struck: %s", strings.Join(faults, ", "))

	counts := make(map[string]int)
	h.mu.Lock()
	procs := append([]*crashProc(nil), h.procs...)
	kills, restarts, stops := h.kills, h.restarts, h.expectedExits
	h.mu.Unlock()
	for _, p := range procs {
		b, err := os.ReadFile(p.logPath)
		if err != nil {
			t.Errorf("reading %s: %v", p.logPath, err)
			continue
		}
		for _, ev := range soakLogEvents {
			counts[ev] += bytes.Count(b, []byte(ev))
		}
	}
	var did []string
	for _, ev := range soakLogEvents {
		did = append(did, fmt.Sprintf("%q %d", ev, counts[ev]))
	}
	t.Logf("service log events: %s", strings.Join(did, ", "))
	t.Logf("replicas: %d kills at submit, %d during a download, %d timed; %d stops on 403; %d restarts",
		kills[killAtSubmit], kills[killAtDownload], kills[killTimed], stops, restarts)
}
