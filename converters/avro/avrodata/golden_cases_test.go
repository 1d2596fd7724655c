package avrodata

import (
	"math"
	"time"

	"github.com/kconnect/kconnect/connect"
)

// The Connect → Avro inputs of testdata/golden/Gen.java, built the same way under the same names.
// Gen.java is the reference: when a case changes there, it changes here.

type goldenCase struct {
	config map[string]string
	schema *connect.Schema
	value  any
}

var (
	cfgDefault         = map[string]string{}
	cfgNoMeta          = map[string]string{ConnectMetaDataConfig: "false"}
	cfgEnhanced        = map[string]string{EnhancedAvroSchemaSupportConfig: "true"}
	cfgScrub           = map[string]string{ScrubInvalidNamesConfig: "true"}
	cfgIgnoreDefault   = map[string]string{IgnoreDefaultForNullablesConfig: "true"}
	cfgOptionalMapKeys = map[string]string{AllowOptionalMapKeysConfig: "true"}
)

func dec(s string) connect.Decimal {
	d, err := connect.ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

// javaNaN is Java's Double.NaN, whose bits differ from math.NaN's.
var javaNaN = math.Float64frombits(0x7ff8000000000000)

func millis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func build(b *connect.SchemaBuilder) *connect.Schema { return b.MustBuild() }

func put(s *connect.Schema, kv ...any) *connect.Struct {
	st := connect.NewStruct(s)
	for i := 0; i < len(kv); i += 2 {
		if err := st.Put(kv[i].(string), kv[i+1]); err != nil {
			panic(err)
		}
	}
	return st
}

var (
	gPrimitives = build(connect.StructBuilder().Name("kconnect.golden.Primitives").
			Field("i8", connect.Int8Schema).Field("i16", connect.Int16Schema).Field("i32", connect.Int32Schema).
			Field("i64", connect.Int64Schema).Field("f32", connect.Float32Schema).Field("f64", connect.Float64Schema).
			Field("bool", connect.BooleanSchema).Field("str", connect.StringSchema).Field("bytes", connect.BytesSchema))

	gOptionalNested = build(connect.StructBuilder().Field("x", connect.Int32Schema).Optional())
	gOptionals      = build(connect.StructBuilder().
			Field("i8", connect.OptionalInt8Schema).Field("i16", connect.OptionalInt16Schema).
			Field("i32", connect.OptionalInt32Schema).Field("i64", connect.OptionalInt64Schema).
			Field("f32", connect.OptionalFloat32Schema).Field("f64", connect.OptionalFloat64Schema).
			Field("bool", connect.OptionalBooleanSchema).Field("str", connect.OptionalStringSchema).
			Field("bytes", connect.OptionalBytesSchema).
			Field("arr", build(connect.ArrayBuilder(connect.Int32Schema).Optional())).
			Field("map", build(connect.MapBuilder(connect.StringSchema, connect.Int32Schema).Optional())).
			Field("nested", gOptionalNested))

	gPoint = build(connect.StructBuilder().Name("kconnect.golden.Point").
		Field("x", connect.Int32Schema).Field("y", connect.Int32Schema))

	gDefaults = build(connect.StructBuilder().Name("kconnect.golden.Defaults").
			Field("i8", build(connect.NewSchemaBuilder(connect.TypeInt8).Default(int8(7)))).
			Field("i16", build(connect.NewSchemaBuilder(connect.TypeInt16).Default(int16(-300)))).
			Field("i32", build(connect.NewSchemaBuilder(connect.TypeInt32).Optional().Default(int32(42)))).
			Field("i64", build(connect.NewSchemaBuilder(connect.TypeInt64).Default(int64(1)<<40))).
			Field("f32", build(connect.NewSchemaBuilder(connect.TypeFloat32).Default(float32(1.5)))).
			Field("f32odd", build(connect.NewSchemaBuilder(connect.TypeFloat32).Default(float32(0.1)))).
			Field("f64", build(connect.NewSchemaBuilder(connect.TypeFloat64).Optional().Default(-2.25))).
			Field("f64nan", build(connect.NewSchemaBuilder(connect.TypeFloat64).Default(javaNaN))).
			Field("f64big", build(connect.NewSchemaBuilder(connect.TypeFloat64).Default(1e20))).
			Field("bool", build(connect.NewSchemaBuilder(connect.TypeBoolean).Default(true))).
			Field("str", build(connect.NewSchemaBuilder(connect.TypeString).Optional().Default("dflt \"q\" \u00e9\n"))).
			Field("bytes", build(connect.NewSchemaBuilder(connect.TypeBytes).Default([]byte{0, 1, 0x7f, 0x80, 0xff}))).
			Field("dec", build(connect.DecimalSchema(2).Optional().Default(dec("-1.05")))).
			Field("date", build(connect.DateSchema().Default(millis(19000*86400000)))).
			Field("ts", build(connect.TimestampSchema().Optional().Default(millis(1700000000123)))).
			Field("arr", build(connect.ArrayBuilder(connect.StringSchema).Default([]any{"a", "b"}))).
			Field("map", build(connect.MapBuilder(connect.StringSchema, connect.Int64Schema).Optional().
				Default(map[string]any{"k": int64(1)}))).
			Field("intMap", build(connect.MapBuilder(connect.Int32Schema, connect.StringSchema).
				Default(map[any]any{int32(1): "one"}))))

	gLogical = build(connect.StructBuilder().Name("kconnect.golden.Logical").
			Field("dec2", build(connect.DecimalSchema(2))).
			Field("decNeg", build(connect.DecimalSchema(2))).
			Field("dec0", build(connect.DecimalSchema(0))).
			Field("decBig", build(connect.DecimalSchema(5))).
			Field("decPrec", build(connect.DecimalSchema(2).Param("connect.decimal.precision", "10"))).
			Field("decLegacy", build(connect.DecimalSchema(5).Param("connect.decimal.precision", "3"))).
			Field("decNegScale", build(connect.DecimalSchema(-2))).
			Field("decOpt", build(connect.DecimalSchema(1).Optional())).
			Field("date", build(connect.DateSchema())).
			Field("dateOpt", build(connect.DateSchema().Optional())).
			Field("time", build(connect.TimeSchema())).
			Field("ts", build(connect.TimestampSchema())).
			Field("tsOpt", build(connect.TimestampSchema().Optional())))

	gMaps = build(connect.StructBuilder().Name("kconnect.golden.Maps").
		Field("byName", build(connect.MapBuilder(connect.StringSchema, connect.Int32Schema))).
		Field("byId", build(connect.MapBuilder(connect.Int32Schema, connect.StringSchema))).
		Field("byIdAgain", build(connect.MapBuilder(connect.Int32Schema, connect.StringSchema))).
		Field("named", build(connect.MapBuilder(connect.Int32Schema, connect.StringSchema).Name("kconnect.golden.NamedMap"))).
		Field("optValues", build(connect.MapBuilder(connect.StringSchema, connect.OptionalStringSchema))).
		Field("empty", build(connect.MapBuilder(connect.StringSchema, connect.Int32Schema))))

	gMapEntryConflict = build(connect.StructBuilder().Name("kconnect.golden.MapConflict").
				Field("a", build(connect.MapBuilder(connect.Int32Schema, connect.StringSchema))).
				Field("b", build(connect.MapBuilder(connect.Int64Schema, connect.StringSchema))))

	gOptionalKeys = build(connect.MapBuilder(connect.OptionalStringSchema, connect.Int32Schema))

	gInner = build(connect.StructBuilder().Name("kconnect.golden.Inner").Version(3).
		Field("id", connect.Int64Schema).Field("tags", build(connect.ArrayBuilder(connect.StringSchema))))
	gInnerOptional = build(connect.StructBuilder().Name("kconnect.golden.Inner").Version(3).
			Field("id", connect.Int64Schema).Field("tags", build(connect.ArrayBuilder(connect.StringSchema))).Optional())
	gAnon1  = build(connect.StructBuilder().Field("a", connect.Int32Schema))
	gNested = build(connect.StructBuilder().Name("kconnect.golden.Outer").
		Field("inner", gInner).
		Field("optInner", build(connect.StructBuilder().Name("other.ns.Opt").Optional().Field("v", connect.StringSchema))).
		Field("list", build(connect.ArrayBuilder(gInner))).
		Field("byName", build(connect.MapBuilder(connect.StringSchema, gInner))).
		Field("again", gInner).
		Field("optAgain", gInnerOptional).
		Field("anon1", gAnon1).
		Field("anon2", build(connect.StructBuilder().Field("b", connect.StringSchema).Optional())))

	gMeta = build(connect.StructBuilder().Name("kconnect.golden.Meta").Version(2).Doc("A record").
		Param("a", "1").Param("b", "two").
		Field("s", build(connect.NewSchemaBuilder(connect.TypeString).Doc("a string").Version(1).Param("p", "q"))).
		Field("i", build(connect.NewSchemaBuilder(connect.TypeInt32).Param("x", "y"))).
		Field("avro", build(connect.NewSchemaBuilder(connect.TypeString).Param("avro.java.string", "String"))))

	gDocs = build(connect.StructBuilder().Name("kconnect.golden.Docs").
		Param("io.confluent.connect.avro.record.doc", "record doc").
		Param("io.confluent.connect.avro.field.doc.x", "field doc").
		Field("x", connect.Int32Schema).Field("y", connect.Int32Schema))

	gDbzValue = build(connect.StructBuilder().Name("dbserver1.inventory.customers.Value").Optional().
			Field("id", connect.Int32Schema).
			Field("first_name", connect.StringSchema).
			Field("email", connect.OptionalStringSchema).
			Field("balance", build(connect.DecimalSchema(2).Optional().Param("connect.decimal.precision", "10"))).
			Field("created", build(connect.NewSchemaBuilder(connect.TypeInt64).Name("io.debezium.time.MicroTimestamp").Version(1).Optional())).
			Field("born", build(connect.DateSchema().Optional())).
			Field("doc", build(connect.NewSchemaBuilder(connect.TypeString).Name("io.debezium.data.Json").Version(1).Optional())))

	gDbzSource = build(connect.StructBuilder().Name("io.debezium.connector.postgresql.Source").
			Field("version", connect.StringSchema).
			Field("connector", connect.StringSchema).
			Field("name", connect.StringSchema).
			Field("ts_ms", connect.Int64Schema).
			Field("snapshot", build(connect.NewSchemaBuilder(connect.TypeString).Optional().Name("io.debezium.data.Enum").Version(1).
				Param("allowed", "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental").
				Default("false"))).
			Field("db", connect.StringSchema).
			Field("sequence", connect.OptionalStringSchema).
			Field("schema", connect.StringSchema).
			Field("table", connect.StringSchema).
			Field("txId", connect.OptionalInt64Schema).
			Field("lsn", connect.OptionalInt64Schema).
			Field("xmin", connect.OptionalInt64Schema))

	gDbzBlock = build(connect.StructBuilder().Name("event.block").Version(1).Optional().
			Field("id", connect.StringSchema).
			Field("total_order", connect.Int64Schema).
			Field("data_collection_order", connect.Int64Schema))

	gDbzEnvelope = build(connect.StructBuilder().Name("dbserver1.inventory.customers.Envelope").Version(2).
			Field("before", gDbzValue).
			Field("after", gDbzValue).
			Field("source", gDbzSource).
			Field("transaction", gDbzBlock).
			Field("op", connect.StringSchema).
			Field("ts_ms", connect.OptionalInt64Schema).
			Field("ts_us", connect.OptionalInt64Schema).
			Field("ts_ns", connect.OptionalInt64Schema))

	gScrubbedInner = build(connect.StructBuilder().Name("my-server.x.In-ner").Optional().Field("a-b", connect.Int32Schema))
	gScrubbed      = build(connect.StructBuilder().Name("my-server.public.orders-2024.Value").
			Field("first-name", connect.Int32Schema).
			Field("1st", connect.StringSchema).
			Field("ok_name", connect.StringSchema).
			Field("in", gScrubbedInner))

	gColor = build(connect.NewSchemaBuilder(connect.TypeString).Name("kconnect.golden.Color").
		Param("io.confluent.connect.avro.Enum", "kconnect.golden.Color").
		Param("io.confluent.connect.avro.Enum.RED", "RED").
		Param("io.confluent.connect.avro.Enum.GREEN", "GREEN").
		Param("io.confluent.connect.avro.Enum.BLUE", "BLUE"))
	gChoicePoint = build(connect.StructBuilder().Name("kconnect.golden.Point").Optional().
			Field("x", connect.Int32Schema).Field("y", connect.Int32Schema))
	gChoice = build(connect.StructBuilder().Name("io.confluent.connect.avro.Union").Optional().
		Field("int", connect.OptionalInt32Schema).
		Field("string", connect.OptionalStringSchema).
		Field("Point", gChoicePoint))
	gEnumUnion = build(connect.StructBuilder().Name("kconnect.golden.WithEnum").
			Field("color", gColor).Field("choice", gChoice).Field("choice2", gChoice))

	gNullableDefault = build(connect.StructBuilder().Name("kconnect.golden.NullableDefault").
				Field("s", build(connect.NewSchemaBuilder(connect.TypeString).Optional().Default("d"))).
				Field("i", build(connect.NewSchemaBuilder(connect.TypeInt32).Optional().Default(int32(5)))))

	gUnnamedN1 = build(connect.StructBuilder().Field("b", connect.Int32Schema))
	gUnnamed   = build(connect.StructBuilder().
			Field("a", connect.Int32Schema).
			Field("n1", gUnnamedN1).
			Field("n2", build(connect.StructBuilder().Field("c", connect.Int32Schema).Optional())).
			Field("m", build(connect.MapBuilder(connect.Int32Schema, connect.Int32Schema))))

	gArrays = build(connect.StructBuilder().Name("kconnect.golden.Arrays").
		Field("optStrs", build(connect.ArrayBuilder(connect.OptionalStringSchema))).
		Field("matrix", build(connect.ArrayBuilder(build(connect.ArrayBuilder(connect.Float64Schema))))).
		Field("points", build(connect.ArrayBuilder(gPoint))).
		Field("empty", build(connect.ArrayBuilder(connect.Int64Schema))).
		Field("optArr", build(connect.ArrayBuilder(connect.Int8Schema).Optional())))

	gSameA   = build(connect.StructBuilder().Name("kconnect.golden.Same").Field("x", connect.Int32Schema))
	gSameB   = build(connect.StructBuilder().Name("kconnect.golden.Same").Field("y", connect.StringSchema))
	gRedef   = build(connect.StructBuilder().Name("kconnect.golden.Redefine").Field("a", gSameA).Field("b", gSameB))
	gTopOpt  = build(connect.StructBuilder().Name("kconnect.golden.TopOpt").Optional().Field("v", connect.Int32Schema))
	gBadNS   = build(connect.StructBuilder().Name("my-server.public.Value").Field("a", connect.Int32Schema))
	gBadName = build(connect.StructBuilder().Name("ok.Bad-Name").Field("a", connect.Int32Schema))
	gUnicode = build(connect.StructBuilder().Name("caf\u00e9.R\u00e9sum\u00e9").Field("\u00e9t\u00e9", connect.Int32Schema))
)

func logicalValue() *connect.Struct {
	return put(gLogical,
		"dec2", dec("12345.67"), "decNeg", dec("-0.01"), "dec0", dec("9223372036854775808"),
		"decBig", dec("-123456789012345678901234567890.12345"), "decPrec", dec("-99999999.99"),
		"decLegacy", dec("0.00128"), "decNegScale", dec("1.23E+4"),
		"date", millis(-86400000), "time", millis(45296789), "ts", millis(-1234567), "tsOpt", millis(1700000000123))
}

func mapsValue() *connect.Struct {
	return put(gMaps,
		"byName", map[string]any{"a": int32(1)},
		"byId", map[any]any{int32(7): "seven"},
		"byIdAgain", map[any]any{int32(-7): ""},
		"named", map[any]any{int32(3): "three"},
		"optValues", map[string]any{"gone": nil},
		"empty", map[string]any{})
}

func inner(id int64, tags ...any) *connect.Struct {
	if tags == nil {
		tags = []any{}
	}
	return put(gInner, "id", id, "tags", tags)
}

func nestedValue() *connect.Struct {
	return put(gNested,
		"inner", inner(1, "a", "b"),
		"list", []any{inner(2), inner(3, "c")},
		"byName", map[string]any{"x": inner(4, "d")},
		"again", inner(5),
		"optAgain", put(gInnerOptional, "id", int64(6), "tags", []any{"e"}),
		"anon1", put(gAnon1, "a", int32(7)))
}

func dbzValue() *connect.Struct {
	after := put(gDbzValue, "id", int32(1001), "first_name", "Sally", "balance", dec("10.50"),
		"created", int64(1700000000123456), "born", millis(3653*86400000), "doc", `{"a":1}`)
	source := put(gDbzSource, "version", "2.7.0.Final", "connector", "postgresql", "name", "dbserver1",
		"ts_ms", int64(1700000000000), "snapshot", "false", "db", "postgres",
		"sequence", `["24023928","24023928"]`, "schema", "inventory", "table", "customers",
		"txId", int64(555), "lsn", int64(24023928))
	return put(gDbzEnvelope, "after", after, "source", source, "op", "c", "ts_ms", int64(1700000000999))
}

func goldenFromConnectCases() map[string]goldenCase {
	scrubbed := put(gScrubbed, "first-name", int32(1), "1st", "one", "ok_name", "ok",
		"in", put(gScrubbedInner, "a-b", int32(2)))
	withEnum := put(gEnumUnion, "color", "GREEN",
		"choice", put(gChoice, "string", "hi"),
		"choice2", put(gChoice, "Point", put(gChoicePoint, "x", int32(1), "y", int32(2))))
	return map[string]goldenCase{
		"primitives": {cfgDefault, gPrimitives, put(gPrimitives, "i8", int8(-8), "i16", int16(-1600), "i32", int32(123456),
			"i64", -(int64(1) << 40), "f32", float32(1.5), "f64", -2.25e10, "bool", true, "str", "h\u00e9llo \"q\"",
			"bytes", []byte{0, 1, 0xff})},
		"primitives_nometa": {cfgNoMeta, gPrimitives, put(gPrimitives, "i8", int8(8), "i16", int16(16), "i32", int32(32),
			"i64", int64(64), "f32", float32(-0.5), "f64", 0.1, "bool", false, "str", "", "bytes", []byte{})},

		"optionals_null": {cfgDefault, gOptionals, connect.NewStruct(gOptionals)},
		"optionals_set": {cfgDefault, gOptionals, put(gOptionals, "i8", int8(1), "i16", int16(2), "i32", int32(3),
			"i64", int64(4), "f32", float32(5), "f64", 6.0, "bool", true, "str", "s", "bytes", []byte{9},
			"arr", []any{int32(1), int32(2)}, "map", map[string]any{"k": int32(3)},
			"nested", put(gOptionalNested, "x", int32(4)))},

		"defaults_unset":  {cfgDefault, gDefaults, connect.NewStruct(gDefaults)},
		"defaults_nometa": {cfgNoMeta, gDefaults, connect.NewStruct(gDefaults)},
		"logical":         {cfgDefault, gLogical, logicalValue()},
		"logical_nometa":  {cfgNoMeta, gLogical, logicalValue()},

		"top_int8":               {cfgDefault, connect.Int8Schema, int8(-5)},
		"top_int16":              {cfgDefault, connect.Int16Schema, int16(300)},
		"top_int32":              {cfgDefault, connect.Int32Schema, int32(-70000)},
		"top_int64":              {cfgDefault, connect.Int64Schema, int64(math.MinInt64)},
		"top_float32":            {cfgDefault, connect.Float32Schema, float32(3.25)},
		"top_float64":            {cfgDefault, connect.Float64Schema, math.MaxFloat64},
		"top_boolean":            {cfgDefault, connect.BooleanSchema, true},
		"top_string":             {cfgDefault, connect.StringSchema, "\u65e5\u672c"},
		"top_bytes":              {cfgDefault, connect.BytesSchema, []byte{1, 2, 3}},
		"top_opt_string":         {cfgDefault, connect.OptionalStringSchema, "x"},
		"top_opt_string_default": {cfgDefault, build(connect.NewSchemaBuilder(connect.TypeString).Optional().Default("d")), "x"},
		"top_decimal":            {cfgDefault, build(connect.DecimalSchema(3)), dec("1.234")},
		"top_date":               {cfgDefault, build(connect.DateSchema()), millis(86400000 * 20000)},
		"top_time":               {cfgDefault, build(connect.TimeSchema()), millis(1000)},
		"top_timestamp":          {cfgDefault, build(connect.TimestampSchema()), millis(1700000000123)},
		"top_array":              {cfgDefault, build(connect.ArrayBuilder(connect.StringSchema)), []any{"a", "", "c"}},
		"top_map":                {cfgDefault, build(connect.MapBuilder(connect.StringSchema, connect.Int64Schema)), map[string]any{"k": int64(9)}},
		"top_map_int_keys":       {cfgDefault, build(connect.MapBuilder(connect.Int32Schema, connect.StringSchema)), map[any]any{int32(1): "one"}},
		"top_named_string":       {cfgDefault, build(connect.NewSchemaBuilder(connect.TypeString).Name("io.debezium.data.Json").Version(1)), "{}"},
		"top_string_meta":        {cfgDefault, build(connect.NewSchemaBuilder(connect.TypeString).Doc("some doc").Param("k", "v")), "v"},
		"top_opt_struct":         {cfgDefault, gTopOpt, put(gTopOpt, "v", int32(1))},
		"top_int16_default":      {cfgDefault, build(connect.NewSchemaBuilder(connect.TypeInt16).Default(int16(3))), int16(4)},

		"maps": {cfgDefault, gMaps, mapsValue()},
		"map_entry_conflict": {cfgDefault, gMapEntryConflict, put(gMapEntryConflict,
			"a", map[any]any{int32(1): "x"}, "b", map[any]any{int64(2): "y"})},
		"map_optional_keys":         {cfgDefault, gOptionalKeys, map[any]any{"k": int32(2)}},
		"map_optional_keys_allowed": {cfgOptionalMapKeys, gOptionalKeys, map[any]any{"k": int32(2)}},
		"map_optional_long_keys": {cfgDefault, build(connect.MapBuilder(connect.Int64Schema, connect.BooleanSchema).Optional()),
			map[any]any{int64(-1): true}},
		"nested": {cfgDefault, gNested, nestedValue()},
		"arrays": {cfgDefault, gArrays, put(gArrays,
			"optStrs", []any{"a", nil},
			"matrix", []any{[]any{1.5, math.Copysign(0, -1)}, []any{}},
			"points", []any{put(gPoint, "x", int32(1), "y", int32(-1))},
			"empty", []any{},
			"optArr", []any{int8(127)})},
		"meta":                     {cfgDefault, gMeta, put(gMeta, "s", "x", "i", int32(1), "avro", "y")},
		"meta_nometa":              {cfgNoMeta, gMeta, put(gMeta, "s", "x", "i", int32(1), "avro", "y")},
		"docs":                     {cfgDefault, gDocs, put(gDocs, "x", int32(1), "y", int32(2))},
		"debezium":                 {cfgDefault, gDbzEnvelope, dbzValue()},
		"debezium_scrub":           {cfgScrub, gDbzEnvelope, dbzValue()},
		"scrub":                    {cfgScrub, gScrubbed, scrubbed},
		"scrub_off":                {cfgDefault, gScrubbed, scrubbed},
		"bad_namespace":            {cfgDefault, gBadNS, put(gBadNS, "a", int32(1))},
		"bad_name":                 {cfgDefault, gBadName, put(gBadName, "a", int32(1))},
		"unicode_names":            {cfgDefault, gUnicode, put(gUnicode, "\u00e9t\u00e9", int32(1))},
		"unicode_names_scrub":      {cfgScrub, gUnicode, put(gUnicode, "\u00e9t\u00e9", int32(1))},
		"enum_union":               {cfgDefault, gEnumUnion, withEnum},
		"enum_union_enhanced":      {cfgEnhanced, gEnumUnion, withEnum},
		"nullable_default":         {cfgDefault, gNullableDefault, connect.NewStruct(gNullableDefault)},
		"nullable_default_ignored": {cfgIgnoreDefault, gNullableDefault, connect.NewStruct(gNullableDefault)},
		"unnamed": {cfgDefault, gUnnamed, put(gUnnamed, "a", int32(1), "n1", put(gUnnamedN1, "b", int32(2)),
			"m", map[any]any{int32(5): int32(6)})},
		"schemaless_long":     {cfgDefault, nil, int64(5)},
		"schemaless_int8":     {cfgDefault, nil, int8(3)},
		"schemaless_double":   {cfgDefault, nil, 1.5},
		"schemaless_string":   {cfgDefault, nil, "x"},
		"schemaless_bool":     {cfgDefault, nil, false},
		"schemaless_list":     {cfgDefault, nil, []any{int64(1), "two", nil, []any{true}}},
		"schemaless_map":      {cfgDefault, nil, map[string]any{"k": []any{int64(1), nil}}},
		"schemaless_int_keys": {cfgDefault, nil, map[any]any{int32(7): map[string]any{"in": float32(2.5)}}},
		"schemaless_bytes":    {cfgDefault, nil, []byte{1}},
		"redefine":            {cfgDefault, gRedef, put(gRedef, "a", put(gSameA, "x", int32(1)), "b", put(gSameB, "y", "y"))},
	}
}
