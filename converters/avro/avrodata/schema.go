package avrodata

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Type is the type of an Avro schema, as the specification names it.
type Type string

// The Avro schema types.
const (
	Null    Type = "null"
	Boolean Type = "boolean"
	Int     Type = "int"
	Long    Type = "long"
	Float   Type = "float"
	Double  Type = "double"
	Bytes   Type = "bytes"
	String  Type = "string"
	Record  Type = "record"
	Enum    Type = "enum"
	Array   Type = "array"
	Map     Type = "map"
	Union   Type = "union"
	Fixed   Type = "fixed"
)

// named reports whether schemas of type t carry a name (record, enum, fixed).
func (t Type) named() bool { return t == Record || t == Enum || t == Fixed }

// Schema is an Avro schema. A named schema used in several places is one *Schema referenced from
// each place; the JSON writer prints its definition once and its name everywhere after, as Avro's
// Java library does. Props keep their order, because the order is visible in the schema text a
// registry stores and Confluent's serializers write them in a fixed order.
type Schema struct {
	Type     Type
	Name     string // full name of a record, enum or fixed
	Doc      string
	Aliases  []string
	Fields   []*Field  // record
	Items    *Schema   // array
	Values   *Schema   // map
	Branches []*Schema // union
	Symbols  []string  // enum
	// EnumDefault is the enum's default symbol; empty when it has none (symbols are never empty).
	EnumDefault string
	Size        int // fixed
	Props       []Prop
}

// Field is one field of a record schema.
type Field struct {
	Name    string
	Type    *Schema
	Doc     string
	Default json.RawMessage // nil when the field has no default; JSON null is "null"
	Order   string          // "" (ascending), "descending" or "ignore"
	Aliases []string
	Props   []Prop
}

// Prop is one property of a schema or field that the Avro specification does not reserve
// (logicalType, precision, connect.name, …), with its value as compact JSON.
type Prop struct {
	Key   string
	Value json.RawMessage
}

// Prop returns the raw JSON value of the property key.
func (s *Schema) Prop(key string) (json.RawMessage, bool) { return findProp(s.Props, key) }

// StringProp returns the property key when it is a JSON string.
func (s *Schema) StringProp(key string) (string, bool) { return stringProp(s.Props, key) }

// LogicalType returns the schema's logicalType property ("" when it has none).
func (s *Schema) LogicalType() string {
	lt, _ := s.StringProp(propLogicalType)
	return lt
}

// Namespace returns the namespace part of a named schema's full name.
func (s *Schema) Namespace() string {
	if i := strings.LastIndexByte(s.Name, '.'); i >= 0 {
		return s.Name[:i]
	}
	return ""
}

// ShortName returns a named schema's name without its namespace.
func (s *Schema) ShortName() string { return s.Name[strings.LastIndexByte(s.Name, '.')+1:] }

// Field returns the record field called name, or nil.
func (s *Schema) Field(name string) *Field {
	for _, f := range s.Fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// Prop returns the raw JSON value of the field property key.
func (f *Field) Prop(key string) (json.RawMessage, bool) { return findProp(f.Props, key) }

func findProp(props []Prop, key string) (json.RawMessage, bool) {
	for _, p := range props {
		if p.Key == key {
			return p.Value, true
		}
	}
	return nil, false
}

func stringProp(props []Prop, key string) (string, bool) {
	raw, ok := findProp(props, key)
	if !ok || len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// intProp returns the property key when it is a JSON integer.
func (s *Schema) intProp(key string) (int, bool, error) {
	raw, ok := s.Prop(key)
	if !ok {
		return 0, false, nil
	}
	n, err := strconv.Atoi(string(raw))
	if err != nil {
		return 0, true, fmt.Errorf("property %s must be a JSON integer, not %s", key, raw)
	}
	return n, true, nil
}

// addProp adds a property the way Avro's JsonProperties.addProp does: a property already present
// with the same value is left alone, and one present with another value is an error.
func (s *Schema) addProp(key string, value json.RawMessage) error {
	if old, ok := s.Prop(key); ok {
		if !bytes.Equal(old, value) {
			return fmt.Errorf("can't overwrite property %s of an Avro %s schema: %s is not %s", key, s.Type, value, old)
		}
		return nil
	}
	s.Props = append(s.Props, Prop{Key: key, Value: value})
	return nil
}

// primitive returns a new schema of primitive type t.
func primitive(t Type) *Schema { return &Schema{Type: t} }

// nullable reports whether s is a union with a null branch, and the index of that branch.
func (s *Schema) nullBranch() int {
	if s.Type != Union {
		return -1
	}
	for i, b := range s.Branches {
		if b.Type == Null {
			return i
		}
	}
	return -1
}
