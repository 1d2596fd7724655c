package connect

import (
	"fmt"
	"strings"
)

// Type is the type of a Connect schema, as in org.apache.kafka.connect.data.Schema.Type.
type Type uint8

// The Connect schema types.
const (
	TypeInt8 Type = iota + 1
	TypeInt16
	TypeInt32
	TypeInt64
	TypeFloat32
	TypeFloat64
	TypeBoolean
	TypeString
	TypeBytes
	TypeArray
	TypeMap
	TypeStruct
)

var typeNames = [...]string{
	TypeInt8: "int8", TypeInt16: "int16", TypeInt32: "int32", TypeInt64: "int64",
	TypeFloat32: "float32", TypeFloat64: "float64", TypeBoolean: "boolean", TypeString: "string",
	TypeBytes: "bytes", TypeArray: "array", TypeMap: "map", TypeStruct: "struct",
}

// String returns the lower-case type name Connect uses in its Java enum (int8 … struct).
func (t Type) String() string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", t)
}

// IsPrimitive reports whether t is neither an array, a map nor a struct.
func (t Type) IsPrimitive() bool { return t >= TypeInt8 && t <= TypeBytes }

// ParseType returns the Type named s (as String prints it, case-insensitive).
func ParseType(s string) (Type, error) {
	for t, name := range typeNames {
		if name != "" && strings.EqualFold(name, s) {
			return Type(t), nil
		}
	}
	return 0, fmt.Errorf("unknown schema type %q", s)
}

// Parameter is one schema parameter. Parameters are an ordered list rather than a map because
// their order is visible in serialized schemas (the JSON envelope) and must match upstream.
type Parameter struct {
	Key, Value string
}

// Parameters is an ordered set of schema parameters.
type Parameters []Parameter

