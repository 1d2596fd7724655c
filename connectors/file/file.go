// Package file implements FileStreamSource and FileStreamSink, the file connectors that ship with
// Apache Kafka Connect: the source follows a text file (or standard input) and turns each line into
// a string record, the sink appends the string form of each record value to a file (or standard
// output). Configuration keys, source partitions and offsets match upstream, so configurations and
// committed offsets carry over from a Java worker.
package file

import "github.com/kconnect/kconnect/connect"

// version is reported by GET /connector-plugins and the tasks.
const version = "0.1.0"

// Upstream class names; the short aliases are what quickstart configs use.
const (
	sourceClass = "org.apache.kafka.connect.file.FileStreamSourceConnector"
	sinkClass   = "org.apache.kafka.connect.file.FileStreamSinkConnector"
)

// Plugins lists the file connectors for the plugin registry.
func Plugins() []connect.Plugin {
	return []connect.Plugin{
		{
			Class:     sourceClass,
			Aliases:   []string{"FileStreamSource", "FileStreamSourceConnector"},
			Type:      connect.PluginSource,
			Version:   version,
			TaskClass: "org.apache.kafka.connect.file.FileStreamSourceTask",
			New:       func() any { return &SourceConnector{} },
		},
		{
			Class:     sinkClass,
			Aliases:   []string{"FileStreamSink", "FileStreamSinkConnector"},
			Type:      connect.PluginSink,
			Version:   version,
			TaskClass: "org.apache.kafka.connect.file.FileStreamSinkTask",
			New:       func() any { return &SinkConnector{} },
		},
	}
}
