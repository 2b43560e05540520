package kafkaconn

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"
)

// TLSClientConfig returns the TLS configuration of every connection, or nil
// when TLS is off. It loads the CA, certificate and key files on each call.
// ServerName stays empty unless set,
// because kafka-go and franz-go then verify each broker against the host
// they dial, which is right for a cluster whose brokers have certificates
// of their own.
func (c Config) TLSClientConfig() (*tls.Config, error) {
	t := c.TLS
	if !t.Enabled {
		return nil, nil
	}
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify,
	}
	if t.CAFile != "" {
		pool, err := loadCAFile(t.CAFile)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if t.CertFile != "" || t.KeyFile != "" {
		if t.CertFile == "" || t.KeyFile == "" {
			return nil, errors.New("kafka TLS client certificate and key: set both or neither")
		}
		cert, err := loadKeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// loadCAFile returns a pool of the certificates in the PEM file at path. It
// rejects a file with no certificate or with one that does not parse, which
// x509.CertPool.AppendCertsFromPEM would skip without a word.
func loadCAFile(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading kafka TLS CA file: %w", err)
	}
	pool := x509.NewCertPool()
	count := 0
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		count++
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing certificate %d of kafka TLS CA file %s: %w", count, path, err)
		}
		pool.AddCert(cert)
	}
	if count == 0 {
		return nil, fmt.Errorf("kafka TLS CA file %s: no PEM certificate found; set %s to a PEM bundle", path, FlagTLSCAFile)
	}
	return pool, nil
}

// loadKeyPair loads a client certificate and its key, and rejects a pair
// that does not match or a certificate that has expired, which the broker
// would reject with only a TLS alert.
func loadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("reading kafka TLS client certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("reading kafka TLS client key: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("loading kafka TLS client certificate %s with key %s: %w", certFile, keyFile, err)
	}
	// X509KeyPair fills Leaf since Go 1.23.
	if now := time.Now(); cert.Leaf != nil && now.After(cert.Leaf.NotAfter) {
		return tls.Certificate{}, fmt.Errorf("kafka TLS client certificate %s: expired on %s", certFile, cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return cert, nil
}
