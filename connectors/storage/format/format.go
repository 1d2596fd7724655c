// Package format holds the file formats of the storage sinks: Avro object container files,
// Parquet, JSON lines, raw bytes and strings. A Format starts one file at a time on an io.Writer
// and streams records into it, so memory stays bounded however many records a file holds.
package format

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters/avro/avrodata"
)

// Format writes files of one type.
type Format interface {
	// Extension is the file name extension including its dot, as ".avro".
	Extension() string
	// NeedsSchema reports whether records must carry a value schema (Avro and Parquet files
	// declare one schema per file).
	NeedsSchema() bool
	// NewWriter starts a file on w holding records whose value schema is schema.
	NewWriter(w io.Writer, schema *connect.Schema) (RecordWriter, error)
}

// RecordWriter streams records into one file.
type RecordWriter interface {
	// Write appends the value of rec.
	Write(rec *connect.SinkRecord) error
	// Close writes what the format needs at the end of a file (buffered blocks, a footer); it
	// does not close the io.Writer given to NewWriter.
	Close() error
}

// Options are the format settings of a connector's configuration.
type Options struct {
	// AvroCodec is avro.codec: null, deflate or snappy.
	AvroCodec string
	// ParquetCodec is parquet.codec: none, snappy, gzip, zstd or lz4.
	ParquetCodec string
	// AvroData maps Connect schemas and values to Avro (Avro files and Parquet schemas).
	AvroData *avrodata.Data
	// ByteArraySeparator follows each value in ByteArray files.
	ByteArraySeparator []byte
	// ByteArrayExtension is the extension of ByteArray files.
	ByteArrayExtension string
	// S3Names selects the S3 connector's extensions (".snappy.parquet" rather than ".parquet").
	S3Names bool
}

// kinds maps the simple class name to a constructor; the packages below prefix it.
var kinds = map[string]func(Options) (Format, error){
	"avro.AvroFormat":           newAvro,
	"parquet.ParquetFormat":     newParquet,
	"json.JsonFormat":           func(Options) (Format, error) { return newJSON() },
	"string.StringFormat":       func(Options) (Format, error) { return stringFormat{}, nil },
	"bytearray.ByteArrayFormat": newByteArray,
}

// classPrefixes are the packages of the upstream connectors whose format class names we accept.
var classPrefixes = []string{"io.confluent.connect.hdfs3.", "io.confluent.connect.hdfs.", "io.confluent.connect.s3.format."}

// Classes returns every accepted format.class value, sorted.
func Classes() []string {
	var out []string
	for _, p := range classPrefixes {
		for k := range kinds {
			out = append(out, p+k)
		}
	}
	sort.Strings(out)
	return out
}

// New returns the format named by class (a format.class value).
func New(class string, opts Options) (Format, error) {
	for _, p := range classPrefixes {
		if k, ok := strings.CutPrefix(class, p); ok {
			if mk, ok := kinds[k]; ok {
				return mk(opts)
			}
		}
	}
	return nil, fmt.Errorf("unknown format class %q", class)
}
