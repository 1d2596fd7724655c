package transforms

import "github.com/kconnect/kconnect/connect"

// Filter drops every record; with a predicate it drops the records that match (or, negated, the
// ones that do not) (org.apache.kafka.connect.transforms.Filter).
type Filter struct{}

// ConfigDef returns Filter's (empty) configuration definition.
func (*Filter) ConfigDef() *connect.ConfigDef { return connect.NewConfigDef() }

// Configure accepts no keys of its own.
func (*Filter) Configure(map[string]string) error { return nil }

// Apply drops the record.
func (*Filter) Apply(*connect.Record) (*connect.Record, error) { return nil, nil }

// Close releases nothing.
func (*Filter) Close() error { return nil }
