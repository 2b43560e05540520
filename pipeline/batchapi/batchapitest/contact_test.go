package batchapitest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestContactIsDeterministic(t *testing.T) {
	u := "https://www.linkedin.com/in/jane-example"
	if a, b := Contact(u), Contact(u); !reflect.DeepEqual(a, b) {
		t.Errorf("Contact(%q) differs between calls: %+v, %+v", u, a, b)
	}
	if a, b := Contact(u), Contact(u+"/"); reflect.DeepEqual(a, b) {
		t.Errorf("Contact gives two spellings the same data %+v, want data from the exact URL", a)
	}
}

func TestContactDistribution(t *testing.T) {
	const n = 20000
	var something, foundEmpty, notFound, businessOnly, personalOnly, bigIDs int
	for _, u := range profileURLs("dist", n) {
		p := Contact(u)
		hasBusiness := len(p.BusinessEmails) > 0
		hasPersonal := len(p.PersonalEmails) > 0 || len(p.PhoneNumbers) > 0
		switch {
		case !p.Found:
			notFound++
		case hasBusiness && !hasPersonal:
			businessOnly++
		case hasPersonal && !hasBusiness:
			personalOnly++
		case !hasBusiness && !hasPersonal:
			foundEmpty++
		}
		if hasBusiness || hasPersonal {
			something++
		}
		if id, _ := strconv.ParseUint(p.InternalID, 10, 64); id > 1<<53 {
			bigIDs++
		}
	}
	tests := []struct {
		name     string
		count    int
		low, top float64
	}{
		{name: "people with something", count: something, low: 0.67, top: 0.73},
		{name: "found with nothing", count: foundEmpty, low: 0.08, top: 0.12},
		{name: "not found", count: notFound, low: 0.17, top: 0.23},
		{name: "business email only", count: businessOnly, low: 0.22, top: 0.28},
		{name: "personal data only", count: personalOnly, low: 0.12, top: 0.18},
		{name: "internal ids above 2^53", count: bigIDs, low: 0.03, top: 0.07},
	}
	for _, tt := range tests {
		if share := float64(tt.count) / n; share < tt.low || share > tt.top {
			t.Errorf("%s: share %.3f, want %.2f..%.2f", tt.name, share, tt.low, tt.top)
		}
	}
}

func TestContactValuesAreFictional(t *testing.T) {
	phone := regexp.MustCompile(`^\+1[2-9]\d{2}55501\d{2}$`)
	email := regexp.MustCompile(`^[a-z0-9.]+@[a-z]+\.example$`)
	statuses := []string{"deliverable", "catch_all", "invalid", "unknown"}
	urls := append(profileURLs("values", 2000), "https://www.linkedin.com/in/%E2%9C%93", "not a url", "")
	for _, u := range urls {
		p := Contact(u)
		if p.BusinessEmails == nil || p.PersonalEmails == nil || p.PhoneNumbers == nil {
			t.Fatalf("Contact(%q) has a nil slice, want empty slices: %+v", u, p)
		}
		id, err := strconv.ParseUint(p.InternalID, 10, 64)
		if err != nil || id < 1 || id >= 1<<62 {
			t.Errorf("Contact(%q).InternalID = %q, want an integer in 1..2^62-1", u, p.InternalID)
		}
		for _, e := range slices.Concat(p.BusinessEmails, p.PersonalEmails) {
			if !email.MatchString(e.Email) || !slices.Contains(statuses, e.Status) {
				t.Errorf("Contact(%q) has e-mail %+v, want <name>@<domain>.example with a known status", u, e)
			}
		}
		for _, ph := range p.PhoneNumbers {
			if !phone.MatchString(ph) {
				t.Errorf("Contact(%q) has phone %q, want +1 NXX 555 01xx", u, ph)
			}
		}
	}
}

func TestResultLine(t *testing.T) {
	u := "https://www.linkedin.com/in/jane-example/?a=1&b=<2>"
	p := Contact(u)
	tests := []struct {
		name   string
		fields []string
		want   string // data object
	}{
		{name: "business email", fields: []string{FieldBusinessEmail}, want: `{"business_email":` + mustJSON(t, p.BusinessEmails) + `}`},
		{name: "phones only", fields: []string{FieldPhoneNumbers}, want: `{"personal_contact_info":{"phone_numbers":` + mustJSON(t, p.PhoneNumbers) + `}}`},
		{name: "personal shorthand", fields: []string{FieldPersonal}, want: `{"personal_contact_info":{"personal_emails":` + mustJSON(t, p.PersonalEmails) + `,"phone_numbers":` + mustJSON(t, p.PhoneNumbers) + `}}`},
		{name: "unknown fields ignored", fields: []string{"work_phone"}, want: `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := ResultLine(u, tt.fields)
			want := `{"original_identifier":"` + u + `","internal_id":` + p.InternalID + `,"data":` + tt.want + `}`
			if string(line) != want {
				t.Errorf("ResultLine() = %s, want %s", line, want)
			}
			if !json.Valid(line) || strings.Contains(string(line), "\n") {
				t.Errorf("ResultLine() = %q, want one line of valid JSON", line)
			}
		})
	}
}

func TestResultLineOfPersonWithNothing(t *testing.T) {
	var u string
	for i := 0; u == ""; i++ {
		candidate := fmt.Sprintf("https://www.linkedin.com/in/empty-%d", i)
		if p := Contact(candidate); p.Found && !FoundFor(p, []string{FieldBusinessEmail, FieldPersonal}) {
			u = candidate
		}
	}
	got := string(ResultLine(u, []string{FieldBusinessEmail, FieldPersonal}))
	want := `"data":{"business_email":[],"personal_contact_info":{"personal_emails":[],"phone_numbers":[]}}}`
	if !strings.HasSuffix(got, want) {
		t.Errorf("ResultLine() = %s, want it to end in %s", got, want)
	}
}

func TestFoundFor(t *testing.T) {
	p := Person{Found: true, BusinessEmails: []Email{}, PersonalEmails: []Email{}, PhoneNumbers: []string{"+12125550100"}}
	tests := []struct {
		name   string
		fields []string
		want   bool
	}{
		{name: "phones requested and present", fields: []string{FieldPhoneNumbers}, want: true},
		{name: "shorthand covers phones", fields: []string{FieldPersonal}, want: true},
		{name: "business requested but empty", fields: []string{FieldBusinessEmail}, want: false},
		{name: "personal emails requested but empty", fields: []string{FieldPersonalEmails}, want: false},
		{name: "nothing requested", fields: nil, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FoundFor(p, tt.fields); got != tt.want {
				t.Errorf("FoundFor(%v) = %v, want %v", tt.fields, got, tt.want)
			}
		})
	}
}

func BenchmarkResultLine(b *testing.B) {
	shapes := []struct {
		name   string
		fields []string
	}{
		{name: "business", fields: []string{FieldBusinessEmail}},
		{name: "all", fields: []string{FieldBusinessEmail, FieldPersonal}},
	}
	for _, shape := range shapes {
		b.Run(shape.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ResultLine("https://www.linkedin.com/in/jane-example", shape.fields)
			}
		})
	}
}
