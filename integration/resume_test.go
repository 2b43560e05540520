package integration

import (
	"encoding/json"
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/contact-enricher/contact-enricher/codec"
	"github.com/contact-enricher/contact-enricher/pipeline/batchapi/batchapitest"
)

// A replica stopped while its jobs run resumes them after a restart with the
// same replica id. The records it reads again join the resumed jobs, so each
// profile gets one contact event, not a second one answered from the first.
func TestRestartResumesJobsWithoutDuplicates(t *testing.T) {
	e := startEnv(t)
	// Jobs outlast the first run, so it stops with every job in flight.
	e.sim.Close()
	e.sim = batchapitest.New(batchapitest.Config{APIKey: simKey, JobDuration: 3 * time.Second})
	t.Cleanup(e.sim.Close)
	srv := httptest.NewServer(e.sim)
	t.Cleanup(srv.Close)
	e.apiURL = srv.URL
	e.produce(t, loadFixture(t, "../testdata/contacts-export.csv", func(r io.Reader) ([]codec.Record, error) {
		return codec.ReadCSV(r, "LinkedIn URL")
	}))

	state := uniqueName("contact-enricher-jobs")
	e.runWith(t, state, "r1", func() bool {
		s := e.sim.Stats()
		return s.Jobs > 0 && s.StatusCalls > 0 // submitted and recorded
	})
	jobsBefore := e.sim.Stats().Jobs
	adm := admin(t, e.brokers)
	e.runWith(t, state, "r1", func() bool { return committedLag(t, adm, e.group, e.in) == 0 })

	if s := e.sim.Stats(); s.URLsSubmitted != len(s.SubmissionsPerURL) {
		t.Errorf("%d URLs submitted for %d profiles: the restart paid again", s.URLsSubmitted, len(s.SubmissionsPerURL))
	}
	t.Logf("jobs submitted before the restart %d, in all %d", jobsBefore, e.sim.Stats().Jobs)
	perProfile := make(map[string]int)
	for _, r := range readAll(t, e.brokers, e.out) {
		var ev codec.ContactEvent
		if err := json.Unmarshal(r.Value, &ev); err != nil {
			t.Fatal(err)
		}
		perProfile[ev.ProfileURL]++
	}
	for url, n := range perProfile {
		if n != 1 {
			t.Errorf("%s has %d contact events, want 1", url, n)
		}
	}
	// Dead letters written in the first run before its offsets were
	// committed are written again (at least once); contact events of jobs
	// still running at the stop are written once, by the resumed jobs.
	if len(perProfile) != len(e.sim.Stats().SubmissionsPerURL) {
		t.Errorf("%d profiles have contact events, want %d", len(perProfile), len(e.sim.Stats().SubmissionsPerURL))
	}
}
