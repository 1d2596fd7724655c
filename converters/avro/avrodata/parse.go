package avrodata

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Parse reads an Avro schema from its JSON text, as a registry returns it. Names resolve as in
// Avro's Java parser: relative to the enclosing namespace first, then as given; a named type may
// refer to itself. Properties keep their order and their JSON.
func Parse(text string) (*Schema, error) {
	p := parser{names: map[string]*Schema{}}
	s, err := p.parse(json.RawMessage(text), "")
	if err != nil {
		return nil, fmt.Errorf("parse Avro schema: %w", err)
	}
	return s, nil
}

type parser struct {
	names map[string]*Schema
}

type member struct {
	key   string
	value json.RawMessage
}

// members splits a JSON object into its members, in order.
func members(raw json.RawMessage) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("expected a JSON object, got %.40s", raw)
	}
	var out []member
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, member{key: t.(string), value: v})
	}
	return out, nil
}

func get(ms []member, key string) (json.RawMessage, bool) {
	for _, m := range ms {
		if m.key == key {
			return m.value, true
		}
	}
	return nil, false
}

func getString(ms []member, key string) (string, bool, error) {
	raw, ok := get(ms, key)
	if !ok {
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", true, fmt.Errorf("%q must be a string, not %.40s", key, raw)
	}
	return s, true, nil
}

func getStrings(ms []member, key string) ([]string, error) {
	raw, ok := get(ms, key)
	if !ok {
		return nil, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("%q must be an array of strings, not %.40s", key, raw)
	}
	return list, nil
}

// Keys the specification reserves; every other key is a property.
var (
	schemaReserved = map[string]bool{"doc": true, "fields": true, "items": true, "name": true, "namespace": true,
		"size": true, "symbols": true, "values": true, "type": true, "aliases": true}
	fieldReserved = map[string]bool{"default": true, "doc": true, "name": true, "order": true, "type": true, "aliases": true}
)

func propsOf(ms []member, reserved map[string]bool, alsoReserved string) ([]Prop, error) {
	var props []Prop
	for _, m := range ms {
		if reserved[m.key] || m.key == alsoReserved {
			continue
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, m.value); err != nil {
			return nil, fmt.Errorf("property %s: %w", m.key, err)
		}
		props = append(props, Prop{Key: m.key, Value: buf.Bytes()})
	}
	return props, nil
}

var primitives = map[string]Type{"null": Null, "boolean": Boolean, "int": Int, "long": Long, "float": Float,
	"double": Double, "bytes": Bytes, "string": String}

func (p *parser) parse(raw json.RawMessage, space string) (*Schema, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, errors.New("empty schema")
	}
	switch raw[0] {
	case '"':
		var name string
		if err := json.Unmarshal(raw, &name); err != nil {
			return nil, err
		}
		return p.lookup(name, space)
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, err
		}
		u := &Schema{Type: Union}
		for _, it := range items {
			b, err := p.parse(it, space)
			if err != nil {
				return nil, err
			}
			if b.Type == Union {
				return nil, errors.New("a union may not contain a union")
			}
			u.Branches = append(u.Branches, b)
		}
		return u, nil
	case '{':
		return p.object(raw, space)
	}
	return nil, fmt.Errorf("not an Avro schema: %.40s", raw)
}

func (p *parser) lookup(name, space string) (*Schema, error) {
	if t, ok := primitives[name]; ok {
		return primitive(t), nil
	}
	if !strings.Contains(name, ".") && space != "" {
		if s, ok := p.names[space+"."+name]; ok {
			return s, nil
		}
	}
	if s, ok := p.names[name]; ok {
		return s, nil
	}
	return nil, fmt.Errorf("undefined name: %q", name)
}

