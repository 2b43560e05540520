package batchapi

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRedactURL(t *testing.T) {
	tests := []struct {
		name, raw, want string
	}{
		{"no query", "https://files.example/r.jsonl.gz", "https://files.example/r.jsonl.gz"},
		{"signed query", "https://files.example/r.jsonl.gz?X-Amz-Signature=abc&X-Amz-Expires=1", "https://files.example/r.jsonl.gz?[redacted]"},
		{"user info and fragment", "https://u:p@files.example/r#frag", "https://files.example/r"},
		{"unparsable URL", "http://%zz/r?sig=abc", "http://%zz/r?[redacted]"},
		{"unparsable URL with user info", "http://u:p@%zz/r", "%zz/r"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redactURL(tt.raw); got != tt.want {
				t.Errorf("redactURL(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

func TestExcerpt(t *testing.T) {
	sc := newScrubber("secret-value-123", "short")
	tests := []struct {
		name, body, want string
	}{
		{"collapses whitespace and control bytes", "a\r\n\tb\x00\x1bc", "a b c"},
		{"replaces long secrets only", "key=secret-value-123 short", "key=[redacted] short"},
		{"replaces invalid UTF-8", "a\xffb", "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sc.excerpt([]byte(tt.body), maxExcerptBytes); got != tt.want {
				t.Errorf("excerpt = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestExcerptCutsLongBodies(t *testing.T) {
	body := strings.Repeat("é", 500) + "secret-value-123"
	got := newScrubber("secret-value-123").excerpt([]byte(body), maxExcerptBytes)

	if len(got) > maxExcerptBytes {
		t.Errorf("excerpt has %d bytes, want at most %d", len(got), maxExcerptBytes)
	}
	if !utf8.ValidString(got) || !strings.HasSuffix(got, "...") {
		t.Errorf("excerpt = %q, want valid UTF-8 ending in ...", got)
	}
}

func TestScrubberPrefersLongerSecret(t *testing.T) {
	sc := newScrubber("abcdefgh", "abcdefgh-ijklmnop")
	if got := sc.scrub("x abcdefgh-ijklmnop y"); got != "x [redacted] y" {
		t.Errorf("scrub = %q, want the longer secret replaced whole", got)
	}
}

func TestParseErrorBody(t *testing.T) {
	tests := []struct {
		name, body        string
		wantType, wantMsg string
		wantMetadataKey   string
	}{
		{"API envelope", `{"error": {"type": "insufficient_credits", "message": "no credits", "metadata": {"required": 3}}}`, "insufficient_credits", "no credits", "required"},
		{"error as a string", `{"error": "bad gateway"}`, "", "bad gateway", ""},
		{"null error falls back to an excerpt", `{"error": null}`, "", `{"error": null}`, ""},
		{"JSON without an error key", `{"detail": "x"}`, "", `{"detail": "x"}`, ""},
		{"object store XML", `<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>`, "", "NoSuchKey: gone", ""},
		{"HTML page", "<html>\n<body>Bad Gateway</body>\n</html>", "", "<html> <body>Bad Gateway</body> </html>", ""},
		{"empty body", "  ", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &APIError{}
			parseErrorBody(e, []byte(tt.body), nil)

			if e.Type != tt.wantType || e.Message != tt.wantMsg {
				t.Errorf("Type, Message = %q, %q, want %q, %q", e.Type, e.Message, tt.wantType, tt.wantMsg)
			}
			if _, ok := e.Metadata[tt.wantMetadataKey]; tt.wantMetadataKey != "" && !ok {
				t.Errorf("Metadata = %v, want key %q", e.Metadata, tt.wantMetadataKey)
			}
		})
	}
}
