package codec

import (
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
)

const avery = "https://www.linkedin.com/in/avery-sample-2e84b5"

// change builds a bare Debezium event; before and after are JSON text.
func change(op, before, after string) string {
	return `{"before": ` + before + `, "after": ` + after + `, "op": "` + op + `", "ts_ms": 1764806400822, "source": {"connector": "postgresql"}}`
}

func row(url string) string {
	return `{"id": 1000, "first_name": "Kai", "linkedin_url": ` + url + `, "updated_at": "2026-11-30T10:00:00Z"}`
}

func wrapped(event string) string {
	return `{"schema": {"type": "struct", "fields": []}, "payload": ` + event + `}`
}

func TestDecodeEnriches(t *testing.T) {
	tests := []struct {
		name  string
		value string
		raw   string
	}{
		{"insert reads the after url", change("c", "null", row(`"`+avery+`"`)), avery},
		{"snapshot read reads the after url", change("r", "null", row(`"http://linkedin.com/in/avery-sample-2e84b5"`)), "http://linkedin.com/in/avery-sample-2e84b5"},
		{"wrapped insert reads the payload", wrapped(change("c", "null", row(`"`+avery+`/"`))), avery + "/"},
		{"update with null before is not unchanged", change("u", "null", row(`"`+avery+`"`)), avery},
		{"update without before is not unchanged", `{"after": ` + row(`"`+avery+`"`) + `, "op": "u"}`, avery},
		{"update of the url enriches", change("u", row(`"https://www.linkedin.com/in/old-name"`), row(`"`+avery+`"`)), avery},
		{"update from a bad url enriches", change("u", row(`"not a url"`), row(`"`+avery+`"`)), avery},
		{"update from null url enriches", change("u", row(`null`), row(`"`+avery+`"`)), avery},
		{"raw url keeps its spelling", change("c", "null", row(`"  `+avery+`  "`)), "  " + avery + "  "},
		{"plain object at default path", `{"linkedin_url": "` + avery + `", "name": "Kai"}`, avery},
		{"plain object with payload but no op", `{"payload": {"x": 1}, "linkedin_url": "` + avery + `"}`, avery},
		{"json string value", `"` + avery + `"`, avery},
		{"json string with escapes", `"https:\/\/www.linkedin.com\/in\/avery-sample-2e84b5"`, avery},
		{"raw url text", avery, avery},
		{"raw url text with line end", avery + "\r\n", avery + "\r\n"},
		{"raw url text with byte-order mark", "\ufeff" + avery, avery},
	}
	d := NewDecoder(DecoderConfig{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.Decode([]byte(tt.value))
			if err != nil {
				t.Fatalf("Decode error: %v", err)
			}
			want := Decoded{Action: ActionEnrich, RawURL: tt.raw, URL: avery}
			if got != want {
				t.Errorf("Decode = %+v, want %+v", got, want)
			}
		})
	}
}

func TestDecodeSkips(t *testing.T) {
	tests := []struct {
		name   string
		value  []byte
		reason string
	}{
		{"nil value is a tombstone", nil, SkipTombstone},
		{"delete", []byte(change("d", row(`"`+avery+`"`), "null")), SkipDelete},
		{"wrapped delete", []byte(wrapped(change("d", row(`"`+avery+`"`), "null"))), SkipDelete},
		{"update with the same url", []byte(change("u", row(`"`+avery+`"`), row(`"`+avery+`"`))), SkipURLUnchanged},
		{"update with another spelling", []byte(change("u", row(`"`+avery+`"`), row(`"https://WWW.LinkedIn.com/in/Avery-Sample-2e84b5?trk=x"`))), SkipURLUnchanged},
		{"wrapped update with another spelling", []byte(wrapped(change("u", row(`"www.linkedin.com/in/avery-sample-2e84b5"`), row(`"`+avery+`#x"`)))), SkipURLUnchanged},
		{"update with both urls null", []byte(change("u", row("null"), row("null"))), SkipURLUnchanged},
		{"update with both urls missing", []byte(change("u", `{"id": 1}`, `{"id": 1, "x": 2}`)), SkipURLUnchanged},
		{"update with null and missing url", []byte(change("u", `{"id": 1}`, row("null"))), SkipURLUnchanged},
		{"update with the same bad url", []byte(change("u", row(`"not a url"`), row(`" not a url "`))), SkipURLUnchanged},
		{"update with the same number", []byte(change("u", row("42"), row("42"))), SkipURLUnchanged},
	}
	d := NewDecoder(DecoderConfig{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.Decode(tt.value)
			if err != nil {
				t.Fatalf("Decode error: %v", err)
			}
			want := Decoded{Action: ActionSkip, SkipReason: tt.reason}
			if got != want {
				t.Errorf("Decode = %+v, want %+v", got, want)
			}
		})
	}
}

