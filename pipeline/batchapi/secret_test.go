package batchapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretFormatsRedacted(t *testing.T) {
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s", "%-20v", "%.3s", "%T"}
	for _, verb := range verbs {
		got := fmt.Sprintf(verb, testKey)
		if strings.Contains(got, testKey.Reveal()) || strings.Contains(got, fmt.Sprintf("%x", string(testKey))) {
			t.Errorf("Sprintf(%q) = %q, leaks the key", verb, got)
		}
		if verb != "%T" && got != redacted {
			t.Errorf("Sprintf(%q) = %q, want %q", verb, got, redacted)
		}
	}
	if got := fmt.Sprint(testKey) + fmt.Sprintln(testKey); strings.Contains(got, testKey.Reveal()) {
		t.Errorf("Sprint/Sprintln leak the key: %q", got)
	}
	if testKey.String() != redacted || testKey.GoString() != redacted {
		t.Error("String or GoString does not return [redacted]")
	}
}

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

func TestSecretMarshalsRedacted(t *testing.T) {
	data, err := json.Marshal(struct {
		Key  Secret
		Keys []Secret
	}{testKey, []Secret{testKey}})
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	if want := `{"Key":"[redacted]","Keys":["[redacted]"]}`; string(data) != want {
		t.Errorf("JSON = %s, want %s", data, want)
	}
	text, err := testKey.MarshalText()
	if err != nil || string(text) != redacted {
		t.Errorf("MarshalText = %q, %v, want [redacted]", text, err)
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

func TestSecretReveal(t *testing.T) {
	if got := Secret("k-123").Reveal(); got != "k-123" {
		t.Errorf("Reveal = %q, want k-123", got)
	}
}
