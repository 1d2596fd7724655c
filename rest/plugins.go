package rest

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/runtime/configprovider"
	"github.com/kconnect/kconnect/runtime/herder"
)

// pluginTypeOrder is the order in which upstream lists plugin kinds.
var pluginTypeOrder = map[connect.PluginType]int{
	connect.PluginSink:            0,
	connect.PluginSource:          1,
	connect.PluginTransformation:  2,
	connect.PluginPredicate:       3,
	connect.PluginConverter:       4,
	connect.PluginHeaderConverter: 5,
}

func (s *Server) listPlugins(w http.ResponseWriter, r *http.Request) {
	connectorsOnly := boolParam(r, "connectorsOnly", true)
	// Sorted on a copy: the herder's slice is not ours to reorder.
	plugins := append([]connect.Plugin(nil), s.h.Plugins()...)
	sort.SliceStable(plugins, func(i, j int) bool {
		oi, oj := pluginTypeOrder[plugins[i].Type], pluginTypeOrder[plugins[j].Type]
		if oi != oj {
			return oi < oj
		}
		return plugins[i].Class < plugins[j].Class
	})
	out := make([]herder.PluginInfo, 0, len(plugins))
	for _, p := range plugins {
		if connectorsOnly && p.Type != connect.PluginSource && p.Type != connect.PluginSink {
			continue
		}
		out = append(out, herder.PluginInfo{Class: p.Class, Type: string(p.Type), Version: p.Version})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) pluginConfig(w http.ResponseWriter, r *http.Request) {
	keys, err := s.h.PluginConfig(r.Context(), param(r, "plugin"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for i := range keys {
		keys[i].Dependents = nonNil(keys[i].Dependents)
	}
	writeJSON(w, http.StatusOK, nonNil(keys))
}

const nullValueError = "Null value can not be supplied as the configuration value."

func (s *Server) validateConfig(w http.ResponseWriter, r *http.Request) {
	requested := param(r, "plugin")
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	cfg, msg := configMap(body)
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	class := cfg["connector.class"]
	if class != nil && !s.samePlugin(*class, requested) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Included connector type %s does not match request type %s", *class, requested))
		return
	}
	props := make(map[string]string, len(cfg))
	var nulls []string
	for _, k := range connect.SortedKeys(cfg) {
		if cfg[k] == nil {
			nulls = append(nulls, k)
			continue
		}
		props[k] = *cfg[k]
	}
	if class == nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Connector config %s contains no connector type", javaMap(configprovider.Redact(props))))
		return
	}
	infos, err := s.h.ValidateConfig(r.Context(), *class, props)
	if err != nil {
		s.failConfig(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, validateJSON(infos, nulls))
}

// samePlugin reports whether the connector.class of a validate request names the plugin of the
// URL: upstream's rule (the class, without a "Connector" suffix, ends with the requested name
// without it) or, beyond upstream, both names finding the same plugin by class or alias.
func (s *Server) samePlugin(included, requested string) bool {
	if strings.HasSuffix(normalizedPluginName(included), normalizedPluginName(requested)) {
		return true
	}
	var a, b string
	for _, p := range s.h.Plugins() {
		for _, n := range append([]string{p.Class}, p.Aliases...) {
			if n == included {
				a = p.Class
			}
			if n == requested {
				b = p.Class
			}
		}
	}
	return a != "" && a == b
}

func normalizedPluginName(name string) string {
	const suffix = "Connector"
	if strings.HasSuffix(name, suffix) && len(name) > len(suffix) {
		return name[:len(name)-len(suffix)]
	}
	return name
}

// javaMap formats a map as Java's Map.toString, which upstream's messages embed.
func javaMap(m map[string]string) string {
	parts := make([]string, 0, len(m))
	for _, k := range connect.SortedKeys(m) {
		parts = append(parts, k+"="+m[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// validateJSON shapes a validation result as upstream serializes it, adding the error upstream
// reports for each key whose value was null; such a key that no ConfigDef declares gets a null
// definition, as upstream's.
func validateJSON(infos herder.ConfigInfos, nulls []string) herder.ConfigInfos {
	out := herder.ConfigInfos{
		Name:       infos.Name,
		ErrorCount: infos.ErrorCount,
		Groups:     nonNil(infos.Groups),
		Configs:    make([]herder.ConfigInfo, 0, len(infos.Configs)+len(nulls)),
	}
	byName := map[string]*herder.ConfigValueInfo{}
	for _, c := range infos.Configs {
		if c.Definition != nil {
			d := *c.Definition
			d.Dependents = nonNil(d.Dependents)
			c.Definition = &d
		}
		if c.Value != nil {
			v := *c.Value
			v.RecommendedValues = nonNil(v.RecommendedValues)
			v.Errors = nonNil(v.Errors)
			c.Value = &v
			byName[v.Name] = &v
		}
		out.Configs = append(out.Configs, c)
	}
	for _, k := range nulls {
		out.ErrorCount++
		if v, ok := byName[k]; ok {
			v.Value = nil
			v.Errors = append(v.Errors, nullValueError)
			continue
		}
		out.Configs = append(out.Configs, herder.ConfigInfo{Value: &herder.ConfigValueInfo{
			Name: k, RecommendedValues: []string{}, Errors: []string{nullValueError}, Visible: true,
		}})
	}
	return out
}
