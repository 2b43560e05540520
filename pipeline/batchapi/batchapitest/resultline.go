package batchapitest

import (
	"bytes"
	"encoding/json"
)

// Values of the submit's fields key. FieldPersonal is shorthand for both
// FieldPersonalEmails and FieldPhoneNumbers.
const (
	FieldBusinessEmail  = "business_email"
	FieldPersonal       = "personal_contact_info"
	FieldPersonalEmails = "personal_contact_info.personal_emails"
	FieldPhoneNumbers   = "personal_contact_info.phone_numbers"
)

// availableFields is the list sent in error.metadata.available_fields.
var availableFields = []string{FieldBusinessEmail, FieldPersonal, FieldPersonalEmails, FieldPhoneNumbers}

// kinds are the contact kinds a job requested.
type kinds struct {
	business       bool
	personalEmails bool
	phones         bool
}

// kindsOf returns the kinds named by fields, ignoring unknown values.
func kindsOf(fields []string) kinds {
	var k kinds
	for _, f := range fields {
		switch f {
		case FieldBusinessEmail:
			k.business = true
		case FieldPersonal:
			k.personalEmails, k.phones = true, true
		case FieldPersonalEmails:
			k.personalEmails = true
		case FieldPhoneNumbers:
			k.phones = true
		}
	}
	return k
}

// FoundFor reports whether p has a non-empty value of any kind that fields
// requests: the rule behind entities_fulfilled.
func FoundFor(p Person, fields []string) bool {
	return p.foundFor(kindsOf(fields))
}

func (p Person) foundFor(k kinds) bool {
	return k.business && len(p.BusinessEmails) > 0 ||
		k.personalEmails && len(p.PersonalEmails) > 0 ||
		k.phones && len(p.PhoneNumbers) > 0
}

// ResultLine returns the results-file line the simulator writes for
// profileURL when a job requests fields, without the trailing newline.
// Unknown field values are ignored.
func ResultLine(profileURL string, fields []string) []byte {
	return resultLine(profileURL, kindsOf(fields))
}

type resultRecord struct {
	OriginalIdentifier string      `json:"original_identifier"`
	InternalID         json.Number `json:"internal_id"`
	Data               resultData  `json:"data"`
}

type resultData struct {
	BusinessEmail *[]Email      `json:"business_email,omitempty"`
	Personal      *personalInfo `json:"personal_contact_info,omitempty"`
}

type personalInfo struct {
	PersonalEmails *[]Email  `json:"personal_emails,omitempty"`
	PhoneNumbers   *[]string `json:"phone_numbers,omitempty"`
}

func resultLine(profileURL string, k kinds) []byte {
	p := Contact(profileURL)
	rec := resultRecord{OriginalIdentifier: profileURL, InternalID: json.Number(p.InternalID)}
	if k.business {
		rec.Data.BusinessEmail = &p.BusinessEmails
	}
	if k.personalEmails || k.phones {
		rec.Data.Personal = &personalInfo{}
	}
	if k.personalEmails {
		rec.Data.Personal.PersonalEmails = &p.PersonalEmails
	}
	if k.phones {
		rec.Data.Personal.PhoneNumbers = &p.PhoneNumbers
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	// Encode cannot fail: the record contains only strings and a json.Number
	// that Contact formats from an integer, which TestContactValuesAreFictional checks.
	_ = enc.Encode(rec)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
