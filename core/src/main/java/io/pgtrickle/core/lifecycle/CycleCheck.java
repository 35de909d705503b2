package io.pgtrickle.core.lifecycle;

import io.pgtrickle.core.api.ErrorCode;
import io.pgtrickle.core.api.PgtException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.LongFunction;

/** Rejects a change of sources that would make the stream-table graph cyclic, naming the cycle. */
final class CycleCheck {
    private CycleCheck() {
    }

    /**
     * @param target    the stream table getting new sources
     * @param newInputs stream tables it would read
     * @param upstream  current edges: stream table → stream tables it reads
     * @param names     id → display name
     */
    static void check(long target, Collection<Long> newInputs, Map<Long, List<Long>> upstream, LongFunction<String> names) {
        for (long input : newInputs) {
            List<Long> path = new ArrayList<>();
            if (input == target || reaches(input, target, upstream, path)) {
                List<String> cycle = new ArrayList<>();
                cycle.add(names.apply(target));
                cycle.add(names.apply(input));
                for (long p : path) {
                    cycle.add(names.apply(p));
                }
                if (!cycle.get(cycle.size() - 1).equals(names.apply(target))) {
                    cycle.add(names.apply(target));
                }
                throw new PgtException(ErrorCode.CYCLE_DETECTED,
                        "cycle detected in dependency graph: " + String.join(" -> ", cycle),
                        "A stream table cannot read itself, directly or through other stream tables.");
            }
        }
    }

    /** Depth-first: does {@code from} read {@code goal}, directly or transitively? Fills the path. */
    private static boolean reaches(long from, long goal, Map<Long, List<Long>> upstream, List<Long> path) {
        for (long next : upstream.getOrDefault(from, List.of())) {
            path.add(next);
            if (next == goal || reaches(next, goal, upstream, path)) {
                return true;
            }
            path.remove(path.size() - 1);
        }
        return false;
    }
}
