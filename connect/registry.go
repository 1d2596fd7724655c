package connect

import (
	"fmt"
	"sort"
	"strings"
)

// PluginType is the kind of a plugin, named as in GET /connector-plugins.
type PluginType string

// Plugin types.
const (
	PluginSource          PluginType = "source"
	PluginSink            PluginType = "sink"
	PluginConverter       PluginType = "converter"
	PluginHeaderConverter PluginType = "header_converter"
	PluginTransformation  PluginType = "transformation"
	PluginPredicate       PluginType = "predicate"
)

// Plugin describes one plugin and how to instantiate it.
type Plugin struct {
	// Class is the canonical name: the upstream Java class name where we are compatible with one.
	Class string
	// Aliases are further names that find the plugin: the short name (FileStreamSource), and
	// other upstream class names it replaces.
	Aliases []string
	Type    PluginType
	Version string
	// TaskClass is the Java class of a connector's tasks, which task configs carry as task.class
	// so that Kafka Connect workers in the same group can run them: upstream's class where the
	// connector stands in for one, a class in kconnect's namespace otherwise.
	TaskClass string
	// AliasTaskClasses replaces TaskClass for the aliases that stand in for another upstream
	// connector, whose tasks have a class of their own.
	AliasTaskClasses map[string]string
	// New returns a fresh instance: a SourceConnector, SinkConnector, Converter,
	// HeaderConverter, Transformation or Predicate according to Type.
	New func() any
}

// TaskClassFor is the task class of the connector a config names by class or alias name.
func (p Plugin) TaskClassFor(name string) string {
	if c, ok := p.AliasTaskClasses[strings.TrimSpace(name)]; ok {
		return c
	}
	return p.TaskClass
}

// Registry finds plugins by class name or alias. One class may be registered once per plugin
// type: JsonConverter, for example, is both a converter and a header converter upstream.
type Registry struct {
	plugins []Plugin
	byName  map[string][]int
}

// NewRegistry returns a registry holding plugins; a duplicate name is an error.
func NewRegistry(plugins ...Plugin) (*Registry, error) {
	r := &Registry{byName: map[string][]int{}}
	for _, p := range plugins {
		if err := r.Register(p); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Register adds a plugin.
func (r *Registry) Register(p Plugin) error {
	idx := len(r.plugins)
	for _, name := range append([]string{p.Class}, p.Aliases...) {
		for _, prev := range r.byName[name] {
			if r.plugins[prev].Type == p.Type {
				return fmt.Errorf("%s plugin name %q registered by both %s and %s", p.Type, name, r.plugins[prev].Class, p.Class)
			}
		}
		r.byName[name] = append(r.byName[name], idx)
	}
	r.plugins = append(r.plugins, p)
	return nil
}

// Plugins returns every plugin, sorted by class name.
func (r *Registry) Plugins() []Plugin {
	out := append([]Plugin(nil), r.plugins...)
	sort.Slice(out, func(i, j int) bool { return out[i].Class < out[j].Class })
	return out
}

// Lookup finds a plugin by class name or alias. A name that matches nothing yields an error that
// suggests the closest known names.
func (r *Registry) Lookup(name string, types ...PluginType) (Plugin, error) {
	if idxs, ok := r.byName[strings.TrimSpace(name)]; ok {
		if len(types) == 0 {
			return r.plugins[idxs[0]], nil
		}
		for _, t := range types {
			for _, i := range idxs {
				if r.plugins[i].Type == t {
					return r.plugins[i], nil
				}
			}
		}
		return Plugin{}, fmt.Errorf("%s is a %s plugin, not a %s", name, r.plugins[idxs[0]].Type, types[0])
	}
	msg := fmt.Sprintf("Failed to find any class that implements %s and which name matches %s", pluginKind(types), name)
	if close := r.closest(name, types); len(close) > 0 {
		msg += "; did you mean " + strings.Join(close, " or ") + "?"
	}
	return Plugin{}, &NotFoundError{Msg: msg}
}

// NotFoundError reports an unknown plugin name.
type NotFoundError struct{ Msg string }

func (e *NotFoundError) Error() string { return e.Msg }

func pluginKind(types []PluginType) string {
	if len(types) == 0 {
		return "a plugin"
	}
	switch types[0] {
	case PluginSource, PluginSink:
		return "Connector"
	case PluginConverter:
		return "Converter"
	case PluginHeaderConverter:
		return "HeaderConverter"
	case PluginTransformation:
		return "Transformation"
	}
	return "Predicate"
}

// closest returns up to three known names whose short form is within a small edit distance of name.
func (r *Registry) closest(name string, types []PluginType) []string {
	type cand struct {
		name string
		dist int
	}
	var cands []cand
	short := strings.ToLower(name[strings.LastIndexByte(name, '.')+1:])
	for n, idxs := range r.byName {
		if len(types) > 0 && !r.hasType(idxs, types) {
			continue
		}
		nshort := strings.ToLower(n[strings.LastIndexByte(n, '.')+1:])
		d := editDistance(short, nshort)
		if strings.Contains(nshort, short) || strings.Contains(short, nshort) {
			d = min(d, 2)
		}
		if d <= max(2, len(short)/3) {
			cands = append(cands, cand{n, d})
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].dist != cands[j].dist {
			return cands[i].dist < cands[j].dist
		}
		return cands[i].name < cands[j].name
	})
	var out []string
	for _, c := range cands {
		if len(out) == 3 {
			break
		}
		out = append(out, c.name)
	}
	return out
}

func (r *Registry) hasType(idxs []int, types []PluginType) bool {
	for _, i := range idxs {
		for _, t := range types {
			if r.plugins[i].Type == t {
				return true
			}
		}
	}
	return false
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
