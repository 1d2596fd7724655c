// Package configprovider resolves config provider references such as ${env:DB_PASSWORD} and
// ${file:/etc/kconnect/secrets.properties:db.password} in connector configurations, so secrets
// need not be stored in the configs themselves, and redacts secret values for logging.
//
// As upstream, nothing is resolved unless the worker configuration lists providers:
//
//	config.providers=file,env,directory
//	config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider
//	config.providers.file.param.allowed.paths=/etc/kconnect/secrets
//	config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider
//	config.providers.env.param.allowlist.pattern=DB_.*
//	config.providers.directory.class=org.apache.kafka.common.config.provider.DirectoryConfigProvider
//
// References have upstream Kafka's syntax, ${alias:[path:]key}, and the built-in provider classes
// behave like Kafka's:
//
//   - EnvVarConfigProvider: ${env:VAR} is the environment variable VAR; a path is an error;
//     allowlist.pattern (KIP-887) limits the variables it reveals.
//   - FileConfigProvider: ${file:PATH:KEY} is the value of KEY in the Java properties file PATH.
//   - DirectoryConfigProvider: ${directory:DIR:NAME} is the whole content of the file NAME in
//     directory DIR, as Kubernetes mounts secrets.
//
// The file and directory providers read only under their allowed.paths (KIP-993) when it is set.
// Unlike upstream, which leaves a reference it cannot resolve in place, kconnect fails with an
// error naming the configuration key, so a connector never starts with the literal text of a
// reference as its password.
package configprovider

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/properties"
)

// referencePattern is Kafka's ConfigTransformer.DEFAULT_PATTERN: provider, optional path, key.
var referencePattern = regexp.MustCompile(`\$\{([^}]*?):(([^}]*?):)?([^}]*?)\}`)

// Upstream provider classes, so a worker config written for Kafka selects the same behaviour.
const (
	EnvClass       = "org.apache.kafka.common.config.provider.EnvVarConfigProvider"
	FileClass      = "org.apache.kafka.common.config.provider.FileConfigProvider"
	DirectoryClass = "org.apache.kafka.common.config.provider.DirectoryConfigProvider"
)

type providerKind int

const (
	kindEnv providerKind = iota
	kindFile
	kindDirectory
)

type provider struct {
	kind providerKind
	// allowedPaths limits the file and directory providers (upstream's allowed.paths); empty
	// allows every path.
	allowedPaths []string
	// allow limits the env provider (upstream's allowlist.pattern); nil allows every variable.
	allow *regexp.Regexp
}

// Resolver replaces provider references by their values.
type Resolver struct {
	providers map[string]provider
	getenv    func(string) (string, bool)
}

// Key names of the worker configuration, as upstream's WorkerConfig and provider classes.
const (
	// ProvidersKey lists the aliases of the configured providers.
	ProvidersKey      = "config.providers"
	allowedPathsParam = "param.allowed.paths"
	allowlistParam    = "param.allowlist.pattern"
)

// NewResolver builds a resolver from a worker configuration's config.providers settings, as
// upstream does: config.providers lists aliases, config.providers.<alias>.class names one of the
// upstream provider classes, and config.providers.<alias>.param.allowed.paths (file, directory)
// or .param.allowlist.pattern (env) restrict them. Without config.providers the resolver knows
// no provider, so any reference is an error. A bad setting is a *connect.FieldError whose Name
// is its key.
func NewResolver(worker map[string]string) (*Resolver, error) {
	r := &Resolver{providers: map[string]provider{}, getenv: os.LookupEnv}
	for _, alias := range strings.Split(worker[ProvidersKey], ",") {
		alias = strings.TrimSpace(alias)
		if alias == "" {
			continue
		}
		prefix := ProvidersKey + "." + alias + "."
		classKey := prefix + "class"
		class := strings.TrimSpace(worker[classKey])
		var p provider
		switch class {
		case EnvClass:
			p.kind = kindEnv
			if pat, ok := worker[prefix+allowlistParam]; ok {
				re, err := regexp.Compile("^(?:" + pat + ")$")
				if err != nil {
					return nil, fieldError(prefix+allowlistParam, "%v", err)
				}
				p.allow = re
			}
		case FileClass, DirectoryClass:
			p.kind = kindFile
			if class == DirectoryClass {
				p.kind = kindDirectory
			}
			paths, err := allowedPaths(worker[prefix+allowedPathsParam])
			if err != nil {
				return nil, fieldError(prefix+allowedPathsParam, "%v", err)
			}
			p.allowedPaths = paths
		case "":
			return nil, fieldError(classKey, "missing; %s lists %q", ProvidersKey, alias)
		default:
			return nil, fieldError(classKey, "unsupported provider class %q (kconnect provides %s, %s and %s)",
				class, EnvClass, FileClass, DirectoryClass)
		}
		r.providers[alias] = p
	}
	return r, nil
}

