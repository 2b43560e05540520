package integration

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/contact-enricher/contact-enricher/codec"
	"github.com/contact-enricher/contact-enricher/kafkaconn"
)

// wrongPasswordLimit is how soon a wrong password must be reported.
const wrongPasswordLimit = 15 * time.Second

// TestSecuredPipeline runs the CDC fixture through a pipeline whose every
// client (group reader, state and result readers, writers, admin client)
// reaches the broker only through its SASL_SSL listener, with SCRAM-SHA-512
// over TLS verified against the test CA. The test itself creates the topics
// and reads the outcome through the PLAINTEXT listener of the same broker.
func TestSecuredPipeline(t *testing.T) {
	cfg := securedConfig(t)
	e := startEnv(t)
	e.produce(t, loadFixture(t, "../testdata/crm-contacts-cdc.jsonl", codec.ReadRecordsJSONL))
	t.Logf("pipeline connects with %s to %s", cfg.Describe(), strings.Join(cfg.Brokers, ","))
	r := startReplica(t, e, replicaConfig(e, "secured", uniqueName("contact-enricher-jobs")), connect(t, cfg))
	waitCommitted(t, e, 90*time.Second, r)
	r.stop(t)
	checkFates(t, e)
}

// TestSecuredWrongPassword checks that a wrong SCRAM password is reported
// within wrongPasswordLimit as an authentication failure, by the admin
// client and by the pipeline.
func TestSecuredWrongPassword(t *testing.T) {
	cfg := securedConfig(t)
	cfg.SASL.Password = kafkaconn.Secret("not-" + cfg.SASL.Password.Reveal())

	t.Run("admin", func(t *testing.T) {
		conn := connect(t, cfg)
		ctx, cancel := context.WithTimeout(context.Background(), 2*wrongPasswordLimit)
		defer cancel()
		start := time.Now()
		_, err := conn.admin.ListTopics(ctx)
		took := time.Since(start)
		if err == nil {
			t.Fatal("listing topics with a wrong password succeeded")
		}
		explained := cfg.ExplainError(err)
		t.Logf("listing topics failed after %s: %v", took.Round(time.Millisecond), explained)
		if took > wrongPasswordLimit {
			t.Errorf("the failure took %s, want under %s", took.Round(time.Millisecond), wrongPasswordLimit)
		}
		checkAuthFailure(t, explained, cfg)
	})

	t.Run("pipeline", func(t *testing.T) {
		e := startEnv(t)
		r := startReplica(t, e, replicaConfig(e, "wrong-password", uniqueName("contact-enricher-jobs")), connect(t, cfg))
		exited, err := r.waitExit(wrongPasswordLimit)
		if !exited {
			// Not a requirement of its own: the pipeline may keep retrying,
			// as long as a stop ends it.
			t.Logf("Run still runs %s after its start; stopping it", wrongPasswordLimit)
			r.cancel()
			if exited, err = r.waitExit(time.Minute); !exited {
				t.Fatalf("Run still runs a minute after its stop")
			}
			t.Logf("Run returned %v after %s, once stopped", err, r.elapsed())
			return
		}
		t.Logf("Run returned by itself after %s: %v", r.elapsed(), err)
		if err == nil {
			t.Fatal("Run returned nil, want the authentication failure")
		}
		checkAuthFailure(t, cfg.ExplainError(err), cfg)
	})
}

// securedConfig returns the connection settings of the broker's SASL_SSL
// listener with the SCRAM-SHA-512 user, or skips the test when they are
// not set.
func securedConfig(t *testing.T) kafkaconn.Config {
	t.Helper()
	if os.Getenv("KAFKA_SASL_SSL_BROKERS") == "" {
		t.Skip("KAFKA_SASL_SSL_BROKERS is not set; see .ci/kafka/README.md to start a broker")
	}
	skipUnlessRealBroker(t, "the test prepares the topics through the PLAINTEXT listener of the SASL_SSL broker",
		"KAFKA_TLS_CA_FILE", "KAFKA_SCRAM_USER", "KAFKA_SCRAM_PASSWORD")
	return kafkaconn.Config{
		Brokers: strings.Split(os.Getenv("KAFKA_SASL_SSL_BROKERS"), ","),
		TLS:     kafkaconn.TLSConfig{Enabled: true, CAFile: os.Getenv("KAFKA_TLS_CA_FILE")},
		SASL: kafkaconn.SASLConfig{
			Mechanism: kafkaconn.MechanismSCRAMSHA512,
			Username:  os.Getenv("KAFKA_SCRAM_USER"),
			Password:  kafkaconn.Secret(os.Getenv("KAFKA_SCRAM_PASSWORD")),
		},
	}
}

// checkAuthFailure checks that err, as ExplainError returned it, names an
// authentication failure and the user, and hides the password.
func checkAuthFailure(t *testing.T, err error, cfg kafkaconn.Config) {
	t.Helper()
	msg := err.Error()
	if !strings.HasPrefix(msg, "kafka authentication failed") {
		t.Errorf("error %q does not start with %q", msg, "kafka authentication failed")
	}
	if !strings.Contains(msg, cfg.SASL.Username) {
		t.Errorf("error %q does not name the user %s", msg, cfg.SASL.Username)
	}
	if strings.Contains(msg, cfg.SASL.Password.Reveal()) {
		t.Errorf("error %q contains the password", msg)
	}
}
