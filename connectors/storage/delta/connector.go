// Package delta is a sink connector writing Kafka records into a Delta Lake table on any
// storage backend (local files, HDFS, S3): Parquet data files and a _delta_log of JSON commits.
// Exactly once comes from Delta itself: every commit records, in txn actions, the last Kafka
// offset of each partition it holds, and commits are created put-if-absent, so a restarted task
// resumes from the log and a lost race is retried on top of the winner.
package delta

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"

	"github.com/kconnect/kconnect/connect"
	_ "github.com/kconnect/kconnect/connectors/storage/backend/hdfs"  // hdfs:// URLs
	_ "github.com/kconnect/kconnect/connectors/storage/backend/local" // file:// URLs
	_ "github.com/kconnect/kconnect/connectors/storage/backend/s3"    // s3:// URLs
	"github.com/kconnect/kconnect/connectors/storage/format"
)

const version = "0.1.0"

// Configuration keys.
const (
	tablePathConfig          = "delta.table.path"
	modeConfig               = "delta.mode"
	keyColumnsConfig         = "delta.key.columns"
	partitionByConfig        = "partition.by"
	schemaEvolutionConfig    = "schema.evolution"
	checkpointIntervalConfig = "delta.checkpoint.interval"
	flushSizeConfig          = "flush.size"
	parquetCodecConfig       = "parquet.codec"
	optimizeTargetConfig     = "delta.optimize.target.file.size"
	logRetentionConfig       = "delta.log.retention.ms"
)

const (
	modeAppend = "append"
	modeUpsert = "upsert"
	modeCDC    = "cdc"
)

// Plugins lists the Delta Lake sink for the plugin registry.
func Plugins() []connect.Plugin {
	return []connect.Plugin{{Class: "io.kconnect.connect.delta.DeltaLakeSinkConnector", Aliases: []string{"DeltaLakeSink", "DeltaLakeSinkConnector"},
		Type: connect.PluginSink, Version: version, TaskClass: "io.kconnect.connect.delta.DeltaLakeSinkTask", New: func() any { return &Connector{} }}}
}

func configDef() *connect.ConfigDef {
	d := connect.NewConfigDef()
	d.Define(connect.ConfigKey{Name: tablePathConfig, Type: connect.ConfigString, Required: true, Importance: connect.High, Group: "Delta",
		Validator: connect.NonEmptyString(), Doc: "URL of the Delta table's root: file:///path, hdfs://namenode/path or s3://bucket/prefix."})
	d.Define(connect.ConfigKey{Name: modeConfig, Type: connect.ConfigString, Default: modeAppend, Group: "Delta",
		Validator: connect.OneOf(modeAppend, modeUpsert, modeCDC),
		Doc: "append adds every record as a row; upsert and cdc merge records by key (a Debezium envelope's op, or a " +
			"keyed record whose null value deletes), rewriting the files holding the keys."})
	d.Define(connect.ConfigKey{Name: keyColumnsConfig, Type: connect.ConfigList, Default: "", Group: "Delta",
		Doc: "upsert/cdc: the columns identifying a row; empty takes the fields of the record key's struct."})
	d.Define(connect.ConfigKey{Name: partitionByConfig, Type: connect.ConfigList, Default: "", Group: "Delta",
		Doc: "Top-level columns the table is partitioned by; fixed when the table is created."})
	d.Define(connect.ConfigKey{Name: schemaEvolutionConfig, Type: connect.ConfigString, Default: "none", Group: "Delta",
		Validator: connect.OneOf("none", "add"),
		Doc:       "add lets records with new optional fields add nullable columns to the table (Delta's mergeSchema); none fails them."})
	d.Define(connect.ConfigKey{Name: checkpointIntervalConfig, Type: connect.ConfigInt, Default: "10", Group: "Delta",
		Validator: connect.AtLeast(1), Doc: "Write a checkpoint of the log every this many commits, as Delta's delta.checkpointInterval."})
	d.Define(connect.ConfigKey{Name: flushSizeConfig, Type: connect.ConfigInt, Default: "100000", Group: "Delta",
		Validator: connect.AtLeast(1), Doc: "Commit once a task buffered this many records, besides every offset.flush.interval.ms."})
	d.Define(connect.ConfigKey{Name: parquetCodecConfig, Type: connect.ConfigString, Default: "snappy", Group: "Delta",
		Validator: connect.OneOf("none", "snappy", "gzip", "zstd", "lz4"), Doc: "Compression of the Parquet data files."})
	d.Define(connect.ConfigKey{Name: optimizeTargetConfig, Type: connect.ConfigLong, Default: "0", Group: "Delta",
		Validator: connect.AtLeast(0), Doc: "After a commit, bin-pack the files of a partition smaller than this many bytes " +
			"into files of up to this size once it has 8 of them (an OPTIMIZE commit: remove and add with dataChange false); 0 disables."})
	d.Define(connect.ConfigKey{Name: logRetentionConfig, Type: connect.ConfigLong, Default: "2592000000", Group: "Delta",
		Validator: connect.AtLeast(-1), Doc: "After each checkpoint, delete the log's commits and checkpoints older than the " +
			"checkpoint and than this many milliseconds (30 days, as Delta's delta.logRetentionDuration); -1 keeps them all. " +
			"Time travel reaches back to the oldest commit kept."})
	// The backends read these from the connector configuration themselves.
	for _, k := range []struct{ name, doc string }{
		{"store.url", "S3 tables: the endpoint URL of an S3-compatible server; AWS's when unset."},
		{"s3.region", "S3 tables: the bucket's region."},
		{"hadoop.conf.dir", "HDFS tables: the directory of the Hadoop configuration files."},
		{"hadoop.home", "HDFS tables: the Hadoop installation directory."},
	} {
		d.Define(connect.ConfigKey{Name: k.name, Type: connect.ConfigString, Default: "", Group: "Storage", Doc: k.doc})
	}
	return d
}

