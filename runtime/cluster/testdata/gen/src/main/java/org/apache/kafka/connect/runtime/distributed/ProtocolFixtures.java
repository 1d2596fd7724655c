package org.apache.kafka.connect.runtime.distributed;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.common.message.JoinGroupRequestData.JoinGroupRequestProtocol;
import org.apache.kafka.connect.util.ConnectorTaskId;

import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;

/**
 * Serializes worker metadata and assignments with Kafka Connect's own protocol classes and writes
 * the bytes, with what Kafka Connect decodes from them, as JSON. The Go tests encode the decoded
 * view and must get the same bytes, and decode the bytes and must get the same view.
 */
final class ProtocolFixtures {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ArrayNode metadata = JSON.createArrayNode();
    private final ArrayNode assignments = JSON.createArrayNode();
    private final ArrayNode joinProtocols = JSON.createArrayNode();

    static ObjectNode generate() {
        ProtocolFixtures f = new ProtocolFixtures();
        f.build();
        ObjectNode root = JSON.createObjectNode();
        root.set("metadata", f.metadata);
        root.set("assignments", f.assignments);
        root.set("join_protocols", f.joinProtocols);
        return root;
    }

    private void build() {
        ExtendedAssignment allocation = new ExtendedAssignment((short) 2, ConnectProtocol.Assignment.NO_ERROR,
                "worker-1-6f1c", "http://10.0.0.1:8083/", 17L,
                List.of("orders"), tasks("orders", 0, "orders", 1, "audit", 2),
                List.of("legacy"), tasks("legacy", 0), 0);

        metadata("eager", "eager", ConnectProtocol.serializeMetadata(
                new ConnectProtocol.WorkerState("http://10.0.0.1:8083/", 42L)));
        metadata("compatible_no_allocation", "compatible", IncrementalCooperativeConnectProtocol.serializeMetadata(
                new ExtendedWorkerState("http://10.0.0.2:8083/", -1L, null), false));
        metadata("sessioned_no_allocation", "sessioned", IncrementalCooperativeConnectProtocol.serializeMetadata(
                new ExtendedWorkerState("http://10.0.0.2:8083/", 0L, null), true));
        metadata("compatible_allocation", "compatible", IncrementalCooperativeConnectProtocol.serializeMetadata(
                new ExtendedWorkerState("http://10.0.0.1:8083/", 17L, allocation), false));
        metadata("sessioned_allocation", "sessioned", IncrementalCooperativeConnectProtocol.serializeMetadata(
                new ExtendedWorkerState("http://wörker-ü:8083/", 1234567890123L, allocation), true));
        metadata("sessioned_empty_allocation", "sessioned", IncrementalCooperativeConnectProtocol.serializeMetadata(
                new ExtendedWorkerState("http://10.0.0.3:8083/", 5L, new ExtendedAssignment((short) 2,
                        ConnectProtocol.Assignment.NO_ERROR, "worker-1-6f1c", "http://10.0.0.1:8083/", 5L,
                        List.of(), List.of(), List.of(), List.of(), 0)), true));

        assignment("eager", ConnectProtocol.serializeAssignment(new ConnectProtocol.Assignment(
                ConnectProtocol.Assignment.NO_ERROR, "worker-1-6f1c", "http://10.0.0.1:8083/", 100L,
                List.of("orders"), tasks("orders", 0, "orders", 1, "audit", 0, "audit", 3))));
        assignment("eager_config_mismatch", ConnectProtocol.serializeAssignment(new ConnectProtocol.Assignment(
                ConnectProtocol.Assignment.CONFIG_MISMATCH, "worker-1-6f1c", "http://10.0.0.1:8083/", 7L,
                List.of(), List.of())));
        assignment("compatible", IncrementalCooperativeConnectProtocol.serializeAssignment(new ExtendedAssignment(
                (short) 1, ConnectProtocol.Assignment.NO_ERROR, "worker-2-90aa", "http://10.0.0.2:8083/", 55L,
                List.of("orders"), tasks("orders", 2, "audit", 0),
                List.of("audit", "legacy"), tasks("legacy", 0, "legacy", 1, "orders", 5), 0), false));
        assignment("sessioned_delay", IncrementalCooperativeConnectProtocol.serializeAssignment(new ExtendedAssignment(
                (short) 2, ConnectProtocol.Assignment.NO_ERROR, "worker-2-90aa", "http://10.0.0.2:8083/", 56L,
                List.of(), List.of(), List.of(), List.of(), 300000), true));
        assignment("sessioned_config_mismatch", IncrementalCooperativeConnectProtocol.serializeAssignment(
                new ExtendedAssignment((short) 2, ConnectProtocol.Assignment.CONFIG_MISMATCH, "worker-2-90aa",
                        "http://10.0.0.2:8083/", 80L, List.of(), List.of(), List.of(), List.of(), 0), true));

        ExtendedWorkerState state = new ExtendedWorkerState("http://10.0.0.1:8083/", 17L, allocation);
        for (boolean sessioned : new boolean[]{true, false}) {
            ObjectNode n = JSON.createObjectNode();
            n.put("setting", sessioned ? "sessioned" : "compatible");
            ArrayNode offered = n.putArray("offered");
            for (JoinGroupRequestProtocol p : IncrementalCooperativeConnectProtocol.metadataRequest(state, sessioned)) {
                offered.addObject().put("name", p.name()).put("hex", HexFormat.of().formatHex(p.metadata()));
            }
            joinProtocols.add(n);
        }
        ObjectNode eager = JSON.createObjectNode();
        eager.put("setting", "eager");
        ArrayNode offered = eager.putArray("offered");
        for (JoinGroupRequestProtocol p : ConnectProtocol.metadataRequest(state)) {
            offered.addObject().put("name", p.name()).put("hex", HexFormat.of().formatHex(p.metadata()));
        }
        joinProtocols.add(eager);
    }

