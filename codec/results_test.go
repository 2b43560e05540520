package codec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

const sampleLine = `{"original_identifier": "https://www.linkedin.com/in/avery-sample-2e84b5", "internal_id": 5550001, ` +
	`"data": {"business_email": [{"email": "avery@example.com", "status": "deliverable"}], ` +
	`"personal_contact_info": {"personal_emails": [{"email": "avery.home@example.net", "status": "unknown"}], ` +
	`"phone_numbers": ["+14155550100"]}}}`

// readAllResults reads body to the end and returns the records and the
// error that ended it (nil for io.EOF).
func readAllResults(t testing.TB, body []byte, cfg ResultsReaderConfig) ([]*Result, error) {
	t.Helper()
	r, err := NewResultsReader(bytes.NewReader(body), cfg)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []*Result
	for {
		res, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, res)
	}
}

// gzipMembers compresses each part as its own gzip member, one after
// another.
func gzipMembers(t testing.TB, parts ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, part := range parts {
		w := gzip.NewWriter(&buf)
		if _, err := io.WriteString(w, part); err != nil {
			t.Fatalf("compressing: %v", err)
		}
		if err := w.Close(); err != nil {
			t.Fatalf("compressing: %v", err)
		}
	}
	return buf.Bytes()
}

func TestResultsReaderSampleLine(t *testing.T) {
	got, err := readAllResults(t, []byte(sampleLine+"\n"), ResultsReaderConfig{})
	if err != nil || len(got) != 1 {
		t.Fatalf("read %d records, error %v; want 1 record", len(got), err)
	}
	want := &Result{
		Identifier: "https://www.linkedin.com/in/avery-sample-2e84b5",
		InternalID: "5550001",
		Data: []byte(`{"business_email":[{"email":"avery@example.com","status":"deliverable"}],` +
			`"personal_contact_info":{"personal_emails":[{"email":"avery.home@example.net","status":"unknown"}],` +
			`"phone_numbers":["+14155550100"]}}`),
		BusinessEmails: []Email{{Email: "avery@example.com", Status: "deliverable"}},
		PersonalEmails: []Email{{Email: "avery.home@example.net", Status: "unknown"}},
		PhoneNumbers:   []string{"+14155550100"},
	}
	if !reflect.DeepEqual(got[0], want) {
		t.Errorf("Next =\n%+v\nwant\n%+v", got[0], want)
	}
	if !got[0].Found() {
		t.Error("Found() = false, want true")
	}
}

func TestResultsReaderShapes(t *testing.T) {
	type lists struct {
		business, personal []Email
		phones             []string
	}
	a := []Email{{Email: "a@example.com"}}
	tests := []struct {
		name string
		data string
		want lists
	}{
		{"business email as string", `{"business_email": "a@example.com"}`, lists{business: a}},
		{"business email as list of strings", `{"business_email": ["a@example.com", ""]}`, lists{business: a}},
		{"business email as one object", `{"business_email": {"email": "a@example.com"}}`, lists{business: a}},
		{"business email object with status", `{"business_email": [{"email": " a@example.com ", "status": "catch_all"}]}`,
			lists{business: []Email{{Email: "a@example.com", Status: "catch_all"}}}},
		{"personal emails as string", `{"personal_contact_info": {"personal_emails": "a@example.com"}}`, lists{personal: a}},
		{"personal emails as mixed list", `{"personal_contact_info": {"personal_emails": ["a@example.com", {"email": "b@example.com"}, null]}}`,
			lists{personal: []Email{{Email: "a@example.com"}, {Email: "b@example.com"}}}},
		{"personal emails without info object", `{"personal_emails": ["a@example.com"]}`, lists{personal: a}},
		{"phone as string", `{"personal_contact_info": {"phone_numbers": "+14155550100"}}`, lists{phones: []string{"+14155550100"}}},
		{"phones as objects", `{"personal_contact_info": {"phone_numbers": [{"number": "+1"}, {"phone": "+2"}, {"number": null, "phone": "+3"}]}}`,
			lists{phones: []string{"+1", "+2", "+3"}}},
		{"phone as json number", `{"personal_contact_info": {"phone_numbers": [14155550100]}}`, lists{phones: []string{"14155550100"}}},
		{"empty values", `{"business_email": [], "personal_contact_info": {"personal_emails": null, "phone_numbers": ""}}`, lists{}},
		{"personal info null", `{"business_email": null, "personal_contact_info": null}`, lists{}},
		{"empty data object", `{}`, lists{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := `{"original_identifier": "x", "data": ` + tt.data + "}\n"
			got, err := readAllResults(t, []byte(line), ResultsReaderConfig{})
			if err != nil || len(got) != 1 {
				t.Fatalf("read %d records, error %v; want 1 record", len(got), err)
			}
			r := got[0]
			if !reflect.DeepEqual(lists{r.BusinessEmails, r.PersonalEmails, r.PhoneNumbers}, tt.want) {
				t.Errorf("lists = %+v, %+v, %+v; want %+v", r.BusinessEmails, r.PersonalEmails, r.PhoneNumbers, tt.want)
			}
			if r.Found() != (len(tt.want.business)+len(tt.want.personal)+len(tt.want.phones) > 0) {
				t.Errorf("Found() = %v for lists %+v", r.Found(), tt.want)
			}
		})
	}
}

