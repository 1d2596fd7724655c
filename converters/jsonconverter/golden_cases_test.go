package jsonconverter

import (
	"math"
	"math/big"
	"strconv"
	"time"

	"github.com/kconnect/kconnect/connect"
)

// The inputs of testdata/golden/Gen.java, built the same way under the same names. Gen.java is the
// reference: when a case changes there, it changes here.

type goldenCase struct {
	config map[string]string
	schema *connect.Schema
	value  any
}

var (
	cfgDefault          = map[string]string{}
	cfgNoSchemas        = map[string]string{"schemas.enable": "false"}
	cfgNumeric          = map[string]string{"decimal.format": "NUMERIC"}
	cfgNumericNoSchemas = map[string]string{"decimal.format": "NUMERIC", "schemas.enable": "false"}
	cfgKeepNulls        = map[string]string{"replace.null.with.default": "false"}
	cfgKeepNullsNoSch   = map[string]string{"replace.null.with.default": "false", "schemas.enable": "false"}
)

func dec(s string) connect.Decimal {
	d, err := connect.ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

func millis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

var (
	goldenAllPrimitives = connect.StructBuilder().Name("kconnect.golden.Primitives").
				Field("i8", connect.Int8Schema).
				Field("i16", connect.Int16Schema).
				Field("i32", connect.Int32Schema).
				Field("i64", connect.Int64Schema).
				Field("f32", connect.Float32Schema).
				Field("f64", connect.Float64Schema).
				Field("bool", connect.BooleanSchema).
				Field("str", connect.StringSchema).
				Field("bytes", connect.BytesSchema).
				MustBuild()

	goldenOptionalNested = connect.StructBuilder().Field("x", connect.Int32Schema).Optional().MustBuild()
	goldenOptionals      = connect.StructBuilder().
				Field("i8", connect.OptionalInt8Schema).
				Field("i16", connect.OptionalInt16Schema).
				Field("i32", connect.OptionalInt32Schema).
				Field("i64", connect.OptionalInt64Schema).
				Field("f32", connect.OptionalFloat32Schema).
				Field("f64", connect.OptionalFloat64Schema).
				Field("bool", connect.OptionalBooleanSchema).
				Field("str", connect.OptionalStringSchema).
				Field("bytes", connect.OptionalBytesSchema).
				Field("arr", connect.ArrayBuilder(connect.Int32Schema).Optional().MustBuild()).
				Field("map", connect.MapBuilder(connect.StringSchema, connect.Int32Schema).Optional().MustBuild()).
				Field("nested", goldenOptionalNested).
				MustBuild()

	goldenDefaults = connect.StructBuilder().Name("kconnect.golden.Defaults").
			Field("i8", connect.NewSchemaBuilder(connect.TypeInt8).Default(int8(7)).MustBuild()).
			Field("i16", connect.NewSchemaBuilder(connect.TypeInt16).Default(int16(-300)).MustBuild()).
			Field("i32", connect.NewSchemaBuilder(connect.TypeInt32).Optional().Default(int32(42)).MustBuild()).
			Field("i64", connect.NewSchemaBuilder(connect.TypeInt64).Default(int64(1)<<40).MustBuild()).
			Field("f32", connect.NewSchemaBuilder(connect.TypeFloat32).Default(float32(1.5)).MustBuild()).
			Field("f64", connect.NewSchemaBuilder(connect.TypeFloat64).Optional().Default(-2.25).MustBuild()).
			Field("bool", connect.NewSchemaBuilder(connect.TypeBoolean).Default(true).MustBuild()).
			Field("str", connect.NewSchemaBuilder(connect.TypeString).Optional().Default("dflt").MustBuild()).
			Field("bytes", connect.NewSchemaBuilder(connect.TypeBytes).Default([]byte{1, 2, 3}).MustBuild()).
			Field("dec", connect.DecimalSchema(2).Optional().Default(dec("-1.05")).MustBuild()).
			Field("date", connect.DateSchema().Default(millis(19000*86400000)).MustBuild()).
			Field("ts", connect.TimestampSchema().Optional().Default(millis(1700000000123)).MustBuild()).
			Field("arr", connect.ArrayBuilder(connect.StringSchema).Default([]any{"a", "b"}).MustBuild()).
			Field("map", connect.MapBuilder(connect.StringSchema, connect.Int64Schema).Optional().
				Default(map[string]any{"k": int64(1)}).MustBuild()).
			MustBuild()

	goldenInner = connect.StructBuilder().Name("kconnect.golden.Inner").Version(3).
			Field("id", connect.Int64Schema).
			Field("tags", connect.ArrayBuilder(connect.StringSchema).MustBuild()).
			MustBuild()

	goldenNested = connect.StructBuilder().Name("kconnect.golden.Outer").
			Field("inner", goldenInner).
			Field("optInner", connect.StructBuilder().Name("kconnect.golden.Opt").Optional().
				Field("v", connect.StringSchema).MustBuild()).
			Field("list", connect.ArrayBuilder(goldenInner).MustBuild()).
			Field("matrix", connect.ArrayBuilder(connect.ArrayBuilder(connect.Float64Schema).MustBuild()).MustBuild()).
			Field("byName", connect.MapBuilder(connect.StringSchema, goldenInner).MustBuild()).
			Field("byId", connect.MapBuilder(connect.Int32Schema, connect.StringSchema).MustBuild()).
			Field("byFlag", connect.MapBuilder(connect.BooleanSchema, connect.OptionalInt16Schema).MustBuild()).
			Field("optList", connect.ArrayBuilder(connect.OptionalStringSchema).MustBuild()).
			MustBuild()

	goldenLogical = connect.StructBuilder().Name("kconnect.golden.Logical").
			Field("dec2", connect.DecimalSchema(2).MustBuild()).
			Field("decNeg", connect.DecimalSchema(2).MustBuild()).
			Field("dec0", connect.DecimalSchema(0).MustBuild()).
			Field("decBig", connect.DecimalSchema(5).MustBuild()).
			Field("decMinus128", connect.DecimalSchema(0).MustBuild()).
			Field("decMinus32768", connect.DecimalSchema(0).MustBuild()).
			Field("dec255", connect.DecimalSchema(0).MustBuild()).
			Field("decZero", connect.DecimalSchema(3).MustBuild()).
			Field("decOpt", connect.DecimalSchema(1).Optional().MustBuild()).
			Field("date", connect.DateSchema().MustBuild()).
			Field("dateNeg", connect.DateSchema().MustBuild()).
			Field("time", connect.TimeSchema().MustBuild()).
			Field("ts", connect.TimestampSchema().MustBuild()).
			Field("tsNeg", connect.TimestampSchema().MustBuild()).
			Field("tsOpt", connect.TimestampSchema().Optional().MustBuild()).
			MustBuild()

	goldenNumericDecimals = connect.StructBuilder().
				Field("a", connect.DecimalSchema(2).MustBuild()).
				Field("b", connect.DecimalSchema(10).MustBuild()).
				Field("c", connect.DecimalSchema(-3).MustBuild()).
				Field("d", connect.DecimalSchema(0).MustBuild()).
				Field("e", connect.DecimalSchema(7).MustBuild()).
				Field("f", connect.DecimalSchema(1).MustBuild()).
				MustBuild()

	goldenMeta = connect.StructBuilder().Name("com.example.Meta").Version(12).
			Doc(`A "documented" struct`).Param("p1", "v1").Param("a.b", "c").Param("zz", "").
			Field("plain", connect.NewSchemaBuilder(connect.TypeString).Doc("field doc").MustBuild()).
			Field("named", connect.NewSchemaBuilder(connect.TypeInt32).Name("com.example.Named").Version(1).Optional().MustBuild()).
			Field("params", connect.NewSchemaBuilder(connect.TypeBytes).Param("x", "1").Param("connect.name", "y").MustBuild()).
			MustBuild()

	goldenSmall = connect.StructBuilder().Field("a", connect.Int32Schema).MustBuild()
)

var goldenDoubles = []float64{
	0.0, math.Copysign(0, -1), 1.0, -1.0, 0.1, 0.2, 0.3, 1.0 / 3, 100.0, 123456.789, 1e7, 9999999.0, 9999999.999,
	12345678.0, 0.001, 0.0009999, 1e-3, 1e-4, 1e-7, 1e10, 1e21, 1e22, 1e23, 2e23, 1.5e300, -2.5e-300,
	math.MaxFloat64, math.SmallestNonzeroFloat64, 0x1p-1022, 9007199254740992.0, 9007199254740993.0,
	4.35, 2.0 / 3, 5e-324, 1.7976931348623157e308, 3.141592653589793, 2.718281828459045,
	math.NaN(), math.Inf(1), math.Inf(-1),
}

var goldenFloats = []float32{
	0.0, float32(math.Copysign(0, -1)), 1.0, 0.1, 0.2, float32(1.0) / 3, 100.0, 123456.79, 1e7, 9999999.0, 16777216.0, 0.001,
	1e-4, 1e-7, 1e10, 3.4028235e38, 1.4e-45, 1.17549435e-38, 3.1415927, float32(math.NaN()),
	float32(math.Inf(1)), float32(math.Inf(-1)),
}

var goldenStrings = []string{
	"", "plain", "quote\"d", "back\\slash", "slash/", "tab\tnl\ncr\rbs\bff\f",
	"\u0000\u0001\u0007\u000b\u000e\u001f\u007f", "caf\u00e9 \u65e5\u672c \u0416", "emoji \U0001F600 \U0001F1E9\U0001F1EA",
	"\u2028\u2029 <>&' =", "\uFFFD\uFEFF",
}

func newStruct(s *connect.Schema, kv ...any) *connect.Struct {
	st := connect.NewStruct(s)
	for i := 0; i < len(kv); i += 2 {
		if err := st.Put(kv[i].(string), kv[i+1]); err != nil {
			panic(err)
		}
	}
	return st
}

func goldenInnerValue(id int64, tags ...string) *connect.Struct {
	arr := make([]any, len(tags))
	for i, t := range tags {
		arr[i] = t
	}
	return newStruct(goldenInner, "id", id, "tags", arr)
}

func goldenLogicalValue() *connect.Struct {
	return newStruct(goldenLogical,
		"dec2", dec("12345.67"),
		"decNeg", dec("-0.01"),
		"dec0", dec("9223372036854775808"),
		"decBig", dec("-123456789012345678901234567890.12345"),
		"decMinus128", dec("-128"),
		"decMinus32768", dec("-32768"),
		"dec255", dec("255"),
		"decZero", dec("0.000"),
		"date", millis(19745*86400000),
		"dateNeg", millis(-86400000),
		"time", millis(45296789),
		"ts", millis(1712345678901),
		"tsNeg", millis(-1))
}

func goldenEncodeCases() map[string]goldenCase {
	cases := map[string]goldenCase{}
	add := func(name string, cfg map[string]string, s *connect.Schema, v any) {
		if _, dup := cases[name]; dup {
			panic("duplicate golden case " + name)
		}
		cases[name] = goldenCase{cfg, s, v}
	}

	prim := newStruct(goldenAllPrimitives,
		"i8", int8(-128), "i16", int16(32767), "i32", int32(math.MinInt32),
		"i64", int64(math.MaxInt64), "f32", float32(3.14), "f64", 0.1, "bool", true,
		"str", "hello", "bytes", []byte{0, 0xff, 0x10, 0x7f, 0x80})
	add("primitives", cfgDefault, goldenAllPrimitives, prim)
	add("primitives_noschema", cfgNoSchemas, goldenAllPrimitives, prim)

	add("optionals_null", cfgDefault, goldenOptionals, connect.NewStruct(goldenOptionals))
	add("optionals_set", cfgDefault, goldenOptionals, newStruct(goldenOptionals,
		"i8", int8(1), "i16", int16(2), "i32", int32(3), "i64", int64(4), "f32", float32(5.5), "f64", 6.25,
		"bool", false, "str", "", "bytes", []byte{}, "arr", []any{}, "map", map[string]any{},
		"nested", newStruct(goldenOptionalNested, "x", int32(9))))

	add("defaults_null", cfgDefault, goldenDefaults, connect.NewStruct(goldenDefaults))
	add("defaults_null_keep", cfgKeepNulls, goldenDefaults, connect.NewStruct(goldenDefaults))
	add("defaults_null_noschema", cfgNoSchemas, goldenDefaults, connect.NewStruct(goldenDefaults))
	add("defaults_null_keep_noschema", cfgKeepNullsNoSch, goldenDefaults, connect.NewStruct(goldenDefaults))
	add("defaults_null_numeric", cfgNumeric, goldenDefaults, connect.NewStruct(goldenDefaults))

	nested := newStruct(goldenNested,
		"inner", goldenInnerValue(7, "a", "b"),
		"list", []any{goldenInnerValue(1), goldenInnerValue(2, "two")},
		"matrix", []any{[]any{1.0, 2.5}, []any{}, []any{-0.5}},
		"byName", map[string]any{"a": goldenInnerValue(1, "x"), "b": goldenInnerValue(2)},
		"byId", map[any]any{int32(-5): "minus five", int32(3): "three", int32(100): "hundred"},
		"byFlag", map[any]any{false: nil, true: int16(1)},
		"optList", []any{"a", nil, "c"})
	add("nested", cfgDefault, goldenNested, nested)
	add("nested_noschema", cfgNoSchemas, goldenNested, nested)

	add("logical", cfgDefault, goldenLogical, goldenLogicalValue())
	add("logical_numeric", cfgNumeric, goldenLogical, goldenLogicalValue())
	add("logical_noschema", cfgNoSchemas, goldenLogical, goldenLogicalValue())

	numeric := newStruct(goldenNumericDecimals,
		"a", dec("-0.50"),
		"b", dec("0.0000000123"),
		"c", connect.Decimal{Unscaled: big.NewInt(5), Scale: -3},
		"d", dec("100"),
		"e", dec("0.0000001"),
		"f", dec("123456789012345678901234567890.1"))
	add("decimals_numeric", cfgNumeric, goldenNumericDecimals, numeric)
	add("decimals_numeric_noschema", cfgNumericNoSchemas, goldenNumericDecimals, numeric)
	add("decimals_base64", cfgDefault, goldenNumericDecimals, numeric)

	add("schema_metadata", cfgDefault, goldenMeta, newStruct(goldenMeta, "plain", "p", "params", []byte{42}))

	ds := make([]any, len(goldenDoubles))
	for i, d := range goldenDoubles {
		ds[i] = d
	}
	add("doubles", cfgDefault, connect.ArrayBuilder(connect.Float64Schema).MustBuild(), ds)
	add("doubles_noschema", cfgNoSchemas, nil, ds)
	fs := make([]any, len(goldenFloats))
	for i, f := range goldenFloats {
		fs[i] = f
	}
	add("floats", cfgDefault, connect.ArrayBuilder(connect.Float32Schema).MustBuild(), fs)

	strs := make([]any, len(goldenStrings))
	strMap := map[string]any{}
	for i, s := range goldenStrings {
		strs[i] = s
		strMap[s] = "v" + strconv.Itoa(i)
	}
	add("strings", cfgDefault, connect.ArrayBuilder(connect.StringSchema).MustBuild(), strs)
	add("string_keys", cfgNoSchemas, nil, strMap)
	odd := connect.StructBuilder().Name("odd \"name\"\n").
		Field("with space", connect.Int32Schema).Field("quo\"te", connect.Int32Schema).
		Field("\u00fcn\u00efc\u00f6d\u00e9", connect.Int32Schema).MustBuild()
	add("odd_field_names", cfgDefault, odd, newStruct(odd,
		"with space", int32(1), "quo\"te", int32(2), "\u00fcn\u00efc\u00f6d\u00e9", int32(3)))

	add("top_int32", cfgDefault, connect.Int32Schema, int32(42))
	add("top_int32_noschema", cfgNoSchemas, connect.Int32Schema, int32(42))
	add("top_string", cfgDefault, connect.OptionalStringSchema, "x")
	add("top_null_optional", cfgDefault, connect.OptionalStringSchema, nil)
	add("top_null_optional_noschema", cfgNoSchemas, connect.OptionalStringSchema, nil)
	add("top_null_default", cfgDefault, connect.NewSchemaBuilder(connect.TypeInt64).Default(int64(5)).MustBuild(), nil)
	add("top_null_default_keep", cfgKeepNulls, connect.NewSchemaBuilder(connect.TypeInt64).Optional().Default(int64(5)).MustBuild(), nil)
	add("top_null_required", cfgDefault, connect.Int64Schema, nil)
	add("top_bytes", cfgDefault, connect.BytesSchema, []byte("any carnal pleas"))
	add("top_date_noschema", cfgNoSchemas, connect.DateSchema().MustBuild(), millis(0))
	add("top_bool_noschema", cfgNoSchemas, connect.BooleanSchema, false)

	add("map_int64_keys", cfgDefault, connect.MapBuilder(connect.Int64Schema, connect.StringSchema).MustBuild(),
		map[any]any{int64(-1): "neg", int64(0): "zero", int64(1) << 62: "big"})
	add("map_string_keys", cfgDefault, connect.MapBuilder(connect.StringSchema, connect.OptionalFloat64Schema).MustBuild(),
		map[string]any{"a": 1.0, "b": 2.5})
	add("map_empty_pairs", cfgDefault, connect.MapBuilder(connect.Int8Schema, connect.Int8Schema).MustBuild(), map[any]any{})

	schemaless := map[string]any{
		"bool": true, "bytes": []byte{1, 2, 3}, "f32": float32(0.5), "f64": 1e-7, "i16": int16(12),
		"i32": int32(123), "i64": int64(-9876543210), "i8": int8(1),
		"list": []any{int64(1), "two", nil, []any{3.5}},
		"map":  map[string]any{"deep": []any{}, "empty": map[string]any{}},
		"null": nil, "str": "s",
	}
	add("schemaless_map", cfgNoSchemas, nil, schemaless)
	add("schemaless_map_envelope", cfgDefault, nil, schemaless)
	add("schemaless_int_keys", cfgNoSchemas, nil, map[any]any{int64(1): "one", int64(2): []any{true}})
	add("schemaless_list", cfgNoSchemas, nil, []any{"a", int64(1), 2.5, false, nil})
	add("schemaless_string", cfgDefault, nil, "just a string")

	add("err_required_null", cfgDefault, goldenSmall, connect.NewStruct(goldenSmall))
	add("err_schemaless_struct", cfgNoSchemas, nil, newStruct(goldenSmall, "a", int32(1)))
	add("err_decimal_scale", cfgDefault, connect.DecimalSchema(2).MustBuild(), dec("1.5"))
	add("err_date_time_part", cfgDefault, connect.DateSchema().MustBuild(), millis(1000))
	add("err_wrong_type", cfgDefault, connect.Int32Schema, "nope")
	other := connect.StructBuilder().Field("a", connect.Int64Schema).MustBuild()
	add("err_mismatched_struct", cfgDefault, goldenSmall, newStruct(other, "a", int64(1)))
	return cases
}