func (p *parser) object(raw json.RawMessage, space string) (*Schema, error) {
	ms, err := members(raw)
	if err != nil {
		return nil, err
	}
	typeRaw, ok := get(ms, "type")
	if !ok {
		return nil, fmt.Errorf("no type: %.60s", raw)
	}
	if t := bytes.TrimSpace(typeRaw); len(t) > 0 && t[0] != '"' {
		// {"type": {...}} or {"type": [...]}: the inner schema is the schema.
		return p.parse(t, space)
	}
	var typ string
	if err := json.Unmarshal(typeRaw, &typ); err != nil {
		return nil, err
	}
	s := &Schema{}
	switch typ {
	case "record", "error", "enum", "fixed":
		if err := p.define(s, ms, space); err != nil {
			return nil, err
		}
	}
	switch typ {
	case "record", "error":
		s.Type = Record
		if err := p.fields(s, ms); err != nil {
			return nil, fmt.Errorf("record %s: %w", s.Name, err)
		}
	case "enum":
		s.Type = Enum
		if s.Symbols, err = getStrings(ms, "symbols"); err != nil {
			return nil, err
		}
		if s.Symbols == nil {
			return nil, fmt.Errorf("enum %s has no symbols", s.Name)
		}
		if s.EnumDefault, _, err = getString(ms, "default"); err != nil {
			return nil, err
		}
	case "fixed":
		s.Type = Fixed
		sizeRaw, ok := get(ms, "size")
		if !ok {
			return nil, fmt.Errorf("fixed %s has no size", s.Name)
		}
		if err := json.Unmarshal(sizeRaw, &s.Size); err != nil || s.Size < 0 {
			return nil, fmt.Errorf("fixed %s: invalid size %s", s.Name, sizeRaw)
		}
	case "array":
		s.Type = Array
		items, ok := get(ms, "items")
		if !ok {
			return nil, errors.New("array has no items")
		}
		if s.Items, err = p.parse(items, space); err != nil {
			return nil, err
		}
	case "map":
		s.Type = Map
		values, ok := get(ms, "values")
		if !ok {
			return nil, errors.New("map has no values")
		}
		if s.Values, err = p.parse(values, space); err != nil {
			return nil, err
		}
	default:
		t, ok := primitives[typ]
		if !ok {
			// {"type":"SomeRecord"} refers to a defined type.
			return p.lookup(typ, space)
		}
		s.Type = t
	}
	if s.Doc, _, err = getString(ms, "doc"); err != nil {
		return nil, err
	}
	alsoReserved := ""
	if s.Type == Enum {
		alsoReserved = "default"
	}
	if s.Props, err = propsOf(ms, schemaReserved, alsoReserved); err != nil {
		return nil, err
	}
	return s, nil
}

// define names s and registers the name before its body is parsed, so the body may refer to it.
func (p *parser) define(s *Schema, ms []member, space string) error {
	name, ok, err := getString(ms, "name")
	if err != nil {
		return err
	}
	if !ok || name == "" {
		return errors.New("a named type has no name")
	}
	if !strings.Contains(name, ".") {
		ns, has, err := getString(ms, "namespace")
		if err != nil {
			return err
		}
		if !has {
			ns = space
		}
		if ns != "" {
			name = ns + "." + name
		}
	}
	if _, dup := p.names[name]; dup {
		return fmt.Errorf("can't redefine: %s", name)
	}
	s.Name = name
	p.names[name] = s
	s.Aliases, err = getStrings(ms, "aliases")
	return err
}

func (p *parser) fields(s *Schema, ms []member) error {
	raw, ok := get(ms, "fields")
	if !ok {
		return errors.New("no fields")
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return fmt.Errorf("fields must be an array: %w", err)
	}
	for _, fr := range list {
		fms, err := members(fr)
		if err != nil {
			return err
		}
		f := &Field{}
		if f.Name, _, err = getString(fms, "name"); err != nil {
			return err
		}
		if f.Name == "" {
			return errors.New("a field has no name")
		}
		typ, ok := get(fms, "type")
		if !ok {
			return fmt.Errorf("field %s has no type", f.Name)
		}
		if f.Type, err = p.parse(typ, s.Namespace()); err != nil {
			return fmt.Errorf("field %s: %w", f.Name, err)
		}
		if f.Doc, _, err = getString(fms, "doc"); err != nil {
			return err
		}
		if d, ok := get(fms, "default"); ok {
			var buf bytes.Buffer
			if err := json.Compact(&buf, d); err != nil {
				return fmt.Errorf("field %s default: %w", f.Name, err)
			}
			f.Default = buf.Bytes()
		}
		if f.Order, _, err = getString(fms, "order"); err != nil {
			return err
		}
		if f.Aliases, err = getStrings(fms, "aliases"); err != nil {
			return err
		}
		if f.Props, err = propsOf(fms, fieldReserved, ""); err != nil {
			return err
		}
		s.Fields = append(s.Fields, f)
	}
	return nil
}
