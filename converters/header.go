package converters

import (
	"fmt"
	"unicode/utf8"

	"github.com/kconnect/kconnect/connect"
)

// SimpleHeaderConverterClass is upstream's default header converter, which kconnect's matches.
const SimpleHeaderConverterClass = "org.apache.kafka.connect.storage.SimpleHeaderConverter"

// SimpleHeaderConverter writes header values as text (strings as they are, numbers as Java prints
// them, bytes in base64, arrays, maps and structs in a JSON-like form, dates in ISO 8601, all UTF-8)
// and reads header text back inferring its schema, as upstream's Values.parseString does.
type SimpleHeaderConverter struct{}

// NewSimpleHeaderConverter returns a SimpleHeaderConverter.
func NewSimpleHeaderConverter() *SimpleHeaderConverter { return &SimpleHeaderConverter{} }

// Version returns the plugin version.
func (*SimpleHeaderConverter) Version() string { return Version }

// ConfigDef returns the converter's (empty) configuration definition.
func (*SimpleHeaderConverter) ConfigDef() *connect.ConfigDef { return connect.NewConfigDef() }

// Configure accepts and ignores any properties, as upstream does.
func (*SimpleHeaderConverter) Configure(map[string]string) error { return nil }

// FromConnectHeader writes value as text; a null value is a null header.
func (*SimpleHeaderConverter) FromConnectHeader(topic, key string, schema *connect.Schema, value any) ([]byte, error) {
	if value == nil {
		return nil, nil
	}
	// A non-nil start keeps an empty string from becoming a null header.
	b, err := appendValueText(make([]byte, 0, 16), schema, value, false)
	if err != nil {
		return nil, fmt.Errorf("convert header %q on topic %s to text: %w", key, topic, err)
	}
	return b, nil
}

// ToConnectHeader reads header text back. Bytes that are not UTF-8 come back unchanged with the
// bytes schema (upstream would decode them lossily into a string first).
func (*SimpleHeaderConverter) ToConnectHeader(topic, key string, data []byte) (*connect.Schema, any, error) {
	if data == nil {
		return nil, nil, nil
	}
	if !utf8.Valid(data) {
		return connect.BytesSchema, data, nil
	}
	s, v := parseValueText(string(data))
	return s, v, nil
}
