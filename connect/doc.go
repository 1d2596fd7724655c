// Package connect is kconnect's plugin API and data model: the vocabulary shared by the runtime,
// the connectors, the converters and the transforms.
//
// It mirrors Apache Kafka Connect's API (org.apache.kafka.connect.*) closely enough that the
// concepts carry over one to one: a Schema describes a value (primitive, array, map or struct,
// optionally named as a logical type such as Decimal), records carry a key and a value with their
// schemas, source connectors produce SourceRecords tagged with a source partition and offset, sink
// connectors consume SinkRecords, and a ConfigDef declares every configuration key of a plugin.
//
// The package imports nothing else from kconnect, so every other package may import it.
package connect
