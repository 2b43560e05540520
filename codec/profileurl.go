package codec

import (
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CanonicalPrefix is the start of every canonical profile URL; the
// profile name (slug) follows it.
const CanonicalPrefix = "https://www.linkedin.com/in/"

// maxDecodeRounds bounds how many layers of percent-encoding a slug may
// carry. CRMs that store a URL-encoded URL produce two layers.
const maxDecodeRounds = 3

// CanonicalProfileURL returns the canonical form
// https://www.linkedin.com/in/<slug> of a person profile URL, or a
// *DecodeError with ReasonNotAProfileURL or ReasonUnsupportedURL.
//
// The slug keeps ASCII letters in lower case and carries every non-ASCII
// character percent-encoded once with upper-case hex. The function is
// idempotent: a canonical URL canonicalises to itself.
func CanonicalProfileURL(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", notProfileURL(raw, "it is empty")
	}
	rest, port, problem := stripScheme(s)
	if problem != "" {
		return "", notProfileURL(raw, problem)
	}
	authority, path := splitURL(rest)
	if problem := checkAuthority(authority, port); problem != "" {
		return "", notProfileURL(raw, problem)
	}
	return profileFromPath(raw, path)
}

// stripScheme removes an http or https scheme and returns the rest and the
// default port of the scheme ("" when the URL has no scheme, which allows
// either default port). problem is set for any other scheme.
func stripScheme(s string) (rest, port, problem string) {
	scheme, after, ok := strings.Cut(s, ":")
	if !ok || !isScheme(scheme) || (after != "" && isDigit(after[0])) {
		// No scheme, or host:port without a scheme.
		return strings.TrimPrefix(s, "//"), "", ""
	}
	switch strings.ToLower(scheme) {
	case "https":
		port = "443"
	case "http":
		port = "80"
	default:
		return "", "", "its scheme is " + strconv.Quote(scheme) + ", and only http and https links are profile URLs"
	}
	if !strings.HasPrefix(after, "//") {
		return "", "", "no // follows " + strconv.Quote(scheme+":")
	}
	return after[2:], port, ""
}

