package kafkaconn

import (
	"fmt"
	"io"
	"log/slog"
)

const redacted = "[redacted]"

// Secret is a string that prints as [redacted] with every fmt verb, in JSON,
// as text and in slog, so that a password cannot leak into a log line or an
// error message. Reveal returns the value itself. A Secret is immutable and
// safe for concurrent use.
//
// NOTE: encoding/json writes a map key of a string kind as is, without
// calling MarshalText, so never use a Secret as a map key.
type Secret string

// Reveal returns the secret value, for handing it to a SASL mechanism.
func (s Secret) Reveal() string { return string(s) }

// String returns [redacted].
func (s Secret) String() string { return redacted }

// GoString returns [redacted], so that %#v hides the value too.
func (s Secret) GoString() string { return redacted }

// Format writes [redacted] for every verb, including %x, %q and %d, which
// would otherwise print the underlying string.
func (s Secret) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, redacted)
}

// MarshalJSON returns the JSON string "[redacted]".
func (s Secret) MarshalJSON() ([]byte, error) {
	return []byte(`"` + redacted + `"`), nil
}

// MarshalText returns [redacted], for encoders that prefer text.
func (s Secret) MarshalText() ([]byte, error) {
	return []byte(redacted), nil
}

// LogValue returns [redacted] for slog.
func (s Secret) LogValue() slog.Value {
	return slog.StringValue(redacted)
}