func TestDecodeDeadLetters(t *testing.T) {
	long := "https://example.com/" + strings.Repeat("x", 5000)
	tests := []struct {
		name   string
		value  []byte
		reason string
		detail []string // fragments the detail must contain
	}{
		{"empty value", []byte{}, ReasonNotAProfileURL, []string{"the record value", "empty"}},
		{"spaces only", []byte("   "), ReasonNotAProfileURL, []string{"empty"}},
		{"raw text that is no url", []byte("not a url"), ReasonNotAProfileURL, []string{`"not a url"`}},
		{"truncated json object", []byte(`{"after": {"linkedin_url": "https://www.linkedin.com/in/trunc`), ReasonInvalidJSON, []string{"not valid JSON", "trunc"}},
		{"truncated json array", []byte(`[1, 2`), ReasonInvalidJSON, []string{"not valid JSON"}},
		{"json array", []byte(`[1, 2, 3]`), ReasonUnsupportedValue, []string{"JSON array", "[1, 2, 3]"}},
		{"json number", []byte(`42`), ReasonUnsupportedValue, []string{"JSON number"}},
		{"json boolean", []byte(`true`), ReasonUnsupportedValue, []string{"JSON boolean"}},
		{"json null literal", []byte(`null`), ReasonUnsupportedValue, []string{"JSON null"}},
		{"binary bytes", []byte{0x00, 0x01, 0xff, 0x10}, ReasonInvalidJSON, []string{"neither JSON nor"}},
		{"two lines of text", []byte(avery + "\n" + avery), ReasonInvalidJSON, []string{"single line"}},
		{"invalid utf-8 text", []byte("https://www.linkedin.com/in/a\xff"), ReasonInvalidJSON, []string{"neither JSON nor"}},
		{"truncate op", []byte(`{"before": null, "after": null, "op": "t"}`), ReasonUnsupportedOp, []string{`"t"`, "truncate"}},
		{"message op", []byte(wrapped(`{"op": "m", "message": {}}`)), ReasonUnsupportedOp, []string{`"m"`}},
		{"numeric op", []byte(`{"op": 1, "after": {}}`), ReasonUnsupportedOp, []string{"JSON number"}},
		{"insert without after", []byte(change("c", "null", "null")), ReasonMissingProfileURL, []string{`"after" row`}},
		{"after is a string", []byte(change("c", "null", `"{}"`)), ReasonUnsupportedValue, []string{"JSON string, not an object"}},
		{"url column missing", []byte(change("c", "null", `{"id": 1}`)), ReasonMissingProfileURL, []string{`column "linkedin_url"`}},
		{"url column null", []byte(change("r", "null", row("null"))), ReasonMissingProfileURL, []string{`column "linkedin_url"`, "is null"}},
		{"url column number", []byte(change("c", "null", row("12345"))), ReasonNotAProfileURL, []string{"JSON number", "12345"}},
		{"url column object", []byte(change("c", "null", row(`{"u": 1}`))), ReasonNotAProfileURL, []string{"JSON object"}},
		{"url column empty", []byte(change("c", "null", row(`""`))), ReasonNotAProfileURL, []string{`column "linkedin_url"`, "empty"}},
		{"url column spaces", []byte(change("c", "null", row(`"   "`))), ReasonNotAProfileURL, []string{"empty"}},
		{"company page", []byte(change("c", "null", row(`"https://www.linkedin.com/company/acme-example/"`))), ReasonNotAProfileURL, []string{"company page", "acme-example"}},
		{"legacy pub url", []byte(change("c", "null", row(`"https://www.linkedin.com/pub/avery/1/2/3"`))), ReasonUnsupportedURL, []string{"/in/ URL"}},
		{"update to a null url", []byte(change("u", row(`"`+avery+`"`), row("null"))), ReasonMissingProfileURL, []string{"is null"}},
		{"update to a bad url", []byte(change("u", row(`"`+avery+`"`), row(`"not a url"`))), ReasonNotAProfileURL, []string{"not a URL"}},
		{"long value is truncated", []byte(change("c", "null", row(`"`+long+`"`))), ReasonNotAProfileURL, []string{"bytes in all"}},
		{"upper-case op key is no envelope", []byte(`{"OP": "c", "after": {"linkedin_url": "x"}}`), ReasonMissingProfileURL, []string{`path "linkedin_url"`, `no "op" key`}},
		{"plain object without url", []byte(`{"name": "Kai"}`), ReasonMissingProfileURL, []string{`path "linkedin_url"`}},
		{"plain object with null url", []byte(`{"linkedin_url": null}`), ReasonMissingProfileURL, []string{"is null"}},
		{"plain object with bad url", []byte(`{"linkedin_url": "https://www.linkedin.com/feed/"}`), ReasonNotAProfileURL, []string{`path "linkedin_url"`, "/feed/"}},
		{"json string that is no url", []byte(`"https://www.linkedin.com/in/"`), ReasonNotAProfileURL, []string{"a JSON string", "no profile name"}},
	}
	d := NewDecoder(DecoderConfig{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.Decode(tt.value)
			checkDecodeError(t, got, err, tt.reason, tt.detail...)
		})
	}
}

