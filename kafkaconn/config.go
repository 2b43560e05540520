package kafkaconn

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/xdg-go/stringprep"
)

// DefaultDialTimeout is the DialTimeout used when Config.DialTimeout is 0.
const DefaultDialTimeout = 10 * time.Second

// SASL mechanisms that Config supports, as Kafka names them.
const (
	MechanismPlain       = "PLAIN"
	MechanismSCRAMSHA256 = "SCRAM-SHA-256"
	MechanismSCRAMSHA512 = "SCRAM-SHA-512"
)

// Command-line flags and the environment variable that set a Config in the
// contact-enricher command. Validate and ExplainError name them in their
// messages, so that the operator sees which setting to change.
const (
	FlagBrokers               = "--brokers"
	FlagTLS                   = "--kafka-tls"
	FlagTLSCAFile             = "--kafka-tls-ca-file"
	FlagTLSCertFile           = "--kafka-tls-cert-file"
	FlagTLSKeyFile            = "--kafka-tls-key-file"
	FlagTLSServerName         = "--kafka-tls-server-name"
	FlagTLSInsecureSkipVerify = "--kafka-tls-insecure-skip-verify"
	FlagSASLMechanism         = "--kafka-sasl-mechanism"
	FlagSASLUsername          = "--kafka-sasl-username"
	FlagSASLPasswordFile      = "--kafka-sasl-password-file"
	PasswordEnv               = "CONTACT_ENRICHER_KAFKA_SASL_PASSWORD"
)

// Config is the connection settings of every Kafka client of the service.
// The zero value connects in plaintext without authentication, once Brokers
// is set. Its methods only read it, so it is safe for concurrent use while
// no goroutine modifies it.
type Config struct {
	// Brokers are the bootstrap brokers, host:port each.
	Brokers []string
	TLS     TLSConfig
	SASL    SASLConfig
	// DialTimeout bounds connecting and the TLS and SASL handshakes of one
	// connection. Default: DefaultDialTimeout. For franz-go it bounds the
	// connect and the TLS handshake, and franz-go's own request timeouts
	// bound the SASL exchange.
	DialTimeout time.Duration
}

// TLSConfig is the TLS part of Config.
type TLSConfig struct {
	// Enabled connects over TLS, as to an SSL or SASL_SSL listener.
	Enabled bool
	// CAFile is a PEM bundle of the CA certificates that verify the brokers.
	// Empty: the system roots.
	CAFile string
	// CertFile and KeyFile are an optional PEM client certificate and its
	// key, for brokers that authenticate clients by certificate. Set both
	// or neither.
	CertFile, KeyFile string
	// ServerName is the name verified in the broker certificates. Empty:
	// the host of each broker address dialed.
	ServerName string
	// InsecureSkipVerify turns off verification of the broker certificates.
	// LogSummary logs a warning when it is set.
	InsecureSkipVerify bool
}

// SASLConfig is the SASL part of Config.
type SASLConfig struct {
	// Mechanism is "" for no SASL, or PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512
	// in any case.
	Mechanism string
	Username  string
	Password  Secret
}

// mechanism returns the normalised mechanism name: upper case, without
// surrounding white space.
func (s SASLConfig) mechanism() string {
	return strings.ToUpper(strings.TrimSpace(s.Mechanism))
}

func (c Config) dialTimeout() time.Duration {
	if c.DialTimeout == 0 {
		return DefaultDialTimeout
	}
	return c.DialTimeout
}

// Validate checks every setting and returns one error per invalid value,
// joined. It loads the CA, certificate and key files, so a missing or
// malformed file is reported here rather than at the first connection.
// SASL without TLS is valid, because some private networks run it that way.
func (c Config) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, fmt.Errorf("kafka brokers: missing; set %s", FlagBrokers))
	}
	for _, b := range c.Brokers {
		if strings.TrimSpace(b) == "" {
			errs = append(errs, fmt.Errorf("kafka brokers %q: empty address; set %s to host:port items", strings.Join(c.Brokers, ","), FlagBrokers))
			break
		}
	}
	if c.DialTimeout < 0 {
		errs = append(errs, fmt.Errorf("kafka dial timeout %s: must not be negative", c.DialTimeout))
	}
	errs = append(errs, c.TLS.validate()...)
	errs = append(errs, c.SASL.validate()...)
	return errors.Join(errs...)
}

