package connect

import (
	"fmt"
	"time"
)

// NoPartition asks the producer's partitioner to choose the Kafka partition of a source record.
const NoPartition int32 = -1

// Header is one record header with its schema, like org.apache.kafka.connect.header.Header.
type Header struct {
	Key    string
	Schema *Schema
	Value  any
}

// Headers is an ordered list of headers; keys may repeat, as in Kafka.
type Headers []Header

// Last returns the last header with the given key.
func (h Headers) Last(key string) (Header, bool) {
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].Key == key {
			return h[i], true
		}
	}
	return Header{}, false
}

// Without returns the headers whose key is not key, reusing h's storage.
func (h Headers) Without(key string) Headers {
	out := h[:0]
	for _, x := range h {
		if x.Key != key {
			out = append(out, x)
		}
	}
	return out
}

// TimestampType says what a consumed record's timestamp means.
type TimestampType int8

// Timestamp types as Kafka defines them.
const (
	NoTimestampType TimestampType = iota
	CreateTime
	LogAppendTime
)

// Record is the part shared by source and sink records (upstream's ConnectRecord). Transforms
// operate on it so the same transform serves both directions.
type Record struct {
	Topic string
	// Partition is the Kafka partition: for a sink record the one it was read from, for a source
	// record the one to write to, or NoPartition to let the producer choose.
	Partition int32
	// Offset is the Kafka offset a sink record was read from; -1 for source records.
	Offset      int64
	KeySchema   *Schema
	Key         any
	ValueSchema *Schema
	Value       any
	// Timestamp is the record's time; the zero time means none (the producer stamps it).
	Timestamp time.Time
	Headers   Headers
}

// SourceRecord is a record a source task produced, with the position in the source system it
// came from. SourcePartition identifies a stream in the source (a table, a file, a replication
// slot) and SourceOffset the position within it; the runtime stores the latest acknowledged offset
// per partition and hands it back when the task restarts.
type SourceRecord struct {
	Record
	SourcePartition map[string]any
	SourceOffset    map[string]any
}

// NewSourceRecord returns a source record for topic with the producer choosing the partition.
func NewSourceRecord(partition, offset map[string]any, topic string, keySchema *Schema, key any, valueSchema *Schema, value any) SourceRecord {
	return SourceRecord{
		Record: Record{
			Topic: topic, Partition: NoPartition, Offset: -1,
			KeySchema: keySchema, Key: key, ValueSchema: valueSchema, Value: value,
		},
		SourcePartition: partition,
		SourceOffset:    offset,
	}
}

// SinkRecord is a record consumed from Kafka and handed to a sink task.
type SinkRecord struct {
	Record
	TimestampType TimestampType
}

// TopicPartition names one partition of a Kafka topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// String renders tp as topic-partition, as Kafka does in logs.
func (tp TopicPartition) String() string { return fmt.Sprintf("%s-%d", tp.Topic, tp.Partition) }

// SourceOffset pairs a source partition with an offset: what the runtime commits and reports.
type SourceOffset struct {
	Partition map[string]any
	Offset    map[string]any
}
