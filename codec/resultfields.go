package codec

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// parseResult reads one results line, a JSON object that json.Valid has
// accepted. The data may sit in a "data" envelope or at the top level.
func parseResult(obj []byte) (*Result, error) {
	m := scanResultMembers(obj)
	res := &Result{Data: json.RawMessage("null")}
	var err error
	if res.Identifier, err = readIdentifier(m.id); err != nil {
		return nil, err
	}
	if res.InternalID, err = readInternalID(m.internalID); err != nil {
		return nil, err
	}

	data, hasData, hasOther := m.data, m.hasData, m.hasOther
	switch {
	case hasData && isJSONEmpty(data):
		return res, nil
	case hasData && !isJSONObject(data):
		return nil, fmt.Errorf("data of %s is a %s, not an object", quoteValue(res.Identifier), jsonKind(data))
	case hasData:
		res.Data = appendCompact(make([]byte, 0, len(data)), data)
	case hasOther:
		res.Data, data = dataMembers(obj), obj
	default:
		return res, nil
	}
	if err := readContactLists(res, data); err != nil {
		return nil, fmt.Errorf("data of %s: %w", quoteValue(res.Identifier), err)
	}
	return res, nil
}

// resultMembers are the raw top-level members of a results line.
type resultMembers struct {
	id, internalID, data []byte
	hasData              bool
	hasOther             bool // members other than the three above
}

func scanResultMembers(obj []byte) resultMembers {
	var m resultMembers
	forEachMember(obj, func(key, value []byte) bool {
		switch {
		case keyIs(key, "original_identifier"):
			m.id = value
		case keyIs(key, "internal_id"):
			m.internalID = value
		case keyIs(key, "data"):
			m.data, m.hasData = value, true
		default:
			m.hasOther = true
		}
		return true
	})
	return m
}

func readIdentifier(v []byte) (string, error) {
	if isJSONNull(v) {
		return "", errors.New("missing original_identifier")
	}
	s, ok := decodeJSONString(v)
	if !ok {
		return "", fmt.Errorf("original_identifier is a %s, not a string", jsonKind(v))
	}
	if strings.TrimSpace(s) == "" {
		return "", errors.New("original_identifier is empty")
	}
	return s, nil
}

// readInternalID keeps the exact decimal text of an integer that may not
// fit in 64 bits, given as a JSON number or a string of digits.
func readInternalID(v []byte) (string, error) {
	if isJSONNull(v) {
		return "", nil
	}
	text := string(v)
	if s, ok := decodeJSONString(v); ok {
		text = strings.TrimSpace(s)
		if text == "" {
			return "", nil
		}
	}
	if !isIntegerText(text) {
		short, _ := truncateValue(string(v))
		return "", fmt.Errorf("internal_id %s is not an integer", short)
	}
	return text, nil
}

