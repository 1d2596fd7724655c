package transforms

import (
	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/transforms/internal/validators"
)

var dropHeadersConfigDef = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: "headers", Type: connect.ConfigList, Required: true, Validator: validators.NonEmptyList(), Importance: connect.High,
		Doc: "Names of the headers to remove."})

// DropHeaders removes headers by name (org.apache.kafka.connect.transforms.DropHeaders).
type DropHeaders struct {
	drop map[string]bool
}

// ConfigDef returns DropHeaders' configuration keys.
func (*DropHeaders) ConfigDef() *connect.ConfigDef { return dropHeadersConfigDef }

// Configure reads the header names.
func (t *DropHeaders) Configure(props map[string]string) error {
	cfg, err := dropHeadersConfigDef.Parse(props)
	if err != nil {
		return err
	}
	t.drop = map[string]bool{}
	for _, h := range cfg.List("headers") {
		t.drop[h] = true
	}
	return nil
}

// Apply returns the record without the configured headers.
func (t *DropHeaders) Apply(rec *connect.Record) (*connect.Record, error) {
	kept := make(connect.Headers, 0, len(rec.Headers))
	for _, h := range rec.Headers {
		if !t.drop[h.Key] {
			kept = append(kept, h)
		}
	}
	return withHeaders(rec, kept), nil
}

// Close releases nothing.
func (*DropHeaders) Close() error { return nil }
