package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contact-enricher/contact-enricher/codec"
	"github.com/contact-enricher/contact-enricher/pipeline"
	"github.com/contact-enricher/contact-enricher/pipeline/batchapi"
	"github.com/contact-enricher/contact-enricher/pipeline/batchapi/batchapitest"
	"github.com/contact-enricher/contact-enricher/sink"
)

const simKey = "integration-key"

func TestFixturesEndToEnd(t *testing.T) {
	cases := []struct {
		name string
		load func(t *testing.T) []codec.Record
	}{
		{"debezium change stream", func(t *testing.T) []codec.Record {
			return loadFixture(t, "../testdata/crm-contacts-cdc.jsonl", codec.ReadRecordsJSONL)
		}},
		{"csv export", func(t *testing.T) []codec.Record {
			return loadFixture(t, "../testdata/contacts-export.csv", func(f io.Reader) ([]codec.Record, error) {
				return codec.ReadCSV(f, "LinkedIn URL")
			})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := startEnv(t)
			env.produce(t, tc.load(t))
			env.run(t)
			checkFates(t, env)
		})
	}
}

func loadFixture(t *testing.T, path string, read func(io.Reader) ([]codec.Record, error)) []codec.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	records, err := read(f)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return records
}

// env is one run of the service: fresh topics, a simulator, a pipeline.
type env struct {
	brokers       []string
	in, out, dead string
	group         string
	sim           *batchapitest.Server
	apiURL        string
	fields        []string
}

func startEnv(t *testing.T) *env {
	t.Helper()
	e := &env{
		brokers: testBroker(t),
		in:      uniqueName("crm-contacts"),
		out:     uniqueName("contacts-enriched"),
		dead:    uniqueName("contacts-dead-letter"),
		group:   uniqueName("contact-enricher"),
		fields:  []string{batchapi.FieldBusinessEmail, batchapi.FieldPersonal},
	}
	adm := admin(t, e.brokers)
	createTopic(t, adm, e.in, 3)
	createTopic(t, adm, e.out, 3)
	createTopic(t, adm, e.dead, 1)
	e.sim = batchapitest.New(batchapitest.Config{APIKey: simKey, JobDuration: 200 * time.Millisecond})
	t.Cleanup(e.sim.Close)
	srv := httptest.NewServer(e.sim)
	t.Cleanup(srv.Close)
	e.apiURL = srv.URL
	return e
}

func (e *env) produce(t *testing.T, records []codec.Record) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.DefaultProduceTopic(e.in))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	produceWave(t, cl, records)
}

// run starts the pipeline, waits until every input offset is committed and
// stops it.
func (e *env) run(t *testing.T) {
	t.Helper()
	adm := admin(t, e.brokers)
	e.runWith(t, uniqueName("contact-enricher-jobs"), "integration", func() bool {
		return committedLag(t, adm, e.group, e.in) == 0
	})
}

