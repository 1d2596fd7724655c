// Package connect is kconnect's plugin API and data model: the vocabulary shared by the runtime,
// the connectors, the converters and the transforms.
//
// It mirrors Apache Kafka Connect's API (org.apache.kafka.connect.*) closely enough that the
// concepts carry over one to one: a Schema describes a value (primitive, array, map or struct,
// optionally named as a logical type such as Decimal), records carry a key and a value with their
// schemas, source connectors produce SourceRecords tagged with a source partition and offset, sink
// connectors consume SinkRecords, and a ConfigDef declares every configuration key of a plugin.
//
// Beyond upstream's API, a task may report metrics of its own and the progress of a snapshot or a
// long load through TaskMetrics, which it gets with MetricsOf(ctx): the runtime exports them to
// Prometheus and shows the progress in the task's status; elsewhere they are discarded.
//
// The package imports nothing else from kconnect, so every other package may import it.
package connect
