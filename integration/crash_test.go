package integration

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contact-enricher/contact-enricher/codec"
	"github.com/contact-enricher/contact-enricher/pipeline"
	"github.com/contact-enricher/contact-enricher/pipeline/batchapi"
	"github.com/contact-enricher/contact-enricher/pipeline/batchapi/batchapitest"
	"github.com/contact-enricher/contact-enricher/sink"
)

// crashNames are the topics and group of one crash run.
type crashNames struct {
	in, out, dead, group, state string
}

// replicaArgs returns the command line of replica replicaID. Short polls,
// lingers and sessions keep the run within about two minutes. The last
// group of flags makes the job state durable, so that a restarted or
// surviving replica takes over a dead one's jobs.
func replicaArgs(brokers string, n crashNames, apiURL, replicaID string) []string {
	return []string{"run",
		"--brokers", brokers,
		"--input-topic", n.in,
		"--output-topic", n.out,
		"--dead-letter-topic", n.dead,
		"--group", n.group,
		"--api-base-url", apiURL,
		"--linger", "100ms",
		"--batch-size", "100",
		"--poll-interval", "50ms",
		"--metrics-addr", "",
		"--log-format", "text",
		"--log-level", "info",
		"--shutdown-grace", "2s",

		"--state-topic", n.state,
		"--state-replication-factor", "1",
		"--lease-timeout", "2s",
		"--replica-id", replicaID,
		"--session-timeout", "6s",
		"--heartbeat-interval", "500ms",
		"--rebalance-timeout", "5s",
	}
}

const (
	crashAPIKey      = "crash-test-key"
	crashReplicas    = 3
	crashEvents      = 5000
	crashWaves       = 4
	crashWaveGap     = 6 * time.Second  // minimum time between the starts of two input waves
	crashWaveWait    = 10 * time.Second // maximum time a due wave waits for a stable group
	crashMinKills    = 10
	crashMinEachKind = 3                // kills at submit and during download, each
	crashKillPhase   = 60 * time.Second // maximum time for the kills to reach their counts
	crashConverge    = 3 * time.Minute  // for the committed offsets to reach the end once kills stop
	crashStopTimeout = 15 * time.Second // for a replica to exit after SIGTERM
	crashLogTail     = 40               // lines of each replica log shown on failure
)

