package org.apache.kafka.connect.runtime.distributed;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.File;

/**
 * Writes the fixtures of package runtime/cluster: protocol.json (bytes of Kafka Connect's group
 * protocol) into the directory given as the only argument. The class sits in Kafka Connect's
 * package to reach the assignor's package-private test hooks.
 */
public final class Generate {
    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: Generate <output directory>");
        }
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        json.writeValue(new File(args[0], "protocol.json"), ProtocolFixtures.generate());
    }
}
