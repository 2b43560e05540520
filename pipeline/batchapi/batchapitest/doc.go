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
// Config.Faults injects failures of the real service at seeded random rates:
// 5xx responses, dropped and unanswered connections, 429 storms, 402 and 403
// on submit, stuck and failed jobs, early link expiry and damaged results
// files. It also writes results files in the shapes a client must tolerate:
// several gzip members, a byte-order mark, CRLF line ends, blank and long
// lines, every tolerated form of the contact values, and internal ids beyond
// 64 bits. Webhooks can come twice, early, unsigned or badly signed. See
// [Faults] and [ParseFaults].
//
// Not simulated: per-minute request limits, records out of order, and
// fewer lines than URLs beyond what FewerLines leaves out.
package batchapitest
