package kafkaconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// timeoutError is a net.Error that timed out, as a read deadline gives.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestExplainErrorHints(t *testing.T) {
	c := Config{
		Brokers: []string{"127.0.0.1:9093"},
		TLS:     TLSConfig{Enabled: true, CAFile: "/etc/kafka/ca.pem"},
		SASL:    SASLConfig{Mechanism: "scram-sha-512", Username: "ce-test", Password: testPassword},
	}
	verification := func(err error) error {
		return fmt.Errorf("unable to dial: %w", &tls.CertificateVerificationError{Err: err})
	}
	tests := []struct {
		name string
		err  error
		want []string // the first is the message's prefix
	}{
		{"kafka-go SASL failure", fmt.Errorf("could not successfully authenticate to 127.0.0.1:9093 with SASL: %w", kafka.SASLAuthenticationFailed),
			[]string{"kafka authentication failed for user ce-test with SCRAM-SHA-512: check " + FlagSASLUsername, PasswordEnv, FlagSASLPasswordFile}},
		{"franz-go SASL failure", fmt.Errorf("listing topics: %w", kerr.SaslAuthenticationFailed),
			[]string{"kafka authentication failed for user ce-test with SCRAM-SHA-512", "SCRAM-SHA-512 credentials"}},
		{"SASL failure text", errors.New("broker: SASL_AUTHENTICATION_FAILED: bad"), []string{"kafka authentication failed for user ce-test"}},
		{"unsupported mechanism", fmt.Errorf("handshake: %w", kerr.UnsupportedSaslMechanism),
			[]string{"kafka SASL mechanism SCRAM-SHA-512 is not enabled on this listener", FlagSASLMechanism}},
		{"kafka-go unsupported mechanism", kafka.UnsupportedSASLMechanism, []string{"kafka SASL mechanism SCRAM-SHA-512 is not enabled"}},
		{"listener without SASL", fmt.Errorf("handshake: %w", kafka.IllegalSASLState), []string{"kafka listener rejected SASL", FlagSASLMechanism}},
		{"plaintext response to TLS", fmt.Errorf("unable to dial: %w", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}),
			[]string{"kafka broker answered without TLS", FlagTLS}},
		{"TLS response to plaintext", errors.New("invalid large response size 352518912 > limit 104857600; is this a plaintext connection speaking to a tls endpoint?"),
			[]string{"kafka broker expects TLS", "add " + FlagTLS}},
		{"unknown authority", verification(x509.UnknownAuthorityError{}),
			[]string{"kafka broker certificate is signed by an unknown authority: set " + FlagTLSCAFile, "instead of /etc/kafka/ca.pem"}},
		{"host name mismatch", verification(x509.HostnameError{Certificate: &x509.Certificate{}, Host: "b-1.example"}),
			[]string{"kafka broker certificate does not name the host dialed", FlagTLSServerName, FlagBrokers}},
		{"expired certificate", verification(x509.CertificateInvalidError{Reason: x509.Expired}),
			[]string{"kafka broker certificate is invalid", "clock"}},
		{"other verification failure", verification(errors.New("policy")), []string{"kafka broker certificate failed verification", FlagTLSCAFile}},
		{"client certificate alert", errors.New("remote error: tls: certificate required"),
			[]string{"kafka broker rejected the TLS handshake because of the client certificate", FlagTLSCertFile, FlagTLSKeyFile}},
		{"handshake alert", errors.New("remote error: tls: protocol version not supported"), []string{"kafka broker rejected the TLS handshake: check", "TLS 1.2"}},
		{"franz-go first read EOF", &kgo.ErrFirstReadEOF{}, []string{"kafka broker closed the connection", "(SASL_SSL)", FlagTLS, FlagSASLMechanism}},
		{"EOF", fmt.Errorf("failed to dial: %w", io.EOF), []string{"kafka broker closed the connection"}},
		{"unexpected EOF", io.ErrUnexpectedEOF, []string{"kafka broker closed the connection"}},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)},
			[]string{"kafka broker refused the connection", FlagBrokers}},
		{"unknown host", fmt.Errorf("unable to dial: %w", &net.DNSError{Err: "no such host", Name: "b-1.invalid", IsNotFound: true}),
			[]string{"kafka broker host name did not resolve", FlagBrokers}},
		{"context deadline", fmt.Errorf("listing topics: %w", context.DeadlineExceeded), []string{"kafka connection or request timed out", FlagBrokers, "SASL_SSL listener"}},
		{"I/O deadline", fmt.Errorf("read: %w", os.ErrDeadlineExceeded), []string{"kafka connection or request timed out"}},
		{"net timeout", &net.OpError{Op: "read", Net: "tcp", Err: timeoutError{}}, []string{"kafka connection or request timed out"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			explained := c.ExplainError(tt.err)
			msg := explained.Error()
			if !strings.HasPrefix(msg, tt.want[0]) {
				t.Errorf("ExplainError() = %q, want prefix %q", msg, tt.want[0])
			}
			for _, w := range tt.want[1:] {
				if !strings.Contains(msg, w) {
					t.Errorf("ExplainError() = %q, want it to contain %q", msg, w)
				}
			}
			if !strings.HasSuffix(msg, ": "+tt.err.Error()) {
				t.Errorf("ExplainError() = %q, want it to end with the original message", msg)
			}
			if !errors.Is(explained, tt.err) {
				t.Error("ExplainError() does not unwrap to the original error")
			}
		})
	}
}

