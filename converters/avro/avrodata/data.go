// Package avrodata maps Connect schemas and values to Avro and back exactly as Confluent's
// io.confluent.connect.avro.AvroData does, so that kconnect registers the schema text a Java
// worker registers for the same Connect schema, writes the same bytes, and reads back what Java
// producers (with or without Connect) wrote. The Avro converter and the storage sinks' Avro and
// Parquet formats share it.
//
// The mapping is pinned by golden files that Confluent's own AvroData (schema-registry v7.9.9,
// Apache Avro 1.11.4) wrote: see testdata/golden/gen.sh. Values are encoded and decoded with
// github.com/hamba/avro/v2's binary reader and writer, walking the Connect value and the Avro
// schema side by side, without an intermediate generic representation.
//
// Schemas are this package's own type rather than hamba's because the schema text must match
// Java's byte for byte (key order, namespace handling, property order), which a registry uses to
// recognise a schema it already has.
package avrodata

import (
	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/lru"
)

// Data converts between Connect and Avro with one configuration. It caches converted schemas and
// is safe for concurrent use.
type Data struct {
	cfg       Config
	fromCache *lru.Cache[*connect.Schema, *Schema]
	toCache   *lru.Cache[toKey, *connect.Schema]
}

type toKey struct {
	schema  *Schema
	version int
}

// New returns a Data with the given configuration.
func New(cfg Config) *Data {
	size := max(1, cfg.CacheSize)
	return &Data{
		cfg:       cfg,
		fromCache: lru.New[*connect.Schema, *Schema](size),
		toCache:   lru.New[toKey, *connect.Schema](size),
	}
}

// Config returns the configuration d was made with.
func (d *Data) Config() Config { return d.cfg }
