package ctl

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kconnect/kconnect/internal/properties"
	"github.com/kconnect/kconnect/runtime"
)

// ConnectorFile is one connector config read from a file.
type ConnectorFile struct {
	Path   string
	Name   string
	Config map[string]string
}

// LoadConnectorFiles reads the connector configs at path: a .properties file, a JSON file holding
// a flat config map or a {"name","config"} body, or a directory of such files (its .properties and
// .json files, in name order).
func LoadConnectorFiles(path string) ([]ConnectorFile, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read connector config: %w", err)
	}
	if !st.IsDir() {
		f, err := loadConnectorFile(path)
		if err != nil {
			return nil, err
		}
		return []ConnectorFile{f}, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("read connector configs: %w", err)
	}
	var out []ConnectorFile
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || (ext != ".properties" && ext != ".json") {
			continue
		}
		f, err := loadConnectorFile(filepath.Join(path, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no .properties or .json connector configs in the directory", path)
	}
	return out, nil
}

func loadConnectorFile(path string) (ConnectorFile, error) {
	f := ConnectorFile{Path: path}
	if strings.EqualFold(filepath.Ext(path), ".json") {
		data, err := os.ReadFile(path)
		if err != nil {
			return f, fmt.Errorf("read connector config: %w", err)
		}
		var body struct {
			Name   string            `json:"name"`
			Config map[string]string `json:"config"`
		}
		if err := json.Unmarshal(data, &body); err == nil && body.Config != nil {
			f.Name, f.Config = body.Name, body.Config
		} else if err := json.Unmarshal(data, &f.Config); err != nil {
			return f, fmt.Errorf("%s: want a JSON object of string values or a {\"name\",\"config\"} body: %w", path, err)
		}
	} else {
		p, err := properties.ParseFile(path)
		if err != nil {
			return f, fmt.Errorf("read connector config: %w", err)
		}
		f.Config = p.Map()
	}
	if f.Name == "" {
		f.Name = f.Config[runtime.ConnectorName]
	}
	if f.Name == "" {
		return f, fmt.Errorf("%s: key %q: missing connector name", path, runtime.ConnectorName)
	}
	if n := f.Config[runtime.ConnectorName]; n != "" && n != f.Name {
		return f, fmt.Errorf("%s: key %q: %q does not match the body's name %q", path, runtime.ConnectorName, n, f.Name)
	}
	if f.Config[runtime.ConnectorClass] == "" {
		return f, fmt.Errorf("%s: key %q: missing connector class", path, runtime.ConnectorClass)
	}
	return f, nil
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
