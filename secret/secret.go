// Package secret provides a string type for credentials (API keys,
// passwords) that never prints its value.
package secret

import (
	"fmt"
	"io"
	"log/slog"
)

// Redacted is what a Value prints in place of its content.
const Redacted = "[redacted]"

// Value is a string that prints as [redacted] with every fmt verb, in JSON,
// as text and in slog, so a credential cannot leak into a log or an error.
// Reveal returns the value itself. A Value is immutable and safe for
// concurrent use.
//
// NOTE: encoding/json writes a map key of a string kind as is, so never use
// a Value as a map key.
type Value string

// Reveal returns the secret value, for the one place that must send it,
// such as an Authorization header or a SASL mechanism.
func (s Value) Reveal() string { return string(s) }

// String returns [redacted].
func (s Value) String() string { return Redacted }

// GoString returns [redacted], so %#v hides the value too.
func (s Value) GoString() string { return Redacted }

// Format writes [redacted] for every verb, including %x, %q and %d, which
// would otherwise print the underlying string.
func (s Value) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, Redacted)
}

// MarshalJSON returns the JSON string "[redacted]".
func (s Value) MarshalJSON() ([]byte, error) {
	return []byte(`"` + Redacted + `"`), nil
}

// MarshalText returns [redacted], for encoders that prefer text, such as
// encoding/xml.
func (s Value) MarshalText() ([]byte, error) {
	return []byte(Redacted), nil
}

// LogValue returns [redacted] for slog.
func (s Value) LogValue() slog.Value {
	return slog.StringValue(Redacted)
}
