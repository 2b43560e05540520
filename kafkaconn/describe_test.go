package kafkaconn

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestDescribe(t *testing.T) {
	scram := SASLConfig{Mechanism: "scram-sha-512", Username: "ce-test", Password: testPassword}
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"plaintext", Config{}, "PLAINTEXT"},
		{"TLS with system roots", Config{TLS: TLSConfig{Enabled: true}}, "SSL (system CA roots)"},
		{"SASL without TLS", Config{SASL: SASLConfig{Mechanism: "Plain", Username: "ce-plain", Password: testPassword}},
			"SASL_PLAINTEXT (PLAIN, user ce-plain)"},
		{"SASL over TLS", Config{TLS: TLSConfig{Enabled: true, CAFile: "/path/ca.pem"}, SASL: scram},
			"SASL_SSL (SCRAM-SHA-512, user ce-test, CA /path/ca.pem)"},
		{"every TLS setting", Config{
			TLS: TLSConfig{
				Enabled: true, CAFile: "/ca.pem", CertFile: "/client.pem", KeyFile: "/client.key",
				ServerName: "kafka.internal", InsecureSkipVerify: true,
			},
			SASL: scram,
		}, "SASL_SSL (SCRAM-SHA-512, user ce-test, CA /ca.pem, client certificate /client.pem, server name kafka.internal, certificate verification off)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.cfg.Describe()
			if got != tt.want {
				t.Errorf("Describe() = %q, want %q", got, tt.want)
			}
			if strings.Contains(got, testPassword.Reveal()) {
				t.Errorf("Describe() = %q, contains the password", got)
			}
		})
	}
}

func TestLogSummary(t *testing.T) {
	c := Config{
		Brokers: []string{"b-1:9096", "b-2:9096"},
		TLS:     TLSConfig{Enabled: true},
		SASL:    SASLConfig{Mechanism: "SCRAM-SHA-512", Username: "ce-test", Password: testPassword},
	}
	var buf bytes.Buffer
	c.LogSummary(slog.New(slog.NewTextHandler(&buf, nil)))
	out := buf.String()
	if !strings.Contains(out, `level=INFO msg="kafka connection" brokers=b-1:9096,b-2:9096 security="SASL_SSL (SCRAM-SHA-512, user ce-test, system CA roots)"`) {
		t.Errorf("LogSummary wrote %q, want the brokers and security at INFO", out)
	}
	if strings.Contains(out, "WARN") {
		t.Errorf("LogSummary wrote %q, want no warning while certificates are verified", out)
	}

	buf.Reset()
	c.TLS.InsecureSkipVerify = true
	c.LogSummary(slog.New(slog.NewTextHandler(&buf, nil)))
	out = buf.String()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, FlagTLSInsecureSkipVerify) {
		t.Errorf("LogSummary wrote %q, want a warning that names %s", out, FlagTLSInsecureSkipVerify)
	}
	if strings.Contains(out, testPassword.Reveal()) {
		t.Errorf("LogSummary wrote %q, contains the password", out)
	}
}
