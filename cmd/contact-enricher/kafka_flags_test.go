package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contact-enricher/contact-enricher/kafkaconn"
)

// parseKafkaFlags registers the Kafka flags on a new flag set and parses
// args with the environment fallback of the service.
func parseKafkaFlags(t *testing.T, args ...string) (kafkaconn.Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	var c kafkaconn.Config
	registerKafkaFlags(fs, &c)
	err := parseFlags(fs, args, io.Discard)
	return c, err
}

func writePasswordFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestKafkaFlagsSetConfig(t *testing.T) {
	t.Setenv(kafkaPasswordEnv, "")
	c, err := parseKafkaFlags(t,
		"--kafka-tls",
		"--kafka-tls-ca-file", "/etc/kafka/ca.pem",
		"--kafka-tls-cert-file", "/etc/kafka/client.pem",
		"--kafka-tls-key-file", "/etc/kafka/client.key",
		"--kafka-tls-server-name", "kafka.internal",
		"--kafka-tls-insecure-skip-verify",
		"--kafka-sasl-mechanism", "scram-sha-512",
		"--kafka-sasl-username", "ce-test",
	)
	if err != nil {
		t.Fatal(err)
	}
	want := kafkaconn.Config{
		TLS: kafkaconn.TLSConfig{
			Enabled: true, CAFile: "/etc/kafka/ca.pem", CertFile: "/etc/kafka/client.pem", KeyFile: "/etc/kafka/client.key",
			ServerName: "kafka.internal", InsecureSkipVerify: true,
		},
		SASL: kafkaconn.SASLConfig{Mechanism: "scram-sha-512", Username: "ce-test"},
	}
	if c.TLS != want.TLS || c.SASL != want.SASL {
		t.Errorf("config = %+v, want %+v", c, want)
	}
}

func TestKafkaFlagsFromEnvironment(t *testing.T) {
	t.Setenv(envPrefix+"KAFKA_TLS", "true")
	t.Setenv(envPrefix+"KAFKA_SASL_MECHANISM", "PLAIN")
	t.Setenv(envPrefix+"KAFKA_SASL_USERNAME", "ce-plain")
	t.Setenv(kafkaPasswordEnv, "env-secret\n")
	c, err := parseKafkaFlags(t)
	if err != nil {
		t.Fatal(err)
	}
	if !c.TLS.Enabled || c.SASL.Mechanism != "PLAIN" || c.SASL.Username != "ce-plain" {
		t.Errorf("config = %+v, want TLS and PLAIN for ce-plain from the environment", c)
	}
	if got := c.SASL.Password.Reveal(); got != "env-secret" {
		t.Errorf("password = %q, want env-secret without the line break", got)
	}
}

func TestKafkaPasswordFile(t *testing.T) {
	t.Setenv(kafkaPasswordEnv, "env-secret")
	path := writePasswordFile(t, " file secret \r\n")
	c, err := parseKafkaFlags(t, "--kafka-sasl-password-file", path)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.SASL.Password.Reveal(); got != " file secret " {
		t.Errorf("password = %q, want the file's content without the final line break", got)
	}

	t.Setenv(envPrefix+"KAFKA_SASL_PASSWORD_FILE", path)
	c, err = parseKafkaFlags(t)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.SASL.Password.Reveal(); got != " file secret " {
		t.Errorf("password with the file from the environment = %q, want the file's content", got)
	}
}

func TestKafkaPasswordFileErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	empty := writePasswordFile(t, "\n")
	for name, tc := range map[string]struct{ path, want string }{
		"missing": {missing, "reading kafka SASL password file"},
		"empty":   {empty, "kafka SASL password file " + empty + ": empty"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseKafkaFlags(t, "--kafka-sasl-password-file", tc.path)
			if !errors.As(err, new(usageError)) {
				t.Fatalf("parse error = %v, want a usage error", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parse error = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestKafkaFlagsMatchMessages(t *testing.T) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	registerKafkaFlags(fs, &kafkaconn.Config{})
	// kafkaconn names these flags in its errors, so each must exist.
	for _, name := range []string{
		kafkaconn.FlagTLS, kafkaconn.FlagTLSCAFile, kafkaconn.FlagTLSCertFile, kafkaconn.FlagTLSKeyFile,
		kafkaconn.FlagTLSServerName, kafkaconn.FlagTLSInsecureSkipVerify,
		kafkaconn.FlagSASLMechanism, kafkaconn.FlagSASLUsername, kafkaconn.FlagSASLPasswordFile,
	} {
		f := fs.Lookup(strings.TrimPrefix(name, "--"))
		if f == nil {
			t.Errorf("flag %s is not registered", name)
			continue
		}
		if f.Usage == "" {
			t.Errorf("flag %s has no help text", name)
		}
	}
	if fs.Lookup("kafka-sasl-password") != nil {
		t.Error("a --kafka-sasl-password flag is registered, but flags show in process listings")
	}
	if kafkaPasswordEnv != envPrefix+"KAFKA_SASL_PASSWORD" {
		t.Errorf("kafkaPasswordEnv = %s, want %sKAFKA_SASL_PASSWORD", kafkaPasswordEnv, envPrefix)
	}
}
