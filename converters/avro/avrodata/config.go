package avrodata

import (
	"fmt"

	"github.com/kconnect/kconnect/connect"
)

// Configuration keys of the mapping, as Confluent's AvroDataConfig names them. A converter or a
// storage format that maps with this package declares them through ConfigDef.
const (
	EnhancedAvroSchemaSupportConfig = "enhanced.avro.schema.support"
	ScrubInvalidNamesConfig         = "scrub.invalid.names"
	ConnectMetaDataConfig           = "connect.meta.data"
	AllowOptionalMapKeysConfig      = "allow.optional.map.keys"
	FlattenSingletonUnionsConfig    = "flatten.singleton.unions"
	DiscardTypeDocDefaultConfig     = "discard.type.doc.default"
	GeneralizedSumTypeConfig        = "generalized.sum.type.support"
	IgnoreDefaultForNullablesConfig = "ignore.default.for.nullables"
	SchemasCacheSizeConfig          = "schemas.cache.config"
)

// Config selects the mapping's variants; the zero value is not the default, DefaultConfig is.
type Config struct {
	// ConnectMetaData adds connect.* properties to Avro schemas and reads them back.
	ConnectMetaData bool
	// EnhancedSchemaSupport writes Connect strings that came from Avro enums as enums again, and
	// names union members by their full names.
	EnhancedSchemaSupport bool
	// ScrubInvalidNames replaces characters Avro names may not contain.
	ScrubInvalidNames bool
	// AllowOptionalMapKeys writes maps with optional string keys as Avro maps.
	AllowOptionalMapKeys bool
	// FlattenSingletonUnions reads a one-branch union as its branch.
	FlattenSingletonUnions bool
	// IgnoreDefaultForNullables writes a null optional field as null, not as its default.
	IgnoreDefaultForNullables bool
	// CacheSize bounds the converted schemas remembered in each direction.
	CacheSize int
}

// DefaultConfig returns upstream's defaults.
func DefaultConfig() Config {
	return Config{ConnectMetaData: true, FlattenSingletonUnions: true, CacheSize: 1000}
}

// ConfigDef returns the mapping's configuration keys, for embedding in a plugin's definition.
func ConfigDef() *connect.ConfigDef {
	boolKey := func(name, dflt, doc string, imp connect.Importance) connect.ConfigKey {
		return connect.ConfigKey{Name: name, Type: connect.ConfigBoolean, Default: dflt, Importance: imp, Doc: doc}
	}
	return connect.NewConfigDef().
		Define(boolKey(EnhancedAvroSchemaSupportConfig, "false", "Write Connect strings that came from Avro enums as "+
			"enums again (symbols kept), and name union members by their full names.", connect.Medium)).
		Define(boolKey(ScrubInvalidNamesConfig, "false", "Replace characters Avro names may not contain (a topic prefix "+
			"with '-', a column named 1st) instead of failing.", connect.Medium)).
		Define(boolKey(ConnectMetaDataConfig, "true", "Record Connect's schema names, versions, docs, defaults and "+
			"parameters as connect.* properties of the Avro schema, and read them back.", connect.Low)).
		Define(boolKey(AllowOptionalMapKeysConfig, "false", "Write maps whose keys are optional strings as Avro maps "+
			"rather than arrays of key/value records.", connect.Low)).
		Define(boolKey(FlattenSingletonUnionsConfig, "true", "Read a union with a single branch as that branch.", connect.Low)).
		Define(boolKey(DiscardTypeDocDefaultConfig, "false", "Upstream's deprecated variant that keeps only field "+
			"docs and defaults; kconnect does not implement it, so it must be false.", connect.Low)).
		Define(boolKey(GeneralizedSumTypeConfig, "false", "Upstream's cross-format enum and union encoding; "+
			"kconnect does not implement it, so it must be false.", connect.Medium)).
		Define(boolKey(IgnoreDefaultForNullablesConfig, "false", "Write a null optional field as null "+
			"instead of its schema default.", connect.Medium)).
		Define(connect.ConfigKey{Name: SchemasCacheSizeConfig, Type: connect.ConfigInt, Default: "1000",
			Importance: connect.Low, Doc: "How many converted schemas the mapping remembers in each direction."})
}

// ParseConfig reads the mapping's keys from a configuration parsed with a definition that
// includes ConfigDef.
func ParseConfig(c *connect.Config) (Config, error) {
	unsupported := map[string]string{
		GeneralizedSumTypeConfig:    "kconnect maps Avro enums and unions as io.confluent.connect.avro.Enum/Union only",
		DiscardTypeDocDefaultConfig: "kconnect keeps docs and defaults as upstream does by default",
	}
	for _, key := range []string{GeneralizedSumTypeConfig, DiscardTypeDocDefaultConfig} {
		if c.Bool(key) {
			return Config{}, &connect.FieldError{Name: key,
				Msg: fmt.Sprintf("Invalid value true for configuration %s: %s", key, unsupported[key])}
		}
	}
	return Config{
		ConnectMetaData:           c.Bool(ConnectMetaDataConfig),
		EnhancedSchemaSupport:     c.Bool(EnhancedAvroSchemaSupportConfig),
		ScrubInvalidNames:         c.Bool(ScrubInvalidNamesConfig),
		AllowOptionalMapKeys:      c.Bool(AllowOptionalMapKeysConfig),
		FlattenSingletonUnions:    c.Bool(FlattenSingletonUnionsConfig),
		IgnoreDefaultForNullables: c.Bool(IgnoreDefaultForNullablesConfig),
		CacheSize:                 max(1, c.Int(SchemasCacheSizeConfig)),
	}, nil
}
