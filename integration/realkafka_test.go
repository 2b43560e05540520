package integration

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contact-enricher/contact-enricher/codec"
	"github.com/contact-enricher/contact-enricher/kafkaconn"
	"github.com/contact-enricher/contact-enricher/pipeline"
	"github.com/contact-enricher/contact-enricher/pipeline/batchapi"
	"github.com/contact-enricher/contact-enricher/pipeline/batchapi/batchapitest"
	"github.com/contact-enricher/contact-enricher/sink"
)

// The tests in this file check what kfake does not model: log compaction, a
// broker that goes away and comes back, the group coordinator's rebalances
// and the cluster rejecting a topic. They run only against the cluster named
// by KAFKA_BROKERS, such as the broker of .ci/kafka/broker.sh.

// TestStateTopicCompaction runs the pipeline on a job-state topic that the
// broker compacts within seconds, and waits until compaction has removed
// records. Then a replica with another id runs on the same topics, with
// input that repeats profiles of the first run. It recovers from the
// compacted topic and the output topic, so no profile is paid for twice.
func TestStateTopicCompaction(t *testing.T) {
	skipUnlessRealBroker(t, "only a real broker compacts a topic")
	e := startEnv(t)
	stateTopic := uniqueName("contact-enricher-jobs")
	createCompactingStateTopic(t, e, stateTopic)

	e.produce(t, codec.SyntheticRecords(150, 11))
	first := startReplica(t, e, replicaConfig(e, "compaction-1", stateTopic), plaintext(t, e))
	waitCommitted(t, e, 90*time.Second, first)
	first.stop(t)
	checkFates(t, e)

	// Nothing else writes the topic and the writer uses no transactions, so
	// each offset below the end held one record: the end offset is the
	// number of records written.
	written := endOffset(t, e.brokers, stateTopic)
	remaining := countRecords(t, e.brokers, stateTopic, written)
	t.Logf("job-state topic %s: %d records written by the first run, %d readable right after it", stateTopic, written, remaining)
	waitFor(t, 60*time.Second, "compaction to remove records from the job-state topic", func() bool {
		remaining = countRecords(t, e.brokers, stateTopic, written)
		return remaining < written
	})
	t.Logf("job-state topic %s after compaction: %d of %d records left", stateTopic, remaining, written)

	repeats := repeatProfiles(t, e)
	e.produce(t, append(repeats, codec.SyntheticRecords(60, 12)...))
	second := startReplica(t, e, replicaConfig(e, "compaction-2", stateTopic), plaintext(t, e))
	waitCommitted(t, e, 90*time.Second, second)
	second.stop(t)
	t.Logf("second run: %d records answered from earlier results, %d jobs adopted",
		int(second.counter("contact_enricher_pipeline_records_answered_from_results_total")),
		int(second.counter("contact_enricher_pipeline_jobs_adopted_total")))
	checkEveryFate(t, e, fateRules{})
}

// TestBrokerRestart restarts the broker while the jobs of a slow API are
// in flight and checks that the pipeline finishes the input by itself,
// without losing a record or paying for a profile twice.
func TestBrokerRestart(t *testing.T) {
	skipUnlessRealBroker(t, "the test restarts the broker process", "KAFKA_BROKER_SCRIPT", "KAFKA_STATE_DIR")
	e := startEnv(t)
	useSimulator(t, e, time.Second)
	e.produce(t, codec.SyntheticRecords(500, 21))
	cfg := replicaConfig(e, "restart", uniqueName("contact-enricher-jobs"))
	cfg.BatchSize = 20
	r := startReplica(t, e, cfg, plaintext(t, e))
	waitFor(t, 60*time.Second, "the first job submitted", func() bool {
		r.failIfExited(t)
		return e.sim.Stats().Jobs > 0
	})

	before := e.sim.Stats().Jobs
	restartBroker(t)
	t.Logf("jobs submitted: %d when the restart began, %d when the broker was back", before, e.sim.Stats().Jobs)
	waitCommitted(t, e, 3*time.Minute, r)
	r.stop(t)
	checkEveryFate(t, e, fateRules{redelivery: true})
}