// TestCrashedReplicasNeitherLoseNorRepay runs three replica processes in
// one consumer group and restarts each one it SIGKILLs. The kills come
// right after the API creates a job, in the middle of a results download
// and at random moments. The test then checks every input record's fate
// and that the API was paid once per profile.
func TestCrashedReplicasNeitherLoseNorRepay(t *testing.T) {
	start := time.Now()
	seed, bin, logDir := prepareReplicaRun(t)

	names := crashNames{
		in:    uniqueName("crm-contacts"),
		out:   uniqueName("contacts-enriched"),
		dead:  uniqueName("contacts-dead-letter"),
		group: uniqueName("contact-enricher"),
		state: uniqueName("contact-enricher-jobs"),
	}
	brokers := startCrashBroker(t, names)
	sim := batchapitest.New(batchapitest.Config{APIKey: crashAPIKey, JobDuration: 300 * time.Millisecond})
	t.Cleanup(sim.Close)

	h := newCrashHarness(t, crashHarnessConfig{
		binary: bin, logDir: logDir, seed: seed, sim: sim, replicas: crashReplicas,
		env:   append(childEnv(), "CONTACT_ENRICHER_API_KEY="+crashAPIKey),
		admin: admin(t, brokers), group: names.group,
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	h.args = func(replicaID string) []string {
		return replicaArgs(strings.Join(brokers, ","), names, srv.URL+"/"+replicaID, replicaID)
	}
	driveReplicas(t, h, brokers, names, seed)
	h.checkSubmitKills()

	e := &env{brokers: brokers, in: names.in, out: names.out, dead: names.dead, group: names.group, sim: sim,
		fields: []string{batchapi.FieldBusinessEmail, batchapi.FieldPersonal}}
	checkCrashFates(t, e)

	kills, restarts := h.figures()
	t.Logf("kills: %d at submit, %d during a results download, %d timed (%d in all); %d restarts",
		kills[killAtSubmit], kills[killAtDownload], kills[killTimed], kills[killAtSubmit]+kills[killAtDownload]+kills[killTimed], restarts)
	t.Logf("seed %d; elapsed %s", seed, time.Since(start).Round(time.Millisecond))
}

// driveReplicas runs the replicas of h through the input of one run: it
// starts them, produces the input in waves while the kills run, waits until
// the group has committed every input offset, and stops the replicas.
func driveReplicas(t *testing.T, h *crashHarness, brokers []string, names crashNames, seed uint64) {
	t.Helper()
	start := time.Now()
	// Registered after t.TempDir and before the harness stops anything, so
	// it runs while the logs still exist and after every process is gone.
	t.Cleanup(func() {
		if t.Failed() {
			h.logTails(crashLogTail)
		}
	})
	t.Cleanup(h.shutdown)

	records := codec.SyntheticRecords(crashEvents, int64(seed))
	h.startAll()

	killUntilTargets(t, h, brokers, names.in, records)
	h.endKills()
	t.Logf("kill phase over after %s; waiting for the group to commit every input offset", time.Since(start).Round(time.Millisecond))

	waitForZeroLag(t, h, brokers, names)
	h.stopAll(crashStopTimeout)
}

// prepareReplicaRun skips a test that runs replica processes under -short
// or where POSIX signals are missing. Otherwise it returns the run's seed,
// the built binary and the folder of the replicas' logs: a folder named
// after the test in CRASH_TEST_LOG_DIR when set, so that the logs outlive
// the test.
func prepareReplicaRun(t *testing.T) (seed uint64, bin, logDir string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary and runs three replica processes for about two minutes")
	}
	if runtime.GOOS == "windows" {
		t.Skip("the harness stops replicas with POSIX signals")
	}
	seed = crashSeed(t)
	bin = buildCrashBinary(t)
	logDir = t.TempDir()
	if d := os.Getenv("CRASH_TEST_LOG_DIR"); d != "" {
		logDir = filepath.Join(d, t.Name())
		if err := os.MkdirAll(logDir, 0o755); err != nil {
			t.Fatalf("creating the log folder: %v", err)
		}
	}
	return seed, bin, logDir
}

// crashSeed returns CRASH_TEST_SEED when set, so that a failing run's
// choices can be replayed (the timing of processes still varies), and a
// fresh seed otherwise.
func crashSeed(t *testing.T) uint64 {
	t.Helper()
	if s := os.Getenv("CRASH_TEST_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("CRASH_TEST_SEED=%q: not an unsigned integer: %v", s, err)
		}
		t.Logf("seed %d (from CRASH_TEST_SEED)", seed)
		return seed
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d (rerun with CRASH_TEST_SEED=%d)", seed, seed)
	return seed
}

// buildCrashBinary builds cmd/contact-enricher into a temporary directory
// and returns the binary's path.
func buildCrashBinary(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		t.Fatalf("go env GOMOD returned %q: run the test inside the module", gomod)
	}
	bin := filepath.Join(t.TempDir(), "contact-enricher")
	build := exec.Command("go", "build", "-o", bin, "./cmd/contact-enricher")
	build.Dir = filepath.Dir(gomod)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/contact-enricher: %v\n%s", err, out)
	}
	t.Logf("binary %s", bin)
	return bin
}

// startCrashBroker starts a kfake broker on a free loopback port with the
// three topics of names, closed at the end of the test. The broker lives in
// the test process, so it outlives every replica.
func startCrashBroker(t *testing.T, names crashNames) []string {
	t.Helper()
	var lastErr error
	// Another process may take the port between the probe and kfake's
	// listen, so a few fresh ports are tried.
	for range 3 {
		cluster, err := kfake.NewCluster(
			kfake.NumBrokers(1),
			kfake.Ports(freeLoopbackPort(t)),
			kfake.SeedTopics(6, names.in),
			kfake.SeedTopics(3, names.out),
			kfake.SeedTopics(1, names.dead),
			kfake.GroupMinSessionTimeout(time.Second),
		)
		if err != nil {
			lastErr = err
			continue
		}
		t.Cleanup(cluster.Close)
		t.Logf("broker: embedded kfake at %s", strings.Join(cluster.ListenAddrs(), ","))
		return cluster.ListenAddrs()
	}
	t.Fatalf("starting kfake: %v", lastErr)
	return nil
}

