package transforms

import "github.com/kconnect/kconnect/connect"

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
