package kafkaconn

import "github.com/contact-enricher/contact-enricher/secret"

// Secret is the SASL password: a string that prints as [redacted]
// everywhere, so it cannot leak into a log or an error. Reveal returns the
// value, for handing it to a SASL mechanism.
type Secret = secret.Value

// redacted replaces secrets in text.
const redacted = secret.Redacted
