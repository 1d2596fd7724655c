// Package storage is the sink core of the storage connectors (Confluent's HDFS 3, HDFS 2 and S3
// sinks, and a local-filesystem sink): it partitions records into directories, writes them in a
// file format through a backend.Store, rotates files and commits them exactly once. Backends
// register themselves by URL scheme (backend.Register); this package links the local one.
package storage

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/kconnect/kconnect/connect"
	_ "github.com/kconnect/kconnect/connectors/storage/backend/hdfs"  // hdfs:// URLs
	_ "github.com/kconnect/kconnect/connectors/storage/backend/local" // file:// URLs
	_ "github.com/kconnect/kconnect/connectors/storage/backend/s3"    // s3:// URLs
)

// version is reported by GET /connector-plugins and the tasks.
const version = "0.1.0"

var (
	hdfs3Variant = variant{name: "HDFS 3 sink", formatDefault: "io.confluent.connect.hdfs3.avro.AvroFormat",
		storageClass: "io.confluent.connect.hdfs3.storage.HdfsStorage", hdfs: true}
	hdfsVariant = variant{name: "HDFS sink", formatDefault: "io.confluent.connect.hdfs.avro.AvroFormat",
		storageClass: "io.confluent.connect.hdfs.storage.HdfsStorage", hdfs: true}
	s3Variant = variant{name: "S3 sink", storageClass: "io.confluent.connect.s3.storage.S3Storage", s3: true}
	// The local sink has no upstream; it takes the S3 format names or the HDFS ones.
	localVariant = variant{name: "local storage sink", storageClass: "io.confluent.connect.storage.Storage"}
)

// Plugins lists the storage connectors for the plugin registry.
func Plugins() []connect.Plugin {
	plugin := func(class, taskClass string, aliases []string, v variant) connect.Plugin {
		return connect.Plugin{Class: class, Aliases: aliases, Type: connect.PluginSink, Version: version,
			TaskClass: taskClass, New: func() any { return &Connector{v: v} }}
	}
	return []connect.Plugin{
		plugin("io.confluent.connect.hdfs3.Hdfs3SinkConnector", "io.confluent.connect.hdfs3.Hdfs3SinkTask",
			[]string{"Hdfs3SinkConnector", "Hdfs3Sink"}, hdfs3Variant),
		plugin("io.confluent.connect.hdfs.HdfsSinkConnector", "io.confluent.connect.hdfs.HdfsSinkTask",
			[]string{"HdfsSinkConnector", "HdfsSink"}, hdfsVariant),
		plugin("io.confluent.connect.s3.S3SinkConnector", "io.confluent.connect.s3.S3SinkTask",
			[]string{"S3SinkConnector", "S3Sink"}, s3Variant),
		plugin("io.kconnect.connect.storage.LocalStorageSinkConnector", "io.kconnect.connect.storage.LocalStorageSinkTask",
			[]string{"LocalStorageSink", "LocalStorageSinkConnector"}, localVariant),
	}
}

// Connector is a storage sink connector; every task gets the same configuration, and the
// consumer group spreads the partitions.
type Connector struct {
	v     variant
	props map[string]string
}

var (
	_ connect.SinkConnector   = (*Connector)(nil)
	_ connect.ConfigValidator = (*Connector)(nil)
)

// Validate adds the errors only the whole configuration shows (a FieldPartitioner without
// partition.field.name, a time zone that does not exist) to the key they concern.
func (c *Connector) Validate(_ context.Context, props map[string]string, values []connect.ConfigValue) []connect.ConfigValue {
	_, err := c.v.parse(props, time.Now)
	var fe *connect.FieldError
	if !errors.As(err, &fe) {
		return values
	}
	for i := range values {
		if values[i].Name == fe.Name && len(values[i].Errors) == 0 {
			values[i].Errors = append(values[i].Errors, fe.Msg)
		}
	}
	return values
}

// Version implements connect.Versioned.
func (c *Connector) Version() string { return version }

// ConfigDef implements connect.Configurable.
func (c *Connector) ConfigDef() *connect.ConfigDef { return c.v.configDef() }

// Start checks the configuration.
func (c *Connector) Start(ctx connect.ConnectorContext, props map[string]string) error {
	cfg, err := c.v.parse(props, nil)
	if err != nil {
		return fmt.Errorf("%s configuration: %w", c.v.name, err)
	}
	c.props = maps.Clone(props)
	ctx.Logger().Info("starting storage sink connector", "store", cfg.url, "format", props[formatClassConfig])
	return nil
}

// TaskConfigs returns maxTasks copies of the configuration.
func (c *Connector) TaskConfigs(maxTasks int) ([]map[string]string, error) {
	return connect.SameTaskConfigs(c.props, maxTasks), nil
}

// Stop implements connect.Connector; the connector holds no resources.
func (c *Connector) Stop() error { return nil }

// NewTask implements connect.SinkConnector.
func (c *Connector) NewTask() connect.SinkTask { return &Task{v: c.v} }
