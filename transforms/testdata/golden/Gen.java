// Gen writes golden.json: what Apache Kafka's and Debezium's own transforms and predicates make of
// the records in cases.json, so kconnect's transforms are compared with the real thing.
//
// Regenerate (needs Maven and a JDK 17 or newer; run from this directory):
//
//   mvn -q dependency:build-classpath -Dmdep.outputFile=/tmp/tgolden-cp.txt
//   javac --release 17 -cp "$(cat /tmp/tgolden-cp.txt)" -d /tmp/tgolden-classes Gen.java
//   java -cp "/tmp/tgolden-classes:$(cat /tmp/tgolden-cp.txt)" Gen .
//
// and with Debezium 2.7 for the cases of its deprecated delete handling keys (unwrap/legacy-*):
//
//   mvn -q -f pom-debezium2.xml dependency:build-classpath -Dmdep.outputFile=/tmp/tgolden2-cp.txt
//   java -cp "/tmp/tgolden-classes:$(cat /tmp/tgolden2-cp.txt)" Gen . golden-debezium2.json unwrap/legacy-
//
// cases.json holds named records and a list of cases, each with a name, the plugin's class, its
// config, and the names of the records to feed it. A record has a topic, a partition and a
// timestamp (each may be null), an offset (present for a sink record, absent for a source record),
// key and value as JsonConverter envelopes ({"schema":…,"payload":…}, absent for null) and headers
// as [{"key":…,"value":envelope}].
// golden.json holds, per case, either the configure error or one output per record: the
// transformed record in the same shape, {"dropped":true}, a predicate's boolean, or
// {"error":{"class":…,"message":…}}. One plugin instance serves all records of a case, so cases
// also pin schema caching. The Go test (golden_test.go) reads both files.

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.header.ConnectHeaders;
import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.transforms.Transformation;
import org.apache.kafka.connect.transforms.predicates.Predicate;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TimeZone;
import java.util.TreeMap;

public class Gen {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final JsonConverter CONVERTER = new JsonConverter();

    public static void main(String[] args) throws Exception {
        TimeZone.setDefault(TimeZone.getTimeZone("UTC"));
        CONVERTER.configure(Map.of("schemas.enable", "true", "converter.type", "value"));
        Path dir = Path.of(args.length > 0 ? args[0] : ".");
        String output = args.length > 1 ? args[1] : "golden.json";
        String only = args.length > 2 ? args[2] : "";
        JsonNode root = JSON.readTree(dir.resolve("cases.json").toFile());
        Map<String, JsonNode> out = new TreeMap<>();
        out.put("_generated_by", NODES.textNode("kafka " + org.apache.kafka.common.utils.AppInfoParser.getVersion()
            + ", debezium " + io.debezium.transforms.ExtractNewRecordState.class.getPackage().getImplementationVersion()
            + ", java " + Runtime.version().feature()));
        for (JsonNode c : root.get("cases")) {
            if (c.get("name").asText().startsWith(only)) {
                out.put(c.get("name").asText(), run(c, root.get("records")));
            }
        }
        // One case a line, so a regenerated file diffs by case.
        StringBuilder b = new StringBuilder("{\n");
        for (Map.Entry<String, JsonNode> e : out.entrySet()) {
            b.append(b.length() > 2 ? ",\n" : "").append(JSON.writeValueAsString(e.getKey())).append(": ")
                .append(JSON.writeValueAsString(e.getValue()));
        }
        Files.writeString(dir.resolve(output), b.append("\n}\n").toString());
    }

    @SuppressWarnings({"rawtypes", "unchecked"})
    private static JsonNode run(JsonNode c, JsonNode records) throws Exception {
        ObjectNode result = NODES.objectNode();
        Map<String, String> config = new LinkedHashMap<>();
        c.path("config").fields().forEachRemaining(e -> config.put(e.getKey(), e.getValue().asText()));
        Object plugin = Class.forName(c.get("class").asText()).getDeclaredConstructor().newInstance();
        try {
            if (plugin instanceof Predicate) {
                ((Predicate) plugin).configure(config);
            } else {
                ((Transformation) plugin).configure(config);
            }
        } catch (Exception e) {
            result.set("configure_error", error(e));
            return result;
        }
        ArrayNode outputs = result.putArray("outputs");
        for (JsonNode name : c.path("records")) {
            ConnectRecord rec = record(records.get(name.asText()));
            try {
                if (plugin instanceof Predicate) {
                    outputs.add(((Predicate) plugin).test(rec));
                    continue;
                }
                ConnectRecord o = ((Transformation) plugin).apply(rec);
                outputs.add(o == null ? NODES.objectNode().put("dropped", true) : render(o));
            } catch (Exception e) {
                outputs.add(NODES.objectNode().set("error", error(e)));
            }
        }
        return result;
    }

    private static ObjectNode error(Exception e) {
        ObjectNode n = NODES.objectNode();
        n.put("class", e.getClass().getName());
        n.put("message", e.getMessage());
        return n;
    }

    private static SchemaAndValue read(String topic, JsonNode envelope) throws Exception {
        if (envelope == null || envelope.isNull()) {
            return SchemaAndValue.NULL;
        }
        return CONVERTER.toConnectData(topic, JSON.writeValueAsBytes(envelope));
    }

    @SuppressWarnings("rawtypes")
    private static ConnectRecord record(JsonNode r) throws Exception {
        String topic = r.get("topic").asText();
        Integer partition = r.path("partition").isNumber() ? r.get("partition").asInt() : null;
        Long timestamp = r.path("timestamp").isNumber() ? r.get("timestamp").asLong() : null;
        SchemaAndValue key = read(topic, r.get("key"));
        SchemaAndValue value = read(topic, r.get("value"));
        ConnectHeaders headers = new ConnectHeaders();
        for (JsonNode h : r.path("headers")) {
            SchemaAndValue hv = read(topic, h.get("value"));
            headers.add(h.get("key").asText(), hv.value(), hv.schema());
        }
        if (r.has("offset")) {
            return new SinkRecord(topic, partition == null ? 0 : partition, key.schema(), key.value(), value.schema(), value.value(),
                r.get("offset").asLong(), timestamp, TimestampType.CREATE_TIME, headers);
        }
        return new SourceRecord(null, null, topic, partition, key.schema(), key.value(), value.schema(), value.value(), timestamp, headers);
    }

    @SuppressWarnings("rawtypes")
    private static JsonNode render(ConnectRecord o) throws Exception {
        ObjectNode n = NODES.objectNode();
        n.put("topic", o.topic());
        if (o.kafkaPartition() == null) {
            n.putNull("partition");
        } else {
            n.put("partition", o.kafkaPartition());
        }
        if (o.timestamp() == null) {
            n.putNull("timestamp");
        } else {
            n.put("timestamp", o.timestamp());
        }
        n.set("key", envelope(CONVERTER.fromConnectData(o.topic(), o.keySchema(), o.key())));
        n.set("value", envelope(CONVERTER.fromConnectData(o.topic(), o.valueSchema(), o.value())));
        ArrayNode headers = n.putArray("headers");
        for (Iterator<Header> it = o.headers().iterator(); it.hasNext(); ) {
            Header h = it.next();
            ObjectNode hn = headers.addObject();
            hn.put("key", h.key());
            hn.set("value", envelope(CONVERTER.fromConnectHeader(o.topic(), h.key(), h.schema(), h.value())));
        }
        return n;
    }

    private static JsonNode envelope(byte[] bytes) throws Exception {
        return bytes == null ? NODES.nullNode() : JSON.readTree(new String(bytes, StandardCharsets.UTF_8));
    }
}
