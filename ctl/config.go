package ctl

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/runtime/offsets"
)

// EnvConfig names an environment variable that overrides the context file's path.
const EnvConfig = "KCONNECT_CTL_CONFIG"

// Context is one named cluster: its REST URL and the credentials to send.
type Context struct {
	Cluster  string `yaml:"cluster"`
	Username string `yaml:"username,omitempty"`
	Password string `yaml:"password,omitempty"`
}

// Config is the context file: the known clusters and which one commands use.
type Config struct {
	CurrentContext string             `yaml:"current-context"`
	Contexts       map[string]Context `yaml:"contexts"`
}

// DefaultConfigPath is $KCONNECT_CTL_CONFIG, or else kconnect/ctl.yaml in the user's config
// directory (~/.config on Linux).
func DefaultConfigPath() (string, error) {
	if p := os.Getenv(EnvConfig); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("locate the ctl context file: %w (set %s)", err, EnvConfig)
	}
	return filepath.Join(dir, "kconnect", "ctl.yaml"), nil
}

// LoadConfig reads the context file at path; a missing file is an empty config.
func LoadConfig(path string) (*Config, error) {
	cfg := &Config{Contexts: map[string]Context{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return cfg, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read context file: %w", err)
	}
	if err := yaml.Unmarshal(data, cfg); err != nil {
		return nil, fmt.Errorf("context file %s: %w", path, err)
	}
	if cfg.Contexts == nil {
		cfg.Contexts = map[string]Context{}
	}
	return cfg, nil
}

// Save replaces the file at path with the config; the file is readable by its owner only (it may
// hold a password).
func (c *Config) Save(path string) error {
	data, err := yaml.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode context file: %w", err)
	}
	if err := offsets.WriteFileAtomic(path, data); err != nil {
		return fmt.Errorf("save context file: %w", err)
	}
	return nil
}

// Resolve returns the context called name, or the current one when name is empty. Without any
// context it returns the local default, http://localhost:8083.
func (c *Config) Resolve(name string) (Context, error) {
	if name == "" {
		name = c.CurrentContext
	}
	if name == "" {
		return Context{Cluster: "http://localhost:8083"}, nil
	}
	ctx, ok := c.Contexts[name]
	if !ok {
		return Context{}, fmt.Errorf("context %q is not in the context file (known: %v)", name, connect.SortedKeys(c.Contexts))
	}
	return ctx, nil
}
