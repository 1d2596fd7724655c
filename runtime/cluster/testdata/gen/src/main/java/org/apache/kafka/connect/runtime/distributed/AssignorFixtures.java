package org.apache.kafka.connect.runtime.distributed;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.clients.GroupRebalanceConfig;
import org.apache.kafka.common.message.JoinGroupResponseData.JoinGroupResponseMember;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.utils.LogContext;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.connect.storage.ClusterConfigState;
import org.apache.kafka.connect.util.ConnectorTaskId;

import java.io.File;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * Plays the rebalance scenarios of scenarios.json through Kafka Connect's leader logic
 * (WorkerCoordinator.onLeaderElected, hence its EagerAssignor and IncrementalCooperativeAssignor)
 * and records every round: the members' metadata bytes going in, the assignment bytes coming
 * out, and what upstream decodes from them. Workers apply their assignments as
 * WorkerCoordinator.onJoinComplete does, so each round starts from what upstream workers would
 * report.
 */
final class AssignorFixtures {
    private static final ObjectMapper JSON = new ObjectMapper();

    static ObjectNode generate(File scenarios) throws Exception {
        JsonNode in = JSON.readTree(scenarios);
        ArrayNode out = JSON.createArrayNode();
        for (JsonNode s : in.get("scenarios")) {
            out.add(new Play(s).run());
        }
        ObjectNode root = JSON.createObjectNode();
        root.set("scenarios", out);
        return root;
    }

    /** A settable clock for the assignor's scheduled rebalance delays. */
    static final class Clock implements Time {
        long now;

        @Override public long milliseconds() { return now; }
        @Override public long nanoseconds() { return now * 1_000_000L; }
        @Override public void sleep(long ms) { now += ms; }
        @Override public void waitObject(Object obj, Supplier<Boolean> condition, long deadlineMs) {
            throw new UnsupportedOperationException();
        }
    }

    /** A worker's coordinator as leader: upstream's, with the generation and config supplied. */
    static final class Leader extends WorkerCoordinator {
        int generation;
        int lastCompleted = -1;
        ClusterConfigState fresh;

        Leader(Time time, String url, ConnectProtocolCompatibility protocol, int maxDelay) {
            super(new GroupRebalanceConfig(10000, 60000, 3000, "connect-cluster", Optional.empty(), null, 100L, 1000L),
                    new LogContext(), null, new Metrics(), "connect", time, url, null, null, protocol, maxDelay);
        }

        @Override public int generationId() { return generation; }
        @Override public int lastCompletedGenerationId() { return lastCompleted; }
        @Override public ClusterConfigState configFreshSnapshot() { return fresh; }
    }

    static final class Play {
        final JsonNode scenario;
        final Clock clock = new Clock();
        final ConnectProtocolCompatibility protocol;
        final int maxDelay;
        final Map<String, Leader> leaders = new HashMap<>();
        final Map<String, ExtendedAssignment> held = new HashMap<>();
        final Map<String, Integer> lastCompleted = new HashMap<>();

        Play(JsonNode scenario) {
            this.scenario = scenario;
            this.protocol = ConnectProtocolCompatibility.compatibility(scenario.get("protocol").asText());
            this.maxDelay = scenario.get("max_delay_ms").asInt();
        }

