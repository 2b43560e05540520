package codec

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestReadRecordsJSONLFixture(t *testing.T) {
	records := readFixtureJSONL(t)
	if len(records) != 347 {
		t.Fatalf("read %d records, want 347", len(records))
	}
	first := records[0]
	if string(first.Key) != `{"id": 1000}` {
		t.Errorf("first key = %q, want {\"id\": 1000}", first.Key)
	}
	if !strings.HasPrefix(string(first.Value), `{"before":null,"after":{"id":1000,"first_name":"Kai"`) {
		t.Errorf("first value = %.80s..., want the compact object in its key order", first.Value)
	}
	tombstones := 0
	for _, r := range records {
		if r.Value == nil {
			tombstones++
		}
	}
	if tombstones != 12 {
		t.Errorf("%d tombstones, want 12", tombstones)
	}
	last := records[len(records)-3:]
	if last[0].Key != nil || string(last[0].Value) != "https://www.linkedin.com/in/riley-fixture-0f00e9" {
		t.Errorf("record 345 = %q / %q, want no key and the raw URL string", last[0].Key, last[0].Value)
	}
	if string(last[2].Value) != "[1,2,3]" {
		t.Errorf("record 347 value = %q, want the compact array", last[2].Value)
	}
}

func TestReadRecordsJSONLShapes(t *testing.T) {
	input := "\ufeff" + `{"key": "k1", "value": {"b": 1,  "a": [1, 2]}}` + "\r\n" +
		"\n" +
		`{"key": null, "value": "plain \"text\""}` + "\n" +
		`{"value": null}` + "\n" +
		`{"key": "k4", "value": ""}`
	got, err := ReadRecordsJSONL(strings.NewReader(input))
	if err != nil {
		t.Fatalf("ReadRecordsJSONL: %v", err)
	}
	want := []Record{
		{Key: []byte("k1"), Value: []byte(`{"b":1,"a":[1,2]}`)},
		{Value: []byte(`plain "text"`)},
		{},
		{Key: []byte("k4"), Value: []byte{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ReadRecordsJSONL = %q, want %q", got, want)
	}
	if got[3].Value == nil {
		t.Error("an empty string value came back as a tombstone")
	}
}

func TestReadRecordsJSONLErrors(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		message string
	}{
		{"invalid json", `{"key": "a", "value": 1}` + "\n" + `{"key": `, "line 2: invalid JSON"},
		{"not an object", `[1]`, "line 1: the line is a JSON array"},
		{"missing value", "\n" + `{"key": "a"}`, `line 2: missing "value"`},
		{"numeric key", `{"key": 5, "value": null}`, "line 1: key is a JSON number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadRecordsJSONL(strings.NewReader(tt.input))
			if err == nil || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error = %v, want one containing %q", err, tt.message)
			}
		})
	}
}

func TestReadCSVFixture(t *testing.T) {
	f, err := os.Open("../testdata/contacts-export.csv")
	if err != nil {
		t.Fatalf("opening fixture: %v", err)
	}
	defer f.Close()
	records, err := ReadCSV(f, " linkedin url ")
	if err != nil {
		t.Fatalf("ReadCSV: %v", err)
	}
	if len(records) != 240 {
		t.Fatalf("read %d rows, want 240", len(records))
	}
	if string(records[0].Key) != "50000" || string(records[0].Value) != "http://linkedin.com/in/riley-fakeworth-5e9ee6" {
		t.Errorf("first row = %q / %q", records[0].Key, records[0].Value)
	}
	if string(records[1].Value) != "  https://www.linkedin.com/in/yuki-fixture-a202ee  " {
		t.Errorf("second row value = %q, want the cell with its spaces", records[1].Value)
	}

	d := NewDecoder(DecoderConfig{})
	enriched, dead := 0, 0
	for _, r := range records {
		if _, err := d.Decode(r.Value); err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || de.Reason != ReasonNotAProfileURL {
				t.Errorf("Decode(%q) error %v, want %s", r.Value, err, ReasonNotAProfileURL)
			}
			dead++
			continue
		}
		enriched++
	}
	if enriched != 212 || dead != 28 {
		t.Errorf("decoded %d to enrich and %d to dead-letter, want 212 and 28", enriched, dead)
	}
}

func TestReadCSVShapes(t *testing.T) {
	input := "\ufeffID,Name,LinkedIn URL\r\n" +
		"1,\"Sample, Kai\",https://www.linkedin.com/in/kai\r\n" +
		",No Key,\"https://www.linkedin.com/in/x?a=1,2\"\r\n" +
		"3,Empty,\r\n"
	got, err := ReadCSV(strings.NewReader(input), "LINKEDIN URL")
	if err != nil {
		t.Fatalf("ReadCSV: %v", err)
	}
	want := []Record{
		{Key: []byte("1"), Value: []byte("https://www.linkedin.com/in/kai")},
		{Value: []byte("https://www.linkedin.com/in/x?a=1,2")},
		{Key: []byte("3"), Value: []byte{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ReadCSV = %q, want %q", got, want)
	}
	if got[2].Value == nil {
		t.Error("an empty cell came back as a tombstone")
	}
	_, err = NewDecoder(DecoderConfig{}).Decode(got[2].Value)
	checkDecodeError(t, Decoded{}, err, ReasonNotAProfileURL, "empty")
}

func TestReadCSVErrors(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		column  string
		message string
	}{
		{"missing column", "ID,Name\n1,Kai\n", "LinkedIn URL", `the header has only "ID", "Name"`},
		{"short row", "ID,Name,URL\n1,Kai,x\n2,Kai\n", "url", "line 3: 2 fields"},
		{"bad quotes", "ID,URL\n1,\"x\n", "url", "reading CSV"},
		{"empty input", "", "url", "reading CSV header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadCSV(strings.NewReader(tt.input), tt.column)
			if err == nil || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error = %v, want one containing %q", err, tt.message)
			}
		})
	}
}
