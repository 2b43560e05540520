package batchapi

import "github.com/contact-enricher/contact-enricher/secret"

// Secret is the API key: a string that prints as [redacted] everywhere, so
// it cannot leak into a log or an error. Reveal returns the value; the
// client calls it only to build the Authorization header.
type Secret = secret.Value

// redacted replaces secrets in text.
const redacted = secret.Redacted
