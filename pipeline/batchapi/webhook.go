package batchapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader is the webhook header that carries the signature. The
// contract defines the scheme (section 6): the provider does not document it.
const SignatureHeader = "x-crustdata-signature"

var (
	// ErrMalformedSignature means the signature header is not
	// "t=<unix seconds>,v1=<hex>".
	ErrMalformedSignature = errors.New("malformed webhook signature header")

	// ErrSignatureMismatch means no v1 signature matches the body and key.
	ErrSignatureMismatch = errors.New("webhook signature does not match")

	// ErrSignatureTooOld means the signed timestamp is further from now than
	// the tolerance allows, as with a replayed delivery.
	ErrSignatureTooOld = errors.New("webhook signature timestamp outside tolerance")
)

// SignWebhook returns the x-crustdata-signature value for body sent at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with key>".
func SignWebhook(key string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(webhookMAC(key, ts, body))
}

func webhookMAC(key, ts string, body []byte) []byte {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return mac.Sum(nil)
}

// VerifyWebhook checks a signature header made by [SignWebhook]. One of its
// v1 values must match body under key, and its timestamp must lie within
// tolerance of now. A tolerance of 0 or less skips the time check. Errors
// wrap ErrMalformedSignature, ErrSignatureMismatch or ErrSignatureTooOld.
func VerifyWebhook(key, header string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, sigs, err := parseSignatureHeader(header)
	if err != nil {
		return err
	}

	want := webhookMAC(key, ts, body)
	matched := false
	for _, sig := range sigs {
		matched = matched || hmac.Equal(sig, want)
	}
	if !matched {
		return ErrSignatureMismatch
	}

	// parseSignatureHeader has checked that ts is an integer.
	unix, _ := strconv.ParseInt(ts, 10, 64)
	age := now.Sub(time.Unix(unix, 0))
	if tolerance > 0 && (age > tolerance || age < -tolerance) {
		return fmt.Errorf("verifying webhook signed at %d, %s from now, tolerance %s: %w", unix, age, tolerance, ErrSignatureTooOld)
	}
	return nil
}

// parseSignatureHeader splits "t=<unix>,v1=<hex>[,v1=<hex>...]"; entries of
// other schemes are ignored.
func parseSignatureHeader(header string) (ts string, sigs [][]byte, err error) {
	if strings.TrimSpace(header) == "" {
		return "", nil, fmt.Errorf("missing %s header: %w", SignatureHeader, ErrMalformedSignature)
	}
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return "", nil, fmt.Errorf("parsing entry %q: %w", part, ErrMalformedSignature)
		}
		switch k {
		case "t":
			if _, perr := strconv.ParseInt(v, 10, 64); perr != nil || ts != "" {
				return "", nil, fmt.Errorf("parsing timestamp %q: %w", v, ErrMalformedSignature)
			}
			ts = v
		case "v1":
			sig, derr := hex.DecodeString(v)
			if derr != nil {
				return "", nil, fmt.Errorf("parsing v1 signature: %w", ErrMalformedSignature)
			}
			sigs = append(sigs, sig)
		}
	}
	if ts == "" || len(sigs) == 0 {
		return "", nil, fmt.Errorf("parsing header without t or v1: %w", ErrMalformedSignature)
	}
	return ts, sigs, nil
}
