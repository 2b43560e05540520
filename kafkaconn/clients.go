package kafkaconn

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"

	"github.com/segmentio/kafka-go"
	kgosasl "github.com/segmentio/kafka-go/sasl"
	kgoplain "github.com/segmentio/kafka-go/sasl/plain"
	kgoscram "github.com/segmentio/kafka-go/sasl/scram"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Dialer returns a new kafka-go dialer for kafka.ConsumerGroupConfig.Dialer
// and kafka.ReaderConfig.Dialer. It validates c first. The dialer is safe
// for concurrent use, as kafka-go requires.
func (c Config) Dialer() (*kafka.Dialer, error) {
	tlsCfg, mech, err := c.kafkaGoSettings()
	if err != nil {
		return nil, err
	}
	return &kafka.Dialer{
		Timeout:       c.dialTimeout(),
		DualStack:     true,
		TLS:           tlsCfg,
		SASLMechanism: mech,
	}, nil
}

// Transport returns a new kafka-go transport for kafka.Writer.Transport. It
// validates c first. Each Transport keeps its own connection pool, so share
// one among the writers to the same cluster. Close it with
// CloseIdleConnections when the writers are closed.
func (c Config) Transport() (*kafka.Transport, error) {
	tlsCfg, mech, err := c.kafkaGoSettings()
	if err != nil {
		return nil, err
	}
	timeout := c.dialTimeout()
	return &kafka.Transport{
		// kafka-go's default Dial gives up after 3s whatever DialTimeout says.
		Dial:        (&net.Dialer{Timeout: timeout}).DialContext,
		DialTimeout: timeout,
		TLS:         tlsCfg,
		SASL:        mech,
	}, nil
}

// KgoOptions returns the franz-go client options for the brokers, TLS and
// SASL, to pass to kgo.NewClient with any others. It validates c first.
func (c Config) KgoOptions() ([]kgo.Opt, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	tlsCfg, err := c.TLSClientConfig()
	if err != nil {
		return nil, err
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.DialTimeout(c.dialTimeout()),
	}
	if tlsCfg != nil {
		opts = append(opts, kgo.DialTLSConfig(tlsCfg))
	}
	if mech := c.SASL.franzMechanism(); mech != nil {
		opts = append(opts, kgo.SASL(mech))
	}
	return opts, nil
}

// kafkaGoSettings validates c and returns the TLS configuration and the SASL
// mechanism of a kafka-go Dialer or Transport. Either may be nil.
func (c Config) kafkaGoSettings() (*tls.Config, kgosasl.Mechanism, error) {
	if err := c.Validate(); err != nil {
		return nil, nil, err
	}
	tlsCfg, err := c.TLSClientConfig()
	if err != nil {
		return nil, nil, err
	}
	mech, err := c.SASL.kafkaGoMechanism()
	if err != nil {
		return nil, nil, err
	}
	return tlsCfg, mech, nil
}

func (s SASLConfig) kafkaGoMechanism() (kgosasl.Mechanism, error) {
	var (
		mech kgosasl.Mechanism
		err  error
	)
	user, password := s.Username, s.Password.Reveal()
	switch s.mechanism() {
	case "":
		return nil, nil
	case MechanismPlain:
		mech = kgoplain.Mechanism{Username: user, Password: password}
	case MechanismSCRAMSHA256:
		mech, err = kgoscram.Mechanism(kgoscram.SHA256, user, password)
	case MechanismSCRAMSHA512:
		mech, err = kgoscram.Mechanism(kgoscram.SHA512, user, password)
	default:
		return nil, fmt.Errorf("kafka SASL mechanism %q: unsupported", s.Mechanism)
	}
	if err != nil {
		// The error of xdg-go/scram quotes the password, so it is dropped.
		return nil, errors.New("kafka SASL: preparing the SCRAM credentials: invalid username or password")
	}
	return redactedMechanism{Mechanism: mech, user: user}, nil
}

// redactedMechanism is a kafka-go SASL mechanism that prints without its
// password. kafka-go's PLAIN mechanism is a struct with the password in a
// string field, which %+v of a Dialer or Transport would print.
type redactedMechanism struct {
	kgosasl.Mechanism
	user string
}

// Format writes the mechanism name and user, for every verb.
func (m redactedMechanism) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "%s (user %s, password %s)", m.Name(), m.user, redacted)
}

func (s SASLConfig) franzMechanism() sasl.Mechanism {
	user, password := s.Username, s.Password.Reveal()
	switch s.mechanism() {
	case MechanismPlain:
		return plain.Auth{User: user, Pass: password}.AsMechanism()
	case MechanismSCRAMSHA256:
		return scram.Auth{User: user, Pass: password}.AsSha256Mechanism()
	case MechanismSCRAMSHA512:
		return scram.Auth{User: user, Pass: password}.AsSha512Mechanism()
	}
	return nil
}