        ObjectNode run() {
            ObjectNode out = JSON.createObjectNode();
            out.put("name", scenario.get("name").asText());
            out.put("protocol", protocol.protocol());
            out.put("max_delay_ms", maxDelay);
            ArrayNode rounds = out.putArray("rounds");

            List<String> members = List.of();
            String leaderId = null;
            Map<String, Integer> config = Map.of();
            long configOffset = -1;
            int generation = 0;
            for (JsonNode r : scenario.get("rounds")) {
                generation++;
                clock.now = r.get("at_ms").asLong();
                if (r.has("members")) members = strings(r.get("members"));
                if (r.has("leader")) leaderId = r.get("leader").asText();
                if (r.has("config")) config = taskCounts(r.get("config"));
                if (r.has("config_offset")) configOffset = r.get("config_offset").asLong();
                for (String w : strings(r.path("restarted"))) {
                    held.remove(w);
                    lastCompleted.remove(w);
                    leaders.remove(w);
                }
                r.path("allocations").properties().forEach(e -> held.put(e.getKey(), allocation(e.getValue())));
                Map<String, Long> offsets = new HashMap<>();
                for (String m : members) offsets.put(m, r.path("behind").has(m) ? r.get("behind").get(m).asLong() : configOffset);
                requireHashOrderIsIdOrder(members);

                // The leader's view of the config topic, as far as it has read.
                Leader leader = leaders.computeIfAbsent(leaderId, id -> new Leader(clock, url(id), protocol, maxDelay));
                leader.generation = generation;
                leader.lastCompleted = lastCompleted.getOrDefault(leaderId, -1);
                ClusterConfigState snapshot = snapshot(offsets.get(leaderId), config);
                leader.configSnapshot(snapshot);
                leader.fresh = snapshot;

                List<JoinGroupResponseMember> joined = new ArrayList<>();
                ObjectNode round = rounds.addObject();
                round.put("generation", generation);
                round.put("last_completed", leader.lastCompleted);
                round.put("at_ms", clock.now);
                round.put("leader", leaderId);
                round.set("restarted", r.path("restarted").isMissingNode() ? JSON.createArrayNode() : r.get("restarted"));
                round.put("config_offset", snapshot.offset());
                round.set("config", JSON.valueToTree(new TreeMap<>(config)));
                ArrayNode metadata = round.putArray("members");
                for (String m : members) {
                    ExtendedWorkerState state = new ExtendedWorkerState(url(m), offsets.get(m), held.get(m));
                    ByteBuffer bytes = protocol == ConnectProtocolCompatibility.EAGER
                            ? ConnectProtocol.serializeMetadata(state)
                            : IncrementalCooperativeConnectProtocol.serializeMetadata(state, protocol == ConnectProtocolCompatibility.SESSIONED);
                    byte[] raw = toArray(bytes);
                    joined.add(new JoinGroupResponseMember().setMemberId(m).setMetadata(raw));
                    metadata.addObject().put("id", m).put("hex", HexFormat.of().formatHex(raw));
                }

                Map<String, ByteBuffer> assigned = leader.onLeaderElected(leaderId, protocol.protocol(), joined, false);
                ObjectNode assignments = round.putObject("assignments");
                Set<String> missed = new TreeSet<>(strings(r.path("missed")));
                for (String m : new TreeSet<>(assigned.keySet())) {
                    byte[] raw = toArray(assigned.get(m));
                    ExtendedAssignment a = IncrementalCooperativeConnectProtocol.deserializeAssignment(ByteBuffer.wrap(raw));
                    assignments.putObject(m).put("hex", HexFormat.of().formatHex(raw)).set("decoded", ProtocolFixtures.describe(a));
                    if (!missed.contains(m)) {
                        apply(m, IncrementalCooperativeConnectProtocol.deserializeAssignment(ByteBuffer.wrap(raw)));
                        lastCompleted.put(m, generation);
                    }
                }
            }
            return out;
        }

        /** What WorkerCoordinator.onJoinComplete does with a member's new assignment. */
        void apply(String member, ExtendedAssignment next) {
            ExtendedAssignment prev = held.get(member);
            if (protocol != ConnectProtocolCompatibility.EAGER && prev != null) {
                prev.connectors().removeAll(next.revokedConnectors());
                prev.tasks().removeAll(next.revokedTasks());
                next.connectors().addAll(prev.connectors());
                next.tasks().addAll(prev.tasks());
            }
            held.put(member, next);
        }

        ExtendedAssignment allocation(JsonNode n) {
            List<ConnectorTaskId> tasks = new ArrayList<>();
            for (JsonNode t : n.get("tasks")) tasks.add(new ConnectorTaskId(t.get(0).asText(), t.get(1).asInt()));
            return new ExtendedAssignment(protocol.protocolVersion(), ConnectProtocol.Assignment.NO_ERROR,
                    "w1", url("w1"), 0L, new ArrayList<>(strings(n.get("connectors"))), tasks,
                    new ArrayList<>(), new ArrayList<>(), 0);
        }
    }

    /**
     * Upstream iterates members in Java HashMap order where it matters (which overloaded worker
     * keeps an extra, which idle worker gets lost work first); kconnect uses ID order. The
     * scenarios use IDs for which the two agree, and this checks it.
     */
    static void requireHashOrderIsIdOrder(List<String> members) {
        Map<String, Boolean> hashed = new HashMap<>();
        for (String m : members) hashed.put(m, true);
        if (!new ArrayList<>(hashed.keySet()).equals(new ArrayList<>(new TreeSet<>(members)))) {
            throw new IllegalStateException("member IDs " + members + " iterate in another order in a HashMap; pick other IDs");
        }
    }

    static ClusterConfigState snapshot(long offset, Map<String, Integer> taskCounts) {
        Map<String, Map<String, String>> configs = new HashMap<>();
        for (String c : taskCounts.keySet()) configs.put(c, Map.of("name", c));
        return new ClusterConfigState(offset, null, taskCounts, configs, Map.of(), Map.of(), Map.of(),
                Map.of(), Map.of(), Set.of(), Set.of());
    }

    static String url(String worker) {
        return "http://" + worker + ":8083/";
    }

    static List<String> strings(JsonNode arr) {
        List<String> out = new ArrayList<>();
        for (Iterator<JsonNode> it = arr.elements(); it.hasNext(); ) out.add(it.next().asText());
        return out;
    }

    static Map<String, Integer> taskCounts(JsonNode n) {
        Map<String, Integer> out = new LinkedHashMap<>();
        n.properties().forEach(e -> out.put(e.getKey(), e.getValue().asInt()));
        return out;
    }

    static byte[] toArray(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