// TestRebalance runs two replicas in one consumer group through the real
// group coordinator. The second joins while the first works, and the first
// is stopped while its jobs still run. The second then takes over its
// partitions and, once the lease expires, its jobs.
func TestRebalance(t *testing.T) {
	skipUnlessRealBroker(t, "the test needs Kafka's group coordinator")
	e := startEnv(t)
	useSimulator(t, e, time.Second)
	e.produce(t, codec.SyntheticRecords(900, 31))
	stateTopic := uniqueName("contact-enricher-jobs")
	config := func(id string) pipeline.Config {
		cfg := replicaConfig(e, id, stateTopic)
		cfg.BatchSize = 10
		cfg.SessionTimeout, cfg.HeartbeatInterval, cfg.RebalanceTimeout = 6*time.Second, 500*time.Millisecond, 10*time.Second
		// Jobs last a second, so a short grace leaves some running when r1
		// stops, for r2 to adopt.
		cfg.ShutdownGrace = 500 * time.Millisecond
		return cfg
	}
	adm := admin(t, e.brokers)

	r1 := startReplica(t, e, config("r1"), plaintext(t, e))
	waitFor(t, 60*time.Second, "r1 to submit three jobs", func() bool {
		r1.failIfExited(t)
		return e.sim.Stats().Jobs >= 3
	})
	r2 := startReplica(t, e, config("r2"), plaintext(t, e))
	waitFor(t, 60*time.Second, "the group to assign partitions to both replicas", func() bool {
		r1.failIfExited(t)
		r2.failIfExited(t)
		return membersWithPartitions(t, adm, e.group, e.in) == 2
	})
	jobs := e.sim.Stats().Jobs
	t.Logf("both replicas hold partitions; %d jobs submitted so far", jobs)
	waitFor(t, 60*time.Second, "two more jobs after the rebalance", func() bool {
		r1.failIfExited(t)
		r2.failIfExited(t)
		return e.sim.Stats().Jobs >= jobs+2
	})
	if lag := committedLag(t, adm, e.group, e.in); lag == 0 {
		t.Fatalf("every input record was committed before r1 stopped, so the test did not stop a replica mid-run; give it more input")
	}
	r1.stop(t)
	t.Logf("r1 stopped with %d jobs submitted", e.sim.Stats().Jobs)

	waitCommitted(t, e, 3*time.Minute, r2)
	r2.stop(t)
	t.Logf("r2 adopted %d jobs of r1 and answered %d records from earlier results",
		int(r2.counter("contact_enricher_pipeline_jobs_adopted_total")),
		int(r2.counter("contact_enricher_pipeline_records_answered_from_results_total")))
	checkEveryFate(t, e, fateRules{redelivery: true, sharedAccount: true})
}