// Get returns the value of key.
func (p Parameters) Get(key string) (string, bool) {
	for _, kv := range p {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return "", false
}

// Field is one field of a struct schema.
type Field struct {
	Name   string
	Index  int
	Schema *Schema
}

// Schema describes the shape of a value. Schemas are immutable once built and shared between
// goroutines; build them with the constructors and the SchemaBuilder.
type Schema struct {
	Type       Type
	Optional   bool
	Default    any
	Name       string
	Version    int // 0 means unversioned
	Doc        string
	Parameters Parameters

	Fields    []Field // struct fields
	KeySchema *Schema // map keys
	ValSchema *Schema // map values and array elements

	fieldIndex map[string]int
}

// Predefined primitive schemas, like Schema.INT32_SCHEMA and friends upstream.
var (
	Int8Schema            = &Schema{Type: TypeInt8}
	Int16Schema           = &Schema{Type: TypeInt16}
	Int32Schema           = &Schema{Type: TypeInt32}
	Int64Schema           = &Schema{Type: TypeInt64}
	Float32Schema         = &Schema{Type: TypeFloat32}
	Float64Schema         = &Schema{Type: TypeFloat64}
	BooleanSchema         = &Schema{Type: TypeBoolean}
	StringSchema          = &Schema{Type: TypeString}
	BytesSchema           = &Schema{Type: TypeBytes}
	OptionalInt8Schema    = &Schema{Type: TypeInt8, Optional: true}
	OptionalInt16Schema   = &Schema{Type: TypeInt16, Optional: true}
	OptionalInt32Schema   = &Schema{Type: TypeInt32, Optional: true}
	OptionalInt64Schema   = &Schema{Type: TypeInt64, Optional: true}
	OptionalFloat32Schema = &Schema{Type: TypeFloat32, Optional: true}
	OptionalFloat64Schema = &Schema{Type: TypeFloat64, Optional: true}
	OptionalBooleanSchema = &Schema{Type: TypeBoolean, Optional: true}
	OptionalStringSchema  = &Schema{Type: TypeString, Optional: true}
	OptionalBytesSchema   = &Schema{Type: TypeBytes, Optional: true}
)

// Field returns the field called name, or nil when s has no such field.
func (s *Schema) Field(name string) *Field {
	if s.fieldIndex != nil {
		if i, ok := s.fieldIndex[name]; ok {
			return &s.Fields[i]
		}
		return nil
	}
	for i := range s.Fields {
		if s.Fields[i].Name == name {
			return &s.Fields[i]
		}
	}
	return nil
}

// String renders the schema compactly for error messages.
func (s *Schema) String() string {
	if s == nil {
		return "<no schema>"
	}
	var b strings.Builder
	if s.Name != "" {
		b.WriteString(s.Name)
		b.WriteByte(':')
	}
	b.WriteString(s.Type.String())
	if s.Optional {
		b.WriteString("?")
	}
	return b.String()
}

// Equal reports whether a and b describe the same schema, comparing every attribute
// (defaults included), as Connect's ConnectSchema.equals does.
func (s *Schema) Equal(o *Schema) bool {
	if s == o {
		return true
	}
	if s == nil || o == nil {
		return false
	}
	if s.Type != o.Type || s.Optional != o.Optional || s.Name != o.Name || s.Version != o.Version ||
		s.Doc != o.Doc || len(s.Parameters) != len(o.Parameters) || len(s.Fields) != len(o.Fields) ||
		!valuesEqual(s.Default, o.Default) || !s.KeySchema.Equal(o.KeySchema) || !s.ValSchema.Equal(o.ValSchema) {
		return false
	}
	for i := range s.Parameters {
		if s.Parameters[i] != o.Parameters[i] {
			return false
		}
	}
	for i := range s.Fields {
		if s.Fields[i].Name != o.Fields[i].Name || !s.Fields[i].Schema.Equal(o.Fields[i].Schema) {
			return false
		}
	}
	return true
}

// SchemaBuilder builds a Schema step by step, like org.apache.kafka.connect.data.SchemaBuilder.
// Build validates the result; errors are reported there rather than panicking mid-chain.
type SchemaBuilder struct {
	s   Schema
	err error
}

// NewSchemaBuilder starts a schema of type t.
func NewSchemaBuilder(t Type) *SchemaBuilder { return &SchemaBuilder{s: Schema{Type: t}} }

// StructBuilder starts a struct schema.
func StructBuilder() *SchemaBuilder { return NewSchemaBuilder(TypeStruct) }

// ArrayBuilder starts an array schema with the given element schema.
func ArrayBuilder(elem *Schema) *SchemaBuilder {
	return &SchemaBuilder{s: Schema{Type: TypeArray, ValSchema: elem}}
}

// MapBuilder starts a map schema with the given key and value schemas.
func MapBuilder(key, value *Schema) *SchemaBuilder {
	return &SchemaBuilder{s: Schema{Type: TypeMap, KeySchema: key, ValSchema: value}}
}

// Optional marks the schema optional (null allowed).
func (b *SchemaBuilder) Optional() *SchemaBuilder { b.s.Optional = true; return b }

// Name sets the schema's fully qualified name.
func (b *SchemaBuilder) Name(n string) *SchemaBuilder { b.s.Name = n; return b }

// Version sets the schema version.
func (b *SchemaBuilder) Version(v int) *SchemaBuilder { b.s.Version = v; return b }

// Doc sets the documentation string.
func (b *SchemaBuilder) Doc(d string) *SchemaBuilder { b.s.Doc = d; return b }

// Param appends a parameter, replacing an earlier one with the same key in place.
func (b *SchemaBuilder) Param(key, value string) *SchemaBuilder {
	for i := range b.s.Parameters {
		if b.s.Parameters[i].Key == key {
			b.s.Parameters[i].Value = value
			return b
		}
	}
	b.s.Parameters = append(b.s.Parameters, Parameter{key, value})
	return b
}

// Default sets the default value; Build checks it against the schema.
func (b *SchemaBuilder) Default(v any) *SchemaBuilder { b.s.Default = v; return b }

// Field appends a struct field.
func (b *SchemaBuilder) Field(name string, s *Schema) *SchemaBuilder {
	if b.s.Type != TypeStruct {
		b.setErr(fmt.Errorf("field %q added to a %s schema", name, b.s.Type))
		return b
	}
	if s == nil {
		b.setErr(fmt.Errorf("field %q has no schema", name))
		return b
	}
	for _, f := range b.s.Fields {
		if f.Name == name {
			b.setErr(fmt.Errorf("duplicate field %q", name))
			return b
		}
	}
	b.s.Fields = append(b.s.Fields, Field{Name: name, Index: len(b.s.Fields), Schema: s})
	return b
}

func (b *SchemaBuilder) setErr(err error) {
	if b.err == nil {
		b.err = err
	}
}

// Build returns the schema, or an error describing the first problem found.
func (b *SchemaBuilder) Build() (*Schema, error) {
	if b.err != nil {
		return nil, b.err
	}
	s := b.s
	s.Fields = append([]Field(nil), b.s.Fields...)
	s.Parameters = append(Parameters(nil), b.s.Parameters...)
	switch s.Type {
	case TypeArray:
		if s.ValSchema == nil {
			return nil, fmt.Errorf("array schema needs an element schema")
		}
	case TypeMap:
		if s.KeySchema == nil || s.ValSchema == nil {
			return nil, fmt.Errorf("map schema needs key and value schemas")
		}
	case TypeStruct:
		if len(s.Fields) > 8 {
			s.fieldIndex = make(map[string]int, len(s.Fields))
			for i, f := range s.Fields {
				s.fieldIndex[f.Name] = i
			}
		}
	default:
		if !s.Type.IsPrimitive() {
			return nil, fmt.Errorf("invalid schema type %d", s.Type)
		}
	}
	if s.Default != nil {
		if err := Validate(&s, s.Default); err != nil {
			return nil, fmt.Errorf("default value: %w", err)
		}
	}
	return &s, nil
}

// MustBuild is Build for schemas fixed at compile time; it panics on a programming error.
func (b *SchemaBuilder) MustBuild() *Schema {
	s, err := b.Build()
	if err != nil {
		panic(err)
	}
	return s
}
