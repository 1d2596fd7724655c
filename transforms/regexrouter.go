package transforms

import (
	"fmt"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/lru"
	"github.com/kconnect/kconnect/transforms/internal/javaregex"
	"github.com/kconnect/kconnect/transforms/internal/validators"
)

var regexRouterConfigDef = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: "regex", Type: connect.ConfigString, Required: true, Validator: validators.Regex(), Importance: connect.High,
		Doc: "Regular expression the whole topic name must match."}).
	Define(connect.ConfigKey{Name: "replacement", Type: connect.ConfigString, Required: true, Importance: connect.High,
		Doc: "Replacement for the first match, with $1 or ${name} for groups, as Java's Matcher.replaceFirst takes it."})

// RegexRouter renames the topic of records whose topic matches a regular expression
// (org.apache.kafka.connect.transforms.RegexRouter).
type RegexRouter struct {
	regex       *javaregex.Pattern
	replacement javaregex.Replacement
	// routes remembers the outcome per topic: a task sees few topics, and matching is most of
	// this transform's cost.
	routes *lru.Cache[string, string]
}

// ConfigDef returns RegexRouter's configuration keys.
func (*RegexRouter) ConfigDef() *connect.ConfigDef { return regexRouterConfigDef }

// Configure compiles the regex and checks the replacement's group references against it.
func (t *RegexRouter) Configure(props map[string]string) error {
	cfg, err := regexRouterConfigDef.Parse(props)
	if err != nil {
		return err
	}
	if t.regex, err = javaregex.Compile(cfg.String("regex")); err != nil {
		return &connect.FieldError{Name: "regex", Msg: err.Error()}
	}
	repl := cfg.String("replacement")
	if t.replacement, err = t.regex.ParseReplacement(repl); err != nil {
		return &connect.FieldError{Name: "replacement", Msg: fmt.Sprintf("Invalid value %s for configuration replacement: %v", repl, err)}
	}
	t.routes = lru.New[string, string](1000)
	return nil
}

// Apply reroutes a matching record.
func (t *RegexRouter) Apply(rec *connect.Record) (*connect.Record, error) {
	topic, ok := t.routes.Get(rec.Topic)
	if !ok {
		topic = rec.Topic
		if t.regex.Matches(rec.Topic) {
			topic = t.regex.ReplaceFirst(rec.Topic, t.replacement)
		}
		t.routes.Put(rec.Topic, topic)
	}
	if topic == rec.Topic {
		return rec, nil
	}
	out := *rec
	out.Topic = topic
	return &out, nil
}

// Close releases nothing.
func (*RegexRouter) Close() error { return nil }
