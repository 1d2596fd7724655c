package runtime

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/runtime/herder"
)

// Validate validates a connector configuration the way upstream's validate endpoint does: the
// common connector keys, the connector's own ConfigDef (and its ConfigValidator, which may talk to
// the external system), the converters and the transforms. class may be a class name or alias.
// A panic of plugin code is returned as an error.
func (w *Worker) Validate(ctx context.Context, class string, props map[string]string) (_ herder.ConfigInfos, err error) {
	defer connect.Recover(&err)
	plugin, err := w.registry.Lookup(class, connect.PluginSource, connect.PluginSink)
	if err != nil {
		return herder.ConfigInfos{}, herder.BadRequest("%s", err.Error())
	}
	conn := plugin.New().(connect.Connector)
	sink := plugin.Type == connect.PluginSink
	withClass := make(map[string]string, len(props)+1)
	for k, v := range props {
		withClass[k] = v
	}
	if withClass[ConnectorClass] == "" {
		withClass[ConnectorClass] = class
	}

	common := ConnectorConfigDef(sink)
	infos := herder.ConfigInfos{Name: plugin.Class}
	commonValues := common.Validate(withClass)
	w.validateCommon(withClass, sink, commonValues)
	if !sink {
		w.validateExactlyOnce(conn, withClass, commonValues)
	}
	addInfos(&infos, common, commonValues)

	extra, extraValues := w.validateTransforms(withClass)
	if tdef, _ := topicCreationKeys(!sink && w.cfg.Bool(TopicCreationEnable), withClass); tdef != nil {
		extraValues = append(extraValues, tdef.Validate(withClass)...)
		extra.Merge(tdef)
	}
	addInfos(&infos, extra, extraValues)

	def := conn.ConfigDef()
	values := def.Validate(withClass)
	if v, ok := conn.(connect.ConfigValidator); ok && countErrors(values) == 0 {
		values = v.Validate(ctx, withClass, values)
	}
	for _, v := range values {
		for _, warning := range v.Warnings {
			w.log.Warn("connector configuration warning", "connector", props[ConnectorName], "key", v.Name, "warning", warning)
		}
	}
	addInfos(&infos, def, values)
	infos.Groups = groups(common, extra, def)
	return infos, nil
}

func (w *Worker) validateCommon(props map[string]string, sink bool, values []connect.ConfigValue) {
	addErr := func(name, msg string) {
		for i := range values {
			if values[i].Name == name {
				values[i].Errors = append(values[i].Errors, msg)
			}
		}
	}
	if n, err := strconv.Atoi(strings.TrimSpace(props[TasksMax])); err == nil && n > w.TasksMaxLimit() {
		addErr(TasksMax, fmt.Sprintf("Invalid value %d for configuration %s: this worker runs at most %d tasks per connector (worker setting %s)",
			n, TasksMax, w.TasksMaxLimit(), TasksMaxLimit))
	}
	for _, key := range []string{KeyConverter, ValueConverter} {
		if cls := props[key]; cls != "" {
			if _, err := w.registry.Lookup(cls, connect.PluginConverter); err != nil {
				addErr(key, err.Error())
			}
		}
	}
	if cls := props[HeaderConverter]; cls != "" {
		if _, err := w.registry.Lookup(cls, connect.PluginHeaderConverter); err != nil {
			addErr(HeaderConverter, err.Error())
		}
	}
	if sink {
		topics, regex := strings.TrimSpace(props[Topics]), strings.TrimSpace(props[TopicsRegex])
		switch {
		case topics != "" && regex != "":
			msg := "topics and topics.regex are mutually exclusive options, but both are set."
			addErr(Topics, msg)
			addErr(TopicsRegex, msg)
		case topics == "" && regex == "":
			msg := "Must configure one of topics or topics.regex"
			addErr(Topics, msg)
			addErr(TopicsRegex, msg)
		}
		if dlq := props[DLQTopic]; dlq != "" {
			for _, t := range splitList(topics) {
				if t == dlq {
					addErr(DLQTopic, fmt.Sprintf("The DLQ topic '%s' may not be included in the list of topics ('%s=%s') consumed by the connector", dlq, Topics, topics))
				}
			}
		}
	}
}