func TestResultsReaderEmptyPersonalInfo(t *testing.T) {
	for _, empty := range []string{`""`, `[]`, `null`} {
		line := `{"original_identifier": "x", "data": {"business_email": ["a@example.com"], "personal_contact_info": ` + empty + `}}`
		got, err := readAllResults(t, []byte(line), ResultsReaderConfig{})
		if err != nil || len(got) != 1 {
			t.Fatalf("personal_contact_info %s: read %d records, error %v; want 1 record", empty, len(got), err)
		}
		if len(got[0].BusinessEmails) != 1 || len(got[0].PersonalEmails)+len(got[0].PhoneNumbers) != 0 {
			t.Errorf("personal_contact_info %s: lists %+v, %+v, %+v; want one business email only", empty,
				got[0].BusinessEmails, got[0].PersonalEmails, got[0].PhoneNumbers)
		}
	}
}

func TestResultsReaderData(t *testing.T) {
	tests := []struct {
		name string
		line string
		data string
		id   string
	}{
		{"data null", `{"original_identifier": "x", "internal_id": 1, "data": null}`, "null", "1"},
		{"data missing", `{"original_identifier": "x", "internal_id": 1}`, "null", "1"},
		{"no data envelope", `{"internal_id": 2, "business_email": "a@example.com", "original_identifier": "x", "personal_contact_info": {}}`,
			`{"business_email":"a@example.com","personal_contact_info":{}}`, "2"},
		{"huge internal id", `{"original_identifier": "x", "internal_id": 18446744073709551617}`, "null", "18446744073709551617"},
		{"internal id as string", `{"original_identifier": "x", "internal_id": "18446744073709551617"}`, "null", "18446744073709551617"},
		{"internal id null", `{"original_identifier": "x", "internal_id": null}`, "null", ""},
		{"data kept verbatim", `{"original_identifier": "x", "data": {"z": 1, "a": {"b": [1, 2.50, "s p"]}}}`, `{"z":1,"a":{"b":[1,2.50,"s p"]}}`, ""},
		{"data empty string", `{"original_identifier": "x", "data": ""}`, "null", ""},
		{"data empty list", `{"original_identifier": "x", "data": [ ]}`, "null", ""},
		{"no envelope drops unknown members", `{"original_identifier": "x", "padding": "` + strings.Repeat("p", 100) + `", "phone_numbers": ["+1"]}`,
			`{"phone_numbers":["+1"]}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAllResults(t, []byte(tt.line), ResultsReaderConfig{})
			if err != nil || len(got) != 1 {
				t.Fatalf("read %d records, error %v; want 1 record", len(got), err)
			}
			if string(got[0].Data) != tt.data {
				t.Errorf("Data = %s, want %s", got[0].Data, tt.data)
			}
			if got[0].InternalID != tt.id {
				t.Errorf("InternalID = %q, want %q", got[0].InternalID, tt.id)
			}
		})
	}
}

func TestResultsReaderTolerates(t *testing.T) {
	line := func(id string) string {
		return `{"original_identifier": "` + id + `", "data": {"business_email": "a@example.com"}}`
	}
	tests := []struct {
		name string
		body []byte
		ids  []string
	}{
		{"byte-order mark", []byte("\ufeff" + line("a") + "\n" + line("b") + "\n"), []string{"a", "b"}},
		{"crlf line ends", []byte(line("a") + "\r\n" + line("b") + "\r\n"), []string{"a", "b"}},
		{"blank lines", []byte("\n" + line("a") + "\n\n  \r\n" + line("b") + "\n\n"), []string{"a", "b"}},
		{"no final newline", []byte(line("a") + "\n" + line("b")), []string{"a", "b"}},
		{"same identifier twice", []byte(line("a") + "\n" + line("a") + "\n"), []string{"a", "a"}},
		{"empty body", nil, nil},
		{"gzip body", gzipMembers(t, line("b")+"\n"+line("a")+"\n"), []string{"b", "a"}},
		{"two gzip members", gzipMembers(t, line("a")+"\n", line("b")+"\n"), []string{"a", "b"}},
		{"gzip member boundary inside a line", gzipMembers(t, line("a")[:20], line("a")[20:]+"\n"), []string{"a"}},
		{"gzip with byte-order mark", gzipMembers(t, "\ufeff"+line("a")+"\r\n"), []string{"a"}},
		{"empty gzip", gzipMembers(t, ""), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAllResults(t, tt.body, ResultsReaderConfig{})
			if err != nil {
				t.Fatalf("reading: %v", err)
			}
			var ids []string
			for _, r := range got {
				ids = append(ids, r.Identifier)
			}
			if !reflect.DeepEqual(ids, tt.ids) {
				t.Errorf("identifiers = %q, want %q", ids, tt.ids)
			}
		})
	}
}

func TestResultsReaderLongLine(t *testing.T) {
	email := strings.Repeat("x", 2<<20) + "@example.com"
	line := `{"original_identifier": "x", "data": {"business_email": "` + email + `"}}`
	got, err := readAllResults(t, []byte(line+"\n"+sampleLine+"\n"), ResultsReaderConfig{})
	if err != nil || len(got) != 2 {
		t.Fatalf("read %d records, error %v; want 2", len(got), err)
	}
	if got[0].BusinessEmails[0].Email != email {
		t.Errorf("the 2 MiB email came back with %d bytes", len(got[0].BusinessEmails[0].Email))
	}
	if got[1].Identifier != "https://www.linkedin.com/in/avery-sample-2e84b5" {
		t.Errorf("the line after the long one = %q", got[1].Identifier)
	}
}

func TestResultsReaderErrors(t *testing.T) {
	full := gzipMembers(t, strings.Repeat(sampleLine+"\n", 50))
	corrupt := bytes.Clone(full)
	for i := 20; i < 40; i++ {
		corrupt[i] ^= 0xff
	}
	tests := []struct {
		name    string
		body    []byte
		cfg     ResultsReaderConfig
		message string
		is      error // an error the result must wrap, or nil
	}{
		{"array line", []byte(sampleLine + "\n[1, 2]\n"), ResultsReaderConfig{}, "line 2: the line is a JSON array", nil},
		{"string line", []byte(`"x"` + "\n"), ResultsReaderConfig{}, "line 1: the line is a JSON string", nil},
		{"invalid json line", []byte(sampleLine + "\n{nope}\n"), ResultsReaderConfig{}, "line 2: invalid JSON", nil},
		{"missing identifier", []byte(`{"data": {}}` + "\n"), ResultsReaderConfig{}, "line 1: missing original_identifier", nil},
		{"null identifier", []byte(`{"original_identifier": null}` + "\n"), ResultsReaderConfig{}, "missing original_identifier", nil},
		{"numeric identifier", []byte(`{"original_identifier": 5}` + "\n"), ResultsReaderConfig{}, "JSON number, not a string", nil},
		{"empty identifier", []byte(`{"original_identifier": " "}` + "\n"), ResultsReaderConfig{}, "original_identifier is empty", nil},
		{"fractional internal id", []byte(`{"original_identifier": "x", "internal_id": 1.5}`), ResultsReaderConfig{}, "internal_id 1.5 is not an integer", nil},
		{"data not an object", []byte(`{"original_identifier": "x", "data": [1]}`), ResultsReaderConfig{}, "data of \"x\" is a JSON array", nil},
		{"email of wrong type", []byte(`{"original_identifier": "x", "data": {"business_email": [true]}}`), ResultsReaderConfig{}, "business_email[0] is a JSON boolean", nil},
		{"phone of wrong type", []byte(`{"original_identifier": "x", "data": {"phone_numbers": {"number": []}}}`), ResultsReaderConfig{}, "phone_numbers.number is a JSON array", nil},
		{"personal info of wrong type", []byte(`{"original_identifier": "x", "data": {"personal_contact_info": "x"}}`), ResultsReaderConfig{}, "personal_contact_info is a JSON string", nil},
		{"plain body cut in a line", []byte(sampleLine + "\n" + sampleLine[:60]), ResultsReaderConfig{}, "line 2", io.ErrUnexpectedEOF},
		{"gzip body cut in the middle", full[:len(full)/2], ResultsReaderConfig{}, "results line", io.ErrUnexpectedEOF},
		{"gzip body without trailer", full[:len(full)-4], ResultsReaderConfig{}, "results line", io.ErrUnexpectedEOF},
		{"gzip header only", full[:5], ResultsReaderConfig{}, "gzip header", io.ErrUnexpectedEOF},
		{"corrupt gzip", corrupt, ResultsReaderConfig{}, "results line", nil},
		{"gzip followed by garbage", append(bytes.Clone(full), "garbage after the gzip member"...), ResultsReaderConfig{}, "results line", gzip.ErrHeader},
		{"line over the limit", []byte(sampleLine + "\n" + sampleLine + "\n"), ResultsReaderConfig{MaxLineBytes: 100}, "line 1: line too long: more than 100 bytes", ErrLineTooLong},
		{"plain body over the limit", []byte(strings.Repeat(sampleLine+"\n", 10)), ResultsReaderConfig{MaxDecompressedBytes: 1000}, "more than 1000 bytes", ErrResultsTooLarge},
		{"gzip body over the limit", full, ResultsReaderConfig{MaxDecompressedBytes: 4096}, "more than 4096 bytes after decompression", ErrResultsTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readAllResults(t, tt.body, tt.cfg)
			if err == nil {
				t.Fatal("reading succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not contain %q", err, tt.message)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q does not wrap %v", err, tt.is)
			}
		})
	}
}

func TestResultsReaderLargestLimits(t *testing.T) {
	got, err := readAllResults(t, []byte(sampleLine), ResultsReaderConfig{MaxLineBytes: math.MaxInt, MaxDecompressedBytes: math.MaxInt64})
	if err != nil || len(got) != 1 {
		t.Errorf("read %d records, error %v; want 1 record", len(got), err)
	}
}

func TestResultsReaderErrorIsSticky(t *testing.T) {
	r, err := NewResultsReader(strings.NewReader("[1]\n"+sampleLine+"\n"), ResultsReaderConfig{})
	if err != nil {
		t.Fatalf("NewResultsReader: %v", err)
	}
	_, first := r.Next()
	if first == nil {
		t.Fatal("Next succeeded on an array line, want an error")
	}
	if _, again := r.Next(); again != first {
		t.Errorf("second Next = %v, want the first error %v again", again, first)
	}
}

func TestResultsReaderClose(t *testing.T) {
	r, err := NewResultsReader(bytes.NewReader(gzipMembers(t, sampleLine+"\n")), ResultsReaderConfig{})
	if err != nil {
		t.Fatalf("NewResultsReader: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := r.Next(); !errors.Is(err, ErrResultsReaderClosed) {
		t.Errorf("Next after Close = %v, want ErrResultsReaderClosed", err)
	}
}

func TestResultsReaderStreams(t *testing.T) {
	// A body that fails after the first line: Next must return that line
	// before it reads on, so the reader does not buffer the whole body.
	body := io.MultiReader(strings.NewReader(sampleLine+"\n"), errReader{})
	r, err := NewResultsReader(body, ResultsReaderConfig{})
	if err != nil {
		t.Fatalf("NewResultsReader: %v", err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatalf("first Next: %v", err)
	}
	if _, err := r.Next(); !errors.Is(err, errBroken) {
		t.Errorf("second Next = %v, want the body's error", err)
	}
}

var errBroken = errors.New("connection reset")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errBroken }

const noEnvelopeLine = `{"original_identifier": "x", "internal_id": 1, "business_email": ["a@example.com", "b@example.com"]}`

func BenchmarkResultsReader(b *testing.B) {
	large := `{"original_identifier": "x", "data": {"business_email": "` + strings.Repeat("y", 256<<10) + `@example.com"}}`
	small := strings.Repeat(sampleLine+"\n", 1000)
	shapes := []struct {
		name  string
		body  []byte
		plain int // bytes after decompression, for MB/s
	}{
		{"small lines", []byte(small), len(small)},
		{"small lines gzip", gzipMembers(b, small), len(small)},
		{"large lines", []byte(strings.Repeat(large+"\n", 8)), 8 * (len(large) + 1)},
		{"no data envelope", []byte(strings.Repeat(noEnvelopeLine+"\n", 1000)), 1000 * (len(noEnvelopeLine) + 1)},
	}
	for _, shape := range shapes {
		b.Run(shape.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(shape.plain))
			for b.Loop() {
				if _, err := readAllResults(b, shape.body, ResultsReaderConfig{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func FuzzResultsReader(f *testing.F) {
	f.Add([]byte(sampleLine + "\n"))
	f.Add([]byte("\ufeff" + sampleLine + "\r\n\r\n" + `{"original_identifier": "x", "business_email": ["a"]}`))
	f.Add([]byte(`{"original_identifier": "x", "data": {"personal_contact_info": {"phone_numbers": [{"phone": 1}]}}}`))
	f.Add(gzipMembers(f, sampleLine+"\n", sampleLine))
	f.Add([]byte("[1]\n{"))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := NewResultsReader(bytes.NewReader(body), ResultsReaderConfig{MaxLineBytes: 1 << 16, MaxDecompressedBytes: 1 << 20})
		if err != nil {
			return
		}
		defer r.Close()
		for i := 0; ; i++ {
			res, err := r.Next()
			if err != nil {
				return
			}
			if res.Identifier == "" || len(res.Data) == 0 {
				t.Fatalf("record %d = %+v, want an identifier and data", i, res)
			}
			if i > len(body) {
				t.Fatal(fmt.Sprintf("more records than bytes in a %d-byte body", len(body)))
			}
		}
	})
}

// FuzzResultsReaderKeepsValidLine checks that a valid line survives
// whatever plain text follows it: it is read back whole before any error.
func FuzzResultsReaderKeepsValidLine(f *testing.F) {
	f.Add([]byte(sampleLine))
	f.Add([]byte("\r\n\n   \n"))
	f.Add([]byte(`{"original_identifier": "y"`))
	f.Add([]byte("\x1f\x8b"))
	f.Fuzz(func(t *testing.T, rest []byte) {
		body := append([]byte(sampleLine+"\n"), rest...)
		r, err := NewResultsReader(bytes.NewReader(body), ResultsReaderConfig{MaxLineBytes: 1 << 16, MaxDecompressedBytes: 1 << 20})
		if err != nil {
			t.Fatalf("NewResultsReader: %v", err)
		}
		defer r.Close()
		res, err := r.Next()
		if err != nil {
			t.Fatalf("the valid first line was lost: %v", err)
		}
		if res.Identifier != "https://www.linkedin.com/in/avery-sample-2e84b5" || res.InternalID != "5550001" ||
			len(res.BusinessEmails) != 1 || len(res.PersonalEmails) != 1 || len(res.PhoneNumbers) != 1 {
			t.Fatalf("the valid first line came back as %+v", res)
		}
		for {
			if _, err := r.Next(); err != nil {
				return
			}
		}
	})
}
