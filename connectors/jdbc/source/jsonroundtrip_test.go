package source

import (
	"testing"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters/jsonconverter"
)

// checkJSONRoundTrip serializes a record value with the JSON converter (schemas enabled, as
// Kafka Connect's JsonConverter defaults) and reads it back: the schema and every field value must
// survive, which is what a consumer of the topic sees.
func checkJSONRoundTrip(t *testing.T, rec connect.SourceRecord) {
	t.Helper()
	conv := jsonconverter.New()
	data, err := conv.FromConnectData(rec.Topic, rec.ValueSchema, rec.Value)
	if err != nil {
		t.Fatalf("JSON converter: %v", err)
	}
	schema, value, err := conv.ToConnectData(rec.Topic, data)
	if err != nil {
		t.Fatalf("JSON converter reading %s: %v", data, err)
	}
	if !schema.Equal(rec.ValueSchema) {
		t.Errorf("schema after JSON: %s, before: %s", schema, rec.ValueSchema)
	}
	st, ok := value.(*connect.Struct)
	if !ok {
		t.Fatalf("JSON value is %T, want a struct", value)
	}
	orig := rec.Value.(*connect.Struct)
	for _, f := range rec.ValueSchema.Fields {
		if got, want := st.Get(f.Name), orig.Get(f.Name); !connect.ValuesEqual(got, want) {
			t.Errorf("field %s after JSON: %#v, before: %#v", f.Name, got, want)
		}
	}
}
