package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Defaults of DecoderConfig.
const (
	DefaultURLColumn = "linkedin_url"
	DefaultURLPath   = "linkedin_url"
)

// DecoderConfig configures how input record values are read.
type DecoderConfig struct {
	// URLColumn is the column of a Debezium row (the "after" and "before"
	// objects) that holds the profile URL. Default: "linkedin_url".
	URLColumn string
	// URLPath is the dotted path of the profile URL in a plain JSON object
	// that is not a Debezium envelope, for example "person.linkedin". Default:
	// "linkedin_url".
	URLPath string
}

// Action is what the pipeline does with a decoded input record.
type Action int

const (
	// ActionEnrich: the record carries a profile URL to enrich.
	ActionEnrich Action = iota + 1
	// ActionSkip: the record needs no enrichment (tombstone, delete, update
	// whose URL did not change). It is committed without output.
	ActionSkip
)

// Skip reasons returned in Decoded.SkipReason.
const (
	SkipTombstone    = "tombstone"
	SkipDelete       = "delete"
	SkipURLUnchanged = "url_unchanged"
)

// Decoded is the result of decoding one input record value.
type Decoded struct {
	Action     Action
	SkipReason string // set when Action is ActionSkip
	RawURL     string // the URL as the CRM spelled it (ActionEnrich)
	URL        string // the canonical profile URL (ActionEnrich)
}

// Decoder decodes input record values. It holds only its configuration,
// so it is safe for concurrent use. The zero Decoder uses the defaults.
type Decoder struct{ cfg DecoderConfig }

// NewDecoder returns a decoder; zero fields of cfg take their defaults.
func NewDecoder(cfg DecoderConfig) *Decoder {
	if cfg.URLColumn == "" {
		cfg.URLColumn = DefaultURLColumn
	}
	if cfg.URLPath == "" {
		cfg.URLPath = DefaultURLPath
	}
	return &Decoder{cfg: cfg}
}

func (d *Decoder) column() string {
	if d.cfg.URLColumn == "" {
		return DefaultURLColumn
	}
	return d.cfg.URLColumn
}

func (d *Decoder) path() string {
	if d.cfg.URLPath == "" {
		return DefaultURLPath
	}
	return d.cfg.URLPath
}

var utf8BOM = []byte("\xef\xbb\xbf")

// Decode classifies one record value (nil means a tombstone). It returns a
// *DecodeError for every record that must be dead-lettered.
//
// A value is read as a Debezium change event (bare or inside
// {"schema","payload"}), as another JSON object with the URL at
// URLPath, as a JSON string, or as plain text holding one URL.
func (d *Decoder) Decode(value []byte) (Decoded, error) {
	if value == nil {
		return Decoded{Action: ActionSkip, SkipReason: SkipTombstone}, nil
	}
	text := bytes.TrimSpace(bytes.TrimPrefix(value, utf8BOM))
	if len(text) == 0 {
		return enrich("", "the record value")
	}
	switch text[0] {
	case '{', '[':
		if !json.Valid(text) {
			return Decoded{}, decodeError(ReasonInvalidJSON, "the record value "+quoteValue(string(text))+
				" starts like JSON but is not valid JSON (it may be cut short); the producer must write complete JSON")
		}
		if text[0] == '[' {
			return Decoded{}, unsupportedValue(text)
		}
		return d.decodeObject(text)
	}
	if json.Valid(text) {
		s, ok := decodeJSONString(text)
		if !ok {
			return Decoded{}, unsupportedValue(text)
		}
		return enrich(s, "the record value (a JSON string)")
	}
	if !isOneLineOfText(text) {
		return Decoded{}, decodeError(ReasonInvalidJSON, "the record value "+quoteValue(string(text))+
			" is neither JSON nor a single line of text holding a URL")
	}
	return enrich(string(bytes.TrimPrefix(value, utf8BOM)), "the record value")
}

func unsupportedValue(text []byte) *DecodeError {
	return decodeError(ReasonUnsupportedValue, "the record value "+quoteValue(string(text))+" is a "+jsonKind(text)+
		"; expected a Debezium change event, a JSON object with the profile URL, or a URL string")
}

// isOneLineOfText reports whether b is valid UTF-8 with no control or
// format characters, so it can be a URL typed by hand.
func isOneLineOfText(b []byte) bool {
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 {
			return false
		}
		if !unicode.IsGraphic(r) {
			return false
		}
		b = b[size:]
	}
	return true
}

// decodeObject reads a Debezium envelope, detected by an "op" key in the
// object or in its "payload", or else a plain object.
func (d *Decoder) decodeObject(obj []byte) (Decoded, error) {
	if op, ok := objectField(obj, "op"); ok {
		return d.decodeChange(obj, op)
	}
	if payload, ok := objectField(obj, "payload"); ok && isJSONObject(payload) {
		if op, ok := objectField(payload, "op"); ok {
			return d.decodeChange(payload, op)
		}
	}
	return d.decodePlainObject(obj)
}

// decodePlainObject follows the dotted URLPath through nested objects.
func (d *Decoder) decodePlainObject(obj []byte) (Decoded, error) {
	path := d.path()
	where := "path " + strconv.Quote(path) + " of the JSON object"
	current, rest := obj, path
	for {
		key, tail, more := strings.Cut(rest, ".")
		v, ok := objectField(current, key)
		if !ok || (more && isJSONNull(v)) {
			return Decoded{}, decodeError(ReasonMissingProfileURL, "the record value is not a Debezium change event "+
				"(no \"op\" key) and has no "+where+" (no "+strconv.Quote(key)+"); "+
				"check that the configured URL path names the field that holds the profile URL")
		}
		if !more {
			return urlFromJSON(v, ok, where)
		}
		if !isJSONObject(v) {
			return Decoded{}, decodeError(ReasonMissingProfileURL, "the record value has no "+where+": "+
				strconv.Quote(key)+" is a "+jsonKind(v)+", not an object")
		}
		current, rest = v, tail
	}
}

// urlFromJSON reads the raw JSON value found at where as a profile URL.
func urlFromJSON(v []byte, found bool, where string) (Decoded, error) {
	switch {
	case !found:
		return Decoded{}, decodeError(ReasonMissingProfileURL, "the record value has no "+where+
			"; check that the configured URL column names the column that holds the profile URL")
	case isJSONNull(v):
		return Decoded{}, decodeError(ReasonMissingProfileURL, where+
			" is null, so there is no profile URL to enrich; fill in the contact's profile URL in the CRM")
	}
	s, ok := decodeJSONString(v)
	if !ok {
		return Decoded{}, decodeError(ReasonNotAProfileURL, where+" is a "+jsonKind(v)+" ("+
			quoteValue(string(v))+"), not a URL string")
	}
	return enrich(s, where)
}

// enrich canonicalises raw and names where it was found in any error.
func enrich(raw, where string) (Decoded, error) {
	canonical, err := CanonicalProfileURL(raw)
	if err != nil {
		var de *DecodeError
		if errors.As(err, &de) {
			return Decoded{}, decodeError(de.Reason, where+": "+de.Detail)
		}
		return Decoded{}, err
	}
	return Decoded{Action: ActionEnrich, RawURL: raw, URL: canonical}, nil
}
