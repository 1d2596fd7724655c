package broker

import "github.com/twmb/franz-go/pkg/kmsg"

// Apache Kafka's Java clients validate response fields that kfake leaves at
// values no Kafka broker sends, and fail where franz-go and librdkafka do not:
//
//   - CreateTopics: kfake echoes the topic's configs with config source -1;
//     Java's ConfigSource.forId throws "id should be positive, id: -1", so
//     kafka-topics --create --config fails after creating the topic.
//   - DescribeTopicPartitions: kfake leaves EligibleLeaderReplicas and
//     LastKnownELR null; Java's admin client streams them, so
//     kafka-topics --describe throws a NullPointerException.
//
// kfake's control functions answer requests instead of kfake, not after it,
// so amending kfake's answer happens on the wire: clientConn (conn.go) notes
// the key and version of each request a client sends, and rewrites the
// responses above before they leave.

// amendedKeys are the requests whose responses clientConn amends.
var amendedKeys = map[int16]bool{
	int16(kmsg.CreateTopics):            true,
	int16(kmsg.DescribeTopicPartitions): true,
}

// amendResponse fixes the fields of resp that Java clients reject.
func amendResponse(resp kmsg.Response) error {
	switch r := resp.(type) {
	case *kmsg.CreateTopicsResponse:
		for i := range r.Topics {
			for j := range r.Topics[i].Configs {
				if c := &r.Topics[i].Configs[j]; c.Source < 0 {
					// kfake returns only the configs the request set,
					// which Kafka reports as topic configs.
					c.Source = int8(kmsg.ConfigSourceDynamicTopicConfig)
				}
			}
		}
	case *kmsg.DescribeTopicPartitionsResponse:
		for i := range r.Topics {
			for j := range r.Topics[i].Partitions {
				p := &r.Topics[i].Partitions[j]
				// kfake has no eligible leader replicas (KIP-966); Kafka
				// sends empty arrays then.
				if p.EligibleLeaderReplicas == nil {
					p.EligibleLeaderReplicas = []int32{}
				}
				if p.LastKnownELR == nil {
					p.LastKnownELR = []int32{}
				}
			}
		}
	}
	return nil
}