// isScheme reports whether s is an RFC 3986 scheme name.
func isScheme(s string) bool {
	if s == "" || !isASCIILetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isASCIILetter(c) && !isDigit(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// splitURL splits what follows the scheme into the authority and the
// path, dropping any query and fragment.
func splitURL(rest string) (authority, path string) {
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		return rest, ""
	}
	authority, path = rest[:end], rest[end:]
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	return authority, path
}

// checkAuthority accepts linkedin.com and its subdomains, in any case,
// with no user information and no port other than the default.
func checkAuthority(authority, defaultPort string) string {
	if strings.Contains(authority, "@") {
		return "it contains user information (a name before @), which a profile link never has"
	}
	host := authority
	if i := strings.LastIndexByte(authority, ':'); i >= 0 {
		host = authority[:i]
		if !isDefaultPort(authority[i+1:], defaultPort) {
			return "its port " + strconv.Quote(authority[i+1:]) + " is not the default port of its scheme"
		}
	}
	host = strings.TrimSuffix(host, ".")
	if !strings.Contains(host, ".") || strings.ContainsAny(host, " \t") {
		return "it is not a URL"
	}
	if !isLinkedInHost(host) {
		return "its host " + strconv.Quote(host) + " is not linkedin.com or a subdomain of it"
	}
	return ""
}

func isDefaultPort(port, defaultPort string) bool {
	if port == "" {
		return true
	}
	for i := 0; i < len(port); i++ {
		if !isDigit(port[i]) {
			return false
		}
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return false
	}
	if defaultPort == "" {
		return n == 80 || n == 443
	}
	return strconv.Itoa(n) == defaultPort
}

// isLinkedInHost reports whether host is linkedin.com or a well-formed
// subdomain of it (www., m., uk., ...), in any letter case.
func isLinkedInHost(host string) bool {
	const apex = "linkedin.com"
	if strings.EqualFold(host, apex) {
		return true
	}
	if len(host) <= len(apex)+1 || !strings.EqualFold(host[len(host)-len(apex)-1:], "."+apex) {
		return false
	}
	label := 0
	for i := 0; i < len(host)-len(apex); i++ {
		c := host[i]
		switch {
		case c == '.':
			if label == 0 {
				return false
			}
			label = 0
		case isASCIILetter(c) || isDigit(c) || c == '-':
			label++
		default:
			return false
		}
	}
	return true
}

// profileFromPath finds the slug in /in/<slug>, /m/in/<slug> or
// /mwlite/in/<slug>, ignoring whatever follows the slug.
func profileFromPath(raw, path string) (string, error) {
	first, rest := nextSegment(path)
	if strings.EqualFold(first, "m") || strings.EqualFold(first, "mwlite") {
		first, rest = nextSegment(rest)
	}
	slug, _ := nextSegment(rest)
	switch strings.ToLower(first) {
	case "in":
		if slug == "" {
			return "", notProfileURL(raw, "it has no profile name after /in/")
		}
		return canonicalSlug(raw, slug)
	case "pub":
		return "", &DecodeError{Reason: ReasonUnsupportedURL, Detail: quoteValue(raw) +
			" is a legacy /pub/ profile URL, which cannot be mapped to a current one; " +
			"replace it with the /in/ URL shown on the person's profile page"}
	case "":
		return "", notProfileURL(raw, "it has no path")
	case "company", "school", "showcase":
		return "", notProfileURL(raw, "it is a LinkedIn "+strings.ToLower(first)+" page, not a person's profile")
	}
	return "", notProfileURL(raw, "its path "+quoteValue(path)+" is not a person's profile")
}

// nextSegment returns the first non-empty segment of path and the rest.
func nextSegment(path string) (segment, rest string) {
	path = strings.TrimLeft(path, "/")
	segment, rest, _ = strings.Cut(path, "/")
	return segment, rest
}

// canonicalSlug decodes every layer of percent-encoding, checks the
// characters and encodes the result once.
func canonicalSlug(raw, slug string) (string, error) {
	decoded := slug
	for round := 0; strings.Contains(decoded, "%"); round++ {
		if round == maxDecodeRounds {
			return "", notProfileURL(raw, "its profile name is percent-encoded more than "+strconv.Itoa(maxDecodeRounds)+" times")
		}
		next, err := url.PathUnescape(decoded)
		if err != nil {
			return "", notProfileURL(raw, "its profile name contains an invalid percent-escape")
		}
		decoded = next
	}
	if !utf8.ValidString(decoded) {
		return "", notProfileURL(raw, "its profile name is not valid UTF-8 after percent-decoding")
	}
	return encodeSlug(raw, decoded)
}

// encodeSlug builds the canonical URL from a decoded slug.
func encodeSlug(raw, decoded string) (string, error) {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(CanonicalPrefix) + 3*len(decoded))
	b.WriteString(CanonicalPrefix)
	alphanumeric := false
	for i, r := range decoded {
		switch {
		case r < utf8.RuneSelf && isSlugASCII(byte(r)):
			alphanumeric = alphanumeric || isASCIILetter(byte(r)) || isDigit(byte(r))
			b.WriteByte(toLowerASCII(byte(r)))
		case r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsMark(r)):
			// NOTE: no Unicode normalisation is applied, so the composed
			// and decomposed spellings of a letter give different URLs.
			alphanumeric = true
			for _, c := range []byte(decoded[i : i+utf8.RuneLen(r)]) {
				b.WriteByte('%')
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0x0f])
			}
		default:
			return "", notProfileURL(raw, "its profile name contains "+strconv.QuoteRune(r)+
				"; a profile name has only letters, digits, '-', '_' and '.'")
		}
	}
	if !alphanumeric {
		return "", notProfileURL(raw, "its profile name has no letter or digit")
	}
	return b.String(), nil
}

func isSlugASCII(c byte) bool {
	return isASCIILetter(c) || isDigit(c) || c == '-' || c == '_' || c == '.'
}

func isASCIILetter(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func toLowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func notProfileURL(raw, problem string) *DecodeError {
	return &DecodeError{Reason: ReasonNotAProfileURL, Detail: quoteValue(raw) +
		" is not a LinkedIn person profile URL: " + problem +
		"; use the https://www.linkedin.com/in/<name> URL from the person's profile page"}
}

// maxQuotedValue is how much of a bad value a message repeats.
const maxQuotedValue = 200

// quoteValue quotes s for a message, cut to about 200 bytes.
func quoteValue(s string) string {
	short, cut := truncateValue(s)
	if !cut {
		return strconv.Quote(s)
	}
	return strconv.Quote(short) + "... (" + strconv.Itoa(len(s)) + " bytes in all)"
}

// truncateValue cuts s to about 200 bytes at a character boundary and
// reports whether it cut.
func truncateValue(s string) (string, bool) {
	if len(s) <= maxQuotedValue {
		return s, false
	}
	cut := maxQuotedValue
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut], true
}
