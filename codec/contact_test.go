package codec

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var enrichedAt = time.Date(2026, 12, 1, 9, 30, 0, 0, time.FixedZone("CET", 3600))

func TestNewContactEventNotFound(t *testing.T) {
	e := NewContactEvent(avery, nil, []string{"business_email"}, "batch-1", enrichedAt, nil)
	b, err := e.Marshal()
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	want := `{"schema":"contact-enricher.contact.v1","profile_url":"` + avery + `","identifier":"` + avery +
		`","fields":["business_email"],"found":false,"business_emails":[],"personal_emails":[],"phone_numbers":[],` +
		`"data":null,"batch_id":"batch-1","enriched_at":"2026-12-01T08:30:00Z","sources":[]}`
	if string(b) != want {
		t.Errorf("Marshal =\n%s\nwant\n%s", b, want)
	}
}

func TestNewContactEventFound(t *testing.T) {
	rec := &Result{
		Identifier:     "https://www.linkedin.com/in/Avery-Sample-2e84b5",
		InternalID:     "18446744073709551617",
		Data:           json.RawMessage(`{"business_email":[{"email":"a@example.com","status":"deliverable"}]}`),
		BusinessEmails: []Email{{Email: "a@example.com", Status: "deliverable"}},
	}
	key := "{\"id\": 1000}"
	sources := []Source{{Topic: "crm.contacts", Partition: 2, Offset: 77, Key: &key, URL: avery + "/"}}
	e := NewContactEvent(avery, rec, []string{"business_email"}, "batch-1", enrichedAt, sources)

	if !e.Found || e.Identifier != rec.Identifier || e.InternalID != rec.InternalID {
		t.Errorf("event = %+v, want found with the result's identifier and id", e)
	}
	rec.BusinessEmails[0].Email = "changed@example.com"
	if e.BusinessEmails[0].Email != "a@example.com" {
		t.Error("the event shares its business emails with the result")
	}
	b, err := e.Marshal()
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	for _, fragment := range []string{
		`"internal_id":"18446744073709551617"`,
		`"found":true`,
		`"data":{"business_email":[{"email":"a@example.com","status":"deliverable"}]}`,
		`"personal_emails":[]`,
		`"phone_numbers":[]`,
		`"sources":[{"topic":"crm.contacts","partition":2,"offset":77,"key":"{\"id\": 1000}","profile_url":"` + avery + `/"}]`,
	} {
		if !strings.Contains(string(b), fragment) {
			t.Errorf("Marshal = %s, want it to contain %s", b, fragment)
		}
	}
}

func TestNewContactEventLeavesOutHugeData(t *testing.T) {
	huge := `{"business_email":["a@example.com"],"padding":"` + strings.Repeat("p", MaxContactDataBytes) + `"}`
	rec := &Result{Identifier: avery, Data: json.RawMessage(huge), BusinessEmails: []Email{{Email: "a@example.com"}}}
	e := NewContactEvent(avery, rec, []string{"business_email"}, "batch-1", enrichedAt, nil)
	b, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 4096 || !strings.Contains(string(b), `"data":null`) {
		t.Errorf("event of %d bytes, want data left out: %.300s", len(b), b)
	}
	if !e.Found || len(e.BusinessEmails) != 1 {
		t.Errorf("event found %t with %v, want the business email kept", e.Found, e.BusinessEmails)
	}
}

func TestContactEventMarshalHandBuilt(t *testing.T) {
	e := ContactEvent{Schema: ContactSchema, ProfileURL: avery, Identifier: "Placeholder & Co <x>",
		EnrichedAt: enrichedAt}
	b, err := e.Marshal()
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	for _, fragment := range []string{`"fields":[]`, `"business_emails":[]`, `"data":null`, `"sources":[]`,
		`"identifier":"Placeholder & Co <x>"`, `"enriched_at":"2026-12-01T08:30:00Z"`} {
		if !strings.Contains(string(b), fragment) {
			t.Errorf("Marshal = %s, want it to contain %s", b, fragment)
		}
	}
	if strings.HasSuffix(string(b), "\n") {
		t.Error("Marshal output ends with a newline")
	}
}

func TestContactEventMarshalRejectsInvalidData(t *testing.T) {
	e := ContactEvent{ProfileURL: avery, Data: json.RawMessage(`{"x":`)}
	if _, err := e.Marshal(); err == nil {
		t.Error("Marshal of invalid Data succeeded, want an error")
	}
}

func TestNewSource(t *testing.T) {
	tests := []struct {
		name       string
		key        []byte
		wantKey    string // "<nil>" for a nil Key
		wantBase64 string
	}{
		{"text key", []byte(`{"id": 1}`), `{"id": 1}`, ""},
		{"empty key", []byte{}, "", ""},
		{"nil key", nil, "<nil>", ""},
		{"binary key", []byte{0xff, 0x00, 0x01}, "<nil>", "/wAB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSource("crm.contacts", 3, 42, tt.key, avery)
			got := "<nil>"
			if s.Key != nil {
				got = *s.Key
			}
			if got != tt.wantKey || s.KeyBase64 != tt.wantBase64 {
				t.Errorf("NewSource key = %q, base64 %q; want %q, %q", got, s.KeyBase64, tt.wantKey, tt.wantBase64)
			}
			if s.Topic != "crm.contacts" || s.Partition != 3 || s.Offset != 42 || s.URL != avery {
				t.Errorf("NewSource = %+v, want the topic, partition, offset and URL passed in", s)
			}
		})
	}
}
