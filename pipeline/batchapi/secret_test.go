package batchapi

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretInsideStructs(t *testing.T) {
	cfg := Config{BaseURL: DefaultBaseURL, APIKey: testKey}
	for _, verb := range []string{"%v", "%+v", "%#v"} {
		if got := fmt.Sprintf(verb, cfg); strings.Contains(got, testKey.Reveal()) {
			t.Errorf("Sprintf(%q, cfg) leaks the key: %s", verb, got)
		}
		if got := fmt.Sprintf(verb, &cfg); strings.Contains(got, testKey.Reveal()) {
			t.Errorf("Sprintf(%q, &cfg) leaks the key: %s", verb, got)
		}
	}
}

func TestSecretInSlog(t *testing.T) {
	var buf bytes.Buffer
	for _, handler := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
		slog.New(handler).Info("configured", "api_key", testKey, "cfg", Config{APIKey: testKey})
	}
	if strings.Contains(buf.String(), testKey.Reveal()) {
		t.Errorf("log leaks the key: %s", buf.String())
	}
	if !strings.Contains(buf.String(), redacted) {
		t.Errorf("log = %s, want [redacted]", buf.String())
	}
}
