package batchapitest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strconv"
	"time"
)

// fileAll names the whole results file; part files are part-1, part-2, ...
const fileAll = "all"

func partName(k int) string {
	return "part-" + strconv.Itoa(k)
}

// filePath is the path of a results file, below the public base URL.
func filePath(id, name string) string {
	return "/files/" + url.PathEscape(id) + "/" + name
}

// signedLink returns a pre-signed link to a results file, valid until expires.
func (s *Server) signedLink(baseURL, id, name string, expires time.Time) string {
	path := filePath(id, name)
	exp := strconv.FormatInt(expires.Unix(), 10)
	return baseURL + path + "?expires=" + exp + "&sig=" + s.linkSignature(path, exp)
}

// linkSignature is the hex HMAC-SHA256 of path, a newline and expires, keyed
// with the server's random secret, so links of another server never verify.
func (s *Server) linkSignature(path, expires string) string {
	mac := hmac.New(sha256.New, s.linkKey)
	mac.Write([]byte(path + "\n" + expires))
	return hex.EncodeToString(mac.Sum(nil))
}

// linkCheck is the outcome of checking a signed link.
type linkCheck int

const (
	linkValid linkCheck = iota
	linkBadSignature
	linkExpired
)

// checkLink verifies the signature of a file request, then its expiry.
func (s *Server) checkLink(path string, query url.Values, now time.Time) linkCheck {
	exp, sig := query.Get("expires"), query.Get("sig")
	expires, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return linkBadSignature
	}
	got, err := hex.DecodeString(sig)
	want, _ := hex.DecodeString(s.linkSignature(path, exp))
	if err != nil || !hmac.Equal(got, want) {
		return linkBadSignature
	}
	if now.Unix() > expires {
		return linkExpired
	}
	return linkValid
}
