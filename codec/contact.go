package codec

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"
)

// ContactSchema names and versions the output contact event.
const ContactSchema = "contact-enricher.contact.v1"

// Email is one email address with the provider's deliverability status
// (deliverable, catch_all, invalid, unknown, or "" when not given).
type Email struct {
	Email  string `json:"email"`
	Status string `json:"status,omitempty"`
}

// Source is one input record that a contact event answers.
type Source struct {
	Topic     string  `json:"topic"`
	Partition int     `json:"partition"`
	Offset    int64   `json:"offset"`
	Key       *string `json:"key"`                  // the record key as UTF-8 text, nil when absent or not UTF-8
	KeyBase64 string  `json:"key_base64,omitempty"` // the key in base64 when it is not valid UTF-8
	URL       string  `json:"profile_url"`          // the URL as the CRM spelled it
}

// NewSource describes one input record. A key that is not valid UTF-8 is
// kept in KeyBase64; a nil key leaves both Key and KeyBase64 empty.
func NewSource(topic string, partition int, offset int64, key []byte, rawURL string) Source {
	s := Source{Topic: topic, Partition: partition, Offset: offset, URL: rawURL}
	switch {
	case key == nil:
	case utf8.Valid(key):
		text := string(key)
		s.Key = &text
	default:
		s.KeyBase64 = base64.StdEncoding.EncodeToString(key)
	}
	return s
}

// ContactEvent is the value of one record on the output topic. Its key is
// ProfileURL.
type ContactEvent struct {
	Schema         string          `json:"schema"`
	ProfileURL     string          `json:"profile_url"`
	Identifier     string          `json:"identifier"`            // original_identifier as the API returned it
	InternalID     string          `json:"internal_id,omitempty"` // exact decimal, never a float
	Fields         []string        `json:"fields"`
	Found          bool            `json:"found"`
	BusinessEmails []Email         `json:"business_emails"`
	PersonalEmails []Email         `json:"personal_emails"`
	PhoneNumbers   []string        `json:"phone_numbers"`
	Data           json.RawMessage `json:"data"` // the API's data object verbatim; null when not found
	BatchID        string          `json:"batch_id"`
	EnrichedAt     time.Time       `json:"enriched_at"`
	Sources        []Source        `json:"sources"`
}

// NewContactEvent builds the event for the canonical profile URL url.
// rec == nil means the URL was missing from the results file: Found false,
// Identifier = url, empty lists, Data null. The slices of rec are copied.
func NewContactEvent(url string, rec *Result, fields []string, batchID string, at time.Time, sources []Source) ContactEvent {
	e := ContactEvent{
		Schema:         ContactSchema,
		ProfileURL:     url,
		Identifier:     url,
		Fields:         cloneOrEmpty(fields),
		BusinessEmails: []Email{},
		PersonalEmails: []Email{},
		PhoneNumbers:   []string{},
		Data:           json.RawMessage("null"),
		BatchID:        batchID,
		EnrichedAt:     at.UTC(),
		Sources:        cloneOrEmpty(sources),
	}
	if rec == nil {
		return e
	}
	e.Identifier = rec.Identifier
	e.InternalID = rec.InternalID
	e.Found = rec.Found()
	e.BusinessEmails = cloneOrEmpty(rec.BusinessEmails)
	e.PersonalEmails = cloneOrEmpty(rec.PersonalEmails)
	e.PhoneNumbers = cloneOrEmpty(rec.PhoneNumbers)
	if len(rec.Data) > 0 && len(rec.Data) <= MaxContactDataBytes {
		e.Data = bytes.Clone(rec.Data)
	}
	return e
}

// MaxContactDataBytes is the largest data object that a contact event
// carries verbatim. A larger one is left out (data is null), and the event
// keeps the emails and phone numbers read from it, so that the event stays
// well under Kafka's default record limit of about 1 MB.
const MaxContactDataBytes = 256 << 10

// Marshal encodes the event as one line of compact JSON without a
// trailing newline. Nil lists encode as [], empty Data as null and
// EnrichedAt in UTC, so hand-built events read the same as built ones.
func (e ContactEvent) Marshal() ([]byte, error) {
	e.Fields = orEmpty(e.Fields)
	e.BusinessEmails = orEmpty(e.BusinessEmails)
	e.PersonalEmails = orEmpty(e.PersonalEmails)
	e.PhoneNumbers = orEmpty(e.PhoneNumbers)
	e.Sources = orEmpty(e.Sources)
	if len(e.Data) == 0 {
		e.Data = json.RawMessage("null")
	}
	e.EnrichedAt = e.EnrichedAt.UTC()
	b, err := marshalNoHTMLEscape(e)
	if err != nil {
		return nil, fmt.Errorf("encoding contact event for %s: %w", e.ProfileURL, err)
	}
	return b, nil
}

// marshalNoHTMLEscape encodes v as json.Marshal does but keeps <, > and &
// as they are: company names such as "Placeholder & Co" read as written.
func marshalNoHTMLEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func cloneOrEmpty[T any](s []T) []T {
	return append(make([]T, 0, len(s)), s...)
}