    private void metadata(String name, String protocol, ByteBuffer bytes) {
        byte[] raw = toArray(bytes);
        ExtendedWorkerState decoded = IncrementalCooperativeConnectProtocol.deserializeMetadata(ByteBuffer.wrap(raw));
        ObjectNode n = metadata.addObject();
        n.put("name", name);
        n.put("protocol", protocol);
        n.put("hex", HexFormat.of().formatHex(raw));
        ObjectNode d = n.putObject("decoded");
        d.put("url", decoded.url());
        d.put("config_offset", decoded.offset());
        // Upstream stands in its shared EMPTY assignment for a null allocation.
        if (decoded.assignment() != ExtendedAssignment.empty()) {
            d.set("allocation", describe(decoded.assignment()));
        }
    }

    private void assignment(String name, ByteBuffer bytes) {
        byte[] raw = toArray(bytes);
        ObjectNode n = assignments.addObject();
        n.put("name", name);
        n.put("hex", HexFormat.of().formatHex(raw));
        n.set("decoded", describe(IncrementalCooperativeConnectProtocol.deserializeAssignment(ByteBuffer.wrap(raw))));
    }

    static ObjectNode describe(ExtendedAssignment a) {
        ObjectNode n = JSON.createObjectNode();
        n.put("version", a.version());
        n.put("error", a.error());
        n.put("leader", a.leader());
        n.put("leader_url", a.leaderUrl());
        n.put("config_offset", a.offset());
        n.set("connectors", JSON.valueToTree(a.connectors()));
        n.set("tasks", taskArray(a.tasks()));
        n.set("revoked_connectors", JSON.valueToTree(a.revokedConnectors()));
        n.set("revoked_tasks", taskArray(a.revokedTasks()));
        n.put("delay_ms", a.delay());
        return n;
    }

    static ArrayNode taskArray(Collection<ConnectorTaskId> tasks) {
        ArrayNode arr = JSON.createArrayNode();
        for (ConnectorTaskId t : tasks) {
            arr.addObject().put("connector", t.connector()).put("task", t.task());
        }
        return arr;
    }

    /** tasks("a", 0, "b", 1) is [a-0, b-1]. */
    static List<ConnectorTaskId> tasks(Object... pairs) {
        ConnectorTaskId[] out = new ConnectorTaskId[pairs.length / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = new ConnectorTaskId((String) pairs[2 * i], (Integer) pairs[2 * i + 1]);
        }
        return new java.util.ArrayList<>(List.of(out));
    }

    private static byte[] toArray(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