func checkDecodeError(t testing.TB, got Decoded, err error, reason string, fragments ...string) {
	t.Helper()
	var de *DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("Decode = %+v, %v; want a *DecodeError", got, err)
	}
	if de.Reason != reason {
		t.Errorf("reason = %q, want %q (detail %q)", de.Reason, reason, de.Detail)
	}
	for _, f := range fragments {
		if !strings.Contains(de.Detail, f) {
			t.Errorf("detail %q does not contain %q", de.Detail, f)
		}
	}
	if len(de.Detail) > 1000 {
		t.Errorf("detail is %d bytes long, want a short sentence", len(de.Detail))
	}
}

func TestDecodeConfiguredLocations(t *testing.T) {
	d := NewDecoder(DecoderConfig{URLColumn: "profile", URLPath: "person.links.linkedin"})

	got, err := d.Decode([]byte(change("c", "null", `{"profile": "`+avery+`", "linkedin_url": "x"}`)))
	if err != nil || got.URL != avery {
		t.Errorf("Decode with URLColumn = %+v, %v; want %s", got, err, avery)
	}
	got, err = d.Decode([]byte(`{"person": {"links": {"linkedin": "` + avery + `"}}}`))
	if err != nil || got.URL != avery {
		t.Errorf("Decode with URLPath = %+v, %v; want %s", got, err, avery)
	}
	got, err = d.Decode([]byte(`{"person": {"name": "Kai"}}`))
	checkDecodeError(t, got, err, ReasonMissingProfileURL, `no "links"`)
	got, err = d.Decode([]byte(`{"person": {"links": "https://x"}}`))
	checkDecodeError(t, got, err, ReasonMissingProfileURL, `"links" is a JSON string`)
	got, err = d.Decode([]byte(change("c", "null", row(`"`+avery+`"`))))
	checkDecodeError(t, got, err, ReasonMissingProfileURL, `column "profile"`)
}

func TestDecodeZeroDecoderUsesDefaults(t *testing.T) {
	var d Decoder
	got, err := d.Decode([]byte(change("c", "null", row(`"`+avery+`"`))))
	if err != nil || got.URL != avery {
		t.Errorf("Decode = %+v, %v; want %s", got, err, avery)
	}
}

