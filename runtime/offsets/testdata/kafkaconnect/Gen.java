// Gen writes and reads standalone offsets files with Apache Kafka Connect's own
// FileOffsetBackingStore, OffsetStorageWriter and OffsetStorageReaderImpl (JsonConverter without
// schemas, as ConnectStandalone uses for offsets), so kconnect's tests are anchored to the real
// format rather than to kconnect's reading of it.
//
// Classpath: the jars scripts/javaclients.sh fetches from Maven Central (prints the directory).
// Java 17 runs this file directly, without a compile step:
//
//   java -cp "$(scripts/javaclients.sh)/*" Gen.java write DIR   regenerate the fixtures in DIR
//   java -cp "$(scripts/javaclients.sh)/*" Gen.java read FILE CONNECTOR...
//
// write creates DIR/one.offsets (a single entry, so the bytes do not depend on HashMap order)
// and DIR/many.offsets (several connectors, a deleted partition, non-ASCII text, a 2^60 integer),
// and DIR/hashorder.txt: sets of keys put into a new HashMap in the order of the first line of a
// pair, and the order the map iterates them in on the second (fields TAB-separated).
// read prints, for each connector named, one line per partition Kafka Connect finds in FILE:
// connector TAB partition TAB offset, the maps printed as JSON with sorted keys.

import java.io.File;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.runtime.standalone.StandaloneConfig;
import org.apache.kafka.connect.storage.FileOffsetBackingStore;
import org.apache.kafka.connect.storage.OffsetStorageReaderImpl;
import org.apache.kafka.connect.storage.OffsetStorageWriter;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

public class Gen {
    public static void main(String[] args) throws Exception {
        if (args.length >= 2 && args[0].equals("write")) {
            write(new File(args[1]));
        } else if (args.length >= 3 && args[0].equals("read")) {
            read(args[1], List.of(args).subList(2, args.length));
        } else {
            System.err.println("usage: Gen write DIR | Gen read FILE CONNECTOR...");
            System.exit(2);
        }
    }

    static JsonConverter converter(boolean isKey) {
        JsonConverter c = new JsonConverter();
        c.configure(Map.of("schemas.enable", "false"), isKey);
        return c;
    }

    static FileOffsetBackingStore open(String file) {
        FileOffsetBackingStore store = new FileOffsetBackingStore(converter(true));
        store.configure(new StandaloneConfig(Map.of(
                "bootstrap.servers", "127.0.0.1:1",
                "key.converter", JsonConverter.class.getName(),
                "value.converter", JsonConverter.class.getName(),
                "offset.storage.file.filename", file)));
        store.start();
        return store;
    }

    // flush stores offsets of one connector the way a source task's commit does.
    static void flush(FileOffsetBackingStore store, String connector, Map<Map<String, Object>, Map<String, Object>> offsets) throws Exception {
        OffsetStorageWriter w = new OffsetStorageWriter(store, connector, converter(true), converter(false));
        for (Map.Entry<Map<String, Object>, Map<String, Object>> e : offsets.entrySet()) {
            w.offset(e.getKey(), e.getValue());
        }
        if (!w.beginFlush()) {
            throw new IllegalStateException("nothing to flush");
        }
        w.doFlush((err, v) -> {
            if (err != null) {
                throw new RuntimeException(err);
            }
        }).get();
    }

    static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    static void write(File dir) throws Exception {
        dir.mkdirs();
        File one = new File(dir, "one.offsets");
        one.delete();
        FileOffsetBackingStore s = open(one.getPath());
        flush(s, "file-source", Map.of(map("filename", "/tmp/in.txt"), map("position", 42L)));
        s.stop();

        File many = new File(dir, "many.offsets");
        many.delete();
        s = open(many.getPath());
        flush(s, "file-source", Map.of(map("filename", "/tmp/in.txt"), map("position", 42L)));
        Map<Map<String, Object>, Map<String, Object>> jdbc = new HashMap<>();
        jdbc.put(map("protocol", "1", "table", "public.a"), map("incrementing", 1L << 60, "timestamp_nanos", 5L));
        jdbc.put(map("protocol", "1", "table", "public.gone"), map("incrementing", 3L));
        flush(s, "jdbc", jdbc);
        flush(s, "pg", Map.of(map("server", "inventory"), map("lsn", 24023128L, "txId", 555L, "ts_usec", 1700000000123456L, "snapshot", true)));
        flush(s, "naïve ☃", Map.of(map("filename", "/tmp/ünïcode.txt"), map("position", 7L)));
        // A null offset deletes the partition (a tombstone in the Kafka-backed store).
        Map<Map<String, Object>, Map<String, Object>> gone = new HashMap<>();
        gone.put(map("protocol", "1", "table", "public.gone"), null);
        flush(s, "jdbc", gone);
        s.stop();

        List<List<String>> sets = new ArrayList<>(List.of(
                List.of("server"),
                List.of("protocol", "table"),
                List.of("a&b", "protocol", "table"),
                List.of("filename", "offset", "partition", "position", "topic"),
                List.of("z", "ä", "☃", "𝄞"),
                List.of("Aa", "BB", "C#")));  // equal String hash codes
        List<String> fields = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            fields.add("field" + i);  // past two table resizes
        }
        sets.add(fields);
        StringBuilder out = new StringBuilder();
        for (List<String> keys : sets) {
            Map<String, Object> m = new HashMap<>();
            keys.forEach(k -> m.put(k, 1));
            out.append(String.join("\t", keys)).append('\n');
            out.append(String.join("\t", m.keySet())).append('\n');
        }
        java.nio.file.Files.writeString(new File(dir, "hashorder.txt").toPath(), out.toString());
    }

    static void read(String file, List<String> connectors) throws Exception {
        ObjectMapper json = new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);
        FileOffsetBackingStore s = open(file);
        for (String connector : connectors) {
            Set<Map<String, Object>> partitions = s.connectorPartitions(connector);
            OffsetStorageReaderImpl r = new OffsetStorageReaderImpl(s, connector, converter(true), converter(false));
            List<String> lines = new ArrayList<>();
            for (Map.Entry<Map<String, Object>, Map<String, Object>> e : r.offsets(partitions).entrySet()) {
                lines.add(connector + "\t" + json.writeValueAsString(new TreeMap<>(e.getKey())) + "\t" + json.writeValueAsString(e.getValue()));
            }
            lines.sort(null);
            lines.forEach(System.out::println);
        }
        s.stop();
    }
}
