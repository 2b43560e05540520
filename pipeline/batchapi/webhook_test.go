package batchapi

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestVerifyWebhook(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"batch_id":"b","status":"completed"}`)
	good := SignWebhook("key", now, body)
	tests := []struct {
		name      string
		key       string
		header    string
		body      []byte
		now       time.Time
		tolerance time.Duration
		want      error
	}{
		{name: "valid signature", key: "key", header: good, body: body, now: now, tolerance: time.Minute},
		{name: "valid within tolerance", key: "key", header: good, body: body, now: now.Add(59 * time.Second), tolerance: time.Minute},
		{name: "zero tolerance skips the age check", key: "key", header: good, body: body, now: now.Add(24 * time.Hour)},
		{name: "other scheme entries ignored", key: "key", header: good + ",v0=abcd", body: body, now: now, tolerance: time.Minute},
		{name: "one of two v1 matches", key: "key", header: good + ",v1=" + strings.Repeat("ab", 32), body: body, now: now, tolerance: time.Minute},
		{name: "wrong key", key: "other", header: good, body: body, now: now, tolerance: time.Minute, want: ErrSignatureMismatch},
		{name: "changed body", key: "key", header: good, body: []byte(`{}`), now: now, tolerance: time.Minute, want: ErrSignatureMismatch},
		{name: "changed timestamp", key: "key", header: strings.Replace(good, "t=1800000000", "t=1800000001", 1), body: body, now: now, tolerance: time.Minute, want: ErrSignatureMismatch},
		{name: "too old", key: "key", header: good, body: body, now: now.Add(61 * time.Second), tolerance: time.Minute, want: ErrSignatureTooOld},
		{name: "too far ahead", key: "key", header: good, body: body, now: now.Add(-61 * time.Second), tolerance: time.Minute, want: ErrSignatureTooOld},
		{name: "empty header", key: "key", header: "", body: body, now: now, want: ErrMalformedSignature},
		{name: "missing v1", key: "key", header: "t=1800000000", body: body, now: now, want: ErrMalformedSignature},
		{name: "missing t", key: "key", header: "v1=abcd", body: body, now: now, want: ErrMalformedSignature},
		{name: "t twice", key: "key", header: "t=1," + good, body: body, now: now, want: ErrMalformedSignature},
		{name: "t not a number", key: "key", header: "t=soon,v1=abcd", body: body, now: now, want: ErrMalformedSignature},
		{name: "v1 not hex", key: "key", header: "t=1800000000,v1=xyz", body: body, now: now, want: ErrMalformedSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyWebhook(tt.key, tt.header, tt.body, tt.now, tt.tolerance)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("VerifyWebhook() = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSignWebhookFormat(t *testing.T) {
	got := SignWebhook("key", time.Unix(1_800_000_000, 0), []byte("{}"))
	ts, sig, ok := strings.Cut(got, ",v1=")
	if !ok || ts != "t=1800000000" || len(sig) != 64 || strings.Trim(sig, "0123456789abcdef") != "" {
		t.Errorf("SignWebhook() = %q, want t=1800000000,v1=<64 lower-case hex digits>", got)
	}
}

// FuzzVerifyWebhook checks that no header, body or key makes the check
// panic, that only ErrMalformedSignature, ErrSignatureMismatch or
// ErrSignatureTooOld come back, and that a header signed for the body and
// key always verifies.
func FuzzVerifyWebhook(f *testing.F) {
	body := []byte(`{"batch_id":"b","status":"completed"}`)
	f.Add("key", SignWebhook("key", time.Unix(1_800_000_000, 0), body), body)
	f.Add("key", "t=1800000000,v1=00,v1=zz", body)
	f.Add("", "t=,v1=", []byte{})
	f.Add("k", " t = 1 , v1 = ab ", []byte("x"))
	f.Add("k", "t=99999999999999999999,v1=ab", []byte("x"))
	f.Add("k", "v0=ab,t=1,v1=ab,v1=cd", []byte("x"))
	now := time.Unix(1_800_000_000, 0)
	f.Fuzz(func(t *testing.T, key, header string, body []byte) {
		err := VerifyWebhook(key, header, body, now, time.Minute)
		if err != nil && !errors.Is(err, ErrMalformedSignature) && !errors.Is(err, ErrSignatureMismatch) && !errors.Is(err, ErrSignatureTooOld) {
			t.Errorf("VerifyWebhook(%q) = %v, an error of no documented kind", header, err)
		}
		if err := VerifyWebhook(key, SignWebhook(key, now, body), body, now, time.Minute); err != nil {
			t.Errorf("a header signed for the body does not verify: %v", err)
		}
	})
}