func isIntegerText(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// dataKeys are the members of a line without a data envelope that carry
// contact data. Other members, such as the identifiers or fields unknown to
// the contract, are not data: copying them could make a contact event
// larger than a Kafka record may be.
var dataKeys = []string{"business_email", "personal_contact_info", "personal_emails", "phone_numbers"}

// dataMembers returns the compact object of the dataKeys members of obj, in
// the original member order.
func dataMembers(obj []byte) json.RawMessage {
	out := make([]byte, 1, len(obj))
	out[0] = '{'
	forEachMember(obj, func(key, value []byte) bool {
		if !slices.ContainsFunc(dataKeys, func(k string) bool { return keyIs(key, k) }) {
			return true
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, key...)
		out = append(out, ':')
		out = appendCompact(out, value)
		return true
	})
	return append(out, '}')
}

// readContactLists fills the three lists of res from the data object.
// personal_emails and phone_numbers are read from personal_contact_info,
// or from data itself when that object is absent.
func readContactLists(res *Result, data []byte) error {
	var err error
	if res.BusinessEmails, err = readEmails(data, "business_email"); err != nil {
		return err
	}
	personal := data
	info, ok := objectField(data, "personal_contact_info")
	switch {
	case !ok || isJSONNull(info):
		// personal_emails and phone_numbers may sit in data itself.
	case isJSONEmpty(info):
		return nil // "" or []: no personal emails or phone numbers
	case !isJSONObject(info):
		return fmt.Errorf("personal_contact_info is a %s, not an object", jsonKind(info))
	default:
		personal = info
	}
	if res.PersonalEmails, err = readEmails(personal, "personal_emails"); err != nil {
		return err
	}
	res.PhoneNumbers, err = readPhoneNumbers(personal, "phone_numbers")
	return err
}

// forEachItem calls fn for each element of an array v, or once for any
// other value. fn gets the index of the element, or -1 for a lone value.
func forEachItem(v []byte, fn func(item []byte, index int) error) error {
	if len(v) == 0 || v[0] != '[' {
		return fn(v, -1)
	}
	var err error
	forEachElement(v, func(i int, item []byte) bool {
		err = fn(item, i)
		return err == nil
	})
	return err
}

// itemName names an item of field for a message: "business_email[2]".
func itemName(field string, index int) string {
	if index < 0 {
		return field
	}
	return fmt.Sprintf("%s[%d]", field, index)
}

// readEmails reads field of obj as a string, an {email, status} object or
// a list of either. Empty entries are dropped.
func readEmails(obj []byte, field string) ([]Email, error) {
	v, ok := objectField(obj, field)
	if !ok {
		return nil, nil
	}
	var out []Email
	err := forEachItem(v, func(item []byte, index int) error {
		e, err := readEmail(item, field, index)
		if err == nil && e.Email != "" {
			out = append(out, e)
		}
		return err
	})
	return out, err
}

func readEmail(item []byte, field string, index int) (Email, error) {
	switch {
	case isJSONNull(item):
		return Email{}, nil
	case isJSONObject(item):
		address, _ := objectField(item, "email")
		status, _ := objectField(item, "status")
		email, ok := decodeJSONString(address)
		if !ok && !isJSONNull(address) {
			return Email{}, fmt.Errorf("%s.email is a %s, not a string", itemName(field, index), jsonKind(address))
		}
		text, _ := decodeJSONString(status)
		return Email{Email: strings.TrimSpace(email), Status: strings.TrimSpace(text)}, nil
	}
	s, ok := decodeJSONString(item)
	if !ok {
		return Email{}, fmt.Errorf("%s is a %s, not an email address or an object with \"email\"", itemName(field, index), jsonKind(item))
	}
	return Email{Email: strings.TrimSpace(s)}, nil
}

// readPhoneNumbers reads field of obj as a string, an object with a
// "number" or "phone" key, or a list of either. Empty entries are dropped.
func readPhoneNumbers(obj []byte, field string) ([]string, error) {
	v, ok := objectField(obj, field)
	if !ok {
		return nil, nil
	}
	var out []string
	err := forEachItem(v, func(item []byte, index int) error {
		inner := ""
		if isJSONObject(item) {
			number, ok := objectField(item, "number")
			if !ok || isJSONNull(number) {
				number, _ = objectField(item, "phone")
			}
			item, inner = number, ".number"
		}
		phone, err := readPhone(item)
		if err != nil {
			return fmt.Errorf("%s%s %w", itemName(field, index), inner, err)
		}
		if phone != "" {
			out = append(out, phone)
		}
		return nil
	})
	return out, err
}

// readPhone accepts a string, or a JSON number kept as its text.
func readPhone(item []byte) (string, error) {
	switch {
	case isJSONNull(item):
		return "", nil
	case item[0] == '-' || isDigit(item[0]):
		return string(item), nil
	}
	s, ok := decodeJSONString(item)
	if !ok {
		return "", fmt.Errorf("is a %s, not a phone number", jsonKind(item))
	}
	return strings.TrimSpace(s), nil
}
