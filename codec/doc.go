// Package codec turns bytes into the service's types and back: CRM change
// events on the input topic, professional-network profile URLs, contact
// events on the output topic, job-state records, the Batch API's gzipped
// JSON Lines results, and the fixture file formats used for backfills.
//
// Nothing in this package does network or file I/O of its own; readers and
// writers are passed in.
package codec