// TestStateTopicCreationRejected starts the pipeline with a job-state topic
// that the single broker cannot create (replication factor 3) and checks
// that Run returns at once with an error that names the topic and the
// factor.
func TestStateTopicCreationRejected(t *testing.T) {
	skipUnlessRealBroker(t, "kfake does not reject a replication factor above its broker count")
	e := startEnv(t)
	stateTopic := uniqueName("contact-enricher-jobs")
	cfg := replicaConfig(e, "rejected", stateTopic)
	cfg.StateReplicationFactor = 3
	r := startReplica(t, e, cfg, plaintext(t, e))

	exited, err := r.waitExit(time.Minute)
	if !exited {
		t.Fatalf("Run still runs after %s although the state topic cannot be created", time.Minute)
	}
	t.Logf("Run returned after %s: %v", r.elapsed(), err)
	if err == nil {
		t.Fatal("Run returned nil, want an error about the state topic")
	}
	for _, want := range []string{stateTopic, "replication factor 3"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if got := r.counter("contact_enricher_consumer_records_total"); got != 0 {
		t.Errorf("%v input records consumed, want none before the state topic exists", got)
	}
}

// skipUnlessRealBroker skips the test, giving reason, when KAFKA_BROKERS is
// unset, and also when one of vars is unset.
func skipUnlessRealBroker(t *testing.T, reason string, vars ...string) {
	t.Helper()
	if os.Getenv("KAFKA_BROKERS") == "" {
		t.Skipf("KAFKA_BROKERS is not set, and %s; see .ci/kafka/README.md to start a broker", reason)
	}
	for _, v := range vars {
		if os.Getenv(v) == "" {
			t.Skipf("%s is not set; .ci/kafka/broker.sh writes it to its env file", v)
		}
	}
}

// replicaConfig returns the configuration of a pipeline on e's topics with
// waits short enough for tests.
func replicaConfig(e *env, id, stateTopic string) pipeline.Config {
	return pipeline.Config{
		InputTopic: e.in, OutputTopic: e.out, DeadLetterTopic: e.dead,
		GroupID: e.group, Fields: e.fields,
		StateTopic: stateTopic, StateReplicationFactor: 1, ReplicaID: id, LeaseTimeout: 3 * time.Second,
		BatchSize: 40, Linger: 100 * time.Millisecond, PollInterval: 30 * time.Millisecond,
		RetryBackoff: 20 * time.Millisecond, CommitInterval: 50 * time.Millisecond, ShutdownGrace: 5 * time.Second,
		SessionTimeout: 10 * time.Second, HeartbeatInterval: time.Second, JoinGroupBackoff: 200 * time.Millisecond,
	}
}

// connection is how a replica reaches Kafka.
type connection struct {
	brokers   []string
	dialer    *kafka.Dialer
	transport kafka.RoundTripper
	admin     *kadm.Client
}

// connect returns the clients of a replica built from cfg, as the
// contact-enricher command builds them: a kafka-go Dialer and Transport,
// and a kadm client on franz-go options.
func connect(t *testing.T, cfg kafkaconn.Config) connection {
	t.Helper()
	dialer, err := cfg.Dialer()
	if err != nil {
		t.Fatal(err)
	}
	transport, err := cfg.Transport()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(transport.CloseIdleConnections)
	opts, err := cfg.KgoOptions()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return connection{brokers: cfg.Brokers, dialer: dialer, transport: transport, admin: kadm.NewClient(cl)}
}

// plaintext returns the clients of a replica that connects to e's brokers
// without TLS or SASL.
func plaintext(t *testing.T, e *env) connection {
	t.Helper()
	return connect(t, kafkaconn.Config{Brokers: e.brokers})
}

// replica is one pipeline running in the background.
type replica struct {
	id       string
	started  time.Time
	registry *prometheus.Registry
	cancel   context.CancelFunc
	done     chan struct{} // closed when Run has returned
	err      error         // Run's result, set before done is closed
	ended    time.Time
	stopping bool
}

// startReplica builds a pipeline of cfg on conn with its own sinks and
// API client, and runs it until stop or the end of the test.
func startReplica(t *testing.T, e *env, cfg pipeline.Config, conn connection) *replica {
	t.Helper()
	cfg.Brokers, cfg.Dialer, cfg.Transport = conn.brokers, conn.dialer, conn.transport
	api, err := batchapi.New(batchapi.Config{BaseURL: e.apiURL, APIKey: simKey})
	if err != nil {
		t.Fatal(err)
	}
	contacts, err := sink.NewContactWriter(sink.WriterConfig{Brokers: conn.brokers, Topic: e.out, Transport: conn.transport})
	if err != nil {
		t.Fatal(err)
	}
	dead, err := sink.NewDeadLetterWriter(sink.WriterConfig{Brokers: conn.brokers, Topic: e.dead, Transport: conn.transport})
	if err != nil {
		t.Fatal(err)
	}

	r := &replica{id: cfg.ReplicaID, registry: prometheus.NewRegistry(), done: make(chan struct{})}
	p, err := pipeline.New(cfg, pipeline.Deps{
		API: api, Contacts: contacts, DeadLetters: dead, Admin: conn.admin,
		Registerer: r.registry, Logger: slog.Default().With("replica", cfg.ReplicaID),
	})
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.started = cancel, time.Now()
	go func() {
		r.err = p.Run(ctx)
		r.ended = time.Now()
		contacts.Close()
		dead.Close()
		close(r.done)
	}()
	t.Cleanup(func() {
		cancel()
		if exited, _ := r.waitExit(time.Minute); !exited {
			t.Errorf("replica %s still runs a minute after the end of the test", r.id)
		}
	})
	return r
}

// waitExit waits up to timeout for Run to return. It reports whether Run
// returned and, if so, its error.
func (r *replica) waitExit(timeout time.Duration) (exited bool, err error) {
	select {
	case <-r.done:
		return true, r.err
	case <-time.After(timeout):
		return false, nil
	}
}

// elapsed returns how long Run ran, or runs so far.
func (r *replica) elapsed() time.Duration {
	select {
	case <-r.done:
		return r.ended.Sub(r.started).Round(time.Millisecond)
	default:
		return time.Since(r.started).Round(time.Millisecond)
	}
}

// failIfExited fails the test if Run returned before the test stopped it.
func (r *replica) failIfExited(t *testing.T) {
	t.Helper()
	if r.stopping {
		return
	}
	select {
	case <-r.done:
		t.Fatalf("replica %s stopped by itself after %s: %v", r.id, r.elapsed(), r.err)
	default:
	}
}

// stop requests a stop, as SIGTERM does, and fails the test unless Run
// returns nil within a minute.
func (r *replica) stop(t *testing.T) {
	t.Helper()
	r.failIfExited(t)
	r.stopping = true
	requested := time.Now()
	r.cancel()
	exited, err := r.waitExit(time.Minute)
	switch {
	case !exited:
		t.Fatalf("replica %s still runs a minute after its stop", r.id)
	case err != nil:
		t.Fatalf("replica %s: Run returned %v", r.id, err)
	}
	t.Logf("replica %s stopped %s after the request", r.id, time.Since(requested).Round(time.Millisecond))
}

// gauge returns the value of the gauge name in the replica's metrics, or
// 0 when it has none.
func (r *replica) gauge(name string) float64 {
	families, err := r.registry.Gather()
	if err != nil {
		return 0
	}
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) > 0 {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return 0
}

// counter returns the sum of the samples of the counter name in the
// replica's metrics, or 0 when it has none.
func (r *replica) counter(name string) float64 {
	families, err := r.registry.Gather()
	if err != nil {
		return 0
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

// stallLimit is how long waitCommitted waits while nothing moves: no
// offset committed and no call to the API.
const stallLimit = time.Minute

// waitCommitted waits until the group has committed every input offset,
// and fails the test if one of running stops by itself first. It gives up
// after timeout, or sooner when the run has stalled for stallLimit, and
// then reports each partition's offsets, the replicas' pending and parked
// records, and the input records that have no outcome.
func waitCommitted(t *testing.T, e *env, timeout time.Duration, running ...*replica) {
	t.Helper()
	adm := admin(t, e.brokers)
	start := time.Now()
	progress := func(lag int64) [4]int64 {
		s := e.sim.Stats()
		return [4]int64{lag, int64(s.Jobs), int64(s.StatusCalls), int64(s.Downloads)}
	}
	ticker := time.NewTicker(50 * time.Millisecond)
	defer ticker.Stop()
	last, moved := progress(-1), time.Now()
	for lag := committedLag(t, adm, e.group, e.in); lag != 0; lag = committedLag(t, adm, e.group, e.in) {
		for _, r := range running {
			r.failIfExited(t)
		}
		if p := progress(lag); p != last {
			last, moved = p, time.Now()
		}
		stalled := time.Since(moved) > stallLimit
		if stalled || time.Since(start) > timeout {
			for _, r := range running {
				t.Logf("replica %s: %v records pending, %v parked, %v job tokens in use", r.id,
					r.gauge("contact_enricher_pipeline_records_pending"), r.gauge("contact_enricher_pipeline_records_parked"),
					r.gauge("contact_enricher_pipeline_job_tokens_in_use"))
			}
			failure := fmt.Sprintf("timed out after %s", timeout)
			if stalled {
				failure = fmt.Sprintf("no offset committed and no API call for %s", stallLimit)
			}
			t.Errorf("%s waiting for every input offset committed: %s", failure, offsetReport(t, adm, e.group, e.in))
			reportUnfinished(t, e)
			t.FailNow()
		}
		<-ticker.C
	}
	t.Logf("every input offset committed after %s", time.Since(start).Round(time.Millisecond))
}

// offsetReport describes the committed and end offset of each partition
// of topic, as "partition: committed/end".
func offsetReport(t *testing.T, adm *kadm.Client, group, topic string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return "end offsets unknown: " + err.Error()
	}
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return "committed offsets unknown: " + err.Error()
	}
	var parts []string
	ends.Each(func(end kadm.ListedOffset) {
		at := int64(-1)
		if c, ok := committed.Lookup(topic, end.Partition); ok {
			at = c.At
		}
		parts = append(parts, fmt.Sprintf("partition %d: %d/%d", end.Partition, at, end.Offset))
	})
	slices.Sort(parts)
	return "committed/end offsets " + strings.Join(parts, ", ")
}

// reportUnfinished logs the input records that have no outcome yet: no
// contact event or dead letter although they need one.
func reportUnfinished(t *testing.T, e *env) {
	t.Helper()
	_, answeredBy := readContactEvents(t, e)
	deadBy := readDeadLetters(t, e)
	dec := codec.NewDecoder(codec.DecoderConfig{})
	var unfinished []string
	profiles := make(map[string]bool)
	for _, r := range readAll(t, e.brokers, e.in) {
		c := coords{r.Partition, r.Offset}
		if len(answeredBy[c]) > 0 || len(deadBy[c]) > 0 {
			continue
		}
		if len(r.Value) == 0 {
			continue // a tombstone: skipped
		}
		d, err := dec.Decode(r.Value)
		switch {
		case err != nil:
			unfinished = append(unfinished, fmt.Sprintf("%d/%d (to dead-letter: %v)", r.Partition, r.Offset, err))
		case d.Action != codec.ActionSkip:
			profiles[d.URL] = true
			unfinished = append(unfinished, fmt.Sprintf("%d/%d %s", r.Partition, r.Offset, d.URL))
		}
	}
	perURL := e.sim.Stats().SubmissionsPerURL
	submitted := 0
	for url := range profiles {
		submitted += perURL[url]
	}
	t.Logf("%d input records have no outcome (%d profiles, submitted %d times in all): %s",
		len(unfinished), len(profiles), submitted, strings.Join(unfinished[:min(len(unfinished), 20)], ", "))
}

// useSimulator replaces e's API simulator with one whose jobs take
// jobDuration.
func useSimulator(t *testing.T, e *env, jobDuration time.Duration) {
	t.Helper()
	e.sim = batchapitest.New(batchapitest.Config{APIKey: simKey, JobDuration: jobDuration})
	t.Cleanup(e.sim.Close)
	srv := httptest.NewServer(e.sim)
	t.Cleanup(srv.Close)
	e.apiURL = srv.URL
}

// createCompactingStateTopic creates a job-state topic that the broker
// compacts within seconds: segments roll after 100ms, a log is cleaned as
// soon as 1% of it is dirty, and tombstones go after 100ms.
func createCompactingStateTopic(t *testing.T, e *env, topic string) {
	t.Helper()
	configs := map[string]*string{}
	for k, v := range map[string]string{
		"cleanup.policy":            "compact",
		"segment.ms":                "100",
		"min.cleanable.dirty.ratio": "0.01",
		"delete.retention.ms":       "100",
	} {
		configs[k] = &v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := admin(t, e.brokers).CreateTopic(ctx, 1, 1, configs, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("creating job-state topic %s: %v (%s)", topic, err, resp.ErrMessage)
	}
}

// endOffset returns the end offset of partition 0 of topic.
func endOffset(t *testing.T, brokers []string, topic string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ends, err := admin(t, brokers).ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("listing end offsets of %s: %v", topic, err)
	}
	o, ok := ends.Lookup(topic, 0)
	if !ok {
		t.Fatalf("topic %s has no partition 0", topic)
	}
	return o.Offset
}

// countRecords reads partition 0 of topic from its start up to end and
// returns how many records it contains. Offsets have gaps where compaction
// removed records. The last record stays, because Kafka does not compact
// the active segment of a log.
func countRecords(t *testing.T, brokers []string, topic string, end int64) int64 {
	t.Helper()
	if end == 0 {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var n, last int64 = 0, -1
	for last < end-1 {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s: reached offset %d of %d: %v", topic, last, end, ctx.Err())
		}
		fetches.EachError(func(_ string, _ int32, err error) { t.Fatalf("reading %s: %v", topic, err) })
		fetches.EachRecord(func(r *kgo.Record) {
			if r.Offset < end {
				n++
			}
			last = max(last, r.Offset)
		})
	}
	return n
}

// repeatProfiles returns one plain-URL record for every second profile
// answered so far on e's input, spelled differently from the canonical URL.
func repeatProfiles(t *testing.T, e *env) []codec.Record {
	t.Helper()
	dec := codec.NewDecoder(codec.DecoderConfig{})
	seen := make(map[string]bool)
	for _, r := range readAll(t, e.brokers, e.in) {
		if d, err := dec.Decode(r.Value); err == nil && d.Action != codec.ActionSkip {
			seen[d.URL] = true
		}
	}
	var out []codec.Record
	for i, url := range slices.Sorted(maps.Keys(seen)) {
		if i%2 == 1 {
			continue
		}
		raw := "http://uk.linkedin.com/in/" + strings.TrimPrefix(url, codec.CanonicalPrefix) + "/?trk=repeat"
		if d, err := dec.Decode([]byte(raw)); err != nil || d.URL != url {
			t.Fatalf("the repeat spelling %q does not canonicalise to %s (%v)", raw, url, err)
		}
		out = append(out, codec.Record{Key: fmt.Appendf(nil, `{"id": %d}`, 900000+i), Value: []byte(raw)})
	}
	t.Logf("%d records repeat profiles of the first run", len(out))
	return out
}

// restartBroker restarts the broker of KAFKA_STATE_DIR on the same ports
// and data with KAFKA_BROKER_SCRIPT, which returns once it serves again.
func restartBroker(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, "bash", os.Getenv("KAFKA_BROKER_SCRIPT"), "restart", os.Getenv("KAFKA_STATE_DIR"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("restarting the broker: %v\n%s\nbroker log: %s", err, out, os.Getenv("KAFKA_BROKER_LOG"))
	}
	t.Logf("broker restarted in %s: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(string(out)))
}

// membersWithPartitions returns how many members of group are assigned at
// least one partition of topic, or -1 while the group is not stable or
// cannot be described.
func membersWithPartitions(t *testing.T, adm *kadm.Client, group, topic string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	groups, err := adm.DescribeGroups(ctx, group)
	if err == nil {
		err = groups.Error()
	}
	if err != nil {
		return -1
	}
	g := groups[group]
	if g.State != "Stable" {
		return -1
	}
	n := 0
	for _, m := range g.Members {
		assigned, ok := m.Assigned.AsConsumer()
		if !ok {
			continue
		}
		for _, tp := range assigned.Topics {
			if tp.Topic == topic && len(tp.Partitions) > 0 {
				n++
				break
			}
		}
	}
	return n
}

// fateRules are the allowances of checkEveryFate.
type fateRules struct {
	// redelivery allows a record to be answered or dead-lettered more than
	// once, as at-least-once delivery does after a broker restart or a
	// rebalance.
	redelivery bool
	// sharedAccount means several replicas used the API account at once.
	// Each has job tokens of its own, so the API may reject a submit with
	// 429, and the pipeline submits the job again later.
	sharedAccount bool
}

// checkEveryFate checks every input record's fate as checkFates does, over
// any number of runs that used e.sim, and that each profile was submitted
// once. Unlike checkFates it does not expect one contact event per profile,
// because a profile repeated in a later run is answered from the earlier
// result with an event of its own.
func checkEveryFate(t *testing.T, e *env, rules fateRules) {
	t.Helper()
	inputs := readAll(t, e.brokers, e.in)
	events, answeredBy := readContactEvents(t, e)
	deadBy := readDeadLetters(t, e)

	dec := codec.NewDecoder(codec.DecoderConfig{})
	wantURLs := make(map[string]bool)
	var answered, skipped, deadLettered, multiAnswered, multiDeadLettered int
	for _, r := range inputs {
		c := coords{r.Partition, r.Offset}
		value := r.Value
		if len(value) == 0 {
			value = nil // kafka-go reads an empty value as a tombstone
		}
		d, err := dec.Decode(value)
		var derr *codec.DecodeError
		switch {
		case errors.As(err, &derr):
			deadLettered++
			letters := deadBy[c]
			if len(letters) > 1 {
				multiDeadLettered++
			}
			if rules.redelivery && len(letters) > 1 {
				for _, l := range letters {
					checkDeadLetter(t, r, []*kgo.Record{l}, derr.Reason)
				}
			} else {
				checkDeadLetter(t, r, letters, derr.Reason)
			}
			if len(answeredBy[c]) > 0 {
				t.Errorf("record %d/%d (%s) was dead-lettered and also answered", c.partition, c.offset, derr.Reason)
			}
		case err != nil:
			t.Fatalf("record %d/%d: decode returned a non-DecodeError: %v", c.partition, c.offset, err)
		case d.Action == codec.ActionSkip:
			skipped++
			if len(answeredBy[c]) > 0 || len(deadBy[c]) > 0 {
				t.Errorf("record %d/%d skipped (%s) but has output", c.partition, c.offset, d.SkipReason)
			}
		default:
			answered++
			wantURLs[d.URL] = true
			if n := len(answeredBy[c]); n > 1 {
				multiAnswered++
				if !rules.redelivery {
					t.Errorf("record %d/%d (%s) answered by %d contact events, want 1", c.partition, c.offset, d.URL, n)
				}
			}
			checkAnswered(t, r, answeredBy[c], deadBy[c], d)
		}
	}
	for _, ev := range events {
		checkContactData(t, ev, e.fields)
	}
	t.Logf("inputs %d: %d answered, %d skipped, %d dead-lettered; %d profiles; %d contact events; answered more than once %d, dead-lettered more than once %d",
		len(inputs), answered, skipped, deadLettered, len(wantURLs), len(events), multiAnswered, multiDeadLettered)

	s := e.sim.Stats()
	t.Logf("API: %d jobs, %d URLs submitted, peak %d active jobs, %d 429 responses", s.Jobs, s.URLsSubmitted, s.PeakActiveJobs, s.Responses429)
	for _, url := range slices.Sorted(maps.Keys(s.SubmissionsPerURL)) {
		if n := s.SubmissionsPerURL[url]; n != 1 {
			t.Errorf("%s submitted %d times", url, n)
		}
		if !wantURLs[url] {
			t.Errorf("%s submitted, but no input record has this profile", url)
		}
	}
	if s.URLsSubmitted != len(wantURLs) {
		t.Errorf("URLs submitted %d, want %d (one per profile)", s.URLsSubmitted, len(wantURLs))
	}
	if s.Responses429 != 0 && !rules.sharedAccount {
		t.Errorf("the API sent %d 429 responses to a single replica, want 0", s.Responses429)
	}
	if s.DuplicateActiveSubmissions != 0 {
		t.Errorf("%d URLs submitted while another active job held them", s.DuplicateActiveSubmissions)
	}
}
