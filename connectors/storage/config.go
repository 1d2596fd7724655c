package storage

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connectors/storage/format"
	"github.com/kconnect/kconnect/converters/avro/avrodata"
)

// Configuration keys, named as Confluent's HDFS 3, S3 and storage-common connectors name them.
const (
	flushSizeConfig              = "flush.size"
	rotateIntervalConfig         = "rotate.interval.ms"
	rotateScheduleIntervalConfig = "rotate.schedule.interval.ms"
	schemaCompatibilityConfig    = "schema.compatibility"
	formatClassConfig            = "format.class"
	storageClassConfig           = "storage.class"
	partitionerClassConfig       = "partitioner.class"
	partitionFieldNameConfig     = "partition.field.name"
	partitionDurationConfig      = "partition.duration.ms"
	pathFormatConfig             = "path.format"
	localeConfig                 = "locale"
	timezoneConfig               = "timezone"
	timestampExtractorConfig     = "timestamp.extractor"
	timestampFieldConfig         = "timestamp.field"
	directoryDelimConfig         = "directory.delim"
	topicsDirConfig              = "topics.dir"
	logsDirConfig                = "logs.dir"
	storeURLConfig               = "store.url"
	hdfsURLConfig                = "hdfs.url"
	zeroPadWidthConfig           = "filename.offset.zero.pad.width"
	avroCodecConfig              = "avro.codec"
	parquetCodecConfig           = "parquet.codec"
	byteArraySeparatorConfig     = "format.bytearray.separator"
	byteArrayExtensionConfig     = "format.bytearray.extension"
	nullValuesConfig             = "behavior.on.null.values"
	hadoopConfDirConfig          = "hadoop.conf.dir"
	hadoopHomeConfig             = "hadoop.home"
	s3BucketConfig               = "s3.bucket.name"
	s3RegionConfig               = "s3.region"
	s3PartSizeConfig             = "s3.part.size"
	storeKafkaKeysConfig         = "store.kafka.keys"
	storeKafkaHeadersConfig      = "store.kafka.headers"
)

// variant is one of the connectors sharing the core: they differ in class names, defaults and
// how the store's URL is configured.
type variant struct {
	name          string
	formatDefault string // "" makes format.class required
	storageClass  string // the storage.class upstream requires, accepted as its default
	hdfs          bool   // hdfs.url and hadoop.* keys
	s3            bool   // s3.* keys; the store is s3://<s3.bucket.name>
}

