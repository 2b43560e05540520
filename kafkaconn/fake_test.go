package kafkaconn

import (
	"crypto/tls"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

const (
	fakePlainUser = "ce-plain"
	fakeSCRAMUser = "ce-test"
	fakePassword  = Secret("fake-broker-secret")
)

// startSecureFake starts a kfake broker on 127.0.0.1 that takes only TLS
// with the server certificate of pki, and SASL with the fake users for
// PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512.
func startSecureFake(t *testing.T, pki *testPKI) []string {
	t.Helper()
	cluster, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.TLS(&tls.Config{
			Certificates: []tls.Certificate{pki.server},
			ClientAuth:   tls.VerifyClientCertIfGiven,
			ClientCAs:    pki.caPool,
		}),
		kfake.EnableSASL(),
		kfake.Superuser(MechanismPlain, fakePlainUser, fakePassword.Reveal()),
		kfake.Superuser(MechanismSCRAMSHA256, fakeSCRAMUser, fakePassword.Reveal()),
		kfake.Superuser(MechanismSCRAMSHA512, fakeSCRAMUser, fakePassword.Reveal()),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	return cluster.ListenAddrs()
}

// TestClientsOnFakeSASLSSL runs every client against an in-process SASL_SSL
// broker, so that the wiring is checked without a real broker.
func TestClientsOnFakeSASLSSL(t *testing.T) {
	pki := newTestPKI(t)
	brokers := startSecureFake(t, pki)
	tlsCfg := TLSConfig{Enabled: true, CAFile: pki.caFile}
	for _, tc := range []struct {
		mechanism, user string
		tls             TLSConfig
	}{
		{"plain", fakePlainUser, tlsCfg},
		{"SCRAM-SHA-256", fakeSCRAMUser, tlsCfg},
		{"scram-sha-512", fakeSCRAMUser, TLSConfig{Enabled: true, CAFile: pki.caFile, CertFile: pki.clientCert, KeyFile: pki.clientKey}},
	} {
		c := Config{Brokers: brokers, TLS: tc.tls, SASL: SASLConfig{Mechanism: tc.mechanism, Username: tc.user, Password: fakePassword}}
		t.Run(tc.mechanism, func(t *testing.T) {
			checkRoundTrip(t, c)
		})
		t.Run(tc.mechanism+" wrong password", func(t *testing.T) {
			c.SASL.Password = "not-the-fake-secret"
			// kfake closes the connection on a wrong password instead of
			// answering SASL_AUTHENTICATION_FAILED as Kafka does, so only
			// the real-broker test checks the hint.
			checkWrongPassword(t, c, false)
		})
	}
}