// transformImplicitKeys are the keys every transform has, as upstream's enriched config defines them.
var transformImplicitKeys = []connect.ConfigKey{
	{Name: "predicate", Type: connect.ConfigString, Importance: connect.Medium,
		Doc: "The alias of a predicate used to determine whether to apply this transformation."},
	{Name: "negate", Type: connect.ConfigBoolean, Default: "false", Importance: connect.Medium,
		Doc: "Whether the configured predicate should be negated."},
}

// transformImplicitDef declares the implicit keys of the transform whose keys start with prefix,
// so that they are parsed (a negate that is not true or false is rejected) like any other key.
func transformImplicitDef(prefix string) *connect.ConfigDef {
	def := connect.NewConfigDef()
	for _, k := range transformImplicitKeys {
		k.Name = prefix + k.Name
		def.Define(k)
	}
	return def
}

// validateTransforms checks every transforms.<alias>.type and predicates.<alias>.type and each
// plugin's own keys, reported under their full prefixed names as upstream does. A plugin whose
// keys are valid one by one is also configured, so errors between keys (a predicate that is not
// declared, HeaderFrom's fields and headers of different lengths) show at validation rather than
// when the task starts.
func (w *Worker) validateTransforms(props map[string]string) (*connect.ConfigDef, []connect.ConfigValue) {
	def := connect.NewConfigDef()
	var values []connect.ConfigValue
	declared := map[string]bool{}
	for _, alias := range splitList(props[Predicates]) {
		declared[alias] = true
	}
	check := func(kind, listKey, group string, typ connect.PluginType) {
		for i, alias := range splitList(props[listKey]) {
			prefix := kind + "." + alias + "."
			typeKey := prefix + "type"
			groupName := group + ": " + alias
			def.Define(connect.ConfigKey{Name: typeKey, Type: connect.ConfigClass, Required: true, Importance: connect.High, Group: groupName, OrderInGroup: i,
				Doc: "Class of the " + kind[:len(kind)-1] + " " + alias + "."})
			typeValue := connect.ConfigValue{Name: typeKey, Value: props[typeKey], Visible: true}
			var keys []connect.ConfigKey
			if typ == connect.PluginTransformation {
				keys = append(keys, transformImplicitKeys...)
			}
			var plugin connect.Configurable
			if props[typeKey] == "" {
				typeValue.Errors = append(typeValue.Errors, fmt.Sprintf("Missing required configuration %q which has no default value.", typeKey))
			} else if p, err := w.registry.Lookup(props[typeKey], typ); err != nil {
				typeValue.Errors = append(typeValue.Errors, err.Error())
			} else if plugin, _ = p.New().(connect.Configurable); plugin != nil {
				for _, k := range plugin.ConfigDef().Keys() {
					if typ == connect.PluginTransformation && (k.Name == "predicate" || k.Name == "negate") {
						continue // masked by the implicit keys, as upstream does
					}
					keys = append(keys, k)
				}
			}
			pdef := connect.NewConfigDef()
			for _, k := range keys {
				k.Name, k.Group = prefix+k.Name, groupName
				pdef.Define(k)
				def.Define(k)
			}
			pvalues := pdef.Validate(props)
			addErr := func(key, msg string) {
				for j := range pvalues {
					if pvalues[j].Name == key {
						pvalues[j].Errors = append(pvalues[j].Errors, msg)
						return
					}
				}
				typeValue.Errors = append(typeValue.Errors, msg)
			}
			if typ == connect.PluginTransformation {
				pred, negate := prefix+"predicate", prefix+"negate"
				if _, ok := props[negate]; ok && props[pred] == "" {
					addErr(negate, fmt.Sprintf("Config '%s' was provided but there is no config '%s' defining a predicate to be negated.", negate, pred))
				}
				if name := strings.TrimSpace(props[pred]); name != "" && !declared[name] {
					addErr(pred, fmt.Sprintf("Predicate alias '%s' is not declared in '%s'", name, Predicates))
				}
			}
			if plugin != nil && len(typeValue.Errors) == 0 && countErrors(pvalues) == 0 {
				if err := configureToValidate(plugin, subConfig(props, prefix)); err != nil {
					key := typeKey
					var fe *connect.FieldError
					if errors.As(err, &fe) && fe.Name != "" {
						key = prefix + fe.Name
					}
					addErr(key, err.Error())
				}
			}
			values = append(values, typeValue)
			values = append(values, pvalues...)
		}
	}
	check("transforms", Transforms, "Transforms", connect.PluginTransformation)
	check("predicates", Predicates, "Predicates", connect.PluginPredicate)
	return def, values
}

