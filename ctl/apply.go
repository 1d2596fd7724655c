package ctl

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/kconnect/kconnect/runtime"
)

// ConnectorFile is one connector config read from a file.
type ConnectorFile struct {
	Path   string
	Name   string
	Config map[string]string
}

// KeyMessages are the validation errors or warnings of one config key.
type KeyMessages struct {
	Key      string   `json:"key"`
	Messages []string `json:"messages"`
}

// ValidationError is the worker's verdict on an invalid connector config: the failing keys.
type ValidationError struct {
	Path, Name string
	Keys       []KeyMessages
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: connector %s: %d invalid key(s)", e.Path, e.Name, len(e.Keys))
	for _, k := range e.Keys {
		for _, m := range k.Messages {
			fmt.Fprintf(&b, "\n  %s: %s", k.Key, m)
		}
	}
	return b.String()
}

// ApplyResult says what Apply did with one connector.
type ApplyResult struct {
	Name    string `json:"name"`
	Created bool   `json:"created"`
	// Warnings are kconnect's validation warnings: likely mistakes that do not block the config.
	Warnings []KeyMessages `json:"warnings,omitempty"`
}

// Apply validates f's config with the worker and then creates or updates the connector. An
// invalid config is a *ValidationError and changes nothing.
func (c *Client) Apply(ctx context.Context, f ConnectorFile) (ApplyResult, error) {
	res := ApplyResult{Name: f.Name}
	cfg := maps.Clone(f.Config)
	cfg[runtime.ConnectorName] = f.Name
	infos, err := c.Validate(ctx, cfg[runtime.ConnectorClass], cfg)
	if err != nil {
		return res, fmt.Errorf("%s: validate connector %s: %w", f.Path, f.Name, err)
	}
	var errs []KeyMessages
	for _, ci := range infos.Configs {
		if ci.Value == nil {
			continue
		}
		if len(ci.Value.Errors) > 0 {
			errs = append(errs, KeyMessages{Key: ci.Value.Name, Messages: ci.Value.Errors})
		}
		if len(ci.Value.Warnings) > 0 {
			res.Warnings = append(res.Warnings, KeyMessages{Key: ci.Value.Name, Messages: ci.Value.Warnings})
		}
	}
	if infos.ErrorCount > 0 || len(errs) > 0 {
		sort.Slice(errs, func(i, j int) bool { return errs[i].Key < errs[j].Key })
		return res, &ValidationError{Path: f.Path, Name: f.Name, Keys: errs}
	}
	res.Created, err = c.PutConfig(ctx, f.Name, cfg)
	if err != nil {
		return res, fmt.Errorf("%s: apply connector %s: %w", f.Path, f.Name, err)
	}
	return res, nil
}
