// Package integration holds end-to-end tests: input records go through the
// whole service against a Kafka broker and the Batch API simulator, and the
// tests check every record's fate on the output and dead-letter topics.
//
// The broker is, in this order: the cluster named by KAFKA_BROKERS; a
// container of the apache/kafka image through testcontainers when Docker is
// available; an embedded kfake broker. Each test logs which one it uses.
// Tests that only a real broker can answer skip without KAFKA_BROKERS.
package integration
