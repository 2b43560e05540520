package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// testBroker returns the bootstrap addresses of the broker the tests use,
// chosen in this order: the cluster named by KAFKA_BROKERS; a Kafka
// container shared by the tests of this binary, when a Docker daemon
// responds (containers_test.go); an embedded kfake cluster closed at the
// end of the test. The test log names the choice in a line starting
// "broker:".
func testBroker(t testing.TB) []string {
	t.Helper()
	if env := os.Getenv("KAFKA_BROKERS"); env != "" {
		t.Logf("broker: KAFKA_BROKERS=%s", env)
		return strings.Split(env, ",")
	}
	brokers, unused := containerBroker()
	if brokers != nil {
		t.Logf("broker: %s container at %s", kafkaImage, strings.Join(brokers, ","))
		return brokers
	}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatalf("starting kfake: %v", err)
	}
	t.Cleanup(cluster.Close)
	t.Logf("broker: embedded kfake at %s (KAFKA_BROKERS unset; no container: %s)", strings.Join(cluster.ListenAddrs(), ","), unused)
	return cluster.ListenAddrs()
}

// admin returns an admin client of brokers, closed at the end of the test.
func admin(t testing.TB, brokers []string) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatalf("creating admin client: %v", err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// uniqueName returns prefix with a random suffix, so that tests sharing a
// real cluster do not see each other's topics and groups.
func uniqueName(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

// createTopic creates topic with partitions partitions and fails the test
// on any per-topic error.
func createTopic(t testing.TB, adm *kadm.Client, topic string, partitions int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := adm.CreateTopics(ctx, partitions, 1, nil, topic)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("creating topic %s: %v", topic, err)
	}
}

// readAll returns every record of topic, reading until the end offsets
// that hold when it is called.
func readAll(t testing.TB, brokers []string, topic string) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	adm := admin(t, brokers)
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("listing end offsets of %s: %v", topic, err)
	}
	var want int64
	ends.Each(func(o kadm.ListedOffset) { want += o.Offset })

	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatalf("creating consumer: %v", err)
	}
	defer cl.Close()
	var out []*kgo.Record
	for int64(len(out)) < want {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("reading %s: got %d of %d records: %v", topic, len(out), want, err)
		}
		fetches.EachError(func(_ string, _ int32, err error) { t.Fatalf("reading %s: %v", topic, err) })
		out = append(out, fetches.Records()...)
	}
	return out
}

// waitFor polls cond every 50ms until it returns true or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	ticker := time.NewTicker(50 * time.Millisecond)
	defer ticker.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		<-ticker.C
	}
}

// committedLag returns the records of topic past group's committed
// offsets, or -1 while the group or its offsets cannot be read yet.
func committedLag(t testing.TB, adm *kadm.Client, group, topic string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Logf("listing end offsets: %v", err)
		return -1
	}
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return -1 // the group does not exist before its first join
	}
	var lag int64
	ends.Each(func(end kadm.ListedOffset) {
		from := int64(0)
		if c, ok := committed.Lookup(topic, end.Partition); ok && c.At >= 0 {
			from = c.At
		}
		lag += end.Offset - from
	})
	return lag
}
