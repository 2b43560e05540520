package codec

import (
	"errors"
	"strings"
	"testing"
)

func TestCanonicalProfileURLAccepts(t *testing.T) {
	const want = "https://www.linkedin.com/in/avery-sample-2e84b5"
	tests := []struct {
		name string
		raw  string
		want string
	}{
		{"canonical url is unchanged", "https://www.linkedin.com/in/avery-sample-2e84b5", want},
		{"http scheme becomes https", "http://linkedin.com/in/avery-sample-2e84b5", want},
		{"upper-case scheme is accepted", "HTTPS://www.linkedin.com/in/avery-sample-2e84b5", want},
		{"host case is ignored", "https://WWW.LinkedIn.com/in/avery-sample-2e84b5?trk=public_profile_browsemap", want},
		{"bare host gets www", "https://linkedin.com/in/avery-sample-2e84b5", want},
		{"country host becomes www", "https://uk.linkedin.com/in/avery-sample-2e84b5/", want},
		{"german host becomes www", "https://de.linkedin.com/in/avery-sample-2e84b5", want},
		{"mobile host becomes www", "https://m.linkedin.com/in/avery-sample-2e84b5", want},
		{"mobile lite path is read", "https://www.linkedin.com/mwlite/in/avery-sample-2e84b5", want},
		{"mobile path is read", "https://m.linkedin.com/m/in/avery-sample-2e84b5/", want},
		{"trailing slash is dropped", "https://www.linkedin.com/in/avery-sample-2e84b5/", want},
		{"query is dropped", "https://www.linkedin.com/in/avery-sample-2e84b5?trk=public_profile_browsemap", want},
		{"fragment is dropped", "https://www.linkedin.com/in/avery-sample-2e84b5#experience", want},
		{"query before fragment is dropped", "https://www.linkedin.com/in/avery-sample-2e84b5/?a=1#b", want},
		{"surrounding spaces are trimmed", "  https://www.linkedin.com/in/avery-sample-2e84b5  ", want},
		{"tabs and newlines are trimmed", "\thttps://www.linkedin.com/in/avery-sample-2e84b5\r\n", want},
		{"missing scheme with www", "www.linkedin.com/in/avery-sample-2e84b5", want},
		{"missing scheme without www", "linkedin.com/in/avery-sample-2e84b5", want},
		{"scheme-relative url", "//www.linkedin.com/in/avery-sample-2e84b5", want},
		{"path after slug is dropped", "https://www.linkedin.com/in/avery-sample-2e84b5/details/experience/", want},
		{"upper-case slug is lowered", "https://www.linkedin.com/in/Avery-SAMPLE-2E84B5", want},
		{"upper-case in segment", "https://www.linkedin.com/IN/avery-sample-2e84b5", want},
		{"default https port", "https://www.linkedin.com:443/in/avery-sample-2e84b5", want},
		{"default http port", "http://www.linkedin.com:80/in/avery-sample-2e84b5", want},
		{"port without scheme", "www.linkedin.com:443/in/avery-sample-2e84b5", want},
		{"fully qualified host", "https://www.linkedin.com./in/avery-sample-2e84b5", want},
		{"underscore and dot in slug", "https://www.linkedin.com/in/Avery_Sample.2", "https://www.linkedin.com/in/avery_sample.2"},
		{"encoded non-ascii slug", "https://www.linkedin.com/in/jos%C3%A9-sample-1a2b3c", "https://www.linkedin.com/in/jos%C3%A9-sample-1a2b3c"},
		{"lower-case hex is upper-cased", "https://www.linkedin.com/in/jos%c3%a9-sample-1a2b3c", "https://www.linkedin.com/in/jos%C3%A9-sample-1a2b3c"},
		{"raw non-ascii slug is encoded", "https://www.linkedin.com/in/josé-sample-1a2b3c", "https://www.linkedin.com/in/jos%C3%A9-sample-1a2b3c"},
		{"doubly encoded slug", "https://www.linkedin.com/in/jos%25C3%25A9-sample-1a2b3c", "https://www.linkedin.com/in/jos%C3%A9-sample-1a2b3c"},
		{"encoded ascii letter is decoded", "https://www.linkedin.com/in/%41very", "https://www.linkedin.com/in/avery"},
		{"umlaut slug", "https://www.linkedin.com/in/m%C3%BCller-example-778899", "https://www.linkedin.com/in/m%C3%BCller-example-778899"},
		{"diaeresis slug", "https://www.linkedin.com/in/zo%C3%AB-fixture-4d5e6f", "https://www.linkedin.com/in/zo%C3%AB-fixture-4d5e6f"},
		{"non-ascii capital keeps case", "https://www.linkedin.com/in/Élise", "https://www.linkedin.com/in/%C3%89lise"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CanonicalProfileURL(tt.raw)
			if err != nil {
				t.Fatalf("CanonicalProfileURL(%q) error: %v", tt.raw, err)
			}
			if got != tt.want {
				t.Errorf("CanonicalProfileURL(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

func TestCanonicalProfileURLRejects(t *testing.T) {
	tests := []struct {
		name   string
		raw    string
		reason string
		detail string // a fragment the detail must contain
	}{
		{"empty string", "", ReasonNotAProfileURL, "it is empty"},
		{"only spaces", "   ", ReasonNotAProfileURL, "it is empty"},
		{"plain text", "not a url", ReasonNotAProfileURL, "not a URL"},
		{"single word", "linkedin", ReasonNotAProfileURL, "not a URL"},
		{"other host", "https://example.com/in/avery-sample", ReasonNotAProfileURL, `host "example.com"`},
		{"look-alike host", "https://linkedin.com.evil.example/in/avery", ReasonNotAProfileURL, "is not linkedin.com"},
		{"suffix without dot", "https://notlinkedin.com/in/avery", ReasonNotAProfileURL, "is not linkedin.com"},
		{"empty subdomain label", "https://.linkedin.com/in/avery", ReasonNotAProfileURL, "is not linkedin.com"},
		{"mailto scheme", "mailto:someone@example.com", ReasonNotAProfileURL, `scheme is "mailto"`},
		{"ftp scheme", "ftp://www.linkedin.com/in/avery", ReasonNotAProfileURL, `scheme is "ftp"`},
		{"scheme without slashes", "https:www.linkedin.com/in/avery", ReasonNotAProfileURL, "no //"},
		{"company page", "https://www.linkedin.com/company/acme-example/", ReasonNotAProfileURL, "company page"},
		{"school page", "https://www.linkedin.com/school/example-university/", ReasonNotAProfileURL, "school page"},
		{"feed", "https://www.linkedin.com/feed/", ReasonNotAProfileURL, `path "/feed/"`},
		{"search", "https://www.linkedin.com/search/results/people/?keywords=sample", ReasonNotAProfileURL, "not a person's profile"},
		{"jobs", "https://www.linkedin.com/jobs/view/123", ReasonNotAProfileURL, "not a person's profile"},
		{"host only", "https://www.linkedin.com", ReasonNotAProfileURL, "no path"},
		{"empty slug", "https://www.linkedin.com/in/", ReasonNotAProfileURL, "no profile name after /in/"},
		{"empty slug with query", "https://www.linkedin.com/in/?x=1", ReasonNotAProfileURL, "no profile name"},
		{"slug with space", "https://www.linkedin.com/in/avery%20sample", ReasonNotAProfileURL, "' '"},
		{"slug with slash", "https://www.linkedin.com/in/avery%2Fsample", ReasonNotAProfileURL, "'/'"},
		{"slug with plus", "https://www.linkedin.com/in/avery+sample", ReasonNotAProfileURL, "'+'"},
		{"slug of dots", "https://www.linkedin.com/in/..", ReasonNotAProfileURL, "no letter or digit"},
		{"slug with emoji", "https://www.linkedin.com/in/avery-😀", ReasonNotAProfileURL, "only letters"},
		{"invalid escape", "https://www.linkedin.com/in/avery%zz", ReasonNotAProfileURL, "invalid percent-escape"},
		{"invalid utf-8 after decoding", "https://www.linkedin.com/in/avery%C3", ReasonNotAProfileURL, "not valid UTF-8"},
		{"too many encoding layers", "https://www.linkedin.com/in/a%25252541", ReasonNotAProfileURL, "more than 3 times"},
		{"userinfo", "https://user:pass@www.linkedin.com/in/avery", ReasonNotAProfileURL, "user information"},
		{"other port", "https://www.linkedin.com:8443/in/avery", ReasonNotAProfileURL, `port "8443"`},
		{"http port on https", "https://www.linkedin.com:80/in/avery", ReasonNotAProfileURL, `port "80"`},
		{"signed port", "https://www.linkedin.com:+443/in/avery", ReasonNotAProfileURL, "port"},
		{"legacy pub url", "https://www.linkedin.com/pub/avery-sample/1/2/3", ReasonUnsupportedURL, "replace it with the /in/ URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CanonicalProfileURL(tt.raw)
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("CanonicalProfileURL(%q) = %q, %v; want a *DecodeError", tt.raw, got, err)
			}
			if de.Reason != tt.reason {
				t.Errorf("reason = %q, want %q", de.Reason, tt.reason)
			}
			if !strings.Contains(de.Detail, tt.detail) {
				t.Errorf("detail %q does not contain %q", de.Detail, tt.detail)
			}
			if !strings.Contains(de.Detail, quoteValue(tt.raw)) {
				t.Errorf("detail %q does not name the value %q", de.Detail, tt.raw)
			}
		})
	}
}

func TestQuoteValueTruncatesLongValues(t *testing.T) {
	long := "https://www.linkedin.com/in/" + strings.Repeat("é", 500)
	got := quoteValue(long)
	if len(got) > maxQuotedValue+40 {
		t.Errorf("quoteValue returned %d bytes, want about %d", len(got), maxQuotedValue)
	}
	if !strings.Contains(got, "bytes in all") {
		t.Errorf("quoteValue(%d bytes) = %q, want a note of the full length", len(long), got)
	}
	if strings.ContainsRune(got, '\uFFFD') || strings.Contains(got, `\x`) {
		t.Errorf("quoteValue cut a character in half: %q", got)
	}
}

func FuzzCanonicalProfileURL(f *testing.F) {
	for _, seed := range []string{
		"https://www.linkedin.com/in/avery-sample-2e84b5",
		"http://linkedin.com/in/riley-fixture-c51a19",
		"  https://uk.linkedin.com/in/lena-sample-77a35c/  ",
		"https://WWW.LinkedIn.com/in/x?trk=public_profile_browsemap#top",
		"www.linkedin.com/in/josé-sample-1a2b3c",
		"https://www.linkedin.com/in/jos%25C3%25A9-sample-1a2b3c",
		"https://www.linkedin.com/mwlite/in/x",
		"https://www.linkedin.com/pub/a/1/2/3",
		"mailto:someone@example.com",
		"not a url",
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := CanonicalProfileURL(raw)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || de.Detail == "" {
				t.Fatalf("CanonicalProfileURL(%q) error %v is not a *DecodeError with a detail", raw, err)
			}
			return
		}
		if !strings.HasPrefix(got, CanonicalPrefix) {
			t.Fatalf("CanonicalProfileURL(%q) = %q, want the prefix %q", raw, got, CanonicalPrefix)
		}
		again, err := CanonicalProfileURL(got)
		if err != nil || again != got {
			t.Fatalf("CanonicalProfileURL(%q) = %q, %v; want the canonical URL itself", got, again, err)
		}
	})
}
