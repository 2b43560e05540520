package codec

import (
	"errors"
	"reflect"
	"testing"
)

// outcome names what Decode made of a value: "enrich", a skip reason or a
// dead-letter reason.
func outcome(t testing.TB, d *Decoder, value []byte) (string, Decoded) {
	t.Helper()
	got, err := d.Decode(value)
	var de *DecodeError
	switch {
	case errors.As(err, &de):
		return de.Reason, got
	case err != nil:
		t.Fatalf("Decode(%q) error %v is not a *DecodeError", value, err)
	case got.Action == ActionSkip:
		return got.SkipReason, got
	}
	return "enrich", got
}

func TestSyntheticRecordsMix(t *testing.T) {
	const n = 2000
	records := SyntheticRecords(n, 42)
	if len(records) != n {
		t.Fatalf("SyntheticRecords(%d) returned %d records", n, len(records))
	}

	d := NewDecoder(DecoderConfig{})
	counts := map[string]int{}
	urls := map[string]int{}
	for _, r := range records {
		kind, got := outcome(t, d, r.Value)
		counts[kind]++
		if kind == "enrich" {
			urls[got.URL]++
		}
		if r.Key == nil {
			t.Errorf("record without a key: %q", r.Value)
		}
	}
	for _, kind := range []string{"enrich", SkipTombstone, SkipDelete, SkipURLUnchanged,
		ReasonInvalidJSON, ReasonUnsupportedValue, ReasonUnsupportedOp, ReasonMissingProfileURL,
		ReasonNotAProfileURL, ReasonUnsupportedURL} {
		if counts[kind] == 0 {
			t.Errorf("no record decodes to %s; counts %v", kind, counts)
		}
	}
	if counts[SkipTombstone] != counts[SkipDelete] {
		t.Errorf("%d tombstones for %d deletes, want one each", counts[SkipTombstone], counts[SkipDelete])
	}
	share := func(k int) float64 { return float64(k) / n }
	if s := share(counts["enrich"]); s < 0.75 || s > 0.92 {
		t.Errorf("enrich share %.2f, want most records; counts %v", s, counts)
	}
	if s := share(counts[SkipURLUnchanged]); s < 0.02 || s > 0.08 {
		t.Errorf("unchanged-update share %.2f, want about 0.05", s)
	}
	repeats := counts["enrich"] - len(urls)
	if s := share(repeats); s < 0.05 || s > 0.15 {
		t.Errorf("repeated URL share %.2f, want about 0.10", s)
	}
}

func TestSyntheticRecordsDeterministic(t *testing.T) {
	a, b := SyntheticRecords(300, 7), SyntheticRecords(300, 7)
	if !reflect.DeepEqual(a, b) {
		t.Error("two calls with the same seed returned different records")
	}
	if reflect.DeepEqual(a, SyntheticRecords(300, 8)) {
		t.Error("two seeds returned the same records")
	}
}

func TestSyntheticRecordsSmallCounts(t *testing.T) {
	for _, n := range []int{-1, 0, 1, 2, 3} {
		if got := SyntheticRecords(n, 1); len(got) != max(n, 0) {
			t.Errorf("SyntheticRecords(%d) returned %d records", n, len(got))
		}
	}
}

func TestSyntheticDeleteIsFollowedByTombstone(t *testing.T) {
	records := SyntheticRecords(3000, 3)
	d := NewDecoder(DecoderConfig{})
	for i, r := range records {
		if kind, _ := outcome(t, d, r.Value); kind != SkipDelete {
			continue
		}
		if i+1 == len(records) || records[i+1].Value != nil || string(records[i+1].Key) != string(r.Key) {
			t.Errorf("delete %d with key %s is not followed by its tombstone", i, r.Key)
		}
	}
}
