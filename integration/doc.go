// Package integration holds end-to-end tests: input records go through the
// whole service against a Kafka broker and the Batch API simulator, and the
// tests check every record's fate on the output and dead-letter topics.
//
// The broker is the cluster named by KAFKA_BROKERS when that is set, and
// otherwise an embedded kfake broker.
package integration
