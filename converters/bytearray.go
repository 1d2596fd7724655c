package converters

import (
	"fmt"

	"github.com/kconnect/kconnect/connect"
)

// ByteArrayConverterClass is the upstream class ByteArrayConverter is compatible with.
const ByteArrayConverterClass = "org.apache.kafka.connect.converters.ByteArrayConverter"

// ByteArrayConverter passes bytes through unchanged: the record value is the message.
type ByteArrayConverter struct{}

// NewByteArrayConverter returns a ByteArrayConverter.
func NewByteArrayConverter() *ByteArrayConverter { return &ByteArrayConverter{} }

// Version returns the plugin version.
func (*ByteArrayConverter) Version() string { return Version }

// ConfigDef returns the converter's (empty) configuration definition.
func (*ByteArrayConverter) ConfigDef() *connect.ConfigDef { return connect.NewConfigDef() }

// Configure accepts and ignores any properties.
func (*ByteArrayConverter) Configure(map[string]string, bool) error { return nil }

// FromConnectData returns value, which must be []byte (or nil) under a bytes schema or none.
func (*ByteArrayConverter) FromConnectData(topic string, schema *connect.Schema, value any) ([]byte, error) {
	return bytesOf(topic, schema, value)
}

// ToConnectData returns data with the optional bytes schema.
func (*ByteArrayConverter) ToConnectData(topic string, data []byte) (*connect.Schema, any, error) {
	if data == nil {
		return connect.OptionalBytesSchema, nil, nil
	}
	return connect.OptionalBytesSchema, data, nil
}

func bytesOf(topic string, schema *connect.Schema, value any) ([]byte, error) {
	if schema != nil && schema.Type != connect.TypeBytes {
		return nil, &connect.DataError{Msg: fmt.Sprintf("ByteArrayConverter on topic %s: schema type %s is not bytes", topic, schema.Type)}
	}
	switch v := value.(type) {
	case nil:
		return nil, nil
	case []byte:
		return v, nil
	}
	return nil, &connect.DataError{Msg: fmt.Sprintf("ByteArrayConverter on topic %s: a value of Go type %T is not []byte", topic, value)}
}

// ByteArrayHeaderConverter is ByteArrayConverter for headers.
type ByteArrayHeaderConverter struct{}

// NewByteArrayHeaderConverter returns a ByteArrayHeaderConverter.
func NewByteArrayHeaderConverter() *ByteArrayHeaderConverter { return &ByteArrayHeaderConverter{} }

// Version returns the plugin version.
func (*ByteArrayHeaderConverter) Version() string { return Version }

// ConfigDef returns the converter's (empty) configuration definition.
func (*ByteArrayHeaderConverter) ConfigDef() *connect.ConfigDef { return connect.NewConfigDef() }

// Configure accepts and ignores any properties.
func (*ByteArrayHeaderConverter) Configure(map[string]string) error { return nil }

// FromConnectHeader returns value, which must be []byte (or nil).
func (*ByteArrayHeaderConverter) FromConnectHeader(topic, key string, schema *connect.Schema, value any) ([]byte, error) {
	b, err := bytesOf(topic, schema, value)
	if err != nil {
		return nil, fmt.Errorf("header %q: %w", key, err)
	}
	return b, nil
}

// ToConnectHeader returns data with the optional bytes schema.
func (*ByteArrayHeaderConverter) ToConnectHeader(topic, key string, data []byte) (*connect.Schema, any, error) {
	return (&ByteArrayConverter{}).ToConnectData(topic, data)
}
