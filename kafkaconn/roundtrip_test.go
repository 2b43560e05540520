package kafkaconn

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// failFastLimit is how soon a wrong password must fail, rather than being
// retried until the caller's deadline.
const failFastLimit = 15 * time.Second

// checkRoundTrip creates a topic with the admin client of c, writes a
// record to it with a kafka-go Writer on c.Transport, and reads it back with
// a kafka-go Reader on c.Dialer in a new consumer group.
func checkRoundTrip(t *testing.T, c Config) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	topic := uniqueName("kafkaconn-" + strings.ToLower(c.SASL.mechanism()))

	adm := newAdmin(t, c)
	created, err := adm.CreateTopic(ctx, 1, 1, nil, topic)
	if err == nil {
		err = created.Err
	}
	if err != nil {
		t.Fatalf("creating topic %s: %v", topic, c.ExplainError(err))
	}
	t.Cleanup(func() { deleteTopic(t, adm, topic) })

	want := kafka.Message{Key: []byte("contact-1"), Value: []byte("round trip over " + c.Describe())}
	writeRecord(ctx, t, c, topic, want)
	group := uniqueName("kafkaconn-group")
	t.Cleanup(func() { deleteGroup(t, adm, group) })
	got := readRecord(ctx, t, c, topic, group)
	if string(got.Key) != string(want.Key) || string(got.Value) != string(want.Value) {
		t.Errorf("read key %q value %q, want key %q value %q", got.Key, got.Value, want.Key, want.Value)
	}
}

func writeRecord(ctx context.Context, t *testing.T, c Config, topic string, msg kafka.Message) {
	t.Helper()
	tr, err := c.Transport()
	if err != nil {
		t.Fatal(err)
	}
	defer tr.CloseIdleConnections()
	w := &kafka.Writer{
		Addr:         kafka.TCP(c.Brokers...),
		Topic:        topic,
		Transport:    tr,
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: 10 * time.Millisecond,
	}
	defer w.Close()
	if err := w.WriteMessages(ctx, msg); err != nil {
		t.Fatalf("writing to %s: %v", topic, c.ExplainError(err))
	}
}

func readRecord(ctx context.Context, t *testing.T, c Config, topic, group string) kafka.Message {
	t.Helper()
	d, err := c.Dialer()
	if err != nil {
		t.Fatal(err)
	}
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:           c.Brokers,
		GroupID:           group,
		Topic:             topic,
		Dialer:            d,
		SessionTimeout:    6 * time.Second,
		HeartbeatInterval: 500 * time.Millisecond,
		MaxWait:           500 * time.Millisecond,
		StartOffset:       kafka.FirstOffset,
	})
	defer r.Close()
	msg, err := r.ReadMessage(ctx)
	if err != nil {
		t.Fatalf("reading from %s in a consumer group: %v", topic, c.ExplainError(err))
	}
	return msg
}

// checkWrongPassword checks that the admin client and a writer built from
// c, whose password is wrong, fail within failFastLimit. With authHint it
// also checks that ExplainError turns the error into an authentication
// hint without the password.
func checkWrongPassword(t *testing.T, c Config, authHint bool) {
	t.Helper()
	check := func(t *testing.T, err error) {
		if authHint {
			checkAuthHint(t, c, err)
		}
	}
	t.Run("admin", func(t *testing.T) {
		err := failsWithin(t, func(ctx context.Context) error {
			_, err := newAdmin(t, c).ListTopics(ctx)
			return err
		})
		check(t, err)
	})
	t.Run("writer", func(t *testing.T) {
		err := failsWithin(t, func(ctx context.Context) error {
			tr, err := c.Transport()
			if err != nil {
				t.Fatal(err)
			}
			defer tr.CloseIdleConnections()
			w := &kafka.Writer{Addr: kafka.TCP(c.Brokers...), Topic: uniqueName("kafkaconn-denied"), Transport: tr}
			defer w.Close()
			return w.WriteMessages(ctx, kafka.Message{Value: []byte("never written")})
		})
		check(t, err)
	})
}

// failsWithin runs op with a deadline of failFastLimit and returns its
// error, failing the test when op succeeds or only the deadline stops it.
func failsWithin(t *testing.T, op func(context.Context) error) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), failFastLimit)
	defer cancel()
	start := time.Now()
	err := op(ctx)
	elapsed := time.Since(start)
	if err == nil {
		t.Fatal("succeeded with a wrong password, want an error")
	}
	if ctx.Err() != nil {
		t.Fatalf("still failing after %s, want a failure sooner: %v", elapsed.Round(time.Millisecond), err)
	}
	t.Logf("failed after %s", elapsed.Round(time.Millisecond))
	return err
}

func checkAuthHint(t *testing.T, c Config, err error) {
	t.Helper()
	explained := c.ExplainError(err)
	t.Log(explained)
	msg := explained.Error()
	want := fmt.Sprintf("kafka authentication failed for user %s with %s: check %s", c.SASL.Username, c.SASL.mechanism(), FlagSASLUsername)
	if !strings.HasPrefix(msg, want) {
		t.Errorf("ExplainError() = %q, want it to start with %q", msg, want)
	}
	if strings.Contains(msg, c.SASL.Password.Reveal()) {
		t.Errorf("ExplainError() = %q, contains the password", msg)
	}
	if !errors.Is(explained, err) {
		t.Error("ExplainError() does not unwrap to the original error")
	}
}

func newAdmin(t *testing.T, c Config) *kadm.Client {
	t.Helper()
	opts, err := c.KgoOptions()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// deleteTopic and deleteGroup tidy up after a test, so that runs against a
// shared broker leave nothing behind. A failure is only logged.
func deleteTopic(t *testing.T, adm *kadm.Client, topic string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := adm.DeleteTopic(ctx, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Logf("deleting topic %s: %v", topic, err)
	}
}

func deleteGroup(t *testing.T, adm *kadm.Client, group string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := adm.DeleteGroup(ctx, group)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Logf("deleting group %s: %v", group, err)
	}
}

// uniqueName returns prefix with a random suffix, so that runs against a
// shared broker do not meet each other's topics and groups.
func uniqueName(prefix string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}
