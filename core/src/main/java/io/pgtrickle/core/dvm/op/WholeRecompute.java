package io.pgtrickle.core.dvm.op;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A query maintained as one partition, the whole result: re-run when any of its sources changed,
 * and only the rows that differ from the stored ones written (TopK, a recursive query that is not
 * derived incrementally).
 */
public sealed interface WholeRecompute extends PartitionRecompute permits TopK, RecursiveCte {
    /** The query as run, its output the stored columns. */
    String query();

    /** The relids whose changes re-run it. */
    List<Long> sources();

    /** The same query re-run by the changes of {@code relids} (the compiler knows them). */
    WholeRecompute withSources(List<Long> relids);

    @Override
    default List<List<String>> partitionings() {
        return List.of(List.of("true"));
    }

    /** One row ({@code select} over nothing) when any source changed, none otherwise. */
    @Override
    default String changedRows(String select, RowSource.Changes changes) {
        if (sources().isEmpty()) {
            return "SELECT " + select + " WHERE false";
        }
        return "SELECT " + select + " WHERE " + sources().stream().map(changes::anyChange).collect(Collectors.joining(" OR "));
    }

    @Override
    default String query(String extra, String condition) {
        return "SELECT __pgt_t.*" + (extra.isEmpty() ? "" : ", " + extra) + " FROM (" + query() + ") __pgt_t"
                + (condition == null ? "" : " WHERE " + condition);
    }

    @Override
    default String keyScope() {
        return "(SELECT 1) __pgt_k";
    }

    @Override
    default List<Operator> inputs() {
        return List.of();
    }
}
