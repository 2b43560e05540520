package batchapitest

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Email is one e-mail address with its deliverability status: deliverable,
// catch_all, invalid or unknown.
type Email struct {
	Email  string `json:"email"`
	Status string `json:"status"`
}

// Person is the made-up contact data of one profile URL. Found reports
// whether the provider has a record of the profile, and a found person can
// still have no contact values at all. Empty values are empty, non-nil slices.
type Person struct {
	Found bool

	// InternalID is the decimal text of an integer in 1..2^62-1; about 5% of
	// people have one above 2^53, which float64 cannot hold exactly.
	InternalID string

	BusinessEmails []Email
	PersonalEmails []Email
	PhoneNumbers   []string // E.164, in the fictional +1 NXX 555-01xx range
}

var (
	businessDomains = []string{"acme.example", "globex.example", "initech.example", "umbrella.example", "hooli.example"}
	personalDomains = []string{"mail.example", "post.example", "inbox.example"}
	areaCodes       = []string{"212", "303", "312", "404", "415", "512", "617", "206"}
)

// Contact returns the contact data the simulator holds for profileURL,
// derived from the SHA-256 of the URL exactly as given, so two spellings of
// one profile get different data. About 20% of people are not found, 10%
// are found with nothing, 25% have only a business email, 15% only personal
// data and 30% both.
func Contact(profileURL string) Person {
	sum := sha256.Sum256([]byte(profileURL))
	p := Person{
		InternalID:     strconv.FormatUint(internalID(sum), 10),
		BusinessEmails: []Email{},
		PersonalEmails: []Email{},
		PhoneNumbers:   []string{},
	}

	bucket := binary.BigEndian.Uint16(sum[0:2]) % 100
	if bucket < 20 {
		return p
	}
	p.Found = true
	name := localPart(profileURL, sum)
	hasBusiness := bucket >= 30 && bucket < 55 || bucket >= 70
	hasPersonal := bucket >= 55

	if hasBusiness {
		p.BusinessEmails = businessEmails(name, sum)
	}
	if hasPersonal {
		// One third personal e-mails only, one third phones only, one third both.
		switch sum[2] % 3 {
		case 0:
			p.PersonalEmails = personalEmails(name, sum)
		case 1:
			p.PhoneNumbers = phoneNumbers(sum)
		default:
			p.PersonalEmails = personalEmails(name, sum)
			p.PhoneNumbers = phoneNumbers(sum)
		}
	}
	return p
}

// internalID returns an id in 1..2^53-1 for 95% of hashes, and an odd id in
// 2^53+1..2^62-1 for the rest, so it cannot survive a trip through float64.
func internalID(sum [sha256.Size]byte) uint64 {
	v := binary.BigEndian.Uint64(sum[16:24])
	if sum[24]%100 < 5 {
		const low = 1<<53 + 1
		return (low + v%(1<<62-low)) | 1
	}
	return 1 + v%(1<<53-1)
}

func businessEmails(name string, sum [sha256.Size]byte) []Email {
	domain := businessDomains[int(sum[6])%len(businessDomains)]
	emails := []Email{{Email: name + "@" + domain, Status: emailStatus(sum[12])}}
	if sum[3]%2 == 1 {
		emails = append(emails, Email{
			Email:  fmt.Sprintf("%s%d@%s", name, 10+int(sum[8])%90, domain),
			Status: emailStatus(sum[13]),
		})
	}
	return emails
}

func personalEmails(name string, sum [sha256.Size]byte) []Email {
	first := personalDomains[int(sum[7])%len(personalDomains)]
	emails := []Email{{
		Email:  fmt.Sprintf("%s.%02d@%s", name, int(sum[9])%100, first),
		Status: emailStatus(sum[14]),
	}}
	if sum[4]%2 == 1 {
		second := personalDomains[(int(sum[7])+1)%len(personalDomains)]
		emails = append(emails, Email{Email: name + "@" + second, Status: emailStatus(sum[15])})
	}
	return emails
}

func phoneNumbers(sum [sha256.Size]byte) []string {
	count := 1 + int(sum[5])%2
	phones := make([]string, 0, count)
	for i := range count {
		area := areaCodes[int(sum[10+i])%len(areaCodes)]
		phones = append(phones, fmt.Sprintf("+1%s55501%02d", area, int(sum[26+i])%100))
	}
	return phones
}

// emailStatus picks deliverable 60%, catch_all 20%, invalid 10%, unknown 10%.
func emailStatus(b byte) string {
	switch b % 10 {
	case 6, 7:
		return "catch_all"
	case 8:
		return "invalid"
	case 9:
		return "unknown"
	default:
		return "deliverable"
	}
}

// localPart turns the profile slug into an e-mail local part of lower-case
// ASCII letters and digits joined by dots, or a hash-based name when the
// slug has none.
func localPart(profileURL string, sum [sha256.Size]byte) string {
	slug := ""
	if u, err := url.Parse(profileURL); err == nil {
		path := strings.TrimSuffix(u.Path, "/")
		slug = path[strings.LastIndex(path, "/")+1:]
	}

	var b strings.Builder
	dot := false
	for _, r := range strings.ToLower(slug) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dot && b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteRune(r)
			dot = false
			continue
		}
		dot = true
	}

	name := b.String()
	if len(name) > 30 {
		name = strings.TrimRight(name[:30], ".")
	}
	if name == "" {
		name = "person." + hex.EncodeToString(sum[:3])
	}
	return name
}