func TestDecodeConcurrentUse(t *testing.T) {
	d := NewDecoder(DecoderConfig{})
	values := [][]byte{nil, []byte(change("c", "null", row(`"`+avery+`"`))), []byte("not a url"), []byte(`[1]`)}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range 200 {
				_, _ = d.Decode(values[i%len(values)])
			}
		})
	}
	wg.Wait()
}

func TestDecodeCDCFixture(t *testing.T) {
	records := readFixtureJSONL(t)
	if len(records) != 347 {
		t.Fatalf("fixture has %d records, want 347", len(records))
	}
	counts := map[string]int{}
	d := NewDecoder(DecoderConfig{})
	for i, rec := range records {
		got, err := d.Decode(rec.Value)
		var de *DecodeError
		switch {
		case errors.As(err, &de):
			counts[de.Reason]++
		case err != nil:
			t.Fatalf("record %d: Decode error %v is not a *DecodeError", i+1, err)
		case got.Action == ActionSkip:
			counts[got.SkipReason]++
		default:
			counts["enrich"]++
			if again, err := CanonicalProfileURL(got.URL); err != nil || again != got.URL {
				t.Errorf("record %d: canonical URL %q canonicalises to %q, %v", i+1, got.URL, again, err)
			}
		}
	}
	want := map[string]int{
		"enrich":                237,
		SkipURLUnchanged:        46,
		SkipTombstone:           12,
		SkipDelete:              12,
		ReasonNotAProfileURL:    27,
		ReasonMissingProfileURL: 11,
		ReasonInvalidJSON:       1,
		ReasonUnsupportedValue:  1,
	}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("%s: %d records, want %d", k, counts[k], n)
		}
	}
	if len(counts) != len(want) {
		t.Errorf("outcomes %v, want only %v", counts, want)
	}
}

func readFixtureJSONL(t testing.TB) []Record {
	t.Helper()
	f, err := os.Open("../testdata/crm-contacts-cdc.jsonl")
	if err != nil {
		t.Fatalf("opening fixture: %v", err)
	}
	defer f.Close()
	records, err := ReadRecordsJSONL(f)
	if err != nil {
		t.Fatalf("reading fixture: %v", err)
	}
	return records
}

func FuzzDecode(f *testing.F) {
	for _, rec := range readFixtureJSONL(f)[:40] {
		f.Add(rec.Value)
	}
	for _, seed := range []string{
		wrapped(change("u", row(`"`+avery+`"`), row(`"www.linkedin.com/in/avery-sample-2e84b5"`))),
		change("d", row(`"`+avery+`"`), "null"),
		`{"after": {"linkedin_url": "https://www.linkedin.com/in/trunc`,
		`[1, 2, 3]`, `"` + avery + `"`, avery, `{"payload": {"op": 7}}`, `{"a": {"b": 1}}`, "",
	} {
		f.Add([]byte(seed))
	}
	d := NewDecoder(DecoderConfig{URLPath: "a.b"})
	f.Fuzz(func(t *testing.T, value []byte) {
		got, err := d.Decode(value)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || de.Reason == "" || de.Detail == "" {
				t.Fatalf("Decode(%q) error %v is not a complete *DecodeError", value, err)
			}
			return
		}
		if got.Action == ActionEnrich && !strings.HasPrefix(got.URL, CanonicalPrefix) {
			t.Fatalf("Decode(%q) = %+v, want a canonical URL", value, got)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	shapes := []struct {
		name  string
		value []byte
	}{
		{"insert", []byte(change("c", "null", row(`"https://WWW.LinkedIn.com/in/avery-sample-2e84b5?trk=x"`)))},
		{"wrapped update", []byte(wrapped(change("u", row(`"`+avery+`"`), row(`"`+avery+`/"`))))},
		{"plain string", []byte(avery)},
		{"tombstone", nil},
	}
	d := NewDecoder(DecoderConfig{})
	for _, shape := range shapes {
		b.Run(shape.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = d.Decode(shape.value)
			}
		})
	}
}
