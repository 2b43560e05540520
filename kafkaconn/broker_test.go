package kafkaconn

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"
)

// realBrokerEnv are the variables that .ci/kafka/broker.sh writes to its env
// file, and that point this test at its SASL_SSL listener.
var realBrokerEnv = []string{
	"KAFKA_SASL_SSL_BROKERS", "KAFKA_TLS_CA_FILE",
	"KAFKA_SCRAM_USER", "KAFKA_SCRAM_PASSWORD",
	"KAFKA_PLAIN_USER", "KAFKA_PLAIN_PASSWORD",
}

// TestRealBrokerSASLSSL runs every client against the SASL_SSL listener of
// a real broker, for each SASL mechanism, and checks that a wrong password
// fails fast with a clear message. It is skipped unless
// KAFKA_SASL_SSL_BROKERS is set.
func TestRealBrokerSASLSSL(t *testing.T) {
	if os.Getenv("KAFKA_SASL_SSL_BROKERS") == "" {
		t.Skip("KAFKA_SASL_SSL_BROKERS is not set; see .ci/kafka/README.md to start a broker")
	}
	for _, name := range realBrokerEnv {
		if os.Getenv(name) == "" {
			t.Fatalf("%s is not set, but KAFKA_SASL_SSL_BROKERS is", name)
		}
	}
	brokers := strings.Split(os.Getenv("KAFKA_SASL_SSL_BROKERS"), ",")
	tlsCfg := TLSConfig{Enabled: true, CAFile: os.Getenv("KAFKA_TLS_CA_FILE")}
	scram := SASLConfig{Username: os.Getenv("KAFKA_SCRAM_USER"), Password: Secret(os.Getenv("KAFKA_SCRAM_PASSWORD"))}
	plain := SASLConfig{Mechanism: MechanismPlain, Username: os.Getenv("KAFKA_PLAIN_USER"), Password: Secret(os.Getenv("KAFKA_PLAIN_PASSWORD"))}
	sha256, sha512 := scram, scram
	sha256.Mechanism, sha512.Mechanism = MechanismSCRAMSHA256, MechanismSCRAMSHA512

	for _, sasl := range []SASLConfig{plain, sha256, sha512} {
		c := Config{Brokers: brokers, TLS: tlsCfg, SASL: sasl}
		t.Run(sasl.Mechanism, func(t *testing.T) {
			t.Log(c.Describe())
			checkRoundTrip(t, c)
		})
		t.Run(sasl.Mechanism+" wrong password", func(t *testing.T) {
			c.SASL.Password += "-wrong"
			checkWrongPassword(t, c, true)
		})
	}

	t.Run("client certificate", func(t *testing.T) {
		certFile, keyFile := os.Getenv("KAFKA_TLS_CLIENT_CERT_FILE"), os.Getenv("KAFKA_TLS_CLIENT_KEY_FILE")
		if certFile == "" || keyFile == "" {
			t.Skip("KAFKA_TLS_CLIENT_CERT_FILE or KAFKA_TLS_CLIENT_KEY_FILE is not set")
		}
		c := Config{Brokers: brokers, TLS: tlsCfg, SASL: sha512}
		c.TLS.CertFile, c.TLS.KeyFile = certFile, keyFile
		t.Log(c.Describe())
		checkRoundTrip(t, c)
	})

	t.Run("system roots", func(t *testing.T) {
		c := Config{Brokers: brokers, TLS: TLSConfig{Enabled: true}, SASL: sha512}
		ctx, cancel := context.WithTimeout(t.Context(), failFastLimit)
		defer cancel()
		_, err := newAdmin(t, c).ListTopics(ctx)
		if err == nil {
			t.Fatal("ListTopics succeeded without the test CA, want a certificate error")
		}
		explained := c.ExplainError(err)
		t.Log(explained)
		if !strings.HasPrefix(explained.Error(), "kafka broker certificate is signed by an unknown authority: set "+FlagTLSCAFile) {
			t.Errorf("ExplainError() = %q, want the unknown-authority hint", explained)
		}
	})
}

// TestRealBrokerProtocolMismatch connects each client with a security
// protocol that differs from the listener's, and checks that ExplainError
// names the flag to change. It is skipped unless KAFKA_SASL_SSL_BROKERS and
// KAFKA_BROKERS, the PLAINTEXT listener, are set.
func TestRealBrokerProtocolMismatch(t *testing.T) {
	saslSSL, plaintext := os.Getenv("KAFKA_SASL_SSL_BROKERS"), os.Getenv("KAFKA_BROKERS")
	if saslSSL == "" || plaintext == "" {
		t.Skip("KAFKA_SASL_SSL_BROKERS or KAFKA_BROKERS is not set; see .ci/kafka/README.md to start a broker")
	}
	tlsCfg := TLSConfig{Enabled: true, CAFile: os.Getenv("KAFKA_TLS_CA_FILE")}
	sasl := SASLConfig{Mechanism: MechanismSCRAMSHA512, Username: os.Getenv("KAFKA_SCRAM_USER"), Password: Secret(os.Getenv("KAFKA_SCRAM_PASSWORD"))}
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"SASL_SSL to PLAINTEXT", Config{Brokers: []string{plaintext}, TLS: tlsCfg, SASL: sasl}, FlagTLS},
		{"SASL_PLAINTEXT to PLAINTEXT", Config{Brokers: []string{plaintext}, SASL: sasl}, FlagSASLMechanism},
		{"PLAINTEXT to SASL_SSL", Config{Brokers: []string{saslSSL}}, FlagTLS},
		{"SSL to SASL_SSL", Config{Brokers: []string{saslSSL}, TLS: tlsCfg}, FlagSASLMechanism},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for client, err := range connectErrors(t, tt.cfg) {
				explained := tt.cfg.ExplainError(err)
				t.Logf("%s: %v", client, explained)
				if explained == err {
					t.Errorf("%s: ExplainError(%q) did not recognise the error", client, err)
				}
				if !strings.Contains(explained.Error(), tt.want) {
					t.Errorf("%s: ExplainError() = %q, want it to name %s", client, explained, tt.want)
				}
			}
		})
	}
}

// connectErrors returns the error of a request by each client built from c:
// the admin client, a writer and a connection of the dialer. Each must fail
// within failFastLimit.
func connectErrors(t *testing.T, c Config) map[string]error {
	t.Helper()
	errs := map[string]error{}
	errs["admin"] = failsWithin(t, func(ctx context.Context) error {
		_, err := newAdmin(t, c).ListTopics(ctx)
		return err
	})
	errs["writer"] = failsWithin(t, func(ctx context.Context) error {
		tr, err := c.Transport()
		if err != nil {
			t.Fatal(err)
		}
		defer tr.CloseIdleConnections()
		w := &kafka.Writer{Addr: kafka.TCP(c.Brokers...), Topic: uniqueName("kafkaconn-denied"), Transport: tr}
		defer w.Close()
		return w.WriteMessages(ctx, kafka.Message{Value: []byte("never written")})
	})
	errs["dialer"] = failsWithin(t, func(ctx context.Context) error {
		d, err := c.Dialer()
		if err != nil {
			t.Fatal(err)
		}
		conn, err := d.DialContext(ctx, "tcp", c.Brokers[0])
		if err != nil {
			return err
		}
		defer conn.Close()
		_, err = conn.ReadPartitions()
		return err
	})
	return errs
}
