// Package kafkaconn holds the Kafka connection settings shared by every
// client the service opens: the group reader, the writers and the admin
// client.
//
// One Config describes the brokers, TLS and SASL once. Its methods turn it
// into what each client library takes: Dialer for kafka-go's ConsumerGroup
// and Reader, Transport for kafka-go's Writer, and KgoOptions for a franz-go
// kgo.Client behind kadm. Building all three from the same value keeps the
// clients from drifting apart, for example the reader using TLS while the
// admin client does not.
//
// ExplainError turns the usual connection failures (wrong password, untrusted
// certificate, wrong port) into errors that name the likely cause and the
// flag to change.
package kafkaconn