func (v variant) configDef() *connect.ConfigDef {
	d := connect.NewConfigDef()
	str := func(name, dflt, doc string, val connect.Validator) {
		k := connect.ConfigKey{Name: name, Type: connect.ConfigString, Doc: doc, Validator: val, Group: "Storage"}
		if dflt != "\x00" {
			k.Default = dflt
		}
		d.Define(k)
	}
	long := func(name, dflt, doc string) {
		d.Define(connect.ConfigKey{Name: name, Type: connect.ConfigLong, Default: dflt, Doc: doc, Group: "Storage"})
	}
	d.Define(connect.ConfigKey{Name: flushSizeConfig, Type: connect.ConfigInt, Required: true, Importance: connect.High,
		Validator: connect.AtLeast(1), Doc: "Number of records written to a file before it is committed."})
	long(rotateIntervalConfig, "-1", "Commit a file once the records' time (the partitioner's timestamp extractor, or the "+
		"wall clock for partitioners without one) has advanced this many milliseconds past its first record; -1 disables.")
	long(rotateScheduleIntervalConfig, "-1", "Commit open files on wall-clock boundaries of this many milliseconds "+
		"(in timezone), also when no records arrive; -1 disables.")
	str(schemaCompatibilityConfig, "NONE", "What a record whose value schema differs from the open file's does: NONE "+
		"starts a new file; BACKWARD and FULL start a new file for a newer schema version and project older versions "+
		"onto the file's schema; FORWARD the reverse.", connect.OneOf("NONE", "BACKWARD", "FORWARD", "FULL"))
	formatDoc := "Class of the file format: " + strings.Join(format.Classes(), ", ") + "."
	if v.formatDefault == "" {
		d.Define(connect.ConfigKey{Name: formatClassConfig, Type: connect.ConfigClass, Required: true, Importance: connect.High, Doc: formatDoc})
	} else {
		d.Define(connect.ConfigKey{Name: formatClassConfig, Type: connect.ConfigClass, Default: v.formatDefault, Importance: connect.High, Doc: formatDoc})
	}
	d.Define(connect.ConfigKey{Name: storageClassConfig, Type: connect.ConfigClass, Default: v.storageClass,
		Validator: connect.OneOf(v.storageClass), Doc: "The storage class; only the connector's own is supported."})
	d.Define(connect.ConfigKey{Name: partitionerClassConfig, Type: connect.ConfigClass, Default: defaultPartitionerName,
		Validator: connect.OneOf(defaultPartitionerName, fieldPartitionerName, timePartitionerName, dailyPartitionerName, hourlyPartitionerName),
		Doc:       "Partitioner deciding the directory of each record below topics.dir/<topic>."})
	d.Define(connect.ConfigKey{Name: partitionFieldNameConfig, Type: connect.ConfigList, Default: "",
		Doc: "FieldPartitioner: the value fields (nested with dots) whose values name the directories."})
	long(partitionDurationConfig, "-1", "TimeBasedPartitioner: the length of a time bucket in milliseconds.")
	str(pathFormatConfig, "", "TimeBasedPartitioner: Joda-Time pattern naming a bucket, such as 'year'=YYYY/'month'=MM/'day'=dd.", nil)
	str(localeConfig, "", "Time-based partitioners: the locale of path.format (month and day names are English).", nil)
	str(timezoneConfig, "", "Time-based partitioners and rotate.schedule.interval.ms: the time zone, such as UTC or America/New_York.", nil)
	str(timestampExtractorConfig, "Wallclock", "Time-based partitioners: where a record's time comes from.",
		connect.OneOf("Wallclock", "Record", "RecordField"))
	str(timestampFieldConfig, "timestamp", "timestamp.extractor=RecordField: the value field holding the time.", nil)
	str(directoryDelimConfig, "/", "Separator between the directories a partitioner makes.", connect.NonEmptyString())
	str(topicsDirConfig, "topics", "Top-level directory of the committed files.", connect.NonEmptyString())
	str(logsDirConfig, "logs", "Directory of the write-ahead logs (stores with atomic rename).", connect.NonEmptyString())
	d.Define(connect.ConfigKey{Name: zeroPadWidthConfig, Type: connect.ConfigInt, Default: "10", Validator: connect.AtLeast(0),
		Doc: "Width the offsets in file names are zero-padded to."})
	str(avroCodecConfig, "null", "Compression of Avro files.", connect.OneOf("null", "deflate", "snappy"))
	str(parquetCodecConfig, "snappy", "Compression of Parquet files.", connect.OneOf("none", "snappy", "gzip", "zstd", "lz4"))
	str(byteArraySeparatorConfig, "\x00", "ByteArrayFormat: bytes written after each value; a line separator when unset.", nil)
	str(byteArrayExtensionConfig, ".bin", "ByteArrayFormat: file name extension.", nil)
	str(nullValuesConfig, "fail", "What a record with a null value (a tombstone) does: fail the task or be ignored.",
		connect.OneOf("fail", "ignore"))
	for _, k := range []string{storeKafkaKeysConfig, storeKafkaHeadersConfig} {
		d.Define(connect.ConfigKey{Name: k, Type: connect.ConfigBoolean, Default: "false",
			Validator: connect.ValidatorFunc("false", func(name string, v any) error {
				if v.(bool) {
					return fmt.Errorf("Invalid value true for configuration %s: kconnect writes record values only; keys and headers files are not supported", name)
				}
				return nil
			}),
			Doc: "Upstream writes record keys or headers to files beside the values; kconnect does not, so it must be false."})
	}
	switch {
	case v.s3:
		d.Define(connect.ConfigKey{Name: s3BucketConfig, Type: connect.ConfigString, Required: true, Importance: connect.High,
			Validator: connect.NonEmptyString(), Doc: "The S3 bucket the files go to."})
		str(storeURLConfig, "\x00", "S3 endpoint URL, for S3-compatible stores; AWS's when unset.", nil)
		str(s3RegionConfig, "us-west-2", "The bucket's region.", nil)
		d.Define(connect.ConfigKey{Name: s3PartSizeConfig, Type: connect.ConfigInt, Default: "26214400", Validator: connect.AtLeast(5 << 20),
			Doc: "Size of the parts of a multipart upload, which bounds the memory of one open file."})
	case v.hdfs:
		str(storeURLConfig, "\x00", "URL of the store: hdfs://namenode:port/path or file:///path.", nil)
		str(hdfsURLConfig, "\x00", "Deprecated name of store.url.", nil)
		str(hadoopConfDirConfig, "", "Directory of the Hadoop configuration files.", nil)
		str(hadoopHomeConfig, "", "The Hadoop installation directory.", nil)
	default:
		d.Define(connect.ConfigKey{Name: storeURLConfig, Type: connect.ConfigString, Required: true, Importance: connect.High,
			Validator: connect.NonEmptyString(), Doc: "URL of the store: file:///path (or any registered scheme)."})
	}
	return d.Merge(avrodata.ConfigDef())
}

// config is the parsed configuration of a storage sink.
type config struct {
	raw              map[string]string
	url              string
	flushSize        int
	rotateInterval   int64
	rotateSchedule   int64
	compatibility    string
	format           format.Format
	partitioner      partitioner
	extractor        timestampExtractor // nil unless the partitioner is time-based
	loc              *time.Location
	delim            string
	topicsDir        string
	logsDir          string
	padWidth         int
	ignoreNullValues bool
}

