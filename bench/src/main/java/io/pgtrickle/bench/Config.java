package io.pgtrickle.bench;

import java.util.List;
import java.util.Set;

/**
 * What one run measures and how often.
 *
 * @param quick        fewer repetitions, change rates and rows: a few minutes, for trying changes
 * @param rows         source sizes of the refresh scenarios (the first one also for capture, no-op and IMMEDIATE)
 * @param reps         repetitions after the warm-up
 * @param refreshWarmup warm-up repetitions of each refresh scenario and change rate: enough for the
 *                     session's plan cache to settle (PostgreSQL plans a PL/pgSQL statement with its
 *                     parameters for its first five executions, then keeps a generic plan where that
 *                     costs no more), so the medians are of the steady state a daemon's connection reaches
 * @param rates        change rates of the refresh scenarios (fractions of the source rows)
 * @param families     the families run, in {@link Family} order
 * @param only         refresh scenarios whose name contains this (null: all)
 * @param tpchScale    TPC-H scale factor
 * @param tpchTimeoutSeconds a TPC-H refresh or create that takes longer is cancelled and reported as too slow
 * @param commandLine  the arguments as given, for the report's "reproduce with"
 * @param floor        also measure each refresh scenario's write floor ({@link WriteFloor})
 */
record Config(boolean quick, List<Integer> rows, int reps, int refreshWarmup, List<Double> rates, Set<Family> families, String only,
              double tpchScale, int tpchTimeoutSeconds, String commandLine, boolean floor) {

    /** The benchmark families, in the order a full run measures them. */
    enum Family {
        REFRESH, CAPTURE, NOOP, FRESHNESS, IMMEDIATE, TPCH;

        String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    int firstRows() {
        return rows.get(0);
    }

    /** A run of every family and every refresh scenario: the only kind that rewrites docs/BENCHMARK.md. */
    boolean complete() {
        return only == null && families.containsAll(Set.of(Family.REFRESH, Family.CAPTURE, Family.NOOP, Family.FRESHNESS,
                Family.IMMEDIATE));
    }
}