func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// childEnv returns the test's environment without CONTACT_ENRICHER_*
// variables, which would otherwise set flags the command line omits.
func childEnv() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "CONTACT_ENRICHER_")
	})
}

// killUntilTargets produces records in waves while the harness kills
// replicas, and returns once every wave is written and the kills have
// reached their counts, or the kill phase has run out of time.
func killUntilTargets(t *testing.T, h *crashHarness, brokers []string, topic string, records []codec.Record) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	start := time.Now()
	lastWave := start
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	produced, wave := 0, 0
	for {
		h.failOnUnexpectedExits()
		// A wave waits for a stable group, up to crashWaveWait, because
		// kills only land while the group is stable, and a wave's API calls
		// come within seconds of its records.
		sinceLast := time.Since(lastWave)
		ready := wave == 0 || (sinceLast >= crashWaveGap && (h.groupStableNow() || sinceLast >= crashWaveGap+crashWaveWait))
		if wave < crashWaves && ready {
			lastWave = time.Now()
			end := len(records) * (wave + 1) / crashWaves
			produceWave(t, cl, records[produced:end])
			t.Logf("wave %d: produced records %d to %d at %s", wave+1, produced, end-1, time.Since(start).Round(time.Millisecond))
			produced, wave = end, wave+1
			if wave == crashWaves {
				h.inputProduced()
			}
		}
		if wave == crashWaves {
			if h.killTargetsMet() {
				return
			}
			if time.Since(start) > crashKillPhase {
				kills, _ := h.figures()
				t.Errorf("harness: after %s the kills are %d at submit, %d during download and %d timed; want %d of each of the first two kinds and %d in all",
					crashKillPhase, kills[killAtSubmit], kills[killAtDownload], kills[killTimed], crashMinEachKind, crashMinKills)
				return
			}
		}
		<-tick.C
	}
}

func produceWave(t *testing.T, cl *kgo.Client, records []codec.Record) {
	t.Helper()
	krs := make([]*kgo.Record, len(records))
	for i, r := range records {
		krs[i] = &kgo.Record{Key: r.Key, Value: r.Value}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, krs...).FirstErr(); err != nil {
		t.Fatalf("producing input: %v", err)
	}
}

