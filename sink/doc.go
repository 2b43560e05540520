// Package sink writes the service's output: contact events to the output
// topic and dead letters to the dead-letter topic. It only writes; deciding
// what to write is the pipeline's job.
package sink
