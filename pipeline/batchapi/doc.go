// Package batchapi is the HTTP client of Crustdata's asynchronous Batch
// Contact Enrich API (version 2025-11-01): it submits jobs of profile URLs,
// reads their status, lists jobs and downloads the result files.
//
// Every API call carries the bearer key and the x-api-version header and
// runs under its own timeout (Config.CallTimeout). A 429 response is retried
// with jittered backoff until the caller's context ends. No other failure is
// retried here, because a submit is not idempotent. The pipeline decides
// about the rest through Classify.
//
// Result files are fetched from pre-signed object-store links without the
// key or the version header. Errors and log lines never contain the API key
// or the query string (the signature) of a download link.
package batchapi