// waitForZeroLag polls until the group has committed the end of the input
// topic, failing on a deadline or on a replica that exits by itself.
func waitForZeroLag(t *testing.T, h *crashHarness, brokers []string, names crashNames) {
	t.Helper()
	adm := admin(t, brokers)
	start := time.Now()
	deadline := start.Add(crashConverge)
	lastReport := start
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		h.failOnUnexpectedExits()
		lag := committedLag(t, adm, names.group, names.in)
		if lag == 0 {
			t.Logf("every input offset committed %s after the kills stopped", time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Now().After(deadline) {
			explainLag(t, adm, brokers, names, h.cfg.sim)
			t.Fatalf("the group still lags by %d records %s after the kills stopped", lag, crashConverge)
		}
		if time.Since(lastReport) >= 10*time.Second {
			t.Logf("lag %d after %s", lag, time.Since(start).Round(time.Second))
			lastReport = time.Now()
		}
		<-tick.C
	}
}

// explainLag logs, for each partition whose committed offset is short of
// its end, the first record not committed, and what the outputs and the
// simulator hold for its profile.
func explainLag(t *testing.T, adm *kadm.Client, brokers []string, names crashNames, sim *batchapitest.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	committed, err := adm.FetchOffsets(ctx, names.group)
	if err != nil {
		t.Logf("explaining the lag: fetching offsets: %v", err)
		return
	}
	outputs := readAll(t, brokers, names.out)
	letters := readAll(t, brokers, names.dead)
	dec := codec.NewDecoder(codec.DecoderConfig{})
	first := make(map[int32]bool)
	for _, r := range readAll(t, brokers, names.in) {
		c, ok := committed.Lookup(names.in, r.Partition)
		if first[r.Partition] || ok && c.At > r.Offset {
			continue
		}
		first[r.Partition] = true
		d, err := dec.Decode(r.Value)
		t.Logf("partition %d: first record not committed at offset %d (committed %d): %q, decoded %+v, %v",
			r.Partition, r.Offset, c.At, r.Value, d, err)
		events, deads := 0, 0
		for _, o := range outputs {
			if string(o.Key) == d.URL {
				events++
			}
		}
		for _, l := range letters {
			h := headers(l)
			if h[sink.HeaderSourcePartition] == strconv.Itoa(int(r.Partition)) && h[sink.HeaderSourceOffset] == strconv.FormatInt(r.Offset, 10) {
				deads++
			}
		}
		t.Logf("  %d contact events for %s, %d dead letters for the record; simulator jobs: %v", events, d.URL, deads, sim.JobsWith(d.URL))
	}
}

// crashFigures are the counts the fate check reports.
type crashFigures struct {
	inputs, answered, skipped, deadLettered int
	profiles                                int // distinct canonical URLs to enrich
	events, eventProfiles                   int
	multiAnswered                           int // records answered by more than one contact event
	deadLetters, multiDeadLettered          int
}

// checkCrashFates checks every input record's fate as at-least-once
// delivery allows it (duplicate contact events and dead letters are
// counted, not failed) and checks that the API was paid once per profile.
func checkCrashFates(t *testing.T, e *env) {
	t.Helper()
	inputs := readAll(t, e.brokers, e.in)
	events, answeredBy := readContactEvents(t, e)
	deadBy := readDeadLetters(t, e)

	f := crashFigures{inputs: len(inputs), events: len(events)}
	dec := codec.NewDecoder(codec.DecoderConfig{})
	wantURLs := make(map[string]bool)
	for _, r := range inputs {
		c := coords{r.Partition, r.Offset}
		value := r.Value
		if len(value) == 0 {
			value = nil // kafka-go returns an empty value as nil, so the service reads a tombstone
		}
		f.deadLetters += len(deadBy[c])
		d, err := dec.Decode(value)
		var derr *codec.DecodeError
		switch {
		case errors.As(err, &derr):
			f.deadLettered++
			if len(deadBy[c]) > 1 {
				f.multiDeadLettered++
			}
			checkDeadLetters(t, r, deadBy[c], derr.Reason)
			if len(answeredBy[c]) > 0 {
				t.Errorf("record %d/%d (%s) was dead-lettered and also answered", c.partition, c.offset, derr.Reason)
			}
		case err != nil:
			t.Errorf("record %d/%d: decode returned a non-DecodeError: %v", c.partition, c.offset, err)
		case d.Action == codec.ActionSkip:
			f.skipped++
			if len(answeredBy[c]) > 0 || len(deadBy[c]) > 0 {
				t.Errorf("record %d/%d skipped (%s) but has output", c.partition, c.offset, d.SkipReason)
			}
		default:
			f.answered++
			wantURLs[d.URL] = true
			if len(answeredBy[c]) > 1 {
				f.multiAnswered++
			}
			checkAnswered(t, r, answeredBy[c], deadBy[c], d)
		}
	}
	f.profiles = len(wantURLs)

	eventProfiles := make(map[string]bool, len(events))
	for _, ev := range events {
		eventProfiles[ev.ProfileURL] = true
	}
	f.eventProfiles = len(eventProfiles)
	checkCrashContactData(t, events, e.fields)

	t.Logf("inputs %d: %d answered, %d skipped, %d dead-lettered; %d distinct profiles to enrich",
		f.inputs, f.answered, f.skipped, f.deadLettered, f.profiles)
	t.Logf("contact events %d for %d profiles: %d duplicate events; %d records answered by more than one event",
		f.events, f.eventProfiles, f.events-f.eventProfiles, f.multiAnswered)
	t.Logf("dead letters %d for %d records; %d records dead-lettered more than once",
		f.deadLetters, f.deadLettered, f.multiDeadLettered)
	checkPaidOnce(t, e.sim.Stats(), wantURLs)
}

// checkCrashContactData checks every contact event against the
// simulator's data for its profile, like checkContactData, but reports
// each kind of mismatch once with its count and a few examples, because a
// crash-path bug tends to spoil hundreds of events alike.
func checkCrashContactData(t *testing.T, events []codec.ContactEvent, fields []string) {
	t.Helper()
	const examples = 5
	type mismatch struct {
		count    int
		examples []string
	}
	mismatches := make(map[string]*mismatch)
	var order []string
	note := func(problem, profile, detail string) {
		m := mismatches[problem]
		if m == nil {
			m = &mismatch{}
			mismatches[problem] = m
			order = append(order, problem)
		}
		m.count++
		if len(m.examples) < examples {
			m.examples = append(m.examples, profile+": "+detail)
		}
	}
	for _, ev := range events {
		p := batchapitest.Contact(ev.ProfileURL)
		if ev.Schema != codec.ContactSchema {
			note("a schema other than "+codec.ContactSchema, ev.ProfileURL, fmt.Sprintf("%q, want %q", ev.Schema, codec.ContactSchema))
		}
		if ev.BatchID == "" || ev.EnrichedAt.IsZero() {
			note("no batch_id or no enriched_at", ev.ProfileURL, fmt.Sprintf("batch_id %q, enriched_at %v", ev.BatchID, ev.EnrichedAt))
		}
		if want := batchapitest.FoundFor(p, fields); ev.Found != want {
			note("a found flag that differs from the simulator's data", ev.ProfileURL, fmt.Sprintf("found %t, want %t (batch %s)", ev.Found, want, ev.BatchID))
		}
		if ev.InternalID != p.InternalID {
			note("an internal_id that differs from the simulator's", ev.ProfileURL, fmt.Sprintf("%q, want %q (batch %s)", ev.InternalID, p.InternalID, ev.BatchID))
		}
		if !sameEmails(ev.BusinessEmails, p.BusinessEmails) || !sameEmails(ev.PersonalEmails, p.PersonalEmails) ||
			!slices.Equal(ev.PhoneNumbers, p.PhoneNumbers) {
			note("emails or phone numbers that differ from the simulator's", ev.ProfileURL, fmt.Sprintf("business %v, personal %v, phones %v; want %v, %v, %v",
				ev.BusinessEmails, ev.PersonalEmails, ev.PhoneNumbers, p.BusinessEmails, p.PersonalEmails, p.PhoneNumbers))
		}
	}
	for _, problem := range order {
		m := mismatches[problem]
		t.Errorf("%d of %d contact events have %s, for example:\n%s",
			m.count, len(events), problem, strings.Join(m.examples, "\n"))
	}
}

// checkDeadLetters is checkDeadLetter for at-least-once delivery: a crash
// between writing a dead letter and committing its offset writes it
// again, so every copy must be right but there may be several.
func checkDeadLetters(t *testing.T, in *kgo.Record, letters []*kgo.Record, reason string) {
	t.Helper()
	if len(letters) == 0 {
		t.Errorf("record %d/%d: no dead letter, want one with reason %s", in.Partition, in.Offset, reason)
		return
	}
	for _, l := range letters {
		checkDeadLetter(t, in, []*kgo.Record{l}, reason)
	}
}

// checkPaidOnce checks the simulator's counters: each profile submitted
// exactly once, nothing else submitted, and never more jobs active than
// the account allows.
func checkPaidOnce(t *testing.T, s batchapitest.Stats, wantURLs map[string]bool) {
	t.Helper()
	t.Logf("API: %d jobs, %d URLs submitted for %d profiles, peak %d active jobs, %d 429 responses, %d URLs submitted while an active job held them, %d status calls, %d downloads",
		s.Jobs, s.URLsSubmitted, len(wantURLs), s.PeakActiveJobs, s.Responses429, s.DuplicateActiveSubmissions, s.StatusCalls, s.Downloads)

	var repaid, unwanted []string
	extra := 0
	for _, url := range slices.Sorted(maps.Keys(s.SubmissionsPerURL)) {
		n := s.SubmissionsPerURL[url]
		if n > 1 {
			repaid = append(repaid, fmt.Sprintf("%s: %d", url, n))
			extra += n - 1
		}
		if !wantURLs[url] {
			unwanted = append(unwanted, url)
		}
	}
	if len(repaid) > 0 {
		t.Errorf("%d URLs were submitted more than once (%d paid submissions too many):\n%s",
			len(repaid), extra, strings.Join(repaid, "\n"))
	}
	if len(unwanted) > 0 {
		t.Errorf("%d submitted URLs are not the canonical URL of any input record:\n%s", len(unwanted), strings.Join(unwanted, "\n"))
	}
	if s.URLsSubmitted != len(wantURLs) {
		t.Errorf("URLs submitted %d, want %d (one per distinct profile)", s.URLsSubmitted, len(wantURLs))
	}
	if s.PeakActiveJobs > pipeline.MaxJobsInFlight {
		t.Errorf("peak active jobs %d, over the account's limit of %d", s.PeakActiveJobs, pipeline.MaxJobsInFlight)
	}
}
