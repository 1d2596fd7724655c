package org.apache.kafka.connect.runtime.distributed;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.File;

/**
 * Writes the fixtures of package runtime/cluster into the directory given as the only argument:
 * protocol.json (bytes of Kafka Connect's group protocol) and assignor.json (its leader's
 * assignments in the scenarios of scenarios.json). The classes sit in Kafka Connect's package to
 * reach the coordinator's protected leader hook.
 */
public final class Generate {
    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: Generate <output directory>");
        }
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        json.writeValue(new File(args[0], "protocol.json"), ProtocolFixtures.generate());
        json.writeValue(new File(args[0], "assignor.json"), AssignorFixtures.generate(new File("scenarios.json")));
    }
}