func (v variant) parse(props map[string]string, now func() time.Time) (*config, error) {
	c, err := v.configDef().Parse(props)
	if err != nil {
		return nil, err
	}
	cfg := &config{
		raw:              props,
		flushSize:        c.Int(flushSizeConfig),
		rotateInterval:   c.Long(rotateIntervalConfig),
		rotateSchedule:   c.Long(rotateScheduleIntervalConfig),
		compatibility:    c.String(schemaCompatibilityConfig),
		delim:            c.String(directoryDelimConfig),
		topicsDir:        strings.Trim(c.String(topicsDirConfig), "/"),
		logsDir:          strings.Trim(c.String(logsDirConfig), "/"),
		padWidth:         c.Int(zeroPadWidthConfig),
		ignoreNullValues: c.String(nullValuesConfig) == "ignore",
		loc:              time.UTC,
	}
	fieldErr := func(key, msg string, args ...any) error {
		return &connect.FieldError{Name: key, Msg: fmt.Sprintf("Invalid value for configuration %s: %s", key, fmt.Sprintf(msg, args...))}
	}
	switch {
	case v.s3:
		cfg.url = "s3://" + c.String(s3BucketConfig)
	case v.hdfs:
		cfg.url = c.String(storeURLConfig)
		if cfg.url == "" {
			cfg.url = c.String(hdfsURLConfig)
		}
		if cfg.url == "" {
			return nil, fieldErr(storeURLConfig, "one of store.url or hdfs.url must be set")
		}
	default:
		cfg.url = c.String(storeURLConfig)
	}
	if tz := c.String(timezoneConfig); tz != "" {
		if cfg.loc, err = time.LoadLocation(tz); err != nil {
			return nil, fieldErr(timezoneConfig, "unknown time zone %q", tz)
		}
	}
	ad, err := avrodata.ParseConfig(c)
	if err != nil {
		return nil, err
	}
	sep := "\n"
	if c.IsSet(byteArraySeparatorConfig) {
		sep = c.String(byteArraySeparatorConfig)
	}
	cfg.format, err = format.New(c.String(formatClassConfig), format.Options{
		AvroCodec:          c.String(avroCodecConfig),
		ParquetCodec:       c.String(parquetCodecConfig),
		AvroData:           avrodata.New(ad),
		ByteArraySeparator: []byte(sep),
		ByteArrayExtension: c.String(byteArrayExtensionConfig),
		S3Names:            v.s3,
	})
	if err != nil {
		return nil, fieldErr(formatClassConfig, "%v", err)
	}
	switch cls := c.String(partitionerClassConfig); cls {
	case defaultPartitionerName:
		cfg.partitioner = defaultPartitioner{}
	case fieldPartitionerName:
		fields := slices.DeleteFunc(c.List(partitionFieldNameConfig), func(s string) bool { return s == "" })
		if len(fields) == 0 {
			return nil, fieldErr(partitionFieldNameConfig, "FieldPartitioner needs at least one field name")
		}
		cfg.partitioner = fieldPartitioner{fields: fields, delim: cfg.delim}
	default:
		duration, pattern := c.Long(partitionDurationConfig), c.String(pathFormatConfig)
		switch cls {
		case dailyPartitionerName:
			duration, pattern = 24*3600*1000, "'year'=YYYY/'month'=MM/'day'=dd"
		case hourlyPartitionerName:
			duration, pattern = 3600*1000, "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH"
		}
		if duration <= 0 {
			return nil, fieldErr(partitionDurationConfig, "TimeBasedPartitioner needs a positive partition duration")
		}
		if pattern == "" {
			return nil, fieldErr(pathFormatConfig, "TimeBasedPartitioner needs a path format")
		}
		if c.String(localeConfig) == "" {
			return nil, fieldErr(localeConfig, "time-based partitioners need a locale, such as en-US")
		}
		if c.String(timezoneConfig) == "" {
			return nil, fieldErr(timezoneConfig, "time-based partitioners need a time zone, such as UTC")
		}
		parts, err := parseJodaPattern(pattern)
		if err != nil {
			return nil, fieldErr(pathFormatConfig, "%v", err)
		}
		lang, _, _ := strings.Cut(strings.ReplaceAll(strings.ToLower(c.String(localeConfig)), "_", "-"), "-")
		if lang != "en" && hasTextField(parts) {
			return nil, fieldErr(localeConfig, "month, day and AM/PM names are available in English only, not for locale %q", c.String(localeConfig))
		}
		if cfg.delim != "/" {
			for i := range parts {
				parts[i].literal = strings.ReplaceAll(parts[i].literal, "/", cfg.delim)
			}
		}
		cfg.extractor, err = newTimestampExtractor(c.String(timestampExtractorConfig), c.String(timestampFieldConfig), now)
		if err != nil {
			return nil, fieldErr(timestampExtractorConfig, "%v", err)
		}
		cfg.partitioner = &timePartitioner{duration: duration, format: parts, loc: cfg.loc, extract: cfg.extractor}
	}
	return cfg, nil
}
