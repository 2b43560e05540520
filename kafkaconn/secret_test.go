package kafkaconn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretInsideConfigRedacted(t *testing.T) {
	c := Config{
		Brokers: []string{"127.0.0.1:9093"},
		SASL:    SASLConfig{Mechanism: "PLAIN", Username: "ce-test", Password: testPassword},
	}
	outputs := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		outputs["Sprintf "+verb] = fmt.Sprintf(verb, c)
		outputs["Sprintf pointer "+verb] = fmt.Sprintf(verb, &c)
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outputs["json"] = string(b)
	b, err = json.Marshal(map[string]any{"password": c.SASL.Password, "list": []Secret{testPassword}})
	if err != nil {
		t.Fatal(err)
	}
	outputs["json map value"] = string(b)
	for name, out := range outputs {
		if strings.Contains(out, testPassword.Reveal()) {
			t.Errorf("%s = %s, contains the password", name, out)
		}
		if !strings.Contains(out, redacted) {
			t.Errorf("%s = %s, want %s in it", name, out, redacted)
		}
	}
}

func TestSecretInSlogRedacted(t *testing.T) {
	c := Config{SASL: SASLConfig{Mechanism: "PLAIN", Username: "ce-test", Password: testPassword}}
	handlers := map[string]func(*bytes.Buffer) slog.Handler{
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	}
	for name, newHandler := range handlers {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(newHandler(&buf))
			log.Info("secret", "password", testPassword, "sasl", c.SASL, "config", c)
			log.Info("group", slog.Group("kafka", slog.Any("password", testPassword)))
			log.With("password", testPassword).Info("with")
			out := buf.String()
			if strings.Contains(out, testPassword.Reveal()) {
				t.Errorf("log output contains the password:\n%s", out)
			}
			if got := strings.Count(out, redacted); got < 5 {
				t.Errorf("log output has %s %d times, want at least 5:\n%s", redacted, got, out)
			}
		})
	}
}
