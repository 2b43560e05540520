// Package batchapitest simulates Crustdata's asynchronous Batch Contact Enrich
// API (version 2025-11-01) over plain HTTP and JSON, for tests, the demo and
// the simulate-api subcommand.
//
// A [Server] is an [net/http.Handler] that accepts jobs, moves them from
// pending to processing to completed by its clock, serves gzip-compressed
// JSON Lines results through pre-signed links, and calls webhooks signed
// with the API key. The contact data is made up but deterministic: [Contact]
// and [ResultLine] return what the simulator writes for a profile URL, so
// tests can compare the client's output against them.
//
// The simulator speaks the wire format itself and imports nothing from the
// client package, so a bug in the client's types cannot hide in both.
//
// Not simulated: 402 insufficient_credits and 403 forbidden responses (the
// error types exist, but nothing triggers them), per-minute request limits, and
// the tolerated variants of the results file (Content-Encoding: gzip, CRLF
// line ends, records out of order and the like).
package batchapitest