func TestExplainErrorWithoutSettings(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		want   string
		absent string
	}{
		{"SASL failure", kafka.SASLAuthenticationFailed,
			"kafka authentication failed: check " + FlagSASLMechanism + ", " + FlagSASLUsername + " and the password", "for user"},
		{"unknown authority", x509.UnknownAuthorityError{}, "the CA that signed it: x509", "instead of"},
		{"EOF", io.EOF, "security protocol (as configured)", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := ExplainError(tt.err).Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("ExplainError() = %q, want it to contain %q", msg, tt.want)
			}
			if tt.absent != "" && strings.Contains(msg, tt.absent) {
				t.Errorf("ExplainError() = %q, want no %q", msg, tt.absent)
			}
		})
	}
}

func TestExplainErrorLeavesOthersAlone(t *testing.T) {
	if err := ExplainError(nil); err != nil {
		t.Errorf("ExplainError(nil) = %v, want nil", err)
	}
	other := errors.New("topic contacts: not found")
	if got := ExplainError(other); got != other {
		t.Errorf("ExplainError(%v) = %v, want it unchanged", other, got)
	}
	once := ExplainError(io.EOF)
	if twice := ExplainError(fmt.Errorf("starting: %w", once)); strings.Count(twice.Error(), "kafka broker closed") != 1 {
		t.Errorf("ExplainError of an explained error = %q, want one hint", twice)
	}
}

func TestExplainErrorRedactsPassword(t *testing.T) {
	c := Config{SASL: SASLConfig{Mechanism: "PLAIN", Username: "ce-test", Password: testPassword}}
	err := fmt.Errorf("broker echoed %q: %w", testPassword.Reveal(), kafka.SASLAuthenticationFailed)
	msg := c.ExplainError(err).Error()
	if strings.Contains(msg, testPassword.Reveal()) {
		t.Errorf("ExplainError() = %q, contains the password", msg)
	}
	if !strings.Contains(msg, redacted) {
		t.Errorf("ExplainError() = %q, want %s in place of the password", msg, redacted)
	}
}

// TestExplainErrorRefusedConnection dials a port on 127.0.0.1 that was
// just closed, with each client, and checks that the hint names --brokers.
func TestExplainErrorRefusedConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := Config{Brokers: []string{addr}}
	for client, err := range connectErrors(t, c) {
		msg := c.ExplainError(err).Error()
		if !strings.HasPrefix(msg, "kafka broker refused the connection") || !strings.Contains(msg, FlagBrokers) {
			t.Errorf("%s: ExplainError() = %q, want the refused-connection hint", client, msg)
		}
	}
}
