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

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ExplainError is Config.ExplainError without the settings: its messages
// name the flags to check but not the user, mechanism or files.
func ExplainError(err error) error {
	return Config{}.ExplainError(err)
}

// ExplainError wraps err, when it is a recognised connection failure of
// kafka-go or franz-go, in an error whose message starts with the likely
// cause and the flag to check, followed by err's message. It recognises
// SASL authentication failures, TLS verification and handshake failures,
// listeners of another security protocol, refused connections, unknown
// hosts and timeouts. Other errors, nil and errors it already explained are
// returned unchanged. The result unwraps to err, and its message never
// contains c.SASL.Password.
func (c Config) ExplainError(err error) error {
	if err == nil {
		return err
	}
	if _, done := errors.AsType[*explainedError](err); done {
		return err
	}
	hint := c.hint(err)
	if hint == "" {
		return err
	}
	msg := hint + ": " + err.Error()
	if p := c.SASL.Password.Reveal(); p != "" {
		msg = strings.ReplaceAll(msg, p, redacted)
	}
	return &explainedError{msg: msg, err: err}
}

// explainedError is an error with a message that explains its cause.
type explainedError struct {
	msg string
	err error
}

func (e *explainedError) Error() string { return e.msg }
func (e *explainedError) Unwrap() error { return e.err }

// hint returns the cause and remedy of err, or "" when err is not a
// connection failure it recognises. The checks go from the most specific
// error to the most generic, because one failure can match several: a
// rejected TLS handshake can also end in EOF.
func (c Config) hint(err error) string {
	for _, h := range []func(error) string{c.saslHint, c.tlsHint, c.networkHint} {
		if s := h(err); s != "" {
			return s
		}
	}
	return ""
}

func (c Config) saslHint(err error) string {
	mech := c.SASL.mechanism()
	switch {
	case errors.Is(err, kerr.SaslAuthenticationFailed), errors.Is(err, kafka.SASLAuthenticationFailed),
		containsFold(err, "SASL_AUTHENTICATION_FAILED"), containsFold(err, "SASL Authentication Failed"):
		if mech == "" || c.SASL.Username == "" {
			return fmt.Sprintf("kafka authentication failed: check %s, %s and the password from %s or %s",
				FlagSASLMechanism, FlagSASLUsername, PasswordEnv, FlagSASLPasswordFile)
		}
		return fmt.Sprintf("kafka authentication failed for user %s with %s: check %s and the password from %s or %s, and that the cluster has %s credentials for this user",
			c.SASL.Username, mech, FlagSASLUsername, PasswordEnv, FlagSASLPasswordFile, mech)
	case errors.Is(err, kerr.UnsupportedSaslMechanism), errors.Is(err, kafka.UnsupportedSASLMechanism):
		return fmt.Sprintf("kafka SASL mechanism %s is not enabled on this listener: set %s to one the broker enables, such as PLAIN for Confluent Cloud or SCRAM-SHA-512 for Amazon MSK",
			orUnset(mech), FlagSASLMechanism)
	case errors.Is(err, kerr.IllegalSaslState), errors.Is(err, kafka.IllegalSASLState):
		return fmt.Sprintf("kafka listener rejected SASL, so it probably has no SASL: remove %s, or put the port of the SASL_SSL or SASL_PLAINTEXT listener in %s",
			FlagSASLMechanism, FlagBrokers)
	}
	return ""
}

