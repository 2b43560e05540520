package batchapi

import (
	"cmp"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of APIError.Message: an excerpt of a body that is not the API's
// JSON error envelope, and the envelope's error.message.
const (
	maxExcerptBytes = 200
	maxMessageBytes = 1000
)

// minSecretLen is the shortest query value that redaction replaces. Shorter
// values (a "1", an "s3") are not signatures, and replacing them would mangle
// the rest of a message.
const minSecretLen = 8

// redactURL returns raw without user info, fragment and query; a non-empty
// query is shown as "?[redacted]" because a pre-signed link carries its
// signature there.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return redactUnparsedURL(raw)
	}
	hadQuery := u.RawQuery != "" || u.ForceQuery
	u.User = nil
	u.RawQuery = ""
	u.ForceQuery = false
	u.Fragment = ""
	u.RawFragment = ""
	if hadQuery {
		return u.String() + "?" + redacted
	}
	return u.String()
}

// redactUnparsedURL cuts what url.Parse rejected at its first '?' or '#' and
// drops anything up to an '@', which may be user info.
func redactUnparsedURL(raw string) string {
	cut := strings.IndexAny(raw, "?#")
	hadQuery := cut >= 0
	if hadQuery {
		raw = raw[:cut]
	}
	if at := strings.LastIndex(raw, "@"); at >= 0 {
		raw = raw[at+1:]
	}
	if hadQuery {
		return raw + "?" + redacted
	}
	return raw
}

// urlSecrets returns the parts of a download URL that must not appear in an
// error: the whole query, each long query value and the user info.
func urlSecrets(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	secrets := []string{u.RawQuery}
	for _, values := range u.Query() {
		for _, v := range values {
			secrets = append(secrets, v, url.QueryEscape(v))
		}
	}
	if u.User != nil {
		secrets = append(secrets, u.User.String())
	}
	return secrets
}

// scrubber replaces known secrets in text taken from a response body, in case
// a server echoes the request (its Authorization header or its URL).
type scrubber []string

// newScrubber keeps the secrets of at least minSecretLen bytes, longest first
// so that a secret containing another is replaced whole.
func newScrubber(secrets ...string) scrubber {
	var sc scrubber
	for _, s := range secrets {
		if len(s) >= minSecretLen {
			sc = append(sc, s)
		}
	}
	slices.SortFunc(sc, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	return sc
}

// scrub replaces every secret in s with [redacted].
func (sc scrubber) scrub(s string) string {
	for _, secret := range sc {
		s = strings.ReplaceAll(s, secret, redacted)
	}
	return s
}

// scrubValue applies scrub to every string inside a decoded JSON value.
func (sc scrubber) scrubValue(v any) any {
	switch v := v.(type) {
	case string:
		return sc.scrub(v)
	case []any:
		for i := range v {
			v[i] = sc.scrubValue(v[i])
		}
		return v
	case map[string]any:
		return sc.scrubMap(v)
	}
	return v
}

// scrubMap applies scrub to the keys and values of m, in a new map.
func (sc scrubber) scrubMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[sc.scrub(k)] = sc.scrubValue(v)
	}
	return out
}

// excerpt returns a printable, single-line excerpt of body of at most limit
// bytes, with secrets replaced before it is cut.
func (sc scrubber) excerpt(body []byte, limit int) string {
	s := strings.ToValidUTF8(string(body), "\uFFFD")
	s = sc.scrub(s)
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	return truncateUTF8(s, limit)
}

// truncateUTF8 cuts s to at most n bytes on a rune boundary, marking the cut
// with "...".
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "..."
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}
