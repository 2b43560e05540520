package kafkaconn

import (
	"log/slog"
	"strings"
)

// Describe returns the security protocol and its settings in Kafka's terms,
// such as "SASL_SSL (SCRAM-SHA-512, user ce-test, CA /etc/kafka/ca.pem)",
// for a start-up log line. It never contains the password.
func (c Config) Describe() string {
	var details []string
	if mech := c.SASL.mechanism(); mech != "" {
		details = append(details, mech, "user "+c.SASL.Username)
	}
	if c.TLS.Enabled {
		details = append(details, c.TLS.describe()...)
	}
	protocol := securityProtocol(c.TLS.Enabled, c.SASL.mechanism() != "")
	if len(details) == 0 {
		return protocol
	}
	return protocol + " (" + strings.Join(details, ", ") + ")"
}

func (t TLSConfig) describe() []string {
	var details []string
	if t.CAFile != "" {
		details = append(details, "CA "+t.CAFile)
	} else {
		details = append(details, "system CA roots")
	}
	if t.CertFile != "" {
		details = append(details, "client certificate "+t.CertFile)
	}
	if t.ServerName != "" {
		details = append(details, "server name "+t.ServerName)
	}
	if t.InsecureSkipVerify {
		details = append(details, "certificate verification off")
	}
	return details
}

// securityProtocol returns Kafka's security.protocol name for the choice.
func securityProtocol(useTLS, useSASL bool) string {
	switch {
	case useTLS && useSASL:
		return "SASL_SSL"
	case useTLS:
		return "SSL"
	case useSASL:
		return "SASL_PLAINTEXT"
	}
	return "PLAINTEXT"
}

// LogSummary logs the brokers and Describe at Info, and a warning when
// broker certificates are not verified. Call it once at start-up.
func (c Config) LogSummary(log *slog.Logger) {
	log.Info("kafka connection", "brokers", strings.Join(c.Brokers, ","), "security", c.Describe())
	if c.TLS.Enabled && c.TLS.InsecureSkipVerify {
		log.Warn("kafka TLS certificate verification is off, so anyone on the network path can impersonate the brokers and read the SASL credentials; set " +
			FlagTLSCAFile + " and remove " + FlagTLSInsecureSkipVerify)
	}
}
