package transforms

import (
	"fmt"

	"github.com/kconnect/kconnect/connect"
)

// Version is reported by GET /connector-plugins for these transforms.
const Version = "0.1.0"

const pkg = "org.apache.kafka.connect.transforms."

// Plugins returns Kafka's transforms, found by upstream class name (Cast$Value is
// org.apache.kafka.connect.transforms.Cast$Value) and by the name without the package.
func Plugins() []connect.Plugin {
	var ps []connect.Plugin
	add := func(name string, newFn func() connect.Transformation) {
		ps = append(ps, connect.Plugin{Class: pkg + name, Aliases: []string{name}, Type: connect.PluginTransformation,
			Version: Version, New: func() any { return newFn() }})
	}
	keyValue := func(name string, newFn func(side) connect.Transformation) {
		add(name+"$Key", func() connect.Transformation { return newFn(keySide) })
		add(name+"$Value", func() connect.Transformation { return newFn(valueSide) })
	}
	keyValue("Cast", func(s side) connect.Transformation { return &Cast{side: s} })
	add("DropHeaders", func() connect.Transformation { return &DropHeaders{} })
	keyValue("ExtractField", func(s side) connect.Transformation { return &ExtractField{side: s} })
	add("Filter", func() connect.Transformation { return &Filter{} })
	keyValue("Flatten", func(s side) connect.Transformation { return &Flatten{side: s} })
	keyValue("HeaderFrom", func(s side) connect.Transformation { return &HeaderFrom{side: s} })
	keyValue("HoistField", func(s side) connect.Transformation { return &HoistField{side: s} })
	keyValue("InsertField", func(s side) connect.Transformation { return &InsertField{side: s} })
	add("InsertHeader", func() connect.Transformation { return &InsertHeader{} })
	keyValue("MaskField", func(s side) connect.Transformation { return &MaskField{side: s} })
	add("RegexRouter", func() connect.Transformation { return &RegexRouter{} })
	keyValue("ReplaceField", func(s side) connect.Transformation { return &ReplaceField{side: s} })
	keyValue("SetSchemaMetadata", func(s side) connect.Transformation { return &SetSchemaMetadata{side: s} })
	keyValue("TimestampConverter", func(s side) connect.Transformation { return &TimestampConverter{side: s} })
	add("TimestampRouter", func() connect.Transformation { return &TimestampRouter{} })
	add("ValueToKey", func() connect.Transformation { return &ValueToKey{} })
	return ps
}

// Configured returns the transform named name (an upstream class name or the name without the
// package, such as ExtractField$Value), configured with props; transforms built from other
// transforms, as Debezium's are, use it.
func Configured(name string, props map[string]string) (connect.Transformation, error) {
	for _, p := range Plugins() {
		if p.Class == name || p.Aliases[0] == name {
			t := p.New().(connect.Transformation)
			if err := t.Configure(props); err != nil {
				return nil, fmt.Errorf("configure %s: %w", name, err)
			}
			return t, nil
		}
	}
	return nil, fmt.Errorf("no transform %s", name)
}
