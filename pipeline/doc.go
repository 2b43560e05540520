// Package pipeline owns the path from the input topic to the output topic:
// it consumes CRM change events in a consumer group, batches their profile
// URLs into Batch API jobs, holds a pool of job tokens so that no more jobs
// are active than the account allows, runs each job (submit, poll,
// download, stream results), writes contact events and dead letters through
// the sinks, and commits input offsets only up to the first record whose
// output is not yet written.
package pipeline
