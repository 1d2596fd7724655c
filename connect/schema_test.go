package connect

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestSchemaBuilderRejectsInvalidSchemas(t *testing.T) {
	cases := map[string]*SchemaBuilder{
		"duplicate field":     StructBuilder().Field("a", Int32Schema).Field("a", StringSchema),
		"field on primitive":  NewSchemaBuilder(TypeInt32).Field("a", Int32Schema),
		"nil field schema":    StructBuilder().Field("a", nil),
		"array without items": ArrayBuilder(nil),
		"map without values":  MapBuilder(StringSchema, nil),
		"bad default":         NewSchemaBuilder(TypeInt32).Default("not a number"),
		"unknown type":        NewSchemaBuilder(Type(99)),
	}
	for name, b := range cases {
		if _, err := b.Build(); err == nil {
			t.Errorf("%s: Build accepted it", name)
		}
	}
}

func TestStructValidatesValuesAgainstSchema(t *testing.T) {
	addr := StructBuilder().Name("Address").Field("city", StringSchema).MustBuild()
	s := StructBuilder().Name("Person").
		Field("id", Int64Schema).
		Field("name", OptionalStringSchema).
		Field("tags", ArrayBuilder(StringSchema).MustBuild()).
		Field("attrs", MapBuilder(StringSchema, Int32Schema).MustBuild()).
		Field("born", DateSchema().Optional().MustBuild()).
		Field("balance", DecimalSchema(2).MustBuild()).
		Field("address", addr).
		MustBuild()
	st := NewStruct(s)
	wrong := []struct {
		field string
		value any
	}{
		{"id", int32(1)},        // int32 in an int64 field
		{"id", "1"},             // string in an int64 field
		{"tags", []any{"a", 2}}, // wrong element type
		{"attrs", map[string]any{"k": "v"}},
		{"born", int32(3)},        // Date must be a time.Time
		{"balance", 1.5},          // Decimal must be a connect.Decimal
		{"address", NewStruct(s)}, // struct of another schema
		{"nope", int64(1)},        // unknown field
	}
	for _, w := range wrong {
		err := st.Put(w.field, w.value)
		var de *DataError
		if !errors.As(err, &de) {
			t.Errorf("Put(%s, %#v) = %v, want a DataError", w.field, w.value, err)
		}
	}
	if err := st.Validate(); err == nil || !strings.Contains(err.Error(), "id") {
		t.Fatalf("a struct missing required fields must not validate, got %v", err)
	}
	ok := []struct {
		field string
		value any
	}{
		{"id", int64(7)}, {"name", nil}, {"tags", []any{"x"}}, {"attrs", map[string]any{"k": int32(1)}},
		{"born", time.Date(2020, 1, 2, 0, 0, 0, 0, time.UTC)}, {"balance", mustDecimal(t, "12.34")},
		{"address", NewStruct(addr).Set("city", "Oslo")},
	}
	for _, o := range ok {
		if err := st.Put(o.field, o.value); err != nil {
			t.Errorf("Put(%s): %v", o.field, err)
		}
	}
	if err := st.Validate(); err != nil {
		t.Fatalf("complete struct: %v", err)
	}
	if got := st.Get("id"); got != int64(7) {
		t.Fatalf("Get(id) = %v", got)
	}
}

func TestStructGetFallsBackToDefault(t *testing.T) {
	s := StructBuilder().Field("n", NewSchemaBuilder(TypeInt32).Default(int32(5)).MustBuild()).MustBuild()
	st := NewStruct(s)
	if got := st.Get("n"); got != int32(5) {
		t.Fatalf("unset field with default: got %v, want 5", got)
	}
	if err := st.Validate(); err != nil {
		t.Fatalf("a field with a default may be unset: %v", err)
	}
}

func TestSchemaEqualComparesEverything(t *testing.T) {
	a := StructBuilder().Name("x").Version(1).Field("f", Int32Schema).MustBuild()
	same := StructBuilder().Name("x").Version(1).Field("f", Int32Schema).MustBuild()
	if !a.Equal(same) {
		t.Fatal("identical schemas differ")
	}
	for name, other := range map[string]*Schema{
		"name":     StructBuilder().Name("y").Version(1).Field("f", Int32Schema).MustBuild(),
		"version":  StructBuilder().Name("x").Version(2).Field("f", Int32Schema).MustBuild(),
		"field":    StructBuilder().Name("x").Version(1).Field("g", Int32Schema).MustBuild(),
		"type":     StructBuilder().Name("x").Version(1).Field("f", Int64Schema).MustBuild(),
		"optional": StructBuilder().Name("x").Version(1).Optional().Field("f", Int32Schema).MustBuild(),
	} {
		if a.Equal(other) {
			t.Errorf("schemas differing in %s compare equal", name)
		}
	}
}

func TestLargeStructFieldLookup(t *testing.T) {
	b := StructBuilder()
	for i := 0; i < 20; i++ {
		b.Field(string(rune('a'+i)), Int32Schema)
	}
	s := b.MustBuild()
	if f := s.Field("t"); f == nil || f.Index != 19 {
		t.Fatalf("Field(t) = %+v", f)
	}
	if s.Field("zz") != nil {
		t.Fatal("unknown field found")
	}
}

func mustDecimal(t *testing.T, s string) Decimal {
	t.Helper()
	d, err := ParseDecimal(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestNewStructSlots(t *testing.T) {
	for _, n := range []int{1, 8, 9, 24, 32, 33} {
		b := StructBuilder()
		for i := 0; i < n; i++ {
			b.Field(fmt.Sprintf("f%d", i), OptionalInt32Schema)
		}
		s := b.MustBuild()
		st, vals := NewStructSlots(s)
		if len(vals) != n || cap(vals) != n {
			t.Fatalf("%d fields: %d slots with capacity %d", n, len(vals), cap(vals))
		}
		vals[n-1] = int32(7)
		if st.GetAt(n-1) != int32(7) || st.Schema() != s || st.Validate() != nil {
			t.Errorf("%d fields: the struct does not hold what was put in its slots", n)
		}
	}
}
