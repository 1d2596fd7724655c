package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/properties"
	"github.com/kconnect/kconnect/runtime"
)

// configFile is a parsed worker or connector config with enough of its source to point at the
// line of a bad key.
type configFile struct {
	path  string
	props map[string]string
	line  func(key string) int
}

// loadConfigFile reads a .properties file, or a JSON file holding either a flat config map or a
// {"name": …, "config": {…}} object (the body of POST /connectors), as upstream accepts.
func loadConfigFile(path string) (configFile, error) {
	if strings.EqualFold(filepath.Ext(path), ".json") {
		return loadJSONConfig(path)
	}
	p, err := properties.ParseFile(path)
	if err != nil {
		return configFile{}, err
	}
	return configFile{path: path, props: p.Map(), line: p.Line}, nil
}

func loadJSONConfig(path string) (configFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return configFile{}, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return configFile{}, fmt.Errorf("%s: invalid JSON connector config: %w", path, err)
	}
	line := func(key string) int {
		i := bytes.Index(data, []byte(`"`+key+`"`))
		if i < 0 {
			return 0
		}
		return bytes.Count(data[:i], []byte("\n")) + 1
	}
	cf := configFile{path: path, props: map[string]string{}, line: line}
	if cfgRaw, ok := raw["config"]; ok {
		var cfg map[string]string
		if err := json.Unmarshal(cfgRaw, &cfg); err != nil {
			return configFile{}, fmt.Errorf("%s:%d: key \"config\": values must be strings: %w", path, line("config"), err)
		}
		cf.props = cfg
		var name string
		if n, ok := raw["name"]; ok {
			if err := json.Unmarshal(n, &name); err != nil {
				return configFile{}, fmt.Errorf("%s:%d: key \"name\": must be a string", path, line("name"))
			}
			if cfg[runtime.ConnectorName] != "" && cfg[runtime.ConnectorName] != name {
				return configFile{}, fmt.Errorf("%s:%d: key \"name\": %q does not match the config's name %q", path, line("name"), name, cfg[runtime.ConnectorName])
			}
			cf.props[runtime.ConnectorName] = name
		}
		return cf, nil
	}
	for k, v := range raw {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return configFile{}, fmt.Errorf("%s:%d: key %q: value must be a string", path, line(k), k)
		}
		cf.props[k] = s
	}
	return cf, nil
}

// errorAt formats a one-line error naming the file, the line of key and the key.
func (cf configFile) errorAt(key, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if l := cf.line(key); l > 0 {
		return fmt.Errorf("%s:%d: key %q: %s", cf.path, l, key, msg)
	}
	return fmt.Errorf("%s: key %q: %s", cf.path, key, msg)
}

// checkConnectorFile catches the mistakes worth failing fast for, before anything starts.
func checkConnectorFile(cf configFile, reg *connect.Registry) error {
	if cf.props[runtime.ConnectorName] == "" {
		return cf.errorAt(runtime.ConnectorName, "missing connector name")
	}
	cls := cf.props[runtime.ConnectorClass]
	if cls == "" {
		return cf.errorAt(runtime.ConnectorClass, "missing connector class")
	}
	if _, err := reg.Lookup(cls, connect.PluginSource, connect.PluginSink); err != nil {
		return cf.errorAt(runtime.ConnectorClass, "%v", err)
	}
	return nil
}
