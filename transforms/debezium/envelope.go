package debezium

import (
	"fmt"
	"strings"

	"github.com/kconnect/kconnect/connect"
)

// Field names of Debezium's change event envelope.
const (
	fieldBefore      = "before"
	fieldAfter       = "after"
	fieldOp          = "op"
	fieldSource      = "source"
	fieldTransaction = "transaction"
)

// isEnvelope reports whether rec's value is a change event, which Debezium recognises by the name
// of its schema.
func isEnvelope(rec *connect.Record) bool {
	return rec.ValueSchema != nil && strings.HasSuffix(rec.ValueSchema.Name, ".Envelope")
}

func requireStruct(v any, purpose string) (*connect.Struct, error) {
	if st, ok := v.(*connect.Struct); ok {
		return st, nil
	}
	return nil, &connect.DataError{Msg: fmt.Sprintf("Only Struct objects supported for [%s], found: %T", purpose, v)}
}

// stringField returns a string field of st ("" when null or absent).
func stringField(st *connect.Struct, name string) (string, error) {
	f := st.Schema().Field(name)
	if f == nil {
		return "", notAField(name)
	}
	s, _ := st.GetAt(f.Index).(string)
	return s, nil
}

// withTopic returns a copy of rec routed to topic, or rec when topic is blank.
func withTopic(rec *connect.Record, topic string) *connect.Record {
	if strings.TrimSpace(topic) == "" {
		return rec
	}
	out := *rec
	out.Topic = topic
	return &out
}
