package transforms

import (
	"strings"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/transforms/internal/simpledate"
	"github.com/kconnect/kconnect/transforms/internal/validators"
)

var timestampRouterConfigDef = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: "topic.format", Type: connect.ConfigString, Default: "${topic}-${timestamp}", Importance: connect.High,
		Doc: "Format of the new topic name; ${topic} and ${timestamp} stand for the topic and the formatted timestamp."}).
	Define(connect.ConfigKey{Name: "timestamp.format", Type: connect.ConfigString, Default: "yyyyMMdd", Validator: validators.DateFormat(), Importance: connect.High,
		Doc: "java.text.SimpleDateFormat pattern of the timestamp, in UTC."})

// TimestampRouter renames the topic after the original topic and the record's timestamp
// (org.apache.kafka.connect.transforms.TimestampRouter), mostly for sinks that name tables or
// indexes after the topic.
type TimestampRouter struct {
	topicFormat string
	format      *simpledate.Format
}

// ConfigDef returns TimestampRouter's configuration keys.
func (*TimestampRouter) ConfigDef() *connect.ConfigDef { return timestampRouterConfigDef }

// Configure reads the formats.
func (t *TimestampRouter) Configure(props map[string]string) error {
	cfg, err := timestampRouterConfigDef.Parse(props)
	if err != nil {
		return err
	}
	t.topicFormat = cfg.String("topic.format")
	t.format, err = simpledate.Compile(cfg.String("timestamp.format"))
	return err
}

// Apply renames the topic; a record without a timestamp is an error.
func (t *TimestampRouter) Apply(rec *connect.Record) (*connect.Record, error) {
	if rec.Timestamp.IsZero() {
		return nil, dataErr("Timestamp missing on record: topic=%s, partition=%d, offset=%d", rec.Topic, rec.Partition, rec.Offset)
	}
	topic := strings.ReplaceAll(t.topicFormat, "${topic}", rec.Topic)
	out := *rec
	out.Topic = strings.ReplaceAll(topic, "${timestamp}", t.format.Format(rec.Timestamp))
	return &out, nil
}

// Close releases nothing.
func (*TimestampRouter) Close() error { return nil }
