package batchapitest

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// lineValues are the contact values of one results line, read by the
// test's own tolerant reader.
type lineValues struct {
	business, personal []Email
	phones             []string
}

// valueForm names how a raw value is written: "missing", "null", `""`,
// "[]", "string", "list of strings" or "list of objects".
func valueForm(raw json.RawMessage, present bool) string {
	raw = bytes.TrimSpace(raw)
	switch {
	case !present:
		return "missing"
	case string(raw) == "null", string(raw) == `""`, string(raw) == "[]":
		return string(raw)
	case raw[0] == '"':
		return "string"
	case bytes.HasPrefix(raw, []byte(`["`)):
		return "list of strings"
	default:
		return "list of objects"
	}
}

// readEmails reads a string, a list of strings or a list of objects; empty
// forms read as no emails.
func readEmails(t *testing.T, raw json.RawMessage) []Email {
	t.Helper()
	var emails []Email
	switch valueForm(raw, raw != nil) {
	case "string":
		var address string
		decodeJSON(t, raw, &address)
		emails = []Email{{Email: address}}
	case "list of strings":
		var addresses []string
		decodeJSON(t, raw, &addresses)
		for _, a := range addresses {
			emails = append(emails, Email{Email: a})
		}
	case "list of objects":
		decodeJSON(t, raw, &emails)
	}
	return emails
}

// readShapedLine reads one line written under DataShapes and records the
// forms it saw in forms.
func readShapedLine(t *testing.T, line string, forms map[string]bool) lineValues {
	t.Helper()
	var top map[string]json.RawMessage
	decodeJSON(t, []byte(line), &top)
	data := top
	if raw, ok := top["data"]; ok {
		decodeJSON(t, raw, &data)
	} else {
		forms["no data envelope"] = true
	}

	var v lineValues
	raw, ok := data["business_email"]
	forms["business_email "+valueForm(raw, ok)] = true
	v.business = readEmails(t, raw)

	var personal map[string]json.RawMessage
	decodeJSON(t, data["personal_contact_info"], &personal)
	raw, ok = personal["personal_emails"]
	forms["personal_emails "+valueForm(raw, ok)] = true
	v.personal = readEmails(t, raw)
	raw, ok = personal["phone_numbers"]
	forms["phone_numbers "+valueForm(raw, ok)] = true
	if valueForm(raw, ok) == "list of strings" {
		decodeJSON(t, raw, &v.phones)
	}
	return v
}

// withoutStatus drops the statuses of emails, as a bare address has none.
func withoutStatus(emails []Email) []Email {
	out := make([]Email, len(emails))
	for i, e := range emails {
		out[i] = Email{Email: e.Email}
	}
	return out
}

func TestFaultDataShapes(t *testing.T) {
	urls, fields := profileURLs("shapes", 60), []string{FieldBusinessEmail, FieldPersonal}
	_, data := shapedBody(t, Faults{DataShapes: 1}, urls, fields)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != len(urls) {
		t.Fatalf("file has %d lines, want %d", len(lines), len(urls))
	}

	forms := map[string]bool{}
	for i, line := range lines {
		got := readShapedLine(t, line, forms)
		p := Contact(urls[i])
		wantBusiness := p.BusinessEmails
		if len(got.business) > 0 && got.business[0].Status == "" {
			wantBusiness = withoutStatus(wantBusiness)
		}
		if !slices.Equal(got.business, wantBusiness) || !slices.Equal(got.personal, p.PersonalEmails) ||
			!slices.Equal(got.phones, p.PhoneNumbers) {
			t.Errorf("line %d %s\nreads as %+v, want %+v", i, line, got,
				lineValues{wantBusiness, p.PersonalEmails, p.PhoneNumbers})
		}
	}

	want := []string{
		"no data envelope",
		"business_email string", "business_email list of strings", "business_email list of objects",
		"business_email []", "business_email null", `business_email ""`, "business_email missing",
		"personal_emails []", "personal_emails null", `personal_emails ""`, "personal_emails missing",
		"phone_numbers []", "phone_numbers null", `phone_numbers ""`, "phone_numbers missing",
	}
	for _, form := range want {
		if !forms[form] {
			t.Errorf("no line with %s", form)
		}
	}
	if forms["personal_emails string"] || forms["personal_emails list of strings"] {
		t.Errorf("personal_emails written as strings, a shape the API is not known to send: %v", forms)
	}
}

func TestDataShapeZeroIsDefaultLine(t *testing.T) {
	for _, u := range profileURLs("zero-shape", 20) {
		k := kindsOf([]string{FieldBusinessEmail, FieldPersonal})
		p := Contact(u)
		if got, want := shapedLine(u, p.InternalID, p, k, dataShape{}), resultLine(u, k); !bytes.Equal(got, want) {
			t.Errorf("zero shape of %s = %s, want %s", u, got, want)
		}
	}
}
