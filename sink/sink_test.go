package sink

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contact-enricher/contact-enricher/codec"
)

func testCluster(t *testing.T, topics ...string) []string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topics...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

func readOne(t *testing.T, brokers []string, topic string) *kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("no record on %s within 10s", topic)
		}
		if recs := fetches.Records(); len(recs) > 0 {
			return recs[0]
		}
	}
}

func TestContactWriterKeysByProfileURL(t *testing.T) {
	brokers := testCluster(t, "out")
	w, err := NewContactWriter(WriterConfig{Brokers: brokers, Topic: "out"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	url := "https://www.linkedin.com/in/ada-example"
	ev := codec.NewContactEvent(url, nil, []string{"business_email"}, "b1", time.Now(), nil)
	if err := w.WriteContacts(context.Background(), []codec.ContactEvent{ev}); err != nil {
		t.Fatal(err)
	}
	r := readOne(t, brokers, "out")
	if string(r.Key) != url {
		t.Errorf("key %q, want %q", r.Key, url)
	}
	want, _ := ev.Marshal()
	if string(r.Value) != string(want) {
		t.Errorf("value %s, want %s", r.Value, want)
	}
}

func TestDeadLetterWriterKeepsRecordAndAddsHeaders(t *testing.T) {
	brokers := testCluster(t, "dead")
	w, err := NewDeadLetterWriter(WriterConfig{Brokers: brokers, Topic: "dead"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	l := DeadLetter{
		Key: []byte(`{"id": 7}`), Value: []byte("not a url"),
		Reason: "not_a_profile_url", Detail: "the value is not a URL",
		Topic: "crm", Partition: 2, Offset: 41,
	}
	if err := w.WriteDeadLetters(context.Background(), []DeadLetter{l}); err != nil {
		t.Fatal(err)
	}
	r := readOne(t, brokers, "dead")
	if string(r.Key) != string(l.Key) || string(r.Value) != string(l.Value) {
		t.Errorf("record %q=%q, want the original %q=%q", r.Key, r.Value, l.Key, l.Value)
	}
	got := map[string]string{}
	for _, h := range r.Headers {
		got[h.Key] = string(h.Value)
	}
	want := map[string]string{
		HeaderReason: "not_a_profile_url", HeaderDetail: "the value is not a URL",
		HeaderSourceTopic: "crm", HeaderSourcePartition: "2", HeaderSourceOffset: "41",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("header %s = %q, want %q", k, got[k], v)
		}
	}
}

func TestWriterConfigRequiresBrokersAndTopic(t *testing.T) {
	if _, err := NewContactWriter(WriterConfig{Topic: "out"}); err == nil {
		t.Error("writer without brokers created")
	}
	if _, err := NewDeadLetterWriter(WriterConfig{Brokers: []string{"127.0.0.1:9092"}}); err == nil {
		t.Error("writer without topic created")
	}
}