// runWith runs a pipeline with the given job-state topic and replica id
// until done returns true, then stops it.
func (e *env) runWith(t *testing.T, stateTopic, replicaID string, done func() bool) {
	t.Helper()
	api, err := batchapi.New(batchapi.Config{BaseURL: e.apiURL, APIKey: simKey})
	if err != nil {
		t.Fatal(err)
	}
	contacts, err := sink.NewContactWriter(sink.WriterConfig{Brokers: e.brokers, Topic: e.out})
	if err != nil {
		t.Fatal(err)
	}
	defer contacts.Close()
	dead, err := sink.NewDeadLetterWriter(sink.WriterConfig{Brokers: e.brokers, Topic: e.dead})
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	p, err := pipeline.New(pipeline.Config{
		Brokers: e.brokers, InputTopic: e.in, OutputTopic: e.out, DeadLetterTopic: e.dead,
		GroupID: e.group, Fields: e.fields,
		BatchSize: 40, Linger: 100 * time.Millisecond, PollInterval: 30 * time.Millisecond,
		RetryBackoff: 20 * time.Millisecond, CommitInterval: 50 * time.Millisecond,
		SessionTimeout: 10 * time.Second, HeartbeatInterval: time.Second,
		StateTopic: stateTopic, StateReplicationFactor: 1, ReplicaID: replicaID,
		ShutdownGrace: 100 * time.Millisecond,
	}, pipeline.Deps{API: api, Contacts: contacts, DeadLetters: dead, Admin: admin(t, e.brokers)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	result := make(chan error, 1)
	go func() { result <- p.Run(ctx) }()

	waitFor(t, 90*time.Second, "the run's end condition", func() bool {
		select {
		case err := <-result:
			t.Fatalf("pipeline stopped early: %v", err)
		default:
		}
		return done()
	})
	cancel()
	if err := <-result; err != nil {
		t.Fatalf("pipeline run: %v", err)
	}
}

type coords struct {
	partition int32
	offset    int64
}

// checkFates checks that every input record was answered, skipped or
// dead-lettered as its decoding says, and that every contact event carries
// the simulator's data for its URL.
func checkFates(t *testing.T, e *env) {
	t.Helper()
	inputs := readAll(t, e.brokers, e.in)
	events, answeredBy := readContactEvents(t, e)
	deadBy := readDeadLetters(t, e)

	dec := codec.NewDecoder(codec.DecoderConfig{})
	wantURLs := make(map[string]bool)
	counts := map[string]int{}
	for _, r := range inputs {
		c := coords{r.Partition, r.Offset}
		value := r.Value
		if len(value) == 0 {
			// kafka-go returns an empty value as nil, so the service sees a
			// tombstone; the CSV export has rows with an empty URL cell.
			value = nil
		}
		d, err := dec.Decode(value)
		var derr *codec.DecodeError
		switch {
		case errors.As(err, &derr):
			counts["dead_lettered"]++
			checkDeadLetter(t, r, deadBy[c], derr.Reason)
			if len(answeredBy[c]) > 0 {
				t.Errorf("record %d/%d (%s) was dead-lettered and also answered", c.partition, c.offset, derr.Reason)
			}
		case err != nil:
			t.Fatalf("record %d/%d: decode returned a non-DecodeError: %v", c.partition, c.offset, err)
		case d.Action == codec.ActionSkip:
			counts["skipped"]++
			if len(answeredBy[c]) > 0 || len(deadBy[c]) > 0 {
				t.Errorf("record %d/%d skipped (%s) but has output", c.partition, c.offset, d.SkipReason)
			}
		default:
			counts["answered"]++
			wantURLs[d.URL] = true
			checkAnswered(t, r, answeredBy[c], deadBy[c], d)
		}
	}
	t.Logf("inputs %d: %v; contact events %d; unique profiles %d", len(inputs), counts, len(events), len(wantURLs))
	for _, ev := range events {
		checkContactData(t, ev, e.fields)
	}
	checkSpend(t, e.sim.Stats(), len(wantURLs), len(events))
}

func readContactEvents(t *testing.T, e *env) ([]codec.ContactEvent, map[coords][]codec.ContactEvent) {
	t.Helper()
	var events []codec.ContactEvent
	by := make(map[coords][]codec.ContactEvent)
	for _, r := range readAll(t, e.brokers, e.out) {
		var ev codec.ContactEvent
		if err := json.Unmarshal(r.Value, &ev); err != nil {
			t.Fatalf("contact event at %d/%d is not JSON: %v", r.Partition, r.Offset, err)
		}
		if string(r.Key) != ev.ProfileURL {
			t.Errorf("contact event key %q differs from profile_url %q", r.Key, ev.ProfileURL)
		}
		events = append(events, ev)
		for _, s := range ev.Sources {
			if s.Topic != e.in {
				t.Errorf("contact event source topic %q, want %q", s.Topic, e.in)
			}
			c := coords{int32(s.Partition), s.Offset}
			by[c] = append(by[c], ev)
		}
	}
	return events, by
}

func readDeadLetters(t *testing.T, e *env) map[coords][]*kgo.Record {
	t.Helper()
	by := make(map[coords][]*kgo.Record)
	for _, r := range readAll(t, e.brokers, e.dead) {
		h := headers(r)
		if h[sink.HeaderSourceTopic] != e.in {
			t.Errorf("dead letter source topic %q, want %q", h[sink.HeaderSourceTopic], e.in)
		}
		p, err1 := strconv.Atoi(h[sink.HeaderSourcePartition])
		o, err2 := strconv.ParseInt(h[sink.HeaderSourceOffset], 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("dead letter without source coordinates: %v", h)
		}
		c := coords{int32(p), o}
		by[c] = append(by[c], r)
	}
	return by
}

func headers(r *kgo.Record) map[string]string {
	h := make(map[string]string, len(r.Headers))
	for _, x := range r.Headers {
		h[x.Key] = string(x.Value)
	}
	return h
}

func checkDeadLetter(t *testing.T, in *kgo.Record, letters []*kgo.Record, reason string) {
	t.Helper()
	if len(letters) != 1 {
		t.Errorf("record %d/%d: %d dead letters, want 1 (reason %s)", in.Partition, in.Offset, len(letters), reason)
		return
	}
	l := letters[0]
	h := headers(l)
	if h[sink.HeaderReason] != reason {
		t.Errorf("record %d/%d: dead-letter reason %q, want %q", in.Partition, in.Offset, h[sink.HeaderReason], reason)
	}
	if h[sink.HeaderDetail] == "" {
		t.Errorf("record %d/%d: dead letter has no detail", in.Partition, in.Offset)
	}
	if !bytes.Equal(l.Key, in.Key) || !bytes.Equal(l.Value, in.Value) {
		t.Errorf("record %d/%d: dead letter does not carry the original key and value", in.Partition, in.Offset)
	}
}

func checkAnswered(t *testing.T, in *kgo.Record, events []codec.ContactEvent, letters []*kgo.Record, d codec.Decoded) {
	t.Helper()
	if len(letters) > 0 {
		t.Errorf("record %d/%d (%s) was answered and also dead-lettered", in.Partition, in.Offset, d.URL)
	}
	if len(events) == 0 {
		t.Errorf("record %d/%d (%s) has no contact event", in.Partition, in.Offset, d.URL)
		return
	}
	for _, ev := range events {
		if ev.ProfileURL != d.URL {
			t.Errorf("record %d/%d answered by the event of %s, want %s", in.Partition, in.Offset, ev.ProfileURL, d.URL)
		}
		i := slices.IndexFunc(ev.Sources, func(s codec.Source) bool {
			return int32(s.Partition) == in.Partition && s.Offset == in.Offset
		})
		if ev.Sources[i].URL != d.RawURL {
			t.Errorf("record %d/%d: source URL %q, want the CRM's spelling %q", in.Partition, in.Offset, ev.Sources[i].URL, d.RawURL)
		}
		if in.Key != nil && (ev.Sources[i].Key == nil || *ev.Sources[i].Key != string(in.Key)) {
			t.Errorf("record %d/%d: source key %v, want %q", in.Partition, in.Offset, ev.Sources[i].Key, in.Key)
		}
	}
}

func checkContactData(t *testing.T, ev codec.ContactEvent, fields []string) {
	t.Helper()
	p := batchapitest.Contact(ev.ProfileURL)
	if ev.Schema != codec.ContactSchema {
		t.Errorf("%s: schema %q, want %q", ev.ProfileURL, ev.Schema, codec.ContactSchema)
	}
	if ev.BatchID == "" || ev.EnrichedAt.IsZero() {
		t.Errorf("%s: batch_id %q or enriched_at %v missing", ev.ProfileURL, ev.BatchID, ev.EnrichedAt)
	}
	if ev.Found != batchapitest.FoundFor(p, fields) {
		t.Errorf("%s: found %t, want %t", ev.ProfileURL, ev.Found, !ev.Found)
	}
	if ev.InternalID != p.InternalID {
		t.Errorf("%s: internal_id %q, want %q", ev.ProfileURL, ev.InternalID, p.InternalID)
	}
	if !sameEmails(ev.BusinessEmails, p.BusinessEmails) {
		t.Errorf("%s: business emails %v, want %v", ev.ProfileURL, ev.BusinessEmails, p.BusinessEmails)
	}
	if !sameEmails(ev.PersonalEmails, p.PersonalEmails) {
		t.Errorf("%s: personal emails %v, want %v", ev.ProfileURL, ev.PersonalEmails, p.PersonalEmails)
	}
	if !slices.Equal(ev.PhoneNumbers, p.PhoneNumbers) {
		t.Errorf("%s: phone numbers %v, want %v", ev.ProfileURL, ev.PhoneNumbers, p.PhoneNumbers)
	}
}

func sameEmails(got []codec.Email, want []batchapitest.Email) bool {
	return slices.EqualFunc(got, want, func(g codec.Email, w batchapitest.Email) bool {
		return g.Email == w.Email && g.Status == w.Status
	})
}

// checkSpend checks that each profile was submitted once, within the
// account's limits, and answered by one contact event.
func checkSpend(t *testing.T, s batchapitest.Stats, uniqueProfiles, contactEvents int) {
	t.Helper()
	if s.URLsSubmitted != uniqueProfiles {
		t.Errorf("URLs submitted %d, want %d (one per unique profile)", s.URLsSubmitted, uniqueProfiles)
	}
	for url, n := range s.SubmissionsPerURL {
		if n != 1 {
			t.Errorf("%s submitted %d times", url, n)
		}
	}
	if contactEvents != uniqueProfiles {
		t.Errorf("contact events %d, want %d (one per unique profile)", contactEvents, uniqueProfiles)
	}
	if s.PeakActiveJobs > pipeline.MaxJobsInFlight {
		t.Errorf("peak active jobs %d, over the limit of %d", s.PeakActiveJobs, pipeline.MaxJobsInFlight)
	}
	if s.Responses429 != 0 {
		t.Errorf("the API sent %d 429 responses, want 0", s.Responses429)
	}
	if s.DuplicateActiveSubmissions != 0 {
		t.Errorf("%d URLs submitted while another active job held them", s.DuplicateActiveSubmissions)
	}
}
