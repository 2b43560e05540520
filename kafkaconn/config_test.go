package kafkaconn

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const testPassword = Secret("pa55-word-in-test")

func TestValidateAcceptsGoodConfigs(t *testing.T) {
	pki := newTestPKI(t)
	brokers := []string{"127.0.0.1:9093"}
	for name, c := range map[string]Config{
		"plaintext":         {Brokers: brokers},
		"PLAIN without TLS": {Brokers: brokers, SASL: SASLConfig{Mechanism: "PLAIN", Username: "u", Password: testPassword}},
		"TLS system roots":  {Brokers: brokers, TLS: TLSConfig{Enabled: true}},
		"lower-case SCRAM with CA and client certificate": {
			Brokers: brokers,
			TLS:     TLSConfig{Enabled: true, CAFile: pki.caFile, CertFile: pki.clientCert, KeyFile: pki.clientKey, ServerName: "localhost"},
			SASL:    SASLConfig{Mechanism: " scram-sha-512 ", Username: "ce-test", Password: testPassword},
		},
		"insecure skip verify": {Brokers: brokers, TLS: TLSConfig{Enabled: true, InsecureSkipVerify: true}},
	} {
		t.Run(name, func(t *testing.T) {
			if err := c.Validate(); err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
		})
	}
}

func TestValidateNamesEveryBadValue(t *testing.T) {
	pki := newTestPKI(t)
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.pem")
	garbageCA := writeFile(t, dir, "garbage.pem", "not a certificate\n")
	brokenCA := writeFile(t, dir, "broken.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
	_, otherKey := writeClientCert(t, dir, "other", pki.ca, pki.caKey, time.Now().Add(time.Hour))
	expiredCert, expiredKey := writeClientCert(t, dir, "expired", pki.ca, pki.caKey, time.Now().Add(-time.Hour))
	brokers := []string{"127.0.0.1:9093"}
	withTLS := func(tc TLSConfig) Config { tc.Enabled = true; return Config{Brokers: brokers, TLS: tc} }
	withSASL := func(s SASLConfig) Config { return Config{Brokers: brokers, SASL: s} }

	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"no brokers", Config{}, []string{"kafka brokers: missing", FlagBrokers}},
		{"empty broker", Config{Brokers: []string{"a:1", " "}}, []string{"empty address", FlagBrokers}},
		{"negative dial timeout", Config{Brokers: brokers, DialTimeout: -time.Second}, []string{"dial timeout -1s", "negative"}},
		{"unknown mechanism", withSASL(SASLConfig{Mechanism: "GSSAPI", Username: "u", Password: testPassword}),
			[]string{`"GSSAPI"`, "unsupported", FlagSASLMechanism}},
		{"user without mechanism", withSASL(SASLConfig{Username: "ce-test"}), []string{`"ce-test"`, "without a mechanism", FlagSASLMechanism}},
		{"password without mechanism", withSASL(SASLConfig{Password: testPassword}), []string{"password: set without a mechanism", PasswordEnv}},
		{"mechanism without user", withSASL(SASLConfig{Mechanism: "plain", Password: testPassword}),
			[]string{"PLAIN: missing username", FlagSASLUsername}},
		{"mechanism without password", withSASL(SASLConfig{Mechanism: "SCRAM-SHA-256", Username: "u"}),
			[]string{"SCRAM-SHA-256: missing password", PasswordEnv, FlagSASLPasswordFile}},
		{"SCRAM password SASLprep rejects", withSASL(SASLConfig{Mechanism: "SCRAM-SHA-512", Username: "u", Password: testPassword + "\t"}),
			[]string{"password: changed or rejected by SASLprep"}},
		{"SCRAM user SASLprep changes", withSASL(SASLConfig{Mechanism: "SCRAM-SHA-512", Username: "u\u00a0v", Password: testPassword}),
			[]string{"username", "SASLprep"}},
		{"TLS settings with TLS off", Config{Brokers: brokers, TLS: TLSConfig{CAFile: pki.caFile, InsecureSkipVerify: true}},
			[]string{FlagTLSCAFile, FlagTLSInsecureSkipVerify, "TLS is off", "add " + FlagTLS}},
		{"missing CA file", withTLS(TLSConfig{CAFile: missing}), []string{"reading kafka TLS CA file", missing, "no such file"}},
		{"CA file without PEM", withTLS(TLSConfig{CAFile: garbageCA}), []string{garbageCA, "no PEM certificate found"}},
		{"CA file with broken certificate", withTLS(TLSConfig{CAFile: brokenCA}), []string{"parsing certificate 1", brokenCA}},
		{"certificate without key", withTLS(TLSConfig{CertFile: pki.clientCert}), []string{pki.clientCert, "missing key", FlagTLSKeyFile}},
		{"key without certificate", withTLS(TLSConfig{KeyFile: pki.clientKey}), []string{pki.clientKey, "missing certificate", FlagTLSCertFile}},
		{"missing key file", withTLS(TLSConfig{CertFile: pki.clientCert, KeyFile: missing}), []string{"reading kafka TLS client key", missing}},
		{"missing certificate file", withTLS(TLSConfig{CertFile: missing, KeyFile: pki.clientKey}), []string{"reading kafka TLS client certificate", missing}},
		{"key of another certificate", withTLS(TLSConfig{CertFile: pki.clientCert, KeyFile: otherKey}),
			[]string{"loading kafka TLS client certificate", pki.clientCert, otherKey, "does not match"}},
		{"expired client certificate", withTLS(TLSConfig{CertFile: expiredCert, KeyFile: expiredKey}), []string{expiredCert, "expired on"}},
		{"several at once", Config{
			Brokers: brokers,
			TLS:     TLSConfig{Enabled: true, CertFile: pki.clientCert},
			SASL:    SASLConfig{Mechanism: "SCRAM-SHA-512"},
		}, []string{"missing key", "missing username", "missing password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if err == nil {
				t.Fatal("Validate() = nil, want an error")
			}
			t.Log(err)
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), testPassword.Reveal()) {
				t.Errorf("Validate() = %q, contains the password", err)
			}
		})
	}
}