func (t TLSConfig) validate() []error {
	if !t.Enabled {
		if set := t.settingsSet(); len(set) > 0 {
			return []error{fmt.Errorf("kafka TLS: %s set but TLS is off; add %s or remove them", strings.Join(set, ", "), FlagTLS)}
		}
		return nil
	}
	var errs []error
	if t.CAFile != "" {
		if _, err := loadCAFile(t.CAFile); err != nil {
			errs = append(errs, err)
		}
	}
	switch {
	case t.CertFile != "" && t.KeyFile == "":
		errs = append(errs, fmt.Errorf("kafka TLS client certificate %s: missing key; set %s", t.CertFile, FlagTLSKeyFile))
	case t.CertFile == "" && t.KeyFile != "":
		errs = append(errs, fmt.Errorf("kafka TLS client key %s: missing certificate; set %s", t.KeyFile, FlagTLSCertFile))
	case t.CertFile != "":
		if _, err := loadKeyPair(t.CertFile, t.KeyFile); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// settingsSet returns the flags of the TLS settings that are set, which
// have no effect while TLS is off.
func (t TLSConfig) settingsSet() []string {
	var set []string
	for _, s := range []struct {
		flag string
		set  bool
	}{
		{FlagTLSCAFile, t.CAFile != ""},
		{FlagTLSCertFile, t.CertFile != ""},
		{FlagTLSKeyFile, t.KeyFile != ""},
		{FlagTLSServerName, t.ServerName != ""},
		{FlagTLSInsecureSkipVerify, t.InsecureSkipVerify},
	} {
		if s.set {
			set = append(set, s.flag)
		}
	}
	return set
}

func (s SASLConfig) validate() []error {
	mech := s.mechanism()
	var errs []error
	switch mech {
	case "":
		if s.Username != "" {
			errs = append(errs, fmt.Errorf("kafka SASL username %q: set without a mechanism; set %s to PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", s.Username, FlagSASLMechanism))
		}
		if s.Password != "" {
			errs = append(errs, fmt.Errorf("kafka SASL password: set without a mechanism; set %s, or unset %s", FlagSASLMechanism, PasswordEnv))
		}
		return errs
	case MechanismPlain, MechanismSCRAMSHA256, MechanismSCRAMSHA512:
	default:
		return []error{fmt.Errorf("kafka SASL mechanism %q: unsupported; set %s to PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", s.Mechanism, FlagSASLMechanism)}
	}
	if s.Username == "" {
		errs = append(errs, fmt.Errorf("kafka SASL %s: missing username; set %s", mech, FlagSASLUsername))
	}
	if s.Password == "" {
		errs = append(errs, fmt.Errorf("kafka SASL %s: missing password; set %s or %s", mech, PasswordEnv, FlagSASLPasswordFile))
	}
	if mech != MechanismPlain {
		errs = append(errs, checkSASLprep(s.Username, s.Password)...)
	}
	return errs
}

// checkSASLprep rejects SCRAM credentials that SASLprep (RFC 4013) changes
// or rejects. kafka-go v0.4.51 prepares the username and password with it
// before SCRAM hashing, and franz-go v1.22 does not. With such credentials
// the writers and the reader would log in differently from the admin
// client, so one of them would fail with a bare authentication error.
func checkSASLprep(user string, password Secret) []error {
	var errs []error
	if p, err := stringprep.SASLprep.Prepare(user); err != nil || p != user {
		errs = append(errs, fmt.Errorf("kafka SASL username %q: changed or rejected by SASLprep, which kafka-go applies for SCRAM and franz-go does not; use a username without control characters, special spaces or characters that Unicode NFKC changes", user))
	}
	if p, err := stringprep.SASLprep.Prepare(password.Reveal()); err != nil || p != password.Reveal() {
		errs = append(errs, fmt.Errorf("kafka SASL password: changed or rejected by SASLprep, which kafka-go applies for SCRAM and franz-go does not; use a password without control characters, special spaces or characters that Unicode NFKC changes"))
	}
	return errs
}
