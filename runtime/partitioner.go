package runtime

import (
	"context"

	"github.com/twmb/franz-go/pkg/kgo"
)

// explicitPartition marks a Kafka record whose source record named its partition. kgo.Record has
// no user-data field, so the marker travels in the record's context.
var explicitPartition = context.WithValue(context.Background(), explicitPartitionKey{}, true)

type explicitPartitionKey struct{}

// sourcePartitioner honours a partition chosen by the connector and otherwise uses Kafka's default
// partitioning (murmur2 of the key, sticky batches for null keys), exactly as the Java producer
// does for Kafka Connect, so records keep landing in the same partitions after a migration.
type sourcePartitioner struct{ inner kgo.Partitioner }

func newSourcePartitioner() kgo.Partitioner {
	return sourcePartitioner{inner: kgo.UniformBytesPartitioner(64<<10, true, true, nil)}
}

func (p sourcePartitioner) ForTopic(topic string) kgo.TopicPartitioner {
	return explicitFirst{inner: p.inner.ForTopic(topic).(kgo.TopicBackupPartitioner)}
}

type explicitFirst struct{ inner kgo.TopicBackupPartitioner }

func (p explicitFirst) RequiresConsistency(r *kgo.Record) bool {
	return r.Context == explicitPartition || p.inner.RequiresConsistency(r)
}

func (p explicitFirst) Partition(r *kgo.Record, n int) int { return p.inner.Partition(r, n) }

// PartitionByBackup uses the explicit partition when it exists in the topic; a partition beyond the
// topic's count falls back to default partitioning rather than failing the whole task.
func (p explicitFirst) PartitionByBackup(r *kgo.Record, n int, it kgo.TopicBackupIter) int {
	if r.Context == explicitPartition && int(r.Partition) < n {
		return int(r.Partition)
	}
	return p.inner.PartitionByBackup(r, n, it)
}
