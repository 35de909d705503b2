package io.pgtrickle.core.dvm.op;

import java.util.List;
import java.util.stream.Collectors;

/**
 * {@code ... ORDER BY ... LIMIT n [OFFSET m]} at the top of the query: only the selected rows are
 * stored. Which rows are in the top can change with any change to the sources, and the query with
 * its LIMIT is usually cheap (an index on the ORDER BY reads n rows), so a refresh that finds any
 * change re-runs it and replaces the stored rows: rows that stay in the top are not written, rows
 * entering are inserted, rows leaving deleted. It is the partition recompute with one partition,
 * the whole result.
 *
 * @param query   the query as written, ORDER BY and LIMIT included
 * @param orderBy its {@code ORDER BY ... LIMIT ...} text, for explain
 * @param columns its output column names
 * @param sources the relids of the sources whose changes re-run it (set by the compiler)
 */
public record TopK(String query, String orderBy, List<String> columns, List<Long> sources) implements PartitionRecompute {
    public TopK {
        columns = List.copyOf(columns);
        sources = List.copyOf(sources);
    }

    public TopK withSources(List<Long> relids) {
        return new TopK(query, orderBy, columns, relids);
    }

    @Override
    public List<List<String>> partitionings() {
        return List.of(List.of("true"));
    }

    /** One row ({@code select} over nothing) when any source changed, none otherwise. */
    @Override
    public String changedRows(String select, RowSource.Changes changes) {
        if (sources.isEmpty()) {
            return "SELECT " + select + " WHERE false";
        }
        return "SELECT " + select + " WHERE " + sources.stream().map(changes::anyChange).collect(Collectors.joining(" OR "));
    }

    @Override
    public String query(String extra, String condition) {
        return "SELECT __pgt_t.*" + (extra.isEmpty() ? "" : ", " + extra) + " FROM (" + query + ") __pgt_t"
                + (condition == null ? "" : " WHERE " + condition);
    }

    @Override
    public String keyScope() {
        return "(SELECT 1) __pgt_k";
    }

    @Override
    public List<Operator> inputs() {
        return List.of();
    }

    @Override
    public String describe() {
        return "TopK " + orderBy.replaceAll("\\s+", " ");
    }

    @Override
    public String strategy() {
        return "top-K recompute (re-run when a source changed; only rows entering or leaving the top are written)";
    }
}
