package secret

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const testKey = Value("sk-test-0123456789abcdef")

func TestValueFormatsRedacted(t *testing.T) {
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s", "%-20v", "%.3s", "%T"}
	for _, verb := range verbs {
		got := fmt.Sprintf(verb, testKey)
		if strings.Contains(got, testKey.Reveal()) || strings.Contains(got, fmt.Sprintf("%x", string(testKey))) {
			t.Errorf("Sprintf(%q) = %q, leaks the key", verb, got)
		}
		if verb != "%T" && got != Redacted {
			t.Errorf("Sprintf(%q) = %q, want %q", verb, got, Redacted)
		}
	}
	if got := fmt.Sprint(testKey) + fmt.Sprintln(testKey); strings.Contains(got, testKey.Reveal()) {
		t.Errorf("Sprint/Sprintln leak the key: %q", got)
	}
	if testKey.String() != Redacted || testKey.GoString() != Redacted {
		t.Error("String or GoString does not return [redacted]")
	}
}

func TestValueInsideStructs(t *testing.T) {
	cfg := struct {
		URL string
		Key Value
	}{"https://api.example", testKey}
	for _, verb := range []string{"%v", "%+v", "%#v"} {
		if got := fmt.Sprintf(verb, cfg); strings.Contains(got, testKey.Reveal()) {
			t.Errorf("Sprintf(%q, cfg) leaks the value: %s", verb, got)
		}
		if got := fmt.Sprintf(verb, &cfg); strings.Contains(got, testKey.Reveal()) {
			t.Errorf("Sprintf(%q, &cfg) leaks the value: %s", verb, got)
		}
	}
}

func TestValueMarshalsRedacted(t *testing.T) {
	data, err := json.Marshal(struct {
		Key  Value
		Keys []Value
	}{testKey, []Value{testKey}})
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	if want := `{"Key":"[redacted]","Keys":["[redacted]"]}`; string(data) != want {
		t.Errorf("JSON = %s, want %s", data, want)
	}
	text, err := testKey.MarshalText()
	if err != nil || string(text) != Redacted {
		t.Errorf("MarshalText = %q, %v, want [redacted]", text, err)
	}
}

func TestValueInSlog(t *testing.T) {
	var buf bytes.Buffer
	for _, handler := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
		slog.New(handler).Info("configured", "api_key", testKey, "cfg", struct{ Key Value }{testKey})
	}
	if strings.Contains(buf.String(), testKey.Reveal()) {
		t.Errorf("log leaks the key: %s", buf.String())
	}
	if !strings.Contains(buf.String(), Redacted) {
		t.Errorf("log = %s, want [redacted]", buf.String())
	}
}

func TestValueReveal(t *testing.T) {
	if got := Value("k-123").Reveal(); got != "k-123" {
		t.Errorf("Reveal = %q, want k-123", got)
	}
}
