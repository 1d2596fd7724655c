// Gen writes the golden files that pin kconnect's Connect <-> Avro mapping (package avrodata) to
// Confluent's own io.confluent.connect.avro.AvroData (schema-registry v7.9.9, Apache Avro 1.11.4).
// Run it through gen.sh, which compiles AvroData from a schema-registry checkout.
//
// Outputs, all under the directory given as the argument:
//   fromconnect/<case>.avsc      the Avro schema AvroData.fromConnectSchema made, as Avro's
//                                Schema.toString prints it (the text a converter registers)
//   fromconnect/<case>.hex       the Avro binary encoding of AvroData.fromConnectData's result
//   fromconnect/<case>.back.txt  what AvroData.toConnectData reads back from those bytes, schema
//                                then value, in render()'s form (the form of
//                                converters/internal/golden)
//   fromconnect/<case>.err       the exception message, when AvroData refused the case
//   fromconnect/cases.txt        one line per case: name, config, the value in render()'s form
//   toconnect/<case>.avsc        an Avro schema as a producer that is not Connect writes it
//   toconnect/<case>.hex         a datum of it (given here in Avro's JSON encoding), in binary
//   toconnect/<case>.txt         the Connect schema and value AvroData.toConnectData made of it
//   toconnect/<case>.err         the exception message, when AvroData refused the case
//
// The Go test (golden_test.go) builds the same fromconnect inputs under the same names
// (golden_cases_test.go); it fails on a case present on one side only.

import io.confluent.connect.avro.AvroData;
import io.confluent.connect.avro.AvroDataConfig;
import io.confluent.kafka.serializers.NonRecordContainer;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

public class Gen {
    static final Map<String, String> DEFAULT = Map.of();
    static final Map<String, String> NO_META = Map.of("connect.meta.data", "false");
    static final Map<String, String> ENHANCED = Map.of("enhanced.avro.schema.support", "true");
    static final Map<String, String> SCRUB = Map.of("scrub.invalid.names", "true");
    static final Map<String, String> IGNORE_DEFAULT = Map.of("ignore.default.for.nullables", "true");
    static final Map<String, String> OPTIONAL_MAP_KEYS = Map.of("allow.optional.map.keys", "true");
    static final Map<String, String> NO_FLATTEN = Map.of("flatten.singleton.unions", "false");

    static Path fromDir;
    static Path toDir;
    static final StringBuilder index = new StringBuilder();

    public static void main(String[] args) throws IOException {
        Path out = Path.of(args.length > 0 ? args[0] : ".");
        fromDir = out.resolve("fromconnect");
        toDir = out.resolve("toconnect");
        Files.createDirectories(fromDir);
        Files.createDirectories(toDir);
        index.append("# java ").append(Runtime.version()).append(", avro ")
            .append(org.apache.avro.Schema.class.getPackage().getImplementationVersion()).append('\n');
        fromConnectCases();
        Files.writeString(fromDir.resolve("cases.txt"), index.toString());
        toConnectCases();
    }

    // ---- Connect -> Avro ---------------------------------------------------------------------

    static void from(String name, Map<String, String> config, Schema schema, Object value) throws IOException {
        index.append(name).append('\t').append(new TreeMap<>(config)).append('\t').append(render(value)).append('\n');
        try {
            AvroData data = new AvroData(new AvroDataConfig(config));
            org.apache.avro.Schema avro = data.fromConnectSchema(schema);
            String text = avro.toString();
            Object datum = data.fromConnectData(schema, value);
            if (datum instanceof NonRecordContainer c) datum = c.getValue();
            byte[] bytes = write(avro, datum);
            // A converter reading the record parses the registered text afresh, as here.
            org.apache.avro.Schema parsed = new org.apache.avro.Schema.Parser().parse(text);
            Object back = new GenericDatumReader<>(parsed).read(null, DecoderFactory.get().binaryDecoder(bytes, null));
            SchemaAndValue sv = new AvroData(new AvroDataConfig(config)).toConnectData(parsed, back);
            Files.writeString(fromDir.resolve(name + ".avsc"), text + "\n");
            Files.writeString(fromDir.resolve(name + ".hex"), hex(bytes) + "\n");
            Files.writeString(fromDir.resolve(name + ".back.txt"), render(sv.schema()) + "\n" + render(sv.value()) + "\n");
        } catch (RuntimeException e) {
            Files.writeString(fromDir.resolve(name + ".err"), e + "\n");
        }
    }

