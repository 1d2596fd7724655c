package runtime

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestSourceProducerDefaults checks the Java producer's buffer.memory default (Kafka's
// ProducerConfig) and the bound on waiting records, and that producer.* settings win over them.
func TestSourceProducerDefaults(t *testing.T) {
	for _, tc := range []struct {
		name          string
		props         map[string]string
		linger        time.Duration // 0: not set, franz-go's default applies
		bufferedBytes int64
	}{
		{"defaults", map[string]string{}, 0, 32 << 20},
		{"overridden", map[string]string{"linger.ms": "5", "buffer.memory": "1048576"}, 5 * time.Millisecond, 1 << 20},
		{"linger", map[string]string{"linger.ms": "100"}, 100 * time.Millisecond, 32 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.props["bootstrap.servers"] = "127.0.0.1:1"
			opts, err := sourceProducerOpts(tc.props, nil)
			if err != nil {
				t.Fatal(err)
			}
			cl, err := kgo.NewClient(opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			if got := cl.OptValue(kgo.ProducerLinger); tc.linger != 0 && got != tc.linger {
				t.Errorf("linger = %v, want %v", got, tc.linger)
			}
			if got := cl.OptValue(kgo.MaxBufferedBytes); got != tc.bufferedBytes {
				t.Errorf("buffered bytes = %v (%T), want %v", got, got, tc.bufferedBytes)
			}
			if got := cl.OptValue(kgo.MaxBufferedRecords); got != int64(maxBufferedRecords) {
				t.Errorf("buffered records = %v (%T), want %d", got, got, maxBufferedRecords)
			}
		})
	}
}
