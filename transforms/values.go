package transforms

import (
	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters"
)

// textValues is upstream's Values text format (what SimpleHeaderConverter reads and writes).
var textValues = converters.NewSimpleHeaderConverter()

// javaString renders v as Cast does: numbers and booleans as Java's toString, bytes in base64,
// dates as Values.dateFormatFor picks (a time before the first day, a date at midnight, otherwise
// a timestamp, in ISO 8601).
func javaString(v any) (string, error) {
	b, err := textValues.FromConnectHeader("", "", nil, v)
	return string(b), err
}

// parseLiteral infers a schema and value from text as Values.parseString does.
func parseLiteral(s string) (*connect.Schema, any) {
	schema, v, _ := textValues.ToConnectHeader("", "", []byte(s))
	return schema, v
}
