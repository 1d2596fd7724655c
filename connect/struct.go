package connect

import (
	"fmt"
	"strings"
)

// Struct is a value of a struct schema: one value per field, addressed by name or index.
type Struct struct {
	schema *Schema
	values []any
}

// NewStruct returns an empty struct of schema s, which must be a struct schema.
func NewStruct(s *Schema) *Struct {
	return &Struct{schema: s, values: make([]any, len(s.Fields))}
}

// NewStructValues returns a struct of schema s holding values, one per field in field order, which
// it takes over without validating them: for code that copies values it knows to be valid, such as
// transforms rebuilding a struct under a derived schema.
func NewStructValues(s *Schema, values []any) *Struct {
	return &Struct{schema: s, values: values}
}

// RawValues returns the field values in field order without defaults applied. The slice is the
// struct's own: callers must not modify it.
func (st *Struct) RawValues() []any { return st.values }

// Schema returns the struct's schema.
func (st *Struct) Schema() *Schema { return st.schema }

// Put sets a field by name after checking the value against the field's schema.
func (st *Struct) Put(name string, value any) error {
	f := st.schema.Field(name)
	if f == nil {
		return &DataError{Msg: fmt.Sprintf("%q is not a field of struct %s", name, st.schema)}
	}
	return st.PutAt(f.Index, value)
}

// PutAt sets the field at index i after checking the value against the field's schema.
func (st *Struct) PutAt(i int, value any) error {
	f := &st.schema.Fields[i]
	if err := validate(f.Schema, value, f.Name); err != nil {
		return err
	}
	st.values[i] = value
	return nil
}

// Set is Put for values the caller already knows to be valid (connector code converting rows whose
// types it derived the schema from); it skips validation on the hot path. The returned struct allows
// chaining.
func (st *Struct) Set(name string, value any) *Struct {
	if f := st.schema.Field(name); f != nil {
		st.values[f.Index] = value
	}
	return st
}

// SetAt is Set by field index.
func (st *Struct) SetAt(i int, value any) { st.values[i] = value }

// Get returns a field's value by name, or its schema default when unset; nil for an unknown field.
func (st *Struct) Get(name string) any {
	f := st.schema.Field(name)
	if f == nil {
		return nil
	}
	return st.GetAt(f.Index)
}

// GetAt returns the value at field index i, or the field schema's default when unset.
func (st *Struct) GetAt(i int) any {
	if v := st.values[i]; v != nil {
		return v
	}
	return st.schema.Fields[i].Schema.Default
}

// Raw returns the value at index i without applying defaults.
func (st *Struct) Raw(i int) any { return st.values[i] }

// Validate checks that every required field is set and every value matches its field schema.
func (st *Struct) Validate() error {
	for i, f := range st.schema.Fields {
		if err := validate(f.Schema, st.values[i], f.Name); err != nil {
			return err
		}
		if inner, ok := st.values[i].(*Struct); ok {
			if err := inner.Validate(); err != nil {
				return fmt.Errorf("field %s: %w", f.Name, err)
			}
		}
	}
	return nil
}

// Equal reports whether two structs have equal schemas and field values.
func (st *Struct) Equal(o *Struct) bool {
	if st == o {
		return true
	}
	if st == nil || o == nil || !st.schema.Equal(o.schema) {
		return false
	}
	for i := range st.values {
		if !valuesEqual(st.values[i], o.values[i]) {
			return false
		}
	}
	return true
}

// String renders the struct as Struct{a=1,b=x}, as upstream's toString does.
func (st *Struct) String() string {
	var b strings.Builder
	b.WriteString("Struct{")
	first := true
	for i, f := range st.schema.Fields {
		if st.values[i] == nil {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		fmt.Fprintf(&b, "%s=%v", f.Name, st.values[i])
	}
	b.WriteByte('}')
	return b.String()
}

// structBlock is a Struct allocated together with room for its values.
type structBlock[A any] struct {
	st   Struct
	vals A
}

// NewStructSlots returns an empty struct of schema s and its value slots for the caller to fill
// (unvalidated), allocating both in one object when s has at most 32 fields: code that builds
// many structs, like transforms rebuilding every record, halves its allocations.
func NewStructSlots(s *Schema) (*Struct, []any) {
	n := len(s.Fields)
	switch {
	case n <= 8:
		return slotted(new(structBlock[[8]any]), s, func(a *[8]any) []any { return a[:n:n] })
	case n <= 16:
		return slotted(new(structBlock[[16]any]), s, func(a *[16]any) []any { return a[:n:n] })
	case n <= 24:
		return slotted(new(structBlock[[24]any]), s, func(a *[24]any) []any { return a[:n:n] })
	case n <= 32:
		return slotted(new(structBlock[[32]any]), s, func(a *[32]any) []any { return a[:n:n] })
	}
	st := NewStruct(s)
	return st, st.values
}

func slotted[A any](b *structBlock[A], s *Schema, slots func(*A) []any) (*Struct, []any) {
	b.st = Struct{schema: s, values: slots(&b.vals)}
	return &b.st, b.st.values
}
