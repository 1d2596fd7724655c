// Package converters holds kconnect's converters, which turn record keys, values and headers into
// bytes and back: StringConverter, ByteArrayConverter and SimpleHeaderConverter here, the JSON
// converter in package jsonconverter, the Avro converter (schema registry) in package avro. Each matches the upstream Kafka class it is named after.
package converters

import (
	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters/avro"
	"github.com/kconnect/kconnect/converters/jsonconverter"
)

// Version is reported by GET /connector-plugins for these converters.
const Version = jsonconverter.Version

// Plugins lists every converter. JsonConverter, StringConverter and ByteArrayConverter appear twice,
// as converters and as header converters, which upstream lets them be; they are separate Go types
// in each role because connect.Converter and connect.HeaderConverter declare different Configure
// methods.
func Plugins() []connect.Plugin {
	return append(valueConverters(), headerConverters()...)
}

func valueConverters() []connect.Plugin {
	return []connect.Plugin{
		{
			Class: jsonconverter.Class, Aliases: []string{"JsonConverter"},
			Type: connect.PluginConverter, Version: Version,
			New: func() any { return jsonconverter.New() },
		},
		{
			Class: StringConverterClass, Aliases: []string{"StringConverter"},
			Type: connect.PluginConverter, Version: Version,
			New: func() any { return NewStringConverter() },
		},
		{
			Class: ByteArrayConverterClass, Aliases: []string{"ByteArrayConverter"},
			Type: connect.PluginConverter, Version: Version,
			New: func() any { return NewByteArrayConverter() },
		},
		{
			Class: avro.Class, Aliases: []string{"AvroConverter"},
			Type: connect.PluginConverter, Version: avro.Version,
			New: func() any { return avro.New() },
		},
	}
}

func headerConverters() []connect.Plugin {
	return []connect.Plugin{
		{
			Class: SimpleHeaderConverterClass, Aliases: []string{"SimpleHeaderConverter"},
			Type: connect.PluginHeaderConverter, Version: Version,
			New: func() any { return NewSimpleHeaderConverter() },
		},
		{
			Class: jsonconverter.Class, Aliases: []string{"JsonConverter"},
			Type: connect.PluginHeaderConverter, Version: Version,
			New: func() any { return jsonconverter.NewHeaderConverter() },
		},
		{
			Class: StringConverterClass, Aliases: []string{"StringConverter"},
			Type: connect.PluginHeaderConverter, Version: Version,
			New: func() any { return NewStringHeaderConverter() },
		},
		{
			Class: ByteArrayConverterClass, Aliases: []string{"ByteArrayConverter"},
			Type: connect.PluginHeaderConverter, Version: Version,
			New: func() any { return NewByteArrayHeaderConverter() },
		},
	}
}