// configureToValidate configures a fresh transform or predicate and closes it again.
func configureToValidate(plugin connect.Configurable, props map[string]string) error {
	delete(props, "predicate")
	delete(props, "negate")
	switch p := plugin.(type) {
	case connect.Transformation:
		err := p.Configure(props)
		if err == nil {
			err = p.Close()
		}
		return err
	case connect.Predicate:
		err := p.Configure(props)
		if err == nil {
			err = p.Close()
		}
		return err
	}
	return nil
}

func countErrors(values []connect.ConfigValue) int {
	n := 0
	for _, v := range values {
		n += len(v.Errors)
	}
	return n
}

func groups(defs ...*connect.ConfigDef) []string {
	var out []string
	seen := map[string]bool{}
	for _, d := range defs {
		for _, g := range d.Groups() {
			if !seen[g] {
				seen[g] = true
				out = append(out, g)
			}
		}
	}
	return out
}

// addInfos appends the definitions and validation results of def's keys to infos.
func addInfos(infos *herder.ConfigInfos, def *connect.ConfigDef, values []connect.ConfigValue) {
	byName := make(map[string]connect.ConfigValue, len(values))
	for _, v := range values {
		byName[v.Name] = v
	}
	for _, k := range def.Keys() {
		v, ok := byName[k.Name]
		if !ok {
			v = connect.ConfigValue{Name: k.Name, Visible: true}
		}
		ki, vi := KeyInfo(k), valueInfo(k, v)
		infos.Configs = append(infos.Configs, herder.ConfigInfo{Definition: &ki, Value: &vi})
		infos.ErrorCount += len(v.Errors)
	}
}

// KeyInfo describes a config key as the REST API shows it. A key without a group has order -1,
// which is what upstream's ConfigDef gives keys defined without one.
func KeyInfo(k connect.ConfigKey) herder.ConfigKeyInfo {
	info := herder.ConfigKeyInfo{
		Name: k.Name, Type: string(k.Type), Required: k.Required, Importance: string(k.Importance),
		Documentation: k.Doc, OrderInGroup: k.OrderInGroup, Width: string(k.Width),
		DisplayName: k.DisplayName, Dependents: k.Dependents,
	}
	if k.Group == "" && k.OrderInGroup == 0 {
		info.OrderInGroup = -1
	}
	if info.DisplayName == "" {
		info.DisplayName = k.Name
	}
	if info.Dependents == nil {
		info.Dependents = []string{}
	}
	if k.Group != "" {
		g := k.Group
		info.Group = &g
	}
	if !k.Required && k.Default != nil {
		d := configString(k.Default)
		info.DefaultValue = &d
	}
	return info
}

func valueInfo(k connect.ConfigKey, v connect.ConfigValue) herder.ConfigValueInfo {
	info := herder.ConfigValueInfo{Name: k.Name, RecommendedValues: v.RecommendedValues, Errors: v.Errors,
		Warnings: v.Warnings, Visible: v.Visible}
	if info.RecommendedValues == nil {
		info.RecommendedValues = []string{}
	}
	if info.Errors == nil {
		info.Errors = []string{}
	}
	if v.Value != nil {
		s := configString(v.Value)
		if k.Type == connect.ConfigPassword {
			s = "[hidden]"
		}
		info.Value = &s
	}
	return info
}

// configString renders a config value as it would be written in a properties file.
func configString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []string:
		return strings.Join(x, ",")
	case bool:
		return strconv.FormatBool(x)
	case connect.Password:
		return "[hidden]"
	}
	return fmt.Sprint(v)
}
