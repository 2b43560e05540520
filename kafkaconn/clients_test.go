package kafkaconn

import (
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
)

func TestDialerSettings(t *testing.T) {
	pki := newTestPKI(t)
	for _, tc := range []struct {
		mechanism, wantName string
	}{
		{"", ""},
		{"plain", MechanismPlain},
		{"Scram-Sha-256", MechanismSCRAMSHA256},
		{"SCRAM-SHA-512", MechanismSCRAMSHA512},
	} {
		t.Run("mechanism "+tc.wantName, func(t *testing.T) {
			c := Config{Brokers: []string{"127.0.0.1:9093"}, TLS: TLSConfig{Enabled: true, CAFile: pki.caFile}}
			if tc.mechanism != "" {
				c.SASL = SASLConfig{Mechanism: tc.mechanism, Username: "ce-test", Password: testPassword}
			}
			d, err := c.Dialer()
			if err != nil {
				t.Fatal(err)
			}
			if d.Timeout != DefaultDialTimeout || !d.DualStack {
				t.Errorf("Timeout, DualStack = %s, %t; want %s, true", d.Timeout, d.DualStack, DefaultDialTimeout)
			}
			if d.TLS == nil || d.TLS.MinVersion != tls.VersionTLS12 || d.TLS.RootCAs == nil {
				t.Errorf("TLS = %+v, want TLS 1.2 or later with the CA file's pool", d.TLS)
			}
			switch {
			case tc.wantName == "" && d.SASLMechanism != nil:
				t.Errorf("SASLMechanism = %v, want nil", d.SASLMechanism)
			case tc.wantName != "" && (d.SASLMechanism == nil || d.SASLMechanism.Name() != tc.wantName):
				t.Errorf("SASLMechanism = %v, want %s", d.SASLMechanism, tc.wantName)
			}
		})
	}
}

func TestTransportSettings(t *testing.T) {
	c := Config{
		Brokers:     []string{"127.0.0.1:9093"},
		DialTimeout: 3 * time.Second,
		SASL:        SASLConfig{Mechanism: "SCRAM-SHA-256", Username: "ce-test", Password: testPassword},
	}
	tr, err := c.Transport()
	if err != nil {
		t.Fatal(err)
	}
	if tr.DialTimeout != 3*time.Second || tr.Dial == nil {
		t.Errorf("DialTimeout = %s, Dial set %t; want 3s and a dial function", tr.DialTimeout, tr.Dial != nil)
	}
	if tr.TLS != nil {
		t.Errorf("TLS = %+v, want nil while TLS is off", tr.TLS)
	}
	if tr.SASL == nil || tr.SASL.Name() != MechanismSCRAMSHA256 {
		t.Errorf("SASL = %v, want SCRAM-SHA-256", tr.SASL)
	}
}

func TestKgoOptionsSettings(t *testing.T) {
	c := Config{
		Brokers: []string{"127.0.0.1:9093", "127.0.0.2:9093"},
		TLS:     TLSConfig{Enabled: true, ServerName: "kafka.internal"},
		SASL:    SASLConfig{Mechanism: "scram-sha-512", Username: "ce-test", Password: testPassword},
	}
	opts, err := c.KgoOptions()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if got := fmt.Sprint(cl.OptValue(kgo.SeedBrokers)); got != "[127.0.0.1:9093 127.0.0.2:9093]" {
		t.Errorf("SeedBrokers = %s, want both brokers", got)
	}
	if got := cl.OptValue(kgo.DialTimeout); got != DefaultDialTimeout {
		t.Errorf("DialTimeout = %v, want %s", got, DefaultDialTimeout)
	}
	if got, _ := cl.OptValue(kgo.DialTLSConfig).(*tls.Config); got == nil || got.ServerName != "kafka.internal" || got.MinVersion != tls.VersionTLS12 {
		t.Errorf("DialTLSConfig = %+v, want server name kafka.internal and TLS 1.2 or later", got)
	}
	mechs, _ := cl.OptValue(kgo.SASL).([]sasl.Mechanism)
	if len(mechs) != 1 || mechs[0].Name() != MechanismSCRAMSHA512 {
		t.Errorf("SASL = %v, want SCRAM-SHA-512", mechs)
	}
}

func TestConstructorsRejectInvalidConfig(t *testing.T) {
	c := Config{Brokers: []string{"127.0.0.1:9093"}, SASL: SASLConfig{Mechanism: "SCRAM-SHA-512"}}
	_, dialErr := c.Dialer()
	_, transportErr := c.Transport()
	_, kgoErr := c.KgoOptions()
	for name, err := range map[string]error{"Dialer": dialErr, "Transport": transportErr, "KgoOptions": kgoErr} {
		if err == nil || !strings.Contains(err.Error(), "missing username") {
			t.Errorf("%s() error = %v, want the Validate error", name, err)
		}
	}
}

// TestClientsPrintWithoutPassword checks that %v and its variants of the
// kafka-go dialer and transport hide the password, which kafka-go's PLAIN
// mechanism keeps in a plain string field.
func TestClientsPrintWithoutPassword(t *testing.T) {
	c := Config{Brokers: []string{"127.0.0.1:9093"}, SASL: SASLConfig{Mechanism: "PLAIN", Username: "ce-plain", Password: testPassword}}
	d, err := c.Dialer()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := c.Transport()
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		for name, v := range map[string]any{"Dialer": d, "Transport": tr, "mechanism": d.SASLMechanism} {
			out := fmt.Sprintf(verb, v)
			if strings.Contains(out, testPassword.Reveal()) {
				t.Errorf("Sprintf(%q, %s) = %s, contains the password", verb, name, out)
			}
		}
	}
	if got := fmt.Sprint(d.SASLMechanism); got != "PLAIN (user ce-plain, password [redacted])" {
		t.Errorf("Sprint(mechanism) = %q, want the name and user", got)
	}
}
