package batchapitest

import "github.com/contact-enricher/contact-enricher/pipeline/batchapi"

// The simulator signs its webhooks with the scheme the service verifies;
// these names keep tests of the simulator short.
const SignatureHeader = batchapi.SignatureHeader

var (
	SignWebhook   = batchapi.SignWebhook
	VerifyWebhook = batchapi.VerifyWebhook

	ErrMalformedSignature = batchapi.ErrMalformedSignature
	ErrSignatureMismatch  = batchapi.ErrSignatureMismatch
	ErrSignatureTooOld    = batchapi.ErrSignatureTooOld
)