func (c Config) tlsHint(err error) string {
	if _, ok := errors.AsType[tls.RecordHeaderError](err); ok {
		return fmt.Sprintf("kafka broker answered without TLS, so this port is a PLAINTEXT or SASL_PLAINTEXT listener: remove %s, or put the port of the TLS listener in %s",
			FlagTLS, FlagBrokers)
	}
	// franz-go v1.22 and kafka-go v0.4.51 detect a TLS response to a
	// plaintext request, and report it only in these texts.
	if containsFold(err, "plaintext connection speaking to a tls endpoint") || containsFold(err, "broker appears to be expecting TLS") {
		return fmt.Sprintf("kafka broker expects TLS, so this port is an SSL or SASL_SSL listener: add %s, or put the port of the PLAINTEXT or SASL_PLAINTEXT listener in %s",
			FlagTLS, FlagBrokers)
	}
	if _, ok := errors.AsType[x509.UnknownAuthorityError](err); ok {
		return fmt.Sprintf("kafka broker certificate is signed by an unknown authority: set %s to the PEM file of the CA that signed it%s",
			FlagTLSCAFile, c.caSource())
	}
	if _, ok := errors.AsType[x509.HostnameError](err); ok {
		return fmt.Sprintf("kafka broker certificate does not name the host dialed: use a broker address that the certificate names in %s, or set %s to a name it contains",
			FlagBrokers, FlagTLSServerName)
	}
	if _, ok := errors.AsType[x509.CertificateInvalidError](err); ok {
		return "kafka broker certificate is invalid, for example expired or not valid yet: check the broker's certificate and this host's clock"
	}
	if _, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
		return fmt.Sprintf("kafka broker certificate failed verification: check %s", FlagTLSCAFile)
	}
	// crypto/tls reports an alert from the broker as a *net.OpError of an
	// unexported type, so only its text is stable.
	if containsFold(err, "remote error: tls:") {
		if containsFold(err, "certificate") {
			return fmt.Sprintf("kafka broker rejected the TLS handshake because of the client certificate: set %s and %s to a certificate signed by a CA the broker trusts",
				FlagTLSCertFile, FlagTLSKeyFile)
		}
		return "kafka broker rejected the TLS handshake: check that the broker accepts TLS 1.2 or later"
	}
	return ""
}

func (c Config) networkHint(err error) string {
	_, firstReadEOF := errors.AsType[*kgo.ErrFirstReadEOF](err)
	var netErr net.Error
	switch {
	case firstReadEOF, errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Sprintf("kafka broker closed the connection, which usually means that this client's security protocol (%s) differs from the listener's: check %s, %s and the port in %s",
			c.protocol(), FlagTLS, FlagSASLMechanism, FlagBrokers)
	case errors.Is(err, syscall.ECONNREFUSED), containsFold(err, "connection refused"):
		return fmt.Sprintf("kafka broker refused the connection, so nothing listens at that address: check the hosts and ports in %s", FlagBrokers)
	case isDNSError(err):
		return fmt.Sprintf("kafka broker host name did not resolve: check the hosts in %s, and the brokers' advertised listeners", FlagBrokers)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Sprintf("kafka connection or request timed out: check that this host can reach the brokers in %s (firewall, security group) and that each port is a %s listener",
			FlagBrokers, c.protocol())
	}
	return ""
}

func isDNSError(err error) bool {
	_, ok := errors.AsType[*net.DNSError](err)
	return ok
}

// protocol returns the security protocol of c, or "as configured" when
// ExplainError runs without settings.
func (c Config) protocol() string {
	if c.isZero() {
		return "as configured"
	}
	return securityProtocol(c.TLS.Enabled, c.SASL.mechanism() != "")
}

// caSource returns where the CA certificates came from, as a suffix of the
// unknown-authority hint, or "" when ExplainError runs without settings.
func (c Config) caSource() string {
	switch {
	case c.TLS.CAFile != "":
		return " instead of " + c.TLS.CAFile
	case c.isZero():
		return ""
	}
	return " instead of the system roots"
}

func (c Config) isZero() bool {
	return len(c.Brokers) == 0 && c.TLS == TLSConfig{} && c.SASL == SASLConfig{} && c.DialTimeout == 0
}

func orUnset(mech string) string {
	if mech == "" {
		return "(unset)"
	}
	return mech
}

func containsFold(err error, s string) bool {
	return strings.Contains(strings.ToLower(err.Error()), strings.ToLower(s))
}