    static byte[] write(org.apache.avro.Schema schema, Object datum) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<Object>(schema).write(datum, enc);
        enc.flush();
        return out.toByteArray();
    }

    static final Schema PRIMITIVES = SchemaBuilder.struct().name("kconnect.golden.Primitives")
        .field("i8", Schema.INT8_SCHEMA)
        .field("i16", Schema.INT16_SCHEMA)
        .field("i32", Schema.INT32_SCHEMA)
        .field("i64", Schema.INT64_SCHEMA)
        .field("f32", Schema.FLOAT32_SCHEMA)
        .field("f64", Schema.FLOAT64_SCHEMA)
        .field("bool", Schema.BOOLEAN_SCHEMA)
        .field("str", Schema.STRING_SCHEMA)
        .field("bytes", Schema.BYTES_SCHEMA)
        .build();

    static final Schema OPTIONALS = SchemaBuilder.struct()
        .field("i8", Schema.OPTIONAL_INT8_SCHEMA)
        .field("i16", Schema.OPTIONAL_INT16_SCHEMA)
        .field("i32", Schema.OPTIONAL_INT32_SCHEMA)
        .field("i64", Schema.OPTIONAL_INT64_SCHEMA)
        .field("f32", Schema.OPTIONAL_FLOAT32_SCHEMA)
        .field("f64", Schema.OPTIONAL_FLOAT64_SCHEMA)
        .field("bool", Schema.OPTIONAL_BOOLEAN_SCHEMA)
        .field("str", Schema.OPTIONAL_STRING_SCHEMA)
        .field("bytes", Schema.OPTIONAL_BYTES_SCHEMA)
        .field("arr", SchemaBuilder.array(Schema.INT32_SCHEMA).optional().build())
        .field("map", SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.INT32_SCHEMA).optional().build())
        .field("nested", SchemaBuilder.struct().field("x", Schema.INT32_SCHEMA).optional().build())
        .build();

    static final Schema POINT = SchemaBuilder.struct().name("kconnect.golden.Point")
        .field("x", Schema.INT32_SCHEMA)
        .field("y", Schema.INT32_SCHEMA)
        .build();

    static final Schema DEFAULTS = SchemaBuilder.struct().name("kconnect.golden.Defaults")
        .field("i8", SchemaBuilder.int8().defaultValue((byte) 7).build())
        .field("i16", SchemaBuilder.int16().defaultValue((short) -300).build())
        .field("i32", SchemaBuilder.int32().optional().defaultValue(42).build())
        .field("i64", SchemaBuilder.int64().defaultValue(1L << 40).build())
        .field("f32", SchemaBuilder.float32().defaultValue(1.5f).build())
        .field("f32odd", SchemaBuilder.float32().defaultValue(0.1f).build())
        .field("f64", SchemaBuilder.float64().optional().defaultValue(-2.25).build())
        .field("f64nan", SchemaBuilder.float64().defaultValue(Double.NaN).build())
        .field("f64big", SchemaBuilder.float64().defaultValue(1e20).build())
        .field("bool", SchemaBuilder.bool().defaultValue(true).build())
        .field("str", SchemaBuilder.string().optional().defaultValue("dflt \"q\" \u00e9\n").build())
        .field("bytes", SchemaBuilder.bytes().defaultValue(new byte[] {0, 1, 0x7f, (byte) 0x80, (byte) 0xff}).build())
        .field("dec", Decimal.builder(2).optional().defaultValue(new BigDecimal("-1.05")).build())
        .field("date", Date.builder().defaultValue(new java.util.Date(19000L * 86400000L)).build())
        .field("ts", Timestamp.builder().optional().defaultValue(new java.util.Date(1700000000123L)).build())
        .field("arr", SchemaBuilder.array(Schema.STRING_SCHEMA).defaultValue(List.of("a", "b")).build())
        .field("map", SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.INT64_SCHEMA).optional()
            .defaultValue(Map.of("k", 1L)).build())
        .field("intMap", SchemaBuilder.map(Schema.INT32_SCHEMA, Schema.STRING_SCHEMA)
            .defaultValue(Map.of(1, "one")).build())
        .build();

    static final Schema LOGICAL = SchemaBuilder.struct().name("kconnect.golden.Logical")
        .field("dec2", Decimal.schema(2))
        .field("decNeg", Decimal.schema(2))
        .field("dec0", Decimal.schema(0))
        .field("decBig", Decimal.schema(5))
        .field("decPrec", Decimal.builder(2).parameter("connect.decimal.precision", "10").build())
        .field("decLegacy", Decimal.builder(5).parameter("connect.decimal.precision", "3").build())
        .field("decNegScale", Decimal.schema(-2))
        .field("decOpt", Decimal.builder(1).optional().build())
        .field("date", Date.SCHEMA)
        .field("dateOpt", Date.builder().optional().build())
        .field("time", Time.SCHEMA)
        .field("ts", Timestamp.SCHEMA)
        .field("tsOpt", Timestamp.builder().optional().build())
        .build();

    static Struct logicalValue() {
        return new Struct(LOGICAL)
            .put("dec2", new BigDecimal("12345.67"))
            .put("decNeg", new BigDecimal("-0.01"))
            .put("dec0", new BigDecimal("9223372036854775808"))
            .put("decBig", new BigDecimal("-123456789012345678901234567890.12345"))
            .put("decPrec", new BigDecimal("-99999999.99"))
            .put("decLegacy", new BigDecimal("0.00128"))
            .put("decNegScale", new BigDecimal("1.23E+4"))
            .put("date", new java.util.Date(-86400000L))
            .put("time", new java.util.Date(45296789L))
            .put("ts", new java.util.Date(-1234567L))
            .put("tsOpt", new java.util.Date(1700000000123L));
    }

    static final Schema MAPS = SchemaBuilder.struct().name("kconnect.golden.Maps")
        .field("byName", SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.INT32_SCHEMA).build())
        .field("byId", SchemaBuilder.map(Schema.INT32_SCHEMA, Schema.STRING_SCHEMA).build())
        .field("byIdAgain", SchemaBuilder.map(Schema.INT32_SCHEMA, Schema.STRING_SCHEMA).build())
        .field("named", SchemaBuilder.map(Schema.INT32_SCHEMA, Schema.STRING_SCHEMA).name("kconnect.golden.NamedMap").build())
        .field("optValues", SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.OPTIONAL_STRING_SCHEMA).build())
        .field("empty", SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.INT32_SCHEMA).build())
        .build();

    static Struct mapsValue() {
        Map<String, String> nullValue = new HashMap<>();
        nullValue.put("gone", null);
        return new Struct(MAPS)
            .put("byName", Map.of("a", 1))
            .put("byId", Map.of(7, "seven"))
            .put("byIdAgain", Map.of(-7, ""))
            .put("named", Map.of(3, "three"))
            .put("optValues", nullValue)
            .put("empty", Map.of());
    }

    static final Schema MAP_ENTRY_CONFLICT = SchemaBuilder.struct().name("kconnect.golden.MapConflict")
        .field("a", SchemaBuilder.map(Schema.INT32_SCHEMA, Schema.STRING_SCHEMA).build())
        .field("b", SchemaBuilder.map(Schema.INT64_SCHEMA, Schema.STRING_SCHEMA).build())
        .build();

    static final Schema OPTIONAL_KEYS = SchemaBuilder.map(Schema.OPTIONAL_STRING_SCHEMA, Schema.INT32_SCHEMA).build();

    static final Schema INNER = SchemaBuilder.struct().name("kconnect.golden.Inner").version(3)
        .field("id", Schema.INT64_SCHEMA)
        .field("tags", SchemaBuilder.array(Schema.STRING_SCHEMA).build())
        .build();

    static final Schema INNER_OPTIONAL = SchemaBuilder.struct().name("kconnect.golden.Inner").version(3)
        .field("id", Schema.INT64_SCHEMA)
        .field("tags", SchemaBuilder.array(Schema.STRING_SCHEMA).build())
        .optional()
        .build();

    static final Schema NESTED = SchemaBuilder.struct().name("kconnect.golden.Outer")
        .field("inner", INNER)
        .field("optInner", SchemaBuilder.struct().name("other.ns.Opt").optional()
            .field("v", Schema.STRING_SCHEMA).build())
        .field("list", SchemaBuilder.array(INNER).build())
        .field("byName", SchemaBuilder.map(Schema.STRING_SCHEMA, INNER).build())
        .field("again", INNER)
        .field("optAgain", INNER_OPTIONAL)
        .field("anon1", SchemaBuilder.struct().field("a", Schema.INT32_SCHEMA).build())
        .field("anon2", SchemaBuilder.struct().field("b", Schema.STRING_SCHEMA).optional().build())
        .build();

    static Struct inner(long id, String... tags) {
        return new Struct(INNER).put("id", id).put("tags", List.of(tags));
    }

    static Struct nestedValue() {
        return new Struct(NESTED)
            .put("inner", inner(1, "a", "b"))
            .put("list", List.of(inner(2), inner(3, "c")))
            .put("byName", Map.of("x", inner(4, "d")))
            .put("again", inner(5))
            .put("optAgain", new Struct(INNER_OPTIONAL).put("id", 6L).put("tags", List.of("e")))
            .put("anon1", new Struct(NESTED.field("anon1").schema()).put("a", 7));
    }

    static final Schema META = SchemaBuilder.struct().name("kconnect.golden.Meta").version(2).doc("A record")
        .parameter("a", "1").parameter("b", "two")
        .field("s", SchemaBuilder.string().doc("a string").version(1).parameter("p", "q").build())
        .field("i", SchemaBuilder.int32().parameter("x", "y").build())
        .field("avro", SchemaBuilder.string().parameter("avro.java.string", "String").build())
        .build();

    static final Schema DOCS = SchemaBuilder.struct().name("kconnect.golden.Docs")
        .parameter("io.confluent.connect.avro.record.doc", "record doc")
        .parameter("io.confluent.connect.avro.field.doc.x", "field doc")
        .field("x", Schema.INT32_SCHEMA)
        .field("y", Schema.INT32_SCHEMA)
        .build();

    static final Schema DBZ_VALUE = SchemaBuilder.struct().name("dbserver1.inventory.customers.Value").optional()
        .field("id", Schema.INT32_SCHEMA)
        .field("first_name", Schema.STRING_SCHEMA)
        .field("email", Schema.OPTIONAL_STRING_SCHEMA)
        .field("balance", Decimal.builder(2).optional().parameter("connect.decimal.precision", "10").build())
        .field("created", SchemaBuilder.int64().name("io.debezium.time.MicroTimestamp").version(1).optional().build())
        .field("born", Date.builder().optional().build())
        .field("doc", SchemaBuilder.string().name("io.debezium.data.Json").version(1).optional().build())
        .build();

    static final Schema DBZ_SOURCE = SchemaBuilder.struct().name("io.debezium.connector.postgresql.Source")
        .field("version", Schema.STRING_SCHEMA)
        .field("connector", Schema.STRING_SCHEMA)
        .field("name", Schema.STRING_SCHEMA)
        .field("ts_ms", Schema.INT64_SCHEMA)
        .field("snapshot", SchemaBuilder.string().optional().name("io.debezium.data.Enum").version(1)
            .parameter("allowed", "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental")
            .defaultValue("false").build())
        .field("db", Schema.STRING_SCHEMA)
        .field("sequence", Schema.OPTIONAL_STRING_SCHEMA)
        .field("schema", Schema.STRING_SCHEMA)
        .field("table", Schema.STRING_SCHEMA)
        .field("txId", Schema.OPTIONAL_INT64_SCHEMA)
        .field("lsn", Schema.OPTIONAL_INT64_SCHEMA)
        .field("xmin", Schema.OPTIONAL_INT64_SCHEMA)
        .build();

    static final Schema DBZ_BLOCK = SchemaBuilder.struct().name("event.block").version(1).optional()
        .field("id", Schema.STRING_SCHEMA)
        .field("total_order", Schema.INT64_SCHEMA)
        .field("data_collection_order", Schema.INT64_SCHEMA)
        .build();

    static final Schema DBZ_ENVELOPE = SchemaBuilder.struct().name("dbserver1.inventory.customers.Envelope").version(2)
        .field("before", DBZ_VALUE)
        .field("after", DBZ_VALUE)
        .field("source", DBZ_SOURCE)
        .field("transaction", DBZ_BLOCK)
        .field("op", Schema.STRING_SCHEMA)
        .field("ts_ms", Schema.OPTIONAL_INT64_SCHEMA)
        .field("ts_us", Schema.OPTIONAL_INT64_SCHEMA)
        .field("ts_ns", Schema.OPTIONAL_INT64_SCHEMA)
        .build();

    static Struct dbzValue() {
        Struct after = new Struct(DBZ_VALUE).put("id", 1001).put("first_name", "Sally")
            .put("balance", new BigDecimal("10.50")).put("created", 1700000000123456L)
            .put("born", new java.util.Date(3653L * 86400000L)).put("doc", "{\"a\":1}");
        Struct source = new Struct(DBZ_SOURCE).put("version", "2.7.0.Final").put("connector", "postgresql")
            .put("name", "dbserver1").put("ts_ms", 1700000000000L).put("snapshot", "false").put("db", "postgres")
            .put("sequence", "[\"24023928\",\"24023928\"]").put("schema", "inventory").put("table", "customers")
            .put("txId", 555L).put("lsn", 24023928L);
        return new Struct(DBZ_ENVELOPE).put("after", after).put("source", source).put("op", "c")
            .put("ts_ms", 1700000000999L);
    }

    static final Schema SCRUBBED_INNER = SchemaBuilder.struct().name("my-server.x.In-ner").optional()
        .field("a-b", Schema.INT32_SCHEMA).build();
    static final Schema SCRUBBED = SchemaBuilder.struct().name("my-server.public.orders-2024.Value")
        .field("first-name", Schema.INT32_SCHEMA)
        .field("1st", Schema.STRING_SCHEMA)
        .field("ok_name", Schema.STRING_SCHEMA)
        .field("in", SCRUBBED_INNER)
        .build();

    static final Schema COLOR = SchemaBuilder.string().name("kconnect.golden.Color")
        .parameter("io.confluent.connect.avro.Enum", "kconnect.golden.Color")
        .parameter("io.confluent.connect.avro.Enum.RED", "RED")
        .parameter("io.confluent.connect.avro.Enum.GREEN", "GREEN")
        .parameter("io.confluent.connect.avro.Enum.BLUE", "BLUE")
        .build();
    static final Schema CHOICE = SchemaBuilder.struct().name("io.confluent.connect.avro.Union").optional()
        .field("int", Schema.OPTIONAL_INT32_SCHEMA)
        .field("string", Schema.OPTIONAL_STRING_SCHEMA)
        .field("Point", SchemaBuilder.struct().name("kconnect.golden.Point").optional()
            .field("x", Schema.INT32_SCHEMA).field("y", Schema.INT32_SCHEMA).build())
        .build();
    static final Schema ENUM_UNION = SchemaBuilder.struct().name("kconnect.golden.WithEnum")
        .field("color", COLOR)
        .field("choice", CHOICE)
        .field("choice2", CHOICE)
        .build();

    static final Schema NULLABLE_DEFAULT = SchemaBuilder.struct().name("kconnect.golden.NullableDefault")
        .field("s", SchemaBuilder.string().optional().defaultValue("d").build())
        .field("i", SchemaBuilder.int32().optional().defaultValue(5).build())
        .build();

    static final Schema UNNAMED = SchemaBuilder.struct()
        .field("a", Schema.INT32_SCHEMA)
        .field("n1", SchemaBuilder.struct().field("b", Schema.INT32_SCHEMA).build())
        .field("n2", SchemaBuilder.struct().field("c", Schema.INT32_SCHEMA).optional().build())
        .field("m", SchemaBuilder.map(Schema.INT32_SCHEMA, Schema.INT32_SCHEMA).build())
        .build();

    static final Schema ARRAYS = SchemaBuilder.struct().name("kconnect.golden.Arrays")
        .field("optStrs", SchemaBuilder.array(Schema.OPTIONAL_STRING_SCHEMA).build())
        .field("matrix", SchemaBuilder.array(SchemaBuilder.array(Schema.FLOAT64_SCHEMA).build()).build())
        .field("points", SchemaBuilder.array(POINT).build())
        .field("empty", SchemaBuilder.array(Schema.INT64_SCHEMA).build())
        .field("optArr", SchemaBuilder.array(Schema.INT8_SCHEMA).optional().build())
        .build();

    static final Schema REDEFINE = SchemaBuilder.struct().name("kconnect.golden.Redefine")
        .field("a", SchemaBuilder.struct().name("kconnect.golden.Same").field("x", Schema.INT32_SCHEMA).build())
        .field("b", SchemaBuilder.struct().name("kconnect.golden.Same").field("y", Schema.STRING_SCHEMA).build())
        .build();

    static final Schema TOP_OPT_STRUCT = SchemaBuilder.struct().name("kconnect.golden.TopOpt").optional()
        .field("v", Schema.INT32_SCHEMA).build();

    static void fromConnectCases() throws IOException {
        from("primitives", DEFAULT, PRIMITIVES, new Struct(PRIMITIVES)
            .put("i8", (byte) -8).put("i16", (short) -1600).put("i32", 123456).put("i64", -(1L << 40))
            .put("f32", 1.5f).put("f64", -2.25e10).put("bool", true).put("str", "h\u00e9llo \"q\"")
            .put("bytes", new byte[] {0, 1, (byte) 0xff}));
        from("primitives_nometa", NO_META, PRIMITIVES, new Struct(PRIMITIVES)
            .put("i8", (byte) 8).put("i16", (short) 16).put("i32", 32).put("i64", 64L)
            .put("f32", -0.5f).put("f64", 0.1).put("bool", false).put("str", "").put("bytes", new byte[0]));

        from("optionals_null", DEFAULT, OPTIONALS, new Struct(OPTIONALS));
        from("optionals_set", DEFAULT, OPTIONALS, new Struct(OPTIONALS)
            .put("i8", (byte) 1).put("i16", (short) 2).put("i32", 3).put("i64", 4L).put("f32", 5f).put("f64", 6d)
            .put("bool", true).put("str", "s").put("bytes", new byte[] {9}).put("arr", List.of(1, 2))
            .put("map", Map.of("k", 3)).put("nested", new Struct(OPTIONALS.field("nested").schema()).put("x", 4)));

        from("defaults_unset", DEFAULT, DEFAULTS, new Struct(DEFAULTS));
        from("defaults_nometa", NO_META, DEFAULTS, new Struct(DEFAULTS));

        from("logical", DEFAULT, LOGICAL, logicalValue());
        from("logical_nometa", NO_META, LOGICAL, logicalValue());

        from("top_int8", DEFAULT, Schema.INT8_SCHEMA, (byte) -5);
        from("top_int16", DEFAULT, Schema.INT16_SCHEMA, (short) 300);
        from("top_int32", DEFAULT, Schema.INT32_SCHEMA, -70000);
        from("top_int64", DEFAULT, Schema.INT64_SCHEMA, Long.MIN_VALUE);
        from("top_float32", DEFAULT, Schema.FLOAT32_SCHEMA, 3.25f);
        from("top_float64", DEFAULT, Schema.FLOAT64_SCHEMA, Double.MAX_VALUE);
        from("top_boolean", DEFAULT, Schema.BOOLEAN_SCHEMA, true);
        from("top_string", DEFAULT, Schema.STRING_SCHEMA, "\u65e5\u672c");
        from("top_bytes", DEFAULT, Schema.BYTES_SCHEMA, new byte[] {1, 2, 3});
        from("top_opt_string", DEFAULT, Schema.OPTIONAL_STRING_SCHEMA, "x");
        from("top_opt_string_default", DEFAULT, SchemaBuilder.string().optional().defaultValue("d").build(), "x");
        from("top_decimal", DEFAULT, Decimal.schema(3), new BigDecimal("1.234"));
        from("top_date", DEFAULT, Date.SCHEMA, new java.util.Date(86400000L * 20000));
        from("top_time", DEFAULT, Time.SCHEMA, new java.util.Date(1000L));
        from("top_timestamp", DEFAULT, Timestamp.SCHEMA, new java.util.Date(1700000000123L));
        from("top_array", DEFAULT, SchemaBuilder.array(Schema.STRING_SCHEMA).build(), List.of("a", "", "c"));
        from("top_map", DEFAULT, SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.INT64_SCHEMA).build(), Map.of("k", 9L));
        from("top_map_int_keys", DEFAULT, SchemaBuilder.map(Schema.INT32_SCHEMA, Schema.STRING_SCHEMA).build(), Map.of(1, "one"));
        from("top_named_string", DEFAULT, SchemaBuilder.string().name("io.debezium.data.Json").version(1).build(), "{}");
        from("top_string_meta", DEFAULT, SchemaBuilder.string().doc("some doc").parameter("k", "v").build(), "v");
        from("top_opt_struct", DEFAULT, TOP_OPT_STRUCT, new Struct(TOP_OPT_STRUCT).put("v", 1));
        from("top_int16_default", DEFAULT, SchemaBuilder.int16().defaultValue((short) 3).build(), (short) 4);

        from("maps", DEFAULT, MAPS, mapsValue());
        from("map_entry_conflict", DEFAULT, MAP_ENTRY_CONFLICT, new Struct(MAP_ENTRY_CONFLICT)
            .put("a", Map.of(1, "x")).put("b", Map.of(2L, "y")));
        from("map_optional_keys", DEFAULT, OPTIONAL_KEYS, Map.of("k", 2));
        from("map_optional_keys_allowed", OPTIONAL_MAP_KEYS, OPTIONAL_KEYS, Map.of("k", 2));
        from("map_optional_long_keys", DEFAULT, SchemaBuilder.map(Schema.INT64_SCHEMA, Schema.BOOLEAN_SCHEMA).optional().build(),
            Map.of(-1L, true));
        from("nested", DEFAULT, NESTED, nestedValue());
        from("arrays", DEFAULT, ARRAYS, new Struct(ARRAYS)
            .put("optStrs", Arrays.asList("a", null))
            .put("matrix", List.of(List.of(1.5, -0.0), List.of()))
            .put("points", List.of(new Struct(POINT).put("x", 1).put("y", -1)))
            .put("empty", List.of())
            .put("optArr", List.of((byte) 127)));
        from("meta", DEFAULT, META, new Struct(META).put("s", "x").put("i", 1).put("avro", "y"));
        from("meta_nometa", NO_META, META, new Struct(META).put("s", "x").put("i", 1).put("avro", "y"));
        from("docs", DEFAULT, DOCS, new Struct(DOCS).put("x", 1).put("y", 2));
        from("debezium", DEFAULT, DBZ_ENVELOPE, dbzValue());
        from("debezium_scrub", SCRUB, DBZ_ENVELOPE, dbzValue());
        Struct scrubbed = new Struct(SCRUBBED).put("first-name", 1).put("1st", "one").put("ok_name", "ok")
            .put("in", new Struct(SCRUBBED_INNER).put("a-b", 2));
        from("scrub", SCRUB, SCRUBBED, scrubbed);
        from("scrub_off", DEFAULT, SCRUBBED, scrubbed);
        Schema badNamespace = SchemaBuilder.struct().name("my-server.public.Value").field("a", Schema.INT32_SCHEMA).build();
        from("bad_namespace", DEFAULT, badNamespace, new Struct(badNamespace).put("a", 1));
        Schema badName = SchemaBuilder.struct().name("ok.Bad-Name").field("a", Schema.INT32_SCHEMA).build();
        from("bad_name", DEFAULT, badName, new Struct(badName).put("a", 1));
        Schema unicodeNames = SchemaBuilder.struct().name("caf\u00e9.R\u00e9sum\u00e9").field("\u00e9t\u00e9", Schema.INT32_SCHEMA).build();
        from("unicode_names", DEFAULT, unicodeNames, new Struct(unicodeNames).put("\u00e9t\u00e9", 1));
        from("unicode_names_scrub", SCRUB, unicodeNames, new Struct(unicodeNames).put("\u00e9t\u00e9", 1));
        Struct withEnum = new Struct(ENUM_UNION).put("color", "GREEN")
            .put("choice", new Struct(CHOICE).put("string", "hi"))
            .put("choice2", new Struct(CHOICE).put("Point", new Struct(CHOICE.field("Point").schema()).put("x", 1).put("y", 2)));
        from("enum_union", DEFAULT, ENUM_UNION, withEnum);
        from("enum_union_enhanced", ENHANCED, ENUM_UNION, withEnum);
        from("nullable_default", DEFAULT, NULLABLE_DEFAULT, new Struct(NULLABLE_DEFAULT));
        from("nullable_default_ignored", IGNORE_DEFAULT, NULLABLE_DEFAULT, new Struct(NULLABLE_DEFAULT));
        from("unnamed", DEFAULT, UNNAMED, new Struct(UNNAMED).put("a", 1)
            .put("n1", new Struct(UNNAMED.field("n1").schema()).put("b", 2)).put("m", Map.of(5, 6)));
        // Values without a schema travel in the io.confluent.connect.avro.Anything record.
        from("schemaless_long", DEFAULT, null, 5L);
        from("schemaless_int8", DEFAULT, null, (byte) 3);
        from("schemaless_double", DEFAULT, null, 1.5);
        from("schemaless_string", DEFAULT, null, "x");
        from("schemaless_bool", DEFAULT, null, false);
        from("schemaless_list", DEFAULT, null, Arrays.asList(1L, "two", null, List.of(true)));
        Map<String, Object> schemaless = new HashMap<>();
        schemaless.put("k", Arrays.asList(1L, null));
        from("schemaless_map", DEFAULT, null, schemaless);
        from("schemaless_int_keys", DEFAULT, null, Map.of(7, Map.of("in", 2.5f)));
        from("schemaless_bytes", DEFAULT, null, new byte[] {1});
        from("redefine", DEFAULT, REDEFINE, new Struct(REDEFINE)
            .put("a", new Struct(REDEFINE.field("a").schema()).put("x", 1))
            .put("b", new Struct(REDEFINE.field("b").schema()).put("y", "y")));
    }

    // ---- Avro -> Connect ---------------------------------------------------------------------

    static void to(String name, Map<String, String> config, String schemaJson, String datumJson) throws IOException {
        Files.writeString(toDir.resolve(name + ".avsc"), schemaJson + "\n");
        try {
            org.apache.avro.Schema schema = new org.apache.avro.Schema.Parser().parse(schemaJson);
            Object datum = new GenericDatumReader<>(schema).read(null, DecoderFactory.get().jsonDecoder(schema, datumJson));
            byte[] bytes = write(schema, datum);
            Files.writeString(toDir.resolve(name + ".hex"), hex(bytes) + "\n");
            Files.writeString(toDir.resolve(name + ".config"), new TreeMap<>(config) + "\n");
            Object back = new GenericDatumReader<>(schema).read(null, DecoderFactory.get().binaryDecoder(bytes, null));
            SchemaAndValue sv = new AvroData(new AvroDataConfig(config)).toConnectData(schema, back);
            Files.writeString(toDir.resolve(name + ".txt"), render(sv.schema()) + "\n" + render(sv.value()) + "\n");
        } catch (RuntimeException e) {
            Files.writeString(toDir.resolve(name + ".err"), e + "\n");
        }
    }

    static final String USER = """
        {"type":"record","name":"User","namespace":"com.example","doc":"a user","fields":[
          {"name":"id","type":"long"},
          {"name":"name","type":"string"},
          {"name":"email","type":["null","string"],"default":null},
          {"name":"active","type":"boolean","default":true},
          {"name":"score","type":"double"},
          {"name":"ratio","type":"float"},
          {"name":"raw","type":"bytes"},
          {"name":"age","type":"int","doc":"years"},
          {"name":"nick","type":{"type":"string","avro.java.string":"String"}}]}""";

    static final String LOGICAL_TYPES = """
        {"type":"record","name":"Logical","namespace":"com.example","fields":[
          {"name":"date","type":{"type":"int","logicalType":"date"}},
          {"name":"timeMs","type":{"type":"int","logicalType":"time-millis"}},
          {"name":"timeUs","type":{"type":"long","logicalType":"time-micros"}},
          {"name":"tsMs","type":{"type":"long","logicalType":"timestamp-millis"}},
          {"name":"tsUs","type":{"type":"long","logicalType":"timestamp-micros"}},
          {"name":"localTs","type":{"type":"long","logicalType":"local-timestamp-millis"}},
          {"name":"dec","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},
          {"name":"decDefaultPrecision","type":{"type":"bytes","logicalType":"decimal","precision":64,"scale":1}},
          {"name":"decNoScale","type":{"type":"bytes","logicalType":"decimal","precision":5}},
          {"name":"decFixed","type":{"type":"fixed","name":"DecFixed","size":8,"logicalType":"decimal","precision":18,"scale":4}},
          {"name":"uuid","type":{"type":"string","logicalType":"uuid"}},
          {"name":"optTs","type":["null",{"type":"long","logicalType":"timestamp-millis"}],"default":null}]}""";

    static final String SUIT = """
        {"type":"record","name":"Card","namespace":"com.example","fields":[
          {"name":"suit","type":{"type":"enum","name":"Suit","doc":"suits","symbols":["SPADES","HEARTS","CLUBS"],"default":"SPADES"}},
          {"name":"optSuit","type":["null","Suit"],"default":null}]}""";

    static final String UNIONS = """
        {"type":"record","name":"Unions","namespace":"com.example","fields":[
          {"name":"a","type":["null","int","string"]},
          {"name":"b","type":["int","string"]},
          {"name":"c","type":["string","null"],"default":"x"},
          {"name":"d","type":["null",{"type":"record","name":"Inner","fields":[{"name":"v","type":"int"}]}],"default":null},
          {"name":"e","type":["Inner",{"type":"record","name":"Other","namespace":"org.other","fields":[{"name":"w","type":"string"}]}]},
          {"name":"f","type":["long","boolean"]}]}""";

    static final String NESTED_REFS = """
        {"type":"record","name":"Outer","namespace":"com.ex","fields":[
          {"name":"a","type":{"type":"record","name":"Inner","fields":[{"name":"x","type":"int"}]}},
          {"name":"b","type":"Inner"},
          {"name":"c","type":{"type":"array","items":"com.ex.Inner"}},
          {"name":"d","type":{"type":"map","values":"Inner"}},
          {"name":"e","type":{"type":"record","name":"Other","namespace":"org.other","fields":[
            {"name":"f","type":"com.ex.Inner"},
            {"name":"g","type":{"type":"record","name":"Deep","fields":[{"name":"h","type":"string"}]}}]}},
          {"name":"i","type":"org.other.Deep"}]}""";

    static final String FIXED = """
        {"type":"record","name":"Hashes","namespace":"com.ex","fields":[
          {"name":"md5","type":{"type":"fixed","name":"MD5","size":4}},
          {"name":"other","type":"MD5"}]}""";

    static final String DEFAULTS_AVRO = """
        {"type":"record","name":"Defaults","namespace":"com.ex","fields":[
          {"name":"i","type":"int","default":1},
          {"name":"l","type":"long","default":2},
          {"name":"f","type":"float","default":1.5},
          {"name":"d","type":"double","default":2.5},
          {"name":"b","type":"boolean","default":true},
          {"name":"s","type":"string","default":"s"},
          {"name":"by","type":"bytes","default":"\\u00ff\\u0000A"},
          {"name":"arr","type":{"type":"array","items":"int"},"default":[1,2]},
          {"name":"map","type":{"type":"map","values":"int"},"default":{"a":1}},
          {"name":"rec","type":{"type":"record","name":"R","fields":[{"name":"x","type":"int"}]},"default":{"x":1}},
          {"name":"en","type":{"type":"enum","name":"E","symbols":["A","B"]},"default":"B"},
          {"name":"un","type":["int","null"],"default":5},
          {"name":"dt","type":{"type":"int","logicalType":"date"},"default":3},
          {"name":"dec","type":{"type":"bytes","logicalType":"decimal","precision":4,"scale":2},"default":"\\u0001\\u0000"}]}""";

    static final String CONNECT_PROPS = """
        {"type":"record","name":"ConnectProps","namespace":"com.ex","fields":[
          {"name":"small","type":{"type":"int","connect.type":"int16"}},
          {"name":"tiny","type":{"type":"int","connect.type":"int8","connect.default":3},"default":3},
          {"name":"named","type":{"type":"string","connect.name":"io.debezium.data.Json","connect.version":1,"connect.doc":"json","connect.parameters":{"z":"1","a":"2"}}},
          {"name":"entries","type":{"type":"array","items":{"type":"record","name":"MapEntry","namespace":"io.confluent.connect.avro","fields":[{"name":"key","type":"int"},{"name":"value","type":"string"}]}}}],
         "connect.version":7,"connect.name":"com.ex.ConnectProps"}""";

    static void toConnectCases() throws IOException {
        String user = "{\"id\":1,\"name\":\"n\",\"email\":{\"string\":\"e@x\"},\"active\":false,\"score\":0.5,\"ratio\":0.25,"
            + "\"raw\":\"\\u0001\\u00ff\",\"age\":30,\"nick\":\"nn\"}";
        to("user", DEFAULT, USER, user);
        to("user_nometa", NO_META, USER, user);
        String logical = "{\"date\":19000,\"timeMs\":3723004,\"timeUs\":3723004005,\"tsMs\":1700000000123,"
            + "\"tsUs\":1700000000123456,\"localTs\":5,\"dec\":\"\\u0004\\u00d2\",\"decDefaultPrecision\":\"\\u00ff\","
            + "\"decNoScale\":\"\\u0007\",\"decFixed\":\"\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\\u0030\\u0039\","
            + "\"uuid\":\"f81d4fae-7dec-11d0-a765-00a0c91e6bf6\",\"optTs\":{\"long\":-1}}";
        to("logical", DEFAULT, LOGICAL_TYPES, logical);
        String card = "{\"suit\":\"HEARTS\",\"optSuit\":{\"com.example.Suit\":\"CLUBS\"}}";
        to("enum", DEFAULT, SUIT, card);
        to("enum_enhanced", ENHANCED, SUIT, card);
        to("enum_nometa", NO_META, SUIT, card);
        String unions = "{\"a\":{\"string\":\"s\"},\"b\":{\"int\":3},\"c\":{\"string\":\"y\"},\"d\":{\"com.example.Inner\":{\"v\":1}},"
            + "\"e\":{\"org.other.Other\":{\"w\":\"w\"}},\"f\":{\"boolean\":true}}";
        to("unions", DEFAULT, UNIONS, unions);
        to("unions_enhanced", ENHANCED, UNIONS, unions);
        to("unions_null", DEFAULT, UNIONS, "{\"a\":null,\"b\":{\"string\":\"t\"},\"c\":null,\"d\":null,"
            + "\"e\":{\"com.example.Inner\":{\"v\":2}},\"f\":{\"long\":-3}}");
        to("nested_refs", DEFAULT, NESTED_REFS, "{\"a\":{\"x\":1},\"b\":{\"x\":2},\"c\":[{\"x\":3}],\"d\":{\"k\":{\"x\":4}},"
            + "\"e\":{\"f\":{\"x\":5},\"g\":{\"h\":\"h\"}},\"i\":{\"h\":\"i\"}}");
        to("fixed", DEFAULT, FIXED, "{\"md5\":\"\\u0001\\u0002\\u0003\\u0004\",\"other\":\"abcd\"}");
        to("fixed_enhanced", ENHANCED, FIXED, "{\"md5\":\"\\u0001\\u0002\\u0003\\u0004\",\"other\":\"abcd\"}");
        to("defaults", DEFAULT, DEFAULTS_AVRO, "{\"i\":9,\"l\":9,\"f\":9,\"d\":9,\"b\":false,\"s\":\"t\",\"by\":\"\",\"arr\":[],"
            + "\"map\":{},\"rec\":{\"x\":9},\"en\":\"A\",\"un\":null,\"dt\":0,\"dec\":\"\\u0000\"}");
        to("defaults_nometa", NO_META, DEFAULTS_AVRO, "{\"i\":9,\"l\":9,\"f\":9,\"d\":9,\"b\":false,\"s\":\"t\",\"by\":\"\",\"arr\":[],"
            + "\"map\":{},\"rec\":{\"x\":9},\"en\":\"A\",\"un\":null,\"dt\":0,\"dec\":\"\\u0000\"}");
        to("connect_props", DEFAULT, CONNECT_PROPS, "{\"small\":-2,\"tiny\":1,\"named\":\"[]\",\"entries\":[{\"key\":1,\"value\":\"a\"}]}");
        to("singleton_union", DEFAULT,
            "{\"type\":\"record\",\"name\":\"S\",\"fields\":[{\"name\":\"u\",\"type\":[\"string\"]}]}", "{\"u\":{\"string\":\"x\"}}");
        to("singleton_union_kept", NO_FLATTEN,
            "{\"type\":\"record\",\"name\":\"S\",\"fields\":[{\"name\":\"u\",\"type\":[\"string\"]}]}", "{\"u\":{\"string\":\"x\"}}");
        to("top_string", DEFAULT, "\"string\"", "\"x\"");
        to("top_long_union", DEFAULT, "[\"null\",\"long\"]", "{\"long\":5}");
        to("top_array", DEFAULT, "{\"type\":\"array\",\"items\":\"int\"}", "[1,2,3]");
        to("top_map", DEFAULT, "{\"type\":\"map\",\"values\":[\"null\",\"string\"]}", "{\"a\":{\"string\":\"b\"},\"n\":null}");
        to("top_enum", DEFAULT, "{\"type\":\"enum\",\"name\":\"Top\",\"symbols\":[\"X\",\"Y\"]}", "\"Y\"");
        to("aliases", DEFAULT, "{\"type\":\"record\",\"name\":\"A\",\"aliases\":[\"B\"],\"fields\":[{\"name\":\"f\",\"aliases\":[\"g\"],\"type\":\"int\",\"order\":\"descending\"}]}",
            "{\"f\":1}");
    }

    // ---- rendering, as converters/internal/golden renders ------------------------------------

    static String hex(byte[] bytes) {
        StringBuilder b = new StringBuilder();
        for (byte by : bytes) b.append(String.format("%02x", by));
        return b.toString();
    }

    static String render(Schema s) {
        if (s == null) return "null";
        StringBuilder b = new StringBuilder(s.type().getName());
        if (s.isOptional()) b.append('?');
        if (s.name() != null) b.append('<').append(s.name()).append('>');
        if (s.version() != null) b.append(" v").append(s.version());
        if (s.doc() != null) b.append(" doc=").append(s.doc());
        if (s.parameters() != null && !s.parameters().isEmpty()) b.append(" params=").append(s.parameters());
        if (s.defaultValue() != null) b.append(" default=").append(render(s.defaultValue()));
        switch (s.type()) {
            case ARRAY -> b.append(" [").append(render(s.valueSchema())).append(']');
            case MAP -> b.append(" (").append(render(s.keySchema())).append(" -> ").append(render(s.valueSchema())).append(')');
            case STRUCT -> {
                b.append(" {");
                String sep = "";
                for (Field f : s.fields()) {
                    b.append(sep).append(f.name()).append(": ").append(render(f.schema()));
                    sep = ", ";
                }
                b.append('}');
            }
            default -> { }
        }
        return b.toString();
    }

    static String render(Object v) {
        if (v == null) return "null";
        if (v instanceof Byte x) return "i8:" + x;
        if (v instanceof Short x) return "i16:" + x;
        if (v instanceof Integer x) return "i32:" + x;
        if (v instanceof Long x) return "i64:" + x;
        if (v instanceof Float x) return "f32:" + x;
        if (v instanceof Double x) return "f64:" + x;
        if (v instanceof Boolean x) return "bool:" + x;
        if (v instanceof String x) return "str:\"" + x + "\"";
        if (v instanceof BigDecimal x) return "dec:" + x.unscaledValue() + "e" + (-x.scale());
        if (v instanceof java.util.Date x) return "time:" + x.getTime();
        if (v instanceof ByteBuffer x) {
            ByteBuffer d = x.duplicate();
            byte[] bytes = new byte[d.remaining()];
            d.get(bytes);
            return render(bytes);
        }
        if (v instanceof byte[] x) return "bytes:" + hex(x);
        if (v instanceof List<?> x) {
            List<String> parts = new ArrayList<>();
            for (Object e : x) parts.add(render(e));
            return "[" + String.join(", ", parts) + "]";
        }
        if (v instanceof Map<?, ?> x) {
            List<String> parts = new ArrayList<>();
            for (Map.Entry<?, ?> e : x.entrySet()) parts.add(render(e.getKey()) + "=" + render(e.getValue()));
            parts.sort(null);
            return "{" + String.join(", ", parts) + "}";
        }
        if (v instanceof Struct x) {
            List<String> parts = new ArrayList<>();
            for (Field f : x.schema().fields()) parts.add(f.name() + "=" + render(x.get(f)));
            return "struct{" + String.join(", ", parts) + "}";
        }
        return "?" + v.getClass().getName();
    }
}
