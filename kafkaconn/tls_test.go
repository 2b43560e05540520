package kafkaconn

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestTLSClientConfigNilWhenOff(t *testing.T) {
	cfg, err := Config{Brokers: []string{"127.0.0.1:9092"}}.TLSClientConfig()
	if err != nil || cfg != nil {
		t.Errorf("TLSClientConfig() = %v, %v; want nil, nil", cfg, err)
	}
}

func TestTLSClientConfigFields(t *testing.T) {
	pki := newTestPKI(t)
	c := Config{TLS: TLSConfig{Enabled: true, CAFile: pki.caFile, CertFile: pki.clientCert, KeyFile: pki.clientKey, ServerName: "broker-1"}}
	cfg, err := c.TLSClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("MinVersion = %#x, want TLS 1.2", cfg.MinVersion)
	}
	if cfg.RootCAs == nil {
		t.Error("RootCAs = nil, want the CA file's pool")
	}
	if len(cfg.Certificates) != 1 {
		t.Errorf("Certificates has %d, want 1", len(cfg.Certificates))
	}
	if cfg.ServerName != "broker-1" {
		t.Errorf("ServerName = %q, want broker-1", cfg.ServerName)
	}
	if cfg.InsecureSkipVerify {
		t.Error("InsecureSkipVerify = true, want false")
	}

	cfg, err = Config{TLS: TLSConfig{Enabled: true}}.TLSClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RootCAs != nil || cfg.ServerName != "" || len(cfg.Certificates) != 0 {
		t.Errorf("TLSClientConfig() without files = %+v, want system roots, no server name, no certificate", cfg)
	}
}

// TestTLSClientConfigHandshake runs each configuration against a TLS
// server on 127.0.0.1 that requires a client certificate from the test CA.
func TestTLSClientConfigHandshake(t *testing.T) {
	pki := newTestPKI(t)
	addr, clientNames := startTLSServer(t, &tls.Config{
		Certificates: []tls.Certificate{pki.server},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pki.caPool,
	})
	withCert := TLSConfig{Enabled: true, CAFile: pki.caFile, CertFile: pki.clientCert, KeyFile: pki.clientKey}

	t.Run("CA and client certificate", func(t *testing.T) {
		if err := roundTripTLS(t, withCert, addr); err != nil {
			t.Fatalf("handshake: %v", err)
		}
		select {
		case name := <-clientNames:
			if name != "client" {
				t.Errorf("server saw client certificate %q, want client", name)
			}
		case <-time.After(5 * time.Second):
			t.Error("server saw no client certificate within 5s")
		}
	})

	t.Run("server name override", func(t *testing.T) {
		tc := withCert
		tc.ServerName = "localhost"
		if err := roundTripTLS(t, tc, addr); err != nil {
			t.Fatalf("handshake with server name localhost: %v", err)
		}
	})

	t.Run("insecure skip verify", func(t *testing.T) {
		tc := withCert
		tc.CAFile = ""
		tc.InsecureSkipVerify = true
		if err := roundTripTLS(t, tc, addr); err != nil {
			t.Fatalf("handshake without verification: %v", err)
		}
	})

	failures := []struct {
		name string
		tls  TLSConfig
		want []string
	}{
		{"CA that did not sign the server", TLSConfig{Enabled: true, CAFile: pki.otherCAFile, CertFile: pki.clientCert, KeyFile: pki.clientKey},
			[]string{"unknown authority", FlagTLSCAFile, "instead of " + pki.otherCAFile}},
		{"server name not in certificate", TLSConfig{Enabled: true, CAFile: pki.caFile, ServerName: "broker.invalid"},
			[]string{"does not name the host", FlagTLSServerName}},
		{"no client certificate", TLSConfig{Enabled: true, CAFile: pki.caFile},
			[]string{"client certificate", FlagTLSCertFile, FlagTLSKeyFile}},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			err := roundTripTLS(t, tt.tls, addr)
			if err == nil {
				t.Fatal("handshake succeeded, want an error")
			}
			explained := Config{Brokers: []string{addr}, TLS: tt.tls}.ExplainError(err)
			t.Log(explained)
			for _, w := range tt.want {
				if !strings.Contains(explained.Error(), w) {
					t.Errorf("ExplainError() = %q, want it to contain %q", explained, w)
				}
			}
			if !errors.Is(explained, err) {
				t.Error("ExplainError() does not unwrap to the handshake error")
			}
		})
	}
}

// roundTripTLS connects to addr with the client configuration of tc and
// reads the server's greeting. With TLS 1.3 the server reports a rejected
// client certificate only after the client's handshake, so the read is
// where that error shows.
func roundTripTLS(t *testing.T, tc TLSConfig, addr string) error {
	t.Helper()
	cfg, err := Config{TLS: tc}.TLSClientConfig()
	if err != nil {
		t.Fatalf("TLSClientConfig() = %v", err)
	}
	dialer := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: cfg}
	conn, err := dialer.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	greeting := make([]byte, 2)
	if _, err := io.ReadFull(conn, greeting); err != nil {
		return err
	}
	return nil
}

// startTLSServer serves TLS on 127.0.0.1: it completes the handshake of
// each connection, sends the client certificate's common name to the
// returned channel, writes "ok" and closes the connection.
func startTLSServer(t *testing.T, cfg *tls.Config) (string, <-chan string) {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	names := make(chan string, 16)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { serveTLSConn(conn.(*tls.Conn), names) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return ln.Addr().String(), names
}

func serveTLSConn(conn *tls.Conn, names chan<- string) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if err := conn.Handshake(); err != nil {
		return
	}
	if peers := conn.ConnectionState().PeerCertificates; len(peers) > 0 {
		select {
		case names <- peers[0].Subject.CommonName:
		default:
		}
	}
	conn.Write([]byte("ok"))
}
