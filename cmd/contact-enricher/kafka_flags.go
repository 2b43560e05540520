package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/contact-enricher/contact-enricher/kafkaconn"
)

// kafkaPasswordEnv is the environment variable that carries the SASL
// password. The password has no flag, because flags show in process
// listings.
const kafkaPasswordEnv = kafkaconn.PasswordEnv

// registerKafkaFlags registers on fs the TLS and SASL flags of the Kafka
// connection, which set c while fs is parsed. It reads the SASL password
// from kafkaPasswordEnv into c at once, and --kafka-sasl-password-file, when
// given, replaces it while fs is parsed. The brokers stay with --brokers,
// which the caller registers. Call c.Validate after parsing.
func registerKafkaFlags(fs *flag.FlagSet, c *kafkaconn.Config) {
	fs.BoolVar(&c.TLS.Enabled, "kafka-tls", false,
		"connect to the brokers over TLS, as to an SSL or SASL_SSL listener")
	fs.StringVar(&c.TLS.CAFile, "kafka-tls-ca-file", "",
		"PEM file of the CA certificates that verify the brokers; empty: the system roots")
	fs.StringVar(&c.TLS.CertFile, "kafka-tls-cert-file", "",
		"PEM client certificate, for brokers that authenticate clients by certificate; needs --kafka-tls-key-file")
	fs.StringVar(&c.TLS.KeyFile, "kafka-tls-key-file", "",
		"PEM private key of --kafka-tls-cert-file")
	fs.StringVar(&c.TLS.ServerName, "kafka-tls-server-name", "",
		"host name to verify in the broker certificates; empty: the host of each broker address")
	fs.BoolVar(&c.TLS.InsecureSkipVerify, "kafka-tls-insecure-skip-verify", false,
		"skip verifying the broker certificates, which lets anyone on the network path read the credentials; for tests only")
	fs.StringVar(&c.SASL.Mechanism, "kafka-sasl-mechanism", "",
		"SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, in any case; empty: no SASL")
	fs.StringVar(&c.SASL.Username, "kafka-sasl-username", "",
		"username to authenticate as over SASL")
	fs.Func("kafka-sasl-password-file",
		"file that contains the SASL password; otherwise the password is read from "+kafkaPasswordEnv,
		func(path string) error { return loadKafkaPassword(c, path) })
	// Reading the environment cannot fail, so the error is always nil.
	_ = loadKafkaPassword(c, "")
}

// loadKafkaPassword sets c.SASL.Password from file, or from kafkaPasswordEnv
// when file is empty. One final line break is dropped, because editors and
// echo add one. Other white space is kept, because it can be part of a
// password.
func loadKafkaPassword(c *kafkaconn.Config, file string) error {
	if file == "" {
		c.SASL.Password = kafkaconn.Secret(trimLineBreak(os.Getenv(kafkaPasswordEnv)))
		return nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("reading kafka SASL password file: %w", err)
	}
	password := trimLineBreak(string(b))
	if password == "" {
		return fmt.Errorf("kafka SASL password file %s: empty", file)
	}
	c.SASL.Password = kafkaconn.Secret(password)
	return nil
}

func trimLineBreak(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return strings.TrimSuffix(s, "\r")
}