// fieldError is the error of the worker setting key.
func fieldError(key, format string, args ...any) error {
	return &connect.FieldError{Name: key, Msg: fmt.Sprintf(format, args...)}
}

// allowedPaths parses an allowed.paths value: absolute paths that exist, as upstream requires.
func allowedPaths(value string) ([]string, error) {
	var out []string
	for _, path := range strings.Split(value, ",") {
		path = strings.TrimSpace(path)
		if path == "" {
			continue
		}
		if !filepath.IsAbs(path) {
			return nil, fmt.Errorf("%q is not an absolute path", path)
		}
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("path %q: %w", path, err)
		}
		out = append(out, filepath.Clean(path))
	}
	return out, nil
}

// Resolve replaces every provider reference in the values of props and returns a new map.
func (r *Resolver) Resolve(props map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(props))
	files := map[string]*properties.Properties{}
	var errs []error
	for k, v := range props {
		if !strings.Contains(v, "${") {
			out[k] = v
			continue
		}
		resolved, err := r.resolveValue(v, files)
		if err != nil {
			errs = append(errs, fmt.Errorf("config %s: %w", k, err))
			continue
		}
		out[k] = resolved
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func (r *Resolver) resolveValue(v string, files map[string]*properties.Properties) (string, error) {
	var b strings.Builder
	last := 0
	for _, m := range referencePattern.FindAllStringSubmatchIndex(v, -1) {
		ref := v[m[0]:m[1]]
		name := v[m[2]:m[3]]
		path := ""
		if m[6] >= 0 {
			path = v[m[6]:m[7]]
		}
		key := v[m[8]:m[9]]
		p, ok := r.providers[name]
		if !ok {
			return "", fmt.Errorf("%s: unknown config provider %q: %s", ref, name, r.configured())
		}
		val, err := r.lookup(p, path, key, files)
		if err != nil {
			return "", fmt.Errorf("%s: %w", ref, err)
		}
		b.WriteString(v[last:m[0]])
		b.WriteString(val)
		last = m[1]
	}
	b.WriteString(v[last:])
	return b.String(), nil
}

// configured says which providers the worker configures, for the error about an unknown one.
func (r *Resolver) configured() string {
	if len(r.providers) == 0 {
		return "the worker configures none (" + ProvidersKey + ")"
	}
	return ProvidersKey + " lists " + strings.Join(connect.SortedKeys(r.providers), ", ")
}

func (r *Resolver) lookup(p provider, path, key string, files map[string]*properties.Properties) (string, error) {
	switch p.kind {
	case kindEnv:
		if path != "" {
			return "", fmt.Errorf("the env provider takes no path, got %q", path)
		}
		if p.allow != nil && !p.allow.MatchString(key) {
			return "", fmt.Errorf("environment variable %s is not allowed by allowlist.pattern", key)
		}
		val, ok := r.getenv(key)
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set", key)
		}
		return val, nil
	case kindFile:
		if err := p.checkPath(path); err != nil {
			return "", err
		}
		props, ok := files[path]
		if !ok {
			var err error
			if props, err = properties.ParseFile(path); err != nil {
				return "", err
			}
			files[path] = props
		}
		val, ok := props.Get(key)
		if !ok {
			return "", fmt.Errorf("key %s not found in %s", key, path)
		}
		return val, nil
	default:
		if err := p.checkPath(path); err != nil {
			return "", err
		}
		if key == "" || key == "." || key == ".." || strings.ContainsRune(key, filepath.Separator) {
			return "", fmt.Errorf("%q is not a file name", key)
		}
		file := filepath.Join(path, key)
		data, err := os.ReadFile(file)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return "", fmt.Errorf("file %s not found in directory %s", key, path)
			}
			return "", fmt.Errorf("read %s: %w", file, err)
		}
		return string(data), nil
	}
}

// checkPath enforces that a path is given and, when allowed.paths is set, lies under one of them.
func (p provider) checkPath(path string) error {
	if path == "" {
		return errors.New("a path is required, as ${provider:path:key}")
	}
	if len(p.allowedPaths) == 0 {
		return nil
	}
	clean := filepath.Clean(path)
	for _, allowed := range p.allowedPaths {
		if clean == allowed || strings.HasPrefix(clean, allowed+string(filepath.Separator)) {
			return nil
		}
	}
	return fmt.Errorf("path %s is not in allowed.paths", path)
}
