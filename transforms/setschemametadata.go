package transforms

import (
	"fmt"

	"github.com/kconnect/kconnect/connect"
)

var setSchemaMetadataConfigDef = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: "schema.name", Type: connect.ConfigString, Importance: connect.High, Doc: "Schema name to set."}).
	Define(connect.ConfigKey{Name: "schema.version", Type: connect.ConfigInt, Importance: connect.High, Doc: "Schema version to set."}).
	Define(replaceNullKey)

// SetSchemaMetadata sets the name and/or version of the key or value schema
// (org.apache.kafka.connect.transforms.SetSchemaMetadata$Key / $Value).
type SetSchemaMetadata struct {
	side        side
	name        string
	version     int
	setName     bool
	setVersion  bool
	withDefault bool
	// schemas keeps one renamed schema per input schema, so a converter that caches by schema
	// identity keeps hitting its cache (upstream builds a new schema for every record).
	schemas *derivedCache
}

// ConfigDef returns SetSchemaMetadata's configuration keys.
func (*SetSchemaMetadata) ConfigDef() *connect.ConfigDef { return setSchemaMetadataConfigDef }

// Configure reads the name and version; at least one is required.
func (t *SetSchemaMetadata) Configure(props map[string]string) error {
	cfg, err := setSchemaMetadataConfigDef.Parse(props)
	if err != nil {
		return err
	}
	t.setName, t.setVersion = cfg.IsSet("schema.name"), cfg.IsSet("schema.version")
	if !t.setName && !t.setVersion {
		return fmt.Errorf("Neither schema name nor version configured")
	}
	t.name = cfg.String("schema.name")
	if t.setVersion {
		t.version = cfg.Int("schema.version")
	}
	t.withDefault = cfg.Bool("replace.null.with.default")
	t.schemas = newDerivedCache()
	return nil
}

// Apply replaces the schema's metadata; a struct value is rebuilt to carry the new schema.
func (t *SetSchemaMetadata) Apply(rec *connect.Record) (*connect.Record, error) {
	schema, value := t.side.schema(rec), t.side.value(rec)
	if schema == nil && value == nil {
		return rec, nil
	}
	if err := requireSchema(schema, "updating schema metadata"); err != nil {
		return nil, err
	}
	d, ok := t.schemas.Get(schema)
	if !ok {
		cp := *schema
		if t.setName {
			cp.Name = t.name
		}
		if t.setVersion {
			cp.Version = t.version
		}
		d = newDerived(schema, &cp, nil)
		t.schemas.Put(schema, d)
	}
	if st, ok := value.(*connect.Struct); ok {
		value = d.copyFrom(st, t.withDefault)
	}
	return t.side.with(rec, d.schema, value), nil
}

// Close releases nothing.
func (*SetSchemaMetadata) Close() error { return nil }
