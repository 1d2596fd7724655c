package runtime

import "github.com/twmb/franz-go/pkg/kgo"

// WorkerClientOpts are the Kafka client options of the worker's own clients (internal topics,
// group membership): its top-level connection and security settings, as upstream builds them
// from the worker config.
func WorkerClientOpts(props map[string]string) ([]kgo.Opt, error) {
	return clientOpts(clientProps(props, nil, "worker"))
}
