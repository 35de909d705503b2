package io.pgtrickle.core.schedule;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The DAG of stream tables: an edge from U to D when D reads U. Gives the refresh order
 * (upstream first) and resolves 'calculated' schedules.
 */
public final class StreamTableGraph {
    private final Map<Long, ScheduledTable> nodes = new LinkedHashMap<>();
    private final Map<Long, List<Long>> downstream = new HashMap<>();

    public StreamTableGraph(List<ScheduledTable> tables) {
        tables.stream().sorted(Comparator.comparingLong(ScheduledTable::id)).forEach(t -> nodes.put(t.id(), t));
        for (ScheduledTable t : nodes.values()) {
            for (long up : t.upstream()) {
                if (nodes.containsKey(up)) {
                    downstream.computeIfAbsent(up, k -> new ArrayList<>()).add(t.id());
                }
            }
        }
    }

    /** Upstream before downstream; ties by id, so the order is stable between ticks. */
    public List<ScheduledTable> topologicalOrder() {
        Map<Long, Integer> pending = new HashMap<>();
        for (ScheduledTable t : nodes.values()) {
            pending.put(t.id(), (int) t.upstream().stream().filter(nodes::containsKey).count());
        }
        Deque<Long> ready = new ArrayDeque<>();
        nodes.keySet().stream().filter(id -> pending.get(id) == 0).forEach(ready::add);
        List<ScheduledTable> out = new ArrayList<>(nodes.size());
        while (!ready.isEmpty()) {
            long id = ready.poll();
            out.add(nodes.get(id));
            for (long d : downstream.getOrDefault(id, List.of())) {
                if (pending.merge(d, -1, Integer::sum) == 0) {
                    ready.add(d);
                }
            }
        }
        if (out.size() != nodes.size()) {
            // Cycles are rejected when created; one here means the catalog was edited by hand.
            nodes.values().stream().filter(t -> !out.contains(t)).forEach(out::add);
        }
        return out;
    }

    public List<Long> downstreamOf(long id) {
        return downstream.getOrDefault(id, List.of());
    }

    /**
     * The period each duration or calculated stream table is refreshed at. A calculated one takes
     * the tightest period of the stream tables reading it (resolved from the leaves up), or
     * {@code fallback} when none has a period (no readers, or only cron readers).
     */
    public Map<Long, Duration> effectivePeriods(Duration fallback) {
        Map<Long, Duration> periods = new HashMap<>();
        List<ScheduledTable> order = topologicalOrder();
        for (int i = order.size() - 1; i >= 0; i--) {
            ScheduledTable t = order.get(i);
            if (t.schedule() instanceof Schedule.Every every) {
                periods.put(t.id(), every.period());
            } else if (t.schedule() instanceof Schedule.Calculated) {
                Duration tightest = null;
                for (long d : downstreamOf(t.id())) {
                    Duration p = periods.get(d);
                    if (p != null && (tightest == null || p.compareTo(tightest) < 0)) {
                        tightest = p;
                    }
                }
                periods.put(t.id(), tightest == null ? fallback : tightest);
            }
        }
        return periods;
    }
}
