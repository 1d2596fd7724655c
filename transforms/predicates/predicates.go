// Package predicates holds Kafka Connect's transform predicates
// (org.apache.kafka.connect.transforms.predicates.*), which decide per record whether a transform
// with predicate=<alias> applies (negate=true inverts the decision).
package predicates

import (
	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/transforms/internal/javaregex"
	"github.com/kconnect/kconnect/transforms/internal/validators"
)

// Version is reported by GET /connector-plugins for the predicates.
const Version = "0.1.0"

const pkg = "org.apache.kafka.connect.transforms.predicates."

// Plugins returns the predicates, found by upstream class name and simple name.
func Plugins() []connect.Plugin {
	mk := func(name string, newFn func() connect.Predicate) connect.Plugin {
		return connect.Plugin{Class: pkg + name, Aliases: []string{name}, Type: connect.PluginPredicate, Version: Version,
			New: func() any { return newFn() }}
	}
	return []connect.Plugin{
		mk("HasHeaderKey", func() connect.Predicate { return &HasHeaderKey{} }),
		mk("RecordIsTombstone", func() connect.Predicate { return &RecordIsTombstone{} }),
		mk("TopicNameMatches", func() connect.Predicate { return &TopicNameMatches{} }),
	}
}

var topicNameMatchesConfigDef = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: "pattern", Type: connect.ConfigString, Required: true, Importance: connect.Medium,
		Validator: validators.All(validators.NonEmptyString(), validators.Regex()),
		Doc:       "Regular expression the whole topic name must match."})

// TopicNameMatches holds for records whose whole topic name matches a regular expression.
type TopicNameMatches struct {
	pattern *javaregex.Pattern
}

// ConfigDef returns the predicate's configuration keys.
func (*TopicNameMatches) ConfigDef() *connect.ConfigDef { return topicNameMatchesConfigDef }

// Configure compiles the pattern.
func (p *TopicNameMatches) Configure(props map[string]string) error {
	cfg, err := topicNameMatchesConfigDef.Parse(props)
	if err != nil {
		return err
	}
	p.pattern, err = javaregex.Compile(cfg.String("pattern"))
	return err
}

// Test reports whether the topic matches.
func (p *TopicNameMatches) Test(rec *connect.Record) bool {
	return rec.Topic != "" && p.pattern.Matches(rec.Topic)
}

// Close releases nothing.
func (*TopicNameMatches) Close() error { return nil }

var hasHeaderKeyConfigDef = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: "name", Type: connect.ConfigString, Required: true, Importance: connect.Medium,
		Validator: validators.NonEmptyString(), Doc: "The header name."})

// HasHeaderKey holds for records with at least one header of a given name.
type HasHeaderKey struct {
	name string
}

// ConfigDef returns the predicate's configuration keys.
func (*HasHeaderKey) ConfigDef() *connect.ConfigDef { return hasHeaderKeyConfigDef }

// Configure reads the header name.
func (p *HasHeaderKey) Configure(props map[string]string) error {
	cfg, err := hasHeaderKeyConfigDef.Parse(props)
	if err != nil {
		return err
	}
	p.name = cfg.String("name")
	return nil
}

// Test reports whether the header is present.
func (p *HasHeaderKey) Test(rec *connect.Record) bool {
	_, ok := rec.Headers.Last(p.name)
	return ok
}

// Close releases nothing.
func (*HasHeaderKey) Close() error { return nil }

// RecordIsTombstone holds for records whose value is null.
type RecordIsTombstone struct{}

// ConfigDef returns the predicate's (empty) configuration definition.
func (*RecordIsTombstone) ConfigDef() *connect.ConfigDef { return connect.NewConfigDef() }

// Configure accepts no keys of its own.
func (*RecordIsTombstone) Configure(map[string]string) error { return nil }

// Test reports whether the value is null.
func (*RecordIsTombstone) Test(rec *connect.Record) bool { return rec.Value == nil }

// Close releases nothing.
func (*RecordIsTombstone) Close() error { return nil }
