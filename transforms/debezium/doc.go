// Package debezium holds Debezium's transforms (io.debezium.transforms.*): ExtractNewRecordState,
// which turns change events into plain rows, ByLogicalTableRouter, the outbox EventRouter and
// PartitionRouting. They read the event format kconnect's PostgreSQL connector writes, which is
// Debezium's, and behave as Debezium 3.6's do.
package debezium

import "github.com/kconnect/kconnect/connect"

// Version is reported by GET /connector-plugins for these transforms.
const Version = "0.1.0"

// Plugins returns Debezium's transforms, found by class name and simple name.
func Plugins() []connect.Plugin {
	mk := func(class, alias string, newFn func() connect.Transformation) connect.Plugin {
		return connect.Plugin{Class: class, Aliases: []string{alias}, Type: connect.PluginTransformation, Version: Version,
			New: func() any { return newFn() }}
	}
	return []connect.Plugin{
		mk("io.debezium.transforms.ExtractNewRecordState", "ExtractNewRecordState", func() connect.Transformation { return &ExtractNewRecordState{} }),
		mk("io.debezium.transforms.outbox.EventRouter", "EventRouter", func() connect.Transformation { return &EventRouter{} }),
		mk("io.debezium.transforms.ByLogicalTableRouter", "ByLogicalTableRouter", func() connect.Transformation { return &ByLogicalTableRouter{} }),
		mk("io.debezium.transforms.partitions.PartitionRouting", "PartitionRouting", func() connect.Transformation { return &PartitionRouting{} }),
	}
}