// config is the parsed configuration of the connector and its tasks.
type config struct {
	tablePath          string
	mode               string
	keyColumns         []string
	partitionBy        []string
	evolve             bool
	checkpointInterval int
	flushSize          int
	format             format.Format
	codec              compress.Codec // of rewritten files, as format's
	optimizeTarget     int64
	logRetention       time.Duration // negative keeps every commit
}

func parseConfig(props map[string]string) (*config, error) {
	c, err := configDef().Parse(props)
	if err != nil {
		return nil, err
	}
	nonEmpty := func(l []string) []string {
		return slices.DeleteFunc(l, func(s string) bool { return strings.TrimSpace(s) == "" })
	}
	cfg := &config{
		tablePath:          strings.TrimSuffix(c.String(tablePathConfig), "/"),
		mode:               c.String(modeConfig),
		keyColumns:         nonEmpty(c.List(keyColumnsConfig)),
		partitionBy:        nonEmpty(c.List(partitionByConfig)),
		evolve:             c.String(schemaEvolutionConfig) == "add",
		checkpointInterval: c.Int(checkpointIntervalConfig),
		flushSize:          c.Int(flushSizeConfig),
		optimizeTarget:     c.Long(optimizeTargetConfig),
		logRetention:       time.Duration(c.Long(logRetentionConfig)) * time.Millisecond,
	}
	if cfg.mode == modeAppend && len(cfg.keyColumns) > 0 {
		return nil, &connect.FieldError{Name: keyColumnsConfig, Msg: fmt.Sprintf("Invalid value for configuration %s: key columns need %s=upsert or cdc", keyColumnsConfig, modeConfig)}
	}
	for _, k := range cfg.keyColumns {
		if contains(cfg.partitionBy, k) {
			return nil, &connect.FieldError{Name: keyColumnsConfig, Msg: fmt.Sprintf("Invalid value for configuration %s: key column %s is also a partition column", keyColumnsConfig, k)}
		}
	}
	cfg.codec = codecs[c.String(parquetCodecConfig)]
	if cfg.format, err = format.New("io.confluent.connect.s3.format.parquet.ParquetFormat", format.Options{ParquetCodec: c.String(parquetCodecConfig), S3Names: true}); err != nil {
		return nil, &connect.FieldError{Name: parquetCodecConfig, Msg: fmt.Sprintf("Invalid value for configuration %s: %v", parquetCodecConfig, err)}
	}
	return cfg, nil
}

// codecs are the compressions of parquet.codec, for the files merges rewrite row by row.
var codecs = map[string]compress.Codec{"none": &parquet.Uncompressed, "snappy": &parquet.Snappy, "gzip": &parquet.Gzip,
	"zstd": &parquet.Zstd, "lz4": &parquet.Lz4Raw}

// Connector is the Delta Lake sink connector; every task gets the same configuration.
type Connector struct {
	props map[string]string
}

var _ connect.SinkConnector = (*Connector)(nil)

// Version implements connect.Versioned.
func (c *Connector) Version() string { return version }

// ConfigDef implements connect.Configurable.
func (c *Connector) ConfigDef() *connect.ConfigDef { return configDef() }

// Start checks the configuration.
func (c *Connector) Start(ctx connect.ConnectorContext, props map[string]string) error {
	cfg, err := parseConfig(props)
	if err != nil {
		return fmt.Errorf("delta lake sink configuration: %w", err)
	}
	c.props = maps.Clone(props)
	ctx.Logger().Info("starting delta lake sink connector", "table", cfg.tablePath, "mode", cfg.mode)
	return nil
}

// TaskConfigs returns maxTasks copies of the configuration; tasks commit to the one table
// concurrently, resolving races through the log.
func (c *Connector) TaskConfigs(maxTasks int) ([]map[string]string, error) {
	return connect.SameTaskConfigs(c.props, maxTasks), nil
}

// Stop implements connect.Connector; the connector holds no resources.
func (c *Connector) Stop() error { return nil }

// NewTask implements connect.SinkConnector.
func (c *Connector) NewTask() connect.SinkTask { return &Task{} }
