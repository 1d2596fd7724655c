// Package transforms holds Kafka Connect's Single Message Transforms
// (org.apache.kafka.connect.transforms.*), one file each, with their $Key and $Value variants. They
// behave as upstream's do: the same configuration keys, the same handling of schemaless (map) and
// schema'd (struct) records, a cache of derived schemas, and the same error messages.
package transforms
