package io.pgtrickle.core.dvm.op;

import java.util.List;

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
public record TopK(String query, String orderBy, List<String> columns, List<Long> sources) implements WholeRecompute {
    public TopK {
        columns = List.copyOf(columns);
        sources = List.copyOf(sources);
    }

    @Override
    public TopK withSources(List<Long> relids) {
        return new TopK(query, orderBy, columns, relids);
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
